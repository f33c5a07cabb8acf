package bigcopy

import (
	"bytes"
	"testing"
)

func TestCopy(t *testing.T) {
	for _, n := range []int{0, 1, chunk - 1, chunk, chunk + 1, 3*chunk + 7} {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i * 7)
		}
		if c := Clone(src); !bytes.Equal(c, src) {
			t.Errorf("Clone of %d bytes differs", n)
		}
		dst := make([]byte, n/2)
		if got := Copy(dst, src); got != n/2 || !bytes.Equal(dst, src[:n/2]) {
			t.Errorf("Copy into %d of %d bytes: %d", n/2, n, got)
		}
		betweens := 0
		if c := CloneBetween(src, func() { betweens++ }); !bytes.Equal(c, src) {
			t.Errorf("CloneBetween of %d bytes differs", n)
		}
		if want := max(0, (n+chunk-1)/chunk-1); betweens != want {
			t.Errorf("CloneBetween of %d bytes: between ran %d times, want %d (between pieces)", n, betweens, want)
		}
	}
	if Clone(nil) != nil {
		t.Error("Clone(nil) is not nil")
	}
}

func TestFill(t *testing.T) {
	for _, v := range []byte{0, 1, 0xAB} {
		for _, n := range []int{0, 1, 2, 3, chunk - 1, chunk, chunk + 1, 3*chunk + 7} {
			b := make([]byte, n+2)
			b[0], b[n+1] = 9, 9
			betweens := 0
			Fill(b[1:n+1], v, func() { betweens++ })
			if b[0] != 9 || b[n+1] != 9 {
				t.Errorf("Fill of %d bytes wrote outside its slice", n)
			}
			for i, c := range b[1 : n+1] {
				if c != v {
					t.Fatalf("Fill(%d bytes, %#x): byte %d is %#x", n, v, i, c)
				}
			}
			if want := max(0, (n+chunk-1)/chunk-1); betweens != want {
				t.Errorf("Fill of %d bytes: between ran %d times, want %d (between pieces)", n, betweens, want)
			}
		}
	}
}

// TestMove: overlapping moves both ways, each against copy (a memmove)
// of the same bytes.
func TestMove(t *testing.T) {
	size := 4*chunk + 100
	for _, c := range []struct{ dst, src, n int }{
		{0, 0, size}, {1, 0, size - 1}, {0, 1, size - 1}, {chunk + 3, 0, 3 * chunk}, {0, chunk + 3, 3 * chunk},
		{10, 20, 5}, {20, 10, 5}, {0, 2 * chunk, 2 * chunk}, {2 * chunk, 0, 2 * chunk}, {7, 7, 0},
	} {
		mem := make([]byte, size)
		for i := range mem {
			mem[i] = byte(i*7 + i>>8)
		}
		want := append([]byte(nil), mem...)
		copy(want[c.dst:c.dst+c.n], want[c.src:c.src+c.n])
		betweens := 0
		Move(mem, c.dst, c.src, c.n, func() { betweens++ })
		if !bytes.Equal(mem, want) {
			t.Errorf("Move(dst %d, src %d, n %d) differs from memmove", c.dst, c.src, c.n)
		}
		if w := max(0, (c.n+chunk-1)/chunk-1); betweens != w {
			t.Errorf("Move of %d bytes: between ran %d times, want %d (between pieces)", c.n, betweens, w)
		}
	}
}
