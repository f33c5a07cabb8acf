package host

import (
	"fmt"
	"io"
	"net/http"
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
		ts := startProbeLimits(t, lang, "cpu_ms = 300")
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

// TestConformance_Timeout: a stub call that waits for a busy object's
// turn past its caller's deadline fails with TIMEOUT in every language.
// Request A sleeps in object x, holding it up to twice cpu_ms (2 s);
// once x has started (A holds its turn), object y calls x, and gives up
// at its own call's deadline (cpu_ms, 1 s), with code 11. A ends at its
// limit, and x answers again.
func TestConformance_Timeout(t *testing.T) {
	eachLang(t, func(t *testing.T, lang string) {
		ts := startProbeLimits(t, lang, "cpu_ms = 1000")
		slept := make(chan string, 1)
		go func() {
			resp, err := http.Get(ts.URL + "/obj/sleep?name=x&ms=60000")
			if err != nil {
				slept <- err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			slept <- fmt.Sprint(resp.StatusCode, " ", strings.TrimSpace(string(body)))
		}()
		// x's instance is made under its turn, which A then holds.
		waitFor(t, "request A to start object x", func() bool { return ts.Stats().ObjectsStarted >= 1 })
		var e abiError
		ts.getJSON(t, "/obj/call?name=y&chain=x", 502, &e)
		if e.Code != 11 || e.CodeName != "timeout" || !strings.Contains(e.Message, "gave up waiting for its turn") {
			t.Errorf("y→x while x sleeps: %+v, want code 11 (timeout), waiting for x's turn", e)
		}
		if a := <-slept; !strings.HasPrefix(a, "502 ") || !strings.Contains(a, `"code":8`) {
			t.Errorf("request A: %s, want an object error (x ran out of time)", a)
		}
		var chain []string
		ts.getJSON(t, "/obj/call?name=y&chain=x", 200, &chain)
		if strings.Join(chain, ",") != "x" {
			t.Errorf("y→x once x is free: %v, want [x]", chain)
		}
	})
}
