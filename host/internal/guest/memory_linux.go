package guest

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"github.com/dohost/dohost/host/internal/quota"
	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

// image is the initial memory of the instances started from a snapshot:
// the guest's memory right after initialization. A large image lives in a
// sealed memfd that every instance maps copy-on-write, so an instance
// starts without copying anything, and the pages it never writes stay
// shared with every other instance of the module. A small one is copied.
type image struct {
	size   uint64   // bytes
	fd     int      // the memfd, or -1 when the image is copied
	pages  []extent // copied images: the non-zero parts
	shared uint64   // mapped images: the bytes of non-zero pages, shared by every instance
	view   []byte   // mapped images: the memfd mapped read-only, to copy pages back from
}

// extent is a non-zero part of a small image.
type extent struct {
	off  uint64
	data []byte
}

// mapThreshold is the image size from which instances map the image
// instead of copying it: below it, copying the few non-zero pages is
// cheaper than a second mapping.
const mapThreshold = 256 << 10

const osPage = 4096

// newImage makes the image of mem (which it does not keep).
func newImage(mem []byte) (*image, error) {
	im := &image{size: uint64(len(mem)), fd: -1}
	nonZero := func(p []byte) bool { return !allZero(p) }
	if len(mem) < mapThreshold {
		for off := 0; off < len(mem); off += osPage {
			p := mem[off:min(off+osPage, len(mem))]
			if !nonZero(p) {
				continue
			}
			if n := len(im.pages); n > 0 && im.pages[n-1].off+uint64(len(im.pages[n-1].data)) == uint64(off) {
				im.pages[n-1].data = append(im.pages[n-1].data, p...)
			} else {
				im.pages = append(im.pages, extent{off: uint64(off), data: append([]byte(nil), p...)})
			}
		}
		return im, nil
	}
	fd, err := unix.MemfdCreate("dohost-snapshot", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("snapshot image: memfd_create: %w", err)
	}
	if err := unix.Ftruncate(fd, int64(len(mem))); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("snapshot image: ftruncate: %w", err)
	}
	// Write only the non-zero pages: the rest stay holes, which cost
	// nothing until an instance reads them.
	for off := 0; off < len(mem); off += osPage {
		p := mem[off:min(off+osPage, len(mem))]
		if !nonZero(p) {
			continue
		}
		if _, err := unix.Pwrite(fd, p, int64(off)); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("snapshot image: write: %w", err)
		}
		im.shared += uint64(len(p))
	}
	seals := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE | unix.F_SEAL_SEAL
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("snapshot image: seal: %w", err)
	}
	view, err := unix.Mmap(fd, 0, len(mem), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("snapshot image: map: %w", err)
	}
	im.fd, im.view = fd, view
	return im, nil
}

// close releases the image. Instances already mapping it keep working.
func (im *image) close() {
	if im != nil && im.fd >= 0 {
		_ = unix.Munmap(im.view)
		im.view = nil
		unix.Close(im.fd)
		im.fd = -1
	}
}

// linearMemory backs one instance's linear memory with its own mapping:
// the memory's whole maximum is reserved once (MAP_NORESERVE) and pages
// become resident only when the guest touches them. Growing is free (no
// copy, as wazero's default does on every memory.grow) and untouched pages
// cost nothing, which is most of what makes many idle instances cheap.
// An instance started from a snapshot has the image mapped (or copied)
// at the start of the reservation.
//
// The memory is charged to its account's (and the host's) memory budget:
// its size, less the image's pages it shares with every other instance of
// the module. A grow the budget refuses fails, as a grow past the limit.
//
// wazero calls Reallocate and Free from the goroutine that instantiates,
// runs or closes the instance; an instance is used by one goroutine at a
// time, so linearMemory needs no lock.
type linearMemory struct {
	buf     []byte // the whole reservation; nil until reserve and after Free
	max     uint64
	size    uint64 // the memory's size, as wazero last set it
	img     *image
	budget  quota.Pair
	charged int64 // bytes taken from budget

	writes *writeSet // the module's; nil: none learned or used
	sample bool      // this instance is one the write set learns from
	calls  int       // calls run, while a sample
}

// memoryAllocator hands wazero the linearMemory prepared for the next
// instantiation, so that everything that can fail — the mapping, the
// budget — has been done, with an error to return, before wazero asks.
type memoryAllocator struct {
	mem *linearMemory
}

// Allocate implements experimental.MemoryAllocator.
func (a *memoryAllocator) Allocate(_, max uint64) experimental.LinearMemory {
	a.mem.max = min(a.mem.max, max)
	return a.mem
}

// prepareMemory maps the reservation (max bytes) for the next
// instantiation, with img (nil: zeroed) at its start and, unless the
// instance is one it learns from, the pages of ws within the first min
// bytes faulted in; and it charges min bytes to budget. It returns ctx
// set up to hand it to wazero, or an error when the host cannot map more
// or the budget is spent.
func prepareMemory(ctx context.Context, img *image, min, max uint64, budget quota.Pair, ws *writeSet) (context.Context, *linearMemory, error) {
	m := &linearMemory{max: max, img: img, budget: budget, writes: ws}
	if max > 0 {
		if err := m.reserve(); err != nil {
			return nil, nil, fmt.Errorf("map %d bytes of memory for a new instance: %w (the host may be at its limit of mappings, vm.max_map_count)", max, err)
		}
	}
	if err := m.charge(min); err != nil {
		m.Free()
		return nil, nil, err
	}
	m.start(min)
	return experimental.WithMemoryAllocator(ctx, &memoryAllocator{mem: m}), m, nil
}

// start prefaults the pages the module's instances usually write, within
// the first size bytes, or makes the instance a sample of them.
func (m *linearMemory) start(size uint64) {
	if m.buf != nil && prefaultOK.Load() {
		var runs []pageRun
		m.sample, runs = m.writes.newInstance()
		prefault(m.buf, size, runs)
	}
}

// reset returns the memory to its image (or zeros) and gives its charge
// back, for an instance kept as a spare; the caller has checked that the
// memory has its first size. It reports false when it cannot: the
// instance is then closed.
//
// Of a mapped image, the pages the instance made its own are found in
// /proc/self/pagemap: those the module's instances usually write get the
// image's content copied back, and stay, so the next object's writes
// fault nothing; the others are dropped, and read the image again. Every
// other page still reads the image. A copied image's memory is dropped
// whole (it reads zero) and the image copied again.
func (m *linearMemory) reset() bool {
	if m.sample {
		m.learn()
	}
	if m.buf == nil {
		return false
	}
	n := int((m.size + osPage - 1) / osPage)
	if im := m.img; im != nil && im.fd >= 0 && im.view != nil && uint64(n)*osPage == im.size {
		if !m.restorePages(n) {
			return false
		}
	} else {
		if err := unix.Madvise(m.buf[:n*osPage], unix.MADV_DONTNEED); err != nil {
			return false
		}
		if im != nil {
			for _, e := range im.pages {
				copy(m.buf[e.off:], e.data)
			}
		}
	}
	m.calls = 0
	m.budget.Give(m.charged)
	m.charged = 0
	return true
}

// restorePages is reset for the n pages of a mapped image.
func (m *linearMemory) restorePages(n int) bool {
	ep := m.pageEntries(n)
	if ep == nil {
		return false
	}
	defer freeEntries(ep)
	entries := *ep
	var runs []pageRun
	if p := m.writes.runs.Load(); p != nil {
		runs = *p
	}
	drop := -1 // the first page of the run being dropped
	flush := func(end int) bool {
		if drop >= 0 {
			if err := unix.Madvise(m.buf[drop*osPage:end*osPage], unix.MADV_DONTNEED); err != nil {
				return false
			}
		}
		drop = -1
		return true
	}
	for p := 0; p < n; p++ {
		private := ownPage(binary.LittleEndian.Uint64(entries[8*p:]))
		for len(runs) > 0 && runs[0].first+runs[0].n <= p {
			runs = runs[1:]
		}
		hot := len(runs) > 0 && runs[0].first <= p
		switch {
		case private && hot:
			if !flush(p) {
				return false
			}
			copy(m.buf[p*osPage:(p+1)*osPage], m.img.view[p*osPage:(p+1)*osPage])
		case private && drop < 0:
			drop = p
		}
		// A run dropped goes on over pages that still read the image:
		// dropping those changes nothing (as trim), and keeps the
		// system calls few.
	}
	return flush(n)
}

// charge makes the memory's charge that of size bytes.
func (m *linearMemory) charge(size uint64) error {
	own := int64(size)
	if m.img != nil && m.img.fd >= 0 {
		own -= int64(min(m.img.shared, size))
	}
	if d := own - m.charged; d > 0 {
		if err := m.budget.Take(d); err != nil {
			return err
		}
		m.charged = own
	}
	return nil
}

// Reallocate implements experimental.LinearMemory.
func (m *linearMemory) Reallocate(size uint64) []byte {
	if size > m.max || m.buf == nil && size > 0 {
		return nil
	}
	if m.charge(size) != nil {
		return nil // the budget is spent: the grow fails
	}
	m.size = size
	if m.buf == nil {
		return []byte{}
	}
	return m.buf[:size:size]
}

// reserve maps the reservation. It calls mmap directly (MmapPtr, not
// unix.Mmap): unix.Mmap and unix.Munmap keep every mapping of the process
// in one map under one mutex held during the system call, and unmapping
// a large instance's memory, which frees its pages, takes long enough to
// stall every other instance being made or closed meanwhile.
func (m *linearMemory) reserve() error {
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(m.max), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return err
	}
	b := unsafe.Slice((*byte)(p), m.max)
	if im := m.img; im != nil && im.size <= m.max {
		if im.fd >= 0 {
			_, err := unix.MmapPtr(im.fd, 0, p, uintptr(im.size),
				unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_FIXED)
			if err != nil {
				_ = unix.MunmapPtr(p, uintptr(m.max))
				return err
			}
		} else {
			for _, e := range im.pages {
				copy(b[e.off:], e.data)
			}
		}
	}
	m.buf = b
	return nil
}

// Free implements experimental.LinearMemory. It is safe to call twice.
func (m *linearMemory) Free() {
	if m.sample {
		m.learn()
	}
	if m.buf != nil {
		_ = unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(m.buf)), uintptr(len(m.buf)))
		m.buf = nil
	}
	m.budget.Give(m.charged)
	m.charged = 0
}

// called counts a call the instance ran: a sample is read after its
// second.
func (m *linearMemory) called() {
	if m != nil && m.sample {
		if m.calls++; m.calls >= callsSampled {
			m.learn()
		}
	}
}

// pageEntries reads the pagemap entries of the memory's first n pages,
// or returns nil when they cannot be read. The caller gives the buffer
// back with freeEntries once it has read it: resets and trims are many
// (thousands a second when a tenant churns objects), and each would
// otherwise leave 8 bytes a page of garbage.
func (m *linearMemory) pageEntries(n int) *[]byte {
	f := pagemap()
	if f == nil || m.buf == nil {
		return nil
	}
	p, _ := entryBufs.Get().(*[]byte)
	if p == nil {
		p = new([]byte)
	}
	if cap(*p) < 8*n {
		*p = make([]byte, 8*n)
	}
	*p = (*p)[:8*n]
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.buf)))
	if _, err := f.ReadAt(*p, int64(base/osPage)*8); err != nil {
		freeEntries(p)
		return nil
	}
	return p
}

// entryBufs holds pageEntries' buffers between uses.
var entryBufs sync.Pool

// maxPooledEntries is the largest buffer kept for reuse: the entries of
// 64 MiB of memory. A larger one is left to the collector.
const maxPooledEntries = 8 * (64 << 20) / osPage

// freeEntries gives back a buffer pageEntries returned.
func freeEntries(p *[]byte) {
	if cap(*p) <= maxPooledEntries {
		entryBufs.Put(p)
	}
}

// ownPage reports whether a pagemap entry is of a page the instance made
// its own: a private copy, present or swapped out.
func ownPage(e uint64) bool {
	return e&pmSwapped != 0 || e&pmPresent != 0 && e&pmFileShared == 0
}

// pagemap is /proc/self/pagemap, opened once; nil where it cannot be read.
var pagemap = sync.OnceValue(func() *os.File {
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return nil
	}
	return f
})

// Bits of a pagemap entry (Documentation/admin-guide/mm/pagemap.rst).
const (
	pmPresent    = 1 << 63
	pmSwapped    = 1 << 62
	pmFileShared = 1 << 61 // a page of a file (here: the image), not a private copy
)

// trim drops the mappings of the pages this instance still shares with
// its image: it read them but never wrote them. They cost no memory of
// their own (the image's page is shared by every instance), yet count in
// the process's RSS; reading one again maps it again. Pages the instance
// wrote (private copies, present or swapped out) are left alone, and so is
// everything past the image, so no state is lost. Pages never touched may
// be inside a range dropped: that changes nothing for them, and it keeps
// the ranges, and the madvise calls, few. The caller holds the object's
// turn: no guest code runs.
func (m *linearMemory) trim() {
	if m.sample {
		m.learn() // before the pages it read are dropped
	}
	if m.buf == nil || m.img == nil || m.img.fd < 0 {
		return
	}
	n := int(m.img.size / osPage)
	ep := m.pageEntries(n)
	if ep == nil {
		return
	}
	defer freeEntries(ep)
	entries := *ep
	run, shared := -1, false // the current range; whether it holds a shared page
	flush := func(end int) {
		if run >= 0 && shared {
			_ = unix.Madvise(m.buf[run*osPage:end*osPage], unix.MADV_DONTNEED)
		}
		run, shared = -1, false
	}
	for p := 0; p < n; p++ {
		e := binary.LittleEndian.Uint64(entries[8*p:])
		if ownPage(e) {
			flush(p)
			continue
		}
		if run < 0 {
			run = p
		}
		if e&pmPresent != 0 {
			shared = true
		}
	}
	flush(n)
}
