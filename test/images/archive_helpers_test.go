//go:build integration && linux

package images

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// file is one entry of a tar the tests build.
type file struct {
	name     string
	typ      byte // tar.TypeReg when 0
	body     string
	linkname string
	mode     int64
}

func tarOf(t testing.TB, files ...file) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Typeflag: f.typ, Linkname: f.linkname, Mode: f.mode, ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
			if hdr.Typeflag == tar.TypeDir {
				hdr.Mode = 0o755
			}
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(f.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readTar returns the regular files of the tar at path, in order.
func readTar(t testing.TB, path string) []file {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []file
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, file{name: strings.TrimPrefix(hdr.Name, "./"), body: string(data)})
	}
}

// busyboxLayer returns the uncompressed layer of the busybox test image
// and its config.
func busyboxLayer(t testing.TB) (layer []byte, config map[string]any) {
	t.Helper()
	for _, f := range readTar(t, busyboxTar) {
		switch {
		case strings.HasSuffix(f.name, "/layer.tar"):
			layer = []byte(f.body)
		case strings.HasSuffix(f.name, ".json") && f.name != "manifest.json":
			if err := json.Unmarshal([]byte(f.body), &config); err != nil {
				t.Fatal(err)
			}
		}
	}
	if layer == nil || config == nil {
		t.Fatalf("%s: no layer or config", busyboxTar)
	}
	return layer, config
}

// dockerArchive writes a `docker save` archive (<diffid>/layer.tar,
// <config digest>.json, manifest.json) of one image with these plain tar
// layers on top of base's config (architecture, Env, Cmd...), and returns
// its path and image ID. edit may change the archive's files before it is
// written.
func dockerArchive(t testing.TB, path string, repoTags []string, base map[string]any, layers [][]byte, edit func(files []file) []file) (string, string) {
	t.Helper()
	cfg := map[string]any{}
	for k, v := range base {
		cfg[k] = v
	}
	var diffIDs []string
	var history []map[string]string
	var files []file
	var names []string
	for i, l := range layers {
		d := sha(l)
		diffIDs = append(diffIDs, "sha256:"+d)
		history = append(history, map[string]string{"created": "2024-01-01T00:00:00Z", "created_by": "test layer " + string(rune('0'+i))})
		files = append(files, file{name: d + "/layer.tar", body: string(l)})
		names = append(names, d+"/layer.tar")
	}
	cfg["rootfs"] = map[string]any{"type": "layers", "diff_ids": diffIDs}
	cfg["history"] = history
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	id := sha(raw)
	files = append(files, file{name: id + ".json", body: string(raw)})
	manifest, err := json.Marshal([]map[string]any{{"Config": id + ".json", "RepoTags": repoTags, "Layers": names}})
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, file{name: "manifest.json", body: string(manifest)})
	if edit != nil {
		files = edit(files)
	}
	return writeFile(t, path, tarOf(t, files...)), "sha256:" + id
}
