package archive

import (
	"archive/tar"
	"fmt"
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
	tw := tar.NewWriter(w)
	links := map[uint64]string{}
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
		st, _ := info.Sys().(*syscall.Stat_t)
		if info.Mode()&os.ModeCharDevice != 0 && st != nil && st.Rdev == 0 {
			return tw.WriteHeader(&tar.Header{
				Typeflag: tar.TypeReg,
				Name:     path.Join(path.Dir(name), whiteoutPrefix+path.Base(name)),
				Mode:     0o600,
				ModTime:  info.ModTime(),
				Format:   tar.FormatPAX,
			})
		}
		var link string
		if info.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return fmt.Errorf("archive %s: %w", p, err)
		}
		hdr.Name = name
		hdr.Format = tar.FormatPAX
		if info.IsDir() {
			hdr.Name += "/"
		}
		if st != nil {
			hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
			hdr.Uname, hdr.Gname = "", ""
			if info.Mode().IsRegular() && st.Nlink > 1 {
				if first, ok := links[st.Ino]; ok {
					hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
				} else {
					links[st.Ino] = name
				}
			}
		}
		if caps := getxattr(p, "security.capability"); caps != "" {
			hdr.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": caps}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.IsDir() && getxattr(p, "trusted.overlay.opaque") == "y" {
			return tw.WriteHeader(&tar.Header{
				Typeflag: tar.TypeReg,
				Name:     path.Join(name, opaqueWhiteout),
				Mode:     0o600,
				ModTime:  info.ModTime(),
				Format:   tar.FormatPAX,
			})
		}
		if hdr.Typeflag == tar.TypeReg {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return fmt.Errorf("archive %s: %w", p, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
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
