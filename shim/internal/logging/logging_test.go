package logging

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAppendEntryIsJSON(t *testing.T) {
	ts := time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC)
	for _, in := range []string{"hello\n", "partial", "quote \" back \\ tab \t cr \r", "ctl \x00\x1b<>&", "utf8 é ✓ \u2028", "bad \xff\xfe"} {
		line := AppendEntry(nil, "stderr", []byte(in), ts)
		var e struct{ Log, Stream, Time string }
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("%q: %v: %s", in, err, line)
		}
		// encoding/json is the oracle (one U+FFFD per invalid byte).
		b, _ := json.Marshal(in)
		var want string
		json.Unmarshal(b, &want)
		if e.Log != want || e.Stream != "stderr" || e.Time != "2024-05-01T10:00:00.123456789Z" {
			t.Errorf("%q: got %+v", in, e)
		}
	}
}

func TestLines(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   []string
	}{
		{"whole", []string{"a\nb\n"}, []string{"a\n", "b\n"}},
		{"split", []string{"ab", "c\nd", "\n"}, []string{"abc\n", "d\n"}},
		{"partial at end", []string{"x\ny"}, []string{"x\n", "y"}},
		{"long", []string{strings.Repeat("z", MaxLine+5) + "\n"}, []string{strings.Repeat("z", MaxLine), "zzzzz\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			l := NewLines(func(p []byte) { got = append(got, string(p)) })
			for _, w := range tc.writes {
				l.Write([]byte(w))
			}
			l.Flush()
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.log")
	w, err := Open(path, 300, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		if err := w.Write("stdout", []byte("some line of output\n"), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	for _, p := range []string{path, path + ".1", path + ".2"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 300 || fi.Size() == 0 {
			t.Errorf("%s: %d bytes", p, fi.Size())
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Error("kept more than 3 files")
	}
}

func TestTruncateWithOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := Open(path, 200, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		w.Write("stdout", []byte("line\n"), time.Now())
	}
	w.Close()
	fi, _ := os.Stat(path)
	if fi.Size() > 200 {
		t.Errorf("size %d", fi.Size())
	}
	if _, err := os.Stat(path + ".1"); err == nil {
		t.Error("rotated with max-files 1")
	}
}
