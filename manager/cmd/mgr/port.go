package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

var portCommand = &cli.Command{
	Name:      "port",
	Usage:     "list port mappings or a specific mapping for the container",
	ArgsUsage: "CONTAINER [PRIVATE_PORT[/PROTO]]",
	Action: func(c *cli.Context) error {
		if err := needArgs(c, 1, 2); err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		ctr, err := e.Containers.Get(c.Context, c.Args().First())
		if err != nil {
			return err
		}
		want := c.Args().Get(1)
		if want != "" && !strings.Contains(want, "/") {
			want += "/tcp"
		}
		found := false
		for _, a := range ctr.State.Networks {
			for _, p := range a.Ports {
				key := strconv.Itoa(p.ContainerPort) + "/" + p.Protocol
				if want != "" && key != want {
					continue
				}
				found = true
				hostIP := p.HostIP
				if hostIP == "" {
					hostIP = "0.0.0.0"
				}
				if want != "" {
					fmt.Printf("%s:%d\n", hostIP, p.HostPort)
				} else {
					fmt.Printf("%s -> %s:%d\n", key, hostIP, p.HostPort)
				}
			}
		}
		if want != "" && !found {
			return fmt.Errorf("no public port '%s' published for %s", want, ctr.Name)
		}
		return nil
	},
}
