package api

import (
	"bytes"
	"errors"
	"testing"
)

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	frames := []struct {
		stream byte
		p      []byte
	}{{FrameStdout, []byte("hello")}, {FrameStderr, nil}, {FrameResize, ResizePayload(80, 25)}, {FrameExit, []byte(`{"exit_code":1}`)}}
	for _, f := range frames {
		if err := WriteFrame(&buf, f.stream, f.p); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range frames {
		s, p, err := ReadFrame(&buf)
		if err != nil || s != f.stream || !bytes.Equal(p, f.p) {
			t.Fatalf("got %d %q %v, want %d %q", s, p, err, f.stream, f.p)
		}
	}
	w, h, err := ParseResize(ResizePayload(80, 25))
	if err != nil || w != 80 || h != 25 {
		t.Errorf("resize %d %d %v", w, h, err)
	}
	if _, _, err := ReadFrame(bytes.NewReader([]byte{1, 0xff, 0, 0, 0})); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("oversized frame: %v", err)
	}
}

func TestParseLaunch(t *testing.T) {
	res, err := parseLaunch([]byte("noise\n{\"shim_pid\":3,\"pid\":4}\n"))
	if err != nil || res.ShimPid != 3 || res.Pid != 4 {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := parseLaunch(nil); err == nil {
		t.Error("empty report accepted")
	}
}
