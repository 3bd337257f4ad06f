//go:build integration && linux

package daemon

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a leaf certificate; server ones carry the SAN 127.0.0.1.
// It returns the certificate and key as PEM.
func (ca *testCA) issue(t *testing.T, name string, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// freeTCPPort is a port on 127.0.0.1 nobody listens on right now.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestDaemonTLS: the daemon serves the API on TCP with mutual TLS; the
// docker CLI with a client certificate from the daemon's CA is served,
// clients without a certificate or with another CA's are refused.
func TestDaemonTLS(t *testing.T) {
	certs, err := os.MkdirTemp("/tmp", "mgrd-tls")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(certs) })
	ca, other := newTestCA(t, "berth test CA"), newTestCA(t, "someone else's CA")
	srvCert, srvKey := ca.issue(t, "mgr daemon", true)
	cliCert, cliKey := ca.issue(t, "client", false)
	badCert, badKey := other.issue(t, "intruder", false)
	writeFiles(t, filepath.Join(certs, "server"), map[string][]byte{"ca.pem": ca.pem, "cert.pem": srvCert, "key.pem": srvKey})
	writeFiles(t, filepath.Join(certs, "client"), map[string][]byte{"ca.pem": ca.pem, "cert.pem": cliCert, "key.pem": cliKey})
	writeFiles(t, filepath.Join(certs, "other"), map[string][]byte{"ca.pem": ca.pem, "cert.pem": badCert, "key.pem": badKey})

	port := freeTCPPort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	sdir := filepath.Join(certs, "server")
	d := startDaemon(t, "--host", "tcp://"+addr, "--tlsverify",
		"--tlscacert", filepath.Join(sdir, "ca.pem"), "--tlscert", filepath.Join(sdir, "cert.pem"), "--tlskey", filepath.Join(sdir, "key.pem"))

	dockerTLS := func(certDir string, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, dockerBinary, args...)
		cmd.Env = append(os.Environ(), "DOCKER_HOST=tcp://"+addr, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH="+certDir,
			"DOCKER_CONFIG="+filepath.Join(d.dir, "docker"))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	out, err := dockerTLS(filepath.Join(certs, "client"), "version")
	if err != nil || !strings.Contains(out, "Server: berth") {
		t.Fatalf("docker version over TLS: %v\n%s", err, out)
	}
	// A hijacked stream (run attaches) works over TLS too.
	out, err = dockerTLS(filepath.Join(certs, "client"), "run", "--rm", "--network", "none", "busybox", "echo", "over tls")
	if err != nil || strings.TrimSpace(out) != "over tls" {
		t.Errorf("docker run over TLS: %v\n%s", err, out)
	}
	// Another CA's client certificate: the handshake fails.
	if out, err := dockerTLS(filepath.Join(certs, "other"), "version"); err == nil || strings.Contains(out, "Server: berth") {
		t.Errorf("docker version with another CA's client certificate succeeded:\n%s", out)
	}

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)
	get := func(cfg *tls.Config) error {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
		resp, err := c.Get("https://" + addr + "/_ping")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			t.Errorf("GET /_ping: %s", resp.Status)
		}
		return err
	}
	good, err := tls.X509KeyPair(cliCert, cliKey)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := tls.X509KeyPair(badCert, badKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := get(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{good}}); err != nil {
		t.Errorf("Go client with the CA's client certificate: %v", err)
	}
	if err := get(&tls.Config{RootCAs: pool}); err == nil {
		t.Errorf("Go client without a client certificate was served")
	}
	if err := get(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{bad}}); err == nil {
		t.Errorf("Go client with another CA's certificate was served")
	}
	if err := get(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{good}, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Errorf("a TLS 1.1 client was served")
	}
	// Plain HTTP on the TLS port is not served.
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/_ping"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP on the TLS port answered 200")
		}
	}
	// mgr as a client over mutual TLS, with docker's flag names.
	mgrTLS := func(certDir string, args ...string) (string, error) {
		cdir := filepath.Join(certDir)
		return d.mgrClient(append([]string{"--host", "tcp://" + addr, "--tlsverify", "--tlscacert", filepath.Join(cdir, "ca.pem"),
			"--tlscert", filepath.Join(cdir, "cert.pem"), "--tlskey", filepath.Join(cdir, "key.pem")}, args...)...)
	}
	if out, err := mgrTLS(filepath.Join(certs, "client"), "run", "--rm", "--network", "none", "busybox", "echo", "mgr over tls"); err != nil || out != "mgr over tls\n" {
		t.Errorf("mgr --host tcp:// --tlsverify run: %v %q", err, out)
	}
	if out, err := mgrTLS(filepath.Join(certs, "other"), "ps"); err == nil {
		t.Errorf("mgr with another CA's client certificate was served: %q", out)
	}
	// The unix socket serves alongside.
	if out := d.mustDocker("version"); !strings.Contains(out, "Server: berth") {
		t.Errorf("docker version on the unix socket: %s", out)
	}
}

// TestDaemonInsecureTCP: --insecure-tcp serves plain TCP, with a loud warning.
func TestDaemonInsecureTCP(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(freeTCPPort(t))
	d := startDaemon(t, "--host", "tcp://"+addr, "--insecure-tcp")
	cmd := exec.Command(dockerBinary, "version", "--format", "{{.Server.APIVersion}}")
	cmd.Env = append(os.Environ(), "DOCKER_HOST=tcp://"+addr, "DOCKER_CONFIG="+filepath.Join(d.dir, "docker"))
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "1.50" {
		t.Errorf("docker version over plain TCP: %v %q", err, out)
	}
	if !strings.Contains(d.log.String(), "INSECURE") {
		t.Errorf("no warning about plain TCP in the daemon log:\n%s", d.log)
	}
}
