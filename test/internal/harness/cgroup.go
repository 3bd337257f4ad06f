//go:build integration && linux

package harness

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// MountInfo is one line of /proc/<pid>/mountinfo.
type MountInfo struct {
	Root       string // root of the mount within its filesystem
	MountPoint string
	Options    string // per-mount options
	FSType     string
	Source     string
	SuperOpts  string
	Line       string
}

// ReadMountInfo parses /proc/<pid>/mountinfo ("self" for this process).
func ReadMountInfo(pid string) ([]MountInfo, error) {
	f, err := os.Open("/proc/" + pid + "/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []MountInfo
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		a, b := strings.Fields(pre), strings.Fields(post)
		if len(a) < 6 || len(b) < 3 {
			continue
		}
		out = append(out, MountInfo{
			Root: unescapeMount(a[3]), MountPoint: unescapeMount(a[4]), Options: a[5],
			FSType: b[0], Source: b[1], SuperOpts: b[2], Line: line,
		})
	}
	return out, sc.Err()
}

// unescapeMount undoes the octal escapes (\040 etc.) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
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

type cgMount struct {
	point string
	root  string
}

// cgroupMounts returns the host's v1 hierarchies by controller (and
// "name=systemd"-style names) and the cgroup2 mount, if any.
func cgroupMounts() (v1 map[string]cgMount, v2 *cgMount, err error) {
	mis, err := ReadMountInfo("self")
	if err != nil {
		return nil, nil, err
	}
	v1 = map[string]cgMount{}
	for _, m := range mis {
		switch m.FSType {
		case "cgroup":
			for _, o := range strings.Split(m.SuperOpts, ",") {
				switch o {
				case "rw", "ro", "relatime", "noatime", "nosuid", "nodev", "noexec", "clone_children", "xattr":
					continue
				}
				if _, seen := v1[o]; !seen {
					v1[o] = cgMount{point: m.MountPoint, root: m.Root}
				}
			}
		case "cgroup2":
			if v2 == nil {
				v2 = &cgMount{point: m.MountPoint, root: m.Root}
			}
		}
	}
	return v1, v2, nil
}

// Cgroups locates a process's cgroup directories on the host.
type Cgroups struct {
	Pid int
	// V1 maps a v1 controller (memory, pids, freezer, cpu, ...) to the
	// process's directory in that hierarchy.
	V1 map[string]string
	// V2 is the process's directory in the cgroup2 hierarchy ("" if none).
	V2 string
	// Unified is true on a pure cgroup v2 host.
	Unified bool
}

// CgroupsOf reads /proc/<pid>/cgroup and maps it onto the host's cgroup
// mounts (v1, v2 or hybrid).
func CgroupsOf(pid int) (*Cgroups, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	mounts, v2, err := cgroupMounts()
	if err != nil {
		return nil, err
	}
	cg := &Cgroups{Pid: pid, V1: map[string]string{}, Unified: CgroupV2Unified()}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		ctrls, path := parts[1], parts[2]
		if ctrls == "" {
			if v2 != nil {
				cg.V2 = joinCgroup(*v2, path)
			}
			continue
		}
		for _, c := range strings.Split(ctrls, ",") {
			if m, ok := mounts[c]; ok {
				cg.V1[c] = joinCgroup(m, path)
			}
		}
	}
	return cg, nil
}

func joinCgroup(m cgMount, path string) string {
	if m.root != "/" && strings.HasPrefix(path, m.root) {
		path = strings.TrimPrefix(path, m.root)
	}
	return filepath.Join(m.point, path)
}

// MustCgroups is CgroupsOf that fails the test on error.
func MustCgroups(t testing.TB, pid int) *Cgroups {
	t.Helper()
	cg, err := CgroupsOf(pid)
	if err != nil {
		t.Fatalf("cgroups of pid %d: %v", pid, err)
	}
	return cg
}

// Path returns the file for a v1 controller/file or, when that controller
// is not on a v1 hierarchy, the v2 file.
func (c *Cgroups) Path(v1Controller, v1File, v2File string) (string, error) {
	if dir, ok := c.V1[v1Controller]; ok && v1File != "" {
		return filepath.Join(dir, v1File), nil
	}
	if c.V2 != "" && v2File != "" {
		p := filepath.Join(c.V2, v2File)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		return "", fmt.Errorf("controller %s: %s not found in %s (v1 hierarchy absent)", v1Controller, v2File, c.V2)
	}
	return "", fmt.Errorf("controller %s not available on this host (pid %d)", v1Controller, c.Pid)
}

// Read returns the trimmed content of a cgroup file (see Path).
func (c *Cgroups) Read(v1Controller, v1File, v2File string) (string, error) {
	p, err := c.Path(v1Controller, v1File, v2File)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// MustRead is Read that fails the test on error.
func (c *Cgroups) MustRead(t testing.TB, v1Controller, v1File, v2File string) string {
	t.Helper()
	s, err := c.Read(v1Controller, v1File, v2File)
	if err != nil {
		t.Fatalf("read cgroup file: %v", err)
	}
	return s
}

// Dirs returns every cgroup directory of the process that is not a
// hierarchy root (the container's own directories).
func (c *Cgroups) Dirs() []string {
	seen := map[string]bool{}
	var out []string
	add := func(d string) {
		if d == "" || seen[d] {
			return
		}
		seen[d] = true
		out = append(out, d)
	}
	for _, d := range c.V1 {
		add(d)
	}
	add(c.V2)
	sort.Strings(out)
	return out
}

// KeyedValue returns the value of key in a "key value" per line cgroup file
// (memory.oom_control, memory.events, pids.events, memory.stat...).
func KeyedValue(content, key string) (int64, bool) {
	for _, l := range strings.Split(content, "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && f[0] == key {
			v, err := strconv.ParseInt(f[1], 10, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// FindCgroupDirs walks every cgroup hierarchy of the host and returns the
// directories whose base name is name (a container id is unique enough to
// find its cgroups wherever the runtime placed them). Depth is bounded.
func FindCgroupDirs(name string) []string {
	v1, v2, err := cgroupMounts()
	if err != nil {
		return nil
	}
	points := map[string]bool{}
	for _, m := range v1 {
		points[m.point] = true
	}
	if v2 != nil {
		points[v2.point] = true
	}
	var found []string
	for p := range points {
		base := strings.Count(p, "/")
		_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) || path != p {
					return fs.SkipDir
				}
				return err
			}
			if !d.IsDir() {
				return nil
			}
			if path != p && d.Name() == name {
				found = append(found, path)
				return fs.SkipDir
			}
			if strings.Count(path, "/")-base > 8 {
				return fs.SkipDir
			}
			return nil
		})
	}
	// deepest first, so they can be removed in order
	sort.Slice(found, func(i, j int) bool { return len(found[i]) > len(found[j]) })
	return found
}

// SwapAccounting reports whether this host accounts swap per cgroup (v1
// memory.memsw.*, v2 memory.swap.max), judged from this process's cgroup.
func SwapAccounting() bool {
	cg, err := CgroupsOf(os.Getpid())
	if err != nil {
		return false
	}
	if dir, ok := cg.V1["memory"]; ok {
		_, err := os.Stat(filepath.Join(dir, "memory.memsw.limit_in_bytes"))
		return err == nil
	}
	if cg.V2 != "" {
		_, err := os.Stat(filepath.Join(cg.V2, "memory.swap.max"))
		return err == nil
	}
	return false
}
