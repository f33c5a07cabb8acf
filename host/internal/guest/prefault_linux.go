package guest

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// writeSet learns which pages of a module's memory its instances write,
// so that a new instance has them faulted in writable up front, in one
// system call (MADV_POPULATE_WRITE), instead of one page fault at a time
// while its guest runs.
//
// What that saves is more than the faults: a page of the snapshot's image
// that a guest reads before it writes it (a Go guest's heap and stacks
// are read and written everywhere) is first mapped read-only, shared with
// the image, and the write then replaces the mapping with a private copy,
// which makes the kernel flush that page from the TLB of every core the
// process runs on: an interrupt to each, for each page. Profiled with a
// new Go object per request, these flushes and copies were a third of the
// host's CPU. A page made writable before the guest touches it is copied
// once and flushes nothing.
//
// It learns from samples: the first instances of a module, and one in
// sampleEvery after them, start without prefaulting, and when one has run
// two calls (its constructor and first request, or two Worker requests),
// is trimmed or is closed, the pages it wrote are read from
// /proc/self/pagemap. A page goes into the set when most samples wrote it,
// so an instance gets few pages it would not have written itself; the
// counts are halved every maxSamples samples, so the set follows a
// guest whose behaviour changes.
type writeSet struct {
	started atomic.Uint64
	runs    atomic.Pointer[[]pageRun] // the pages to prefault, in order

	mu      sync.Mutex
	samples int
	counts  []uint16 // per page: how many samples wrote it
}

// pageRun is a range of pages [first, first+n).
type pageRun struct{ first, n int }

const (
	firstSamples = 8       // the first instances of a module are all samples
	sampleEvery  = 32      // then one in this many
	maxSamples   = 64      // the counts are halved when samples reach it
	maxLearnPage = 1 << 14 // pages past 64 MiB are not learned
	callsSampled = 2       // a sample is read after this many calls
)

// prefaultOK is cleared when the kernel refuses MADV_POPULATE_WRITE
// (before Linux 5.14): instances then fault their pages in one by one.
var prefaultOK atomic.Bool

func init() { prefaultOK.Store(true) }

// newInstance tells whether the next instance is a sample, and, if it is
// not, the pages to prefault.
func (w *writeSet) newInstance() (sample bool, runs []pageRun) {
	if w == nil {
		return false, nil
	}
	n := w.started.Add(1)
	if n <= firstSamples || n%sampleEvery == 0 {
		return true, nil
	}
	if p := w.runs.Load(); p != nil {
		return false, *p
	}
	return false, nil
}

// prefault makes the pages of runs within the first size bytes of b
// present and writable.
func prefault(b []byte, size uint64, runs []pageRun) {
	limit := int(min(size, uint64(len(b))) / osPage)
	for _, r := range runs {
		if r.first >= limit {
			break
		}
		end := min(r.first+r.n, limit)
		if err := unix.Madvise(b[r.first*osPage:end*osPage], unix.MADV_POPULATE_WRITE); err != nil {
			if err == unix.EINVAL {
				prefaultOK.Store(false)
			}
			return
		}
	}
}

// learn reads which of the first size bytes' pages of m the instance has
// written and adds them to the module's set as one sample. The caller
// holds the instance: no guest code runs.
func (m *linearMemory) learn() {
	m.sample = false
	w := m.writes
	if w == nil || m.buf == nil {
		return
	}
	n := int(min(m.size, uint64(len(m.buf))) / osPage)
	n = min(n, maxLearnPage)
	if n == 0 {
		return
	}
	ep := m.pageEntries(n)
	if ep == nil {
		return
	}
	defer freeEntries(ep)
	entries := *ep
	imagePages := 0
	if m.img != nil && m.img.fd >= 0 {
		imagePages = int(m.img.size / osPage)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.counts) < n {
		w.counts = append(w.counts, make([]uint16, n-len(w.counts))...)
	}
	for p := 0; p < n; p++ {
		e := binary.LittleEndian.Uint64(entries[8*p:])
		written := ownPage(e)
		if written && p >= imagePages {
			// Past a mapped image (or without one) a present page may be
			// the kernel's zero page, only read: a page of zeros counts
			// as unwritten.
			written = e&pmSwapped != 0 || !allZero(m.buf[p*osPage:(p+1)*osPage])
		}
		if written {
			w.counts[p]++
		}
	}
	w.samples++
	var runs []pageRun
	for p, c := range w.counts {
		if 2*int(c) <= w.samples {
			continue
		}
		if k := len(runs) - 1; k >= 0 && runs[k].first+runs[k].n == p {
			runs[k].n++
		} else {
			runs = append(runs, pageRun{first: p, n: 1})
		}
	}
	w.runs.Store(&runs)
	if w.samples >= maxSamples {
		w.samples /= 2
		for p := range w.counts {
			w.counts[p] /= 2
		}
	}
}

// allZero reports whether p holds only zero bytes.
func allZero(p []byte) bool {
	for len(p) >= 8 {
		if binary.LittleEndian.Uint64(p) != 0 {
			return false
		}
		p = p[8:]
	}
	for _, c := range p {
		if c != 0 {
			return false
		}
	}
	return true
}
