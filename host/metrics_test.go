package host

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dohost/dohost/abi"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads the admin handler's /metrics and parses it as Prometheus
// does.
func scrape(t *testing.T, admin *httptest.Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(admin.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mf
}

// value returns the value of the metric name whose labels include want.
func value(t *testing.T, mf map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f := mf[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.Metric {
		for _, l := range m.Label {
			if v, ok := want[l.GetName()]; ok && v != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no %s with labels %v", name, want)
	return 0
}

// TestMetrics: the counters move as requests flow, scraped over HTTP and
// parsed; /healthz and /readyz answer, /readyz 503 once stopping.
func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, filepath.Join(dir, "data"), writeConfig(t, dir, exampleWasm(t, "room"), roomConfig))
	admin := httptest.NewServer(ts.AdminHandler(nil))
	defer admin.Close()

	before := scrape(t, admin)
	if got := value(t, before, "dohost_objects_started_total", nil); got != 0 {
		t.Fatalf("objects started before any request: %v", got)
	}
	for i := 0; i < 3; i++ {
		ts.getJSON(t, "/?roomId=lobby", 200, nil)
	}
	ts.getJSON(t, "/", 400, nil) // no roomId
	mf := scrape(t, admin)
	worker := map[string]string{"worker": "default/my-worker"}
	if got := value(t, mf, "dohost_http_requests_total", map[string]string{"worker": "default/my-worker", "code": "200"}); got != 3 {
		t.Errorf("requests answered 200: %v, want 3", got)
	}
	if got := value(t, mf, "dohost_http_requests_total", map[string]string{"worker": "default/my-worker", "code": "400"}); got != 1 {
		t.Errorf("requests answered 400: %v, want 1", got)
	}
	if got := value(t, mf, "dohost_http_request_duration_seconds", worker); got != 4 {
		t.Errorf("request durations observed: %v, want 4", got)
	}
	if got := value(t, mf, "dohost_objects_started_total", nil); got != 1 {
		t.Errorf("objects started: %v, want 1", got)
	}
	if got := value(t, mf, "dohost_objects_live", nil); got != 1 {
		t.Errorf("objects live: %v, want 1", got)
	}
	class := map[string]string{"class": "default/my-worker/YourDurableObject", "handler": "fetch"}
	if got := value(t, mf, "dohost_object_calls_total", map[string]string{"class": class["class"], "handler": "fetch", "result": "ok"}); got != 3 {
		t.Errorf("object fetches: %v, want 3", got)
	}
	if got := value(t, mf, "dohost_object_call_duration_seconds", class); got != 3 {
		t.Errorf("object fetch durations: %v, want 3", got)
	}
	if got := value(t, mf, "dohost_object_start_duration_seconds", map[string]string{"class": class["class"]}); got != 1 {
		t.Errorf("object starts: %v, want 1", got)
	}
	value(t, mf, "dohost_websockets_open", nil)
	value(t, mf, "go_goroutines", nil)
	value(t, mf, "dohost_objects_waiting", nil)
	value(t, mf, "dohost_log_lines_dropped_total", nil)
	value(t, mf, "dohost_worker_waiting", nil)
	// Host calls and commits are the process's: other tests' count too.
	kvPuts := func(mf map[string]*dto.MetricFamily) float64 {
		return value(t, mf, "dohost_host_calls_total", map[string]string{"function": "kv_put"})
	}
	if got := kvPuts(mf) - kvPuts(before); got < 3 {
		t.Errorf("kv_put calls: %v more, want at least 3 (one a request)", got)
	}
	if got := value(t, mf, "dohost_commit_duration_seconds", nil) - value(t, before, "dohost_commit_duration_seconds", nil); got < 3 {
		t.Errorf("commits observed: %v more, want at least 3", got)
	}
	if got := value(t, mf, "dohost_commit_bytes", nil); got < 3 {
		t.Errorf("commit sizes observed: %v", got)
	}
	// The store is this server's own: its engine saw these commits.
	if got := value(t, mf, "dohost_engine_log_bytes_total", nil) - value(t, before, "dohost_engine_log_bytes_total", nil); got <= 0 {
		t.Errorf("the engine's log grew by %v bytes over 3 commits", got)
	}
	if got := value(t, mf, "dohost_engine_memtable_bytes", nil); got <= 0 {
		t.Errorf("the engine's memtables hold %v bytes", got)
	}
	for _, name := range []string{"dohost_engine_flushes_total", "dohost_engine_compactions_total", "dohost_engine_flushed_bytes_total", "dohost_engine_compacted_bytes_total", "dohost_engine_blob_rewritten_bytes_total"} {
		value(t, mf, name, nil)
	}

	get := func(path string) (int, string) {
		resp, err := http.Get(admin.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz: %d", code)
	}
	ts.SetStopping()
	if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while stopping: %d, want 503", code)
	}
}

// TestAccessLog: with AccessLog, each request is one log line with its
// request id, worker, method, path, status and duration.
func TestAccessLog(t *testing.T) {
	dir := t.TempDir()
	ts := startServerOpts(t, Options{DataDir: filepath.Join(dir, "data"), AccessLog: true},
		writeConfig(t, dir, exampleWasm(t, "room"), roomConfig))
	ts.getJSON(t, "/?roomId=lobby", 200, nil)
	ts.getJSON(t, "/nothing", 400, nil)
	// A line is made once its answer is sent: it may come after the client
	// has the answer (TestAccessLog_AfterResponse).
	for _, want := range []string{
		`msg=request request_id=`, `worker=default/my-worker method=GET path=/ status=200 duration=`,
		`path=/nothing status=400`,
	} {
		waitFor(t, "the access log's "+want, func() bool { return strings.Contains(ts.logs.String(), want) })
	}
}

// TestAccessLog_AfterResponse: the access log's line is made after the
// response is sent: a client has its answer, of a known length and not
// chunked, while the line waits (a logger that blocks until released).
func TestAccessLog_AfterResponse(t *testing.T) {
	dir := t.TempDir()
	h := &heldLog{Handler: slog.NewTextHandler(io.Discard, nil), held: make(chan struct{}), release: make(chan struct{})}
	ts := startServerOpts(t, Options{DataDir: filepath.Join(dir, "data"), AccessLog: true, Logger: slog.New(h)},
		writeConfig(t, dir, exampleWasm(t, "room"), roomConfig))
	for _, c := range []struct {
		path   string
		status int
	}{{"/?roomId=lobby", 200}, {"/nothing", 400}} {
		resp, err := http.Get(ts.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.status || resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) > 0 {
			t.Errorf("%s: %d, Content-Length %d for %d bytes, Transfer-Encoding %v; want %d, the length, none",
				c.path, resp.StatusCode, resp.ContentLength, len(body), resp.TransferEncoding, c.status)
		}
		<-h.held // the request's line, made after the answer and waiting
		h.release <- struct{}{}
	}
}

// heldLog holds each access-log line ("request"), after saying so on
// held, until a receive from release.
type heldLog struct {
	slog.Handler
	held, release chan struct{}
}

func (h *heldLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "request" {
		h.held <- struct{}{}
		<-h.release
	}
	return h.Handler.Handle(ctx, r)
}

func (h *heldLog) WithAttrs(as []slog.Attr) slog.Handler {
	return &heldLog{Handler: h.Handler.WithAttrs(as), held: h.held, release: h.release}
}

func (h *heldLog) WithGroup(name string) slog.Handler {
	return &heldLog{Handler: h.Handler.WithGroup(name), held: h.held, release: h.release}
}

// TestMetrics_Traps: a trapped handler is counted by cause.
func TestMetrics_Traps(t *testing.T) {
	ts := startProbe(t)
	admin := httptest.NewServer(ts.AdminHandler(nil))
	defer admin.Close()
	ts.get(t, "/obj/exit?name=m")
	ts.get(t, "/obj/count?name=m")
	mf := scrape(t, admin)
	class := "default/probe/Probe"
	if got := value(t, mf, "dohost_object_calls_total", map[string]string{"class": class, "result": "trapped"}); got != 1 {
		t.Errorf("trapped calls: %v, want 1", got)
	}
	if got := value(t, mf, "dohost_object_calls_total", map[string]string{"class": class, "result": "ok"}); got != 1 {
		t.Errorf("ok calls: %v, want 1", got)
	}
	if got := value(t, mf, "dohost_traps_total", map[string]string{"class": class, "cause": "exit"}); got != 1 {
		t.Errorf("traps by exit: %v, want 1", got)
	}
}

// TestMetrics_HandlerLookup: handler series are looked up without a lock
// from many goroutines while new classes are added (the map is replaced
// whole): every goroutine gets the same series for a class and handler,
// and every run is counted in it.
func TestMetrics_HandlerLookup(t *testing.T) {
	m := newMetrics(nil)
	const goroutines, classes = 8, 20
	got := make([][]*handlerMetrics, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range classes {
				class := fmt.Sprintf("acct/worker/C%d", (i+g)%classes)
				got[g] = append(got[g], m.handler(class, "fetch"))
				m.Handled(class, "fetch", abi.OK, "", time.Millisecond)
			}
		}()
	}
	wg.Wait()
	for i := range classes {
		want := m.handler(fmt.Sprintf("acct/worker/C%d", i), "fetch")
		for g := range goroutines {
			if h := got[g][(i-g+classes)%classes]; h != want {
				t.Fatalf("goroutine %d got other series for class C%d", g, i)
			}
		}
		var pb dto.Metric
		if err := want.ok.Write(&pb); err != nil {
			t.Fatal(err)
		}
		if n := pb.GetCounter().GetValue(); n != goroutines {
			t.Errorf("class C%d: %v runs counted ok, want %d", i, n, goroutines)
		}
	}
}
