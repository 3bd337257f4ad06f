package libct

import (
	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/types"
)

// Stats reads the container's cgroup statistics in the shape of runc's
// `events` output (github.com/opencontainers/runc/types), so consumers of
// runc events parse rt's unchanged. Intel RDT figures are not reported.
func Stats(c *Container) (*types.Stats, error) {
	ls, err := c.Stats()
	if err != nil {
		return nil, err
	}
	return convertStats(ls), nil
}

func convertStats(ls *libcontainer.Stats) *types.Stats {
	cg := ls.CgroupStats
	if cg == nil {
		return nil
	}
	var s types.Stats
	s.Pids.Current = cg.PidsStats.Current
	s.Pids.Limit = cg.PidsStats.Limit

	u := cg.CpuStats.CpuUsage
	s.CPU.Usage.Kernel = u.UsageInKernelmode
	s.CPU.Usage.User = u.UsageInUsermode
	s.CPU.Usage.Total = u.TotalUsage
	s.CPU.Usage.Percpu = u.PercpuUsage
	s.CPU.Usage.PercpuKernel = u.PercpuUsageInKernelmode
	s.CPU.Usage.PercpuUser = u.PercpuUsageInUsermode
	th := cg.CpuStats.ThrottlingData
	s.CPU.Throttling.Periods = th.Periods
	s.CPU.Throttling.ThrottledPeriods = th.ThrottledPeriods
	s.CPU.Throttling.ThrottledTime = th.ThrottledTime
	s.CPU.PSI = cg.CpuStats.PSI
	s.CPUSet = types.CPUSet(cg.CPUSetStats)

	m := cg.MemoryStats
	s.Memory.Cache = m.Cache
	s.Memory.Kernel = memoryEntry(m.KernelUsage)
	s.Memory.KernelTCP = memoryEntry(m.KernelTCPUsage)
	s.Memory.Swap = memoryEntry(m.SwapUsage)
	s.Memory.Usage = memoryEntry(m.Usage)
	s.Memory.Raw = m.Stats
	s.Memory.PSI = m.PSI

	b := cg.BlkioStats
	s.Blkio.IoServiceBytesRecursive = blkioEntries(b.IoServiceBytesRecursive)
	s.Blkio.IoServicedRecursive = blkioEntries(b.IoServicedRecursive)
	s.Blkio.IoQueuedRecursive = blkioEntries(b.IoQueuedRecursive)
	s.Blkio.IoServiceTimeRecursive = blkioEntries(b.IoServiceTimeRecursive)
	s.Blkio.IoWaitTimeRecursive = blkioEntries(b.IoWaitTimeRecursive)
	s.Blkio.IoMergedRecursive = blkioEntries(b.IoMergedRecursive)
	s.Blkio.IoTimeRecursive = blkioEntries(b.IoTimeRecursive)
	s.Blkio.SectorsRecursive = blkioEntries(b.SectorsRecursive)
	s.Blkio.PSI = b.PSI

	s.Hugetlb = make(map[string]types.Hugetlb, len(cg.HugetlbStats))
	for k, v := range cg.HugetlbStats {
		s.Hugetlb[k] = types.Hugetlb{Usage: v.Usage, Max: v.MaxUsage, Failcnt: v.Failcnt}
	}
	s.NetworkInterfaces = ls.Interfaces
	return &s
}

func memoryEntry(m cgroups.MemoryData) types.MemoryEntry {
	return types.MemoryEntry{Limit: m.Limit, Usage: m.Usage, Max: m.MaxUsage, Failcnt: m.Failcnt}
}

func blkioEntries(in []cgroups.BlkioStatEntry) []types.BlkioEntry {
	out := make([]types.BlkioEntry, 0, len(in))
	for _, e := range in {
		out = append(out, types.BlkioEntry(e))
	}
	return out
}
