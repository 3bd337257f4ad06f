//go:build integration && linux

package harness

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Registry is Debian's docker-registry (CNCF distribution) serving on
// 127.0.0.1 from a throwaway storage dir, logging every request.
type Registry struct {
	t    testing.TB
	Host string // 127.0.0.1:port
	log  string // its log file: logrus lines plus the access log
	seq  int
}

// StartRegistry starts a registry on a free port; with user set it demands
// basic auth from an htpasswd file (bcrypt). It is stopped in t.Cleanup.
func StartRegistry(t testing.TB, user, password string) *Registry {
	t.Helper()
	dir := t.TempDir()
	authCfg := ""
	if user != "" {
		out, err := exec.Command("htpasswd", "-Bbn", user, password).Output()
		if err != nil {
			t.Fatalf("htpasswd: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "htpasswd"), out, 0o600); err != nil {
			t.Fatal(err)
		}
		authCfg = fmt.Sprintf("auth:\n  htpasswd:\n    realm: berth-test\n    path: %s\n", filepath.Join(dir, "htpasswd"))
	}
	// A port found free can be taken before the registry binds it: retry.
	for attempt := 0; attempt < 5; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		host := l.Addr().String()
		l.Close()
		cfg := filepath.Join(dir, "config.yml")
		err = os.WriteFile(cfg, []byte(fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
%s`, filepath.Join(dir, "data"), host, authCfg)), 0o600)
		if err != nil {
			t.Fatal(err)
		}
		r := &Registry{t: t, Host: host, log: filepath.Join(dir, fmt.Sprintf("registry-%d.log", attempt))}
		logf, err := os.Create(r.log)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("docker-registry", "serve", cfg)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			logf.Close()
			t.Fatalf("docker-registry: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); logf.Close(); close(exited) }()
		stop := func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if r.waitUp(exited) {
			t.Cleanup(stop)
			return r
		}
		stop()
		data, _ := os.ReadFile(r.log)
		if !strings.Contains(string(data), "address already in use") {
			t.Fatalf("docker-registry on %s did not come up:\n%s", host, data)
		}
	}
	t.Fatal("docker-registry: no free port after 5 attempts")
	return nil
}

// waitUp polls /v2/ until the registry answers (200, or 401 with auth).
func (r *Registry) waitUp(exited <-chan struct{}) bool {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		resp, err := http.Get("http://" + r.Host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

var blobGET = regexp.MustCompile(`"GET /v2/\S+/blobs/(sha256:[0-9a-f]{64}) HTTP`)

// BlobGETs returns the digests of every blob the registry has served with
// GET so far, from its access log. A request made after the client is
// done, and waited for in the log, makes sure every earlier line is written.
func (r *Registry) BlobGETs() []string {
	r.t.Helper()
	r.seq++
	marker := fmt.Sprintf("/v2/log-marker-%d/tags/list", r.seq)
	resp, err := http.Get("http://" + r.Host + marker)
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(r.log)
		if err != nil {
			r.t.Fatal(err)
		}
		if strings.Contains(string(data), `"GET `+marker+` HTTP`) {
			var out []string
			for _, m := range blobGET.FindAllStringSubmatch(string(data), -1) {
				out = append(out, m[1])
			}
			return out
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("registry access log never showed %s:\n%s", marker, data)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ManifestDigest fetches ref's manifest from the registry itself and
// returns the digest of what it serves: the oracle for mgr's digests.
func (r *Registry) ManifestDigest(repo, tag string) string {
	r.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+r.Host+"/v2/"+repo+"/manifests/"+tag, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		r.t.Fatalf("GET manifest %s:%s: %v %s %s", repo, tag, err, resp.Status, body)
	}
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}
