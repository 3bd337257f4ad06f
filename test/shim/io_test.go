//go:build integration && linux

package shim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berthrun/berth/shim/api"
)

// Both streams reach the json-file log with nanosecond timestamps; a line
// without its newline is logged partial.
func TestLogStreams(t *testing.T) {
	t.Parallel()
	c := newCtr(t, "rt", withShell(`echo to-out; echo to-err >&2; printf 'no-newline'`))
	c.opts.Start = true
	ctx := ctxT(t)
	before := time.Now()
	c.launch(ctx)
	waitGone(c.launched.ShimPid)
	entries := readLog(t, c.opts.LogPath)
	want := map[string]string{"to-out\n": "stdout", "to-err\n": "stderr", "no-newline": "stdout"}
	seen := map[string]bool{}
	for _, e := range entries {
		if stream, ok := want[e.Log]; ok {
			seen[e.Log] = true
			if e.Stream != stream {
				t.Errorf("%q logged as %s, want %s", e.Log, e.Stream, stream)
			}
		}
		if e.Time.Before(before) || e.Time.After(time.Now()) {
			t.Errorf("entry %+v: time out of range", e)
		}
	}
	for l := range want {
		if !seen[l] {
			t.Errorf("log lacks %q: %+v", l, entries)
		}
	}
	// The time keeps nanoseconds: RFC 3339 with 9 fraction digits.
	b, _ := os.ReadFile(c.opts.LogPath)
	var raw map[string]string
	if err := json.Unmarshal([]byte(strings.SplitN(string(b), "\n", 2)[0]), &raw); err != nil {
		t.Fatal(err)
	}
	if _, err := time.Parse(time.RFC3339Nano, raw["time"]); err != nil || !strings.Contains(raw["time"], ".") {
		t.Errorf("time %q is not RFC 3339 with fractions: %v", raw["time"], err)
	}
}

// The log rotates by size and keeps max-files files; nothing is lost
// inside the kept window.
func TestLogRotation(t *testing.T) {
	t.Parallel()
	const maxSize, maxFiles, lines = 4096, 3, 2000
	c := newCtr(t, "rt", withShell(fmt.Sprintf(`i=0; while [ $i -lt %d ]; do echo "line $i"; i=$((i+1)); done`, lines)))
	c.opts.Start = true
	c.opts.LogMaxSize, c.opts.LogMaxFiles = maxSize, maxFiles
	ctx := ctxT(t)
	c.launch(ctx)
	waitGone(c.launched.ShimPid)
	var all []logEntry
	for i := maxFiles - 1; i >= 0; i-- {
		p := c.opts.LogPath
		if i > 0 {
			p = fmt.Sprintf("%s.%d", p, i)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("rotated file: %v", err)
		}
		if fi.Size() > maxSize {
			t.Errorf("%s is %d bytes, over %d", p, fi.Size(), maxSize)
		}
		all = append(all, readLog(t, p)...)
	}
	if _, err := os.Stat(fmt.Sprintf("%s.%d", c.opts.LogPath, maxFiles)); err == nil {
		t.Errorf("more than %d files kept", maxFiles)
	}
	if len(all) == 0 || all[len(all)-1].Log != fmt.Sprintf("line %d\n", lines-1) {
		t.Fatalf("last entry %+v, want line %d", all[len(all)-1:], lines-1)
	}
	// Consecutive across files: line numbers increase by one.
	var first int
	fmt.Sscanf(all[0].Log, "line %d", &first)
	for i, e := range all {
		if e.Log != fmt.Sprintf("line %d\n", first+i) {
			t.Fatalf("entry %d is %q, want line %d: a gap across rotation", i, e.Log, first+i)
		}
	}
	if first == 0 {
		t.Error("nothing was rotated away")
	}
}

// Two clients see all output; a client that leaves at once and one that
// never reads block neither the container nor the others.
func TestAttachClients(t *testing.T) {
	t.Parallel()
	const n = 200000 // ~1.3 MB: more than a stalled client's socket buffers
	c := newCtr(t, "rt", withShell(fmt.Sprintf(`read go; echo "got $go"; i=0; yes payload | head -n %d; echo done-marker >&2`, n)))
	c.opts.Start, c.opts.Stdin = true, true
	ctx := ctxT(t)
	c.launch(ctx)

	var outs [2]*syncBuf
	var errs [2]*syncBuf
	var streams [2]*api.Stream
	type result struct {
		ex  *api.ExitStatus
		err error
	}
	done := make(chan result, 2)
	for i := range outs {
		s, err := c.client.Attach(ctx, api.AttachOptions{Stdin: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		streams[i], outs[i], errs[i] = s, &syncBuf{}, &syncBuf{}
		go func() {
			ex, err := s.Copy(outs[i], errs[i])
			done <- result{ex, err}
		}()
	}
	leaver, err := c.client.Attach(ctx, api.AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leaver.Close()
	staller, err := c.client.Attach(ctx, api.AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer staller.Close() // never read

	if _, err := streams[0].Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	for range outs {
		r := <-done
		if r.err != nil {
			t.Fatalf("client: %v", r.err)
		}
		if r.ex.ExitCode != 0 {
			t.Errorf("exit frame %+v", r.ex)
		}
	}
	for i := range outs {
		out := outs[i].String()
		if !strings.HasPrefix(out, "got hello\n") || strings.Count(out, "payload\n") != n {
			t.Errorf("client %d: %d payload lines, prefix %q", i, strings.Count(out, "payload\n"), out[:min(20, len(out))])
		}
		if errs[i].String() != "done-marker\n" {
			t.Errorf("client %d stderr %q", i, errs[i].String())
		}
	}
	ex, err := api.ReadExit(c.state)
	if err != nil || ex.ExitCode != 0 {
		t.Errorf("exit %+v %v", ex, err)
	}
}

// Window sizes set through the shim reach the container's tty, and its
// output (echo included) reaches the log and the attached client.
func TestTTYResize(t *testing.T) {
	t.Parallel()
	c := newCtr(t, "rt", withTTY(true), withShell(`while read x; do stty size; done`))
	c.opts.Start = true
	ctx := ctxT(t)
	c.launch(ctx)
	s, err := c.client.Attach(ctx, api.AttachOptions{Stdin: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := &syncBuf{}
	go s.Copy(out, nil)
	for _, size := range []struct{ w, h uint16 }{{100, 30}, {50, 20}} {
		if err := c.client.Resize(ctx, size.w, size.h); err != nil {
			t.Fatal(err)
		}
		s.Write([]byte("x\n"))
		waitFor(t, out, fmt.Sprintf("%d %d", size.h, size.w))
	}
	// Resize frames inside the attach stream work the same.
	if err := s.Resize(132, 43); err != nil {
		t.Fatal(err)
	}
	s.Write([]byte("x\n"))
	waitFor(t, out, "43 132")
	if err := c.client.Kill(ctx, 9, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.client.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	waitGone(c.launched.ShimPid)
	var logged strings.Builder
	for _, e := range readLog(t, c.opts.LogPath) {
		if e.Stream != "stdout" {
			t.Errorf("tty entry on %s", e.Stream)
		}
		logged.WriteString(e.Log)
	}
	if !strings.Contains(logged.String(), "30 100") {
		t.Errorf("tty output not logged: %q", logged.String())
	}
}

func processJSON(t *testing.T, tty bool, args ...string) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"terminal": tty, "args": args, "cwd": "/",
		"env": []string{"PATH=/bin:/usr/bin:/sbin:/usr/sbin", "TERM=xterm"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exec reports the process's exit code, with and without a tty, and carries
// its stdio.
func TestExec(t *testing.T) {
	t.Parallel()
	c := newCtr(t, "rt", withArgs("sleep", "1000"))
	c.opts.Start = true
	ctx := ctxT(t)
	c.launch(ctx)
	cases := []struct {
		name     string
		tty      bool
		args     []string
		stdin    string
		code     int
		out, err string
	}{
		{name: "exit", args: []string{"sh", "-c", "exit 7"}, code: 7},
		{name: "streams", args: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, code: 3, out: "out\n", err: "err\n"},
		{name: "stdin", args: []string{"cat"}, stdin: "abc\n", code: 0, out: "abc\n"},
		{name: "signal", args: []string{"sh", "-c", "kill -9 $$"}, code: 137},
		{name: "tty exit", tty: true, args: []string{"sh", "-c", "exit 5"}, code: 5},
		{name: "tty output", tty: true, args: []string{"sh", "-c", "tty; echo hi"}, code: 0, out: "hi\r\n"},
		{name: "tty size", tty: true, args: []string{"sh", "-c", "read x; stty size"}, stdin: "x\n", code: 0, out: "25 80"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := c.client.Exec(ctx, processJSON(t, tc.tty, tc.args...))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if tc.tty {
				// A process that does not wait may be gone already.
				if err := s.Resize(80, 25); err != nil && tc.stdin != "" {
					t.Fatal(err)
				}
			}
			if tc.stdin != "" {
				s.Write([]byte(tc.stdin))
				if !tc.tty {
					s.CloseStdin()
				}
			}
			var out, errb syncBuf
			ex, err := s.Copy(&out, &errb)
			if err != nil {
				t.Fatal(err)
			}
			if ex.ExitCode != tc.code {
				t.Errorf("exit %+v, want %d", ex, tc.code)
			}
			if !strings.Contains(out.String(), tc.out) || (tc.err != "" && errb.String() != tc.err) {
				t.Errorf("stdout %q stderr %q, want %q and %q", out.String(), errb.String(), tc.out, tc.err)
			}
			if tc.name == "tty output" && !strings.Contains(out.String(), "/dev/pts/") {
				t.Errorf("exec has no tty: %q", out.String())
			}
		})
	}
	t.Cleanup(func() {
		// No exec leftovers in the state dir.
		m, _ := filepath.Glob(filepath.Join(c.state, "exec-*"))
		if len(m) > 0 {
			t.Errorf("exec files left: %v", m)
		}
	})
}

// The same lifecycle over every runtime installed: create, start, log,
// exec, attach, kill, exit record, runtime state removed.
func TestRuntimes(t *testing.T) {
	t.Parallel()
	for name := range runtimes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, name, withShell(`echo started; echo warn >&2; exec sleep 1000`))
			ctx := ctxT(t)
			c.launch(ctx)
			if st, err := c.client.State(ctx); err != nil || st.Status != api.StatusCreated || st.Runtime != c.runtime {
				t.Fatalf("state %+v %v", st, err)
			}
			a, err := c.client.Attach(ctx, api.AttachOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			out := &syncBuf{}
			attached := make(chan *api.ExitStatus, 1)
			go func() { ex, _ := a.Copy(out, out); attached <- ex }()
			if err := c.client.Start(ctx); err != nil {
				t.Fatal(err)
			}
			waitFor(t, out, "started\n")
			s, err := c.client.Exec(ctx, processJSON(t, false, "sh", "-c", "echo in-$(hostname); exit 9"))
			if err != nil {
				t.Fatal(err)
			}
			var eo syncBuf
			ex, err := s.Copy(&eo, nil)
			s.Close()
			if err != nil || ex.ExitCode != 9 || !strings.HasPrefix(eo.String(), "in-") {
				t.Errorf("exec: %+v %v %q", ex, err, eo.String())
			}
			if err := c.client.Kill(ctx, 9, false); err != nil {
				t.Fatal(err)
			}
			w, err := c.client.Wait(ctx)
			if err != nil || w.ExitCode != 137 || w.Signal != 9 {
				t.Fatalf("wait %+v %v", w, err)
			}
			if ex := <-attached; ex == nil || ex.ExitCode != 137 {
				t.Errorf("attach exit frame %+v", ex)
			}
			waitGone(c.launched.ShimPid)
			if c.runtimeKnows() {
				t.Error("runtime state left")
			}
			streams := map[string]string{}
			for _, e := range readLog(t, c.opts.LogPath) {
				streams[e.Log] = e.Stream
			}
			if streams["started\n"] != "stdout" || streams["warn\n"] != "stderr" {
				t.Errorf("log %v", streams)
			}
		})
	}
}

// A container started by the launch (--start: the runtime's `run --detach`)
// with --hold-output keeps its output for the first attach, even one that
// comes after it exited: all of both streams, then its exit status; the
// shim waits for that client before it goes. Without the hold, output
// nobody attached for goes only to the log.
func TestStartHoldsOutputForFirstAttach(t *testing.T) {
	t.Parallel()
	const script = `echo to-out; echo to-err >&2; yes line | head -n 50000; exit 7`
	for _, name := range []string{"rt", "runc", "crun"} {
		for _, hold := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/hold=%v", name, hold), func(t *testing.T) {
				t.Parallel()
				c := newCtr(t, name, withShell(script))
				c.opts.Start, c.opts.HoldOutput = true, hold
				ctx := ctxT(t)
				c.launch(ctx)
				if !c.launched.Started {
					t.Fatalf("launch with Start reported %+v", c.launched)
				}
				if !hold {
					waitGone(c.launched.ShimPid)
					if entries := readLog(t, c.opts.LogPath); len(entries) < 50002 {
						t.Fatalf("log has %d entries, want all 50002 lines", len(entries))
					}
					return
				}
				// The container exits long before this attach (its exit is
				// recorded only once the held output has its client).
				if !waitGone(c.launched.Pid) {
					t.Fatal("container did not exit")
				}
				if !alive(c.launched.ShimPid) {
					t.Fatal("shim went away before the held output's client came")
				}
				out, errOut, ex := attachAll(ctx, t, c)
				if ex.ExitCode != 7 {
					t.Errorf("exit %+v, want 7", ex)
				}
				want := "to-out\n" + strings.Repeat("line\n", 50000)
				if out != want {
					t.Errorf("stdout: %d bytes, want %d (first line %q)", len(out), len(want), strings.SplitN(out, "\n", 2)[0])
				}
				if errOut != "to-err\n" {
					t.Errorf("stderr %q", errOut)
				}
				if !waitGone(c.launched.ShimPid) {
					t.Error("shim did not exit after its client got the output")
				}
				if c.runtimeKnows() {
					t.Error("runtime state left")
				}
			})
		}
	}
}

// Past the hold's limit the container waits for its first client instead
// of losing output; without any client the hold ends after 10 s and the
// output (all of it) goes to the log only.
func TestHoldLimitAndRelease(t *testing.T) {
	t.Parallel()
	const lines = 300000 // "line\n" x 300000: 1.5 MB, over the 1 MiB hold
	script := fmt.Sprintf(`yes line | head -n %d; exit 3`, lines)
	t.Run("full hold waits for the client", func(t *testing.T) {
		t.Parallel()
		c := newCtr(t, "rt", withShell(script))
		c.opts.Start, c.opts.HoldOutput = true, true
		ctx := ctxT(t)
		c.launch(ctx)
		time.Sleep(500 * time.Millisecond)
		if !alive(c.launched.Pid) {
			t.Fatal("the container finished writing 1.5 MB with nobody attached and a 1 MiB hold")
		}
		out, _, ex := attachAll(ctx, t, c)
		if ex.ExitCode != 3 || out != strings.Repeat("line\n", lines) {
			t.Errorf("exit %+v, %d bytes of stdout; want 3 and %d bytes", ex, len(out), lines*5)
		}
	})
	t.Run("no client: released to the log", func(t *testing.T) {
		t.Parallel()
		c := newCtr(t, "rt", withShell(script))
		c.opts.Start, c.opts.HoldOutput = true, true
		c.launch(ctxT(t))
		start := time.Now()
		if !waitGone(c.launched.ShimPid) {
			t.Fatal("shim did not exit")
		}
		if d := time.Since(start); d < 5*time.Second {
			t.Errorf("shim exited after %s without a client; the hold lasts 10 s", d)
		}
		if entries := readLog(t, c.opts.LogPath); len(entries) != lines {
			t.Errorf("log has %d entries, want %d", len(entries), lines)
		}
	})
}

// attachAll attaches to c and returns all it writes and its exit status.
func attachAll(ctx context.Context, t *testing.T, c *ctr) (stdout, stderr string, ex *api.ExitStatus) {
	t.Helper()
	s, err := c.client.Attach(ctx, api.AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out, errOut syncBuf
	if ex, err = s.Copy(&out, &errOut); err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), ex
}
