// Package bigcopy copies and fills large byte slices a piece at a time.
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
func Copy(dst, src []byte) int { return CopyBetween(dst, src, nil) }

// CopyBetween is Copy calling between (when not nil) between pieces: a
// copy a guest's host call makes, whose clock checks its deadline, yields
// and takes turns there, as its code does at its own checks. A copy of one
// piece calls it not at all: the host call checked the clock as it began,
// and most copies (a storage value, a response) are small.
func CopyBetween(dst, src []byte, between func()) int {
	n := min(len(dst), len(src))
	for off := 0; off < n; off += chunk {
		if between != nil && off > 0 {
			between()
		}
		copy(dst[off:n], src[off:min(off+chunk, n)])
	}
	return n
}

// Clone returns a copy of b (nil for nil), made a piece at a time.
func Clone(b []byte) []byte { return CloneBetween(b, nil) }

// CloneBetween is Clone calling between between pieces (CopyBetween).
func CloneBetween(b []byte, between func()) []byte {
	if b == nil {
		return nil
	}
	c := make([]byte, len(b))
	CopyBetween(c, b, between)
	return c
}

// Fill sets every byte of dst to v, a piece at a time, calling between
// (when not nil) between pieces: a guest's memory.fill, done by the host,
// checks the guest's clock there.
func Fill(dst []byte, v byte, between func()) {
	for off := 0; off < len(dst); off += chunk {
		if between != nil && off > 0 {
			between()
		}
		p := dst[off:min(off+chunk, len(dst))]
		if v == 0 {
			clear(p)
			continue
		}
		// One byte, then doubling copies: memmoves rather than a loop of
		// byte stores.
		p[0] = v
		for n := 1; n < len(p); n *= 2 {
			copy(p[n:], p[:n])
		}
	}
}

// Move copies the n bytes of mem at src to dst, which may overlap, as
// memmove does, a piece at a time, calling between (when not nil) between
// pieces. The pieces go up when dst is below src and down when it is
// above, so that no piece overwrites bytes a later one reads. The ranges
// must be within mem.
func Move(mem []byte, dst, src, n int, between func()) {
	first := true
	piece := func(at, m int) {
		if between != nil && !first {
			between()
		}
		first = false
		copy(mem[dst+at:dst+at+m], mem[src+at:src+at+m])
	}
	if dst <= src {
		for off := 0; off < n; off += chunk {
			piece(off, min(chunk, n-off))
		}
		return
	}
	for end := n; end > 0; end -= chunk {
		m := min(chunk, end)
		piece(end-m, m)
	}
}
