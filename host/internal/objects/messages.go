package objects

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/reqid"
	"github.com/dohost/dohost/host/internal/store"
)

// WebSocket messages run in batches: the messages that arrive for an
// object while it handles one wait together, and the next turn runs them
// all, one handler call after the other, in one transaction with one
// commit. Each call's frames leave once that commit is durable, in the
// order the calls ran, so a room that many clients write to pays one
// synced commit for many messages, not one each, and no client hears of a
// message before it is stored. Every call has its own CPU limit and its
// own max_write_bytes, as alone; a call that traps loses its own writes
// and frames (the transaction rolls back to where it began) and its
// instance, and the next message of the batch starts a new one. A
// handler that fails without trapping keeps its writes, as alone, and
// sends nothing.
//
// This is the input and output gate of Durable Objects: a message's
// handler runs before the previous one's writes are durable, but nothing
// it says leaves before its own are (and so the earlier ones' too).

// wsMessage is one received message waiting for its object.
type wsMessage struct {
	ctx   context.Context // its request id
	input []byte
	done  chan struct{} // closed once it has run and its frames left
}

// Bounds of a batch: at most wsBatchMax messages, and no message starts
// once the batch's writes reach wsBatchBytes (a handler may still write
// up to max_write_bytes of its own) or once it has run for wsBatchTime:
// the first message's frames wait for the whole batch, so a batch stays
// short (a long handler still holds back the frames of the messages
// before it in its batch).
const (
	wsBatchMax   = 64
	wsBatchBytes = 1 << 20
	wsBatchTime  = 2 * time.Millisecond
)

// socketMessage runs one message's handler on o, in a batch with the
// messages that wait beside it: the first of them to get o's turn runs
// them all; the others return once theirs has run. It waits for o's turn
// however long the queue is: the set bounds the messages waiting
// (sockets.Limits.Inbound).
func (r *Registry) socketMessage(o *object, input []byte) {
	used := false
	end, ok := r.beginEvent(o)
	if !ok {
		return // shutting down: the sockets are being closed
	}
	defer func() { end(used) }()
	m := &wsMessage{ctx: reqid.With(context.Background(), reqid.New()), input: input, done: make(chan struct{})}
	o.msgMu.Lock()
	o.msgs = append(o.msgs, m)
	o.msgMu.Unlock()
	r.nWaiting.Add(1) // until its batch has run
	select {
	case o.turn <- struct{}{}:
	case <-m.done:
		used = true
		return
	case <-r.o.Load.Stopping():
		return
	}
	defer o.release()
	used = true
	cpu := o.ns.version().Module.CPU()
	r.o.Load.Begin(cpu)
	defer r.o.Load.End(cpu)
	for {
		select {
		case <-m.done:
			return
		default:
		}
		if f := r.o.BeforeMessages; f != nil {
			f()
		}
		o.msgMu.Lock()
		batch := slices.Clone(o.msgs[:min(len(o.msgs), wsBatchMax)])
		o.msgMu.Unlock()
		n := o.runMessages(batch)
		o.msgMu.Lock()
		o.msgs = append(o.msgs[:0], o.msgs[n:]...)
		o.msgMu.Unlock()
		r.nWaiting.Add(-int64(n))
		for _, done := range batch[:n] {
			close(done.done)
		}
	}
}

// runMessages runs the handlers of the first messages of batch (at least
// one) in one transaction, starting o's instance first if it has none,
// commits it, and sends each call's frames; it returns how many it ran.
// The caller holds o's turn.
func (o *object) runMessages(batch []*wsMessage) int {
	start := time.Now()
	v := o.ns.version()
	if o.inst != nil && (o.ver != v || o.ns.removed.Load()) {
		o.closeInstance(context.Background())
	}
	if o.ns.removed.Load() {
		for _, m := range batch {
			logFailure(m.ctx, o, "ws message", abi.ObjectError, fmt.Errorf("object %s (%s): its worker was removed", o.id, o.ns.cfg.Class))
		}
		return len(batch)
	}
	type result struct {
		m    *wsMessage
		c    *guest.Call // nil: it did not run to the commit
		w    *guest.Writes
		code abi.Code
		err  error
	}
	txn := o.r.o.Store.NewTxn()
	var results []result
	var broken error // a rollback failed: nothing of the batch commits
	alarmChanged := false
	for _, m := range batch {
		if len(results) > 0 && (txn.Bytes() >= wsBatchBytes || time.Since(start) >= wsBatchTime || broken != nil) {
			break
		}
		res := result{m: m, w: v.Module.NewWrites()}
		sp := txn.Savepoint()
		if o.inst == nil {
			changed, err := o.start(m.ctx, v, 0, txn, res.w)
			if err != nil {
				res.code, res.err = startFailure(err)
				broken = o.rollback(txn, sp)
				results = append(results, res)
				continue
			}
			alarmChanged = alarmChanged || changed
		}
		o.trimmed = false
		c := o.call(guest.WSMessage, 0, txn, res.w)
		err := o.inst.Invoke(m.ctx, c, m.input)
		if guest.IsTrap(err) {
			broken = o.rollback(txn, sp)
			c.SocketsDone(false)
			c.Free()
			o.closeTrapped(m.ctx)
			o.r.nFailed.Add(1)
			res.code, res.err = abi.ObjectError, o.trapFailure(err)
			results = append(results, res)
			continue
		}
		res.c, res.err = c, err
		alarmChanged = alarmChanged || c.AlarmChanged
		results = append(results, res)
	}

	ws := make([]*guest.Writes, len(results))
	for i, res := range results {
		ws[i] = res.w
	}
	cerr := broken
	if cerr == nil {
		cerr = guest.Commit(txn, ws...)
	} else {
		txn.Discard()
	}
	committed := false
	for _, res := range results {
		res.w.Release()
		if c := res.c; c != nil {
			committed = true
			// Frames the handler sent leave now that its writes are
			// durable; a handler that failed sends none.
			c.SocketsDone(res.err == nil && cerr == nil)
			switch {
			case cerr != nil:
				res.code, res.err = abi.Internal, fmt.Errorf("object %s (%s): %w", o.id, o.ns.cfg.Class, cerr)
			case res.err != nil:
				res.code, res.err = o.handlerFailure(c, res.err)
			}
			c.Free()
		}
		if res.err != nil {
			logFailure(res.m.ctx, o, "ws message", res.code, res.err)
		}
		if obs := o.r.o.Observer; obs != nil {
			obs.Handled(o.ns.cfg.Label, guest.WSMessage.String(), res.code, guest.TrapCause(res.err), time.Since(start))
		}
	}
	if committed && cerr == nil {
		if alarmChanged {
			o.r.alarms.reload(o)
		}
		if o.ws.Load() != nil {
			o.r.relist(o)
		}
	}
	return len(results)
}

// rollback drops the writes made to txn since sp: a trapped call's, or a
// failed start's. On an error txn is not to be committed.
func (o *object) rollback(txn *store.Txn, sp store.Savepoint) error {
	if err := txn.RollbackTo(sp); err != nil {
		return fmt.Errorf("object %s (%s): roll back a failed call's writes: %w", o.id, o.ns.cfg.Class, err)
	}
	return nil
}
