package host

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/store"
)

// objectRequest runs one request on probe object o, as a stub call from the
// Worker would, without HTTP.
func objectRequest(b *testing.B, ts *testServer, name, url string) []byte {
	req := abi.AppendRequest(nil, &abi.Request{Method: "GET", URL: url})
	resp, _, err := ts.namespace(b, "PROBE").FetchByName(context.Background(), name, req)
	if err != nil {
		b.Fatal(err)
	}
	return resp
}

// parallel runs op b.N times from n goroutines; goroutine g passes g.
func parallel(b *testing.B, n int, op func(g, i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				op(g, i)
			}
		}(g)
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}

// BenchmarkStorageWrite: synced storage writes (one put per request, each
// request its own commit) from 1 and from 100 objects at once, through the
// ABI from the C probe (whose own CPU is small: the host's path) and the
// Go probe, next to a loop of synced one-key Pebble batches from as many
// goroutines on the same disk. Concurrent commits share fsyncs in all.
func BenchmarkStorageWrite(b *testing.B) {
	dir := b.TempDir()
	servers := map[string]*testServer{}
	for _, lang := range []string{"c", "go"} {
		servers[lang] = startProbeOpts(b, lang, Options{})
	}
	for _, n := range []int{1, 100} {
		for _, lang := range []string{"c", "go"} {
			ts := servers[lang]
			for g := 0; g < n; g++ { // start the objects
				objectRequest(b, ts, fmt.Sprintf("w%d", g), "http://probe/obj/count")
			}
			b.Run(fmt.Sprintf("abi-%s/objects=%d", lang, n), func(b *testing.B) {
				parallel(b, n, func(g, i int) {
					objectRequest(b, ts, fmt.Sprintf("w%d", g), fmt.Sprintf("http://probe/obj/st/put?key=k&value=%d", i))
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

// BenchmarkStorageList: one listing of all 100,000 keys of an object,
// through the ABI (the guest walks them a page of 1000 keys per host
// call; the C probe, whose own CPU is small, and the Go probe), through
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
	for _, lang := range []string{"c", "go"} {
		// The same keys go into object "big" of each probe's server,
		// through its store.
		ts = startProbeOpts(b, lang, Options{})
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
				if got := string(objectRequest(b, ts, "big", "http://probe/obj/st/count?prefix=k")); !strings.HasSuffix(strings.TrimSpace(got), "100000") {
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
