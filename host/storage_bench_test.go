package host

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/objects"
	"github.com/dohost/dohost/host/internal/store"
)

// objectRequest runs one request on the object named name of namespace
// ns, as a stub call from the Worker would, without HTTP.
func objectRequest(b *testing.B, ns *objects.Namespace, name, url string) []byte {
	req := abi.AppendRequest(nil, &abi.Request{Method: "GET", URL: url})
	resp, _, err := ns.FetchByName(context.Background(), name, req)
	if err != nil {
		b.Fatal(err)
	}
	return resp
}

// parallel runs op b.N times from n goroutines; goroutine g passes g.
func parallel(b *testing.B, n int, op func(g, i int)) {
	b.ResetTimer()
	cpu0 := processCPU()
	burst(n, b.N, op)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
	b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
}

// storageLangs are the guests the storage benchmarks run: the WAT bench
// guest (testdata/storagebench: no runtime, no parsing; the host's path
// alone), the C probe and the Go probe.
var storageLangs = []string{"wat", "c", "go"}

// storageServer serves lang's guest for the storage benchmarks, its class
// bound to PROBE. The account's write rate is not capped (Limits.
// AccountWriteRate, 8 MiB/s by default, about 90,000 small writes a
// second): the benchmarks measure the path, not the policy.
func storageServer(b *testing.B, lang string) *testServer {
	o := Options{Limits: Limits{AccountWriteRate: -1}}
	if lang != "wat" {
		return startProbeOpts(b, lang, o)
	}
	dir := b.TempDir()
	o.DataDir = dir + "/data"
	wasm := filepath.Join(repoRoot(), "testdata", "storagebench", "guest.wasm")
	return startServerOpts(b, o, writeConfig(b, dir, wasm, `
name = "storagebench"
[durable_objects]
bindings = [{ name = "PROBE", class_name = "Bench" }]
`))
}

// putURL is the URL that has lang's guest put key "k"; countURL the one
// that has it count the keys with prefix "k".
func putURL(lang string, i int) string {
	if lang == "wat" {
		return fmt.Sprintf("http://b/put?value=%d", i)
	}
	return fmt.Sprintf("http://probe/obj/st/put?key=k&value=%d", i)
}

func countURL(lang string) string {
	if lang == "wat" {
		return "http://b/count"
	}
	return "http://probe/obj/st/count?prefix=k"
}

// BenchmarkStorageWrite: synced storage writes (one put per request, each
// request its own commit) from 1 and from 100 objects at once, through the
// ABI from each of storageLangs, next to a loop of synced one-key Pebble
// batches from as many goroutines on the same disk. Concurrent commits
// share fsyncs in all. cpu-µs/op is the process's CPU time per write.
func BenchmarkStorageWrite(b *testing.B) {
	dir := b.TempDir()
	servers := map[string]*testServer{}
	for _, lang := range storageLangs {
		servers[lang] = storageServer(b, lang)
	}
	for _, n := range []int{1, 100} {
		for _, lang := range storageLangs {
			ns := servers[lang].namespace(b, "PROBE")
			names := make([]string, n)
			for g := range names { // start the objects
				names[g] = fmt.Sprintf("w%d", g)
				objectRequest(b, ns, names[g], putURL(lang, 0))
			}
			b.Run(fmt.Sprintf("abi-%s/objects=%d", lang, n), func(b *testing.B) {
				parallel(b, n, func(g, i int) {
					objectRequest(b, ns, names[g], putURL(lang, i))
				})
			})
		}
		b.Run(fmt.Sprintf("pebble/writers=%d", n), func(b *testing.B) {
			db := rawPebble(b, dir)
			parallel(b, n, func(g, i int) {
				batch := db.NewBatch()
				_ = batch.Set([]byte(fmt.Sprintf("\x05bench/%d/k", g)), []byte(fmt.Sprint(i)), nil)
				if err := batch.Commit(pebble.Sync); err != nil {
					b.Fatal(err)
				}
				batch.Close()
			})
		})
	}
}

// BenchmarkStorageWriteRatio is BenchmarkStorageWrite's WAT guest and
// raw Pebble taken in turns: each of b.N rounds runs ratioBurst synced
// writes from each (100 objects through the ABI, then 100 Pebble writers),
// and the figure is the ratio of their throughputs over all rounds
// (abi/raw), with the lowest and highest round's. On a shared machine
// whose load drifts, the two runs of BenchmarkStorageWrite can be minutes
// apart; here each round's two halves are a second apart. abi-cpu-µs/write
// and raw-cpu-µs/write are the process's CPU time per write on each side:
// the disk's syncs wait longer for a core, and so come fewer a second, the
// more of the two cores the writes keep busy.
func BenchmarkStorageWriteRatio(b *testing.B) {
	const writers = 100
	ts := storageServer(b, "wat")
	ns := ts.namespace(b, "PROBE")
	names := make([]string, writers)
	for g := range names {
		names[g] = fmt.Sprintf("w%d", g)
		objectRequest(b, ns, names[g], putURL("wat", 0))
	}
	db := rawPebble(b, b.TempDir())
	var abiTime, rawTime, abiCPU, rawCPU time.Duration
	lo, hi := 1e9, 0.0
	b.ResetTimer()
	for r := 0; r < b.N; r++ {
		cpu0 := processCPU()
		a := burst(writers, ratioBurst, func(g, i int) {
			objectRequest(b, ns, names[g], putURL("wat", i))
		})
		cpu1 := processCPU()
		p := burst(writers, ratioBurst, func(g, i int) {
			batch := db.NewBatch()
			_ = batch.Set([]byte(fmt.Sprintf("\x05bench/%d/k", g)), []byte(fmt.Sprint(i)), nil)
			if err := batch.Commit(pebble.Sync); err != nil {
				b.Fatal(err)
			}
			batch.Close()
		})
		abiCPU, rawCPU = abiCPU+cpu1-cpu0, rawCPU+processCPU()-cpu1
		abiTime, rawTime = abiTime+a, rawTime+p
		ratio := float64(p) / float64(a)
		lo, hi = min(lo, ratio), max(hi, ratio)
	}
	b.StopTimer()
	b.ReportMetric(float64(rawTime)/float64(abiTime), "abi/raw")
	b.ReportMetric(lo, "lowest-round")
	b.ReportMetric(hi, "highest-round")
	b.ReportMetric(float64(b.N*ratioBurst)/abiTime.Seconds(), "abi-writes/s")
	b.ReportMetric(float64(b.N*ratioBurst)/rawTime.Seconds(), "raw-writes/s")
	b.ReportMetric(float64(abiCPU)/float64(time.Microsecond)/float64(b.N*ratioBurst), "abi-cpu-µs/write")
	b.ReportMetric(float64(rawCPU)/float64(time.Microsecond)/float64(b.N*ratioBurst), "raw-cpu-µs/write")
}

// ratioBurst is how many writes each side of a BenchmarkStorageWriteRatio
// round makes: about a fifth of a second's worth.
const ratioBurst = 30000

// burst runs op count times from n goroutines (goroutine g passes g) and
// returns how long they took.
func burst(n, count int, op func(g, i int)) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				op(g, i)
			}
		}(g)
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkStorageList: one listing of all 100,000 keys of an object,
// through the ABI (the guest walks them a page of 1000 keys per host
// call; each of storageLangs), through
// the host's store (the same pages, no guest) and with a raw Pebble
// iterator over the same keys.
func BenchmarkStorageList(b *testing.B) {
	dir := b.TempDir()
	const n = 100_000
	raw := rawPebble(b, dir)
	rawPrefix := []byte("\x02default\x00\x01" + strings.Repeat("n", store.NamespaceIDLen+store.ObjectIDLen))
	for i := 0; i < n; i += 10_000 {
		rb := raw.NewBatch()
		for j := i; j < i+10_000; j++ {
			_ = rb.Set(append(rawPrefix[:len(rawPrefix):len(rawPrefix)], listKey(j)...), listValue, nil)
		}
		if err := rb.Commit(pebble.Sync); err != nil {
			b.Fatal(err)
		}
		rb.Close()
	}
	var obj *store.Object
	var ts *testServer
	for _, lang := range storageLangs {
		// The same keys go into object "big" of each guest's server,
		// through its store.
		ts = storageServer(b, lang)
		ns := ts.namespace(b, "PROBE")
		id, err := ns.ParseID(ns.IDFromName("big"))
		if err != nil {
			b.Fatal(err)
		}
		var oid [store.ObjectIDLen]byte
		if _, err := hex.Decode(oid[:], []byte(id)); err != nil {
			b.Fatal(err)
		}
		obj = ts.store.Object(ts.workers()[0].cfg.AccountID, ns.Key(), oid, store.DefaultObjectLimits)
		for i := 0; i < n; i += 10_000 {
			tx := ts.store.NewTxn()
			for j := i; j < i+10_000; j++ {
				if err := obj.Put(tx, listKey(j), listValue); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.Run("abi-"+lang+"/keys", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if got := string(objectRequest(b, ns, "big", countURL(lang))); !strings.HasSuffix(strings.TrimSpace(got), "100000") {
					b.Fatalf("count: %q", got)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
		})
	}
	b.Run("pebble/keys", func(b *testing.B) {
		lower := append(bytes.Clone(rawPrefix), 'k')
		upper := append(bytes.Clone(rawPrefix), 'l')
		for i := 0; i < b.N; i++ {
			it, err := raw.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
			if err != nil {
				b.Fatal(err)
			}
			count := 0
			for ok := it.First(); ok; ok = it.Next() {
				count++
			}
			it.Close()
			if count != n {
				b.Fatalf("count %d", count)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
	})
	b.Run("store/keys", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			tx := ts.store.NewTxn()
			count := 0
			lo := store.ListOptions{Prefix: []byte("k"), KeysOnly: true}
			for {
				es, more, err := obj.List(tx, lo)
				if err != nil {
					b.Fatal(err)
				}
				count += len(es)
				if !more {
					break
				}
				lo.Start, lo.StartAfter = es[len(es)-1].Key, true
			}
			tx.Discard()
			if count != n {
				b.Fatalf("count %d", count)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
	})
}

// listKey is the key j of BenchmarkStorageList; listValue every value.
func listKey(j int) []byte { return []byte(fmt.Sprintf("k%06d", j)) }

var listValue = []byte("some value of 24 bytes..")
