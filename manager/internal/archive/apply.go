// Package archive applies image layers (tar streams, gzip- or
// zstd-compressed or plain) to a directory in overlayfs form: OCI whiteouts
// become overlay whiteouts (0/0 character devices) and opaque directories
// get the trusted.overlay.opaque xattr.
//
// Layers come from registries and from files users are handed, so every
// entry is checked before anything is written: absolute names, ".." that
// climbs out, hardlinks to outside the layer, relative symlinks whose target
// leaves the layer, and any write through a symlink are refused with an
// error naming the entry. The directory is expected to be new and private
// to the caller, so nothing else changes it while we apply.
package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

const (
	whiteoutPrefix = ".wh."
	opaqueWhiteout = ".wh..wh..opq"
)

// Result describes an applied layer.
type Result struct {
	DiffID digest.Digest // digest of the uncompressed tar stream
	Size   int64         // bytes of file content written
}

// Apply unpacks the layer read from r into dir.
func Apply(dir string, r io.Reader) (Result, error) {
	return apply(dir, r, true)
}

// Extract unpacks a plain (or compressed) tar into dir with the same
// checks as Apply, but without layer semantics: ".wh." names are ordinary
// files. It is what `cp` into a container or onto the host uses.
func Extract(dir string, r io.Reader) error {
	_, err := apply(dir, r, false)
	return err
}

func apply(dir string, r io.Reader, layer bool) (Result, error) {
	plain, closeFn, err := Decompress(r)
	if err != nil {
		return Result{}, err
	}
	defer closeFn()
	digester := digest.SHA256.Digester()
	tee := io.TeeReader(plain, digester.Hash())
	tr := tar.NewReader(tee)
	a := &applier{root: filepath.Clean(dir), layer: layer}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Result{}, fmt.Errorf("read layer: %w: %w", err, errdefs.ErrDataCorrupt)
		}
		if err := a.entry(hdr, tr); err != nil {
			return Result{}, fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
	}
	// Drain the padding after the end-of-archive marker so the digest
	// covers the whole stream, as the image config's diff_ids do.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return Result{}, fmt.Errorf("read layer: %w", err)
	}
	if err := a.finish(); err != nil {
		return Result{}, err
	}
	return Result{DiffID: digester.Digest(), Size: a.size}, nil
}

// Decompress detects gzip, zstd or plain tar from the first bytes.
func Decompress(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip layer: %w: %w", err, errdefs.ErrDataCorrupt)
		}
		return zr, func() { zr.Close() }, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("zstd layer: %w: %w", err, errdefs.ErrDataCorrupt)
		}
		return zr, zr.Close, nil
	default:
		return br, func() {}, nil
	}
}

type dirTimes struct {
	path         string
	atime, mtime time.Time
}

type applier struct {
	root  string
	layer bool // convert OCI whiteouts to overlay form
	size  int64
	dirs  []dirTimes // directory times are set last: adding entries changes them
}

// resolve turns a tar name into a path under root, refusing names that are
// absolute or climb out, and parents that are not real directories.
func (a *applier) resolve(name string) (string, error) {
	if path.IsAbs(name) || filepath.IsAbs(name) {
		return "", fmt.Errorf("absolute path: %w", errdefs.ErrDataCorrupt)
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("path escapes the layer: %w", errdefs.ErrDataCorrupt)
	}
	if clean == "." {
		return a.root, nil
	}
	full := filepath.Join(a.root, filepath.FromSlash(clean))
	// Every parent must be a directory we made, never a symlink: writing
	// "a/b" after "a -> /etc" must not touch /etc.
	parent := a.root
	parts := strings.Split(clean, "/")
	for _, p := range parts[:len(parts)-1] {
		parent = filepath.Join(parent, p)
		fi, err := os.Lstat(parent)
		if errors.Is(err, os.ErrNotExist) {
			if err := os.Mkdir(parent, 0o755); err != nil {
				return "", err
			}
			continue
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return "", fmt.Errorf("refusing to write through symlink %q: %w", strings.TrimPrefix(parent, a.root+"/"), errdefs.ErrDataCorrupt)
		}
		if !fi.IsDir() {
			return "", fmt.Errorf("parent %q is not a directory: %w", strings.TrimPrefix(parent, a.root+"/"), errdefs.ErrDataCorrupt)
		}
	}
	return full, nil
}

func (a *applier) entry(hdr *tar.Header, r io.Reader) error {
	dir, base := path.Split(path.Clean(hdr.Name))
	if !a.layer {
		base = "" // no whiteouts outside layers
	}
	if base == opaqueWhiteout {
		target, err := a.resolve(dir + ".")
		if err != nil {
			return err
		}
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
		return unix.Setxattr(target, "trusted.overlay.opaque", []byte("y"), 0)
	}
	if name, ok := strings.CutPrefix(base, whiteoutPrefix); ok && a.layer {
		target, err := a.resolve(dir + name)
		if err != nil {
			return err
		}
		_ = os.RemoveAll(target)
		return unix.Mknod(target, unix.S_IFCHR, 0)
	}

	target, err := a.resolve(hdr.Name)
	if err != nil {
		return err
	}
	// A later entry replaces an earlier one, except that a directory
	// stays (its contents are merged).
	if fi, err := os.Lstat(target); err == nil && !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) && target != a.root {
		if err := os.RemoveAll(target); err != nil {
			return err
		}
	}

	mode := uint32(hdr.Mode & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(target, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	case tar.TypeReg, tar.TypeRegA:
		f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		n, err := io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		a.size += n
	case tar.TypeSymlink:
		if err := checkSymlink(hdr.Name, hdr.Linkname); err != nil {
			return err
		}
		if err := os.Symlink(hdr.Linkname, target); err != nil {
			return err
		}
	case tar.TypeLink:
		src, err := a.resolve(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hardlink target %q: %w", hdr.Linkname, err)
		}
		fi, err := os.Lstat(src)
		if err != nil {
			return fmt.Errorf("hardlink target %q: %w", hdr.Linkname, err)
		}
		if fi.IsDir() {
			return fmt.Errorf("hardlink to directory %q: %w", hdr.Linkname, errdefs.ErrDataCorrupt)
		}
		if err := os.Link(src, target); err != nil {
			return err
		}
		return nil // a hardlink shares its target's metadata
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := unix.Mknod(target, kind|mode, int(dev)); err != nil {
			return err
		}
	case tar.TypeXGlobalHeader:
		return nil
	default:
		return fmt.Errorf("unsupported entry type %q: %w", hdr.Typeflag, errdefs.ErrDataCorrupt)
	}
	return a.setMetadata(target, hdr, mode)
}

// checkSymlink refuses a relative target that climbs out of the layer from
// the link's own directory. Absolute targets are fine: inside the container
// they resolve against its root, and we never follow links while applying.
func checkSymlink(name, target string) error {
	if target == "" {
		return fmt.Errorf("empty symlink target: %w", errdefs.ErrDataCorrupt)
	}
	if path.IsAbs(target) {
		return nil
	}
	resolved := path.Join(path.Dir(path.Clean(name)), target)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return fmt.Errorf("symlink target %q points outside the layer: %w", target, errdefs.ErrDataCorrupt)
	}
	return nil
}

func (a *applier) setMetadata(target string, hdr *tar.Header, mode uint32) error {
	if err := os.Lchown(target, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	for key, value := range hdr.PAXRecords {
		if name, ok := strings.CutPrefix(key, "SCHILY.xattr."); ok {
			if err := unix.Lsetxattr(target, name, []byte(value), 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
				return fmt.Errorf("xattr %s: %w", name, err)
			}
		}
	}
	if hdr.Typeflag == tar.TypeSymlink {
		return unix.Lutimes(target, []unix.Timeval{unix.NsecToTimeval(atime(hdr).UnixNano()), unix.NsecToTimeval(hdr.ModTime.UnixNano())})
	}
	// chmod after chown: chown clears setuid/setgid bits.
	if err := unix.Chmod(target, mode); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	if hdr.Typeflag == tar.TypeDir {
		a.dirs = append(a.dirs, dirTimes{target, atime(hdr), hdr.ModTime})
		return nil
	}
	return os.Chtimes(target, atime(hdr), hdr.ModTime)
}

func atime(hdr *tar.Header) time.Time {
	if hdr.AccessTime.IsZero() {
		return hdr.ModTime
	}
	return hdr.AccessTime
}

func (a *applier) finish() error {
	for i := len(a.dirs) - 1; i >= 0; i-- {
		d := a.dirs[i]
		if err := os.Chtimes(d.path, d.atime, d.mtime); err != nil {
			return fmt.Errorf("set times of %s: %w", d.path, err)
		}
	}
	return nil
}
