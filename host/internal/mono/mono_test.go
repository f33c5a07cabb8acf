package mono

import (
	"testing"
	"time"
)

// TestNow_OrdersWithTimeNow holds Now to time.Now: the two compare and
// subtract by their monotonic parts, whichever is read first.
func TestNow_OrdersWithTimeNow(t *testing.T) {
	before := time.Now()
	m := Now()
	after := time.Now()
	if m.Before(before) || m.After(after) {
		t.Fatalf("Now %v is outside [%v, %v]", m, before, after)
	}
	if d := after.Sub(m); d < 0 || d > after.Sub(before) {
		t.Fatalf("after - Now = %v, want within [0, %v]", d, after.Sub(before))
	}
	later := Now()
	if later.Before(m) {
		t.Fatalf("Now went back: %v after %v", later, m)
	}
	// The wall part stays near the wall clock: the process has not run long.
	if d := m.Round(0).Sub(before.Round(0)); d < -time.Minute || d > time.Minute {
		t.Fatalf("Now's wall part is %v from the wall clock", d)
	}
}

// BenchmarkNow is Now against time.Now: one clock reading against two.
func BenchmarkNow(b *testing.B) {
	b.Run("mono", func(b *testing.B) {
		for range b.N {
			_ = Now()
		}
	})
	b.Run("time.Now", func(b *testing.B) {
		for range b.N {
			_ = time.Now()
		}
	})
}
