package hosttest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dohost/dohost/hosttest"
)

// counterConfig builds the Go counter example and writes its config.
func counterConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	wasm := filepath.Join(dir, "counter.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", wasm, "./guests/examples/counter")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the counter: %v\n%s", err, b)
	}
	return hosttest.WriteConfig(t, dir, wasm, `name = "counter"
kv_namespaces = [{ binding = "KV", id = "kv1" }]
[durable_objects]
bindings = [{ name = "COUNTERS", class_name = "Counter" }]
`)
}

func TestHost(t *testing.T) {
	cfg := counterConfig(t)
	h := hosttest.Start(t, cfg)
	for _, want := range []string{`{"name":"visits","value":1}`, `{"name":"visits","value":2}`} {
		if status, body := h.Do("POST", "/?name=visits", ""); status != 200 || body != want {
			t.Fatalf("POST: %d %s, want %s", status, body, want)
		}
	}
	if v := h.Storage("Counter", "visits")["value"]; string(v) != "2" {
		t.Fatalf("storage: %q", v)
	}
	h.Restart()
	if status, body := h.Do("GET", "/?name=visits", ""); status != 200 || body != `{"name":"visits","value":2}` {
		t.Fatalf("after a restart: %d %s", status, body)
	}
	if err := h.Deploy(cfg); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if status, body := h.Do("POST", "/?name=visits", ""); status != 200 || body != `{"name":"visits","value":3}` {
		t.Fatalf("after a deploy: %d %s", status, body)
	}
	h.PutKV("kv1", "k", []byte("v"))
	if v, ok := h.KV("kv1", "k"); !ok || string(v) != "v" {
		t.Fatalf("KV: %q %v", v, ok)
	}
	if _, ok := h.KV("kv1", "missing"); ok {
		t.Fatal("a missing KV key was found")
	}
	if status, _ := h.Do("GET", "/", ""); status != 400 {
		t.Fatalf("a request without a name: %d", status)
	}
}
