//go:build integration && linux

package images

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berthrun/berth/test/internal/harness"
)

// TestConcurrentMgr: nine mgr processes at once on one store — loads of
// the same archive, listings, an rmi of a tag, an rmi that deletes an image (and collects garbage) and pulls — all finish, and
// the store is consistent: every image inspects, each layer is unpacked
// once, no blob or layer is left unreferenced and no temp file remains.
func TestConcurrentMgr(t *testing.T) {
	t.Parallel()
	reg := harness.StartRegistry(t, "", "")
	pulled := reg.Host + "/layered:1"
	pusher := newMgr(t)
	pusher.must("load", "-i", layeredArchive(t, t.TempDir(), pulled))
	pusher.push(pulled)

	m := newMgr(t)
	m.must("load", "-i", busyboxTar)
	m.must("tag", "busybox", "doomed:1")
	// an image whose rmi deletes it, so garbage collection runs meanwhile
	victim := writeFile(t, filepath.Join(t.TempDir(), "victim.tar"), tarOf(t, file{name: "victim", body: "v\n"}))
	m.must("import", victim, "victim:1")

	jobs := [][]string{
		{"load", "-i", busyboxTar},
		{"load", "-i", busyboxTar},
		{"load", "-q", "-i", busyboxTar},
		{"images"},
		{"image", "ls", "--digests"},
		{"rmi", "doomed:1"},
		{"rmi", "victim:1"},
		{"pull", pulled},
		{"pull", "-q", pulled},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	outs := make([]string, len(jobs))
	for i, args := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, stdout, stderr := m.cmd(ctx, "", args...)
			errs[i] = c.Run()
			outs[i] = fmt.Sprintf("mgr %q:\nstdout:\n%sstderr:\n%s", args, stdout, stderr)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("mgr processes did not all finish within 2 minutes (deadlock?)")
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("%v: %s", err, outs[i])
		}
	}

	want := []string{"busybox:latest", pulled}
	var names []string
	for _, l := range m.images() {
		name, _, _ := strings.Cut(l, "|")
		names = append(names, name)
	}
	if !slices.Equal(names, want) && !slices.Equal(names, []string{pulled, "busybox:latest"}) {
		t.Errorf("images after the run: %q, want %q", names, want)
	}
	bb, layered := m.inspect("busybox"), m.inspect(pulled)
	if layered.RootFS.Layers[0] != bb.RootFS.Layers[0] {
		t.Fatalf("test image does not share busybox's layer")
	}
	if s := m.snapshots(); len(s) != 2 {
		t.Errorf("snapshots %q, want 2 (busybox's layer once, the layered image's top)", s)
	}
	if b := m.blobs(); len(b) != 6 {
		t.Errorf("blobs %q, want 6 (2 manifests, 2 configs, 2 layers)", b)
	}
	m.assertNoTemp()

	m.must("rmi", "busybox", pulled)
	if s, b := m.snapshots(), m.blobs(); len(s)+len(b) != 0 {
		t.Errorf("after rmi of everything: snapshots %q, blobs %q", s, b)
	}
}
