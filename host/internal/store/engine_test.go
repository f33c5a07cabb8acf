package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestEngineStats: commits show in the log's bytes, a flush in the
// flushes and the bytes they wrote (the large values in blob files), and
// a full compaction in the compactions, without copying those values again.
func TestEngineStats(t *testing.T) {
	s := openMem(t)
	o := testObject(s, 1)
	before := s.Engine()
	const n, size = 40, 4 << 10
	rnd := rand.NewChaCha8([32]byte{})
	for i := 0; i < n; i++ {
		v := make([]byte, size) // incompressible, as the engine compresses blob files
		rnd.Read(v)
		tx := s.NewTxn()
		if err := o.Put(tx, []byte(fmt.Sprintf("k%03d", i)), v); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	mid := s.Engine()
	if got := mid.LogBytes - before.LogBytes; got < n*size {
		t.Errorf("%d puts of %d bytes wrote %d bytes to the log", n, size, got)
	}
	if mid.MemtableBytes == 0 {
		t.Errorf("the memtables hold nothing after %d puts", n)
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Compact(t.Context(), []byte{0}, []byte{0xff}, true); err != nil {
		t.Fatal(err)
	}
	after := s.Engine()
	if after.Flushes <= mid.Flushes || after.FlushedBytes-mid.FlushedBytes < n*size/2 {
		t.Errorf("a flush: %d flushes and %d bytes flushed, from %d and %d", after.Flushes, after.FlushedBytes, mid.Flushes, mid.FlushedBytes)
	}
	if after.Compactions <= mid.Compactions {
		t.Errorf("a compaction: %d compactions, from %d", after.Compactions, mid.Compactions)
	}
	if after.BlobRewrittenBytes != 0 {
		t.Errorf("the compaction copied %d bytes of separated values again", after.BlobRewrittenBytes)
	}
}
