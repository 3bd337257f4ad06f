package topdir

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// marked tells whether dir carries the mark.
func marked(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil {
		return false, err
	}
	return flags&fsTopdirFL != 0, nil
}

func TestEnsure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "containers")
	if err := Ensure(dir); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir not made 0700: %v %v", fi, err)
	}
	ok, err := marked(dir)
	if err != nil {
		t.Skipf("%s has no inode attributes (%v): nothing to check", dir, err)
	}
	if !ok && os.Geteuid() == 0 {
		t.Errorf("%s not marked", dir)
	}
	// Again: already marked, no error.
	if err := Ensure(dir); err != nil {
		t.Fatal(err)
	}
}

// A filesystem without the attribute is no error.
func TestEnsureTmpfs(t *testing.T) {
	if _, err := os.Stat("/dev/shm"); err != nil {
		t.Skip("no /dev/shm")
	}
	dir, err := os.MkdirTemp("/dev/shm", "topdir")
	if err != nil {
		t.Skip(err)
	}
	defer os.RemoveAll(dir)
	if err := Ensure(filepath.Join(dir, "c")); err != nil {
		t.Fatal(err)
	}
}
