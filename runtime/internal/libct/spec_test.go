package libct

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadSpec(t *testing.T) {
	cases := []struct {
		name    string
		config  string // "" means no config.json at all
		wantErr string
	}{
		{"missing", "", "not found"},
		{"malformed", `{"process": {`, "parse"},
		{"no process", `{"root": {"path": "rootfs"}}`, "process property must not be empty"},
		{"relative cwd", `{"process": {"cwd": "tmp", "args": ["sh"]}, "root": {"path": "rootfs"}}`, "absolute"},
		{"no args", `{"process": {"cwd": "/"}, "root": {"path": "rootfs"}}`, "args must not be empty"},
		{"no root", `{"process": {"cwd": "/", "args": ["sh"]}}`, "root.path"},
		{"ok", `{"ociVersion": "1.3.0", "process": {"cwd": "/", "args": ["sh"]}, "root": {"path": "rootfs"}}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.config != "" {
				if err := os.WriteFile(filepath.Join(dir, SpecFile), []byte(tc.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			spec, err := LoadSpec(dir)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if spec.Process.Args[0] != "sh" {
					t.Fatalf("args not decoded: %v", spec.Process.Args)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
