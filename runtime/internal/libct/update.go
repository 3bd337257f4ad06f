package libct

import (
	"slices"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// Update applies new resource limits to a created, running or paused
// container. Only the fields set in r change; a partial CPU period/quota
// pair keeps the other half, as with runc.
func Update(c *Container, r *specs.LinuxResources) error {
	config := c.Config()
	res := config.Cgroups.Resources

	if b := r.BlockIO; b != nil {
		if b.Weight != nil {
			res.BlkioWeight = *b.Weight
		}
		if b.LeafWeight != nil {
			res.BlkioLeafWeight = *b.LeafWeight
		}
		for _, wd := range b.WeightDevice {
			res.BlkioWeightDevice = upsertWeightDevice(res.BlkioWeightDevice, wd)
		}
		for _, p := range []struct {
			dst *[]*cgroups.ThrottleDevice
			src []specs.LinuxThrottleDevice
		}{
			{&res.BlkioThrottleReadBpsDevice, b.ThrottleReadBpsDevice},
			{&res.BlkioThrottleWriteBpsDevice, b.ThrottleWriteBpsDevice},
			{&res.BlkioThrottleReadIOPSDevice, b.ThrottleReadIOPSDevice},
			{&res.BlkioThrottleWriteIOPSDevice, b.ThrottleWriteIOPSDevice},
		} {
			for _, td := range p.src {
				*p.dst = upsertThrottleDevice(*p.dst, td)
			}
		}
	}

	if cpu := r.CPU; cpu != nil {
		if cpu.Period != nil && *cpu.Period != 0 {
			res.CpuPeriod = *cpu.Period
		}
		if cpu.Quota != nil && *cpu.Quota != 0 {
			res.CpuQuota = *cpu.Quota
		}
		if cpu.Burst != nil {
			res.CpuBurst = cpu.Burst
		}
		if cpu.Idle != nil {
			res.CPUIdle = cpu.Idle
		}
		if cpu.Shares != nil {
			res.CpuShares = *cpu.Shares
			res.CpuWeight = cgroups.ConvertCPUSharesToCgroupV2Value(*cpu.Shares)
		}
		if cpu.RealtimePeriod != nil {
			res.CpuRtPeriod = *cpu.RealtimePeriod
		}
		if cpu.RealtimeRuntime != nil {
			res.CpuRtRuntime = *cpu.RealtimeRuntime
		}
		if cpu.Cpus != "" {
			res.CpusetCpus = cpu.Cpus
		}
		if cpu.Mems != "" {
			res.CpusetMems = cpu.Mems
		}
	}

	if m := r.Memory; m != nil {
		if m.Limit != nil {
			res.Memory = *m.Limit
			// Unlimited memory with no swap setting means unlimited swap too.
			if *m.Limit == -1 && m.Swap == nil {
				res.MemorySwap = -1
			}
		}
		if m.Reservation != nil {
			res.MemoryReservation = *m.Reservation
		}
		if m.Swap != nil {
			res.MemorySwap = *m.Swap
		}
		if m.CheckBeforeUpdate != nil {
			res.MemoryCheckBeforeUpdate = *m.CheckBeforeUpdate
		}
	}
	if r.Pids != nil {
		res.PidsLimit = r.Pids.Limit
	}
	if r.Unified != nil {
		res.Unified = r.Unified
	}
	// Device rules are set at create; rewriting them on a live container
	// would briefly deny access to every device.
	config.Cgroups.SkipDevices = true
	return c.Set(config)
}

func upsertWeightDevice(devs []*cgroups.WeightDevice, wd specs.LinuxWeightDevice) []*cgroups.WeightDevice {
	if i := slices.IndexFunc(devs, func(d *cgroups.WeightDevice) bool { return d.Major == wd.Major && d.Minor == wd.Minor }); i >= 0 {
		if wd.Weight != nil {
			devs[i].Weight = *wd.Weight
		}
		if wd.LeafWeight != nil {
			devs[i].LeafWeight = *wd.LeafWeight
		}
		return devs
	}
	var w, lw uint16
	if wd.Weight != nil {
		w = *wd.Weight
	}
	if wd.LeafWeight != nil {
		lw = *wd.LeafWeight
	}
	return append(devs, cgroups.NewWeightDevice(wd.Major, wd.Minor, w, lw))
}

func upsertThrottleDevice(devs []*cgroups.ThrottleDevice, td specs.LinuxThrottleDevice) []*cgroups.ThrottleDevice {
	if i := slices.IndexFunc(devs, func(d *cgroups.ThrottleDevice) bool { return d.Major == td.Major && d.Minor == td.Minor }); i >= 0 {
		devs[i].Rate = td.Rate
		return devs
	}
	return append(devs, cgroups.NewThrottleDevice(td.Major, td.Minor, td.Rate))
}
