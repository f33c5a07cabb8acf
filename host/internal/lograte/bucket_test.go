package lograte

import (
	"testing"
	"time"
)

// TestBucket: a burst goes through, the lines past it are held back and
// reported once a second, and the bucket refills at its rate.
func TestBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	b := NewBucket(10, 5, now)
	through, reported := 0, int64(0)
	for i := 0; i < 20; i++ {
		ok, r := b.Take(now)
		if ok {
			through++
		}
		reported += r
	}
	if through != 5 || reported != 1 {
		t.Errorf("20 lines at once: %d through, %d reported; want the burst of 5, and the first held back reported at once", through, reported)
	}
	// Half a second later: 5 tokens back; the 14 held back since the
	// report wait for the next second.
	through = 0
	for i := 0; i < 10; i++ {
		ok, r := b.Take(now.Add(500 * time.Millisecond))
		if ok {
			through++
		}
		if r != 0 {
			t.Errorf("a report within the second: %d", r)
		}
	}
	if through != 5 {
		t.Errorf("after half a second: %d through, want 5", through)
	}
	if ok, r := b.Take(now.Add(time.Second)); !ok || r != 14+5 {
		t.Errorf("a second later: ok %v, report %d; want through, 19", ok, r)
	}
}

// TestDropped: the process's count of held-back lines grows by each line
// any Bucket holds back, and only by those.
func TestDropped(t *testing.T) {
	now := time.Unix(1000, 0)
	a, b := NewBucket(10, 5, now), NewBucket(10, 2, now)
	before := Dropped()
	for i := 0; i < 8; i++ {
		a.Take(now) // 5 through, 3 held back
		b.Take(now) // 2 through, 6 held back
	}
	if got := Dropped() - before; got != 9 {
		t.Errorf("Dropped grew by %d, want 9", got)
	}
}
