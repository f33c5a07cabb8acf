package host

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestShutdown_RunningGuest: Close while a guest call runs (an endless
// loop with ten minutes of cpu_ms, as after a drain that timed out) stops
// the call, waits for it, and only then releases its memory: the process
// lives, the client gets an answer, and Close returns.
func TestShutdown_RunningGuest(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, filepath.Join(repoRoot(), "testdata", "hostile", "loop", "guest.wasm"), `name = "loop"
[durable_objects]
bindings = [{ name = "NS", class_name = "Hostile" }]
[limits]
cpu_ms = 600000
`)
	ts := startServer(t, dir+"/data", cfg)
	ts.expect(t, "GET", "/a", 200, "new")
	done := make(chan int)
	go func() {
		status, _ := ts.do(t, "POST", "/a")
		done <- status
	}()
	// The loop runs once a guest call is under way in the object: the
	// request's own work, the Worker's call, the delivery and the object's.
	for ts.load.Running() < 4 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if err := ts.Server.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	t.Logf("Close took %v with an endless loop running", time.Since(start))
	if status := <-done; status != 503 {
		t.Errorf("the looping request got %d, want 503 (the host is shutting down)", status)
	}
}
