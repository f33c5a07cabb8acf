//go:build unix

package offheap

import "golang.org/x/sys/unix"

// Alloc returns a buffer of n zero bytes outside Go's heap (len and cap
// n), or nil if the system refuses the mapping: the caller then allocates
// on the heap.
func Alloc(n int) []byte {
	if n <= 0 {
		return nil
	}
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	return b
}

// Free unmaps b, a buffer Alloc returned (the whole of it, as returned:
// not a reslice of it). It does nothing for nil.
func Free(b []byte) {
	if b != nil {
		_ = unix.Munmap(b)
	}
}
