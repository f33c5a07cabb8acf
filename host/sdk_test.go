package host

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSDK_OwnModule: a guest in a Go module of its own (testdata/ownmodule)
// that requires github.com/dohost/dohost and replaces it with a checkout,
// as the README says, builds with the README's command and serves.
func TestSDK_OwnModule(t *testing.T) {
	dir := t.TempDir()
	mod := filepath.Join(repoRoot(), "testdata", "ownmodule")
	wasm := filepath.Join(dir, "greeter.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", wasm, ".")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-mod=readonly")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the guest in its own module: %v\n%s", err, b)
	}
	cfg, err := os.ReadFile(filepath.Join(mod, "wrangler.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wrangler.toml"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, filepath.Join(dir, "data"), filepath.Join(dir, "wrangler.toml"))
	ts.expect(t, "GET", "/?name=ada", 200, "hello ada, 1\n")
	ts.expect(t, "GET", "/?name=ada", 200, "hello ada, 2\n")
}
