package main

import "testing"

// TestMedian: the middle value of an odd count, the mean of the two
// middle values of an even one.
func TestMedian(t *testing.T) {
	for _, c := range []struct {
		r    []float64
		want float64
	}{
		{[]float64{2}, 2},
		{[]float64{1, 3}, 2},
		{[]float64{1, 2, 9}, 2},
		{[]float64{1, 2, 4, 9}, 3},
	} {
		if got := median(c.r); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.r, got, c.want)
		}
	}
}
