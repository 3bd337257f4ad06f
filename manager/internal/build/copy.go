package build

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/manager/internal/archive"
	"github.com/berthrun/berth/manager/internal/errdefs"
)

type copyRequest struct {
	verb         string // COPY or ADD
	srcs         []string
	dest         string
	from         string
	chown, chmod string
	contents     int // heredoc sources
}

// source is one file or directory to copy and where it lands.
type source struct {
	path    string // on the host
	rel     string // relative to the context (for .dockerignore); "" from an image
	key     string // relative to its root, context or image: what the cache hashes
	dest    string // absolute path in the image
	extract bool   // ADD of a local tar archive: its contents go into dest
}

// copy is COPY/ADD: a layer written from the sources, no container.
func (bd *build) copy(ctx context.Context, st *stage, r copyRequest) error {
	if r.contents > 0 {
		return fmt.Errorf("%s with a heredoc is not supported by mgr build yet: %w", r.verb, errdefs.ErrNotImplemented)
	}
	mode := int64(-1)
	if r.chmod != "" {
		m, err := strconv.ParseUint(r.chmod, 8, 32)
		if err != nil || m > 0o7777 {
			return fmt.Errorf("%s --chmod=%s: only octal modes up to 7777 are supported: %w", r.verb, r.chmod, errdefs.ErrInvalidArgument)
		}
		mode = int64(m)
	}
	root, rootRel := bd.o.ContextDir, true
	fromTag := ""
	if r.from != "" {
		var chain, id digest.Digest
		if s := bd.stageByName(r.from); s != nil {
			chain, id = s.chain, s.id
		} else {
			img, err := bd.images.Get(ctx, r.from)
			if err != nil {
				return fmt.Errorf("COPY --from=%s: %w", r.from, err)
			}
			chain, id = img.Chain, img.ID
		}
		dir, cleanup, err := bd.view(ctx, chain)
		if err != nil {
			return err
		}
		defer cleanup()
		root, rootRel, fromTag = dir, false, " from "+id.Encoded()[:12]
	}
	// The current image: where dest is a directory already, and the
	// names --chown may use.
	cur, cleanup, err := bd.view(ctx, st.chain)
	if err != nil {
		return err
	}
	defer cleanup()
	uid, gid, err := parseChown(cur, r.chown)
	if err != nil {
		return err
	}
	dest := r.dest
	if !path.IsAbs(dest) {
		dest = path.Join("/", st.config.Config.WorkingDir, dest)
	}
	var matches []source
	for _, s := range r.srcs {
		found, err := globIn(root, s)
		if err != nil {
			return fmt.Errorf("%s %s: %w", r.verb, s, err)
		}
		n := 0
		for _, m := range found {
			rel, _ := filepath.Rel(root, m)
			if rootRel && bd.ignore.ignored(rel) {
				continue
			}
			key := rel
			if !rootRel {
				rel = ""
			}
			matches = append(matches, source{path: m, rel: rel, key: key})
			n++
		}
		if n == 0 {
			return fmt.Errorf("%s failed: file not found in build context or excluded by .dockerignore: stat %s: file does not exist: %w", r.verb, s, errdefs.ErrNotFound)
		}
	}
	destDir := strings.HasSuffix(r.dest, "/") || len(matches) > 1
	if fi, err := os.Stat(filepath.Join(cur, dest)); err == nil && fi.IsDir() {
		destDir = true
	}
	kind := "file"
	for i, m := range matches {
		fi, err := os.Lstat(m.path)
		if err != nil {
			return err
		}
		switch {
		case r.verb == "ADD" && fi.Mode().IsRegular() && isTarArchive(m.path):
			// As docker: a local (compressed) tar is unpacked into dest.
			matches[i].dest, matches[i].extract = dest, true
			kind = "archive"
		case fi.IsDir():
			matches[i].dest = dest
			kind = "dir"
		case destDir:
			matches[i].dest = path.Join(dest, filepath.Base(m.path))
		default:
			matches[i].dest = dest
		}
	}
	if len(matches) > 1 {
		kind = "multi"
	}
	sum, err := bd.hashSources(matches)
	if err != nil {
		return err
	}
	createdBy := fmt.Sprintf("/bin/sh -c #(nop) %s %s:%s%s in %s ", r.verb, kind, sum, fromTag, dest)
	if r.chown != "" {
		createdBy += "--chown=" + r.chown + " "
	}
	if r.chmod != "" {
		createdBy += "--chmod=" + r.chmod + " "
	}
	if hit, err := bd.cached(ctx, st, createdBy); hit || err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(bd.writeCopy(pw, cur, matches, destDir, dest, uid, gid, mode))
	}()
	defer pr.Close()
	return bd.commit(ctx, st, createdBy, pr, false)
}

// globIn finds the sources a COPY pattern names under root (the context,
// or an image's filesystem), with symlinks in their directories resolved
// inside root: a context or image link to / must not copy the host's files.
// The last element is taken as it is (a link is copied as a link).
func globIn(root, pattern string) ([]string, error) {
	clean := path.Clean("/" + filepath.ToSlash(pattern))
	dir, base := path.Split(clean)
	if !strings.ContainsAny(dir, `*?[\`) {
		d, err := securejoin.SecureJoin(root, dir)
		if err != nil {
			return nil, err
		}
		return filepath.Glob(filepath.Join(d, base))
	}
	// Patterns in directory names: glob, then keep what stays inside.
	found, err := filepath.Glob(filepath.Join(root, clean))
	if err != nil {
		return nil, err
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range found {
		d, err := filepath.EvalSymlinks(filepath.Dir(m))
		if rel, rerr := filepath.Rel(realRoot, d); err == nil && rerr == nil && filepath.IsLocal(rel) {
			out = append(out, m)
		}
	}
	return out, nil
}

// hashSources is the content identity of what a COPY copies.
func (bd *build) hashSources(srcs []source) (string, error) {
	h := sha256.New()
	for _, s := range srcs {
		// Where the context or image view lives (a temp dir) must not
		// matter, only what is copied from where in it.
		fmt.Fprintf(h, "src %s -> %s\n", s.key, s.dest)
		err := bd.walk(s, func(p, rel string, fi fs.FileInfo) error {
			fmt.Fprintf(h, "%s %o %d\n", rel, fi.Mode(), fi.Size())
			switch {
			case fi.Mode()&fs.ModeSymlink != 0:
				l, err := os.Readlink(p)
				if err != nil {
					return err
				}
				fmt.Fprintln(h, l)
			case fi.Mode().IsRegular():
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				_, err = io.Copy(h, f)
				f.Close()
				return err
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// walk visits s and, for a directory, what is under it that
// .dockerignore keeps; rel is relative to s.
func (bd *build) walk(s source, fn func(p, rel string, fi fs.FileInfo) error) error {
	return filepath.WalkDir(s.path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.path, p)
		if s.rel != "" && rel != "." && bd.ignore.ignored(filepath.Join(s.rel, rel)) {
			if d.IsDir() && !bd.ignore.exceptions() {
				return filepath.SkipDir
			}
			// An ignored directory under which a "!" pattern may keep
			// something: its entry goes, the walk goes on.
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return fn(p, rel, fi)
	})
}

// writeCopy writes the COPY layer: the parents of each destination (as
// the image has them, else 0755 root), then the sources, owned by uid:gid
// and with mode's permission bits unless it is -1.
func (bd *build) writeCopy(w io.Writer, cur string, srcs []source, destDir bool, dest string, uid, gid int, mode int64) error {
	tw := tar.NewWriter(w)
	written := map[string]bool{}
	dirHeader := func(p string) error {
		if p == "/" || written[p] {
			return nil
		}
		written[p] = true
		hdr := &tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(p, "/") + "/", Mode: 0o755, ModTime: time.Now(), Format: tar.FormatPAX}
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(cur, p), &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			hdr.Mode, hdr.Uid, hdr.Gid = int64(st.Mode&0o7777), int(st.Uid), int(st.Gid)
			hdr.ModTime = time.Unix(st.Mtim.Unix())
		} else {
			hdr.Uid, hdr.Gid = uid, gid
		}
		return tw.WriteHeader(hdr)
	}
	parents := func(p string) error {
		var chain []string
		for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
			chain = append([]string{d}, chain...)
		}
		for _, d := range chain {
			if err := dirHeader(d); err != nil {
				return err
			}
		}
		return nil
	}
	if destDir {
		if err := parents(dest + "/x"); err != nil {
			return err
		}
	}
	for _, s := range srcs {
		if err := parents(s.dest); err != nil {
			return err
		}
		if s.extract {
			if err := dirHeader(s.dest); err != nil {
				return err
			}
			if err := extractInto(tw, s.path, s.dest); err != nil {
				return fmt.Errorf("ADD %s: %w", filepath.Base(s.path), err)
			}
			continue
		}
		err := bd.walk(s, func(p, rel string, fi fs.FileInfo) error {
			name := path.Join(s.dest, filepath.ToSlash(rel))
			if rel == "." && fi.IsDir() {
				// A directory's contents go to dest; dest itself is
				// made if missing.
				return dirHeader(name)
			}
			var link string
			if fi.Mode()&fs.ModeSymlink != 0 {
				var err error
				if link, err = os.Readlink(p); err != nil {
					return err
				}
			}
			hdr, err := tar.FileInfoHeader(fi, link)
			if err != nil {
				return err
			}
			hdr.Name = strings.TrimPrefix(name, "/")
			if fi.IsDir() {
				hdr.Name += "/"
				written[name] = true
			}
			hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = uid, gid, "", ""
			if mode >= 0 && hdr.Typeflag != tar.TypeSymlink {
				hdr.Mode = mode
			}
			hdr.Format = tar.FormatPAX
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if hdr.Typeflag == tar.TypeReg {
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				_, err = io.Copy(tw, f)
				f.Close()
				return err
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("copy %s: %w", s.path, err)
		}
	}
	return tw.Close()
}

// view makes chain's root filesystem readable at a directory: the layer
// itself for one layer, a read-only overlay of several, an empty
// directory for none. cleanup unmounts and removes what it made.
func (bd *build) view(ctx context.Context, chain digest.Digest) (string, func(), error) {
	if err := os.MkdirAll(bd.tmpDir, 0o700); err != nil {
		return "", nil, err
	}
	dirs, err := bd.images.LayerDirs(ctx, chain)
	if chain == "" {
		dirs, err = nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	if len(dirs) == 1 {
		return dirs[0], func() {}, nil
	}
	tmp, err := os.MkdirTemp(bd.tmpDir, "view-")
	if err != nil {
		return "", nil, err
	}
	if len(dirs) == 0 {
		return tmp, func() { _ = os.Remove(tmp) }, nil
	}
	opts := "lowerdir=" + strings.Join(dirs, ":")
	if err := unix.Mount("overlay", tmp, "overlay", unix.MS_RDONLY, opts); err != nil {
		_ = os.Remove(tmp)
		return "", nil, fmt.Errorf("mount image view: %w", err)
	}
	return tmp, func() {
		_ = unix.Unmount(tmp, unix.MNT_DETACH)
		_ = os.Remove(tmp)
	}, nil
}

// parseChown resolves --chown=user[:group] with the image's passwd and
// group files; numbers need no lookup. Empty is root.
func parseChown(root, spec string) (int, int, error) {
	if spec == "" {
		return 0, 0, nil
	}
	u, g, hasGroup := strings.Cut(spec, ":")
	uid, ugid, err := lookup(filepath.Join(root, "etc/passwd"), u, true)
	if err != nil {
		return 0, 0, fmt.Errorf("--chown=%s: %w", spec, err)
	}
	gid := ugid
	if hasGroup {
		if gid, _, err = lookup(filepath.Join(root, "etc/group"), g, false); err != nil {
			return 0, 0, fmt.Errorf("--chown=%s: %w", spec, err)
		}
	}
	return uid, gid, nil
}

// lookup finds name (or a number) in a passwd or group file: its id and,
// for passwd, its primary group.
func lookup(file, name string, passwd bool) (int, int, error) {
	if n, err := strconv.Atoi(name); err == nil {
		if !passwd {
			return n, 0, nil
		}
		gid := n
		// A numeric user keeps its passwd group when it has one.
		if raw, err := os.ReadFile(file); err == nil {
			for _, line := range strings.Split(string(raw), "\n") {
				f := strings.Split(line, ":")
				if len(f) >= 4 && f[2] == name {
					if g, err := strconv.Atoi(f[3]); err == nil {
						gid = g
					}
				}
			}
		}
		return n, gid, nil
	}
	raw, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[0] == name {
			id, err := strconv.Atoi(f[2])
			if err != nil {
				break
			}
			g := id
			if passwd && len(f) >= 4 {
				if g, err = strconv.Atoi(f[3]); err != nil {
					g = id
				}
			}
			return id, g, nil
		}
	}
	return 0, 0, fmt.Errorf("unable to find %q in %s: %w", name, filepath.Base(file), errdefs.ErrNotFound)
}

// isTarArchive tells a tar (plain, gzip or zstd) from other files by its
// first bytes, as docker's ADD does.
func isTarArchive(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	plain, closeFn, err := archive.Decompress(f)
	if err != nil {
		return false
	}
	defer closeFn()
	_, err = tar.NewReader(plain).Next()
	return err == nil
}

// extractInto copies the entries of the archive at p into the layer tar
// under dest, keeping their owners and modes. Names that climb out are
// left to the layer's own checks, which refuse the whole layer.
func extractInto(tw *tar.Writer, p, dest string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	plain, closeFn, err := archive.Decompress(f)
	if err != nil {
		return err
	}
	defer closeFn()
	tr := tar.NewReader(plain)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Join(dest, hdr.Name)
		if name == dest || name == "/" {
			continue // the archive's own root: dest exists
		}
		hdr.Name = strings.TrimPrefix(name, "/")
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = strings.TrimPrefix(path.Join(dest, hdr.Linkname), "/")
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}
