//go:build integration && linux

package harness

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// IptablesRules returns the rules of every table, as iptables-save prints
// them ("-A CHAIN ..."); none if iptables-save is missing (then no CNI
// plugin could have added any). A network's masquerade rule lives as long
// as the network (the suites' "bridge" is never removed), so it is not
// counted as anybody's leftover.
func IptablesRules() []string {
	var rules []string
	for _, r := range AllIptablesRules() {
		if !strings.Contains(r, "mgr masquerade") {
			rules = append(rules, r)
		}
	}
	return rules
}

// AllIptablesRules returns every rule of every table, masquerade rules
// included ("-A CHAIN ...").
func AllIptablesRules() []string {
	out, err := exec.Command("iptables-save").Output()
	if err != nil {
		return nil
	}
	var rules []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "-A ") {
			rules = append(rules, l)
		}
	}
	return rules
}

// HostProc is a live process and its command line.
type HostProc struct {
	Pid  int
	Args []string
}

// ProcessesMentioning returns the live processes (but this one) whose
// command line mentions dir/: the shims, runtimes and mgr of a test's roots.
func ProcessesMentioning(dir string) []HostProc {
	ents, _ := os.ReadDir("/proc")
	var out []HostProc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		args, err := Cmdline(pid)
		if err != nil || ProcessGone(pid) {
			continue
		}
		if strings.Contains(strings.Join(args, " "), dir+"/") {
			out = append(out, HostProc{pid, args})
		}
	}
	return out
}
