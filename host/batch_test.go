package host

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dohost/dohost/host/internal/guest"
)

// holdFirstBatch returns a hook for Options.beforeBatch that holds the
// first batch of events of kind until gate is closed, and closes entered
// when it begins to.
func holdFirstBatch(kind guest.Kind) (hook func(guest.Kind), entered, gate chan struct{}) {
	entered, gate = make(chan struct{}), make(chan struct{})
	var taken atomic.Bool // the others' batches pass at once
	return func(k guest.Kind) {
		if k != kind || !taken.CompareAndSwap(false, true) {
			return
		}
		close(entered)
		<-gate
	}, entered, gate
}

// heldFetches serves the Go probe with its first batch of object fetches
// held back (holdFirstBatch) and no time bound on a batch (a slow machine
// would end one after its first request), and reads its metrics.
func heldFetches(t *testing.T) (ts *testServer, entered, gate chan struct{}, metric func(name string, labels map[string]string) float64) {
	hold, entered, gate := holdFirstBatch(guest.ObjectFetch)
	ts = startProbeOpts(t, "go", Options{beforeBatch: hold, batchTime: time.Hour})
	admin := httptest.NewServer(ts.AdminHandler(nil))
	t.Cleanup(admin.Close)
	return ts, entered, gate, func(name string, labels map[string]string) float64 {
		return value(t, scrape(t, admin), name, labels)
	}
}

// TestFetchBatch: requests that arrive for an object while it is busy run
// together, one handler call after the other, with one commit: three
// requests held back behind the first give one commit, each writer gets
// its answer once the commit is durable, and the request whose handler
// wrote and then trapped between them loses its write and its instance,
// not the others' writes.
func TestFetchBatch(t *testing.T) {
	ts, entered, gate, metric := heldFetches(t)
	commits := func() float64 { return metric("dohost_commit_duration_seconds", nil) }
	stored := func() float64 {
		return metric("dohost_account_budget_used", map[string]string{"resource": "stored_bytes"})
	}
	before, storedBefore := commits(), stored()
	type answer struct {
		status int
		body   string
	}
	paths := []string{
		"/obj/st/put?name=b&key=k&value=1",
		"/obj/st/putexit?name=b&key=k",
		"/obj/st/put?name=b&key=j&value=3",
	}
	answers := make([]chan answer, len(paths))
	for i, p := range paths {
		answers[i] = make(chan answer, 1)
		go func() {
			status, body := ts.get(t, p)
			answers[i] <- answer{status, body}
		}()
		if i == 0 {
			<-entered // the first request waits for its batch to be taken
			continue
		}
		waitFor(t, "the request waiting", func() bool { return ts.Stats().ObjectsWaiting == int64(i+1) })
	}
	close(gate)
	for i, want := range []int{200, 502, 200} {
		if a := <-answers[i]; a.status != want {
			t.Errorf("%s: %d %q, want %d", paths[i], a.status, a.body, want)
		}
	}
	if n := commits() - before; n != 1 {
		t.Errorf("%v commits for a batch of three requests, want 1", n)
	}
	// The trapped request's write was rolled back: it counts toward the
	// account's stored data no more than it was stored. A put counts its
	// key twice, its value and 64 bytes (guest.writeOverhead); the
	// probe's constructor puts "starts", and it ran twice: the trap
	// replaced the instance.
	put := func(key, value string) float64 { return float64(2*len(key) + len(value) + 64) }
	want := put("starts", "1") + put("k", "1") + put("starts", "2") + put("j", "3")
	if got := stored() - storedBefore; got != want {
		t.Errorf("the batch counted %v stored bytes, want %v (%v more: the trapped put)", got, want, put("k", "written-before-exit"))
	}
	for path, want := range map[string]string{"/obj/st/get?name=b&key=k": `"value":"1"`, "/obj/st/get?name=b&key=j": `"value":"3"`} {
		if status, body := ts.get(t, path); status != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d %q, want %s", path, status, body, want)
		}
	}
	if got := ts.Stats().ObjectsFailed; got != 1 {
		t.Errorf("%d instances replaced after a trap, want 1", got)
	}
}

// TestStubCallBatch: stub calls from other objects that arrive while
// their object is busy run in its next batch too, with one commit: three
// objects each call T while a request to T is held back, and T commits
// once for the four. (Before, each stub call waited for T's turn alone
// and committed alone: seven commits here, not four.)
func TestStubCallBatch(t *testing.T) {
	ts, entered, gate, metric := heldFetches(t)
	commits := func() float64 { return metric("dohost_commit_duration_seconds", nil) }
	before := commits()
	first := make(chan int, 1)
	go func() {
		status, _ := ts.get(t, "/obj/st/put?name=T&key=first&value=1")
		first <- status
	}()
	<-entered // T's first request waits for its batch to be taken
	callers := []string{"A1", "A2", "A3"}
	answers := make(chan string, len(callers))
	for _, a := range callers {
		go func() {
			status, body := ts.get(t, "/obj/call?name="+a+"&chain=T&put=from-"+a)
			answers <- fmt.Sprintf("%s: %d %s", a, status, body)
		}()
	}
	// Each caller's request runs in its object and its stub call waits
	// in T's queue: two waiting apiece, and T's first request.
	waitFor(t, "the stub calls waiting", func() bool { return ts.Stats().ObjectsWaiting == int64(1+2*len(callers)) })
	close(gate)
	if status := <-first; status != 200 {
		t.Fatalf("T's first request: %d", status)
	}
	for range callers {
		if a := <-answers; !strings.Contains(a, ": 200 ") || !strings.Contains(a, `["T"]`) {
			t.Errorf("caller %s, want 200 and T's answer", a)
		}
	}
	// One commit for T's batch of four, one for each caller (its
	// constructor's write).
	if n := commits() - before; n != float64(1+len(callers)) {
		t.Errorf("%v commits, want %d: T's batch and each caller's", n, 1+len(callers))
	}
	for _, a := range callers {
		if status, body := ts.get(t, "/obj/st/get?name=T&key=from-"+a); status != 200 || !strings.Contains(body, `"value":"T"`) {
			t.Errorf("T's key from-%s: %d %q", a, status, body)
		}
	}
}
