package guest

import (
	"context"
	"encoding/binary"
	"testing"
	"unsafe"

	"github.com/dohost/dohost/host/internal/quota"
)

// pageEntry is the pagemap entry of page p of m's memory.
func pageEntry(t *testing.T, m *linearMemory, p int) uint64 {
	t.Helper()
	f := pagemap()
	if f == nil {
		t.Skip("no /proc/self/pagemap")
	}
	var e [8]byte
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.buf)))
	if _, err := f.ReadAt(e[:], int64(base/osPage+uintptr(p))*8); err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(e[:])
}

// private reports whether page p of m is a present page of its own.
func private(t *testing.T, m *linearMemory, p int) bool {
	e := pageEntry(t, m, p)
	return e&pmPresent != 0 && e&pmFileShared == 0
}

// newMemory is prepareMemory as Instantiate calls it, with the memory
// set to size as wazero does next.
func newMemory(t *testing.T, img *image, size uint64, ws *writeSet) *linearMemory {
	t.Helper()
	_, m, err := prepareMemory(context.Background(), img, size, 4*size, quota.Pair{}, ws)
	if err != nil {
		t.Fatal(err)
	}
	if m.Reallocate(size) == nil {
		t.Fatal("Reallocate refused the initial size")
	}
	return m
}

// TestWriteSet_Prefault: the pages most sampled instances wrote, read
// first as a Go guest does, are present and private in the next instance
// before it runs, with the image's content; a page only one sample wrote,
// and a page only read, are not.
func TestWriteSet_Prefault(t *testing.T) {
	const size = 1 << 20
	mem := make([]byte, size)
	for p := 0; p < size/osPage; p++ {
		mem[p*osPage+1] = byte(p + 1)
	}
	img, err := newImage(mem)
	if err != nil {
		t.Fatal(err)
	}
	defer img.close()
	if img.fd < 0 {
		t.Fatalf("a %d-byte image is not mapped", size)
	}
	ws := &writeSet{}
	hot := []int{3, 4, 5, 100}
	for i := 0; i < firstSamples; i++ {
		m := newMemory(t, img, size, ws)
		if !m.sample {
			t.Fatalf("instance %d is not a sample", i)
		}
		for _, p := range hot {
			if m.buf[p*osPage+1] != byte(p+1) { // read before the write
				t.Fatalf("instance %d: page %d does not hold the image", i, p)
			}
			m.buf[p*osPage] = 0xAA
		}
		_ = m.buf[7*osPage] // only read
		if i == 0 {
			m.buf[200*osPage] = 0xAA // written by one sample only
		}
		m.called()
		if !m.sample {
			t.Fatalf("instance %d was read after one call", i)
		}
		m.called()
		if m.sample {
			t.Fatalf("instance %d was not read after two calls", i)
		}
		m.Free()
	}
	m := newMemory(t, img, size, ws)
	defer m.Free()
	if m.sample {
		t.Fatal("the instance after the first samples is a sample")
	}
	for _, p := range hot {
		if !private(t, m, p) {
			t.Errorf("page %d, written by every sample, is not prefaulted", p)
		}
	}
	for _, p := range []int{7, 200} {
		if private(t, m, p) {
			t.Errorf("page %d is prefaulted", p)
		}
	}
	for p := 0; p < size/osPage; p++ {
		if m.buf[p*osPage] != 0 || m.buf[p*osPage+1] != byte(p+1) {
			t.Fatalf("page %d does not hold the image after prefaulting", p)
		}
	}
}

// TestWriteSet_Anonymous: without an image, a page read (the kernel's
// zero page) is not taken for written; a page written is learned; a page
// past the memory's initial size is not prefaulted.
func TestWriteSet_Anonymous(t *testing.T) {
	const size = 256 << 10
	ws := &writeSet{}
	for i := 0; i < firstSamples; i++ {
		m := newMemory(t, nil, size, ws)
		_ = m.buf[11*osPage]
		m.buf[10*osPage+5] = 1
		m.Reallocate(2 * size) // a grow, then a write past the first size
		m.buf[size+osPage] = 1
		m.called()
		m.called()
		m.Free()
	}
	m := newMemory(t, nil, size, ws)
	defer m.Free()
	if !private(t, m, 10) {
		t.Error("the page every sample wrote is not prefaulted")
	}
	if e := pageEntry(t, m, 11); e&pmPresent != 0 {
		t.Error("a page only read is prefaulted")
	}
	if e := pageEntry(t, m, size/osPage+1); e&pmPresent != 0 {
		t.Error("a page past the initial size is prefaulted")
	}
	if m.buf[10*osPage+5] != 0 {
		t.Error("a prefaulted anonymous page is not zero")
	}
}

// TestWriteSet_Sampling: after the first samples, one instance in
// sampleEvery is a sample; a sample trimmed or closed before its second
// call is read then.
func TestWriteSet_Sampling(t *testing.T) {
	ws := &writeSet{}
	n := 0
	for i := 0; i < 10*sampleEvery; i++ {
		if s, _ := ws.newInstance(); s {
			n++
		}
	}
	if want := firstSamples + (10*sampleEvery-firstSamples)/sampleEvery + 1; n < want-1 || n > want {
		t.Errorf("%d samples in %d instances, want about %d", n, 10*sampleEvery, want)
	}
	ws = &writeSet{}
	m := newMemory(t, nil, 64<<10, ws)
	m.buf[0] = 1
	m.trim()
	if m.sample || ws.samples != 1 {
		t.Errorf("a trimmed sample was not read (sample %v, samples %d)", m.sample, ws.samples)
	}
	m.Free()
	m = newMemory(t, nil, 64<<10, ws)
	m.buf[0] = 1
	m.Free()
	if ws.samples != 2 {
		t.Errorf("a closed sample was not read: %d samples", ws.samples)
	}
}
