package network

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// One MASQUERADE rule per network, as docker keeps one per bridge: traffic
// from the subnet to anywhere else leaves with the host's address. The
// bridge plugin's ipMasq builds a chain per container instead, a dozen
// iptables runs per start and stop. This checks the rule once per boot and
// network namespace: a marker in the data root records where it was
// ensured, since the check alone is an iptables run (~4 ms) per start. Like docker,
// which sets its rules when it starts, a rule flushed by hand comes back at
// the next boot or with `network rm` and create.

func masqueradeRule(n *Network, subnet string) []string {
	return []string{"-t", "nat", "POSTROUTING", "-s", subnet, "!", "-d", subnet,
		"-m", "comment", "--comment", "mgr masquerade " + n.Name, "-j", "MASQUERADE"}
}

func iptables(ctx context.Context, op string, rule []string) error {
	// rule is "-t nat CHAIN spec...": the op goes between table and chain.
	args := append([]string{"-w", rule[0], rule[1], op}, rule[2:]...)
	out, err := exec.CommandContext(ctx, "iptables", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("iptables %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ensureMasquerade adds the network's rule unless it is there, at most
// once per boot (markerDir holds the markers).
func ensureMasquerade(ctx context.Context, n *Network, markerDir string) error {
	boot := ruleEpoch()
	marker := filepath.Join(markerDir, markerName(n))
	if len(boot) > 0 {
		if have, err := os.ReadFile(marker); err == nil && string(have) == string(boot) {
			return nil
		}
	}
	for _, subnet := range n.Subnets {
		rule := masqueradeRule(n, subnet)
		if iptables(ctx, "-C", rule) == nil {
			continue
		}
		if err := iptables(ctx, "-A", rule); err != nil {
			return fmt.Errorf("network %s: masquerade: %w", n.Name, err)
		}
	}
	if len(boot) > 0 && os.MkdirAll(markerDir, 0o700) == nil {
		_ = os.WriteFile(marker, boot, 0o600) // without it the next start checks again
	}
	return nil
}

// ruleEpoch names where and when a rule was ensured: this boot and this
// network namespace (iptables rules live in one); "" when unknown.
func ruleEpoch() []byte {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return nil
	}
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return nil
	}
	return append(boot, ns...)
}

// markerName is the network's rule marker: its name and subnets.
func markerName(n *Network) string {
	return strings.NewReplacer("/", "_", ":", "_").Replace(n.Name + "-" + strings.Join(n.Subnets, ","))
}

// removeMasquerade deletes the network's rule, if there, and its marker.
func removeMasquerade(ctx context.Context, n *Network, markerDir string) {
	_ = os.Remove(filepath.Join(markerDir, markerName(n)))
	for _, subnet := range n.Subnets {
		rule := masqueradeRule(n, subnet)
		for iptables(ctx, "-C", rule) == nil {
			if iptables(ctx, "-D", rule) != nil {
				break
			}
		}
	}
}
