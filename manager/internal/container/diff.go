package container

import "path/filepath"

// UpperDir is c's writable overlay layer: after c has exited, its changes
// to the image (with overlay whiteouts), which a builder commits.
func (s *Service) UpperDir(c *Container) string {
	return filepath.Join(s.dataDir(c.ID), "rw", "upper")
}

// MountPoints are the files every container gets bind-mounted over its
// rootfs. Where the image lacks one, the runtime creates an empty file to
// mount on, which shows in the upper dir but is no change of the
// container's: a builder leaves them out of a layer.
func (s *Service) MountPoints() []string {
	return []string{"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"}
}
