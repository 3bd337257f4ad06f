package archive

import (
	"archive/tar"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Diff streams an overlayfs upper directory as an image layer: overlay
// whiteouts (0/0 character devices) become ".wh.NAME" files and opaque
// directories (trusted.overlay.opaque=y) get a ".wh..wh..opq" entry.
// Empty regular files at the paths in mountPoints (absolute, in the
// container) are left out: the runtime made them to bind-mount on.
func Diff(upper string, mountPoints []string) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeDiff(pw, upper, mountPoints))
	}()
	return pr
}

func writeDiff(w io.Writer, upper string, mountPoints []string) error {
	skip := map[string]bool{}
	for _, p := range mountPoints {
		skip[strings.TrimPrefix(path.Clean(p), "/")] = true
	}
	t := newTreeWriter(w)
	marker := func(name string, info fs.FileInfo) error {
		return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, ModTime: info.ModTime(), Format: tar.FormatPAX})
	}
	err := filepath.WalkDir(upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == upper {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(upper, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if skip[name] && info.Mode().IsRegular() && info.Size() == 0 {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && info.Mode()&os.ModeCharDevice != 0 && st.Rdev == 0 {
			return marker(path.Join(path.Dir(name), whiteoutPrefix+path.Base(name)), info)
		}
		var pax map[string]string
		if caps := getxattr(p, "security.capability"); caps != "" {
			pax = map[string]string{"SCHILY.xattr.security.capability": caps}
		}
		if err := t.file(p, name, info, pax); err != nil {
			return err
		}
		if info.IsDir() && getxattr(p, "trusted.overlay.opaque") == "y" {
			return marker(path.Join(name, opaqueWhiteout), info)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return t.tw.Close()
}

// getxattr reads one extended attribute of p itself, "" if it has none.
func getxattr(p, attr string) string {
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(p, attr, buf)
	if err != nil || n <= 0 {
		return ""
	}
	return string(buf[:n])
}
