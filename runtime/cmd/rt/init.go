package main

import (
	"os"

	"github.com/opencontainers/runc/libcontainer"
	// nsenter's constructor runs before the Go runtime in `rt init` and
	// joins or creates the container's namespaces.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

func init() {
	// libcontainer re-executes this binary as "rt init" inside the new
	// namespaces; Init never returns.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		libcontainer.Init()
	}
}
