package container

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// runtimeStats is the part of the runtime's `events --stats` output (runc's
// types.Stats) that `stats` shows.
type runtimeStats struct {
	Data struct {
		CPU struct {
			Usage struct {
				Total uint64 `json:"total"`
			} `json:"usage"`
		} `json:"cpu"`
		Memory struct {
			Cache uint64 `json:"cache"`
			Usage struct {
				Usage uint64 `json:"usage"`
				Limit uint64 `json:"limit"`
			} `json:"usage"`
			Raw map[string]uint64 `json:"raw"`
		} `json:"memory"`
		Pids struct {
			Current uint64 `json:"current"`
			Limit   uint64 `json:"limit"`
		} `json:"pids"`
		Blkio struct {
			IoServiceBytesRecursive []struct {
				Op    string `json:"op"`
				Value uint64 `json:"value"`
			} `json:"ioServiceBytesRecursive"`
		} `json:"blkio"`
	} `json:"data"`
}

// Stats is one sample of a container's resource use, as `stats` prints it.
type Stats struct {
	CPUPercent  float64
	MemUsage    uint64
	MemLimit    uint64
	MemPercent  float64
	BlockRead   uint64
	BlockWrite  uint64
	NetRx       uint64
	NetTx       uint64
	Pids        uint64
	cpuTotal    uint64 // ns of CPU used by the container
	systemTotal uint64 // ns of CPU time of the whole host
}

// Stats samples c; with prev it computes CPU % over the interval between
// the two samples, as docker does.
func (s *Service) Stats(ctx context.Context, c *Container, prev *Stats) (*Stats, error) {
	if !c.Running() {
		return &Stats{}, nil
	}
	out, err := exec.CommandContext(ctx, s.paths.Runtime, "--root", s.runtimeRoot(), "events", "--stats", c.ID).Output()
	if err != nil {
		return nil, fmt.Errorf("stats of %.12s: %w: %w", c.ID, err, errdefs.ErrUnavailable)
	}
	var rs runtimeStats
	if err := json.Unmarshal(out, &rs); err != nil {
		return nil, fmt.Errorf("stats of %.12s: %w", c.ID, err)
	}
	d := rs.Data
	st := &Stats{cpuTotal: d.CPU.Usage.Total, systemTotal: systemCPUTime(), Pids: d.Pids.Current}
	// Like docker: page cache that can be reclaimed does not count.
	st.MemUsage = d.Memory.Usage.Usage
	if inactive, ok := d.Memory.Raw["total_inactive_file"]; ok && inactive < st.MemUsage {
		st.MemUsage -= inactive
	} else if inactive, ok := d.Memory.Raw["inactive_file"]; ok && inactive < st.MemUsage {
		st.MemUsage -= inactive
	}
	st.MemLimit = d.Memory.Usage.Limit
	if host := hostMemory(); st.MemLimit == 0 || st.MemLimit > host {
		st.MemLimit = host
	}
	if st.MemLimit > 0 {
		st.MemPercent = float64(st.MemUsage) / float64(st.MemLimit) * 100
	}
	for _, e := range d.Blkio.IoServiceBytesRecursive {
		switch strings.ToLower(e.Op) {
		case "read":
			st.BlockRead += e.Value
		case "write":
			st.BlockWrite += e.Value
		}
	}
	st.NetRx, st.NetTx = netIO(c.State.Pid)
	if prev != nil && st.systemTotal > prev.systemTotal && st.cpuTotal >= prev.cpuTotal {
		st.CPUPercent = float64(st.cpuTotal-prev.cpuTotal) / float64(st.systemTotal-prev.systemTotal) * float64(runtime.NumCPU()) * 100
	}
	return st, nil
}

// StatsOnce takes two samples interval apart and returns the second.
func (s *Service) StatsOnce(ctx context.Context, c *Container, interval time.Duration) (*Stats, error) {
	first, err := s.Stats(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	time.Sleep(interval)
	return s.Stats(ctx, c, first)
}

// systemCPUTime is the host's total CPU time in ns, from /proc/stat.
func systemCPUTime() uint64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 0 && fields[0] == "cpu" {
			var ticks uint64
			for _, v := range fields[1:] {
				n, _ := strconv.ParseUint(v, 10, 64)
				ticks += n
			}
			return ticks * (1e9 / 100) // USER_HZ is 100 on Linux
		}
	}
	return 0
}

func hostMemory() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, _ := strconv.ParseUint(strings.Fields(rest)[0], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// netIO sums the bytes received and sent on the container's interfaces
// other than lo, from its network namespace's /proc/net/dev.
func netIO(pid int) (rx, tx uint64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/dev", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) < 9 {
			continue
		}
		r, _ := strconv.ParseUint(fields[0], 10, 64)
		t, _ := strconv.ParseUint(fields[8], 10, 64)
		rx, tx = rx+r, tx+t
	}
	return rx, tx
}

// CPUTimes returns the sample's raw counters: ns of CPU used by the
// container and by the whole host (for docker's cpu_stats).
func (st *Stats) CPUTimes() (container, system uint64) { return st.cpuTotal, st.systemTotal }
