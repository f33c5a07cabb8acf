package main

import (
	"bytes"
	"regexp"
	"testing"
)

// TestVersion: `dohost version` names the module's version, the Go that
// built it and the ABI version.
func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"version"}, &out, &out); code != 0 {
		t.Fatalf("exit code %d: %s", code, out.String())
	}
	want := regexp.MustCompile(`^dohost \S+.*\ngo\S+ \S+/\S+\nABI v1 \(import module "dohost", \d+ host functions\)\n$`)
	if !want.MatchString(out.String()) {
		t.Errorf("dohost version printed %q", out.String())
	}
}
