// Package arch guards berth's architecture: which component may import what.
// It runs with the unit tests (no root, no build tag).
package arch

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/berthrun/berth"

type pkg struct {
	ImportPath string
	Deps       []string
}

// listPackages returns every package of the module with its transitive deps.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Deps", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	return pkgs
}

func TestDependencies(t *testing.T) {
	rules := []struct {
		name      string
		applies   func(pkg string) bool
		forbidden []string // import path prefixes
	}{
		{
			name:      "only runtime/ uses libcontainer",
			applies:   func(p string) bool { return !strings.HasPrefix(p, module+"/runtime/") },
			forbidden: []string{"github.com/opencontainers/runc/libcontainer"},
		},
		{
			name:      "the shim stays lean: no libcontainer, no manager, no HTTP or gRPC stack",
			applies:   func(p string) bool { return strings.HasPrefix(p, module+"/shim/") },
			forbidden: []string{"github.com/opencontainers/runc", module + "/manager/", "net/http", "google.golang.org/grpc"},
		},
		{
			name:      "rt does not depend on the manager or the shim",
			applies:   func(p string) bool { return strings.HasPrefix(p, module+"/runtime/") },
			forbidden: []string{module + "/manager/", module + "/shim/"},
		},
		{
			name: "manager internals stay in the manager",
			applies: func(p string) bool {
				return !strings.HasPrefix(p, module+"/manager/") && !strings.HasPrefix(p, module+"/test/")
			},
			forbidden: []string{module + "/manager/internal/"},
		},
	}
	for _, p := range listPackages(t) {
		for _, r := range rules {
			if !r.applies(p.ImportPath) {
				continue
			}
			for _, d := range p.Deps {
				for _, f := range r.forbidden {
					if strings.HasPrefix(d, f) {
						t.Errorf("%s: %s imports %s", r.name, p.ImportPath, d)
					}
				}
			}
		}
	}
}
