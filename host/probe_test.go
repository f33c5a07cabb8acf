package host

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// The probe in every language with an SDK, and in WebAssembly text with
// none: the same paths and answers (testdata/guests/probe, probe-c,
// probe-rust, probe-as, probe-js on the JavaScript runtime, and probe-wat,
// written against the ABI alone), so that one table of checks holds each
// language's build to the same behaviour. Where the Workers API differs,
// a check says so (ts.lang == "js").
var probeLangs = []string{"go", "c", "rust", "as", "js", "wat"}

// wsProbeLangs are the languages of the WebSocket probe.
var wsProbeLangs = []string{"go", "c", "rust", "as", "js"}

// probeWasm builds the probe of lang.
func probeWasm(t testing.TB, lang string) string {
	t.Helper()
	switch lang {
	case "go":
		return guestWasm(t, "testdata/guests/probe")
	case "c", "rust", "as":
		return sdkGuestWasm(t, lang, "testdata/guests/probe-"+lang)
	case "js":
		jsOptions(t) // the runtime, built and compiled; servers take it from there
		return filepath.Join(repoRoot(), "testdata/guests/probe-js/index.js")
	case "wat":
		// Committed built (make guests rebuilds it with wat2wasm), and
		// checked against its source by TestCommittedWasm_MatchesSource.
		return filepath.Join(repoRoot(), "testdata/guests/probe-wat/probe.wasm")
	}
	t.Fatalf("no probe in %s", lang)
	return ""
}

// startProbe serves the Go probe.
func startProbe(t *testing.T) *testServer { return startProbeIn(t, "go") }

// startProbeIn serves the probe of lang.
func startProbeIn(t *testing.T, lang string) *testServer { return startProbeOpts(t, lang, Options{}) }

// startProbeOpts serves the probe of lang with options o, from a data
// directory of its own.
func startProbeOpts(t testing.TB, lang string, o Options) *testServer {
	t.Helper()
	dir := t.TempDir()
	o.DataDir = dir + "/data"
	ts := startServerOpts(t, o, writeConfig(t, dir, probeWasm(t, lang), probeConfig))
	ts.lang = lang
	return ts
}

// startProbeLimits serves the probe of lang with limits, the lines of
// its wrangler.toml's [limits] table.
func startProbeLimits(t *testing.T, lang, limits string) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := startServerOpts(t, Options{DataDir: dir + "/data"},
		writeConfig(t, dir, probeWasm(t, lang), probeConfig+"\n[limits]\n"+limits+"\n"))
	ts.lang = lang
	return ts
}

// eachLang runs f for each language that has a probe, as subtests.
func eachLang(t *testing.T, f func(t *testing.T, lang string)) {
	for _, lang := range probeLangs {
		t.Run(lang, func(t *testing.T) { f(t, lang) })
	}
}

// eachProbe runs f on a server of each language's probe, as subtests.
func eachProbe(t *testing.T, f func(t *testing.T, ts *testServer)) {
	eachLang(t, func(t *testing.T, lang string) { f(t, startProbeIn(t, lang)) })
}

// probeServers starts a server of each language's probe.
func probeServers(t *testing.T) map[string]*testServer {
	servers := map[string]*testServer{}
	for _, lang := range probeLangs {
		servers[lang] = startProbeIn(t, lang)
	}
	return servers
}

type abiError struct {
	Code     int    `json:"code"`
	CodeName string `json:"codeName"`
	Message  string `json:"message"`
}

func TestProbe_KV(t *testing.T) {
	eachProbe(t, func(t *testing.T, ts *testServer) {
		ts.getJSON(t, "/kv/get?key=a", 404, nil)
		ts.getJSON(t, "/kv/put?key=a&value=1", 200, nil)
		var v string
		ts.getJSON(t, "/kv/get?key=a", 200, &v)
		if v != "1" {
			t.Fatalf("get a = %q, want 1", v)
		}
		ts.getJSON(t, "/kv/delete?key=a", 200, nil)
		ts.getJSON(t, "/kv/get?key=a", 404, nil)
		ts.getJSON(t, "/kv/delete?key=never-there", 200, nil)

		t.Run("limits", func(t *testing.T) {
			cases := []struct {
				path string
				code int
				msg  string
			}{
				{"/kv/put?key=&value=x", 6, "key is empty"},
				{"/kv/put?key=" + strings.Repeat("k", 513) + "&value=x", 5, "513 bytes; the limit is 512"},
				{"/kv/put?key=m&value=x&meta=" + strings.Repeat("m", 1025), 5, "metadata is 1025 bytes"},
				{"/kv/put?key=t&value=x&ttl=59", 6, "under the minimum of 60"},
				{"/kv/list?limit=1001", 6, "limit 1001"},
				{"/kv/list?cursor=zzz", 6, "cursor"},
				{"/kv/nobinding", 4, `no KV namespace binding "NOPE"; this worker's are: KV`},
			}
			for _, c := range cases {
				if ts.lang == "js" {
					switch {
					case c.path == "/kv/nobinding":
						continue // JavaScript reaches only its config's bindings (env)
					case strings.Contains(c.msg, "metadata is"):
						c.msg = "metadata is 1027 bytes" // JSON text: the string and its quotes
					}
				}
				var e abiError
				ts.getJSON(t, c.path, 502, &e)
				if e.Code != c.code || !strings.Contains(e.Message, c.msg) {
					t.Errorf("%s: got code %d %q, want code %d containing %q", c.path[:min(len(c.path), 40)], e.Code, e.Message, c.code, c.msg)
				}
			}
		})

		t.Run("list", func(t *testing.T) {
			for i := 0; i < 25; i++ {
				ts.getJSON(t, fmt.Sprintf("/kv/put?key=p/%02d&value=%d&meta=m%d", i, i, i), 200, nil)
			}
			ts.getJSON(t, "/kv/put?key=q/other&value=x", 200, nil)
			ts.getJSON(t, "/kv/put?key=p/ttl&value=x&ttl=3600", 200, nil)
			type page struct {
				Keys []struct {
					Name       string
					Expiration string
					Metadata   []byte
				}
				ListComplete bool
				Cursor       string
			}
			var names []string
			cursor := ""
			pages := 0
			for {
				var p page
				ts.getJSON(t, "/kv/list?prefix=p/&limit=10&cursor="+url.QueryEscape(cursor), 200, &p)
				pages++
				for _, k := range p.Keys {
					names = append(names, k.Name)
					if k.Name == "p/03" && string(k.Metadata) != "m3" {
						t.Errorf("p/03 metadata %q, want m3", k.Metadata)
					}
					if k.Name == "p/ttl" && strings.HasPrefix(k.Expiration, "0001") {
						t.Errorf("p/ttl has no expiration")
					}
				}
				if p.ListComplete {
					if p.Cursor != "" {
						t.Errorf("complete page has cursor %q", p.Cursor)
					}
					break
				}
				if len(p.Keys) != 10 {
					t.Fatalf("incomplete page has %d keys, want 10", len(p.Keys))
				}
				cursor = p.Cursor
			}
			if len(names) != 26 || pages != 3 || names[0] != "p/00" || names[24] != "p/24" || names[25] != "p/ttl" {
				t.Errorf("listing p/ in pages of 10: %d pages, keys %v", pages, names)
			}
		})
	})
}

func TestProbe_IDs(t *testing.T) {
	eachProbe(t, func(t *testing.T, ts *testServer) {
		var a, b, u, parsed string
		ts.getJSON(t, "/id/name?name=alice", 200, &a)
		ts.getJSON(t, "/id/name?name=alice", 200, &b)
		if a != b || len(a) != 64 {
			t.Fatalf("idFromName not stable: %s vs %s", a, b)
		}
		ts.getJSON(t, "/id/unique", 200, &u)
		if len(u) != 64 || u == a {
			t.Fatalf("unique id %q", u)
		}
		ts.getJSON(t, "/id/parse?id="+strings.ToUpper(u), 200, &parsed)
		if parsed != u {
			t.Errorf("idFromString(upper(%s)) = %s", u, parsed)
		}
		// A changed digit breaks the MAC; so does an ID of another namespace.
		bad := []byte(a)
		bad[3] ^= 1
		var e abiError
		ts.getJSON(t, "/id/parse?id="+string(bad), 502, &e)
		if e.Code != 6 {
			t.Errorf("tampered id: code %d (%s), want 6", e.Code, e.Message)
		}
		ts.getJSON(t, "/id/parse?id=xyz", 502, &e)
		if e.Code != 6 || !strings.Contains(e.Message, "64 hex digits") {
			t.Errorf("short id: %+v", e)
		}

		// An object reached through idFromName knows its name.
		var info struct {
			ID      string
			Name    string
			HasName bool
		}
		ts.getJSON(t, "/obj/info?name=alice", 200, &info)
		if info.ID != a || info.Name != "alice" || !info.HasName {
			t.Errorf("object info %+v, want id %s name alice", info, a)
		}
	})
}

func TestProbe_Cycle(t *testing.T) {
	eachProbe(t, func(t *testing.T, ts *testServer) {
		var chain []string
		ts.getJSON(t, "/obj/call?name=a&chain=b,c", 200, &chain)
		if strings.Join(chain, ",") != "c" {
			t.Errorf("a→b→c answered %v, want [c]", chain)
		}
		for _, c := range []string{"b,a", "a", "b,c,b"} {
			var e abiError
			ts.getJSON(t, "/obj/call?name=a&chain="+c, 502, &e)
			if e.Code != 7 || !strings.Contains(e.Message, "would wait on itself") {
				t.Errorf("chain a,%s: got %+v, want a call cycle error (code 7)", c, e)
			}
		}
		// The objects still answer afterwards.
		ts.getJSON(t, "/obj/call?name=a&chain=b", 200, &chain)
	})
}

// TestConformance_Overloaded: a stub call to an object whose queue is
// full (max_queue = 0: no request may wait for it) fails at once with
// OVERLOADED in every language, naming the limit; once the object is
// free, the same call goes through.
func TestConformance_Overloaded(t *testing.T) {
	eachLang(t, func(t *testing.T, lang string) {
		ts := startProbeLimits(t, lang, "max_queue = 0")
		busy := make(chan string)
		// x computes for 2 s. Its request is refused in turn while one
		// of the calls below holds x (max_queue = 0 for it too): it
		// tries again until it has x's turn.
		go func() {
			for {
				resp, err := http.Get(ts.URL + "/obj/busy?name=x&ms=2000")
				if err != nil {
					busy <- err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 502 || !strings.Contains(string(body), `"code":10`) {
					busy <- fmt.Sprint(resp.StatusCode, " ", string(body))
					return
				}
			}
		}()
		// Until a call finds x busy: one that comes before x's busy
		// request has its turn gets through.
		for {
			status, body := ts.get(t, "/obj/call?name=y&chain=x")
			if status == 502 {
				var e abiError
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code != 10 || !strings.Contains(e.Message, "max_queue") {
					t.Fatalf("y→x while x is busy: %s, want code 10 (overloaded) naming max_queue", body)
				}
				break
			}
			if status != 200 {
				t.Fatalf("y→x: %d %s", status, body)
			}
			select {
			case b := <-busy:
				t.Fatalf("x's busy request ended (%s) before a call found it busy", b)
			default:
			}
		}
		if b := <-busy; b != `200 "busy"` {
			t.Errorf("x's busy request: %s", b)
		}
		var chain []string
		ts.getJSON(t, "/obj/call?name=y&chain=x", 200, &chain)
		if strings.Join(chain, ",") != "x" {
			t.Errorf("y→x once x is free: %v, want [x]", chain)
		}
	})
}

// TestConformance_Internal: a storage read the engine fails (a disk
// whose reads fail, played by the store's read fault) reaches every
// language's object as INTERNAL, code 12, with the host's message; the
// operator's log has the error; once reads work again, so does the object.
func TestConformance_Internal(t *testing.T) {
	eachLang(t, func(t *testing.T, lang string) {
		var failing atomic.Bool
		fault := func() error {
			if failing.Load() {
				return errors.New("injected: the disk failed a read")
			}
			return nil
		}
		ts := startProbeOpts(t, lang, Options{readFault: fault})
		ts.st(t, "d", "st/put?key=k&value=1", 200, nil)
		failing.Store(true)
		var e abiError
		ts.st(t, "d", "st/get?key=k", 502, &e)
		if e.Code != 12 || !strings.Contains(e.Message, "the disk failed a read") {
			t.Errorf("a failed read: %+v, want code 12 (internal) with the host's message", e)
		}
		if !strings.Contains(ts.logs.String(), "injected: the disk failed a read") {
			t.Error("the storage error is not in the operator's log")
		}
		failing.Store(false)
		var v stValue
		ts.st(t, "d", "st/get?key=k", 200, &v)
		if !v.Found || v.Value != "1" {
			t.Errorf("after reads work again: %+v", v)
		}
	})
}

func TestProbe_Failures(t *testing.T) {
	eachProbe(t, func(t *testing.T, ts *testServer) {
		var n int
		ts.getJSON(t, "/obj/count?name=f", 200, &n)
		// A panic or an error is like a throw: 500, but the instance and its
		// in-memory state live on.
		for _, op := range []string{"panic", "fail"} {
			var e abiError
			ts.getJSON(t, "/obj/"+op+"?name=f", 502, &e)
			if e.Code != 8 || !strings.Contains(e.Message, "probe "+op+"s on request") {
				t.Errorf("%s: %+v, want an object error with the guest's message", op, e)
			}
		}
		ts.getJSON(t, "/obj/count?name=f", 200, &n)
		if n != 4 {
			t.Errorf("count after panic and error: %d, want 4 (state kept)", n)
		}
		// A guest that exits (a trap) loses its instance; the next request
		// gets a fresh one.
		var e abiError
		ts.getJSON(t, "/obj/exit?name=f", 502, &e)
		// (JavaScript cannot exit: its probe runs out of memory_mb, which
		// ends the instance as a trap does.)
		exited := "exited with code 3"
		if ts.lang == "js" {
			exited = "trapped"
		}
		if e.Code != 8 || !strings.Contains(e.Message, exited) || !strings.Contains(e.Message, "instance replaced") {
			t.Errorf("exit: %+v", e)
		}
		ts.getJSON(t, "/obj/count?name=f", 200, &n)
		if n != 1 {
			t.Errorf("count after a trap: %d, want 1 (fresh instance)", n)
		}
		if st := ts.Stats(); st.ObjectsFailed != 1 {
			t.Errorf("stats: %+v, want 1 failed object", st)
		}
		// Writes made before a trap are discarded.
		ts.getJSON(t, "/obj/writeexit?name=g&key=w", 502, &e)
		ts.getJSON(t, "/kv/get?key=w", 404, nil)
		// A write that completes is visible to the Worker and other objects.
		ts.getJSON(t, "/obj/kvput?name=g&key=w&value=v", 200, nil)
		var v string
		ts.getJSON(t, "/kv/get?key=w", 200, &v)
		if v != "v" {
			t.Errorf("kv w = %q, want v", v)
		}
	})
}

// TestProbe_GuestLogs: a guest's log lines and its stdout's reach the
// host's log with its class; a line it leaves without a newline is
// logged when its call ends.
func TestProbe_GuestLogs(t *testing.T) {
	ts := startProbe(t)
	ts.getJSON(t, "/obj/log?name=talker&msg=hello-from-guest&partial=no-newline", 200, nil)
	logs := ts.logs.String()
	for _, want := range []string{"msg=hello-from-guest", `msg="stdout: hello-from-guest"`, "stream=stdout", "class=Probe",
		`msg="partial: no-newline"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

// TestProbe_GuestLogsCarryRequestID: what a guest logs while it serves a
// request — through the log host call, on stdout, and a line without its
// newline — carries the request's id, the one the host's line about the
// request's failure carries, so that an operator finds the guest's own
// lines with the host's.
func TestProbe_GuestLogsCarryRequestID(t *testing.T) {
	ts := startProbe(t)
	// The object fails; the probe's Worker answers with the stub's error.
	if status, body := ts.get(t, "/obj/log?name=talker&msg=before-failing&partial=last-words&fail=1"); status != http.StatusBadGateway {
		t.Fatalf("GET: %d %q, want the Worker's 502", status, body)
	}
	id := ts.requestIDOf("handler failed")
	if id == "" {
		t.Fatalf("no line about the failure with a request id:\n%s", ts.logs.String())
	}
	logs := ts.logFor(id)
	for _, want := range []string{"msg=before-failing", `msg="stdout: before-failing"`, `msg="partial: last-words"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the lines with request_id=%s lack %q:\n%s\nall lines:\n%s", id, want, logs, ts.logs.String())
		}
	}
}

// TestConformance_LogCarriesRequestID: in every language, a line the
// object logs through the log host call (the JavaScript runtime's
// console.log among them) carries the id of the request it serves, the
// one on the access log's line for that request.
func TestConformance_LogCarriesRequestID(t *testing.T) {
	eachLang(t, func(t *testing.T, lang string) {
		ts := startProbeOpts(t, lang, Options{AccessLog: true})
		msg := "conformance-" + lang
		ts.getJSON(t, "/obj/log?name=talker&msg="+msg, 200, nil)
		var access string
		waitFor(t, "the access log's line", func() bool { // written after the answer
			access = ts.requestIDOf("path=/obj/log")
			return access != ""
		})
		if got := ts.requestIDOf("msg=" + msg + " "); got != access {
			t.Errorf("the guest's line has request_id %q, the request's is %q:\n%s", got, access, ts.logs.String())
		}
	})
}

// TestProbe_AlarmRunLogsCarryAnID: an alarm run has an id as a request
// has: the line the guest logs in a run that fails and the host's line
// about that failure carry the same one.
func TestProbe_AlarmRunLogsCarryAnID(t *testing.T) {
	ts := startProbe(t)
	ts.st(t, "al", "st/put?key=alarmfail&value=1", 200, nil)
	ts.st(t, "al", "alarm/set?in=0", 200, nil)
	var r alarmRuns
	waitFor(t, "the retried alarm's run", func() bool {
		ts.st(t, "al", "alarm/runs", 200, &r)
		return r.Runs == 2
	})
	guest, host := ts.requestIDOf("alarm run 1 fails"), ts.requestIDOf("alarm handler failed; retrying")
	if guest == "" || guest != host {
		t.Errorf("the guest's line has request_id %q, the host's %q: want one id:\n%s", guest, host, ts.logs.String())
	}
}

// TestConformance_Requests: every language's probe sees the same request
// as the Go probe does — method, URL, headers and body — in its Worker and
// in an object the Worker forwards it to, for requests at the edges:
// empty, binary and large bodies, repeated and many headers, non-ASCII and
// bytes that are not UTF-8, odd paths and queries, unusual methods.
func TestConformance_Requests(t *testing.T) {
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	many := http.Header{}
	for i := 0; i < 100; i++ {
		many.Set(fmt.Sprintf("X-Many-%03d", i), strings.Repeat("v", i))
	}
	cases := []struct {
		name, method, path string
		header             http.Header
		body               []byte
	}{
		{"plain", "GET", "", nil, nil},
		{"empty post", "POST", "", nil, []byte{}},
		{"binary body", "POST", "", nil, binary},
		{"1 MiB body", "PUT", "", nil, bytes.Repeat([]byte("0123456789abcdef"), 1<<16)},
		{"repeated headers", "GET", "", http.Header{"X-A": {"1", "2"}, "X-B": {"b"}, "x-a": {"3"}}, nil},
		{"many headers", "GET", "", many, nil},
		{"non-ASCII header", "GET", "", http.Header{"X-U": {"café ✓"}, "X-Bytes": {"\xff\xfe ok \xc3"}}, nil},
		{"client's own cf-connecting-ip", "GET", "", http.Header{"Cf-Connecting-Ip": {"6.6.6.6"}}, nil},
		{"non-ASCII path and query", "GET", "/caf%C3%A9?q=%E2%9C%93&x=y+z", nil, nil},
		{"odd query", "GET", "?a=1;b=2&%zz=1&=&&c", nil, nil},
		{"long query", "GET", "?q=" + strings.Repeat("x", 8000), nil, nil},
		{"methods", "PATCH", "", nil, []byte("p")},
		{"custom method", "PURGE", "", nil, nil},
	}
	servers := probeServers(t)
	ask := func(t *testing.T, lang, path, method string, h http.Header, body []byte) string {
		ts := servers[lang]
		req, err := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range h {
			req.Header[k] = vs
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		// The servers listen on different ports.
		return fmt.Sprintf("%d %s", resp.StatusCode, strings.ReplaceAll(string(b), strings.TrimPrefix(ts.URL, "http://"), "HOST"))
	}
	for _, c := range cases {
		for _, at := range []string{"/echo", "/obj/echo"} {
			path := at + c.path
			if at == "/obj/echo" {
				sep := "?"
				if strings.Contains(c.path, "?") {
					sep = "&"
				}
				path += sep + "name=e"
			}
			want := ask(t, "go", path, c.method, c.header, c.body)
			if !strings.HasPrefix(want, "200 ") {
				t.Errorf("%s at %s: the Go probe answers %.200s", c.name, at, want)
				continue
			}
			// Bytes that are not UTF-8 reach guests as U+FFFD (ABI.md §5).
			if c.name == "non-ASCII header" && !strings.Contains(want, "[\"x-bytes\",\"\uFFFD ok \uFFFD\"]") {
				t.Errorf("a header value that is not UTF-8 reached the Go probe as %s", want)
			}
			for _, lang := range probeLangs[1:] {
				want := want
				if lang == "js" {
					want = fetchView(t, want)
				}
				if got := ask(t, lang, path, c.method, c.header, c.body); got != want {
					t.Errorf("%s at %s: %s sees\n%.600s\nthe Go probe\n%.600s", c.name, at, lang, got, want)
				}
			}
		}
	}
}

// fetchView is the Go probe's echo answer ("200 {json}") as the Fetch API
// gives the request to JavaScript: a name's values joined with ", " in
// one field, as Headers does.
func fetchView(t *testing.T, answer string) string {
	t.Helper()
	status, body, _ := strings.Cut(answer, " ")
	var e map[string]any
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("the Go probe's echo: %v", err)
	}
	var hs [][2]string
	for _, h := range e["headers"].([]any) {
		p := h.([]any)
		name, value := p[0].(string), p[1].(string)
		if n := len(hs); n > 0 && hs[n-1][0] == name {
			hs[n-1][1] += ", " + value
			continue
		}
		hs = append(hs, [2]string{name, value})
	}
	if hs == nil {
		hs = [][2]string{}
	}
	e["headers"] = hs
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return status + " " + string(b)
}

// TestConformance_Errors: the errors a guest meets by misusing the ABI
// reach every language's probe with the same code: storage from the
// Worker is BAD_STATE, a stub call with a header HTTP cannot carry is
// BAD_ENCODING (and nothing is sent).
func TestConformance_Errors(t *testing.T) {
	eachProbe(t, func(t *testing.T, ts *testServer) {
		for _, c := range []struct {
			path string
			code int
			msg  string
		}{
			{"/worker/storage", 9, "Worker"},
			{"/stub/badheader", 3, "Bad Name"},
		} {
			if ts.lang == "js" && c.path == "/worker/storage" {
				continue // a Worker in JavaScript has no storage to call
			}
			var e abiError
			ts.getJSON(t, c.path, 502, &e)
			if e.Code != c.code || !strings.Contains(e.Message, c.msg) {
				t.Errorf("%s: code %d %q, want code %d containing %q", c.path, e.Code, e.Message, c.code, c.msg)
			}
		}
		var n int
		ts.getJSON(t, "/obj/count?name=b", 200, &n)
		if n != 1 {
			t.Errorf("object b counted %d requests, want 1: the bad request reached it", n)
		}
	})
}

// TestConformance_Responses: every language's object answers the same
// response as the Go probe's, as the client sees it: an empty, a one-byte
// and a 1 MiB binary body, and 100 headers with a name given twice.
func TestConformance_Responses(t *testing.T) {
	servers := probeServers(t)
	for _, path := range []string{"/obj/big?n=0&name=r", "/obj/big?n=1&name=r", "/obj/big?n=1048576&name=r", "/obj/headers?n=100&name=r"} {
		want := answer(t, servers["go"], "GET", path, "")
		if !strings.HasPrefix(want, "200\n") {
			t.Errorf("%s: the Go probe answers %.200s", path, want)
			continue
		}
		for _, lang := range probeLangs[1:] {
			if got := answer(t, servers[lang], "GET", path, ""); got != want {
				t.Errorf("%s: %s answers\n%.400s\nthe Go probe\n%.400s", path, lang, got, want)
			}
		}
	}
}
