package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildVersioned builds testdata/guests/deployprobe as version v into
// dir, with a config naming it, and returns the config.
func buildVersioned(t *testing.T, dir, v string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	wasm := filepath.Join(dir, "guest.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-ldflags", "-X main.version="+v, "-o", wasm, "./testdata/guests/deployprobe")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build deployprobe: %v\n%s", err, b)
	}
	cfg := filepath.Join(dir, "wrangler.toml")
	body := "main = \"guest.wasm\"\nname = \"versioned\"\n[durable_objects]\nbindings = [{ name = \"OBJ\", class_name = \"Versioned\" }]\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// objVersion POSTs to an object of the child and returns the version
// that answered.
func objVersion(t *testing.T, c *child) string {
	t.Helper()
	resp, err := http.Post(c.url+"/obj?name=a", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct{ Version string }
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST: %d %v", resp.StatusCode, err)
	}
	return r.Version
}

// TestCLI_DeployRollback drives a running host through its admin API on
// a unix socket: deploy, versions, rollback, and the exit codes of a
// refusal, a usage error and an unreachable host.
func TestCLI_DeployRollback(t *testing.T) {
	dir := t.TempDir()
	v1 := buildVersioned(t, filepath.Join(dir, "v1"), "v1")
	v2 := buildVersioned(t, filepath.Join(dir, "v2"), "v2")
	sock := filepath.Join(dir, "admin.sock")
	const token = "0123456789abcdef0123456789abcdef"
	c := startChildWith(t, []string{"--config", v1, "--data", filepath.Join(dir, "data"), "--admin-addr", "unix:" + sock},
		[]string{"DOHOST_ADMIN_TOKEN=" + token})
	if v := objVersion(t, c); v != "v1" {
		t.Fatalf("served %s, want v1", v)
	}
	admin := "unix:" + sock
	cli := func(want int, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != want {
			t.Fatalf("dohost %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, &out, &errOut)
		}
		return out.String() + errOut.String()
	}
	if out := cli(exitRefused, "deploy", "--config", v2, "--admin", admin); !strings.Contains(out, "no token") {
		t.Errorf("deploy without a token: %s", out)
	}
	if out := cli(0, "deploy", "--config", v2, "--admin", admin, "--token", token); !strings.Contains(out, "deployed default/versioned version 2") {
		t.Errorf("deploy: %s", out)
	}
	if v := objVersion(t, c); v != "v2" {
		t.Fatalf("after the deploy: %s", v)
	}
	t.Setenv("DOHOST_TOKEN", token)
	t.Setenv("DOHOST_ADMIN", admin)
	if out := cli(0, "versions", "--worker", "versioned"); !strings.Contains(out, "config") || !strings.Contains(out, "active") {
		t.Errorf("versions: %s", out)
	}
	if out := cli(0, "rollback", "--worker", "versioned"); !strings.Contains(out, "back to version 1, as version 3") {
		t.Errorf("rollback: %s", out)
	}
	if v := objVersion(t, c); v != "v1" {
		t.Fatalf("after the rollback: %s", v)
	}
	if out := cli(0, "workers"); !strings.Contains(out, "versioned") {
		t.Errorf("workers: %s", out)
	}
	if out := cli(exitRefused, "rollback", "--worker", "versioned", "--version", "7"); !strings.Contains(out, "no such version") {
		t.Errorf("rollback to a missing version: %s", out)
	}
	cli(exitUsage, "rollback")
	cli(exitUsage, "deploy", "--config", filepath.Join(dir, "missing.toml"))
	if out := cli(exitUnreachable, "workers", "--admin", "unix:"+filepath.Join(dir, "nothing.sock")); !strings.Contains(out, "cannot reach") {
		t.Errorf("unreachable: %s", out)
	}
}
