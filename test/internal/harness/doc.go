//go:build integration && linux

// Package harness holds the shared fixtures of the root-only integration
// suites under test/: a busybox bundle built per test, a wrapper around the
// OCI runtime binary under test (rt, or any runc-compatible runtime named by
// RT_BINARY) with its own --root, cgroup readers, a console-socket listener
// and the "nothing left behind" assertion.
//
// Everything a test creates lives in its own t.TempDir() and is removed by
// t.Cleanup, containers first (delete --force), also when the test fails.
package harness
