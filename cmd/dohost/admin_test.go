package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// deployprobe is built once (padded as host's tests pad it), and each
// version is that build with its version string rewritten.
var deployprobe struct {
	once sync.Once
	wasm []byte
	err  error
}

const probeVersionPad = "v0______________"

// buildVersioned writes deployprobe as version v into dir, with a config
// naming it, and returns the config.
func buildVersioned(t *testing.T, dir, v string) string {
	t.Helper()
	deployprobe.once.Do(func() {
		out := filepath.Join(t.TempDir(), "deployprobe.wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-ldflags", "-X main.version="+probeVersionPad, "-o", out, "./testdata/guests/deployprobe")
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if b, err := cmd.CombinedOutput(); err != nil {
			deployprobe.err = fmt.Errorf("build deployprobe: %v\n%s", err, b)
			return
		}
		deployprobe.wasm, deployprobe.err = os.ReadFile(out)
	})
	if deployprobe.err != nil {
		t.Fatal(deployprobe.err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	wasm := bytes.ReplaceAll(deployprobe.wasm, []byte(probeVersionPad), []byte(v+strings.Repeat("_", len(probeVersionPad)-len(v))))
	if err := os.WriteFile(filepath.Join(dir, "guest.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
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
	// The data tools, through the admin API.
	cli(0, "kv", "put", "--namespace-id", "ns1", "greeting", "hello")
	if out := cli(0, "kv", "get", "--namespace-id", "ns1", "greeting"); out != "hello" {
		t.Errorf("kv get: %q", out)
	}
	if out := cli(0, "kv", "list", "--namespace-id", "ns1"); out != "greeting\n" {
		t.Errorf("kv list: %q", out)
	}
	if out := cli(exitRefused, "kv", "get", "--namespace-id", "ns1", "missing"); !strings.Contains(out, "not found") {
		t.Errorf("kv get of a missing key: %q", out)
	}
	if out := cli(0, "objects", "list", "--worker", "versioned", "--class", "Versioned"); !strings.Contains(out, " a ") {
		t.Errorf("objects list: %q", out)
	}
	if out := cli(0, "objects", "inspect", "--worker", "versioned", "--class", "Versioned", "a"); !strings.Contains(out, `"name": "a"`) || !strings.Contains(out, `"keys": 1`) {
		t.Errorf("objects inspect: %q", out)
	}
	if out := cli(0, "objects", "storage", "--worker", "versioned", "--class", "Versioned", "a"); !strings.HasPrefix(out, "value\t") {
		t.Errorf("objects storage: %q", out)
	}
	backup := filepath.Join(dir, "backup")
	if out := cli(0, "backup", "--to", backup); !strings.Contains(out, "backup written") {
		t.Errorf("backup: %q", out)
	}
	if out := cli(exitRefused, "kv", "get", "--namespace-id", "ns1", "--data", filepath.Join(dir, "data"), "greeting"); !strings.Contains(out, "in use") {
		t.Errorf("kv on a data directory a host holds: %q", out)
	}
	if out := cli(0, "restore", "--from", backup, "--data", filepath.Join(dir, "restored")); !strings.Contains(out, "restored") {
		t.Errorf("restore: %q", out)
	}
	if out := cli(0, "kv", "get", "--namespace-id", "ns1", "--data", filepath.Join(dir, "restored"), "greeting"); out != "hello" {
		t.Errorf("kv get from the restored data directory: %q", out)
	}
	cli(exitUsage, "objects", "delete", "--worker", "versioned")
	cli(exitUsage, "rollback")
	cli(exitUsage, "deploy", "--config", filepath.Join(dir, "missing.toml"))
	if out := cli(exitUnreachable, "workers", "--admin", "unix:"+filepath.Join(dir, "nothing.sock")); !strings.Contains(out, "cannot reach") {
		t.Errorf("unreachable: %s", out)
	}
}
