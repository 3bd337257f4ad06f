package archive

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Tar streams the file or directory at src as a tar whose top entry is
// named top. Symlinks are archived as links, never followed.
func Tar(src, top string) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeTar(pw, src, top))
	}()
	return pr
}

func writeTar(w io.Writer, src, top string) error {
	t := newTreeWriter(w)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		return t.file(p, filepath.ToSlash(filepath.Join(top, rel)), info, nil)
	})
	if err != nil {
		return err
	}
	return t.tw.Close()
}

// treeWriter writes files of a directory tree into a tar: headers with
// numeric owners, hardlinks as links to their first name, contents.
type treeWriter struct {
	tw    *tar.Writer
	links map[uint64]string // inode -> first name, for hardlinks
}

func newTreeWriter(w io.Writer) *treeWriter {
	return &treeWriter{tw: tar.NewWriter(w), links: map[uint64]string{}}
}

// file writes the entry for p, named name, with optional PAX records.
func (t *treeWriter) file(p, name string, info fs.FileInfo, pax map[string]string) error {
	var link string
	if info.Mode()&os.ModeSymlink != 0 {
		var err error
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
	hdr.PAXRecords = pax
	if info.IsDir() && !strings.HasSuffix(hdr.Name, "/") {
		hdr.Name += "/"
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
		hdr.Uname, hdr.Gname = "", ""
		if info.Mode().IsRegular() && st.Nlink > 1 {
			if first, ok := t.links[st.Ino]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				t.links[st.Ino] = name
			}
		}
	}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(t.tw, f); err != nil {
		return fmt.Errorf("archive %s: %w", p, err)
	}
	return nil
}
