package signalname

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want unix.Signal
		ok   bool
	}{
		{"9", unix.SIGKILL, true},
		{"KILL", unix.SIGKILL, true},
		{"SIGKILL", unix.SIGKILL, true},
		{"kill", unix.SIGKILL, true},
		{"sigterm", unix.SIGTERM, true},
		{"HUP", unix.SIGHUP, true},
		{"RTMIN", rtMin, true},
		{"RTMIN+2", rtMin + 2, true},
		{"SIGRTMAX-1", rtMax - 1, true},
		{"RTMIN+99", 0, false},
		{"0", 0, true},
		{"65", 0, false},
		{"-3", 0, false},
		{"NOPE", 0, false},
		{"", 0, false},
	}
	for _, tc := range cases {
		got, err := Parse(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
