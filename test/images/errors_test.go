//go:build integration && linux

package images

import (
	"testing"
)

// TestUnknownImage: verbs naming an image that does not exist exit 125
// with "no such image" and change nothing.
func TestUnknownImage(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	m.must("load", "-i", busyboxTar)
	state := m.state()
	for _, args := range [][]string{
		{"rmi", "nosuch"},
		{"rmi", "-f", "nosuch:1"},
		{"image", "rm", "nosuch"},
		{"image", "inspect", "nosuch"},
		{"history", "nosuch"},
		{"tag", "nosuch", "other:1"},
		{"save", "-o", t.TempDir() + "/x.tar", "nosuch"},
		{"push", "127.0.0.1:1/nosuch:1"},
		{"rmi", "0123456789ab"}, // an ID prefix matching nothing
	} {
		t.Run(args[0]+" "+args[len(args)-1], func(t *testing.T) {
			m := *m
			m.t = t
			fails(t, m.run(args...), "no such image")
		})
	}
	m.assertState(state)
}

// TestInvalidReference: malformed names are refused with exit 125 and
// "invalid reference format", before anything is stored or contacted.
func TestInvalidReference(t *testing.T) {
	t.Parallel()
	m := newMgr(t)
	m.must("load", "-i", busyboxTar)
	state := m.state()
	for _, args := range [][]string{
		{"pull", "Busybox"},
		{"pull", "busybox:bad tag"},
		{"push", "busybox:-x"},
		{"tag", "busybox", "bad ref!"},
		{"tag", "busybox", "Upper"},
		{"import", busyboxTar, "bad::ref"},
		{"rmi", "Bad::x"},
		{"image", "inspect", "busybox@sha256:nothex"},
	} {
		t.Run(args[0]+" "+args[len(args)-1], func(t *testing.T) {
			m := *m
			m.t = t
			fails(t, m.run(args...), "invalid reference format")
		})
	}
	m.assertState(state)
}
