package libct

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// A seccomp cache holds filters compiled from OCI seccomp profiles, one
// file per distinct profile, so that a container start loads docker's
// default profile as a ready program instead of having libseccomp build it
// again (~10 ms here, most of a start's CPU in the init). It needs rt's
// patched libcontainer (runtime/patches); other builds ignore the cache.
//
// A file is: magic, flags (uint64), program length (uint64), SHA-256 of
// flags and program, program. A file that does not check out is compiled
// and written again, so a torn or damaged file costs time, not safety.

var cacheMagic = []byte("rtbpf\x00\x00\x01")

const cacheHeaderLen = 8 + 8 + 8 + sha256.Size

// maxProgramBytes: the kernel takes at most BPF_MAXINSNS (4096)
// instructions of 8 bytes.
const maxProgramBytes = 4096 * 8

// cacheKey names the file for a profile: the profile with everything else
// the compiled program depends on (the patch, rt's build, libseccomp and
// the kernel), each part length-prefixed.
func cacheKey(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func encodeProgram(flags uint, filter []byte) []byte {
	var b bytes.Buffer
	b.Write(cacheMagic)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(flags))
	b.Write(n[:])
	sum := programSum(n[:], filter)
	binary.LittleEndian.PutUint64(n[:], uint64(len(filter)))
	b.Write(n[:])
	b.Write(sum[:])
	b.Write(filter)
	return b.Bytes()
}

func programSum(flags, filter []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write(flags)
	h.Write(filter)
	var s [sha256.Size]byte
	copy(s[:], h.Sum(nil))
	return s
}

var errBadCacheFile = errors.New("not a valid seccomp cache file")

func decodeProgram(b []byte) (flags uint, filter []byte, err error) {
	if len(b) < cacheHeaderLen || !bytes.Equal(b[:8], cacheMagic) {
		return 0, nil, errBadCacheFile
	}
	flagBytes := b[8:16]
	n := binary.LittleEndian.Uint64(b[16:24])
	filter = b[cacheHeaderLen:]
	if n > maxProgramBytes || uint64(len(filter)) != n || programSum(flagBytes, filter) != [sha256.Size]byte(b[24:cacheHeaderLen]) {
		return 0, nil, errBadCacheFile
	}
	return uint(binary.LittleEndian.Uint64(flagBytes)), filter, nil
}

// The checksum finds damage, not forgery: anyone who can write a file the
// cache would read can choose the filter of the next container. So the
// cache is used only when its directory and file are rt's user's own and
// nobody else may write them (a cache under /tmp made by someone else is
// ignored, not trusted).
func checkPrivate(fi os.FileInfo, wantDir bool) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !ok:
		return errors.New("no owner information")
	case wantDir && !fi.IsDir():
		return fmt.Errorf("%s is not a directory", fi.Name())
	case !wantDir && !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", fi.Name())
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s belongs to uid %d, not to uid %d", fi.Name(), st.Uid, os.Geteuid())
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s is writable by others (%v)", fi.Name(), fi.Mode().Perm())
	}
	return nil
}

func checkCacheDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if err := checkPrivate(fi, true); err != nil {
		return fmt.Errorf("seccomp cache %s not used: %w", dir, err)
	}
	return nil
}

func readCached(dir, key string) (flags uint, filter []byte, err error) {
	if err := checkCacheDir(dir); err != nil {
		return 0, nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, key), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, nil, err
	}
	if err := checkPrivate(fi, false); err != nil {
		return 0, nil, fmt.Errorf("seccomp cache file not used: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(f, cacheHeaderLen+maxProgramBytes+1))
	if err != nil {
		return 0, nil, err
	}
	return decodeProgram(b)
}

// writeCached stores a program atomically: readers see the old file, no
// file or the whole new one.
func writeCached(dir, key string, flags uint, filter []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("seccomp cache: %w", err)
	}
	if err := checkCacheDir(dir); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+key[:12]+"-")
	if err != nil {
		return fmt.Errorf("seccomp cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(encodeProgram(flags, filter)); err != nil {
		tmp.Close()
		return fmt.Errorf("seccomp cache: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("seccomp cache: write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, key)); err != nil {
		return fmt.Errorf("seccomp cache: %w", err)
	}
	return nil
}
