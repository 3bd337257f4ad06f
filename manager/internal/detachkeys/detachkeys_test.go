package detachkeys

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
		err  bool
	}{
		{Default, []byte{0x10, 0x11}, false},
		{"ctrl-a,x", []byte{0x01, 'x'}, false},
		{"ctrl-@, ctrl-[", []byte{0x00, 0x1b}, false},
		{"ctrl-1", nil, true},
		{"shift-a", nil, true},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if (err != nil) != tc.err || !bytes.Equal(got, tc.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestReader(t *testing.T) {
	keys := []byte{0x10, 0x11}
	tests := []struct {
		name, in, want string
		detached       bool
	}{
		{"plain input passes", "echo hi\r", "echo hi\r", false},
		{"the sequence detaches and ends input", "ls\x10\x11after", "ls", true},
		{"a partial sequence is passed on", "a\x10b", "a\x10b", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			detached := false
			out, err := io.ReadAll(NewReader(strings.NewReader(tc.in), keys, func() { detached = true }))
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want || detached != tc.detached {
				t.Errorf("read %q detached %v, want %q %v", out, detached, tc.want, tc.detached)
			}
		})
	}
}
