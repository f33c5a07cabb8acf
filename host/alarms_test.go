package host

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// hostileTenant writes a config for the hostile guest name as a tenant of
// account evil, routed by the path prefix /evil/.
func hostileTenant(t *testing.T, dir, name string) string {
	t.Helper()
	d := filepath.Join(dir, "evil-"+name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return writeConfig(t, d, filepath.Join(repoRoot(), "testdata", "hostile", name, "guest.wasm"),
		`name = "`+name+`"
account_id = "evil"
routes = ["*/evil/*"]
[durable_objects]
bindings = [{ name = "NS", class_name = "Hostile" }]
[limits]
cpu_ms = 60000
`)
}

// TestAlarms_Fairness: 70 objects of one account whose alarm handlers
// loop without end take their account's 16 handler slots, not the host's
// 64: another account's alarm, due at once, fires. (All 64 were shared:
// the other account's alarm did not fire for minutes.)
func TestAlarms_Fairness(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, filepath.Join(dir, "data"), hostileTenant(t, dir, "alarmspin"),
		tenantConfig(t, dir, "victim", "probe", ""))
	// The spinning account's own requests are slowed by its runaways:
	// send them all at once, and wait for its 16 handlers to run.
	for i := 0; i < 70; i++ {
		go post(ts.URL + fmt.Sprintf("/evil/%02d", i))
	}
	waitFor(t, "the spinning handlers run", func() bool { return ts.quota.Tenant("evil").Alarms.Tenant.Used() == 16 })
	ts.st(t, "v", "alarm/set?in=0", 200, nil)
	var r alarmRuns
	waitFor(t, "the other account's alarm runs", func() bool {
		ts.st(t, "v", "alarm/runs", 200, &r)
		return r.Runs == 1
	})
	if n := ts.quota.Tenant("evil").Alarms.Tenant.Used(); n > 16 {
		t.Errorf("the spinning account runs %d alarm handlers at once, its cap is 16", n)
	}
}

// TestAlarms_Rate: 40 objects whose alarm handlers re-arm their alarm for
// now, every run, run no more than their account's 100 a second (plus a
// burst of 100); they ran thousands a second, each a synced commit.
func TestAlarms_Rate(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, filepath.Join(dir, "data"), hostileTenant(t, dir, "alarmrearm"),
		tenantConfig(t, dir, "victim", "probe", ""))
	start := time.Now()
	for i := 0; i < 40; i++ {
		go post(ts.URL + fmt.Sprintf("/evil/%02d", i))
	}
	waitFor(t, "a second of re-armed alarms", func() bool { return time.Since(start) > time.Second && ts.Stats().AlarmsRun > 0 })
	runs, took := ts.Stats().AlarmsRun, time.Since(start)
	// An upper bound: a busy machine can only run fewer.
	if limit := int64(100*took.Seconds()) + 100 + 16; runs > limit {
		t.Errorf("%d alarm runs in %v; the account's rate allows %d", runs, took, limit)
	}
	t.Logf("%d alarm runs in %v", runs, took)
}

// post POSTs to url and drops the answer; for goroutines that must not
// fail the test.
func post(url string) {
	if resp, err := http.Post(url, "text/plain", nil); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
