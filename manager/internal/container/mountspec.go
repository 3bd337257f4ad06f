package container

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/volume"
)

// ParseVolumeSpec reads docker's -v / HostConfig.Binds syntax:
// HOST-DIR:CONTAINER-DIR[:opts] is a bind mount, NAME:CONTAINER-DIR[:opts]
// a named volume (made on first use), CONTAINER-DIR alone an anonymous
// volume. opts: ro, rw, and propagation/SELinux words, which are accepted
// and ignored as the host has neither need for them.
func ParseVolumeSpec(spec string) (Mount, error) {
	bad := func(format string, a ...any) (Mount, error) {
		return Mount{}, fmt.Errorf("invalid volume %q: "+format+": %w", append(append([]any{spec}, a...), errdefs.ErrInvalidArgument)...)
	}
	parts := strings.Split(spec, ":")
	if len(parts) == 1 {
		if !path.IsAbs(parts[0]) {
			return bad("the container path must be absolute")
		}
		return Mount{Type: "volume", Destination: path.Clean(parts[0]), Anonymous: true}, nil
	}
	if len(parts) > 3 {
		return bad("want HOST-DIR|NAME:CONTAINER-DIR[:ro]")
	}
	m := Mount{Type: "bind", Source: parts[0], Destination: path.Clean(parts[1])}
	if len(parts) == 3 {
		for _, o := range strings.Split(parts[2], ",") {
			switch o {
			case "ro":
				m.ReadOnly = true
			case "rw", "z", "Z", "rprivate", "private", "rslave", "slave", "rshared", "shared", "nocopy":
			default:
				return bad("unknown mode %q", o)
			}
		}
	}
	if !path.IsAbs(m.Destination) {
		return bad("the container path must be absolute")
	}
	if !filepath.IsAbs(m.Source) {
		if !volume.ValidName(m.Source) {
			return bad("%q is neither an absolute host path nor a volume name", m.Source)
		}
		m.Type, m.Name, m.Source = "volume", m.Source, ""
	}
	return m, nil
}
