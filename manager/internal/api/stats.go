package api

import (
	"net/http"
	"runtime"
	"time"

	ctypes "github.com/moby/moby/api/types/container"

	"github.com/berthrun/berth/manager/internal/container"
)

// statsResponse is a sample in docker's shape; prev fills precpu_stats.
func statsResponse(c *container.Container, st, prev *container.Stats) ctypes.StatsResponse {
	resp := ctypes.StatsResponse{
		ID:     c.ID,
		Name:   "/" + c.Name,
		OSType: "linux",
		Read:   time.Now().UTC(),
	}
	cpu, sys := st.CPUTimes()
	resp.CPUStats = ctypes.CPUStats{CPUUsage: ctypes.CPUUsage{TotalUsage: cpu}, SystemUsage: sys, OnlineCPUs: uint32(runtime.NumCPU())}
	if prev != nil {
		pcpu, psys := prev.CPUTimes()
		resp.PreCPUStats = ctypes.CPUStats{CPUUsage: ctypes.CPUUsage{TotalUsage: pcpu}, SystemUsage: psys, OnlineCPUs: uint32(runtime.NumCPU())}
	}
	// MemUsage already leaves out the reclaimable page cache.
	resp.MemoryStats = ctypes.MemoryStats{Usage: st.MemUsage, Limit: st.MemLimit}
	resp.PidsStats = ctypes.PidsStats{Current: st.Pids}
	resp.BlkioStats = ctypes.BlkioStats{IoServiceBytesRecursive: []ctypes.BlkioStatEntry{{Op: "read", Value: st.BlockRead}, {Op: "write", Value: st.BlockWrite}}}
	resp.Networks = map[string]ctypes.NetworkStats{"eth0": {RxBytes: st.NetRx, TxBytes: st.NetTx}}
	return resp
}

// containerStats answers one sample with stream=0 (two samples a second
// apart, so CPU % covers that second), else one per second until the
// client leaves or the container stops.
func (s *Server) containerStats(w http.ResponseWriter, r *http.Request) error {
	c, err := s.container(r)
	if err != nil {
		return err
	}
	stream := !r.URL.Query().Has("stream") || boolParam(r, "stream")
	oneShot := boolParam(r, "one-shot")
	ctx := r.Context()
	prev, err := s.e.Containers.Stats(ctx, c, nil)
	if err != nil {
		return err
	}
	if !stream {
		if !oneShot && c.Running() {
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return nil
			}
		}
		st := prev
		if !oneShot {
			if st, err = s.e.Containers.Stats(ctx, c, prev); err != nil {
				return err
			}
		}
		return writeJSON(w, http.StatusOK, statsResponse(c, st, prev))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if err := jsonEncode(w, statsResponse(c, prev, nil)); err != nil {
		return nil
	}
	_ = rc.Flush()
	for {
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return nil
		}
		if c, err = s.e.Containers.Get(ctx, c.ID); err != nil || !c.Running() {
			return nil
		}
		st, err := s.e.Containers.Stats(ctx, c, prev)
		if err != nil {
			return nil
		}
		if err := jsonEncode(w, statsResponse(c, st, prev)); err != nil {
			return nil
		}
		_ = rc.Flush()
		prev = st
	}
}
