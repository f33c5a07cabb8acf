package host

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestDisk_Full: when the disk is almost full, a request that writes gets
// 507 with a short message (not a hang), reads go on, the log says so once,
// and writes are accepted again by themselves once there is room.
func TestDisk_Full(t *testing.T) {
	var free atomic.Uint64
	free.Store(1 << 40)
	dir := t.TempDir()
	ts := startServerOpts(t, Options{DataDir: filepath.Join(dir, "data"), Limits: Limits{DiskReserve: 1 << 30},
		freeSpace: func(string) (uint64, uint64, error) { return free.Load(), 2 << 40, nil }},
		writeConfig(t, dir, guestWasm(t, "guests/examples/counter"), counterConfig))
	ts.expect(t, "POST", "/?name=d", 200, `"value":1`)
	free.Store(100 << 20)
	for !ts.store.DiskFull() {
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 20; i++ {
		if status, body := ts.do(t, "POST", "/?name=d"); status != 507 || requestID(body) == "" {
			t.Fatalf("a write on a full disk: %d %q, want 507", status, body)
		}
	}
	ts.expect(t, "GET", "/?name=d", 200, `"value":1`)
	free.Store(1 << 40)
	for ts.store.DiskFull() {
		time.Sleep(10 * time.Millisecond)
	}
	ts.expect(t, "POST", "/?name=d", 200, `"value":2`)
	if n := strings.Count(ts.logs.String(), "disk almost full: writes are refused"); n != 1 {
		t.Errorf("the full disk was logged %d times, want once", n)
	}
}

// counterConfig serves guests/examples/counter.
const counterConfig = `name = "counter"
[durable_objects]
bindings = [{ name = "COUNTERS", class_name = "Counter" }]
`

// TestDisk_AccountQuota: an account whose stored data reaches its quota
// (here 4 MiB) has its writes refused (TOO_LARGE to the guest) while
// its deletes go on; another account writes as before.
func TestDisk_AccountQuota(t *testing.T) {
	dir := t.TempDir()
	ts := startServerOpts(t, Options{DataDir: filepath.Join(dir, "data"), Limits: Limits{AccountDisk: 4 << 20}},
		tenantConfig(t, dir, "hog", "hog", `"*/p/*"`), tenantConfig(t, dir, "other", "other", ""))
	written := 0
	for i := 0; ; i++ {
		status, body := ts.get(t, fmt.Sprintf("/p/obj/st/put?name=h&key=k%d&size=131072", i))
		// The probe answers a host call's error itself (502, with the
		// code); a Worker that fails instead gets its client a 507.
		if status == 507 || status == 502 && strings.Contains(body, `"code":5`) && strings.Contains(body, "quota") {
			break
		}
		if status != 200 {
			t.Fatalf("write %d: %d %s", i, status, body)
		}
		written += 131072
		if written > 64<<20 {
			t.Fatalf("%d MiB written under a quota of 4 MiB", written>>20)
		}
	}
	t.Logf("refused after %d KiB", written>>10)
	if written > 4<<20 {
		t.Errorf("%d KiB stored under a quota of 4 MiB", written>>10)
	}
	if status, body := ts.get(t, "/p/obj/st/delete?name=h&key=k0"); status != 200 {
		t.Errorf("a delete over the quota: %d %s", status, body)
	}
	if status, body := ts.get(t, "/obj/st/put?name=o&key=k&size=131072"); status != 200 {
		t.Errorf("another account's write: %d %s", status, body)
	}
}

// TestDisk_WriteRate: an account past its write rate (here 1 MiB/s, in
// bursts of one second's worth) is slowed, not refused: 4 MiB of writes
// take at least the 3 MiB past the burst over 1 MiB/s. (With bursts of
// four seconds' worth, a tenant writing as fast as it could wrote 32 MiB at
// once at the default rate, and another's p99 rose tenfold meanwhile.)
func TestDisk_WriteRate(t *testing.T) {
	dir := t.TempDir()
	ts := startServerOpts(t, Options{DataDir: filepath.Join(dir, "data"), Limits: Limits{AccountWriteRate: 1 << 20}},
		writeConfig(t, dir, guestWasm(t, "testdata/guests/probe"), probeConfig))
	start := time.Now()
	for i := 0; i < 32; i++ {
		ts.st(t, "w", fmt.Sprintf("st/put?key=k%d&size=131072", i), 200, nil)
	}
	took := time.Since(start)
	t.Logf("4 MiB of writes took %v", took)
	if took < 2900*time.Millisecond { // a lower bound: a busy machine is only slower
		t.Errorf("4 MiB of writes at 1 MiB/s (burst 1 MiB) took %v", took)
	}
}

// TestDisk_WriteRateRefused: a write the account's rate could not pay for
// within its call's time (4 MiB at 1 MiB/s, for a call of cpu_ms = 1000:
// three seconds' wait, two allowed) is refused with OVERLOADED at once,
// and is not owed: the account's next small write goes through. (Owed,
// it made every later write of the account wait out the debt, and writes
// given up by their time limit piled it up to minutes: the soak's disk
// attacks, run after the KV-read one, wrote nothing.)
func TestDisk_WriteRateRefused(t *testing.T) {
	dir := t.TempDir()
	ts := startServerOpts(t, Options{DataDir: filepath.Join(dir, "data"), Limits: Limits{AccountWriteRate: 1 << 20}},
		writeConfig(t, dir, guestWasm(t, "testdata/guests/probe"), probeConfig+"\n[limits]\ncpu_ms = 1000\n"))
	var e struct {
		CodeName, Message string
	}
	ts.st(t, "w", "st/put?key=big&size=4194304", 502, &e)
	if e.CodeName != "overloaded" || !strings.Contains(e.Message, "write rate") {
		t.Errorf("4 MiB at 1 MiB/s within 2s: %+v, want OVERLOADED for the write rate", e)
	}
	for i := 0; i < 4; i++ { // 512 KiB: within the burst, had nothing been owed
		ts.st(t, "w", fmt.Sprintf("st/put?key=k%d&size=131072", i), 200, nil)
	}
}
