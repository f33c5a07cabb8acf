//go:build !linux

package guest

import (
	"context"

	"github.com/tetratelabs/wazero/experimental"
)

// Elsewhere than Linux, an image is a copy of the snapshot's memory, and
// instances use Go slices that grow by copying, as wazero's default does.

type image struct {
	size uint64
	data []byte
}

func newImage(mem []byte) (*image, error) {
	return &image{size: uint64(len(mem)), data: append([]byte(nil), mem...)}, nil
}

func (im *image) close() {}

type linearMemory struct {
	buf []byte
	max uint64
	img *image
}

type memoryAllocator struct {
	img *image
	mem *linearMemory
}

func (a *memoryAllocator) Allocate(_, max uint64) experimental.LinearMemory {
	a.mem = &linearMemory{max: max, img: a.img}
	return a.mem
}

func withMemoryAllocator(ctx context.Context, img *image) (context.Context, *memoryAllocator) {
	a := &memoryAllocator{img: img}
	return experimental.WithMemoryAllocator(ctx, a), a
}

func (m *linearMemory) trim() {}

func (m *linearMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if m.buf == nil && m.img != nil && m.img.size <= m.max {
		m.buf = make([]byte, 0, max(size, m.img.size))
		copy(m.buf[:m.img.size], m.img.data)
	}
	if uint64(cap(m.buf)) < size {
		b := make([]byte, size, max(size, min(2*uint64(cap(m.buf)), m.max)))
		copy(b, m.buf)
		m.buf = b
	}
	m.buf = m.buf[:size]
	return m.buf
}

func (m *linearMemory) Free() { m.buf = nil }
