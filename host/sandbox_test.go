package host

import (
	"strings"
	"testing"
	"time"

	"github.com/dohost/dohost/host/internal/guest"
)

// TestSandbox_WASI: a guest reaches no file, directory, environment
// variable, argument or socket of the host.
func TestSandbox_WASI(t *testing.T) {
	ts := startProbe(t)
	var res map[string]string
	ts.st(t, "s", "sandbox", 200, &res)
	for _, k := range []string{"readfile", "readdir", "writefile", "dial"} {
		if res[k] == "<nil>" || res[k] == "" {
			t.Errorf("%s succeeded: %q", k, res[k])
		}
	}
	if res["env"] != "" || res["args"] != "" {
		t.Errorf("the guest sees environment %q and arguments %q", res["env"], res["args"])
	}
	t.Logf("what the guest saw: %v", res)
}

// TestSandbox_LogLines: guest output becomes log lines tagged with the
// account, worker, class and object; a chatty guest is rate-limited and
// the dropped lines are counted.
func TestSandbox_LogLines(t *testing.T) {
	ts := startProbe(t)
	ts.st(t, "talker", "log?msg=hello-from-the-guest", 200, nil)
	var line string
	for _, l := range strings.Split(ts.logs.String(), "\n") {
		if strings.Contains(l, "stdout: hello-from-the-guest") {
			line = l
		}
	}
	for _, want := range []string{"account=default", "worker=probe", "class=Probe", "object=", "stream=stdout"} {
		if !strings.Contains(line, want) {
			t.Errorf("guest stdout line %q lacks %s", line, want)
		}
	}
	start, dropped := time.Now(), ts.Stats().LogLinesDropped
	ts.st(t, "talker", "chatty?n=5000", 200, nil)
	// The bucket refills while the guest writes: on a loaded machine the
	// request takes seconds, and each one lets LogRate lines more through.
	most := guest.LogBurst + int(float64(guest.LogRate)*time.Since(start).Seconds()) + 10
	logged := strings.Count(ts.logs.String(), "chatty ")
	if logged > most || logged < guest.LogBurst/2 {
		t.Errorf("%d of 10,000 chatty lines logged; want the burst of %d and at most %d in all", logged, guest.LogBurst, most)
	}
	if !strings.Contains(ts.logs.String(), "guest log lines dropped") {
		t.Error("no report of dropped lines")
	}
	// Each line not logged was held back by the worker's rate or the
	// account's (dohost_log_lines_dropped_total).
	if got := ts.Stats().LogLinesDropped - dropped; got < int64(10_000-logged) {
		t.Errorf("%d lines counted as dropped, want at least the %d not logged", got, 10_000-logged)
	}
}
