package host

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// st runs a storage operation on probe object name.
func (ts *testServer) st(t *testing.T, name, op string, status int, v any) {
	t.Helper()
	sep := "?"
	if strings.Contains(op, "?") {
		sep = "&"
	}
	ts.getJSON(t, "/obj/"+op+sep+"name="+url.QueryEscape(name), status, v)
}

type stValue struct {
	Found bool   `json:"found"`
	Value string `json:"value"`
}

func TestStorage_Ops(t *testing.T) {
	eachProbe(t, func(t *testing.T, ts *testServer) {
		var v stValue
		ts.st(t, "a", "st/get?key=k", 200, &v)
		if v.Found {
			t.Fatalf("fresh object has key k: %+v", v)
		}
		ts.st(t, "a", "st/put?key=k&value=1", 200, nil)
		ts.st(t, "a", "st/get?key=k", 200, &v)
		if !v.Found || v.Value != "1" {
			t.Fatalf("get after put: %+v", v)
		}
		// Private: another object with the same key sees nothing.
		ts.st(t, "b", "st/get?key=k", 200, &v)
		if v.Found {
			t.Fatalf("object b reads object a's key: %+v", v)
		}
		var existed bool
		ts.st(t, "a", "st/delete?key=k", 200, &existed)
		if !existed {
			t.Error("delete of an existing key says it did not exist")
		}
		ts.st(t, "a", "st/delete?key=k", 200, &existed)
		if existed {
			t.Error("second delete says the key existed")
		}

		ts.st(t, "a", "st/putmulti?prefix=m&n=5&value=x", 200, nil)
		var m map[string]string
		ts.st(t, "a", "st/getmulti?keys=m0000,m0004,nope", 200, &m)
		if len(m) != 2 || m["m0000"] != "x" || m["m0004"] != "x" {
			t.Errorf("getmulti: %v", m)
		}
		var n int
		ts.st(t, "a", "st/deletemulti?keys=m0000,m0001,nope", 200, &n)
		if n != 2 {
			t.Errorf("deletemulti: %d deleted, want 2", n)
		}

		for i := 0; i < 10; i++ {
			ts.st(t, "a", fmt.Sprintf("st/put?key=l%d&value=%d", i, i), 200, nil)
		}
		cases := []struct {
			q    string
			want string
		}{
			{"prefix=l&limit=3", "[[l0 0] [l1 1] [l2 2]]"},
			{"prefix=l&reverse=1&limit=2", "[[l9 9] [l8 8]]"},
			{"start=l3&end=l5", "[[l3 3] [l4 4]]"},
			{"startAfter=l7&prefix=l", "[[l8 8] [l9 9]]"},
			{"prefix=m&keysOnly=1", "[[m0002 ] [m0003 ] [m0004 ]]"},
			{"prefix=zz", "[]"},
		}
		for _, c := range cases {
			var l [][2]string
			ts.st(t, "a", "st/list?"+c.q, 200, &l)
			if got := fmt.Sprint(l); got != c.want {
				t.Errorf("list %s: got %s, want %s", c.q, got, c.want)
			}
		}
		ts.st(t, "a", "st/deleteall", 200, nil)
		ts.st(t, "a", "st/count", 200, &n)
		if n != 0 {
			t.Errorf("%d keys after deleteall", n)
		}
		ts.st(t, "b", "st/count", 200, &n)
		if n != 1 { // its constructor's "starts"
			t.Errorf("object b has %d keys after a's deleteall, want 1", n)
		}
	})
}

// TestStorage_ListPages lists more keys than one page holds.
func TestStorage_ListPages(t *testing.T) {
	eachProbe(t, func(t *testing.T, ts *testServer) {
		for i := 0; i < 25; i++ {
			ts.st(t, "p", fmt.Sprintf("st/putmulti?prefix=k%02d-&n=100&value=v", i), 200, nil)
		}
		var n int
		ts.st(t, "p", "st/count?prefix=k", 200, &n)
		if n != 2500 {
			t.Fatalf("count over pages: %d, want 2500", n)
		}
		var l [][2]string
		ts.st(t, "p", "st/list?prefix=k&reverse=1&limit=1500&keysOnly=1", 200, &l)
		if len(l) != 1500 || l[0][0] != "k24-0099" || l[1499][0] != "k10-0000" {
			t.Errorf("reverse list of 1500: %d keys, first %v, last %v", len(l), l[0], l[len(l)-1])
		}
	})
}

// TestStorage_MaxWriteBytes: through each SDK, a handler call's writes
// past its worker's max_write_bytes fail with TOO_LARGE (errors.Is
// dohost.ErrTooLarge in a Go guest) and write nothing; under it they stand.
func TestStorage_MaxWriteBytes(t *testing.T) {
	eachLang(t, func(t *testing.T, lang string) {
		dir := t.TempDir()
		ts := startServer(t, dir+"/data", writeConfig(t, dir, probeWasm(t, lang),
			probeConfig+"\n[limits]\nmax_write_bytes = 1048576\n"))
		ts.st(t, "mw", "st/putmulti?prefix=a&n=4&size=131072", 200, nil) // 512 KiB
		var e abiError
		ts.st(t, "mw", "st/putmulti?prefix=b&n=16&size=131072", 502, &e) // 2 MiB
		if e.Code != 5 || !strings.Contains(e.Message, "max_write_bytes is 1048576") {
			t.Errorf("2 MiB in one call under max_write_bytes = 1 MiB: code %d %q, want 5 (TOO_LARGE)", e.Code, e.Message)
		}
		var n int
		if ts.st(t, "mw", "st/count?prefix=b", 200, &n); n != 0 {
			t.Errorf("the refused writes left %d keys", n)
		}
		if ts.st(t, "mw", "st/count?prefix=a", 200, &n); n != 4 {
			t.Errorf("%d keys of the writes under the limit, want 4", n)
		}
	})
}

func TestStorage_Limits(t *testing.T) {
	eachLang(t, func(t *testing.T, lang string) {
		ts := startProbeIn(t, lang)
		cases := []struct {
			op   string
			code int
			msg  string
		}{
			{"st/put?keysize=2048&value=x", 0, ""},
			{"st/put?keysize=2049&value=x", 5, "key is 2049 bytes; the limit is 2048"},
			{"st/put?key=v&size=131072", 0, ""},
			{"st/put?key=v&size=131073", 5, "value is 131073 bytes; the limit is 131072"},
			{"st/get?keysize=2049", 5, "key is 2049 bytes"},
			{"st/putmulti?prefix=p&n=128&value=x", 0, ""},
			{"st/putmulti?prefix=q&n=129&value=x", 5, "129 entries; one call takes at most 128"},
			{"st/putmulti?prefix=r&n=2&size=131073", 5, "value is 131073 bytes"},
		}
		for _, c := range cases {
			if c.code == 0 {
				ts.st(t, "lim", c.op, 200, nil)
				continue
			}
			var e abiError
			ts.st(t, "lim", c.op, 502, &e)
			if e.Code != c.code || !strings.Contains(e.Message, c.msg) {
				t.Errorf("%s: got code %d %q, want %d containing %q", c.op, e.Code, e.Message, c.code, c.msg)
			}
		}
		// A multi-key put that fails writes nothing.
		var n int
		ts.st(t, "lim", "st/count?prefix=r", 200, &n)
		if n != 0 {
			t.Errorf("failed putmulti left %d keys", n)
		}

		// Limits raised in wrangler.toml.
		dir := t.TempDir()
		big := startServer(t, dir+"/data", writeConfig(t, dir, probeWasm(t, lang),
			probeConfig+"\n[limits]\nstorage_key_bytes = 4096\nstorage_value_bytes = 1048576\n"))
		big.st(t, "lim", "st/put?keysize=4096&size=1048576", 200, nil)
		var e abiError
		big.st(t, "lim", "st/put?keysize=4097&value=x", 502, &e)
		if e.Code != 5 {
			t.Errorf("key over the raised limit: code %d %q", e.Code, e.Message)
		}
	})
}

func TestStorage_Transactions(t *testing.T) {
	eachProbe(t, func(t *testing.T, ts *testServer) {
		var v stValue
		ts.st(t, "t", "st/txn?key=a&value=1", 200, nil)
		ts.st(t, "t", "st/txn?key=a&value=2&fail=1", 409, nil)
		ts.st(t, "t", "st/get?key=a", 200, &v)
		if v.Value != "1" {
			t.Errorf("after a failed transaction a = %q, want 1", v.Value)
		}
		ts.st(t, "t", "st/nested", 200, nil)
		ts.st(t, "t", "st/get?key=outer", 200, &v)
		if v.Value != "kept" {
			t.Errorf("outer = %+v, want kept", v)
		}
		ts.st(t, "t", "st/get?key=inner", 200, &v)
		if v.Found {
			t.Errorf("the failed inner transaction's write survived: %+v", v)
		}
	})
}

// TestStorage_TrapDiscards: a request that writes and then traps leaves
// none of its writes, storage or KV; earlier writes are intact.
func TestStorage_TrapDiscards(t *testing.T) {
	eachProbe(t, func(t *testing.T, ts *testServer) {
		ts.st(t, "x", "st/put?key=before&value=1", 200, nil)
		status, body := ts.get(t, "/obj/st/putexit?name=x&key=after")
		if status != 502 || !strings.Contains(body, "discarded") { // the probe reports the stub error as 502
			t.Fatalf("putexit: %d %s", status, body)
		}
		var v stValue
		ts.st(t, "x", "st/get?key=after", 200, &v)
		if v.Found {
			t.Error("the trapped request's write is there")
		}
		ts.st(t, "x", "st/get?key=before", 200, &v)
		if v.Value != "1" {
			t.Errorf("an earlier write is gone: %+v", v)
		}
		ts.get(t, "/obj/writeexit?name=x&key=kvafter")
		ts.getJSON(t, "/kv/get?key=kvafter", 404, nil)
	})
}

// TestStorage_Constructor: the constructor reads storage before the first
// request; its write counts the object's starts, and survives restarts of
// the instance and of the host.
func TestStorage_Constructor(t *testing.T) {
	eachLang(t, func(t *testing.T, lang string) {
		dir := t.TempDir()
		cfg := writeConfig(t, dir, probeWasm(t, lang), probeConfig)
		ts := startServer(t, dir+"/data", cfg)
		var c struct {
			Read  string `json:"read"`
			Found bool   `json:"found"`
		}
		ts.st(t, "c", "st/ctor", 200, &c)
		if c.Found {
			t.Fatalf("first start read %+v", c)
		}
		ts.get(t, "/obj/exit?name=c") // trap: the instance is replaced
		ts.st(t, "c", "st/ctor", 200, &c)
		if c.Read != "1" {
			t.Errorf("second start read %+v, want 1", c)
		}
		ts.stop(t)
		ts = startServer(t, dir+"/data", cfg)
		ts.st(t, "c", "st/ctor", 200, &c)
		if c.Read != "2" {
			t.Errorf("after restart read %+v, want 2", c)
		}
	})
}

// TestStorage_ObjectName: an object created from a name knows it even
// when it is later reached by its ID string, after a restart.
func TestStorage_ObjectName(t *testing.T) {
	eachLang(t, func(t *testing.T, lang string) {
		dir := t.TempDir()
		cfg := writeConfig(t, dir, probeWasm(t, lang), probeConfig)
		ts := startServer(t, dir+"/data", cfg)
		var info struct {
			ID      string `json:"id"`
			Name    string `json:"name"`
			HasName bool   `json:"hasName"`
		}
		ts.st(t, "named-one", "info", 200, &info)
		ts.stop(t)
		ts = startServer(t, dir+"/data", cfg)
		ts.getJSON(t, "/byid/info?id="+info.ID, 200, &info)
		if !info.HasName || info.Name != "named-one" {
			t.Errorf("by id after restart: %+v", info)
		}
	})
}

type alarmRuns struct {
	Runs      int `json:"runs"`
	LastRetry int `json:"lastRetry"`
}

// waitFor polls cond until it holds. What it waits for comes on a timer
// of the host's (an alarm, the sweeper), which a busy machine delays: the
// two minutes are a backstop against a hang, not a measure of speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	const backstop = 2 * time.Minute
	for end := time.Now().Add(backstop); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s", what, backstop)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAlarms_FireAndRetry(t *testing.T) {
	eachLang(t, func(t *testing.T, lang string) {
		dir := t.TempDir()
		ts := startServerOpts(t, Options{DataDir: dir + "/data", AlarmRetryDelay: 50 * time.Millisecond},
			writeConfig(t, dir, probeWasm(t, lang), probeConfig))
		// An alarm an hour out is there to read (one due sooner may have
		// run already on a busy machine); moved to 100 ms out, it runs.
		ts.st(t, "al", "alarm/set?in=3600000", 200, nil)
		var at *int64
		ts.st(t, "al", "alarm/get", 200, &at)
		if at == nil {
			t.Fatal("alarm/get after set: none")
		}
		if d := time.Until(time.UnixMilli(*at)); d < 59*time.Minute || d > time.Hour {
			t.Errorf("alarm/get after set in 1h: %v from now", d)
		}
		ts.st(t, "al", "alarm/set?in=100", 200, nil)
		var r alarmRuns
		waitFor(t, "alarm runs", func() bool {
			ts.st(t, "al", "alarm/runs", 200, &r)
			return r.Runs == 1
		})
		ts.st(t, "al", "alarm/get", 200, &at)
		if at != nil {
			t.Errorf("alarm still set after it ran: %d", *at)
		}

		// Fails twice, then succeeds on the second retry.
		ts.st(t, "al", "st/put?key=alarmfail&value=2", 200, nil)
		ts.st(t, "al", "alarm/set?in=0", 200, nil)
		waitFor(t, "retried alarm succeeds", func() bool {
			ts.st(t, "al", "alarm/runs", 200, &r)
			return r.Runs == 4
		})
		if r.LastRetry != 2 {
			t.Errorf("last run's retry count %d, want 2", r.LastRetry)
		}
		time.Sleep(300 * time.Millisecond)
		ts.st(t, "al", "alarm/runs", 200, &r)
		if r.Runs != 4 {
			t.Errorf("alarm ran %d times, want 4", r.Runs)
		}
		if s := ts.Stats(); s.AlarmsFailed != 2 || s.AlarmsPending != 0 {
			t.Errorf("stats: %+v", s)
		}

		// A deleted alarm does not run. (Due in 2 s, so that the delete
		// lands before it even on a busy machine.)
		ts.st(t, "al", "alarm/set?in=2000", 200, nil)
		ts.st(t, "al", "alarm/delete", 200, nil)
		if s := ts.Stats(); s.AlarmsPending != 0 {
			t.Errorf("a deleted alarm is pending: %+v", s)
		}
		ts.st(t, "al", "alarm/get", 200, &at)
		if at != nil {
			t.Errorf("alarm/get after delete: %d", *at)
		}
		time.Sleep(2200 * time.Millisecond)
		ts.st(t, "al", "alarm/runs", 200, &r)
		if r.Runs != 4 {
			t.Errorf("a deleted alarm ran: runs %d", r.Runs)
		}
	})
}

// TestAlarms_RearmSameTime: an alarm handler that re-arms its alarm for
// the very millisecond it runs for keeps it: 1 run and 4 re-arms make 5
// runs. (The host used to take the alarm it found, the same time, for the
// one that ran, and delete it.)
func TestAlarms_RearmSameTime(t *testing.T) {
	eachLang(t, func(t *testing.T, lang string) {
		dir := t.TempDir()
		ts := startServer(t, dir+"/data", writeConfig(t, dir, probeWasm(t, lang), probeConfig))
		ts.st(t, "rearm", "st/put?key=alarmrearm&value=4", 200, nil)
		ts.st(t, "rearm", "alarm/set?in=0", 200, nil)
		var r alarmRuns
		waitFor(t, "five alarm runs", func() bool {
			ts.st(t, "rearm", "alarm/runs", 200, &r)
			return r.Runs >= 5
		})
		waitFor(t, "no alarm left", func() bool { return ts.Stats().AlarmsPending == 0 })
		ts.st(t, "rearm", "alarm/runs", 200, &r)
		if r.Runs != 5 {
			t.Errorf("%d runs, want 5", r.Runs)
		}
	})
}

// TestAlarms_AcrossRestart: an alarm that came due while the host was down
// fires when it starts again.
func TestAlarms_AcrossRestart(t *testing.T) {
	eachLang(t, func(t *testing.T, lang string) {
		dir := t.TempDir()
		cfg := writeConfig(t, dir, probeWasm(t, lang), probeConfig)
		ts := startServer(t, dir+"/data", cfg)
		ts.st(t, "restart", "alarm/set?in=300", 200, nil)
		ts.stop(t)
		time.Sleep(500 * time.Millisecond)
		ts = startServer(t, dir+"/data", cfg)
		var r alarmRuns
		waitFor(t, "past-due alarm fires at start", func() bool {
			ts.st(t, "restart", "alarm/runs", 200, &r)
			return r.Runs == 1
		})
	})
}
