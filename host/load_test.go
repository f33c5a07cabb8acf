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
