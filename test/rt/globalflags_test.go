//go:build integration && linux

package rt

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthrun/berth/test/internal/harness"
)

type logLine struct {
	Level string `json:"level"`
	Msg   string `json:"msg"`
	Time  string `json:"time"`
}

func parseLogLines(t *testing.T, data string) []logLine {
	t.Helper()
	var out []logLine
	for _, l := range strings.Split(strings.TrimSpace(data), "\n") {
		if l == "" {
			continue
		}
		var ll logLine
		if err := json.Unmarshal([]byte(l), &ll); err != nil {
			t.Fatalf("log line is not JSON: %v: %q", err, l)
		}
		if ll.Level == "" || ll.Time == "" {
			t.Errorf("log line lacks level or time: %q", l)
		}
		out = append(out, ll)
	}
	return out
}

// TestLogJSONError: with --log FILE --log-format json an error is written to
// the file as a JSON line of level "error" (what shims read to explain a
// failure), and the plain message still goes to stderr.
func TestLogJSONError(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	logFile := filepath.Join(t.TempDir(), "log.json")
	id := harness.ID(t)
	res := r.RunWith(harness.Opts{Global: []string{"--log", logFile, "--log-format", "json"}}, "state", id)
	harness.OneLineError(t, res)
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	lines := parseLogLines(t, string(data))
	if len(lines) == 0 {
		t.Fatal("log file is empty")
	}
	last := lines[len(lines)-1]
	if last.Level != "error" || last.Msg == "" {
		t.Errorf("last log line %+v, want an error with a message", last)
	}
	if strings.TrimSpace(res.Stderr) != last.Msg && !strings.Contains(res.Stderr, last.Msg) {
		t.Errorf("stderr %q does not carry the logged error %q", res.Stderr, last.Msg)
	}
}

// TestLogFormatJSONStderr: without --log, --log-format json turns the error
// on stderr into one JSON object.
func TestLogFormatJSONStderr(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	res := r.RunWith(harness.Opts{Global: []string{"--log-format", "json"}}, "state", harness.ID(t))
	harness.OneLineError(t, res)
	if lines := parseLogLines(t, res.Stderr); len(lines) != 1 || lines[0].Level != "error" || lines[0].Msg == "" {
		t.Errorf("stderr %q, want one JSON error line", res.Stderr)
	}
}

// TestDebugLog: --debug writes debug lines to the --log file, all of them
// JSON under --log-format json, including those of the container's init.
func TestDebugLog(t *testing.T) {
	t.Parallel()
	r := harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithArgs("sleep", "1000"))
	logFile := filepath.Join(t.TempDir(), "log.json")
	res := r.RunWith(harness.Opts{Global: []string{"--debug", "--log", logFile, "--log-format", "json"}}, "run", "--detach", "--bundle", b.Dir, harness.ID(t))
	if res.ExitCode != 0 {
		t.Fatalf("run: %s", res)
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	debug := 0
	for _, l := range parseLogLines(t, string(data)) {
		if l.Level == "debug" {
			debug++
		}
	}
	if debug == 0 {
		t.Errorf("no debug lines in the log:\n%s", data)
	}
}

// TestRootIsolation: containers live under their --root only; another root
// neither lists nor finds them.
func TestRootIsolation(t *testing.T) {
	t.Parallel()
	r1, r2 := harness.NewRuntime(t), harness.NewRuntime(t)
	b := harness.NewBundle(t, harness.WithArgs("sleep", "1000"))
	id := harness.ID(t)
	r1.Create(id, b)
	if _, err := os.Stat(filepath.Join(r1.Root, id)); err != nil {
		t.Errorf("no state under --root %s: %v", r1.Root, err)
	}
	if res := r2.MustRun("list", "-q"); strings.TrimSpace(res.Stdout) != "" {
		t.Errorf("other root lists %q", res.Stdout)
	}
	harness.OneLineError(t, r2.Run("state", id))
	if res := r1.MustRun("list", "-q"); strings.TrimSpace(res.Stdout) != id {
		t.Errorf("own root lists %q, want %s", res.Stdout, id)
	}
}
