package store

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestLargeValues_WrittenOnce: values of 128 KiB go to blob files when the
// memtable is flushed, and a compaction of every level moves their keys,
// not the values themselves; they read back whole, and the account's disk
// usage (its quota) still counts them. Before, a full compaction rewrote
// every byte of them.
func TestLargeValues_WrittenOnce(t *testing.T) {
	s := openMem(t)
	kv := s.KV("acct", "ns")
	rng := rand.New(rand.NewPCG(1, 2))
	values := make([][]byte, 48)
	var total int
	for i := range values {
		v := make([]byte, 128<<10)
		for j := range v {
			v[j] = byte(rng.Uint32()) // incompressible: sizes are the values'
		}
		values[i] = v
		total += len(v)
		tx := s.NewTxn()
		if err := kv.Put(tx, []byte(fmt.Sprintf("big%02d", i)), v, PutOptions{}, 0); err != nil {
			t.Fatal(err)
		}
		if err := kv.Put(tx, []byte(fmt.Sprintf("small%02d", i)), []byte("a small value"), PutOptions{}, 0); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if i%16 == 15 { // three flushes: three overlapping tables to compact
			if err := s.db.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	m := s.db.Metrics()
	if m.BlobFiles.LiveCount == 0 || m.BlobFiles.ReferencedValueSize < uint64(total) {
		t.Fatalf("after the flushes: %d blob files holding %d bytes of values; want the %d bytes of large values in blob files",
			m.BlobFiles.LiveCount, m.BlobFiles.ReferencedValueSize, total)
	}
	written := func() (n uint64) { // by compactions (a flush counts as one)
		for _, l := range s.db.Metrics().Levels {
			n += l.TableBytesCompacted + l.BlobBytesCompacted
		}
		return n
	}
	before := written()
	if err := s.db.Compact(context.Background(), []byte{0}, []byte{0xff}, false); err != nil {
		t.Fatal(err)
	}
	compacted := written() - before
	if compacted > uint64(total)/8 {
		t.Errorf("a full compaction wrote %d bytes for %d bytes of large values: it rewrote the values", compacted, total)
	}
	for i, want := range values {
		got, ok, err := kv.Get(s.NewTxn(), []byte(fmt.Sprintf("big%02d", i)), 0)
		if err != nil || !ok || !bytes.Equal(got, want) {
			t.Fatalf("big%02d after the compaction: %d bytes, found %v, err %v", i, len(got), ok, err)
		}
		if got, ok, _ := kv.Get(s.NewTxn(), []byte(fmt.Sprintf("small%02d", i)), 0); !ok || string(got) != "a small value" {
			t.Fatalf("small%02d after the compaction: %q %v", i, got, ok)
		}
	}
	used, err := s.AccountUsage("acct")
	if err != nil {
		t.Fatal(err)
	}
	if used < int64(total) {
		t.Errorf("the account's disk usage is %d bytes with %d bytes of values stored: the quota misses the blob files", used, total)
	}
}
