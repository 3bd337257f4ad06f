package network

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// One MASQUERADE rule per network, as docker keeps one per bridge: traffic
// from the subnet to anywhere else leaves with the host's address. The
// bridge plugin's ipMasq builds a chain per container instead, a dozen
// iptables runs per start and stop; this costs one check per start.

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

// ensureMasquerade adds the network's rule unless it is there.
func ensureMasquerade(ctx context.Context, n *Network) error {
	for _, subnet := range n.Subnets {
		rule := masqueradeRule(n, subnet)
		if iptables(ctx, "-C", rule) == nil {
			continue
		}
		if err := iptables(ctx, "-A", rule); err != nil {
			return fmt.Errorf("network %s: masquerade: %w", n.Name, err)
		}
	}
	return nil
}

// removeMasquerade deletes the network's rule, if there.
func removeMasquerade(ctx context.Context, n *Network) {
	for _, subnet := range n.Subnets {
		rule := masqueradeRule(n, subnet)
		for iptables(ctx, "-C", rule) == nil {
			if iptables(ctx, "-D", rule) != nil {
				break
			}
		}
	}
}
