package host

import (
	"net/http/httptest"
	"path/filepath"
	"testing"
)

// TestMetrics_Budgets: the metrics show what each budget holds and its
// limit, the host's and the account's: a 2 MiB response held while its
// client reads it (a writer that blocks) is 2 MiB of the account's and the
// host's bodies, against limits of 4 and 8 MiB, and is gone once written;
// the object that made it is one of the account's live objects.
func TestMetrics_Budgets(t *testing.T) {
	dir := t.TempDir()
	ts := startServerOpts(t, Options{DataDir: filepath.Join(dir, "data"), Limits: Limits{Bodies: 8 << 20}},
		writeConfig(t, dir, guestWasm(t, "testdata/guests/probe"), probeConfig))
	admin := httptest.NewServer(ts.AdminHandler(nil))
	defer admin.Close()

	_, finish := serveBlocked(ts, "/obj/big?name=m&n=2097152")
	mf := scrape(t, admin)
	account := func(resource string) map[string]string {
		return map[string]string{"account": "default", "resource": resource}
	}
	host := map[string]string{"resource": "bodies_bytes"}
	if got := value(t, mf, "dohost_account_budget_used", account("bodies_bytes")); got < 2<<20 || got > 3<<20 {
		t.Errorf("the account's bodies while a 2 MiB response is written: %v bytes", got)
	}
	if got := value(t, mf, "dohost_host_budget_used", host); got < 2<<20 || got > 3<<20 {
		t.Errorf("the host's bodies while a 2 MiB response is written: %v bytes", got)
	}
	if got := value(t, mf, "dohost_account_budget_limit", account("bodies_bytes")); got != 4<<20 {
		t.Errorf("the account's limit of bodies: %v, want 4 MiB", got)
	}
	if got := value(t, mf, "dohost_host_budget_limit", host); got != 8<<20 {
		t.Errorf("the host's limit of bodies: %v, want 8 MiB", got)
	}
	if got := value(t, mf, "dohost_account_budget_used", account("live_objects")); got != 1 {
		t.Errorf("the account's live objects: %v, want 1", got)
	}
	if got := value(t, mf, "dohost_account_budget_used", account("guest_memory_bytes")); got <= 0 {
		t.Errorf("the account's guest memory: %v bytes, want some", got)
	}
	value(t, mf, "dohost_account_budget_used", account("stored_bytes"))
	value(t, mf, "dohost_account_budget_limit", account("stored_bytes"))
	for _, r := range []string{"write_buffers_bytes", "running_alarms", "guest_memory_bytes", "live_objects"} {
		value(t, mf, "dohost_host_budget_limit", map[string]string{"resource": r})
	}
	finish()
	if got := value(t, scrape(t, admin), "dohost_account_budget_used", account("bodies_bytes")); got != 0 {
		t.Errorf("the account's bodies once the response is written: %v bytes", got)
	}
}
