package host

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/guest"
)

// rawPebble opens a Pebble database of its own in dir, on the same disk as
// the server's, for benchmarks that set the ABI's cost next to Pebble's.
func rawPebble(b *testing.B, dir string) *pebble.DB {
	db, err := pebble.Open(dir+"/raw-pebble", &pebble.Options{FormatMajorVersion: pebble.FormatNewest, Logger: quietEngine{}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// quietEngine drops the engine's log lines (the store's engine logs
// only its errors; the raw database's replay lines would break the
// benchmark's output).
type quietEngine struct{}

func (quietEngine) Infof(string, ...any)  {}
func (quietEngine) Errorf(string, ...any) {}
func (quietEngine) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
}

func benchGet(b *testing.B, c *http.Client, url string) {
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
}

// BenchmarkWarmRequest is the seed flow over real HTTP on 127.0.0.1:
// Worker → idFromName → stub fetch → object KV get + put (synced), on 100
// warm rooms, from parallel clients.
func BenchmarkWarmRequest(b *testing.B) {
	warmRequests(b, guestWasm(b, "guests/examples/room"))
}

// warmRequests sends requests to 100 warm rooms of the room in wasm.
func warmRequests(b *testing.B, wasm string) {
	dir := b.TempDir()
	ts := startServer(b, dir+"/data", writeConfig(b, dir, wasm, roomConfig))
	c := benchClient()
	for i := 0; i < 100; i++ {
		benchGet(b, c, fmt.Sprintf("%s/?roomId=room-%d", ts.URL, i))
	}
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchGet(b, c, fmt.Sprintf("%s/?roomId=room-%d", ts.URL, n.Add(1)%100))
		}
	})
}

// BenchmarkFirstRequest is the seed flow where every request goes to an
// object never seen before: instantiate, construct, then the request.
func BenchmarkFirstRequest(b *testing.B) {
	firstRequests(b, guestWasm(b, "guests/examples/room"), 0)
}

// firstRequests sends every request to a new object of the room in wasm.
// maxLive caps the live objects (0: the default, more than a benchmark
// makes): under a small cap each new object evicts one, and its instance
// is usually a recycled one. It reports the process's CPU per request
// (the server's and the benchmark's HTTP client's together).
func firstRequests(b *testing.B, wasm string, maxLive int) {
	dir := b.TempDir()
	ts := startServerOpts(b, Options{DataDir: dir + "/data", MaxLiveObjects: maxLive}, writeConfig(b, dir, wasm, roomConfig))
	c := benchClient()
	benchGet(b, c, ts.URL+"/?roomId=warmup")
	var n atomic.Int64
	recycled := guest.Recycled()
	b.SetParallelism(4)
	cpu0 := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchGet(b, c, fmt.Sprintf("%s/?roomId=new-%d", ts.URL, n.Add(1)))
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(ts.Stats().ObjectsStarted)/float64(b.N), "objects/op")
	b.ReportMetric(float64(guest.Recycled()-recycled)/float64(b.N), "recycled/op")
}

// processCPU is the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkKVPutGet compares one KV put and get of the same key, committed
// with a synced write, through the ABI (a Worker handler in a Go guest,
// called directly, without HTTP) and on raw Pebble.
func BenchmarkKVPutGet(b *testing.B) {
	dir := b.TempDir()
	ts := startServer(b, dir+"/data", writeConfig(b, dir, guestWasm(b, "testdata/guests/probe"), probeConfig))
	b.Run("abi", func(b *testing.B) {
		w := ts.workers()[0]
		ctx := context.Background()
		req := abi.AppendRequest(nil, &abi.Request{Method: "GET", URL: "http://probe/kv/putget?key=bench&value=0123456789abcdef"})
		inst, err := w.pool.Get(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer w.pool.Done(ctx, inst, false)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			c := &guest.Call{Kind: guest.WorkerFetch, Txn: ts.store.NewTxn(), Env: w.env, Log: w.log}
			if err := inst.Run(ctx, c, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pebble", func(b *testing.B) {
		db := rawPebble(b, dir)
		key, val := []byte("\x01raw\x00\x01bench"), []byte("0123456789abcdef")
		for i := 0; i < b.N; i++ {
			batch := db.NewIndexedBatch()
			if err := batch.Set(key, val, nil); err != nil {
				b.Fatal(err)
			}
			v, closer, err := batch.Get(key)
			if err != nil || len(v) != len(val) {
				b.Fatal(err)
			}
			closer.Close()
			if err := batch.Commit(pebble.Sync); err != nil {
				b.Fatal(err)
			}
			batch.Close()
		}
	})
}
