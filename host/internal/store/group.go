package store

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// Group commit: the batches of requests that commit while others are
// committing are merged into one batch and committed together, so that N
// concurrent requests cost the engine one commit (one trip through its
// commit pipeline, one log record, one wake-up) and N memtable inserts,
// not N commits. Each request's batch is atomic within the merged one,
// and each returns when the merged batch is synced, as it would alone.
//
// A batch of aloneBytes or more is not grouped. At most maxCommitters
// merged commits are in flight at once; a request
// that finds them all busy queues, and the first committer to finish
// hands the queue on: it names the oldest request its heir and wakes it,
// and whichever runs first, the heir or a request that comes to commit
// meanwhile, commits the queue (the heir's batch with it). A woken
// goroutine runs only when its core's run queue comes to it, behind
// whatever was queued there before; with one tenant's guest calls in that
// queue, an heir waited 2.3 ms to run while every commit queued behind it
// and requests that came to commit stood by (make soak, smallwrites). A
// request that finds no commit in flight commits alone at once: nothing
// waits longer than it would without grouping. When a group's sync ends,
// its leader wakes the requests whose Txn is not behind (SetBehind) first,
// then the rest, then hands over: each wake-up puts a request in the
// leader's run queue, behind those woken before it. One committer makes
// the largest groups:
// BenchmarkStorageWrite, 100 objects, gave 0.8-0.9× raw Pebble with one
// and 0.55-0.7× with two (whose groups are half as large, and the engine
// syncs its log once for both anyway).
type committer struct {
	db       *pebble.DB
	mu       sync.Mutex
	queue    []*commitReq  // waiting, oldest first
	inflight int           // committers at work, or an heir owed the lead
	heir     *commitReq    // the queue's head, woken to lead and not yet leading: the next to commit leads in its place
	engine   atomic.Int64  // commits made to the engine
	hold     func()        // tests: runs before a committer commits its group
	spare    *pebble.Batch // a merged batch kept for the next group (under mu)
}

// maxCommitters is how many merged commits may be in flight at once;
// maxGroupBytes bounds a group's merged batch.
const (
	maxCommitters = 1
	maxGroupBytes = 1 << 20
)

// mergedBatchSize is the buffer of the merged batch kept between groups:
// room for the largest group and the batch header.
const mergedBatchSize = 2 * maxGroupBytes

// aloneBytes: a batch at least this large commits alone, through the
// engine's own commit pipeline, beside the groups and not in one. Merging
// copies a batch, and everyone in its group waits for the copy: a tenant
// putting 128 KiB values had the small commits of every other tenant
// wait for its bytes to be copied, checksummed and logged, group after
// group (make soak, diskwrite). Alone, its batch takes its own turn in the
// engine's log, whose syncs cover all that is written by then; a batch of
// this size is hundreds of small writes' worth, so grouping saves little.
const aloneBytes = 32 << 10

// commitReq is one batch waiting in the queue.
type commitReq struct {
	b      *pebble.Batch
	behind bool  // wake it after the others (Txn.SetBehind)
	err    error // the outcome, when done sends false
	// done sends true to wake the request as the heir (at most one such
	// is pending: nudge), and false once its batch is committed, with err
	// the outcome. A request woken as heir may find another committer
	// took the lead in its place; then it waits on.
	done chan bool // capacity 2: a nudge and the outcome
}

var commitReqs = sync.Pool{New: func() any { return &commitReq{done: make(chan bool, 2)} }}

// commit commits b, synced, alone or merged with the batches waiting;
// behind: its request may be woken after the others of its group.
func (c *committer) commit(b *pebble.Batch, behind bool) error {
	if len(b.Repr()) >= aloneBytes {
		c.engine.Add(1)
		return b.Commit(pebble.Sync)
	}
	c.mu.Lock()
	if c.heir != nil {
		// The queue was handed to a request that has not run yet: lead
		// in its place; its batch heads the group.
		c.heir = nil
		c.mu.Unlock()
		return c.lead(b, behind)
	}
	if c.inflight < maxCommitters {
		c.inflight++
		c.mu.Unlock()
		return c.lead(b, behind)
	}
	r := commitReqs.Get().(*commitReq)
	r.b, r.behind = b, behind
	c.queue = append(c.queue, r)
	c.mu.Unlock()
	for <-r.done {
		c.mu.Lock()
		if c.heir != r { // another took the lead: r is in its group
			c.mu.Unlock()
			continue
		}
		c.heir = nil
		c.queue = append(c.queue[:0], c.queue[1:]...) // r, the head
		select {
		case <-r.done: // a nudge sent after the one received
		default:
		}
		c.mu.Unlock()
		r.free()
		return c.lead(b, behind)
	}
	err := r.err
	r.free()
	return err
}

// free returns r, emptied, to the pool.
func (r *commitReq) free() {
	*r = commitReq{done: r.done}
	commitReqs.Put(r)
}

// nudge wakes the heir r to lead, unless a nudge already waits for it.
// The caller holds c.mu, under which every nudge is sent: an heir has at
// most one pending, and leaves none behind when it leads.
func (c *committer) nudge(r *commitReq) {
	if len(r.done) == 0 {
		r.done <- true
	}
}

// lead commits b with as much of the queue as fits a group, tells their
// requests the outcome, then hands over to the oldest request left (its
// heir), or stops. The caller counts in inflight. A leader behind
// (SetBehind) that woke requests not behind yields its P to them after.
func (c *committer) lead(b *pebble.Batch, behind bool) error {
	c.mu.Lock()
	size, n := len(b.Repr()), 0
	for n < len(c.queue) && size+len(c.queue[n].b.Repr()) <= maxGroupBytes {
		size += len(c.queue[n].b.Repr())
		n++
	}
	group := append([]*commitReq(nil), c.queue[:n]...)
	c.queue = append(c.queue[:0], c.queue[n:]...)
	c.mu.Unlock()
	if c.hold != nil {
		c.hold()
	}

	err := c.commitGroup(b, group)

	c.mu.Lock()
	var next *commitReq
	if len(c.queue) > 0 && c.heir == nil {
		// The slot passes to the heir, or to whoever comes to commit
		// before it runs: the group's requests, once woken, may.
		next = c.queue[0]
		c.heir = next
	} else {
		c.inflight--
	}
	c.mu.Unlock()
	ahead := wake(group, err, next == nil)
	if next != nil {
		c.mu.Lock()
		if c.heir == next {
			c.nudge(next)
		}
		c.mu.Unlock()
	}
	if behind && ahead {
		runtime.Gosched()
	}
	return err
}

// wake tells the group's requests the outcome of their commit, those not
// behind first. A request woken goes to the waker's run queue, where the
// last woken runs first (Go's runnext slot) and the others in the order
// woken: last is whether this is the last wake-up the waker makes (no
// hand-over follows), and then the first request not behind is woken
// last, so that it takes that slot and not one behind. It reports
// whether it woke any request not behind. The order is decided before the
// first wake-up: a request woken returns its commitReq to the pool, where
// another commit may take it.
func wake(group []*commitReq, err error, last bool) (ahead bool) {
	behind := 0
	for _, r := range group {
		if r.behind {
			behind++
		}
	}
	order := group
	if behind > 0 && behind < len(group) {
		order = make([]*commitReq, 0, len(group))
		for _, r := range group {
			if !r.behind {
				order = append(order, r)
			}
		}
		for _, r := range group {
			if r.behind {
				order = append(order, r)
			}
		}
		if last {
			order = append(order[1:], order[0])
		}
	}
	for _, r := range order {
		r.err = err
		r.done <- false
	}
	return behind < len(group)
}

// commitGroup commits b and the group's batches as one synced batch.
//
// The merged batch is kept for the next group, its buffer with it: a
// group of large writes merges up to maxGroupBytes, and allocating that
// for every group would have the leader, which commits for every request
// in the group, pay the collector's assist for all their bytes (Go
// charges an allocation's marking work to the goroutine that allocates)
// while the others wait for it.
func (c *committer) commitGroup(b *pebble.Batch, group []*commitReq) error {
	c.engine.Add(1)
	if len(group) == 0 {
		return b.Commit(pebble.Sync)
	}
	c.mu.Lock()
	m := c.spare
	c.spare = nil
	c.mu.Unlock()
	if m == nil {
		m = c.db.NewBatchWithSize(mergedBatchSize, pebble.WithMaxRetainedSizeBytes(mergedBatchSize))
	}
	err := c.mergeCommit(m, b, group)
	if err != nil { // the engine may still hold the batch: let it go
		_ = m.Close()
		return err
	}
	m.Reset()
	c.mu.Lock()
	if c.spare == nil {
		c.spare, m = m, nil
	}
	c.mu.Unlock()
	if m != nil {
		_ = m.Close()
	}
	return nil
}

// mergeCommit copies b and the group's batches into m and commits it,
// synced.
func (c *committer) mergeCommit(m, b *pebble.Batch, group []*commitReq) error {
	if err := m.Apply(b, nil); err != nil {
		return fmt.Errorf("group commit: %w", err)
	}
	for _, r := range group {
		if err := m.Apply(r.b, nil); err != nil {
			return fmt.Errorf("group commit: %w", err)
		}
	}
	return m.Commit(pebble.Sync)
}
