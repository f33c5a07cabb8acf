package host

import (
	"context"
	"sync"

	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

// linearMemory backs one instance's linear memory with its own mapping:
// the memory's whole maximum is reserved once (MAP_NORESERVE) and pages
// become resident only when the guest touches them. Growing is free (no
// copy, as wazero's default does on every memory.grow) and untouched pages
// cost nothing, which is most of what makes many idle instances cheap.
//
// Unmapping is deferred while the guest runs: wazero frees a module's memory
// as soon as its context is done, from another goroutine, while the guest's
// code may still be executing or a host function may still hold a view of
// the memory. The instance marks its calls with enter and exit, and the
// mapping goes away at whichever of Free or exit comes last.
type linearMemory struct {
	mu      sync.Mutex
	buf     []byte // the whole reservation; nil once unmapped
	max     uint64
	running bool // guarded by mu
	freed   bool // guarded by mu
}

// memoryAllocator hands out one linearMemory; it is made per instantiation
// so the instance can find its memory afterwards.
type memoryAllocator struct {
	mem *linearMemory
}

func (a *memoryAllocator) Allocate(_, max uint64) experimental.LinearMemory {
	a.mem = &linearMemory{max: max}
	return a.mem
}

// withMemoryAllocator returns ctx set up to give the next instantiation a
// linearMemory, and the allocator that will hold it.
func withMemoryAllocator(ctx context.Context) (context.Context, *memoryAllocator) {
	a := &memoryAllocator{}
	return experimental.WithMemoryAllocator(ctx, a), a
}

// Reallocate implements experimental.LinearMemory.
func (m *linearMemory) Reallocate(size uint64) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if size > m.max || m.freed {
		return nil
	}
	if m.buf == nil {
		if m.max == 0 {
			return []byte{}
		}
		b, err := unix.Mmap(-1, 0, int(m.max), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
		if err != nil {
			return nil
		}
		m.buf = b
	}
	return m.buf[:size:size]
}

// Free implements experimental.LinearMemory.
func (m *linearMemory) Free() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.freed = true
	if !m.running {
		m.unmapLocked()
	}
}

func (m *linearMemory) unmapLocked() {
	if m.buf != nil {
		_ = unix.Munmap(m.buf)
		m.buf = nil
	}
}

// enter marks the start of a guest call.
func (m *linearMemory) enter() {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.running = true
	m.mu.Unlock()
}

// exit marks the end of a guest call, unmapping the memory if it was freed
// meanwhile.
func (m *linearMemory) exit() {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.running = false
	if m.freed {
		m.unmapLocked()
	}
	m.mu.Unlock()
}
