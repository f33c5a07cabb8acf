//go:build !unix

package offheap

// Alloc returns nil where there are no anonymous mappings: the caller
// allocates on the heap.
func Alloc(n int) []byte { return nil }

// Free does nothing: Alloc gave nothing out.
func Free(b []byte) {}
