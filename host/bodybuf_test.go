package host

import (
	"testing"
)

// TestBodyPool: a buffer given back comes out again for a request of its
// class, empty; buffers outside the classes, or grown past theirs, are
// not kept; the pool keeps at most maxPooledBytes.
func TestBodyPool(t *testing.T) {
	var p bodyPool
	if b := p.get(1000); cap(b) != 1000 {
		t.Errorf("a small record got a buffer of %d bytes, want its own 1000", cap(b))
	}
	b := p.get(3 << 20)
	if len(b) != 0 || cap(b) != 4<<20 {
		t.Fatalf("a 3 MiB record got len %d cap %d, want an empty 4 MiB buffer", len(b), cap(b))
	}
	b = append(b, "old request"...)
	p.put(b)
	c := p.get(2<<20 + 1)
	if len(c) != 0 || cap(c) != 4<<20 || &c[:1][0] != &b[0] || p.reuse != 1 {
		t.Fatalf("the 4 MiB buffer given back was not handed out again, empty (len %d cap %d, reuse %d)", len(c), cap(c), p.reuse)
	}
	p.put(append(c, make([]byte, 5<<20)...)) // grown past its class by append: not ours
	p.put(make([]byte, 0, 3<<20))            // not a class's size
	p.put(make([]byte, 0, 256<<20))          // past the classes
	if p.bytes != 0 {
		t.Errorf("the pool kept %d bytes of buffers that are not of its classes", p.bytes)
	}
	for range 3 {
		p.put(make([]byte, 0, 64<<20))
	}
	if p.bytes != maxPooledBytes {
		t.Errorf("the pool keeps %d bytes, want its cap of %d", p.bytes, maxPooledBytes)
	}
	for n, want := range map[int]int{1 << 20: 0, 1<<20 + 1: 1, 4 << 20: 2, 128 << 20: 7, 128<<20 + 1: -1, 1<<20 - 1: -1} {
		if got := bodyClass(n); got != want {
			t.Errorf("bodyClass(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestBodyPool_Trim: the buffers kept are dropped once the pool has gone
// unused for bodyIdle, not before.
func TestBodyPool_Trim(t *testing.T) {
	var p bodyPool
	p.put(make([]byte, 0, 4<<20))
	p.mu.Lock()
	used := p.used
	p.mu.Unlock()
	p.trim(used.Add(bodyIdle / 2))
	if p.bytes != 4<<20 {
		t.Fatalf("the pool kept %d bytes after half its idle time, want its buffer's 4 MiB", p.bytes)
	}
	p.trim(used.Add(bodyIdle))
	if p.bytes != 0 || len(p.free[bodyClass(4<<20)]) != 0 {
		t.Fatalf("the pool kept %d bytes after %s unused", p.bytes, bodyIdle)
	}
	if b := p.get(3 << 20); cap(b) != 4<<20 || p.reuse != 0 {
		t.Errorf("after a trim, a record got a kept buffer (reuse %d)", p.reuse)
	}
}
