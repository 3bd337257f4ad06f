package api

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// fakeShim starts a process whose command line names dir as its state
// dir, as a shim's does, and writes its pid to dir/shim.pid.
func fakeShim(t *testing.T, dir string, life time.Duration) *exec.Cmd {
	t.Helper()
	// "; true" keeps sh from exec'ing sleep, which would change the
	// command line.
	cmd := exec.Command("sh", "-c", "sleep "+strconv.FormatFloat(life.Seconds(), 'f', 3, 64)+"; true", "--state-dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// A real shim writes its pid file itself, after its exec; here the
	// exec may still be under way.
	for deadline := time.Now().Add(5 * time.Second); !isShimOf(cmd.Process.Pid, dir); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the fake shim never ran")
		}
	}
	if err := os.WriteFile(filepath.Join(dir, PidFile), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func TestWaitGone(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		timeout time.Duration
		min     time.Duration // the wait must not end before this
		wantErr error
	}{
		{name: "no shim", setup: func(*testing.T, string) {}, timeout: 5 * time.Second},
		{name: "pid of another process", timeout: 5 * time.Second, setup: func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, PidFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "shim exits", timeout: 5 * time.Second, min: 300 * time.Millisecond, setup: func(t *testing.T, dir string) {
			fakeShim(t, dir, 300*time.Millisecond)
		}},
		{name: "shim outlives the context", timeout: 200 * time.Millisecond, min: 200 * time.Millisecond, wantErr: context.DeadlineExceeded,
			setup: func(t *testing.T, dir string) { fakeShim(t, dir, time.Minute) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			start := time.Now()
			err := WaitGone(ctx, dir)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("WaitGone: %v, want %v", err, tt.wantErr)
			}
			if took := time.Since(start); took < tt.min {
				t.Fatalf("WaitGone returned after %s, before the shim was gone (%s)", took, tt.min)
			}
			if tt.wantErr == nil && Alive(context.Background(), dir) {
				t.Fatal("shim still alive after WaitGone")
			}
		})
	}
}
