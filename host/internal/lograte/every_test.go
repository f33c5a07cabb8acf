package lograte

import (
	"testing"
	"time"
)

// TestEvery: the first line goes through, the next ones within the
// interval are held back and counted, and the first line after it goes
// through with that count.
func TestEvery(t *testing.T) {
	var e Every
	now := time.Unix(1000, 0)
	if ok, n := e.Take(now, time.Minute); !ok || n != 0 {
		t.Fatalf("first line: ok %v, dropped %d; want through, 0", ok, n)
	}
	for i := 0; i < 5; i++ {
		if ok, _ := e.Take(now.Add(time.Duration(i)*time.Second), time.Minute); ok {
			t.Fatalf("line %d within the interval went through", i)
		}
	}
	if ok, n := e.Take(now.Add(time.Minute), time.Minute); !ok || n != 5 {
		t.Errorf("after the interval: ok %v, dropped %d; want through, 5", ok, n)
	}
	if ok, n := e.Take(now.Add(time.Minute+time.Second), time.Minute); ok || n != 0 {
		t.Errorf("right after: ok %v, dropped %d; want held back", ok, n)
	}
}
