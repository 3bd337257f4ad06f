package build

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseChown(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n"), 0o644)
	_ = os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nstaff:x:50:\n"), 0o644)
	for spec, want := range map[string][2]int{"": {0, 0}, "app": {1000, 1001}, "app:staff": {1000, 50}, "1000": {1000, 1001}, "7:8": {7, 8}, "7": {7, 7}} {
		uid, gid, err := parseChown(root, spec)
		if err != nil || uid != want[0] || gid != want[1] {
			t.Errorf("%q: %d:%d %v, want %v", spec, uid, gid, err, want)
		}
	}
	if _, _, err := parseChown(root, "nobody"); err == nil {
		t.Error("unknown user: no error")
	}
}
