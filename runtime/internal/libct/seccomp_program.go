//go:build runcpatch && cgo && seccomp

package libct

import (
	"encoding/json"
	"runtime/debug"
	"strconv"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/runtime/patches"
)

// precompileSeccomp sets c.Program from the cache in dir, compiling and
// storing it on a miss. It never fails a start: without a program the
// container's init builds the filter itself, as runc does, and reports any
// error in the profile with libcontainer's own words.
func precompileSeccomp(dir string, c *configs.Seccomp) {
	if dir == "" || c == nil || c.Program != nil {
		return
	}
	profile, err := json.Marshal(c)
	if err != nil {
		return
	}
	key := cacheKey(profile, []byte(runcVersion()), []byte(patches.Runc), []byte(libseccompIdentity()), []byte(kernelRelease()))
	if flags, filter, err := readCached(dir, key); err == nil {
		c.Program = &configs.SeccompProgram{Filter: filter, Flags: flags}
		return
	}
	p, err := seccomp.Compile(c)
	if err != nil {
		logrus.Debugf("seccomp cache: compile: %v", err)
		return
	}
	c.Program = p
	if err := writeCached(dir, key, p.Flags, p.Filter); err != nil {
		logrus.Debugf("%v", err) // a cache that cannot be written only costs time
	}
}

// runcVersion is the runc module's version as go.mod names it (the build
// replaces it with the patched copy; the patch's text is keyed apart).
func runcVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "github.com/opencontainers/runc" {
				return m.Version
			}
		}
	}
	return "unknown"
}

// libseccompIdentity: the library's version and the API level it found in
// this kernel (which flags and actions the program may use).
func libseccompIdentity() string {
	major, minor, micro := seccomp.Version()
	api, _ := libseccomp.GetAPI()
	return strconv.FormatUint(uint64(major), 10) + "." + strconv.FormatUint(uint64(minor), 10) + "." +
		strconv.FormatUint(uint64(micro), 10) + " api " + strconv.FormatUint(uint64(api), 10)
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}
