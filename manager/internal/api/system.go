package api

import (
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/system"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/manager/internal/container"
)

func (s *Server) ping(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Docker-Experimental", "false")
	h.Set("Builder-Version", "1")
	h.Set("Swarm", "inactive")
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write([]byte("OK"))
	}
	return nil
}

func kernelVersion() string {
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	return unix.ByteSliceToString(uts.Release[:])
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) error {
	v := system.VersionResponse{
		Platform:      system.PlatformInfo{Name: "berth"},
		Version:       s.version,
		APIVersion:    APIVersion,
		MinAPIVersion: MinAPIVersion,
		Os:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		GitCommit:     s.version,
		GoVersion:     runtime.Version(),
		KernelVersion: kernelVersion(),
		BuildTime:     "",
	}
	v.Components = []system.ComponentVersion{{
		Name:    "Engine",
		Version: s.version,
		Details: map[string]string{
			"ApiVersion": APIVersion, "MinAPIVersion": MinAPIVersion, "GitCommit": s.version,
			"GoVersion": runtime.Version(), "Os": runtime.GOOS, "Arch": runtime.GOARCH,
			"KernelVersion": kernelVersion(), "Experimental": "false", "BuildTime": "",
		},
	}, {
		Name:    "rt",
		Version: firstLine(exec.Command(s.e.Runtime, "--version").Output()),
		Details: map[string]string{"Path": s.e.Runtime},
	}}
	return writeJSON(w, http.StatusOK, v)
}

func firstLine(out []byte, err error) string {
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	line = strings.TrimPrefix(line, "rt version ")
	return line
}

func (s *Server) getInfo(w http.ResponseWriter, r *http.Request) error {
	ctrs, err := s.e.Containers.List(r.Context())
	if err != nil {
		return err
	}
	imgs, err := s.e.Images.List(r.Context())
	if err != nil {
		return err
	}
	info := system.Info{
		ID:                 "berth",
		Containers:         len(ctrs),
		Images:             len(imgs),
		Driver:             "overlay",
		LoggingDriver:      "json-file",
		CgroupDriver:       "cgroupfs",
		CgroupVersion:      cgroupVersion(),
		KernelVersion:      kernelVersion(),
		OperatingSystem:    osName(),
		OSType:             "linux",
		Architecture:       runtime.GOARCH,
		NCPU:               runtime.NumCPU(),
		MemTotal:           memTotal(),
		DockerRootDir:      s.e.Root,
		Name:               hostname(),
		ServerVersion:      s.version,
		IndexServerAddress: "https://index.docker.io/v1/",
		Runtimes:           map[string]system.RuntimeWithStatus{"rt": {Runtime: system.Runtime{Path: s.e.Runtime}}},
		DefaultRuntime:     "rt",
		Swarm:              swarm.Info{LocalNodeState: swarm.LocalNodeStateInactive},
		SecurityOptions:    []string{"name=seccomp,profile=builtin"},
		SystemTime:         time.Now().Format(time.RFC3339Nano),
		MemoryLimit:        true,
		PidsLimit:          true,
		CPUCfsQuota:        true,
		CPUCfsPeriod:       true,
		NGoroutines:        runtime.NumGoroutine(),
		Warnings:           []string{},
	}
	info.Plugins.Network = []string{"bridge", "host", "none"}
	info.Plugins.Log = []string{"json-file"}
	for _, c := range ctrs {
		switch c.State.Status {
		case container.StatusRunning:
			info.ContainersRunning++
		case container.StatusPaused:
			info.ContainersPaused++
		default:
			info.ContainersStopped++
		}
	}
	return writeJSON(w, http.StatusOK, info)
}

func cgroupVersion() string {
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "2"
	}
	return "1"
}

func memTotal() int64 {
	var si unix.Sysinfo_t
	_ = unix.Sysinfo(&si)
	return int64(si.Totalram) * int64(si.Unit)
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func osName() string {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "unknown"
}
