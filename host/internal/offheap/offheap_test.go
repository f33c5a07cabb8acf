//go:build unix

package offheap

import (
	"runtime"
	"testing"
)

// TestAlloc: a buffer is n zero bytes, writable, and outside Go's heap
// (allocating it leaves the heap as it was); Free takes it back.
func TestAlloc(t *testing.T) {
	const n = 32 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b := Alloc(n)
	runtime.ReadMemStats(&after)
	if b == nil {
		t.Fatal("the mapping was refused")
	}
	if len(b) != n || cap(b) != n {
		t.Fatalf("len %d cap %d, want %d", len(b), cap(b), n)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew >= n/2 {
		t.Errorf("the heap grew %d bytes for a %d-byte buffer", grew, n)
	}
	for i := 0; i < n; i += 4096 {
		if b[i] != 0 {
			t.Fatalf("byte %d is %d, want 0", i, b[i])
		}
		b[i] = 1
	}
	Free(b)
	Free(nil)
	if Alloc(0) != nil {
		t.Error("Alloc(0) gave a buffer")
	}
}
