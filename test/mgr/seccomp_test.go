//go:build integration && linux

package mgr

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/profiles/seccomp"
)

// socketProbe calls socket(2) for every address family below 64, and for
// AF_UNIX with high bits set in the argument (the kernel reads an int, the
// filter all 64 bits), printing what each returned.
const socketProbe = `package main

import (
	"fmt"
	"syscall"
)

func main() {
	families := []uintptr{}
	for f := uintptr(0); f < 64; f++ {
		families = append(families, f)
	}
	families = append(families, 1|1<<32)
	for _, f := range families {
		fd, _, errno := syscall.RawSyscall(syscall.SYS_SOCKET, f, syscall.SOCK_DGRAM, 0)
		if errno != 0 {
			fmt.Printf("%#x %s\n", f, errno)
			continue
		}
		syscall.Close(int(fd))
		fmt.Printf("%#x created\n", f)
	}
}
`

// TestDefaultSeccompSocketFamilies: mgr's default profile (docker's, its
// per-family socket rules merged into masked ranges) decides socket(2) for
// every address family exactly as docker's own profile, loaded from a file,
// does — in real containers, through the kernel's filter.
func TestDefaultSeccompSocketFamilies(t *testing.T) {
	t.Parallel()
	m := newMgr(t)

	src := filepath.Join(m.Dir, "probe")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(socketProbe), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", "socketprobe", "main.go")
	build.Dir = src
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GO111MODULE=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the probe: %v: %s", err, out)
	}
	profile, err := json.Marshal(seccomp.DefaultProfile())
	if err != nil {
		t.Fatal(err)
	}
	dockerProfile := filepath.Join(m.Dir, "docker-seccomp.json")
	if err := os.WriteFile(dockerProfile, profile, 0o644); err != nil {
		t.Fatal(err)
	}

	probe := func(opts ...string) string {
		args := append([]string{"--network", "none", "-v", filepath.Join(src, "socketprobe") + ":/socketprobe:ro"}, opts...)
		return m.Output(append(args, "busybox", "/socketprobe")...)
	}
	merged := probe()
	docker := probe("--security-opt", "seccomp="+dockerProfile)
	if merged != docker {
		t.Fatalf("socket(2) under mgr's default profile:\n%s\nunder docker's:\n%s", merged, docker)
	}
	results := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(merged), "\n") {
		family, result, _ := strings.Cut(line, " ")
		results[family] = result
	}
	for family, want := range map[string]string{
		"0x1": "created", "0x2": "created", "0x10": "created", // unix, inet, netlink
		"0x28":        "operation not permitted", // vsock: not in docker's list
		"0x100000001": "operation not permitted", // high bits set
	} {
		if results[family] != want {
			t.Errorf("socket(%s) %q, want %q (all: %v)", family, results[family], want, results)
		}
	}
}
