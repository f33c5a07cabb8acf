// Package bigcopy copies large byte slices a piece at a time.
//
// A copy is one memmove, which the Go runtime cannot stop in the middle:
// while a goroutine copies 25 MiB (tens of milliseconds with the page
// faults of fresh memory), a garbage collection that has to stop the world
// waits for it, and so does every other goroutine of the process. A guest
// can make the host copy that much in one host call (a KV value, a
// response), so the host's large copies go through here: in pieces small
// enough that the runtime may stop between them.
package bigcopy

// chunk is the size of one piece: about 25 µs of copying.
const chunk = 256 << 10

// Copy copies src into dst as copy does, a piece at a time, and returns
// the number of bytes copied.
func Copy(dst, src []byte) int {
	n := min(len(dst), len(src))
	for off := 0; off < n; off += chunk {
		copy(dst[off:n], src[off:min(off+chunk, n)])
	}
	return n
}

// Clone returns a copy of b (nil for nil), made a piece at a time.
func Clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	c := make([]byte, len(b))
	Copy(c, b)
	return c
}
