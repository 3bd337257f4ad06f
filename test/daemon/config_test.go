//go:build integration && linux

package daemon

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDaemonConfigFile: the daemon takes its logging from a daemon.json
// style file, reloads it on SIGHUP (and keeps serving), and refuses a file
// with an unknown key.
func TestDaemonConfigFile(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "daemon.json")
	if err := os.WriteFile(cfg, []byte(`{"log-format": "json", "log-level": "debug"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "--config-file", cfg)
	d.mustDocker("version")
	sawJSON := false
	for _, l := range strings.Split(d.log.String(), "\n") {
		var entry map[string]any
		if json.Unmarshal([]byte(l), &entry) == nil && entry["level"] == "debug" && entry["msg"] == "request" {
			sawJSON = true
		}
	}
	if !sawJSON {
		t.Errorf("no JSON debug request lines with log-format json, log-level debug:\n%s", d.log)
	}

	if err := os.WriteFile(cfg, []byte(`{"log-format": "text", "log-level": "info", "group": "root"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reload is logged in text", func() (bool, string) {
		log := d.log.String()
		return strings.Contains(log, `level=info msg="SIGHUP: config reloaded"`) && strings.Contains(log, "needs-restart=group"), log
	})
	if out := d.mustDocker("version", "--format", "{{.Server.APIVersion}}"); out != "1.50\n" {
		t.Errorf("after SIGHUP: %q", out)
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"log-format": "json", "hostz": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := d.mgr("daemon", "--config-file", bad, "--host", "unix://"+filepath.Join(t.TempDir(), "x.sock"))
	if err == nil || !strings.Contains(out, "hostz") {
		t.Errorf("a config with an unknown key: %v %q", err, out)
	}
}
