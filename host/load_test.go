package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNew_LoadErrors: problems with a worker are errors at start, each
// message naming the file and what to do.
func TestNew_LoadErrors(t *testing.T) {
	td := filepath.Join(repoRoot(), "testdata")
	notWasm := filepath.Join(t.TempDir(), "not.wasm")
	if err := os.WriteFile(notWasm, []byte("#!/bin/sh\necho hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		config func(t *testing.T) string
		want   []string
	}{
		{"abi v2 guest", func(*testing.T) string { return filepath.Join(td, "abi-v2", "wrangler.toml") },
			[]string{"built for dohost ABI v2", "supports ABI v1"}},
		{"class not exported", func(*testing.T) string { return filepath.Join(td, "no-class", "wrangler.toml") },
			[]string{`binding MISSING: class "Missing" is not exported by the module (it exports: Present)`}},
		{"not wasm", func(t *testing.T) string {
			return writeConfig(t, t.TempDir(), notWasm, `name = "w"`)
		}, []string{"is not a WebAssembly module"}},
		{"missing module", func(t *testing.T) string {
			return writeConfig(t, t.TempDir(), "/nonexistent/x.wasm", `name = "w"`)
		}, []string{"wrangler.toml:1: main: guest module /nonexistent/x.wasm: no such file or directory"}},
		{"go guest without the class", func(t *testing.T) string {
			cfg := strings.Replace(roomConfig, `bindings = [`, `bindings = [{ name = "CHAT", class_name = "ChatRoom" }, `, 1)
			return writeConfig(t, t.TempDir(), guestWasm(t, "guests/examples/room"), cfg)
		}, []string{`binding CHAT: class "ChatRoom" is not exported by the module (it exports: YourDurableObject)`}},
		{"no constructor", func(*testing.T) string { return filepath.Join(td, "no-ctor", "wrangler.toml") },
			[]string{"the config binds Durable Object classes, but the module does not export dohost_object_new (abi/ABI.md §3)"}},
		{"go guest built as a command", func(t *testing.T) string {
			return writeConfig(t, t.TempDir(), guestCommand(t, "guests/examples/room"), roomConfig)
		}, []string{"exports _start and no _initialize", "GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared"}},
		{"bad config", func(t *testing.T) string {
			return writeConfig(t, t.TempDir(), guestWasm(t, "guests/examples/room"), "name = 3\nfoo = 1\n")
		}, []string{"wrangler.toml:2: name: must be a string, not an integer", "wrangler.toml:3: foo: unknown key"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(context.Background(), Options{Configs: []string{c.config(t)}, DataDir: t.TempDir()})
			if err == nil {
				t.Fatal("New succeeded; want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

// TestNew_DataDirInUse: a second server on a data directory another one
// holds is refused with the holder's pid; once the first closes, a new one
// starts.
func TestNew_DataDirInUse(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, guestWasm(t, "guests/examples/room"), roomConfig)
	ts := startServer(t, dir+"/data", cfg)
	_, err := New(context.Background(), Options{Configs: []string{cfg}, DataDir: dir + "/data"})
	want := fmt.Sprintf("%s is in use by another dohost (pid %d)", dir+"/data", os.Getpid())
	if !errors.Is(err, ErrDataDirInUse) || !strings.Contains(err.Error(), want) {
		t.Fatalf("second server: %v; want %q", err, want)
	}
	ts.stop(t)
	startServer(t, dir+"/data", cfg)
}

// guestCommand builds the Go guest in pkg as a WASI command: without
// -buildmode=c-shared, as a Go author might by mistake.
func guestCommand(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "command.wasm")
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// TestNew_OneWorkerFails: of two tenants, one whose _initialize never
// returns is stopped at the startup limit and fails to load; the host
// starts anyway and serves the other, and the broken one's routes answer
// 503. (The host used to wait out the broken tenant's cpu_ms, then exit:
// every tenant down for one tenant's bug.) With only the broken worker,
// the host does not start.
func TestNew_OneWorkerFails(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	if err := os.MkdirAll(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	badCfg := writeConfig(t, bad, filepath.Join(repoRoot(), "testdata", "hostile", "initloop", "guest.wasm"),
		"name = \"bad\"\naccount_id = \"other\"\nroutes = [\"*/bad/*\"]\n")
	ts := startServerOpts(t, Options{DataDir: filepath.Join(dir, "data"), StartupTimeout: 200 * time.Millisecond},
		badCfg, writeConfig(t, dir, guestWasm(t, "testdata/guests/probe"), probeConfig))
	if s := ts.Stats(); s.WorkersFailed != 1 {
		t.Errorf("%d workers failed, want 1", s.WorkersFailed)
	}
	if !strings.Contains(ts.logs.String(), "worker failed to load") || !strings.Contains(ts.logs.String(), "ran past its time limit") {
		t.Errorf("the log does not say why the worker failed:\n%s", ts.logs)
	}
	ts.expect(t, "GET", "/bad/x", 503, "the worker failed to start")
	ts.getJSON(t, "/id/name?name=x", 200, nil)

	_, err := New(context.Background(), Options{DataDir: filepath.Join(dir, "data2"), StartupTimeout: 200 * time.Millisecond, Configs: []string{badCfg}})
	if err == nil || !strings.Contains(err.Error(), "ran past its time limit") {
		t.Errorf("a host of one worker that fails to load: %v", err)
	}
}
