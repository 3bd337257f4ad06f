package container

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	shimapi "github.com/berthrun/berth/shim/api"
)

// CollectGarbage removes what containers without a record left behind: a
// manager killed between steps can leave a namespace, CNI attachments (IP
// leases, veths, rules), a shim's state dir or an overlay mount. It is
// safe to run at any time: it only touches IDs no record names.
func (s *Service) CollectGarbage(ctx context.Context) error {
	recs, err := s.records.List(ctx)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, r := range recs {
		known[r.ID] = true
		known[r.ID[:12]] = true
	}
	var errs []error
	// CNI attachments by full ID (from libcni's cache).
	ids, err := s.networks.Attached()
	if err != nil {
		errs = append(errs, err)
	}
	for _, id := range ids {
		if !known[id] {
			errs = append(errs, s.networks.Cleanup(ctx, id))
		}
	}
	// Namespaces and run dirs are named by short ID.
	netns, err := s.networks.NetNSFiles()
	if err != nil {
		errs = append(errs, err)
	}
	for _, short := range netns {
		if !known[short] {
			errs = append(errs, s.networks.Cleanup(ctx, short+strings.Repeat("0", 52)))
		}
	}
	runDirs, _ := os.ReadDir(filepath.Join(s.paths.RunRoot, "c"))
	for _, d := range runDirs {
		short := d.Name()
		if known[short] {
			continue
		}
		dir := filepath.Join(s.paths.RunRoot, "c", short)
		if shimapi.Alive(ctx, dir) {
			_ = shimapi.NewClient(shimapi.SocketPath(dir)).Shutdown(ctx, true)
		}
		errs = append(errs, s.unmountRootfs(short+strings.Repeat("0", 52)))
		errs = append(errs, os.RemoveAll(dir))
	}
	// Runtime state of containers no shim holds any more.
	states, _ := os.ReadDir(s.runtimeRoot())
	for _, st := range states {
		if !known[st.Name()] {
			errs = append(errs, s.runtime(ctx, "delete", "--force", st.Name()))
		}
	}
	return errors.Join(errs...)
}
