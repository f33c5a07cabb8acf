package host

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// busyWorker serves testdata/hostile/workerloop with one instance and no
// queue: while its POST loops, every other request is refused for load.
func busyWorker(t *testing.T, o Options) *testServer {
	t.Helper()
	dir := t.TempDir()
	o.DataDir = filepath.Join(dir, "data")
	cfg := writeConfig(t, dir, filepath.Join(repoRoot(), "testdata", "hostile", "workerloop", "guest.wasm"),
		"name = \"busy\"\n[durable_objects]\nbindings = [{ name = \"NS\", class_name = \"Hostile\" }]\n"+
			"[limits]\ncpu_ms = 60000\nmax_queue = 0\n[dohost]\nworker_instances = 1\n")
	ts := startServerOpts(t, o, cfg)
	// Stop the loop before the test server's cleanup, which waits for
	// every handler.
	t.Cleanup(func() { _ = ts.Server.Close(context.Background()) })
	ts.expect(t, "GET", "/", 200, "ok")
	go func() {
		// Ends when the server stops: the loop's call traps then.
		req, _ := http.NewRequest("POST", ts.URL+"/", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	for ts.load.Running() < 2 { // the loop's request, in its guest call
		time.Sleep(time.Millisecond)
	}
	return ts
}

// refused sends a GET with a body to the busy worker and returns the
// response, its body read, and how long it took.
func refused(t *testing.T, ctx context.Context, ts *testServer) (*http.Response, string, time.Duration, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/", strings.NewReader(strings.Repeat("x", 4096)))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", time.Since(start), err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), time.Since(start), nil
}

// TestRefusalPause: a request refused for load (here every Worker
// instance busy, and no room to wait) is answered 503 with Retry-After and
// its request id after the refusal pause, not at once: eight clients that
// retried at once got 4,400 refusals a second from a worker whose
// instances loop, and the host's CPU for them slowed every other tenant
// (the soak's workerloop: the victim's p99 2.2-3.1× its baseline,
// 0.7-1.3× with the pause). While it waits the request holds none of what it held:
// its body's share of the account's budget is back, and it no longer
// counts as waiting work, which would throttle other long calls.
func TestRefusalPause(t *testing.T) {
	const pause = 300 * time.Millisecond
	type held struct{ bodies, inflight int64 }
	paused := make(chan held, 4)
	var ts *testServer
	ts = busyWorker(t, Options{RefusalPause: pause, onRefusalPause: func() {
		paused <- held{ts.workers()[0].tenant.Bodies.Tenant.Used(), ts.load.Inflight()}
	}})
	before := held{ts.workers()[0].tenant.Bodies.Tenant.Used(), ts.load.Inflight()} // the loop's request

	for i := 0; i < 3; i++ {
		resp, body, took, err := refused(t, context.Background(), ts)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 503 || !strings.Contains(body, "busy") {
			t.Fatalf("a request to a busy worker: %d %q, want 503", resp.StatusCode, body)
		}
		if id := resp.Header.Get(RequestIDHeader); id == "" || !strings.Contains(body, id) {
			t.Errorf("the refusal's request id: header %q, body %q", id, body)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Error("the refusal has no Retry-After")
		}
		// A lower bound, which a slow machine only makes longer.
		if took < pause {
			t.Errorf("refused after %v, before the pause of %v", took, pause)
		}
		if h := <-paused; h != before {
			t.Errorf("during the pause the host held %+v (bodies' bytes, requests in flight), want %+v: the loop's alone", h, before)
		}
	}
}

// TestRefusalPause_Ends: a paused refusal ends when its client goes away,
// and when the host stops (answered then), however long the pause.
func TestRefusalPause_Ends(t *testing.T) {
	paused := make(chan struct{}, 2)
	ts := busyWorker(t, Options{RefusalPause: time.Hour, onRefusalPause: func() { paused <- struct{}{} }})

	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() {
		_, _, _, err := refused(t, ctx, ts)
		gone <- err
	}()
	<-paused
	cancel()
	if err := <-gone; err == nil {
		t.Error("a canceled request got its answer")
	}

	answered := make(chan int, 1)
	go func() {
		resp, _, _, err := refused(t, context.Background(), ts)
		if err != nil {
			t.Error(err)
			answered <- 0
			return
		}
		answered <- resp.StatusCode
	}()
	<-paused
	if err := ts.Server.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if status := <-answered; status != 503 {
		t.Errorf("a paused refusal when the host stopped: %d, want 503", status)
	}
	// The httptest server waits for every handler: one still pausing for
	// its canceled client would hold this for an hour.
	ts.http.Close()
}
