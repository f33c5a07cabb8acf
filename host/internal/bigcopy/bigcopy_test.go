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
	}
	if Clone(nil) != nil {
		t.Error("Clone(nil) is not nil")
	}
}
