//go:build !linux

package guest

import (
	"context"

	"github.com/dohost/dohost/host/internal/quota"
	"github.com/tetratelabs/wazero/experimental"
)

// Elsewhere than Linux, an image is a copy of the snapshot's memory, and
// instances use Go slices that grow by copying, as wazero's default does.
// The memory is charged to its budget whole.

type image struct {
	size uint64
	data []byte
}

func newImage(mem []byte) (*image, error) {
	return &image{size: uint64(len(mem)), data: append([]byte(nil), mem...)}, nil
}

func (im *image) close() {}

type linearMemory struct {
	size    uint64
	buf     []byte
	max     uint64
	img     *image
	budget  quota.Pair
	charged int64
}

type memoryAllocator struct{ mem *linearMemory }

func (a *memoryAllocator) Allocate(_, max uint64) experimental.LinearMemory {
	a.mem.max = min(a.mem.max, max)
	return a.mem
}

func prepareMemory(ctx context.Context, img *image, min, max uint64, budget quota.Pair, _ *writeSet) (context.Context, *linearMemory, error) {
	m := &linearMemory{max: max, img: img, budget: budget}
	if err := m.charge(min); err != nil {
		return nil, nil, err
	}
	return experimental.WithMemoryAllocator(ctx, &memoryAllocator{mem: m}), m, nil
}

func (m *linearMemory) charge(size uint64) error {
	if d := int64(size) - m.charged; d > 0 {
		if err := m.budget.Take(d); err != nil {
			return err
		}
		m.charged = int64(size)
	}
	return nil
}

func (m *linearMemory) trim() {}

func (m *linearMemory) called() {}

func (m *linearMemory) start(uint64) {}

// reset writes the image over the memory, which has the image's size.
func (m *linearMemory) reset() bool {
	if m.buf == nil || m.img == nil || uint64(len(m.buf)) != m.img.size {
		return false
	}
	copy(m.buf, m.img.data)
	m.budget.Give(m.charged)
	m.charged = 0
	return true
}

// writeSet is Linux's: elsewhere instances fault their pages in as they go.
type writeSet struct{}

func (m *linearMemory) Reallocate(size uint64) []byte {
	if size > m.max || m.charge(size) != nil {
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
	m.size = size
	return m.buf
}

func (m *linearMemory) Free() {
	m.buf = nil
	m.budget.Give(m.charged)
	m.charged = 0
}
