package host

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/guest"
)

// TestEviction_Cap: past the cap, the least recently used idle objects
// lose their instance (their in-memory state) but not their storage; an
// object in use stays.
func TestEviction_Cap(t *testing.T) {
	ts := startProbeOpts(t, "go", Options{MaxLiveObjects: 5})
	var n int
	for i := 0; i < 20; i++ {
		ts.st(t, "hot", "count", 200, &n) // the most recently used, always
		ts.st(t, fmt.Sprintf("cold-%d", i), "st/put?key=k&value=v", 200, nil)
	}
	if n != 20 {
		t.Errorf("the hot object's in-memory count is %d, want 20: it was evicted", n)
	}
	s := ts.Stats()
	if s.ObjectsLive > 5 {
		t.Errorf("%d objects live, cap 5", s.ObjectsLive)
	}
	if s.ObjectsEvicted < 15 {
		t.Errorf("%d evicted, want at least 15", s.ObjectsEvicted)
	}
	// An evicted object comes back with its storage, and a new instance.
	var v stValue
	ts.st(t, "cold-0", "st/get?key=k", 200, &v)
	if v.Value != "v" {
		t.Errorf("evicted object's storage: %+v", v)
	}
	var c struct{ Read string }
	ts.st(t, "cold-0", "st/ctor", 200, &c)
	if c.Read != "1" {
		t.Errorf("evicted object's constructor read starts=%q, want 1 (its second start)", c.Read)
	}
	if records := ts.objects.Stats().Records; records > 5 {
		t.Errorf("%d object records kept for 5 live objects", records)
	}
}

// TestEviction_Recycled: evicted objects' instances serve the next new
// objects, each starting as a new instance would (its own in-memory state
// from zero, its own name, its log lines under its own name): a revived
// instance keeps nothing of the object that had it before. A handler's
// panic leaves the instance to its object; an exit closes it, and an
// instance wazero closed is not kept.
func TestEviction_Recycled(t *testing.T) {
	ts := startProbeOpts(t, "go", Options{MaxLiveObjects: 2})
	var n int
	for round := 0; round < 4; round++ {
		name := fmt.Sprintf("obj-%d", round)
		ts.st(t, "panic-"+name, "panic", 502, nil)
		// Two objects are live (the last round's and the one that
		// panicked): this one evicts the older and, after the first
		// round, gets its instance.
		r0 := ts.Stats().InstancesRecycled
		for i := 1; i <= 3; i++ {
			ts.st(t, name, "count", 200, &n)
			if n != i {
				t.Fatalf("%s: count %d at its request %d: its instance kept another object's state", name, n, i)
			}
		}
		if round > 0 && ts.Stats().InstancesRecycled == r0 {
			t.Fatalf("%s did not get a recycled instance", name)
		}
		var info struct{ Name string }
		ts.st(t, name, "info", 200, &info)
		if info.Name != name {
			t.Fatalf("%s answers as %q", name, info.Name)
		}
		ts.st(t, name, "log?msg=from-"+name, 200, nil)
	}
	ts.st(t, "exit", "exit", 502, nil)
	ts.st(t, "after-exit", "count", 200, &n)
	if n != 1 {
		t.Errorf("the object after an exit counts %d, want 1", n)
	}
	for _, line := range strings.Split(ts.logs.String(), "\n") {
		if _, rest, ok := strings.Cut(line, `msg="stdout: from-`); ok {
			from, _, _ := strings.Cut(rest, `"`)
			if !strings.Contains(line, "name="+from+" ") {
				t.Errorf("a line %s wrote is logged under another object: %s", from, line)
			}
		}
	}
	if s := ts.Stats(); s.ObjectsLive > 2 {
		t.Errorf("%d objects live, cap 2", s.ObjectsLive)
	}
}

// TestEviction_Idle: an object idle for IdleTimeout is evicted.
func TestEviction_Idle(t *testing.T) {
	ts := startProbeOpts(t, "go", Options{IdleTimeout: 200 * time.Millisecond, TrimAfter: 50 * time.Millisecond})
	var n int
	ts.st(t, "idle", "count", 200, &n)
	ts.st(t, "idle", "count", 200, &n)
	waitFor(t, "idle object evicted", func() bool { return ts.Stats().ObjectsLive == 0 })
	ts.st(t, "idle", "count", 200, &n)
	if n != 1 {
		t.Errorf("count after eviction %d, want 1 (a new instance)", n)
	}
}

// TestEviction_WorkerInstances: a burst's Worker instances idle for
// IdleTimeout are closed, all but the one used last, which is trimmed
// and serves on.
func TestEviction_WorkerInstances(t *testing.T) {
	ts := startProbeOpts(t, "go", Options{IdleTimeout: 100 * time.Millisecond, TrimAfter: 50 * time.Millisecond})
	pool := ts.workers()[0].pool
	ctx := context.Background()
	var insts []*guest.Instance
	for range 3 {
		inst, err := pool.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		insts = append(insts, inst)
	}
	for _, inst := range insts {
		pool.Done(ctx, inst, false)
	}
	if s := ts.Stats(); s.WorkerInstances < 3 {
		t.Fatalf("after the burst: %d Worker instances made, want 3", s.WorkerInstances)
	}
	waitFor(t, "idle Worker instances closed", func() bool { return ts.Stats().WorkerIdle == 1 })
	if s := ts.Stats(); s.WorkerRetired != 2 {
		t.Errorf("%d Worker instances retired, want 2", s.WorkerRetired)
	}
	waitFor(t, "the Worker instance kept trimmed", func() bool { return ts.Stats().WorkerTrimmed >= 1 })
	var n int
	ts.st(t, "after", "count", 200, &n)
	if n != 1 {
		t.Errorf("count %d, want 1", n)
	}
}

// TestEviction_TrimKeepsState: trimming an idle object's memory keeps
// every byte it wrote.
func TestEviction_TrimKeepsState(t *testing.T) {
	ts := startProbeOpts(t, "go", Options{TrimAfter: 20 * time.Millisecond})
	var n int
	for i := 1; i <= 5; i++ {
		trimmed := ts.Stats().ObjectsTrimmed
		ts.st(t, "trim", "count", 200, &n)
		waitFor(t, "the idle object trimmed", func() bool { return ts.Stats().ObjectsTrimmed > trimmed })
		if n != i {
			t.Fatalf("count %d, want %d", n, i)
		}
	}
	var info struct{ Name string }
	ts.st(t, "trim", "info", 200, &info)
	if info.Name != "trim" {
		t.Errorf("info after trims: %+v", info)
	}
}

// BenchmarkEviction activates 10,000 objects of the room example (one
// request each) under a cap of 1,000 live objects and reports the host's
// RSS after the first 1,000 and at the end: it stays bounded.
func BenchmarkEviction(b *testing.B) {
	const total, cap = 10_000, 1_000
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		ts := startServerOpts(b, Options{DataDir: dir + "/data", MaxLiveObjects: cap},
			writeConfig(b, dir, guestWasm(b, "guests/examples/room"), roomConfig))
		ns := ts.namespace(b, "YOUR_DO_CLASS")
		var atCap, peak int64
		for j := 0; j < total; j++ {
			name := fmt.Sprintf("e-%d", j)
			req := abi.AppendRequest(nil, &abi.Request{Method: "GET", URL: "http://x/?roomId=" + name})
			if _, _, err := ns.FetchByName(b.Context(), name, req); err != nil {
				b.Fatal(err)
			}
			if (j+1)%cap == 0 {
				settle()
				rss, _ := procMemory(b)
				peak = max(peak, rss)
				if j+1 == cap {
					atCap = rss
				}
			}
		}
		rss, _ := procMemory(b)
		b.ReportMetric(float64(atCap)/(1<<20), "rss-MB-at-1000")
		b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MB")
		b.ReportMetric(float64(rss)/(1<<20), "rss-MB-at-10000")
		b.ReportMetric(float64(ts.Stats().ObjectsEvicted), "evicted")
		if live := ts.Stats().ObjectsLive; live > cap {
			b.Fatalf("%d objects live, cap %d", live, cap)
		}
		ts.stop(b)
	}
}

// TestEviction_MemoryBudget: an account whose guest memory budget is spent
// by idle objects goes on serving new ones: a new object's instance (here
// from a snapshot, whose memory is grown to the snapshot's size) and a
// grow in a running instance (here the Worker's) first take the memory of
// the account's least recently used idle objects, rather than failing.
func TestEviction_MemoryBudget(t *testing.T) {
	dir := t.TempDir()
	const budget = 24 << 20
	ts := startServerOpts(t, Options{DataDir: dir + "/data", Limits: Limits{AccountGuestMemory: budget}},
		writeConfig(t, dir, guestWasm(t, "guests/examples/room"), roomConfig))
	for i := 0; i < 60; i++ {
		ts.expect(t, "GET", fmt.Sprintf("/?roomId=r%d", i), 200, fmt.Sprintf(`"room":"r%d"`, i))
	}
	used := ts.quota.Tenant("default").Memory.Tenant.Used()
	s := ts.Stats()
	t.Logf("%d objects started, %d live, %d evicted; %d MiB of the account's %d MiB in use",
		s.ObjectsStarted, s.ObjectsLive, s.ObjectsEvicted, used>>20, budget>>20)
	if used > budget {
		t.Errorf("the account holds %d bytes of guest memory; its budget is %d", used, budget)
	}
	if s.ObjectsEvicted == 0 {
		t.Error("no object was evicted: the budget did not bind (make it smaller)")
	}
}
