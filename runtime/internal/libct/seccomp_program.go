//go:build runcpatch && cgo && seccomp

package libct

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
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
	// A cache directory others may write is not used at all (said once).
	usable := true
	if err := checkCacheDir(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		logrus.Warnf("%v", err)
		usable = false
	}
	key := cacheKey(profile, []byte(patches.Runc), []byte(binaryIdentity()), []byte(libseccompIdentity()), []byte(kernelRelease()))
	if usable {
		flags, filter, err := readCached(dir, key)
		if err == nil {
			c.Program = &configs.SeccompProgram{Filter: filter, Flags: flags}
			return
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errBadCacheFile) {
			logrus.Warnf("%v", err) // e.g. a file others may write: replaced below
		}
	}
	p, err := seccomp.Compile(c)
	if err != nil {
		logrus.Debugf("seccomp cache: compile: %v", err)
		return
	}
	c.Program = p
	if usable {
		if err := writeCached(dir, key, p.Flags, p.Filter); err != nil {
			logrus.Warnf("%v", err) // the next start compiles again
		}
	}
}

// binaryIdentity names this rt build: its Go modules (runc,
// libseccomp-golang, x/net's bpf assembler ...), toolchain and settings,
// and the executable file itself, which also changes with the C libseccomp
// linked into it.
func binaryIdentity() string {
	id := "no build info"
	if bi, ok := debug.ReadBuildInfo(); ok {
		id = bi.String()
	}
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err == nil {
		id += fmt.Sprintf("\nexe %d:%d %d %d.%d", st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec)
	}
	return id
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
