package store

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// BenchmarkLargeValues writes 1 GiB of 128 KiB values, one synced
// commit each, to keys spread over the key space (16 objects, keys in
// the order a counter's decimal digits sort), as a tenant writing large
// values at its account's rate does, and waits for the engine's
// compactions to settle. blob-rewritten/written is how many times over
// the engine's compactions copied the values after their flush wrote them
// (RATIONALE, "Large values are written once"); cpu-ms/MiB is the
// process's CPU time for each MiB written, commits and compactions both.
func BenchmarkLargeValues(b *testing.B) {
	const size, total = 128 << 10, 1 << 30
	for range b.N {
		s, err := Open(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		objs := make([]*Object, 16)
		for i := range objs {
			objs[i] = testObject(s, byte(i+1))
		}
		val := make([]byte, size) // incompressible, as most large values are
		rand.NewChaCha8([32]byte{}).Read(val)
		cpu0 := processCPU(b)
		for i := 0; i < total/size; i++ {
			tx := s.NewTxn()
			if err := objs[i%len(objs)].Put(tx, []byte(fmt.Sprintf("k%d", i)), val); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.db.Flush(); err != nil {
			b.Fatal(err)
		}
		for s.db.Metrics().Compact.NumInProgress > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		b.ReportMetric(float64(s.Engine().BlobRewrittenBytes)/total, "blob-rewritten/written")
		b.ReportMetric(float64(processCPU(b)-cpu0)/float64(time.Millisecond)/(total>>20), "cpu-ms/MiB")
		s.Close()
	}
}

// processCPU is the process's user and system CPU time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
