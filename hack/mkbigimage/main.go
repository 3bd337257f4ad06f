// Command mkbigimage writes a multi-layer docker-archive for the pull and
// load benchmarks: the busybox layer of a hack/mkimage.sh archive, then N
// layers of incompressible pseudo-random data (reproducible for a seed),
// every layer gzip'd, as a registry would hold them.
//
//	go run ./hack/mkbigimage -base busybox.tar -o big.tar -tag bench/big:1 -layers 4 -mb 10
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"
)

func main() {
	base := flag.String("base", "", "busybox docker-archive from hack/mkimage.sh (required)")
	out := flag.String("o", "", "output archive (required)")
	tag := flag.String("tag", "bench/big:latest", "RepoTag of the image")
	layers := flag.Int("layers", 4, "random-data layers on top of busybox")
	mb := flag.Int("mb", 10, "MiB of random data per layer")
	seed := flag.Uint64("seed", 1, "seed of the random data")
	flag.Parse()
	if *base == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*base, *out, *tag, *layers, *mb, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "mkbigimage:", err)
		os.Exit(1)
	}
}

func run(base, out, tag string, n, mb int, seed uint64) error {
	bbLayer, cfg, err := readBase(base)
	if err != nil {
		return err
	}
	created := time.Unix(1700000000, 0).UTC()
	plain := [][]byte{bbLayer}
	rng := rand.New(rand.NewChaCha8(seedBytes(seed)))
	for i := 0; i < n; i++ {
		data := make([]byte, mb<<20)
		for j := 0; j+8 <= len(data); j += 8 {
			v := rng.Uint64()
			for k := 0; k < 8; k++ {
				data[j+k] = byte(v >> (8 * k))
			}
		}
		l, err := tarOf(fmt.Sprintf("data/layer%d.bin", i+1), data, created)
		if err != nil {
			return err
		}
		plain = append(plain, l)
	}
	var files []entry
	var diffIDs, names []string
	var history []map[string]string
	for i, l := range plain {
		gz, err := gzipped(l)
		if err != nil {
			return err
		}
		diffIDs = append(diffIDs, "sha256:"+hexSHA(l))
		name := hexSHA(gz) + "/layer.tar"
		names = append(names, name)
		files = append(files, entry{name, gz})
		by := "busybox"
		if i > 0 {
			by = fmt.Sprintf("hack/mkbigimage: %d MiB of random data", mb)
		}
		history = append(history, map[string]string{"created": created.Format(time.RFC3339), "created_by": by})
	}
	cfg["rootfs"] = map[string]any{"type": "layers", "diff_ids": diffIDs}
	cfg["history"] = history
	rawCfg, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	cfgName := hexSHA(rawCfg) + ".json"
	files = append(files, entry{cfgName, rawCfg})
	manifest, err := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{tag}, "Layers": names}})
	if err != nil {
		return err
	}
	files = append(files, entry{"manifest.json", manifest})

	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	for _, e := range files {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), ModTime: created, Typeflag: tar.TypeReg}); err != nil {
			f.Close()
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			f.Close()
			return err
		}
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type entry struct {
	name string
	data []byte
}

// readBase returns the layer and config of a one-layer docker-archive.
func readBase(path string) ([]byte, map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var layer []byte
	var cfg map[string]any
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		switch {
		case strings.HasSuffix(name, "/layer.tar"):
			if layer, err = io.ReadAll(tr); err != nil {
				return nil, nil, err
			}
		case strings.HasSuffix(name, ".json") && name != "manifest.json":
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, nil, err
			}
			if err := json.Unmarshal(data, &cfg); err != nil {
				return nil, nil, fmt.Errorf("%s: %s: %w", path, name, err)
			}
		}
	}
	if layer == nil || cfg == nil {
		return nil, nil, fmt.Errorf("%s: no layer.tar or config: not a hack/mkimage.sh archive", path)
	}
	return layer, cfg, nil
}

func tarOf(name string, data []byte, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := name[:strings.LastIndex(name, "/")+1]
	if err := tw.WriteHeader(&tar.Header{Name: dir, Mode: 0o755, ModTime: mtime, Typeflag: tar.TypeDir}); err != nil {
		return nil, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: mtime, Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func gzipped(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func hexSHA(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func seedBytes(seed uint64) [32]byte {
	var s [32]byte
	for i := 0; i < 8; i++ {
		s[i] = byte(seed >> (8 * i))
	}
	return s
}
