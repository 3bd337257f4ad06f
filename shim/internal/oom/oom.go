//go:build linux

// Package oom counts the kernel OOM killer's kills in a process's memory
// cgroup: memory.events "oom_kill" on cgroup v2, memory.oom_control
// "oom_kill" on cgroup v1 (Linux 4.13+). The shim reads the counter once
// before the container starts and again when its init has exited (before
// the runtime deletes the cgroup); an increase means a process of the
// container was OOM-killed, which docker reports as OOMKilled.
package oom

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Counter reads one cgroup's oom_kill counter.
type Counter struct {
	file string // memory.events or memory.oom_control
}

// ForPid finds the memory cgroup of pid from /proc/PID/cgroup and the
// mounts in /proc/self/mountinfo (a cgroup mount's root may be below the
// hierarchy's root, as in a nested cgroup namespace).
func ForPid(pid int) (*Counter, error) {
	cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, fmt.Errorf("find memory cgroup: %w", err)
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("find memory cgroup: %w", err)
	}
	file, err := find(cg, mi)
	if err != nil {
		return nil, fmt.Errorf("find memory cgroup of pid %d: %w", pid, err)
	}
	return &Counter{file: file}, nil
}

// Path returns the file the counter is read from.
func (c *Counter) Path() string { return c.file }

// Kills returns the number of OOM kills in the cgroup so far.
func (c *Counter) Kills() (uint64, error) {
	b, err := os.ReadFile(c.file)
	if err != nil {
		return 0, fmt.Errorf("read oom counter: %w", err)
	}
	n, ok := Value(b, "oom_kill")
	if !ok {
		return 0, fmt.Errorf("no oom_kill in %s", c.file)
	}
	return n, nil
}

// Value returns key's value in a flat-keyed cgroup file ("key value" lines).
func Value(content []byte, key string) (uint64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(content))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

type mount struct {
	root, point string
	v2          bool
}

// find returns the counter file for the cgroup described by cgroupFile
// (/proc/PID/cgroup) under the mounts of mountinfo.
func find(cgroupFile, mountinfo []byte) (string, error) {
	var v1Path, v2Path string
	var haveV1, haveV2 bool
	for _, line := range strings.Split(string(cgroupFile), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2Path, haveV2 = parts[2], true
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == "memory" {
				v1Path, haveV1 = parts[2], true
			}
		}
	}
	var v1Mount, v2Mount *mount
	for _, line := range strings.Split(string(mountinfo), "\n") {
		fields := strings.Fields(line)
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 >= len(fields) || len(fields) < 5 {
			continue
		}
		m := mount{root: unescape(fields[3]), point: unescape(fields[4])}
		switch fstype := fields[sep+1]; fstype {
		case "cgroup2":
			m.v2 = true
			if v2Mount == nil {
				v2Mount = &m
			}
		case "cgroup":
			for _, o := range strings.Split(fields[sep+3], ",") {
				if o == "memory" && v1Mount == nil {
					v1Mount = &m
				}
			}
		}
	}
	// A v1 memory controller wins: on a hybrid host the v2 tree has none.
	if haveV1 && v1Mount != nil {
		return join(*v1Mount, v1Path, "memory.oom_control")
	}
	if haveV2 && v2Mount != nil {
		return join(*v2Mount, v2Path, "memory.events")
	}
	return "", errors.New("no mounted memory cgroup")
}

func join(m mount, cgPath, file string) (string, error) {
	rel, err := filepath.Rel(m.root, cgPath)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("cgroup %s is outside the mount of %s at %s", cgPath, m.root, m.point)
	}
	return filepath.Join(m.point, rel, file), nil
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
