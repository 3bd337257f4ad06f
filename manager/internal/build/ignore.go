package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// ignorer is the context's .dockerignore: what COPY never sees.
type ignorer struct {
	pm *patternmatcher.PatternMatcher
}

func readIgnore(contextDir string) (*ignorer, error) {
	f, err := os.Open(filepath.Join(contextDir, ".dockerignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return &ignorer{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read .dockerignore: %w", err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read .dockerignore: %w", err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf(".dockerignore: %w", err)
	}
	return &ignorer{pm: pm}, nil
}

// ignored reports whether rel (slash-separated, relative to the context)
// is excluded.
func (i *ignorer) ignored(rel string) bool {
	if i == nil || i.pm == nil || rel == "." {
		return false
	}
	m, err := i.pm.MatchesOrParentMatches(filepath.ToSlash(rel))
	return err == nil && m
}

// exceptions reports whether any pattern is a "!" exception.
func (i *ignorer) exceptions() bool { return i != nil && i.pm != nil && i.pm.Exclusions() }
