package main

import (
	"slices"
	"testing"
)

func TestReorderArgs(t *testing.T) {
	app := newApp()
	cases := []struct {
		in, want []string
	}{
		{[]string{"rt", "delete", "web", "--force"}, []string{"rt", "delete", "--force", "web"}},
		{[]string{"rt", "--root", "/r", "run", "web", "-b", "/b", "--detach"}, []string{"rt", "--root", "/r", "run", "-b", "/b", "--detach", "web"}},
		{[]string{"rt", "kill", "web", "KILL", "--all"}, []string{"rt", "kill", "--all", "web", "KILL"}},
		{[]string{"rt", "create", "--bundle=/b", "web"}, []string{"rt", "create", "--bundle=/b", "web"}},
		{[]string{"rt", "exec", "web", "sh", "-c", "true"}, []string{"rt", "exec", "web", "sh", "-c", "true"}},
		{[]string{"rt", "ps", "web", "-ef"}, []string{"rt", "ps", "web", "-ef"}},
		{[]string{"rt", "--version"}, []string{"rt", "--version"}},
		{[]string{"rt", "nosuchverb", "x", "-f"}, []string{"rt", "nosuchverb", "x", "-f"}},
	}
	for _, tc := range cases {
		if got := reorderArgs(app, tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("reorderArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
