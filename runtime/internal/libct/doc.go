// Package libct is rt's only door to runc's libcontainer: it turns an OCI
// bundle into a libcontainer configuration, creates and loads containers
// under a state root, and converts OCI process descriptions into
// libcontainer processes. Nothing outside runtime/ imports libcontainer.
package libct
