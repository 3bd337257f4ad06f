// Package api is the shim's client side: the wire types and protocol version
// of its control socket, a Client (Dial, State, Start, Kill, Exec, Attach,
// Resize, Wait, Shutdown), Launch to start a shim, and Alive/Cleanup for a
// shim that died. The command line, state files and protocol are documented
// in one place: PROTOCOL.md in this directory.
package api
