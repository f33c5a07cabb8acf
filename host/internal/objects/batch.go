package objects

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/mono"
	"github.com/dohost/dohost/host/internal/store"
)

// Batches: the events of one kind that wait for a busy object — received
// WebSocket messages (messages.go), requests from clients (fetches.go) —
// wait together, and the next turn runs them all, one handler call after
// the other, in one transaction with one commit. Each call's response and
// frames leave once that commit is durable, in the order the calls ran,
// so a busy object pays one synced commit for many events, not one each,
// and no client hears of anything before it is stored. Every call has its
// own CPU limit and its own max_write_bytes, as alone, and sees the
// writes of the calls before it; a call that traps loses its own writes,
// response and frames (the transaction rolls back to where it began) and
// its instance, and the next event of the batch starts a new one. A
// handler that fails without trapping keeps its writes, as alone, and
// sends nothing.
//
// This is the input and output gate of Durable Objects: an event's
// handler runs before the previous one's writes are durable, but nothing
// it says leaves before its own are (and so the earlier ones' too).

// pending is one event waiting for its object, and then its outcome.
type pending struct {
	ctx   context.Context // its request id, and a fetch's request
	input []byte
	from  *guest.Call // the Worker's call that asks (nil: none): the response goes to it
	depth int         // in a chain of stub calls (depthOf)
	// name, if hasName, is the name the request found its object by: an
	// object that does not know its name yet learns it under its turn,
	// before the handler runs.
	name    string
	hasName bool
	// before, if set, runs after the handler succeeded, before the
	// commit (an alarm's deletes it); its error fails the call and drops
	// its writes.
	before func(*guest.Call) error
	state  atomic.Int32  // waiting, taken or abandoned
	done   chan struct{} // closed once it has run and its outcome is set (nil: it never waited in a queue)

	resp []byte
	code abi.Code
	err  error
}

// pending states.
const (
	waiting int32 = iota
	taken
	abandoned
)

func newPending(ctx context.Context, input []byte, from *guest.Call) *pending {
	return &pending{ctx: ctx, input: input, from: from, depth: depthOf(from)}
}

// abandon gives up p while it still waits; it reports false once a batch
// has taken it (it runs, and its outcome will come).
func (p *pending) abandon() bool { return p.state.CompareAndSwap(waiting, abandoned) }

// Bounds of a batch: at most batchMax events, and no event starts once
// the batch's writes reach batchBytes (a handler may still write up to
// max_write_bytes of its own) or once it has run for Options.BatchTime
// (2 ms): the first event's response waits for the whole batch, so a
// batch stays short (a long handler still holds back the responses of
// the events before it in its batch).
const (
	batchMax   = 64
	batchBytes = 1 << 20
)

// batchQueue is the events of one kind waiting for an object.
type batchQueue struct {
	mu    sync.Mutex
	items []*pending // guarded by mu: oldest first
}

func (q *batchQueue) push(p *pending) {
	q.mu.Lock()
	q.items = append(q.items, p)
	q.mu.Unlock()
}

// empty reports whether no event waits in q.
func (q *batchQueue) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) == 0
}

// take takes up to batchMax of the oldest events still waiting, dropping
// those abandoned.
func (q *batchQueue) take() []*pending {
	q.mu.Lock()
	defer q.mu.Unlock()
	var batch []*pending
	n := 0
	for ; n < len(q.items) && len(batch) < batchMax; n++ {
		if p := q.items[n]; p.state.CompareAndSwap(waiting, taken) {
			batch = append(batch, p)
		}
	}
	q.items = append(q.items[:0], q.items[n:]...)
	return batch
}

// giveBack returns the events of a batch that did not run to the front
// of the queue, waiting again.
func (q *batchQueue) giveBack(rest []*pending) {
	if len(rest) == 0 {
		return
	}
	for _, p := range rest {
		p.state.Store(waiting)
	}
	q.mu.Lock()
	q.items = append(rest, q.items...)
	q.mu.Unlock()
}

// combine runs p in a batch of q's events on o, once it has o's turn, and
// returns once p has run, whoever ran it: the first of the waiting events
// to get the turn runs batches of them until its own has run. kind and
// handler name the handler. It reports false if p did not run: the host
// began to stop, or p's context ended or its deadline (zero: none) passed,
// before a batch took it. An event that finds o idle and nothing waiting
// runs alone at once, never queued: most events of most objects.
func (r *Registry) combine(o *object, q *batchQueue, p *pending, kind guest.Kind, handler string, deadline time.Time) bool {
	o.sh.waiting.Add(1)
	defer o.sh.waiting.Add(-1)
	if o.tryAcquire() {
		r.runTurn(o, q, p, kind, handler, false)
		o.release()
		return true
	}
	p.done = make(chan struct{})
	q.push(p)
	var expired <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		expired = t.C
	}
	gone, stopping := p.ctx.Done(), r.o.Load.Stopping()
	for {
		select {
		case <-p.done:
			return true
		case o.turn <- struct{}{}:
			r.runTurn(o, q, p, kind, handler, true)
			o.release()
			return true
		case <-expired:
			if p.abandon() {
				return false
			}
			expired = nil // taken: it runs
		case <-gone:
			if p.abandon() {
				return false
			}
			gone = nil
		case <-stopping:
			if p.abandon() {
				return false
			}
			stopping = nil
		}
	}
}

// runTurn runs p on o, whose turn the caller holds, and returns once p
// has run. Unless queued (p waits in q), p runs alone if nothing waits in
// q once its account may run (Load.AwaitShare): most events of most
// objects, never queued. Otherwise it runs batches of q's events — p
// first, if it was not queued — until p has run.
func (r *Registry) runTurn(o *object, q *batchQueue, p *pending, kind guest.Kind, handler string, queued bool) {
	cpu := o.ns.version().Module.CPU()
	r.o.Load.Begin(cpu)
	defer r.o.Load.End(cpu)
	r.o.Load.AwaitShare(cpu)
	if !queued {
		if f := r.o.BeforeBatch; f != nil {
			f(kind)
		}
		// Only the holder of the turn takes from q: an event queued after
		// this check waits for the turn, and is not passed over.
		if q.empty() {
			p.state.Store(taken)
			one := [1]*pending{p}
			o.runBatch(kind, one[:])
			if p.err != nil {
				logFailure(p.ctx, o, handler, p.code, p.err)
			}
			return
		}
		p.done = make(chan struct{})
		q.giveBack([]*pending{p})
	}
	for {
		select {
		case <-p.done:
			return
		default:
		}
		if f := r.o.BeforeBatch; f != nil {
			f(kind)
		}
		batch := q.take()
		if len(batch) == 0 {
			// Not reached: p waits in q until a batch runs it, and only
			// the holder of the turn takes batches.
			p.code, p.err = abi.Internal, fmt.Errorf("object %s: an event left its queue without running", o.id)
			close(p.done)
			return
		}
		n := o.runBatch(kind, batch)
		q.giveBack(batch[n:])
		for _, ran := range batch[:n] {
			if ran.err != nil {
				logFailure(ran.ctx, o, handler, ran.code, ran.err)
			}
			close(ran.done)
		}
	}
}

// runBatch runs the handlers of the first events of batch (at least one)
// in one transaction, starting o's instance first if it has none, commits
// it, and sets each event's outcome, its frames sent; it returns how many
// it ran. The caller holds o's turn, and logs the failures.
func (o *object) runBatch(kind guest.Kind, batch []*pending) int {
	start := mono.Now()
	// An instance of an earlier version ends here, between two of its
	// events: the object switches to what was deployed since.
	v := o.ns.version()
	if o.inst != nil && (o.ver != v || o.ns.removed.Load()) {
		o.closeInstance(context.Background())
	}
	if o.ns.removed.Load() {
		for _, p := range batch {
			p.code, p.err = abi.ObjectError, fmt.Errorf("object %s (%s): its worker was removed", o.id, o.ns.cfg.Class)
			o.handled(kind, p, start)
		}
		return len(batch)
	}
	type call struct {
		p *pending
		c *guest.Call // nil: it did not run to the commit
		w *guest.Writes
	}
	txn := o.r.o.Store.NewTxn()
	var calls []call
	var broken error // a rollback failed: nothing of the batch commits
	alarmChanged := false
	for _, p := range batch {
		if len(calls) > 0 && (txn.Bytes() >= batchBytes || time.Since(start) >= o.r.o.BatchTime || broken != nil) {
			break
		}
		cl := call{p: p, w: v.Module.NewWrites()}
		calls = append(calls, cl)
		if p.hasName && !o.hasName {
			o.name, o.hasName = p.name, true
		}
		sp := txn.Savepoint()
		if o.inst == nil {
			changed, err := o.start(p.ctx, v, p.depth, txn, cl.w)
			if err != nil {
				p.code, p.err = startFailure(err)
				broken = o.rollback(txn, sp, cl.w)
				continue
			}
			alarmChanged = alarmChanged || changed
		}
		o.trimmed = false
		c := o.call(kind, p.depth, txn, cl.w)
		err := o.inst.Invoke(p.ctx, c, p.input)
		if guest.IsTrap(err) {
			broken = o.rollback(txn, sp, cl.w)
			c.SocketsDone(false)
			c.Free()
			o.closeTrapped(p.ctx)
			o.r.nFailed.Add(1)
			p.code, p.err = abi.ObjectError, o.trapFailure(err)
			continue
		}
		if err == nil && p.before != nil {
			if err = p.before(c); err != nil {
				broken = o.rollback(txn, sp, cl.w)
			}
		}
		calls[len(calls)-1].c = c
		p.err = err
		alarmChanged = alarmChanged || c.AlarmChanged
	}

	ws := make([]*guest.Writes, len(calls))
	for i, cl := range calls {
		ws[i] = cl.w
	}
	cerr := broken
	if cerr == nil {
		cerr = guest.Commit(txn, ws...)
	} else {
		txn.Discard()
	}
	committed := false
	for _, cl := range calls {
		cl.w.Release()
		p := cl.p
		if c := cl.c; c != nil {
			committed = true
			// Frames the handler sent leave now that its writes are
			// durable; a handler that failed sends none.
			c.SocketsDone(p.err == nil && cerr == nil)
			switch {
			case cerr != nil:
				p.code, p.err = abi.Internal, fmt.Errorf("object %s (%s): %w", o.id, o.ns.cfg.Class, cerr)
			case p.err != nil:
				p.code, p.err = o.handlerFailure(c, p.err)
			default:
				c.PassResponse(p.from)
				p.resp, p.code = c.Response, abi.OK
			}
			c.Free()
		}
		o.handled(kind, p, start)
	}
	if committed && cerr == nil {
		if alarmChanged {
			o.r.alarms.reload(o)
		}
		if o.ws.Load() != nil {
			o.r.relist(o)
		}
	}
	return len(calls)
}

// handled tells the registry's observer of p's outcome, the batch having
// begun at start.
func (o *object) handled(kind guest.Kind, p *pending, start time.Time) {
	if obs := o.r.o.Observer; obs != nil {
		obs.Handled(o.ns.cfg.Label, kind.String(), p.code, guest.TrapCause(p.err), time.Since(start))
	}
}

// rollback drops the writes made to txn since sp — a trapped call's, a
// failed start's, those of a call whose before failed — and gives back
// what w counted of them, so that they count toward neither the buffers
// nor the stored data. On an error txn is not to be committed.
func (o *object) rollback(txn *store.Txn, sp store.Savepoint, w *guest.Writes) error {
	w.Release()
	if err := txn.RollbackTo(sp); err != nil {
		return fmt.Errorf("object %s (%s): roll back a failed call's writes: %w", o.id, o.ns.cfg.Class, err)
	}
	return nil
}
