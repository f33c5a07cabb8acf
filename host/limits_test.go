package host

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestLimits_Bodies(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir+"/data", writeConfig(t, dir, guestWasm(t, "testdata/guests/probe"),
		probeConfig+"\n[limits]\nmax_request_bytes = 1000\nmax_response_bytes = 3000\n"))
	resp, err := http.Post(ts.URL+"/kv/get?key=a", "text/plain", bytes.NewReader(make([]byte, 1001)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("request body over the limit: status %d, want 413", resp.StatusCode)
	}
	ts.getJSON(t, "/obj/big?name=b&n=3000", 200, nil)
	var e abiError
	ts.getJSON(t, "/obj/big?name=b&n=3001", 502, &e)
	if e.Code != 8 || !strings.Contains(e.Message, "response body of 3001 bytes is over the limit of 3000") {
		t.Errorf("response over the limit: %+v", e)
	}
}

// TestLimits_Queue: with max_queue = 0 an object runs one request and
// refuses the others at once: the Worker's stub call fails with
// OVERLOADED, and the client gets 503 with Retry-After.
func TestLimits_Queue(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir+"/data", writeConfig(t, dir, guestWasm(t, "guests/examples/room"), roomConfig+"\n[limits]\nmax_queue = 0\n"))
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 25; j++ {
				resp, err := http.Get(ts.URL + "/?roomId=busy")
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "" {
					t.Error("503 without Retry-After")
				}
				mu.Lock()
				counts[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if counts[200] == 0 || counts[503] == 0 || len(counts) != 2 {
		t.Errorf("statuses %v: want both 200 and 503, nothing else", counts)
	}
}

// TestDefaultLimits_StoreCache: the engine's block cache is a
// thirty-second of the RAM, at most 1 GiB, where the engine alone would
// keep 8 MiB (BenchmarkGet in package store: a point read 5-7 times
// slower once the tables outgrow it); a limit given stays.
func TestDefaultLimits_StoreCache(t *testing.T) {
	for _, c := range []struct{ ram, want int64 }{{24 << 30, 768 << 20}, {4 << 30, 128 << 20}, {64 << 30, 1 << 30}} {
		if got := DefaultLimits(c.ram, 1000).StoreCache; got != c.want {
			t.Errorf("RAM %d GiB: a cache of %d MiB, want %d", c.ram>>30, got>>20, c.want>>20)
		}
	}
	if got := (Limits{StoreCache: 32 << 20}).withDefaults(DefaultLimits(24<<30, 1000)).StoreCache; got != 32<<20 {
		t.Errorf("a cache of 32 MiB given: %d MiB", got>>20)
	}
}
