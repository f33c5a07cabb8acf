package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDev_JavaScript: the dev loop on a Worker in JavaScript reloads it
// when a file it imports changes, and refuses a change that does not
// parse, saying where, while the running version serves on.
func TestDev_JavaScript(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	// The runtime, built here, compiled into the data directory's cache by
	// a test binary without the race detector (as the host's tests do).
	rt := filepath.Join(dir, "dohost-js.wasm")
	// make holds a lock on build/, where it unpacks and compiles QuickJS,
	// so that the host's tests, running at once, do not build over it.
	build := exec.Command("sh", "-c", `mkdir -p build && exec flock build make -s --no-print-directory JS_RUNTIME="$1" "$1"`, "sh", rt)
	build.Dir = "../.."
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the JavaScript runtime: %v\n%s", err, b)
	}
	pre := exec.Command("go", "test", "-count=1", "./host/testdata/precompile")
	pre.Dir = "../.."
	pre.Env = append(os.Environ(), "PRECOMPILE_CACHE="+filepath.Join(data, "wazero-cache"), "PRECOMPILE_MODULE="+rt)
	if b, err := pre.CombinedOutput(); err != nil {
		t.Fatalf("precompile the JavaScript runtime: %v\n%s", err, b)
	}
	t.Setenv("DOHOST_JS_RUNTIME", rt)

	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("wrangler.toml", "name = \"jsdev\"\nmain = \"src/index.js\"\n")
	write("src/index.js", "import { version } from \"./version.js\";\nexport default { fetch() { return new Response(version); } };\n")
	write("src/version.js", "export const version = \"v1\";\n")

	d := startDev(t, filepath.Join(dir, "wrangler.toml"), data)
	waitFor := d.waitFor
	addr := d.serving()
	get := func() string {
		t.Helper()
		resp, err := http.Get(addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if v := get(); v != "v1" {
		t.Fatalf("served %q, want v1", v)
	}
	write("src/version.js", "export const version = \"v2\";\n")
	waitFor("reloaded: version 2")
	if v := get(); v != "v2" {
		t.Fatalf("after the reload: %q", v)
	}
	write("src/version.js", "export const version = ;\n")
	if l := waitFor("not reloaded"); !strings.Contains(l, "version.js:1:24") {
		t.Errorf("the refusal does not say where: %s", l)
	}
	if v := get(); v != "v2" {
		t.Fatalf("after a broken change: %q", v)
	}
}
