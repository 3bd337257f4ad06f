// Package launch starts a container's init or an exec process the way runc
// does: it wires stdio (inherited, piped or a pseudo-terminal, locally or
// handed to a console socket), writes the pid file, and, when rt stays in
// the foreground, forwards signals and reaps until the process exits.
package launch
