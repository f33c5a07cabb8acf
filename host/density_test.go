package host

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dohost/dohost/abi"
)

// procMemory reads the process's resident set size and proportional set
// size (shared pages divided among the mappings that share them), in bytes.
func procMemory(tb testing.TB) (rss, pss int64) {
	f, err := os.Open("/proc/self/smaps_rollup")
	if err != nil {
		tb.Skip("no /proc/self/smaps_rollup")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "Rss:":
			rss = kb << 10
		case "Pss:":
			pss = kb << 10
		}
	}
	return rss, pss
}

// settle returns memory the Go runtime holds but does not use to the OS,
// so that RSS measures what is live.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

// BenchmarkDensity activates b.N objects of the room example (each takes
// one request: instance, constructor, KV get and put) and reports the
// memory each live idle object adds to the process: RSS, PSS and Go heap.
// "idle" objects have been idle long enough to be trimmed (the pages they
// only read from the snapshot unmapped); "untrimmed" ones not.
func BenchmarkDensity(b *testing.B) {
	for _, g := range roomLangs(b) {
		for _, trim := range []bool{false, true} {
			name := g.lang + "/untrimmed"
			trimAfter := time.Hour
			if trim {
				name, trimAfter = g.lang+"/idle", 50*time.Millisecond
			}
			b.Run(name, func(b *testing.B) { density(b, g.wasm, trimAfter) })
		}
	}
}

func density(b *testing.B, wasm string, trimAfter time.Duration) {
	dir := b.TempDir()
	// Every object must stay live: the memory budgets (a quarter of the
	// machine for one account) would otherwise evict the larger guests'
	// objects past a few thousand, which is the budget working, not a
	// density figure.
	unbounded := Limits{GuestMemory: 1 << 50, AccountGuestMemory: 1 << 50}
	ts := startServerOpts(b, Options{DataDir: dir + "/data", TrimAfter: trimAfter, MaxLiveObjects: 1 << 20, Limits: unbounded},
		writeConfig(b, dir, wasm, roomConfig))
	ns := ts.namespace(b, "YOUR_DO_CLASS")
	fetch := func(name string) {
		req := abi.AppendRequest(nil, &abi.Request{Method: "GET", URL: "http://x/?roomId=" + name})
		if _, _, err := ns.FetchByName(b.Context(), name, req); err != nil {
			b.Fatal(err)
		}
	}
	fetch("warm")
	settle()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	rss0, pss0 := procMemory(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fetch(fmt.Sprintf("obj-%d", i))
	}
	b.StopTimer()
	if trimAfter < time.Second { // the sweeper trims every idle object
		for ts.Stats().ObjectsTrimmed < int64(b.N)+1 {
			time.Sleep(trimAfter)
		}
	}
	settle()
	runtime.ReadMemStats(&ms1)
	rss1, pss1 := procMemory(b)
	n := float64(b.N)
	b.ReportMetric(float64(rss1-rss0)/n, "rss-B/object")
	b.ReportMetric(float64(pss1-pss0)/n, "pss-B/object")
	b.ReportMetric(float64(int64(ms1.HeapInuse)-int64(ms0.HeapInuse))/n, "goheap-B/object")
	if live := ts.Stats().ObjectsLive; live < int64(b.N) {
		b.Fatalf("%d objects live, want %d", live, b.N)
	}
}
