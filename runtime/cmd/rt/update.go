package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/docker/go-units"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/runtime/internal/libct"
)

var updateCommand = &cli.Command{
	Name:  "update",
	Usage: "update container resource constraints",
	ArgsUsage: `<container-id>

EXAMPLE:
       # rt update --memory 64m --pids-limit 100 web1
       # rt update -r resources.json web1   (runtime-spec linux.resources JSON; "-" reads stdin)`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "path to a file with the resources to update (runtime-spec linux.resources JSON), or \"-\" for stdin"},
		&cli.IntFlag{Name: "blkio-weight", Usage: "specifies per cgroup weight, range is from 10 to 1000"},
		&cli.StringFlag{Name: "cpu-period", Usage: "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default"},
		&cli.StringFlag{Name: "cpu-quota", Usage: "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period"},
		&cli.StringFlag{Name: "cpu-burst", Usage: "CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period"},
		&cli.StringFlag{Name: "cpu-share", Usage: "CPU shares (relative weight vs. other containers)"},
		&cli.StringFlag{Name: "cpu-rt-period", Usage: "CPU realtime period to be used for hardcapping (in usecs). 0 to use system default"},
		&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period"},
		&cli.StringFlag{Name: "cpu-idle", Usage: "set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPU(s) to use"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "memory node(s) to use"},
		&cli.StringFlag{Name: "memory", Usage: "memory limit (in bytes, or with a unit: 64m)"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory reservation or soft_limit (in bytes)"},
		&cli.StringFlag{Name: "memory-swap", Usage: "total memory usage (memory + swap); set '-1' to enable unlimited swap"},
		&cli.IntFlag{Name: "pids-limit", Usage: "maximum number of pids allowed in the container"},
	},
	Action: func(c *cli.Context) error {
		if err := exactArgs(c, 1); err != nil {
			return err
		}
		ct, err := loadContainer(c)
		if err != nil {
			return err
		}
		r, err := resourcesFromFlags(c)
		if err != nil {
			return err
		}
		return libct.Update(ct, r)
	},
}

func resourcesFromFlags(c *cli.Context) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{},
		CPU:     &specs.LinuxCPU{},
		BlockIO: &specs.LinuxBlockIO{},
	}
	if in := c.String("resources"); in != "" {
		var src io.Reader = os.Stdin
		if in != "-" {
			f, err := os.Open(in)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			src = f
		}
		if err := json.NewDecoder(src).Decode(r); err != nil {
			return nil, fmt.Errorf("parse resources %s: %w", in, err)
		}
		return r, nil
	}
	if v := c.Int("blkio-weight"); v != 0 {
		w := uint16(v)
		r.BlockIO.Weight = &w
	}
	r.CPU.Cpus = c.String("cpuset-cpus")
	r.CPU.Mems = c.String("cpuset-mems")
	for _, f := range []struct {
		name string
		dst  **uint64
	}{
		{"cpu-period", &r.CPU.Period},
		{"cpu-burst", &r.CPU.Burst},
		{"cpu-share", &r.CPU.Shares},
		{"cpu-rt-period", &r.CPU.RealtimePeriod},
	} {
		if s := c.String(f.name); s != "" {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid value for %s: %w", f.name, err)
			}
			*f.dst = &v
		}
	}
	for _, f := range []struct {
		name string
		dst  **int64
	}{
		{"cpu-quota", &r.CPU.Quota},
		{"cpu-rt-runtime", &r.CPU.RealtimeRuntime},
		{"cpu-idle", &r.CPU.Idle},
	} {
		if s := c.String(f.name); s != "" {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid value for %s: %w", f.name, err)
			}
			*f.dst = &v
		}
	}
	for _, f := range []struct {
		name string
		dst  **int64
	}{
		{"memory", &r.Memory.Limit},
		{"memory-reservation", &r.Memory.Reservation},
		{"memory-swap", &r.Memory.Swap},
	} {
		if s := c.String(f.name); s != "" {
			v := int64(-1)
			if s != "-1" {
				var err error
				if v, err = units.RAMInBytes(s); err != nil {
					return nil, fmt.Errorf("invalid value for %s: %w", f.name, err)
				}
			}
			*f.dst = &v
		}
	}
	if c.IsSet("pids-limit") {
		n := int64(c.Int("pids-limit"))
		r.Pids = &specs.LinuxPids{Limit: &n}
	}
	return r, nil
}
