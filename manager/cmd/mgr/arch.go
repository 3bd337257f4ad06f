package main

import "runtime"

func hostArch() string { return runtime.GOARCH }
