package host

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime/trace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/offheap"
)

// echoServer serves the echo worker (testdata/echo: it answers with the
// Request record it got) in a new data directory.
func echoServer(t testing.TB) *testServer {
	t.Helper()
	return startServer(t, filepath.Join(t.TempDir(), "data"), filepath.Join(repoRoot(), "testdata", "echo", "wrangler.toml"))
}

// TestFront_RequestHeaders: a guest sees the headers an HTTP client sent
// with lower-case names, sorted by name, a repeated name once per value in
// the order sent, plus host and cf-connecting-ip (the client's address; a
// forged one is replaced). The echo guest answers with the record it got.
func TestFront_RequestHeaders(t *testing.T) {
	ts := echoServer(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Written by hand, so that the names keep the case they are sent in.
	fmt.Fprint(conn, "GET /path?q=1 HTTP/1.1\r\n"+
		"Host: Example.COM\r\n"+
		"x-lower-only: a\r\n"+
		"ALLCAPS: b\r\n"+
		"X-Multi: first\r\n"+
		"Accept: text/plain\r\n"+
		"cf-connecting-ip: 6.6.6.6\r\n"+
		"x-multi: second\r\n"+
		"Connection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	req, err := abi.DecodeRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "GET" || req.URL != "http://Example.COM/path?q=1" {
		t.Errorf("method %q url %q", req.Method, req.URL)
	}
	var got []string
	for _, h := range req.Headers {
		got = append(got, h.Name+": "+h.Value)
	}
	want := []string{
		"accept: text/plain", "allcaps: b", "cf-connecting-ip: 127.0.0.1", "connection: close",
		"host: Example.COM", "x-lower-only: a", "x-multi: first", "x-multi: second",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("headers:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestFront_ErrorsToLog: a Go guest's panic or returned error answers the
// client with a short message and a request id, nothing of the guest's
// (no message, no stack trace, no source path); the log has all of it
// under that request id.
func TestFront_ErrorsToLog(t *testing.T) {
	ts := startProbe(t)
	for _, c := range []struct{ path, logged string }{
		{"/worker/panic?secret=s3cr3t", "the probe worker panics with a secret: s3cr3t"},
		{"/worker/fail?secret=s3cr3t", "the probe worker fails with a secret: s3cr3t"},
	} {
		resp, err := http.Get(ts.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := string(b)
		id := requestID(body)
		if resp.StatusCode != 500 || id == "" || resp.Header.Get(RequestIDHeader) != id {
			t.Errorf("GET %s: %d %q, header %q; want 500 with a request id", c.path, resp.StatusCode, body, resp.Header.Get(RequestIDHeader))
		}
		for _, secret := range []string{"s3cr3t", "probe", "panic", ".go"} {
			if strings.Contains(body, secret) {
				t.Errorf("GET %s: the client sees %q: %q", c.path, secret, body)
			}
		}
		logged := ts.logFor(id)
		if !strings.Contains(logged, c.logged) || !strings.Contains(logged, "worker=probe") {
			t.Errorf("GET %s: the log lines of request %s lack %q:\n%s", c.path, id, c.logged, logged)
		}
		if strings.Contains(c.path, "panic") && !strings.Contains(logged, "main.go") {
			t.Errorf("GET %s: the log lacks the panic's stack trace:\n%s", c.path, logged)
		}
	}
}

// TestFront_BodyBudget: forty clients POST 8 MiB each at once to a host
// whose request bodies may hold 32 MiB: the requests past it are refused
// at once with 503, their bodies unread, and the host's memory grows by
// about the budget (and the Worker instances' own copies), not by forty
// bodies. The refusals are logged a line a second.
func TestFront_BodyBudget(t *testing.T) {
	dir := t.TempDir()
	ts := startServerOpts(t, Options{DataDir: filepath.Join(dir, "data"), Limits: Limits{Bodies: 32 << 20}},
		writeConfig(t, dir, guestWasm(t, "testdata/guests/probe"), probeConfig))
	body := bytes.Repeat([]byte("x"), 8<<20)
	settle()
	base := rssNow(t)
	var ok, refused atomic.Int64
	start := time.Now()
	peak := peakRSS(t, func() {
		var wg sync.WaitGroup
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				resp, err := http.Post(fmt.Sprintf("%s/id/name?name=r%d", ts.URL, i), "application/octet-stream", bytes.NewReader(body))
				if err != nil {
					return // the host may close a refused request's connection before its body is sent
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case 200:
					ok.Add(1)
				case 503:
					refused.Add(1)
				default:
					t.Errorf("status %d", resp.StatusCode)
				}
			}(i)
		}
		wg.Wait()
	})
	t.Logf("%d served, %d refused; RSS grew by %d MiB at the peak", ok.Load(), refused.Load(), (peak-base)>>20)
	if ok.Load() == 0 {
		t.Error("no request was served")
	}
	if peak-base > 256<<20 {
		t.Errorf("RSS grew by %d MiB; the bodies' budget is 32 MiB", (peak-base)>>20)
	}
	if used := ts.quota.Bodies.Used(); used != 0 {
		t.Errorf("%d bytes of the bodies' budget still held", used)
	}
	// The refusals are logged a line a second, not a line each.
	lines := strings.Count(ts.logs.String(), "bodies fill their memory budget")
	if most := int(time.Since(start)/refusalLogEvery) + 1; lines > most {
		t.Errorf("%d refusals logged in %d lines; want at most %d, one a second", refused.Load(), lines, most)
	}
}

// TestFront_ResponseBudget: responses are held from their account's
// budget of bodies (with a host's of 8 MiB, an account's 4 MiB) from the
// guest's respond until the client has them, and an object's response
// until the Worker that asked reads it. One that does not fit is refused:
// the client gets 503 with a request id, the log says which budget. Many
// clients at once get theirs or 503, and every byte is given back. Before
// responses were counted, 32 clients fetching 16 MiB each took the host
// past 3 GiB (the soak's bigresponses).
func TestFront_ResponseBudget(t *testing.T) {
	dir := t.TempDir()
	ts := startServerOpts(t, Options{DataDir: filepath.Join(dir, "data"), Limits: Limits{Bodies: 8 << 20}},
		writeConfig(t, dir, guestWasm(t, "testdata/guests/probe"), probeConfig))
	bodies := ts.workers()[0].tenant.Bodies
	held := func() (int64, int64) { return bodies.Tenant.Used(), bodies.Host.Used() }
	// A client may have read all of a response before its handler has
	// returned and given back what it held: wait for that (a leak fails
	// the test at its timeout, with the count in the log).
	settled := func(when string) {
		t.Helper()
		for start := time.Now(); ; time.Sleep(time.Millisecond) {
			u, h := held()
			if u == 0 && h == 0 {
				return
			}
			if time.Since(start) > 5*time.Second {
				t.Logf("%s the budgets still hold %d (account) and %d (host) bytes; waiting", when, u, h)
				start = time.Now()
			}
		}
	}

	// 1 MiB from an object through the Worker fits. 5 MiB does not: the
	// object's respond fails with OVERLOADED, and its stub call in the
	// Worker with it (the probe Worker shows the client what it got).
	if status, body := ts.get(t, "/obj/big?name=a&n=1048576"); status != 200 || len(body) != 1<<20 {
		t.Fatalf("1 MiB: status %d, %d bytes", status, len(body))
	}
	if status, body := ts.get(t, "/obj/big?name=a&n=5242880"); status != 502 || !strings.Contains(body, `"codeName":"overloaded"`) ||
		!strings.Contains(body, "memory for request and response bodies of account default") {
		t.Fatalf("5 MiB from an object with 4 MiB for the account's bodies: status %d: %.300s; want the stub's OVERLOADED", status, body)
	}
	// The Worker's own response: the echo of a 1 MiB body fits beside
	// the body; the echo of a 2 MiB one (2.7 MiB of JSON, with the 2 MiB
	// request still held) does not, and the host answers 503.
	post := func(n int) (*http.Response, []byte) {
		resp, err := http.Post(ts.URL+"/echo", "application/octet-stream", bytes.NewReader(make([]byte, n)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	if resp, b := post(1 << 20); resp.StatusCode != 200 {
		t.Fatalf("the echo of 1 MiB: status %d: %.300s", resp.StatusCode, b)
	}
	resp, msg := post(2 << 20)
	id := resp.Header.Get(RequestIDHeader)
	if resp.StatusCode != 503 || id == "" || !strings.Contains(string(msg), "try again later") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("the echo of 2 MiB: status %d, id %q, Retry-After %q: %.300s; want 503 with a request id",
			resp.StatusCode, id, resp.Header.Get("Retry-After"), msg)
	}
	if logged := ts.logFor(id); !strings.Contains(logged, "memory for request and response bodies of account default") {
		t.Errorf("the log of request %s does not say which budget refused it:\n%s", id, logged)
	}
	settled("after the requests")

	// A response is held while it is written: a writer that blocks.
	w, finish := serveBlocked(ts, "/obj/big?name=b&n=2097152")
	if u, _ := held(); u < 2<<20 {
		t.Errorf("while the 2 MiB response is written, the account holds %d bytes", u)
	}
	finish()
	if w.Code != 200 || w.Body.Len() != 2<<20 {
		t.Errorf("the blocked response: status %d, %d bytes", w.Code, w.Body.Len())
	}
	settled("once written")

	// Sixteen clients at once, 1 MiB each from sixteen objects: each gets
	// all of it or the object's OVERLOADED.
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(fmt.Sprintf("%s/obj/big?name=c%d&n=1048576", ts.URL, i))
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode == 200 && len(b) == 1<<20:
				ok.Add(1)
			case resp.StatusCode == 502 && strings.Contains(string(b), `"codeName":"overloaded"`):
				refused.Add(1) // the object's respond, through the probe Worker
			default:
				t.Errorf("status %d: %.300s", resp.StatusCode, b)
			}
		}()
	}
	wg.Wait()
	t.Logf("16 clients: %d served, %d refused", ok.Load(), refused.Load())
	if ok.Load() == 0 {
		t.Error("no client was served")
	}
	settled("after the clients")
}

// serveBlocked has ts serve a GET of path to a writer whose first Write
// blocks, and returns once it does: the response is under way. finish lets
// it go on and returns once the handler has.
func serveBlocked(ts *testServer, path string) (w *blockingWriter, finish func()) {
	w = &blockingWriter{ResponseRecorder: httptest.NewRecorder(), writing: make(chan struct{}), proceed: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ts.Server.ServeHTTP(w, httptest.NewRequest("GET", ts.URL+path, nil))
	}()
	<-w.writing
	return w, func() {
		close(w.proceed)
		<-done
	}
}

// blockingWriter is a ResponseWriter whose first Write says so on writing
// and waits for proceed.
type blockingWriter struct {
	*httptest.ResponseRecorder
	writing, proceed chan struct{}
	once             sync.Once
}

func (w *blockingWriter) Write(b []byte) (int, error) {
	w.once.Do(func() {
		close(w.writing)
		<-w.proceed
	})
	return w.ResponseRecorder.Write(b)
}

// TestFront_Trickle: a client that sends a body a byte at a time is not
// yet work in flight (it throttles no other tenant's calls), and once the
// body timeout passes it is cut off and its memory given back.
func TestFront_Trickle(t *testing.T) {
	ts := startServerOpts(t, Options{DataDir: filepath.Join(t.TempDir(), "data"), BodyTimeout: 300 * time.Millisecond},
		filepath.Join(repoRoot(), "guests", "examples", "room-wat", "wrangler.toml"))
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "POST /?roomId=t HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nx")
	for ts.quota.Bodies.Used() == 0 { // the host is reading the body
		time.Sleep(time.Millisecond)
	}
	if n := ts.load.Inflight(); n != 0 {
		t.Errorf("a request still receiving its body counts as %d in flight", n)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("a body that stopped arriving: %d, want 400", resp.StatusCode)
		}
	}
	for ts.quota.Bodies.Used() != 0 { // given back
		time.Sleep(time.Millisecond)
	}
}

// TestFront_LargeHeadersSmallBody: a request whose headers outgrow the
// room its record first had, with a small body, is served whole, at every
// header size across the allocator's size classes (the record was once
// sliced past its capacity when its head outgrew the room reserved).
func TestFront_LargeHeadersSmallBody(t *testing.T) {
	ts := echoServer(t)
	for n := 200; n <= 9000; n += 7 {
		req, err := http.NewRequest("POST", ts.URL+"/h", strings.NewReader("0123456789"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Pad", strings.Repeat("p", n))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("headers of %d bytes: %v", n, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("headers of %d bytes: status %d: %s", n, resp.StatusCode, body)
		}
		got, err := abi.DecodeRequest(body)
		if err != nil || string(got.Body) != "0123456789" {
			t.Fatalf("headers of %d bytes: the echoed body is %q (%v)", n, got.Body, err)
		}
	}
}

// panicReader is a request body whose Read panics: a stand-in for a bug in
// the host's handling of a request.
type panicReader struct{}

func (panicReader) Read([]byte) (int, error) { panic("a body reader that panics") }
func (panicReader) Close() error             { return nil }

// TestFront_PanicContained: a panic in the host's handling of a request
// (here, in the reading of its body, after its share of the body budgets
// was taken) answers the client 500 with the request id and nothing of the
// panic, logs the panic and its stack under that id, and gives the share
// back; a panic once the response has begun aborts the connection
// (http.ErrAbortHandler) instead. The host serves on.
func TestFront_PanicContained(t *testing.T) {
	ts := echoServer(t)
	bodies := ts.workers()[0].tenant.Bodies
	host := strings.TrimPrefix(ts.URL, "http://")
	for _, n := range []int64{10, -1} { // a Content-Length, then chunked
		req := httptest.NewRequest("POST", "http://"+host+"/p", nil)
		req.Body, req.ContentLength = panicReader{}, n
		rec := httptest.NewRecorder()
		ts.Server.ServeHTTP(rec, req)
		id := rec.Header().Get(RequestIDHeader)
		body := rec.Body.String()
		if rec.Code != http.StatusInternalServerError || id == "" || !strings.Contains(body, id) || strings.Contains(body, "panic") {
			t.Errorf("Content-Length %d: status %d, id %q, body %q; want 500 with the id and no panic", n, rec.Code, id, body)
		}
		logged := ts.logFor(id)
		if !strings.Contains(logged, "panic serving a request") || !strings.Contains(logged, "a body reader that panics") ||
			!strings.Contains(logged, "panicReader.Read") {
			t.Errorf("Content-Length %d: the log of request %s lacks the panic or its stack:\n%s", n, id, logged)
		}
		if u, h := bodies.Tenant.Used(), bodies.Host.Used(); u != 0 || h != 0 {
			t.Errorf("Content-Length %d: the body budgets hold %d (account) and %d (host) bytes after the request", n, u, h)
		}
	}

	// Once the response has begun, the connection is dropped instead.
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("a panic writing the response: recovered %v, want http.ErrAbortHandler", p)
			}
		}()
		ts.Server.ServeHTTP(panicWriter{httptest.NewRecorder()}, httptest.NewRequest("GET", "http://"+host+"/w", nil))
	}()
	if u := bodies.Tenant.Used(); u != 0 {
		t.Errorf("the account's body budget holds %d bytes after the aborted response", u)
	}

	if status, body := ts.get(t, "/after"); status != http.StatusOK {
		t.Errorf("a request after the panics: status %d: %s", status, body)
	}
}

// TestFront_BodyBackBeforeAnswer: a request's body goes back to the body
// budgets once the guest has run, before its answer is written: a client
// that reads a large answer slowly (the echo guest's, as large as the
// body) holds the answer's share of the budgets while it waits, not the
// request's too.
func TestFront_BodyBackBeforeAnswer(t *testing.T) {
	ts := echoServer(t)
	bodies := ts.workers()[0].tenant.Bodies
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 24 << 20 // more than the loopback's socket buffers hold
	if _, err := fmt.Fprintf(conn, "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", n); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	// The answer's head is here: the host is writing its body, which is
	// not read yet. It holds the answer (n bytes and the record's head),
	// and must not hold the request (as much again) meanwhile.
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	waitFor(t, "the request's share of the body budgets given back while its answer is written", func() bool {
		return bodies.Tenant.Used() < n+n/2 && bodies.Host.Used() < n+n/2
	})
	got, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || int64(len(got)) != resp.ContentLength || len(got) < n {
		t.Fatalf("the answer: %d, %d bytes of Content-Length %d, %v; want 200 and the body echoed", resp.StatusCode, len(got), resp.ContentLength, err)
	}
}

// TestWriteResponse_Length: a guest's answer says its body's length, but
// where the status allows no body (1xx, 204, 304) and in an answer to
// HEAD without a body, whose GET's length is not known; a Content-Length
// of the guest's own is dropped.
func TestWriteResponse_Length(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		head   bool
		want   string
	}{
		{200, "hello", false, "5"},
		{200, "", false, "0"},
		{404, "gone", false, "4"},
		{204, "", false, ""},
		{304, "", false, ""},
		{200, "", true, ""},
		{200, "hello", true, "5"},
	} {
		rec := httptest.NewRecorder()
		writeResponse(rec, &abi.Response{Status: c.status, Headers: []abi.Header{{Name: "content-length", Value: "99"}}, Body: []byte(c.body)}, c.head)
		if got := rec.Result().Header.Get("Content-Length"); got != c.want {
			t.Errorf("status %d, body %q, HEAD %v: Content-Length %q, want %q", c.status, c.body, c.head, got, c.want)
		}
	}
}

// panicWriter is a ResponseWriter whose Write panics once the header is
// written.
type panicWriter struct{ *httptest.ResponseRecorder }

func (panicWriter) Write([]byte) (int, error) { panic("a response writer that panics") }

// TestFront_LargeBodies: bodies large enough to be read outside Go's heap
// (offheap.MinSize and up), sent with a Content-Length and chunked, reach
// the guest whole, byte for byte; a chunked body one byte over the limit
// is refused with 413; and each request's share of the body budgets is
// back once it is answered.
func TestFront_LargeBodies(t *testing.T) {
	ts := echoServer(t)
	wk := ts.workers()[0]
	bodies, limit := wk.tenant.Bodies, wk.cfg.Limits.RequestBody
	post := func(body []byte, chunked bool) (int, []byte) {
		t.Helper()
		var r io.Reader = bytes.NewReader(body)
		if chunked {
			r = io.MultiReader(r) // no length: the client sends it chunked
		}
		resp, err := http.Post(ts.URL+"/big", "application/octet-stream", r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, got
	}
	for _, n := range []int{offheap.MinSize - 300, offheap.MinSize, 3<<20 + 17} {
		body := make([]byte, n)
		for i := range body {
			body[i] = byte(i*7 + i>>8)
		}
		for _, chunked := range []bool{false, true} {
			status, got := post(body, chunked)
			if status != http.StatusOK {
				t.Fatalf("%d bytes (chunked %v): status %d: %.200s", n, chunked, status, got)
			}
			req, err := abi.DecodeRequest(got)
			if err != nil {
				t.Fatalf("%d bytes (chunked %v): %v", n, chunked, err)
			}
			if !bytes.Equal(req.Body, body) {
				t.Errorf("%d bytes (chunked %v): the guest got %d bytes, not the body sent", n, chunked, len(req.Body))
			}
			// The answer's share goes back as its handler ends, which may be
			// just after the client has the last byte (its length is known).
			waitFor(t, fmt.Sprintf("%d bytes (chunked %v): the body budgets empty after the answer", n, chunked), func() bool {
				return bodies.Tenant.Used() == 0 && bodies.Host.Used() == 0
			})
		}
	}
	if status, got := post(make([]byte, limit+1), true); status != http.StatusRequestEntityTooLarge {
		t.Errorf("a chunked body of the limit and a byte: status %d: %.200s", status, got)
	}
	if u := bodies.Tenant.Used(); u != 0 {
		t.Errorf("the account's body budget holds %d bytes after the refusal", u)
	}
}

// TestTraceTasks: while an execution trace runs, each request is a task
// named "request" that logs its account and worker, so that a trace
// taken from --debug-addr tells one tenant's requests from another's.
func TestTraceTasks(t *testing.T) {
	dir := t.TempDir()
	ts := startServerOpts(t, Options{DataDir: filepath.Join(dir, "data")},
		writeConfig(t, dir, exampleWasm(t, "room"), roomConfig))
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	ts.getJSON(t, "/?roomId=lobby", 200, nil)
	trace.Stop()
	// The trace's string table holds the task's type, the log's
	// category and its messages.
	for _, want := range []string{"request", "account", "default", "worker", "my-worker"} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Errorf("the trace has no %q", want)
		}
	}
}
