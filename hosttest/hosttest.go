// Package hosttest runs a dohost in the test process, so that a guest's
// author — in Go, C, Rust, AssemblyScript or anything else that builds a
// .wasm against the dohost ABI — tests an object with go test, with no
// server started by hand:
//
//	func TestCounter(t *testing.T) {
//		h := hosttest.Start(t, "wrangler.toml")
//		status, body := h.Do("POST", "/?name=visits", "")
//		if status != 200 || body != `{"name":"visits","value":1}` { … }
//		h.Restart() // storage survives: the host reopens the same data
//		if v := h.Storage("Counter", "visits")["value"]; string(v) != "1" { … }
//	}
//
// Each Host has its own temporary data directory and serves on 127.0.0.1
// with a port the kernel picks; it closes when the test ends, and its log
// is shown when the test fails.
package hosttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dohost/dohost/host"
)

// Options configure a Host. The zero value is fine.
type Options struct {
	// DataDir is the data directory; empty: a new temporary one.
	DataDir string
	// Server's options, besides the configs, data directory and logger.
	Server host.Options
}

// Host is a running dohost serving one or more workers.
type Host struct {
	// URL is where the host serves: http://127.0.0.1:PORT.
	URL string
	// Client is an HTTP client for it.
	Client *http.Client

	t       testing.TB
	configs []string
	opts    Options
	srv     *host.Server
	hs      *httptest.Server
	logs    *logBuffer
	account string
	worker  string
}

// Start starts a host for the workers of configs (wrangler.toml files whose
// main is each worker's .wasm) and stops it when the test ends. A config
// the host refuses fails the test with the host's reasons.
func Start(t testing.TB, configs ...string) *Host {
	t.Helper()
	return StartOpts(t, Options{}, configs...)
}

// StartOpts is Start with options.
func StartOpts(t testing.TB, o Options, configs ...string) *Host {
	t.Helper()
	if len(configs) == 0 {
		t.Fatal("hosttest: give at least one wrangler.toml")
	}
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	h := &Host{t: t, configs: configs, opts: o, logs: &logBuffer{}}
	h.account, h.worker = firstWorker(t, configs[0])
	h.start()
	t.Cleanup(func() {
		h.stop()
		if t.Failed() {
			t.Logf("dohost log:\n%s", h.logs)
		}
	})
	return h
}

// firstWorker reads the account and name of the first config's worker,
// which Storage and KV default to.
func firstWorker(t testing.TB, config string) (account, name string) {
	account, name, err := host.ConfigWorker(config)
	if err != nil {
		t.Fatalf("hosttest: %v", err)
	}
	return account, name
}

func (h *Host) start() {
	h.t.Helper()
	o := h.opts.Server
	o.Configs, o.DataDir = h.configs, h.opts.DataDir
	o.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := host.New(context.Background(), o)
	if err != nil {
		h.t.Fatalf("hosttest: the host refused to start: %v", err)
	}
	h.srv = srv
	h.hs = httptest.NewServer(srv)
	h.URL, h.Client = h.hs.URL, h.hs.Client()
}

func (h *Host) stop() {
	if h.srv == nil {
		return
	}
	h.hs.Close()
	if err := h.srv.Close(context.Background()); err != nil {
		h.t.Errorf("hosttest: close: %v", err)
	}
	h.srv = nil
}

// Restart stops the host and starts it again on the same data directory,
// as a restart of the process would: live objects lose their memory,
// stored data and alarms stay.
func (h *Host) Restart() {
	h.t.Helper()
	h.stop()
	h.start()
}

// Server returns the running host, for what Host does not wrap.
func (h *Host) Server() *host.Server { return h.srv }

// DataDir returns the host's data directory.
func (h *Host) DataDir() string { return h.opts.DataDir }

// Logs returns what the host and its guests have logged so far.
func (h *Host) Logs() string { return h.logs.String() }

// Do sends a request with body (none if "") to path and returns the
// status and the body of the response; a transport error fails the test.
func (h *Host) Do(method, path, body string) (int, string) {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.URL+path, r)
	if err != nil {
		h.t.Fatalf("hosttest: %v", err)
	}
	resp, err := h.Client.Do(req)
	if err != nil {
		h.t.Fatalf("hosttest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("hosttest: %s %s: reading the body: %v", method, path, err)
	}
	return resp.StatusCode, string(b)
}

// WebSocketURL returns the ws:// URL of path, to dial with any WebSocket
// client.
func (h *Host) WebSocketURL(path string) string {
	return "ws" + strings.TrimPrefix(h.URL, "http") + path
}

// Deploy deploys config (a wrangler.toml and the .wasm its main names) as
// a new version while the host serves, as dohost deploy does.
func (h *Host) Deploy(config string) error {
	req, err := host.ReadDeploy(config)
	if err != nil {
		return err
	}
	req.By = "hosttest"
	_, err = h.srv.Deploy(context.Background(), req)
	return err
}

// Storage returns the storage of the object of class that object names
// (its name, as idFromName takes it, or its ID) in the first config's
// worker: every key, as last committed.
func (h *Host) Storage(class, object string) map[string][]byte {
	h.t.Helper()
	return h.StorageOf(h.account, h.worker, class, object)
}

// StorageOf is Storage for any account and worker.
func (h *Host) StorageOf(account, worker, class, object string) map[string][]byte {
	h.t.Helper()
	out := map[string][]byte{}
	after := ""
	for {
		es, more, err := h.srv.ObjectStorage(account, worker, class, object, "", after, 0)
		if err != nil {
			h.t.Fatalf("hosttest: storage of %s %s: %v", class, object, err)
		}
		for _, e := range es {
			out[e.Key] = e.Value
		}
		if !more || len(es) == 0 {
			return out
		}
		after = es[len(es)-1].Key
	}
}

// KV returns the value of key in the KV namespace whose id (its
// kv_namespaces id) is namespace, of the first config's account, and
// whether there is one.
func (h *Host) KV(namespace, key string) ([]byte, bool) {
	h.t.Helper()
	v, err := h.srv.KVGet(h.account, namespace, key)
	switch {
	case err == nil:
		return v, true
	case errors.Is(err, host.ErrNotFound):
		return nil, false
	}
	h.t.Fatalf("hosttest: KV %s %q: %v", namespace, key, err)
	return nil, false
}

// PutKV writes key in the KV namespace whose id is namespace, of the first
// config's account: data a test sets up before its requests.
func (h *Host) PutKV(namespace, key string, value []byte) {
	h.t.Helper()
	if err := h.srv.KVPut(h.account, namespace, key, value); err != nil {
		h.t.Fatalf("hosttest: put KV %s %q: %v", namespace, key, err)
	}
}

// WriteConfig writes a wrangler.toml for the module at wasm into dir,
// with body as the rest of it, and returns its path: for tests that make
// their config rather than keep one.
func WriteConfig(t testing.TB, dir, wasm, body string) string {
	t.Helper()
	abs, err := filepath.Abs(wasm)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "wrangler.toml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf("main = %q\n%s", abs, body)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// logBuffer collects the host's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
