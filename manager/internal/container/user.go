package container

import (
	"fmt"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/sys/user"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// resolveUser turns "name", "uid", "name:group" or "uid:gid" into ids,
// reading the image's /etc/passwd and /etc/group inside rootfs (paths are
// resolved within rootfs, so a symlinked /etc/passwd cannot point at the
// host's). It also returns the user's home for $HOME.
func resolveUser(rootfs, spec string) (uid, gid uint32, groups []uint32, home string, err error) {
	passwd, err := securejoin.SecureJoin(rootfs, "/etc/passwd")
	if err != nil {
		return 0, 0, nil, "", err
	}
	group, err := securejoin.SecureJoin(rootfs, "/etc/group")
	if err != nil {
		return 0, 0, nil, "", err
	}
	defaults := &user.ExecUser{Uid: 0, Gid: 0, Home: "/"}
	u, err := user.GetExecUserPath(spec, defaults, passwd, group)
	if err != nil {
		return 0, 0, nil, "", fmt.Errorf("unable to find user %s: %w: %w", spec, err, errdefs.ErrInvalidArgument)
	}
	for _, g := range u.Sgids {
		groups = append(groups, uint32(g))
	}
	return uint32(u.Uid), uint32(u.Gid), groups, u.Home, nil
}
