package image

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// Normalize turns what a user types ("busybox", "team/app:1.2",
// "127.0.0.1:5000/x@sha256:...") into the full reference stored as a name
// ("docker.io/library/busybox:latest"), as docker does.
func Normalize(s string) (reference.Named, error) {
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return nil, fmt.Errorf("invalid reference format %q: %w", s, errdefs.ErrInvalidArgument)
	}
	return reference.TagNameOnly(named), nil
}

// Familiar is the short form docker prints ("busybox:latest").
func Familiar(full string) string {
	named, err := reference.ParseNormalizedNamed(full)
	if err != nil {
		return full
	}
	return reference.FamiliarString(named)
}

// SplitFamiliar returns repository and tag for listings ("<none>" when absent).
func SplitFamiliar(full string) (repo, tag string) {
	named, err := reference.ParseNormalizedNamed(full)
	if err != nil {
		return "<none>", "<none>"
	}
	repo = reference.FamiliarName(named)
	if t, ok := named.(reference.Tagged); ok {
		return repo, t.Tag()
	}
	return repo, "<none>"
}

// looksLikeID reports whether s could be an image ID or a prefix of one.
func looksLikeID(s string) bool {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}
