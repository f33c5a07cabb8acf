package host

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dohost/dohost/host/internal/mono"
	"github.com/dohost/dohost/host/internal/quota"
)

// tenantConfig writes a probe worker's wrangler.toml into its own
// directory: account, worker name and routes vary; the binding names, the
// KV namespace id and the class names are the same for every tenant.
func tenantConfig(t *testing.T, dir, account, name, routes string) string {
	t.Helper()
	d := filepath.Join(dir, account+"-"+name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	body := "name = \"" + name + "\"\naccount_id = \"" + account + "\"\n"
	if routes != "" {
		body += "routes = [" + routes + "]\n"
	}
	return writeConfig(t, d, guestWasm(t, "testdata/guests/probe"), body+probeConfig[strings.Index(probeConfig, "kv_namespaces"):])
}

// getHost GETs path with the Host header set to host.
func (ts *testServer) getHost(t *testing.T, host, path string, wantStatus int, v any) string {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s%s: status %d, want %d: %s", host, path, resp.StatusCode, wantStatus, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s%s: %s: %v", host, path, b, err)
		}
	}
	return string(b)
}

// TestTenants_Isolation: two accounts deploy the same worker (same name,
// binding names, KV namespace id and class names). Neither can read or
// write the other's KV, storage or objects. A second worker of the first
// account that binds the same KV namespace id shares it.
func TestTenants_Isolation(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, filepath.Join(dir, "data"),
		tenantConfig(t, dir, "acme", "app", `"a.test/*"`),
		tenantConfig(t, dir, "evil", "app", `"b.test/*"`),
		tenantConfig(t, dir, "acme", "app2", `"c.test/*"`),
	)
	// KV.
	ts.getHost(t, "a.test", "/kv/put?key=secret&value=acme", 200, nil)
	ts.getHost(t, "b.test", "/kv/get?key=secret", 404, nil)
	ts.getHost(t, "b.test", "/kv/put?key=secret&value=evil", 200, nil)
	var v string
	ts.getHost(t, "a.test", "/kv/get?key=secret", 200, &v)
	if v != "acme" {
		t.Errorf("acme's KV value is %q after evil's write", v)
	}
	ts.getHost(t, "c.test", "/kv/get?key=secret", 200, &v)
	if v != "acme" {
		t.Errorf("a worker of the same account binding the same namespace reads %q, want acme", v)
	}
	// Object storage and in-memory state of the object of the same name.
	ts.getHost(t, "a.test", "/obj/st/put?name=x&key=k&value=acme", 200, nil)
	var sv stValue
	ts.getHost(t, "b.test", "/obj/st/get?name=x&key=k", 200, &sv)
	if sv.Found {
		t.Errorf("evil's object x reads acme's storage: %+v", sv)
	}
	var n int
	ts.getHost(t, "a.test", "/obj/count?name=x", 200, &n)
	ts.getHost(t, "b.test", "/obj/count?name=x", 200, &n)
	if n != 2 { // its own st/get and count
		t.Errorf("evil's object x has count %d, want 2: it shares acme's instance", n)
	}
	// IDs: the same name gives different IDs, and one tenant's ID is refused by the other.
	var idA, idB string
	ts.getHost(t, "a.test", "/id/name?name=x", 200, &idA)
	ts.getHost(t, "b.test", "/id/name?name=x", 200, &idB)
	if idA == idB {
		t.Error("the same name gives the same ID in two accounts")
	}
	var e abiError
	ts.getHost(t, "b.test", "/id/parse?id="+idA, 502, &e)
	if e.Code != 6 {
		t.Errorf("evil parsing acme's ID: %+v, want INVALID", e)
	}
	ts.getHost(t, "b.test", "/byid/st/get?key=k&id="+idA, 502, &e)
	if e.Code != 6 {
		t.Errorf("evil reaching acme's object by ID: %+v, want INVALID", e)
	}
	// An unrouted host.
	ts.getHost(t, "d.test", "/", 404, nil)
}

// TestTenants_Routing: routes by host and by path prefix, the most
// specific first, and one worker without routes for the rest; a
// directory of configs.
func TestTenants_Routing(t *testing.T) {
	dir := t.TempDir()
	confs := filepath.Join(dir, "workers")
	tenantConfig(t, confs, "one", "paths", `"*/p/*"`)
	tenantConfig(t, confs, "one", "host", `"h.test/*", "h.test/p/exact"`)
	tenantConfig(t, confs, "one", "rest", "")
	ts := startServer(t, filepath.Join(dir, "data"), confs)
	whoami := func(host, path string) string {
		var info struct{ ID string }
		ts.getHost(t, host, path+"/obj/info?name=n", 200, &info)
		return info.ID
	}
	// Each worker gives object n its own ID: tell them apart by it.
	paths, host, rest := whoami("x.test", "/p"), whoami("h.test", ""), whoami("x.test", "")
	if paths == host || host == rest || paths == rest {
		t.Fatalf("the three workers answered with the same object: %s %s %s", paths, host, rest)
	}
	// h.test/p/… matches "h.test/*" and "*/p/*": the exact host wins.
	if got := whoami("h.test", "/p"); got != host {
		t.Errorf("h.test/p/...: routed to %s, want the host worker %s", got, host)
	}
	if got := whoami("127.0.0.1", "/p"); got != paths {
		t.Errorf("127.0.0.1/p/...: routed to %s, want the path worker", got)
	}
	// A fully qualified name (trailing dot), in any case, with a port, is
	// the same host: it must not fall through to another tenant's worker.
	for _, h := range []string{"h.test.", "H.Test.", "h.test.:8080"} {
		if got := whoami(h, ""); got != host {
			t.Errorf("%s: routed to %s, want the host worker %s", h, got, host)
		}
	}
}

// TestTenants_Errors: two workers without routes, or two workers of one
// account with one name, are refused at start.
func TestTenants_Errors(t *testing.T) {
	dir := t.TempDir()
	_, err := New(t.Context(), Options{DataDir: filepath.Join(dir, "d1"),
		Configs: []string{tenantConfig(t, dir, "a", "w1", ""), tenantConfig(t, dir, "a", "w2", "")}})
	if err == nil || !strings.Contains(err.Error(), "have no routes") {
		t.Errorf("two unrouted workers: %v", err)
	}
	_, err = New(t.Context(), Options{DataDir: filepath.Join(dir, "d2"),
		Configs: []string{tenantConfig(t, dir, "a", "w1", `"x/*"`), tenantConfig(t, filepath.Join(dir, "again"), "a", "w1", `"y/*"`)}})
	if err == nil || !strings.Contains(err.Error(), `worker "w1" of account "a" is already defined`) {
		t.Errorf("duplicate worker: %v", err)
	}
}

// TestTenants_AccountGrants: with accounts granted to config files, a
// tenant's config that claims another tenant's account_id (to read its KV)
// is refused at start; configs that claim their own account load.
func TestTenants_AccountGrants(t *testing.T) {
	dir := t.TempDir()
	grants := map[string][]string{
		"victim": {filepath.Join(dir, "victim-*", "wrangler.toml")},
		"evil":   {filepath.Join(dir, "evil-*", "wrangler.toml")},
	}
	victim := tenantConfig(t, dir, "victim", "app", `"v.test/*"`)
	own := tenantConfig(t, dir, "evil", "own", `"e.test/*"`)
	ts := startServerOpts(t, Options{DataDir: filepath.Join(dir, "d1"), Accounts: grants}, victim, own)
	ts.stop(t)

	// evil's directory holds a config that says it is victim's.
	claim := filepath.Join(dir, "evil-claim")
	if err := os.MkdirAll(claim, 0o755); err != nil {
		t.Fatal(err)
	}
	forged := writeConfig(t, claim, guestWasm(t, "testdata/guests/probe"),
		"name = \"steal\"\naccount_id = \"victim\"\nroutes = [\"x.test/*\"]\n"+probeConfig[strings.Index(probeConfig, "kv_namespaces"):])
	_, err := New(t.Context(), Options{DataDir: filepath.Join(dir, "d2"), Accounts: grants, Configs: []string{victim, forged}})
	if err == nil || !strings.Contains(err.Error(), `account_id "victim" is granted only to`) {
		t.Errorf("a config claiming another tenant's account: %v", err)
	}
}

// TestTenants_StartsCharged: an account's object starts are work on its
// CPU schedule (guest.Load.AccountWork). Beside another account's request
// in flight, a start makes the account owe time, and while it owes, its
// next start waits for its turn; alone, a start is neither charged nor
// held back. (A chain of stub calls through new objects started thousands
// a second, and no call's clock counted any of it.)
func TestTenants_StartsCharged(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, filepath.Join(dir, "data"),
		tenantConfig(t, dir, "acme", "app", `"a.test/*"`),
		tenantConfig(t, dir, "evil", "app", `"b.test/*"`),
	)
	schedule := func(account string) *quota.CPU {
		for _, w := range ts.workers() {
			if w.cfg.AccountID == account {
				return w.module.CPU()
			}
		}
		t.Fatalf("no worker of account %s", account)
		return nil
	}
	acme, evil := schedule("acme"), schedule("evil")

	ts.getHost(t, "b.test", "/obj/count?name=alone", 200, nil)
	if evil.Next().After(time.Unix(0, 0)) {
		t.Fatal("a start was charged with no other account's request in flight")
	}

	ts.load.Begin(acme) // a request of acme's in flight
	before := mono.Now()
	ts.getHost(t, "b.test", "/obj/count?name=beside", 200, nil)
	if !evil.Next().After(before) {
		t.Fatal("a start beside another account's request was not charged to its account")
	}
	turn := evil.Charge(mono.Now(), 300*time.Millisecond, 1)
	ts.getHost(t, "b.test", "/obj/count?name=owing", 200, nil)
	if now := mono.Now(); now.Before(turn) {
		t.Errorf("an indebted account's start ran %v before its turn", turn.Sub(now))
	}

	ts.load.End(acme)
	turn = evil.Charge(mono.Now(), time.Hour, 1)
	ts.getHost(t, "b.test", "/obj/count?name=alone-again", 200, nil) // not held back an hour
	if !evil.Next().Equal(turn) {
		t.Errorf("a start alone moved the account's turn by %v", evil.Next().Sub(turn))
	}
}

// TestTenants_ShareWaits: while an account held down as the busiest has
// spent its share of the cores (guest.Load's cap, set when the host is
// congested), its next request waits before it starts, beside another
// account's request in flight, until its share is spent no further ahead
// than its burst.
// (Thousands of short synced writes a second from one tenant took
// another's p99 to seven times its own, and nothing held them back: no
// call of theirs ran long.)
func TestTenants_ShareWaits(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, filepath.Join(dir, "data"),
		tenantConfig(t, dir, "acme", "app", `"a.test/*"`),
		tenantConfig(t, dir, "evil", "app", `"b.test/*"`),
	)
	var acme, evil *quota.CPU
	for _, w := range ts.workers() {
		switch w.cfg.AccountID {
		case "acme":
			acme = w.module.CPU()
		case "evil":
			evil = w.module.CPU()
		}
	}
	// Held down as the busiest account; both accounts made known
	// beforehand, so that no share loop starts to decide otherwise.
	acme.List()
	evil.List()
	evil.SetHeld(true)
	ts.load.Begin(acme) // a request of acme's in flight
	defer ts.load.End(acme)
	// The Worker alone (/echo), and a request to an object: each waits.
	for _, path := range []string{"/echo", "/obj/count?name=o"} {
		evil.Spend(mono.Now(), 300*time.Millisecond, 1000)
		turn := evil.Spent().Add(-10 * time.Millisecond) // less the burst
		ts.getHost(t, "b.test", path, 200, nil)
		if now := mono.Now(); now.Before(turn) {
			t.Errorf("%s: a request of an account over its share ran %v before its turn", path, turn.Sub(now))
		}
	}
}

// TestTenants_StubWaitNotWaiting: a Worker call waiting for the object it
// called is not work waiting for a core (the object's call is, counted on
// its own), so it counts as throttled while it waits. Counted as waiting,
// an account whose objects ran throttled loops looked like one with
// requests waiting, and capped the other tenant's share of the cores
// (BenchmarkRunaway: 3,568 → 1,748 requests a second).
func TestTenants_StubWaitNotWaiting(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, filepath.Join(dir, "data"),
		tenantConfig(t, dir, "evil", "app", `"b.test/*"`),
	)
	evil := ts.workers()[0].module.CPU()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ts.getHost(t, "b.test", "/obj/sleep?name=s&ms=3000", 200, nil)
	}()
	for evil.Inflight.Load() < 2 { // the request, and the object's batch
		select {
		case <-done:
			t.Fatal("the request ended before its object's call was seen in flight")
		default:
		}
		time.Sleep(time.Millisecond)
	}
	if th := evil.Throttled.Load(); th < 1 {
		t.Errorf("a Worker call waiting for its object: %d throttled of %d in flight, want it counted", th, evil.Inflight.Load())
	}
	<-done
}
