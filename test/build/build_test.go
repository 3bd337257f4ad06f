//go:build integration && linux

package build

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Stage one makes an artefact with busybox tools, a FROM scratch stage
// takes only it, and a last busybox stage copies it out of the scratch
// stage by index and runs it.
func TestMultiStage(t *testing.T) {
	m := newMgr(t)
	ctx := buildContext(t, map[string]string{"Dockerfile": `
FROM busybox AS tools
RUN mkdir /out && printf '#!/bin/sh\necho artefact ran\n' > /out/x && chmod +x /out/x
FROM scratch AS bare
COPY --from=tools /out/x /x
FROM busybox
COPY --from=1 /x /usr/local/bin/x
CMD ["x"]
`})
	r := m.ok("build", "-t", "multi:1", ctx)
	for _, want := range []string{"Step 1/7 : FROM busybox AS tools", "Step 7/7 : CMD", "Successfully built ", "Successfully tagged multi:1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q\n%s", want, r)
		}
	}
	if out := m.ok("run", "--rm", "--network", "none", "multi:1").stdout; out != "artefact ran\n" {
		t.Errorf("run: %q", out)
	}
	// The scratch stage on its own: exactly one file.
	m.ok("build", "-t", "bare:1", "--target", "bare", ctx)
	names := savedFiles(t, m, "bare:1")
	if len(names) != 1 || names[0] != "x" {
		t.Errorf("scratch stage layer: %v, want [x]", names)
	}
}

// savedFiles lists the files in the layers of img, from mgr save.
func savedFiles(t *testing.T, m *mgr, img string) []string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "img.tar")
	m.ok("save", "-o", out, img)
	dir := t.TempDir()
	untar(t, out, dir)
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range manifest[0].Layers {
		f, err := os.Open(filepath.Join(dir, l))
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(f)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Typeflag != tar.TypeDir {
				names = append(names, h.Name)
			}
		}
		f.Close()
	}
	return names
}

func untar(t *testing.T, file, dir string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Clean("/"+h.Name))
		if h.Typeflag == tar.TypeDir {
			_ = os.MkdirAll(p, 0o755)
			continue
		}
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		out, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(out, tr)
		out.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestArgEnvSubstitution(t *testing.T) {
	m := newMgr(t)
	ctx := buildContext(t, map[string]string{"Dockerfile": `
ARG BASE=busybox
FROM ${BASE}
ARG WHO=nobody
ARG UNSET
ENV GREETING="hello ${WHO}" DIR=/data
WORKDIR $DIR/sub
RUN echo "$GREETING from $WHO" > msg && echo "unset=[$UNSET]" >> msg
LABEL who=$WHO
`})
	m.ok("build", "-t", "args:1", "--build-arg", "WHO=mgr", "--build-arg", "BASE=busybox", ctx)
	if out := m.ok("run", "--rm", "--network", "none", "args:1", "cat", "msg").stdout; out != "hello mgr from mgr\nunset=[]\n" {
		t.Errorf("msg: %q", out)
	}
	var info []struct {
		Config struct {
			Env        []string
			WorkingDir string
			Labels     map[string]string
		}
	}
	if err := json.Unmarshal([]byte(m.ok("image", "inspect", "args:1").stdout), &info); err != nil {
		t.Fatal(err)
	}
	c := info[0].Config
	if c.WorkingDir != "/data/sub" || c.Labels["who"] != "mgr" || !strings.Contains(strings.Join(c.Env, ","), "GREETING=hello mgr") {
		t.Errorf("config: %+v", c)
	}
	// Build args are the RUN's, not the image's.
	if strings.Contains(strings.Join(c.Env, ","), "WHO=") {
		t.Errorf("build arg leaked into the image's env: %v", c.Env)
	}
	// An unknown build arg is a warning, not an error.
	r := m.ok("build", "--build-arg", "NOPE=1", ctx)
	if !strings.Contains(r.stderr, "NOPE") {
		t.Errorf("no warning about an unused build arg\n%s", r)
	}
}

func TestDockerignore(t *testing.T) {
	m := newMgr(t)
	ctx := buildContext(t, map[string]string{
		"Dockerfile":    "FROM busybox\nCOPY . /ctx/\nCOPY *.txt /txt/\n",
		".dockerignore": "secret*\nlogs/\n!logs/keep.log\n",
		"a.txt":         "a",
		"secret.txt":    "s",
		"sub/b.txt":     "b",
		"sub/secret.md": "nested secrets are only ignored by **",
		"logs/x.log":    "x",
		"logs/keep.log": "k",
	})
	m.ok("build", "-t", "ign:1", ctx)
	out := m.ok("run", "--rm", "--network", "none", "ign:1", "sh", "-c", "cd /ctx && find . -type f | sort; ls /txt").stdout
	want := "./.dockerignore\n./Dockerfile\n./a.txt\n./logs/keep.log\n./sub/b.txt\n./sub/secret.md\na.txt\n"
	if out != want {
		t.Errorf("copied:\n%s\nwant:\n%s", out, want)
	}
	// Copying an ignored file by name is "not found".
	ctx2 := buildContext(t, map[string]string{"Dockerfile": "FROM busybox\nCOPY secret.txt /\n", ".dockerignore": "secret.txt\n", "secret.txt": "s"})
	r := m.run("build", ctx2)
	if r.code != 1 || !strings.Contains(r.stderr, "excluded by .dockerignore") {
		t.Errorf("want exit 1 and not found\n%s", r)
	}
}

func TestUserWorkdir(t *testing.T) {
	m := newMgr(t)
	ctx := buildContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY --chown=1234:5678 f.txt /home/app/\nWORKDIR /home\nWORKDIR app\nUSER 1234\nRUN id -u > whoami; pwd > wd\nCMD [\"sh\", \"-c\", \"id -u; pwd; cat whoami wd; stat -c %u:%g f.txt whoami\"]\n",
		"f.txt":      "f",
	})
	m.ok("build", "-t", "uw:1", ctx)
	out := m.ok("run", "--rm", "--network", "none", "uw:1").stdout
	want := "1234\n/home/app\n1234\n/home/app\n1234:5678\n1234:0\n"
	if out != want {
		t.Errorf("run:\n%s\nwant:\n%s", out, want)
	}
}

func TestCache(t *testing.T) {
	m := newMgr(t)
	df := "FROM busybox\nENV A=1\nRUN echo one > /one\nCOPY f.txt /\nRUN echo two > /two\nCMD [\"cat\", \"/one\"]\n"
	ctx := buildContext(t, map[string]string{"Dockerfile": df, "f.txt": "v1"})
	first := m.ok("build", "-t", "c:1", ctx)
	if strings.Contains(first.stdout, "Using cache") {
		t.Fatalf("first build used a cache\n%s", first)
	}
	second := m.ok("build", "-t", "c:2", ctx)
	if n := strings.Count(second.stdout, "---> Using cache"); n != 5 {
		t.Errorf("second build: %d steps from cache, want 5\n%s", n, second)
	}
	if lastID(first.stdout) != lastID(second.stdout) {
		t.Errorf("cached build made another image: %s vs %s", lastID(first.stdout), lastID(second.stdout))
	}
	// A changed COPY source misses from that step on.
	if err := os.WriteFile(filepath.Join(ctx, "f.txt"), []byte("v2"), 0o644); err != nil {
		t.Fatal(err)
	}
	third := m.ok("build", "-t", "c:3", ctx)
	if n := strings.Count(third.stdout, "---> Using cache"); n != 2 {
		t.Errorf("after changing f.txt: %d steps from cache, want 2 (ENV, first RUN)\n%s", n, third)
	}
	// A changed line misses from that line on.
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(strings.Replace(df, "two", "TWO", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	fourth := m.ok("build", "-t", "c:4", ctx)
	if n := strings.Count(fourth.stdout, "---> Using cache"); n != 3 {
		t.Errorf("after changing the second RUN: %d steps from cache, want 3\n%s", n, fourth)
	}
	if i := strings.Index(fourth.stdout, "Step 5/6"); i < 0 || strings.Contains(fourth.stdout[i:], "Using cache") {
		t.Errorf("cache used at or after the changed line\n%s", fourth)
	}
	// --no-cache builds everything.
	if r := m.ok("build", "--no-cache", ctx); strings.Contains(r.stdout, "Using cache") {
		t.Errorf("--no-cache used the cache\n%s", r)
	}
	// The same files in another directory are the same context: COPY .
	// hits the cache whatever the context directory is called.
	dot := "FROM busybox\nCOPY . /ctx/\n"
	a := buildContext(t, map[string]string{"Dockerfile": dot, "f.txt": "same"})
	b := buildContext(t, map[string]string{"Dockerfile": dot, "f.txt": "same"})
	m.ok("build", a)
	if r := m.ok("build", b); !strings.Contains(r.stdout, "---> Using cache") {
		t.Errorf("COPY . from an identical context elsewhere missed the cache\n%s", r)
	}
}

func lastID(out string) string {
	i := strings.LastIndex(out, "Successfully built ")
	if i < 0 {
		return ""
	}
	return strings.Fields(out[i:])[2]
}

func TestFailingRun(t *testing.T) {
	m := newMgr(t)
	ctx := buildContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN echo before > /b\nRUN echo doomed; exit 7\nCMD [\"true\"]\n"})
	r := m.run("build", "-t", "fail:1", ctx)
	if r.code != 1 {
		t.Errorf("exit %d, want 1\n%s", r.code, r)
	}
	if !strings.Contains(r.stdout, "doomed") || !strings.Contains(r.stderr, "returned a non-zero code: 7") {
		t.Errorf("want the RUN's output and its exit code\n%s", r)
	}
	if out := m.ok("images", "-q", "fail").stdout; out != "" {
		t.Errorf("failed build tagged an image: %q", out)
	}
	if out := m.ok("ps", "-aq").stdout; out != "" {
		t.Errorf("build containers left: %q", out)
	}
	entries, _ := os.ReadDir(filepath.Join(m.root, "containers"))
	if len(entries) != 0 {
		t.Errorf("container dirs left: %v", entries)
	}
	// Quiet: the output of the failing step still shows.
	r = m.run("build", "-q", ctx)
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "doomed") {
		t.Errorf("-q failure\n%s", r)
	}
}

func TestTargetAndHistory(t *testing.T) {
	m := newMgr(t)
	ctx := buildContext(t, map[string]string{"Dockerfile": "FROM busybox AS base\nRUN echo base > /base\nEXPOSE 8080\nFROM base AS test\nRUN echo test > /test\nFROM base\nRUN echo final > /final\n"})
	r := m.ok("build", "-t", "tg:1", "--target", "test", ctx)
	if strings.Contains(r.stdout, "final") {
		t.Errorf("--target test built the stage after it\n%s", r)
	}
	if out := m.ok("run", "--rm", "--network", "none", "tg:1", "cat", "/base", "/test").stdout; out != "base\ntest\n" {
		t.Errorf("target image: %q", out)
	}
	r = m.run("build", "--target", "nope", ctx)
	if r.code != 1 {
		t.Errorf("unknown target: exit %d\n%s", r.code, r)
	}
	var info []struct {
		Config struct{ ExposedPorts map[string]any }
	}
	if err := json.Unmarshal([]byte(m.ok("image", "inspect", "tg:1").stdout), &info); err != nil {
		t.Fatal(err)
	}
	if _, ok := info[0].Config.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("ExposedPorts: %v", info[0].Config.ExposedPorts)
	}
	h := m.ok("history", "--no-trunc", "tg:1").stdout
	for _, want := range []string{"/bin/sh -c echo test > /test", "/bin/sh -c #(nop) EXPOSE 8080/tcp"} {
		if !strings.Contains(h, want) {
			t.Errorf("history lacks %q:\n%s", want, h)
		}
	}
}

func TestAddURL(t *testing.T) {
	m := newMgr(t)
	ctx := buildContext(t, map[string]string{"Dockerfile": "FROM busybox\nADD http://127.0.0.1:1/x /x\n"})
	r := m.run("build", ctx)
	if r.code != 1 || !strings.Contains(r.stderr, "need the network") {
		t.Errorf("ADD URL\n%s", r)
	}
}

// TestAddArchive proves ADD unpacks a local compressed tar into the
// destination (owners and modes from the archive) while COPY copies the
// same file as it is.
func TestAddArchive(t *testing.T) {
	m := newMgr(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []struct {
		name, body string
		mode       int64
		dir        bool
	}{
		{name: "app/", dir: true, mode: 0o755},
		{name: "app/run.sh", body: "#!/bin/sh\necho from-archive\n", mode: 0o750},
		{name: "app/conf/a.txt", body: "a\n", mode: 0o644},
	} {
		h := &tar.Header{Name: f.name, Mode: f.mode, Uid: 42, Gid: 43, Typeflag: tar.TypeReg, Size: int64(len(f.body))}
		if f.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := buildContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nADD bundle.tgz /opt/\nCOPY bundle.tgz /copied/\nCMD [\"sh\", \"-c\", \"/opt/app/run.sh; cat /opt/app/conf/a.txt; stat -c '%a %u:%g' /opt/app/run.sh; ls /copied\"]\n",
		"bundle.tgz": buf.String(),
	})
	m.ok("build", "-t", "add:1", ctx)
	out := m.ok("run", "--rm", "--network", "none", "add:1").stdout
	if want := "from-archive\na\n750 42:43\nbundle.tgz\n"; out != want {
		t.Errorf("run:\n%s\nwant:\n%s", out, want)
	}
}

// TestCopyChmod: COPY --chmod sets the mode of every file and directory it
// copies (not of symlinks); a mode that is not octal is a clear error.
func TestCopyChmod(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	ctx := buildContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY --chmod=750 run.sh /bin/run.sh\nCOPY --chmod=640 conf /etc/app/\nCMD [\"sh\", \"-c\", \"stat -c '%a %n' /bin/run.sh /etc/app/a /etc/app/sub /etc/app/sub/b\"]\n",
		"run.sh":     "#!/bin/sh\n", "conf/a": "a\n", "conf/sub/b": "b\n",
	})
	m.ok("build", "-t", "chmod:1", ctx)
	out := m.ok("run", "--rm", "--network", "none", "chmod:1").stdout
	if want := "750 /bin/run.sh\n640 /etc/app/a\n640 /etc/app/sub\n640 /etc/app/sub/b\n"; out != want {
		t.Errorf("modes:\n%s\nwant:\n%s", out, want)
	}
	bad := buildContext(t, map[string]string{"Dockerfile": "FROM busybox\nCOPY --chmod=u+x run.sh /\n", "run.sh": "x"})
	if r := m.run("build", bad); r.code != 1 || !strings.Contains(r.stderr, "--chmod=u+x") {
		t.Errorf("symbolic --chmod\n%s", r)
	}
}

// TestContextSymlinkEscape: a link in the build context that points out of
// it (to /) is resolved inside the context: COPY through it finds nothing
// rather than the host's files.
func TestContextSymlinkEscape(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	ctx := buildContext(t, map[string]string{"Dockerfile": "FROM busybox\nCOPY hostroot/etc/os-release /leak\n"})
	if err := os.Symlink("/", filepath.Join(ctx, "hostroot")); err != nil {
		t.Fatal(err)
	}
	r := m.run("build", "-t", "escape:1", ctx)
	if r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("COPY through a link to /: want not found\n%s", r)
	}
	if r := m.run("image", "inspect", "escape:1"); r.code == 0 {
		t.Errorf("an image was tagged from the escaping COPY")
	}
}
