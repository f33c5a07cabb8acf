package host

import (
	"strings"
	"testing"
	"time"
)

// TestConformance_Sleep: a guest's sleep — WASI's poll_oneoff on a clock
// (time.Sleep in Go, nanosleep in C, thread::sleep in Rust, sleepMs in
// AssemblyScript), a timer in JavaScript — waits for real, and the time
// is not counted against cpu_ms: a 400 ms sleep under cpu_ms = 300 is
// answered, after 400 ms at least (before, Go spun on its CPU time until
// it ran out, and the others returned at once). The sleeps of one call
// add at most cpu_ms to its time: a longer one ends the call there, a
// timeout trap, and the object's next request gets a new instance.
func TestConformance_Sleep(t *testing.T) {
	eachLang(t, func(t *testing.T, lang string) {
		dir := t.TempDir()
		ts := startServerOpts(t, Options{DataDir: dir + "/data"},
			writeConfig(t, dir, probeWasm(t, lang), probeConfig+"\n[limits]\ncpu_ms = 300\n"))
		ts.lang = lang
		start := time.Now()
		var got string
		ts.getJSON(t, "/obj/sleep?name=s&ms=400", 200, &got)
		if took := time.Since(start); got != "slept" || took < 400*time.Millisecond {
			t.Errorf("sleep 400 ms: %q after %v, want \"slept\" after 400 ms or more", got, took)
		}

		var e abiError
		ts.getJSON(t, "/obj/sleep?name=s&ms=60000", 502, &e)
		if e.Code != 8 {
			t.Errorf("sleep 60 s under cpu_ms = 300: %+v, want an object error (the call ran out of time)", e)
		}
		if logs := ts.logs.String(); !strings.Contains(logs, "time limit") {
			t.Errorf("the log does not say the call ran out of time:\n%s", logs)
		}
		var n int
		ts.getJSON(t, "/obj/count?name=s", 200, &n)
		if n != 1 {
			t.Errorf("count after the trap: %d, want 1 (a new instance)", n)
		}
	})
}
