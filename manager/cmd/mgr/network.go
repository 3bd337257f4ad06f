package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/berthrun/berth/manager/internal/errdefs"
	"github.com/berthrun/berth/manager/internal/network"
)

var networkCommand = &cli.Command{
	Name:  "network",
	Usage: "manage networks (CNI conflists in --cni-config-dir)",
	Subcommands: []*cli.Command{
		{
			Name: "create", Usage: "create a network", ArgsUsage: "NAME",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: "bridge", Usage: "driver: bridge, macvlan, ipvlan"},
				&cli.StringFlag{Name: "subnet", Usage: "subnet in CIDR format (default: a free /24 from 10.78.0.0/16)"},
				&cli.StringFlag{Name: "gateway", Usage: "gateway for the subnet"},
				&cli.BoolFlag{Name: "internal", Usage: "restrict external access to the network"},
				&cli.StringFlag{Name: "opt", Aliases: []string{"o"}, Usage: "driver option: parent=IFACE for macvlan/ipvlan"},
				&cli.StringSliceFlag{Name: "label", Usage: "set metadata on a network"},
			},
			Action: func(c *cli.Context) error {
				if err := needArgs(c, 1, 1); err != nil {
					return err
				}
				e, err := openEngine(c)
				if err != nil {
					return err
				}
				o := network.CreateOptions{Name: c.Args().First(), Driver: c.String("driver"), Subnet: c.String("subnet"), Gateway: c.String("gateway"), Internal: c.Bool("internal")}
				if opt := c.String("opt"); opt != "" {
					k, v, _ := strings.Cut(opt, "=")
					if k != "parent" {
						return fmt.Errorf("unknown --opt %q: %w", opt, errdefs.ErrInvalidArgument)
					}
					o.Parent = v
				}
				for _, l := range c.StringSlice("label") {
					if o.Labels == nil {
						o.Labels = map[string]string{}
					}
					k, v, _ := strings.Cut(l, "=")
					o.Labels[k] = v
				}
				n, err := e.Networks.Create(o)
				if err != nil {
					return err
				}
				fmt.Println(n.Name)
				return nil
			},
		},
		{
			Name: "ls", Aliases: []string{"list"}, Usage: "list networks",
			Flags: []cli.Flag{&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display network names"}},
			Action: func(c *cli.Context) error {
				e, err := openEngine(c)
				if err != nil {
					return err
				}
				nets, err := e.Networks.List()
				if err != nil {
					return err
				}
				slices.SortFunc(nets, func(a, b *network.Network) int { return strings.Compare(a.Name, b.Name) })
				if c.Bool("quiet") {
					for _, n := range nets {
						fmt.Println(n.Name)
					}
					return nil
				}
				w := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
				fmt.Fprintln(w, "NAME\tDRIVER\tSUBNET\tCONFIG")
				for _, n := range nets {
					src := n.File
					if src == "" {
						src = "(built in)"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", n.Name, n.Driver, strings.Join(n.Subnets, ","), src)
				}
				return w.Flush()
			},
		},
		{
			Name: "inspect", Usage: "display detailed information on one or more networks", ArgsUsage: "NETWORK [NETWORK...]",
			Action: func(c *cli.Context) error {
				if err := needArgs(c, 1, -1); err != nil {
					return err
				}
				e, err := openEngine(c)
				if err != nil {
					return err
				}
				var out []any
				for _, name := range c.Args().Slice() {
					n, err := e.Networks.Get(name)
					if err != nil {
						return err
					}
					users, err := e.Containers.NetworkUsers(c.Context, name)
					if err != nil {
						return err
					}
					ctrs := map[string]any{}
					for _, u := range users {
						entry := map[string]any{"Name": u.Name}
						for _, a := range u.State.Networks {
							if a.Network == name {
								entry["IPv4Address"] = fmt.Sprintf("%s/%d", a.IPAddress, a.PrefixLen)
								entry["MacAddress"] = a.MAC
								entry["Aliases"] = a.Aliases
							}
						}
						ctrs[u.ID] = entry
					}
					var config []map[string]string
					for i, s := range n.Subnets {
						config = append(config, map[string]string{"Subnet": s, "Gateway": n.Gateways[i]})
					}
					out = append(out, map[string]any{
						"Name": n.Name, "Driver": n.Driver, "Internal": n.Internal, "Labels": n.Labels,
						"IPAM":       map[string]any{"Driver": "host-local", "Config": config},
						"ConfigFile": n.File, "Bridge": n.Bridge, "Containers": ctrs,
					})
				}
				return printJSON(out)
			},
		},
		{
			Name: "rm", Aliases: []string{"remove"}, Usage: "remove one or more networks (refused while containers use them)", ArgsUsage: "NETWORK [NETWORK...]",
			Action: func(c *cli.Context) error {
				if err := needArgs(c, 1, -1); err != nil {
					return err
				}
				e, err := openEngine(c)
				if err != nil {
					return err
				}
				var errs []error
				for _, name := range c.Args().Slice() {
					if err := e.RemoveNetwork(c.Context, name); err != nil {
						errs = append(errs, err)
						continue
					}
					fmt.Println(name)
				}
				return errors.Join(errs...)
			},
		},
		{
			Name: "prune", Usage: "remove all unused networks (except the default)",
			Flags: []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"}},
			Action: func(c *cli.Context) error {
				e, err := openEngine(c)
				if err != nil {
					return err
				}
				removed, err := e.PruneNetworks(c.Context)
				fmt.Println("Deleted Networks:")
				for _, n := range removed {
					fmt.Println(n)
				}
				return err
			},
		},
		{
			Name: "connect", Usage: "connect a container to a network", ArgsUsage: "NETWORK CONTAINER",
			Flags: []cli.Flag{&cli.StringSliceFlag{Name: "alias", Usage: "add network-scoped alias for the container"}},
			Action: func(c *cli.Context) error {
				if err := needArgs(c, 2, 2); err != nil {
					return err
				}
				e, err := openEngine(c)
				if err != nil {
					return err
				}
				ctr, err := e.Containers.Get(c.Context, c.Args().Get(1))
				if err != nil {
					return err
				}
				return e.Containers.Connect(c.Context, ctr, c.Args().Get(0), c.StringSlice("alias"))
			},
		},
		{
			Name: "disconnect", Usage: "disconnect a container from a network", ArgsUsage: "NETWORK CONTAINER",
			Action: func(c *cli.Context) error {
				if err := needArgs(c, 2, 2); err != nil {
					return err
				}
				e, err := openEngine(c)
				if err != nil {
					return err
				}
				ctr, err := e.Containers.Get(c.Context, c.Args().Get(1))
				if err != nil {
					return err
				}
				return e.Containers.Disconnect(c.Context, ctr, c.Args().Get(0))
			},
		},
		{
			Name: "check", Usage: "say what networking needs that is missing (plugins, ip_forward, iptables)",
			Action: func(c *cli.Context) error {
				e, err := openEngine(c)
				if err != nil {
					return err
				}
				problems := networkCheck(c.StringSlice("cni-bin-dir"), e.Networks)
				if len(problems) == 0 {
					fmt.Println("networking is ready: CNI plugins, configs and iptables are in place")
					return nil
				}
				for _, p := range problems {
					fmt.Println("-", p)
				}
				return fmt.Errorf("%d problem(s) found", len(problems))
			},
		},
	},
}

// removeNetwork deletes a network no container uses.
// networkCheck lists, in plain words, what would make a network fail.
func networkCheck(binDirs []string, nets *network.Manager) []string {
	var problems []string
	list, err := nets.List()
	if err != nil {
		return []string{err.Error()}
	}
	needed := map[string]bool{"loopback": true}
	for _, n := range list {
		for _, t := range n.PluginTypes() {
			needed[t] = true
		}
	}
	for t := range needed {
		found := false
		for _, d := range binDirs {
			if _, err := os.Stat(filepath.Join(d, t)); err == nil {
				found = true
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("CNI plugin %q is missing from %s (hack/setup.sh installs the plugins)", t, strings.Join(binDirs, ":")))
		}
	}
	if data, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err == nil && strings.TrimSpace(string(data)) != "1" {
		problems = append(problems, "IPv4 forwarding is off (net.ipv4.ip_forward=0): the bridge plugin turns it on when a gateway network is used; containers cannot reach beyond the host until then")
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		problems = append(problems, "iptables is not installed: port publishing (portmap) and masquerade need it")
	} else if out, err := exec.Command("iptables", "-S", "FORWARD").Output(); err == nil && strings.Contains(string(out), "-P FORWARD DROP") {
		problems = append(problems, "the host's FORWARD policy is DROP (docker sets it): containers on bridge networks cannot reach beyond the host nor be reached on published ports from other hosts; allow forwarding for the networks' subnets")
	}
	return problems
}
