package host

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/store"
)

// object is one Durable Object: at most one live instance, running one
// request at a time. Holding a token in turn is the right to run.
type object struct {
	ns      *namespace
	id      objectID
	log     *slog.Logger
	storage *store.Object

	turn    chan struct{} // capacity 1; a token while a request runs
	waiters atomic.Int32  // requests waiting for the turn

	// Guarded by turn.
	name       string
	hasName    bool
	nameStored bool      // the name is known to be in the database
	inst       *instance // nil until the first request, and after a trap
	alarmDirty bool      // a handler set or deleted the alarm since the last commit
	trimmed    bool      // the instance was trimmed since its last request

	waitingOn *object // guarded by registry.graphMu

	// Guarded by registry.mu.
	refs     int           // references taken by registry.get
	lruElem  *list.Element // in registry.lru while the object has an instance
	lastUsed time.Time
}

// run runs one handler on o (a fetch or an alarm), starting its instance
// first if it has none, and commits the handler's writes, synced, before it
// returns. onSuccess, if set, runs before the commit when the handler
// succeeded. The caller holds o's turn.
//
// A trap (or a timeout) discards the writes and the instance, which the
// next request replaces. A handler that fails without trapping behaves like
// a Durable Object that throws: its writes so far stand, its in-memory
// state lives on.
func (o *object) run(ctx context.Context, kind callKind, input []byte, onSuccess func(*call) error) ([]byte, abi.Code, error) {
	a := o.ns.app
	txn := a.srv.store.NewTxn()
	if o.inst == nil {
		if err := o.start(ctx, txn); err != nil {
			txn.Discard()
			o.alarmDirty = false
			return nil, abi.ObjectError, err
		}
	}
	o.trimmed = false
	fn, what := o.inst.fn(abi.ExportObjectFetch), "fetch"
	if kind == kindAlarm {
		fn, what = o.inst.fn(abi.ExportObjectAlarm), "alarm"
	}
	if fn == nil {
		txn.Discard()
		return nil, abi.ObjectError, fmt.Errorf("object %s (%s): the module exports no %s handler (%s)", o.id, o.ns.class, what, abi.ExportObjectAlarm)
	}
	c := &call{app: a, inst: o.inst, obj: o, kind: kind, txn: txn}
	trapped, err := c.invoke(ctx, fn, input, true)
	if trapped {
		txn.Discard()
		o.alarmDirty = false
		o.stop(ctx)
		a.srv.stats.objectsFailed.Add(1)
		o.log.Warn("object instance replaced", "err", err)
		return nil, abi.ObjectError, fmt.Errorf("object %s (%s): %w; its writes in this request were discarded and its instance replaced", o.id, o.ns.class, err)
	}
	if err == nil && kind == kindFetch && !c.responded {
		err = errors.New("fetch handler returned without a response")
	}
	if len(c.txns) > 0 {
		// A transaction the handler never finished did not succeed.
		o.log.Warn("handler returned inside a transaction; rolled it back", "open", len(c.txns))
		if rerr := txn.RollbackTo(c.txns[0]); rerr != nil {
			txn.Discard()
			return nil, abi.Internal, fmt.Errorf("object %s (%s): %w", o.id, o.ns.class, rerr)
		}
		o.alarmDirty = true
	}
	if err == nil && onSuccess != nil {
		if err := onSuccess(c); err != nil {
			txn.Discard()
			return nil, abi.Internal, fmt.Errorf("object %s (%s): %w", o.id, o.ns.class, err)
		}
	}
	if cerr := txn.Commit(); cerr != nil {
		o.log.Error("commit failed", "err", cerr)
		return nil, abi.Internal, fmt.Errorf("object %s (%s): %w", o.id, o.ns.class, cerr)
	}
	if o.alarmDirty {
		o.alarmDirty = false
		a.srv.alarms.reload(o)
	}
	if err != nil {
		return nil, abi.ObjectError, fmt.Errorf("object %s (%s): %w", o.id, o.ns.class, err)
	}
	return c.response, abi.OK, nil
}

// start creates o's instance and runs its constructor, whose writes go into
// txn, the transaction of the request that started the object: they
// become durable with that request's. The caller holds o's turn.
func (o *object) start(ctx context.Context, txn *store.Txn) error {
	a := o.ns.app
	st := a.srv.store
	if !o.nameStored {
		name, ok, err := st.ObjectName(txn, o.ns.key, o.id)
		switch {
		case err != nil:
			return fmt.Errorf("object %s (%s): %w", o.id, o.ns.class, err)
		case ok:
			o.name, o.hasName = name, true
		case o.hasName:
			if err := st.SetObjectName(txn, o.ns.key, o.id, o.name); err != nil {
				return fmt.Errorf("object %s (%s): %w", o.id, o.ns.class, err)
			}
		}
		o.nameStored = ok || o.hasName
	}
	inst, err := a.newInstance(ctx, o)
	if err != nil {
		return fmt.Errorf("object %s (%s): %w", o.id, o.ns.class, err)
	}
	info := abi.AppendObjectInfo(nil, &abi.ObjectInfo{Class: o.ns.class, ID: o.id.String(), HasName: o.hasName, Name: o.name})
	c := &call{app: a, inst: inst, obj: o, kind: kindConstruct, txn: txn}
	// The constructor runs once: its function is not kept (wazero gives
	// each resolved function a call stack of its own).
	if _, err := c.invoke(ctx, inst.mod.ExportedFunction(abi.ExportObjectNew), info, true); err != nil {
		inst.close(ctx)
		return fmt.Errorf("object %s (%s): constructor: %w", o.id, o.ns.class, err)
	}
	if len(c.txns) > 0 {
		if err := txn.RollbackTo(c.txns[0]); err != nil {
			inst.close(ctx)
			return fmt.Errorf("object %s (%s): constructor: %w", o.id, o.ns.class, err)
		}
	}
	o.inst = inst
	a.srv.stats.objectsStarted.Add(1)
	a.srv.stats.objectsLive.Add(1)
	a.srv.objects.started(o)
	return nil
}

// stop closes o's instance; the next request starts a new one. The caller
// holds o's turn.
func (o *object) stop(ctx context.Context) {
	o.inst.close(ctx)
	o.inst = nil
	o.ns.app.srv.stats.objectsLive.Add(-1)
	o.ns.app.srv.objects.stopped(o)
}
