//go:build linux

// Command shim holds one container: see shim/internal/server and
// shim/api/PROTOCOL.md.
package main

import (
	"os"

	"github.com/berthrun/berth/shim/internal/server"
)

func main() { os.Exit(server.Main(os.Args[1:])) }
