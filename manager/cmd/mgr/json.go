package main

import (
	"encoding/json"
	"os"
)

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// printJSON writes v indented, as docker's inspect commands do.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "    ")
	return enc.Encode(v)
}
