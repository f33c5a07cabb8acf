package host

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// jsAppConfig serves testdata/js/app (its main is set by jsApp).
const jsAppConfig = `
name = "jsapp"
kv_namespaces = [{ binding = "KV", id = "js-kv" }]

[durable_objects]
bindings = [{ name = "API", class_name = "Api" }, { name = "CTOR", class_name = "CtorThrows" }]

[vars]
GREETING = "hello"
LIMITS = { max = 3 }

[limits]
cpu_ms = 1000
memory_mb = 128
`

// jsApp serves the JavaScript test app testdata/js/app with the secret
// TOKEN.
func jsApp(t *testing.T) *testServer {
	t.Helper()
	return jsAppWith(t, jsAppConfig)
}

// jsAppWith is jsApp with the config body cfg.
func jsAppWith(t *testing.T, cfg string) *testServer {
	t.Helper()
	return startJS(t, "testdata/js/app/index.ts", cfg,
		map[string]map[string]string{"default/jsapp": {"TOKEN": "s3cret"}})
}

// startJS serves the JavaScript Worker main (relative to the repository
// root) with the config body cfg and the secrets, on the runtime built
// here, from a data directory of its own.
func startJS(t *testing.T, main, cfg string, secrets map[string]map[string]string) *testServer {
	t.Helper()
	dir := t.TempDir()
	o := jsOptions(t)
	o.DataDir = filepath.Join(dir, "data")
	o.Secrets = secrets
	return startServerOpts(t, o, writeConfig(t, dir, filepath.Join(repoRoot(), main), cfg))
}

// TestJS_API: the Workers API a Durable Object uses, through the test app:
// storage (single and multi, listing, deleting, structured values),
// transactions, KV (types, metadata, expiration, listing), namespaces and
// stubs, vars and secrets, and the web APIs.
func TestJS_API(t *testing.T) {
	ts := jsApp(t)

	var st struct {
		A           string  `json:"a"`
		Got         [][]any `json:"got"`
		Listed      [][]any `json:"listed"`
		Partial     []string
		Reversed    []string
		Deleted     bool
		DeletedAgin bool `json:"deletedAgain"`
		DeletedMany int  `json:"deletedMany"`
		NoValue     string
		Left        []string
		After       int
	}
	ts.getJSON(t, "/obj/storage?name=s", 200, &st)
	got, _ := json.Marshal(st.Got)
	listed, _ := json.Marshal(st.Listed)
	if string(got) != `[["a","one"],["b",{"n":2}]]` || string(listed) != `[["a","one"],["b",{"n":2}],["c",[3]],["d",true]]` {
		t.Errorf("get %s, list %s", got, listed)
	}
	if strings.Join(st.Partial, ",") != "b,c" || strings.Join(st.Reversed, ",") != "d,c" {
		t.Errorf("list start/end %v, reverse limit 2 %v", st.Partial, st.Reversed)
	}
	if !st.Deleted || st.DeletedAgin || st.DeletedMany != 2 || st.A != "gone" {
		t.Errorf("delete: %v, again %v, many %d, b %s", st.Deleted, st.DeletedAgin, st.DeletedMany, st.A)
	}
	if !strings.Contains(st.NoValue, "TypeError") || strings.Join(st.Left, ",") != "d" || st.After != 0 {
		t.Errorf("put without a value: %q; left %v; after deleteAll %d", st.NoValue, st.Left, st.After)
	}

	var txn struct {
		Failed string
		T      *string
	}
	ts.getJSON(t, "/obj/txn?name=t&fail=1", 200, &txn)
	if !strings.Contains(txn.Failed, "fails on purpose") || txn.T != nil {
		t.Errorf("failed transaction: %+v", txn)
	}
	ts.getJSON(t, "/obj/txn?name=t", 200, &txn)
	if txn.Failed != "" || txn.T == nil || *txn.T != "in-txn" {
		t.Errorf("transaction: %+v", txn)
	}

	var kv struct {
		Text     string
		JSON     map[string]int
		BufLen   int
		Meta     struct{ Value, Metadata map[string]any }
		Names    []string
		Complete bool
		Expires  bool
		ListMeta map[string]string
		Gone     *string
	}
	ts.getJSON(t, "/obj/kv?name=k", 200, &kv)
	if kv.Text != "v1" || kv.JSON["n"] != 2 || kv.BufLen != 2 || kv.Meta.Value["n"] != float64(2) || kv.Meta.Metadata["tag"] != "two" {
		t.Errorf("kv reads: %+v", kv)
	}
	if strings.Join(kv.Names, ",") != "k1,k2" || !kv.Complete || !kv.Expires || kv.ListMeta["tag"] != "two" || kv.Gone != nil {
		t.Errorf("kv list and delete: %+v", kv)
	}

	var ids struct {
		Same, Unique, ParsedSame bool
		HexLen                   int
		Bad, Me                  string
		OtherInfo                struct{ ID, Name string }
	}
	ts.getJSON(t, "/obj/ids?name=i", 200, &ids)
	if !ids.Same || !ids.Unique || !ids.ParsedSame || ids.HexLen != 64 || ids.Bad != "TypeError" || ids.Me != "i" || ids.OtherInfo.Name != "x" || len(ids.OtherInfo.ID) != 64 {
		t.Errorf("ids: %+v", ids)
	}

	var env struct {
		Greeting string
		Limits   struct{ Max int }
		Token    string
		Keys     []string
		None     bool
	}
	ts.getJSON(t, "/worker/env", 200, &env)
	if env.Greeting != "hello" || env.Limits.Max != 3 || env.Token != "s3cret" || strings.Join(env.Keys, ",") != "API,CTOR,GREETING,KV,LIMITS" || !env.None {
		t.Errorf("env: %+v", env)
	}

	var web map[string]any
	ts.getJSON(t, "/worker/web", 200, &web)
	want := map[string]any{
		"href": "https://example.com:8443/a/b?x=1&y=+two+three&x=2&z=%C3%A9%26%3D#frag", "host": "example.com:8443",
		"hostname": "example.com", "port": "8443", "pathname": "/a/b", "origin": "https://example.com:8443", "hash": "#frag",
		"y": " two three", "params": "a1,b2,a3", "decoded": "héllo", "randomBytes": float64(16), "randomNonZero": true,
		"uuid": true, "btoa": "aGVsbG8=", "atob": "hello", "method": "GET",
		"microtask": "ran", "perf": true, "navigator": "dohost",
	}
	for k, v := range want {
		if web[k] != v {
			t.Errorf("web %s: %#v, want %#v", k, web[k], v)
		}
	}
	for k, v := range map[string]string{
		"x": `["1","2"]`, "headers": `["content-type: text/plain","x-one: 1, 2"]`, "encoded": `[104,195,169,108,108,111]`,
		"clone":   `{"a":[1,{"b":"c"}]}`,
		"urls":    `["http://h.example/a/c/d?q#f","https://other.example:81/x%20y","http://h.example/p/q?only","http://up.example/"]`,
		"badUrls": `["TypeError","TypeError","TypeError"]`,
		"bigint":  `"1180591620717411303424"`,
		// as node (V8) gives them
		"rounded": `["1.3","3","-3","1.00","0.13","1000","-1","0.00000000093132257461547851563","1.4","8.35","3","0.00013","1e+1","123.5"]`,
	} {
		if b, _ := json.Marshal(web[k]); string(b) != v {
			t.Errorf("web %s: %s, want %s", k, b, v)
		}
	}
	if s, _ := web["deep"].(string); !strings.Contains(s, "stack overflow") {
		t.Errorf("endless recursion: %q, want the interpreter's stack overflow as an exception", s)
	}
	// crypto.subtle's digests and HMAC, against node's crypto module.
	wantCrypto := map[string]any{
		"SHA-1-hello":   "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
		"SHA-1-long":    "94218caae9904e93a3d7bf578bf4791926fc5e82",
		"SHA-1-empty":   "da39a3ee5e6b4b0d3255bfef95601890afd80709",
		"SHA-256-hello": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
		"SHA-256-long":  "aa20c23e3201834050679e1d88941b9a6fed0557c9a705cb2c315e2e63fd486d",
		"SHA-256-empty": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"SHA-384-hello": "59e1748777448c69de6b800d7a33bbfb9ff1b463e44354c3553bcdb9c666fa90125a3c79f90397bdf5f6a13de828684f",
		"SHA-384-long":  "34c6d696dcbb86ee441ff110160cef6c192104b72fe208884fb0188d0085516f02214a16c913be2ba620fb6e7c9a4a54",
		"SHA-384-empty": "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
		"SHA-512-hello": "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043",
		"SHA-512-long":  "ef978e23dc520404ae16fd17bde9ee5945610d671551d6863a5ffbc99433fc726726e51f989b886191be9325b8f8b03b1a63fe3e5eff23d126c2f41f07d2bf87",
		"SHA-512-empty": "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
		"hmac":          "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
		"hmacLongKey":   "db25e26d0dbacf4d835f8907977cab09128cded24ca0f838543aa99676c062d4a0285e4547cd9047d8ae17bee6802d5db5117175e193a57775f564c3bf34e849",
		"hmac1":         "f42bb0eeb018ebbd4597ae7213711ec60760843f",
		"verified":      true,
		"forged":        false,
	}
	cr, _ := web["crypto"].(map[string]any)
	for k, v := range wantCrypto {
		if cr[k] != v {
			t.Errorf("crypto %s: %v, want %v", k, cr[k], v)
		}
	}
	if s, _ := cr["wrongUse"].(string); !strings.Contains(s, `TypeError: crypto.subtle.verify: the key's usages do not include "verify"`) {
		t.Errorf("verify with a sign-only key: %q", s)
	}
	if s, _ := web["subtle"].(string); !strings.Contains(s, "TypeError: crypto.subtle.encrypt is not supported") {
		t.Errorf("crypto.subtle: %q", s)
	}
}

// TestJS_Exceptions: an exception thrown in a Worker's fetch, in an
// object's fetch (thrown or rejected), in a constructor and in an alarm
// handler is a 500 with a request id; the log has the JavaScript error and
// its stack, the client does not; the object keeps its instance, as
// Workers does.
func TestJS_Exceptions(t *testing.T) {
	ts := jsApp(t)
	for _, c := range []struct{ path, inLog string }{
		{"/worker/throw?secret=hunter2", "Error: the worker throws with a secret: hunter2"},
		{"/obj/throw?name=e", "TypeError: object throws on request 1"},
		{"/obj/reject?name=e", "RangeError: object rejects on request 2"},
		{"/ctor/count?name=c", "Error: the constructor throws"},
		{"/worker/missing", "TypeError: fetch (outbound requests) is not supported by dohost's JavaScript runtime"},
		{"/obj/pending?name=e", "the handler's promise never settled"},
	} {
		status, body := ts.do(t, "GET", c.path)
		id := requestID(body)
		if status != 500 || id == "" || strings.Contains(body, "hunter2") || strings.Contains(body, "Error") {
			t.Errorf("GET %s: %d %q; want 500, a request id and nothing of the error", c.path, status, body)
			continue
		}
		log := ts.logFor(id)
		if !strings.Contains(log, c.inLog) || !strings.Contains(log, "index.ts") && c.path != "/obj/pending?name=e" {
			t.Errorf("GET %s: the log for %s lacks %q or a stack in index.ts:\n%s", c.path, id, c.inLog, log)
		}
	}
	// The object that threw and rejected kept its instance: its count
	// went on.
	var n int
	ts.getJSON(t, "/obj/count?name=e", 200, &n)
	if n != 4 {
		t.Errorf("count after the exceptions: %d, want 4 (one instance throughout)", n)
	}

	// An alarm that throws is retried; its exception is logged.
	ts.getJSON(t, "/obj/alarm/fail?name=al&n=1", 200, new(string))
	ts.getJSON(t, "/obj/alarm/set?name=al&in=0", 200, new(map[string]bool))
	var runs struct {
		Runs, LastRetry int
		Alarm           *int64
	}
	waitFor(t, "the alarm's retry succeeds", func() bool {
		ts.getJSON(t, "/obj/alarm/runs?name=al", 200, &runs)
		return runs.Runs == 2
	})
	if runs.LastRetry != 1 || runs.Alarm != nil {
		t.Errorf("alarm runs: %+v", runs)
	}
	if !strings.Contains(ts.logs.String(), "Error: the alarm throws on purpose (0 more)") {
		t.Errorf("the alarm's exception is not in the log:\n%s", ts.logs)
	}
}

// TestJS_Timers: setTimeout, setInterval, their clearing and
// scheduler.wait run while a handler waits for them, in the order they
// are due and after their time; a callback that throws is logged; a
// timer still set when the handler has settled is cancelled, and the log
// says so.
func TestJS_Timers(t *testing.T) {
	ts := jsApp(t)
	var got struct {
		Order  []string
		Ticks  int
		Waited bool
	}
	ts.getJSON(t, "/worker/timers", 200, &got)
	if strings.Join(got.Order, ",") != "a,b" || got.Ticks != 3 || !got.Waited {
		t.Errorf("timers: %+v, want order a,b, 3 ticks, 55 ms waited", got)
	}
	// (The exception's stack is in index.ts, through the bundle's source
	// map, as console.log shows an Error.)
	for _, want := range []string{"uncaught exception in a timer: Error: a timer throws", "at <anonymous> (index.ts:", "1 timer still set when the handler settled was cancelled"} {
		if !strings.Contains(ts.logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, ts.logs)
		}
	}
}

// TestJS_BlockConcurrencyWhile: a constructor's blockConcurrencyWhile
// holds the object's first event until its promise settles, its timers
// included (before, the event ran at once and the timer was cancelled
// when it settled: booted was null); a callback that rejects fails the
// constructor, and the next event constructs the object again.
func TestJS_BlockConcurrencyWhile(t *testing.T) {
	ts := jsApp(t)
	var b *struct {
		Waited float64
		Starts int
	}
	ts.getJSON(t, "/obj/booted?name=bcw", 200, &b)
	if b == nil || b.Starts != 1 || b.Waited < 30 {
		t.Fatalf("the first event saw %+v, want the constructor's work done: 1 start after 30 ms", b)
	}
	for i := 0; i < 2; i++ {
		status, body := ts.do(t, "GET", "/obj/booted?name=bcw-reject")
		log := ts.logFor(requestID(body))
		if status != 500 || !strings.Contains(log, "constructor of Api: blockConcurrencyWhile") ||
			!strings.Contains(log, "blockConcurrencyWhile rejects on purpose") {
			t.Errorf("event %d to an object whose blockConcurrencyWhile rejects: %d %q, log:\n%s", i, status, body, log)
		}
	}
}

// TestJS_Containment: an endless JavaScript loop is stopped at cpu_ms and
// an endless allocation at memory_mb, each a 500 for its own request,
// while other objects of the same Worker keep answering.
func TestJS_Containment(t *testing.T) {
	// 32 MiB, not the app's 128: the allocating object then runs out of
	// memory after a quarter of the page faults, well within its cpu_ms
	// on a machine where a fresh page costs tens of microseconds (under
	// -race, beside other packages' tests, 128 MiB ran past the limit).
	ts := jsAppWith(t, strings.Replace(jsAppConfig, "memory_mb = 128", "memory_mb = 32", 1))
	ts.getJSON(t, "/obj/count?name=bystander", 200, new(int))
	for _, c := range []struct{ path, inLog string }{
		{"/obj/loop?name=loop", "ran past its time limit"},
		{"/obj/alloc?name=alloc", "guest trapped"}, // and stderr says why, below
	} {
		var wg sync.WaitGroup
		wg.Add(1)
		var status int
		var body string
		go func() {
			defer wg.Done()
			status, body = ts.do(t, "GET", c.path)
		}()
		// While it runs, another object answers.
		for i := 0; i < 3; i++ {
			var n int
			ts.getJSON(t, "/obj/count?name=bystander", 200, &n)
		}
		wg.Wait()
		if id := requestID(body); status != 500 || !strings.Contains(ts.logFor(id), c.inLog) {
			t.Errorf("GET %s: %d %q; the log for it:\n%s", c.path, status, body, ts.logFor(id))
		}
	}
	if !strings.Contains(ts.logs.String(), "out of memory") {
		t.Errorf("the guest's out-of-memory error is not in the log")
	}
	var n int
	ts.getJSON(t, "/obj/count?name=bystander", 200, &n)
	if n != 8 {
		t.Errorf("the bystander counted %d, want 8", n)
	}
}

// TestJS_LoadErrors: a Worker whose source does not parse, or imports what
// cannot be found, does not load, and the error names the file, line and
// column.
func TestJS_LoadErrors(t *testing.T) {
	o := jsOptions(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.js")
	if err := os.WriteFile(bad, []byte("import { x } from \"./nowhere\";\nimport fs from \"node:fs\";\nexport default { fetch() { return x; } };\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Code that bundles but throws as it runs, at load.
	throws := filepath.Join(dir, "throws.js")
	if err := os.WriteFile(throws, []byte("export const cfg = JSON.parse(\"{bad json\");\nexport default { fetch() { return new Response(\"\"); } };\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		main string
		want []string
	}{
		{filepath.Join(repoRoot(), "testdata", "js", "broken", "index.ts"), []string{"index.ts:3:15: Unexpected \";\""}},
		{bad, []string{"bad.js:1:19: Could not resolve \"./nowhere\"", "bad.js:2:16:", "\"node:fs\" is not provided by dohost's JavaScript runtime"}},
		{throws, []string{"loading the Worker", "SyntaxError", "throws.js:1"}},
	} {
		o.DataDir = filepath.Join(t.TempDir(), "data")
		o.Configs = []string{writeConfig(t, t.TempDir(), c.main, "name = \"broken\"\n")}
		srv, err := New(t.Context(), o)
		if err == nil {
			srv.Close(t.Context())
			t.Errorf("%s loaded", c.main)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.main, err, w)
			}
		}
	}
}
