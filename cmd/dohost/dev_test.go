package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDev runs the dev loop on a worker whose [build] command copies
// src/next.wasm over its module: a changed source rebuilds and reloads it
// with its storage kept, and a broken one is refused while the running
// version serves on.
func TestDev(t *testing.T) {
	dir := t.TempDir()
	buildVersioned(t, dir, "v1") // guest.wasm and wrangler.toml
	cfg := filepath.Join(dir, "wrangler.toml")
	b, _ := os.ReadFile(cfg)
	// The whole directory is watched: the module the build writes and the
	// data directory must not start builds of their own.
	b = append(b, "\n[build]\ncommand = \"cp src/next.wasm guest.wasm\"\nwatch_dir = \".\"\n"...)
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Secrets for development, as wrangler reads them.
	if err := os.WriteFile(filepath.Join(dir, ".dev.vars"), []byte("# local only\nAPI_KEY=\"dev-key\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v1, _ := os.ReadFile(filepath.Join(dir, "guest.wasm"))
	writeSource := func(wasm []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "src", "next.wasm"), wasm, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeSource(v1)
	v2dir := filepath.Join(dir, "v2")
	buildVersioned(t, v2dir, "v2")
	v2, _ := os.ReadFile(filepath.Join(v2dir, "guest.wasm"))

	d := startDev(t, cfg, filepath.Join(dir, "data"))
	waitFor := d.waitFor
	waitFor("secrets from .dev.vars: 1")
	addr := d.serving()
	c := &child{url: addr}
	if v := objVersion(t, c); v != "v1" {
		t.Fatalf("served %s, want v1", v)
	}
	resp, err := http.Get(addr + "/env?name=API_KEY")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "dev-key" {
		t.Fatalf("API_KEY from .dev.vars: %q", b)
	}
	writeSource(v2)
	waitFor("built")
	waitFor("reloaded: version 2")
	if v := objVersion(t, c); v != "v2" {
		t.Fatalf("after the reload: %s", v)
	}
	writeSource([]byte("\x00asm broken"))
	waitFor("reload refused")
	if v := objVersion(t, c); v != "v2" {
		t.Fatalf("after a broken build: %s", v)
	}
	// Requests wrote to the data directory, and builds wrote the module:
	// neither is a source change.
	builds := 0
	deadline := time.After(3 * devPoll)
	for {
		select {
		case l := <-d.lines:
			if strings.Contains(l, "building") {
				builds++
			}
			continue
		case <-deadline:
		}
		break
	}
	if builds > 0 {
		t.Errorf("%d builds ran with no source changed", builds)
	}
}

// devLoop is a dev loop a test runs: its lines, read as they come so that
// it never waits on the test.
type devLoop struct {
	t     *testing.T
	lines chan string
}

// startDev runs the dev loop on config, its data in data, until the test
// ends.
func startDev(t *testing.T, config, data string) *devLoop {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		done <- dev(ctx, devOptions{config: config, listen: "127.0.0.1:0", data: data}, pw, io.Discard)
		pw.Close()
	}()
	d := &devLoop{t: t, lines: make(chan string, 100)}
	go func() {
		defer close(d.lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			d.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cancel()
		go func() {
			for range d.lines { // what it says while it stops
			}
		}()
		<-done
	})
	return d
}

// waitFor reads the dev loop's lines until one contains s: the readiness
// signal of each step.
func (d *devLoop) waitFor(s string) string {
	d.t.Helper()
	for l := range d.lines {
		if strings.Contains(l, s) {
			return l
		}
	}
	d.t.Fatalf("the dev loop ended before it said %q", s)
	return ""
}

// serving waits until the dev loop serves and returns its URL.
func (d *devLoop) serving() string {
	d.t.Helper()
	l := d.waitFor("serving")
	addr := l[strings.Index(l, "http://"):]
	return addr[:strings.Index(addr, " ")]
}
