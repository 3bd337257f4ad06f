// Package signalname parses signal names and numbers as runc, docker and
// kill(1) accept them: rt kill, mgr kill and --stop-signal share it.
package signalname

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Parse accepts a number ("9"), a name ("KILL", "SIGKILL", "kill") or a
// real-time signal ("RTMIN+3"), as runc and kill(1) do. 0 is allowed: it
// only checks that the process exists.
func Parse(raw string) (unix.Signal, error) {
	if n, err := strconv.Atoi(raw); err == nil {
		if n < 0 || n > int(rtMax) {
			return 0, fmt.Errorf("invalid signal number %d", n)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(raw)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if s := unix.SignalNum(name); s != 0 {
		return s, nil
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMIN"); ok {
		if s, ok := rtOffset(rtMin, rest, 1); ok {
			return s, nil
		}
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMAX"); ok {
		if s, ok := rtOffset(rtMax, rest, -1); ok {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown signal %q", raw)
}

// rtOffset resolves "", "+N" (dir 1) or "-N" (dir -1) relative to base.
func rtOffset(base unix.Signal, rest string, dir int) (unix.Signal, bool) {
	if rest == "" {
		return base, true
	}
	sign := "+"
	if dir < 0 {
		sign = "-"
	}
	num, ok := strings.CutPrefix(rest, sign)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0, false
	}
	s := int(base) + dir*n
	if s < int(rtMin) || s > int(rtMax) {
		return 0, false
	}
	return unix.Signal(s), true
}

// The real-time range as glibc exposes it to programs (the kernel's 32 and 33
// are taken by the threading library), so "RTMIN" means what kill(1) means.
const (
	rtMin unix.Signal = 34
	rtMax unix.Signal = 64
)
