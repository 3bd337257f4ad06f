//go:build integration && linux

// Package network holds the end-to-end tests of mgr's CNI networking:
// name resolution on user networks, published ports, the network modes, a
// third-party conflist, connect/disconnect, the network verbs, refusals of
// bad input and a leak test (100 runs, then 20 managers killed mid-way).
//
// Every test has its own roots, its own CNI config dir whose "bridge"
// network (a bridge device and a /24 in 10.240.0.0-10.249.255.255 of its
// own) replaces mgr's embedded default, and its own user networks. Traffic
// goes only to 127.0.0.1 and to the containers the test created.
//
// The leak test and the --network host test compare host-wide state
// (iptables, veths, the host's interfaces) and are not parallel; Go runs
// every non-parallel top-level test before releasing the parallel ones, so
// they run alone.
package network

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

var (
	topDir     string // repository root
	mgrBinary  string // <repo>/bin/mgr
	rtBinary   string // <repo>/bin/rt
	busyboxTar string // busybox:latest from hack/mkimage.sh
	exposeTar  string // busybox-expose:latest: the same with EXPOSE 80/tcp, for -P
)

func TestMain(m *testing.M) {
	var s harness.MgrSuite
	harness.MgrMain(m, "network", &s, []string{"ip", "iptables-save"}, func(s *harness.MgrSuite) error {
		// A missing CNI plugin is a failure, never a skip.
		for _, p := range []string{"bridge", "host-local", "portmap", "tuning", "ptp"} {
			p = filepath.Join("/opt/cni/bin", p)
			if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
				return fmt.Errorf("CNI plugin %s missing: run hack/setup.sh (%v)", p, err)
			}
		}
		topDir, mgrBinary, rtBinary, busyboxTar = s.Top, s.Mgr, s.Rt, s.BusyboxTar
		exposeTar = filepath.Join(s.Dir, "expose.tar")
		if err := withExposedPort(busyboxTar, exposeTar, "busybox-expose:latest", "80/tcp"); err != nil {
			return fmt.Errorf("make the EXPOSE image: %w", err)
		}
		return nil
	})
}

// withExposedPort copies a single-image docker-archive, adding port to the
// config's ExposedPorts and retagging it (the config file is renamed to
// its new digest, as `docker save` names it).
func withExposedPort(src, dst, tag, port string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	type entry struct {
		hdr  *tar.Header
		data []byte
	}
	var entries []entry
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		entries = append(entries, entry{h, data})
	}
	find := func(name string) int {
		for i, e := range entries {
			if filepath.Clean(e.hdr.Name) == name {
				return i
			}
		}
		return -1
	}
	mi := find("manifest.json")
	if mi < 0 {
		return fmt.Errorf("%s has no manifest.json", src)
	}
	var manifest []map[string]any
	if err := json.Unmarshal(entries[mi].data, &manifest); err != nil || len(manifest) != 1 {
		return fmt.Errorf("manifest.json: want one image (%v)", err)
	}
	cfgName, _ := manifest[0]["Config"].(string)
	ci := find(filepath.Clean(cfgName))
	if ci < 0 {
		return fmt.Errorf("config %s not in %s", cfgName, src)
	}
	var cfg map[string]any
	if err := json.Unmarshal(entries[ci].data, &cfg); err != nil {
		return err
	}
	inner, _ := cfg["config"].(map[string]any)
	if inner == nil {
		return fmt.Errorf("config has no config object")
	}
	inner["ExposedPorts"] = map[string]any{port: map[string]any{}}
	newCfg, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(newCfg)
	newName := hex.EncodeToString(sum[:]) + ".json"
	entries[ci].data, entries[ci].hdr.Name = newCfg, newName
	manifest[0]["Config"], manifest[0]["RepoTags"] = newName, []string{tag}
	if entries[mi].data, err = json.Marshal(manifest); err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := *e.hdr
		h.Size = int64(len(e.data))
		if err := tw.WriteHeader(&h); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}
