package main

import (
	"testing"
	"time"
)

// TestCheckSlice: the flag takes 0 or the kernel's range.
func TestCheckSlice(t *testing.T) {
	for d, ok := range map[time.Duration]bool{0: true, minSlice: true, time.Millisecond: true, maxSlice: true,
		time.Microsecond: false, time.Second: false, -time.Millisecond: false} {
		if err := checkSlice(d); (err == nil) != ok {
			t.Errorf("checkSlice(%v) = %v", d, err)
		}
	}
}
