package oci

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// boundingCapabilities returns the capabilities this process can hand on:
// all known ones that are in its bounding set. A container asking for more
// fails to start (this machine's root lacks CAP_SYS_RESOURCE, for one).
func boundingCapabilities() []string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return clone(allCapabilities)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		hex, ok := strings.CutPrefix(sc.Text(), "CapBnd:")
		if !ok {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err != nil {
			break
		}
		var out []string
		for i, c := range allCapabilities { // in kernel numbering order
			if mask&(1<<uint(i)) != 0 {
				out = append(out, c)
			}
		}
		return out
	}
	return clone(allCapabilities)
}
