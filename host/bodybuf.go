package host

import (
	"math/bits"
	"sync"
	"time"
)

// Request records of large bodies are kept for reuse. A request's record
// holds its body, read into it whole before the Worker runs; made anew
// for each request, a 32 MiB body costs 8,192 fresh pages, each faulted
// in by the kernel as it is written (about 20 ms of CPU here) and then
// garbage the collector must find, and a tenant whose clients send large
// bodies as fast as its budget allows makes the host do that all the
// time. A record is dead once its request's handler has returned (the
// guest copied what it read; nothing keeps the record), and the front
// gives it back then.
//
// Buffers are kept by size class, powers of two from minPooledBody to
// maxPooledBody, and at most maxPooledBytes in all: past that a buffer
// given back is left to the collector. Once no large body has come for
// bodyIdle, the buffers kept are dropped: a host that once took large
// bodies does not hold their memory for good. A buffer taken from the pool still
// holds its last request's bytes; the front writes the record's every
// byte (the head, then the body, read whole) before anything reads it,
// and a record whose body could not be read is dropped unread.
type bodyPool struct {
	mu    sync.Mutex
	free  [maxBodyClass - minBodyClass + 1][][]byte // guarded by mu: by class
	bytes int64                                     // guarded by mu: the buffers kept
	reuse int64                                     // guarded by mu: buffers handed out again
	used  time.Time                                 // guarded by mu: the last get or put of a class
	timer *time.Timer                               // guarded by mu: the pending trim, if any
}

// bodyIdle is how long the pool keeps its buffers without a large body.
const bodyIdle = 30 * time.Second

const (
	minBodyClass   = 20 // 1 MiB: smaller records are cheap to make
	maxBodyClass   = 27 // 128 MiB
	minPooledBody  = 1 << minBodyClass
	maxPooledBody  = 1 << maxBodyClass
	maxPooledBytes = 128 << 20
)

// get returns an empty buffer with room for n bytes: a kept one of n's
// class if there is one, else a new one of the class's size (or of n
// bytes, outside the classes).
func (p *bodyPool) get(n int) []byte {
	c := bodyClass(n)
	if c < 0 {
		return make([]byte, 0, n)
	}
	p.mu.Lock()
	p.used = time.Now()
	if l := p.free[c]; len(l) > 0 {
		b := l[len(l)-1]
		l[len(l)-1] = nil
		p.free[c] = l[:len(l)-1]
		p.bytes -= int64(cap(b))
		p.reuse++
		p.mu.Unlock()
		return b[:0]
	}
	p.mu.Unlock()
	return make([]byte, 0, 1<<(c+minBodyClass))
}

// put keeps b for a later get, if it is of a class and there is room.
// Nothing may use b afterwards.
func (p *bodyPool) put(b []byte) {
	n := cap(b)
	c := bodyClass(n)
	if c < 0 || n != 1<<(c+minBodyClass) {
		return // not one of ours: grown by append, or outside the classes
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.used = time.Now()
	if p.bytes+int64(n) > maxPooledBytes {
		return
	}
	p.free[c] = append(p.free[c], b[:0])
	p.bytes += int64(n)
	if p.timer == nil {
		p.timer = time.AfterFunc(bodyIdle, func() { p.trim(time.Now()) })
	}
}

// trim drops the buffers kept if the pool has not been used for bodyIdle
// by now, and otherwise looks again when that time will have passed.
func (p *bodyPool) trim(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if wait := bodyIdle - now.Sub(p.used); wait > 0 {
		if p.timer != nil {
			p.timer.Reset(wait)
		}
		return
	}
	for c := range p.free {
		clear(p.free[c])
		p.free[c] = nil
	}
	p.bytes, p.timer = 0, nil
}

// bodyClass returns the index of the smallest class that holds n bytes,
// or -1 for n outside the classes.
func bodyClass(n int) int {
	if n < minPooledBody || n > maxPooledBody {
		return -1
	}
	return bits.Len(uint(n-1)) - minBodyClass
}
