package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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

	waitingOn *object // guarded by registry.graphMu
}

type objectKey struct {
	ns *namespace
	id objectID
}

// registry maps object IDs to live objects, across all apps of a server.
//
// Lock order: registry.mu and registry.graphMu are leaves; neither is held
// while waiting for an object's turn or running a guest.
type registry struct {
	maxQueue int

	mu      sync.Mutex
	objects map[objectKey]*object // guarded by mu

	graphMu sync.Mutex // guards every object's waitingOn
}

func newRegistry(maxQueue int) *registry {
	return &registry{maxQueue: maxQueue, objects: map[objectKey]*object{}}
}

// get returns the object id of ns, creating its record (not its instance).
func (r *registry) get(ns *namespace, id objectID) *object {
	k := objectKey{ns, id}
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.objects[k]
	if o == nil {
		a := ns.app
		o = &object{ns: ns, id: id, turn: make(chan struct{}, 1)}
		o.storage = a.srv.store.Object(a.cfg.AccountID, ns.key, id, store.ObjectLimits{MaxKey: a.cfg.Limits.StorageKey, MaxValue: a.cfg.Limits.StorageValue})
		o.log = a.log.With("class", ns.class, "object", id.String())
		r.objects[k] = o
	}
	return o
}

func (r *registry) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.objects)
}

// errCycle is the cause of a call that would wait on itself.
var errCycle = errors.New("call cycle")

// enter records that caller's running request waits on target, unless
// that closes a cycle of objects each waiting on the next: then it returns
// an error naming the cycle, and nothing is recorded.
func (r *registry) enter(caller, target *object) error {
	r.graphMu.Lock()
	defer r.graphMu.Unlock()
	for n, path := target, []*object{caller, target}; n != nil; n = n.waitingOn {
		if n == caller {
			return fmt.Errorf("%w: %s would wait on itself; a Durable Object cannot call back into an object that is waiting on it", errCycle, pathString(path))
		}
		if n != target {
			path = append(path, n)
		}
	}
	caller.waitingOn = target
	return nil
}

func (r *registry) leave(caller *object) {
	r.graphMu.Lock()
	caller.waitingOn = nil
	r.graphMu.Unlock()
}

func pathString(path []*object) string {
	s := ""
	for i, o := range path {
		if i > 0 {
			s += " → "
		}
		s += o.ns.class + ":" + o.id.String()[:12]
	}
	if len(path) > 0 {
		s += " → " + path[0].ns.class + ":" + path[0].id.String()[:12]
	}
	return s
}

// acquire waits for o's turn, until deadline.
func (r *registry) acquire(ctx context.Context, o *object, deadline time.Time) (abi.Code, error) {
	select {
	case o.turn <- struct{}{}:
		return abi.OK, nil
	default:
	}
	if n := o.waiters.Add(1); int(n) > r.maxQueue {
		o.waiters.Add(-1)
		return abi.Overloaded, fmt.Errorf("object %s: %d requests are already queued", o.id, r.maxQueue)
	}
	defer o.waiters.Add(-1)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	select {
	case o.turn <- struct{}{}:
		return abi.OK, nil
	case <-ctx.Done():
		return abi.Timeout, fmt.Errorf("object %s: gave up waiting for its turn: %w", o.id, ctx.Err())
	}
}

func (o *object) release() { <-o.turn }

// fetch runs one request on object id of ns and returns its encoded
// response. caller is the object whose request makes the call (nil for the
// Worker); it waits for the object's turn until deadline. The object's
// writes are synced before fetch returns.
func (r *registry) fetch(ctx context.Context, caller *object, deadline time.Time, ns *namespace, id objectID, name string, hasName bool, req []byte) ([]byte, abi.Code, error) {
	o := r.get(ns, id)
	if caller != nil {
		if err := r.enter(caller, o); err != nil {
			return nil, abi.Cycle, err
		}
		defer r.leave(caller)
	}
	if code, err := r.acquire(ctx, o, deadline); err != nil {
		return nil, code, err
	}
	defer o.release()
	if hasName && !o.hasName {
		o.name, o.hasName = name, true
	}
	return o.run(ctx, kindFetch, req, nil)
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
	fn, what := o.inst.objectFetch, "fetch"
	if kind == kindAlarm {
		fn, what = o.inst.objectAlarm, "alarm"
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
	if _, err := c.invoke(ctx, inst.objectNew, info, true); err != nil {
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
	return nil
}

// stop closes o's instance; the next request starts a new one. The caller
// holds o's turn.
func (o *object) stop(ctx context.Context) {
	o.inst.close(ctx)
	o.inst = nil
	o.ns.app.srv.stats.objectsLive.Add(-1)
}
