package cniconfig

import (
	"encoding/json"
	"testing"
)

func TestDefaultConfList(t *testing.T) {
	var list struct {
		Name    string
		Plugins []struct{ Type string }
	}
	if err := json.Unmarshal(DefaultConfList, &list); err != nil {
		t.Fatalf("default conflist is not JSON: %v", err)
	}
	if list.Name != DefaultNetwork {
		t.Errorf("name = %q", list.Name)
	}
	var types []string
	for _, p := range list.Plugins {
		types = append(types, p.Type)
	}
	want := []string{"bridge", "portmap", "tuning"}
	if len(types) != len(want) {
		t.Fatalf("plugins = %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("plugins = %v, want %v", types, want)
		}
	}
}
