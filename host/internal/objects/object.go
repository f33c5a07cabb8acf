package objects

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/quota"
	"github.com/dohost/dohost/host/internal/sockets"
	"github.com/dohost/dohost/host/internal/store"
)

// object is one Durable Object: at most one live instance, running one
// request at a time (turn.go).
type object struct {
	r       *Registry
	ns      *Namespace
	id      ID
	hexID   string // id.String(), made once: the log and every new instance's info take it
	storage *store.Object

	turn    chan struct{} // capacity 1; a token while a request runs
	waiters atomic.Int32  // requests waiting for the turn

	// Guarded by turn.
	log        *slog.Logger // tagged with class, ID and, once known, name
	name       string
	hasName    bool
	nameStored bool            // the name is known to be in the database
	inst       *guest.Instance // nil until the first request, and after a trap
	ver        *Version        // the version inst runs
	trimmed    bool            // the instance was trimmed since its last request

	waitingOn *object // guarded by Registry.graphMu

	ws atomic.Pointer[sockets.Set] // its WebSockets; set once, under turn

	msgs    batchQueue // received WebSocket messages waiting to run (batch.go)
	fetches batchQueue // clients' requests waiting to run

	sh *registryShard // the part of the registry that holds its record (Registry.shardOf)

	// Guarded by sh.mu.
	refs             int  // references taken by Registry.get
	inLRU            bool // in sh.lru: the object has an instance
	lruPrev, lruNext *object
	lastUsed         time.Time
}

func newObject(r *Registry, ns *Namespace, id ID) *object {
	c := &ns.cfg
	hexID := id.String()
	return &object{
		r: r, ns: ns, id: id, hexID: hexID, sh: r.shardOf(id),
		storage: r.o.Store.Object(c.Account, c.Key, id, ns.version().Limits.Storage),
		turn:    make(chan struct{}, 1),
		log:     c.Log.With("class", c.Class, "object", hexID),
	}
}

// call returns a Call of o's instance with its writes going into txn,
// counted in w. The caller frees it once it has read its results.
func (o *object) call(kind guest.Kind, depth int, txn *store.Txn, w *guest.Writes) *guest.Call {
	c := guest.NewCall()
	c.Kind, c.Depth, c.Txn, c.Writes, c.Env, c.Storage, c.Caller, c.Log = kind, depth, txn, w, o.ver.Env, o.storage, o, o.log
	return c
}

// run runs one handler on o alone, as a batch of one (batch.go): an
// alarm, a socket's close or error event; no guest waits for it. It
// starts o's instance first if it has none and commits the handler's
// writes, synced, before it returns. before, if set, runs after the
// handler succeeded, before the commit; its error fails the call and
// drops its writes. The caller holds o's turn and logs a failure.
//
// A trap (or a timeout) discards the writes and the instance, which the
// next request replaces. A handler that fails without trapping behaves
// like a Durable Object that throws: its writes so far stand, its
// in-memory state lives on. The error says which, for the operator's
// log.
func (o *object) run(ctx context.Context, kind guest.Kind, input []byte, before func(*guest.Call) error) (abi.Code, error) {
	p := &pending{ctx: ctx, input: input, depth: depthOf(nil), before: before}
	o.runBatch(kind, []*pending{p})
	return p.code, p.err
}

// startFailure is the code and error of a request whose object could not
// start: OVERLOADED when a budget was spent, so that the client comes
// back later.
func startFailure(err error) (abi.Code, error) {
	if errors.Is(err, quota.ErrExhausted) {
		return abi.Overloaded, err
	}
	return abi.ObjectError, err
}

// trapFailure is the error of a call of o that trapped.
func (o *object) trapFailure(err error) error {
	return fmt.Errorf("object %s (%s): %w; its writes in this request were discarded and its instance replaced", o.id, o.ns.cfg.Class, err)
}

// handlerFailure is the code and error of c, a call of o that failed
// without trapping (err), or whose commit failed.
func (o *object) handlerFailure(c *guest.Call, err error) (abi.Code, error) {
	switch {
	case errors.Is(err, guest.ErrCommit):
		return abi.Internal, fmt.Errorf("object %s (%s): %w", o.id, o.ns.cfg.Class, err)
	case c.Overloaded:
		// It failed after the host had no room for its response, or an
		// object it called had no room for the request: the client
		// should come back later, not take it for the guest's bug.
		return abi.Overloaded, fmt.Errorf("object %s (%s): overloaded: %w", o.id, o.ns.cfg.Class, err)
	}
	return abi.ObjectError, fmt.Errorf("object %s (%s): %w", o.id, o.ns.cfg.Class, err)
}

// start creates o's instance and runs its constructor, whose writes go into
// txn, the transaction of the request that started the object: they
// become durable with that request's. It reports whether the constructor
// may have changed the alarm. The caller holds o's turn.
//
// A start is work for the object's account that no call's clock counts:
// it runs on the account's schedule (guest.Load.AccountWork), so that a
// tenant starting objects without end is slowed for the others as a long
// call is.
func (o *object) start(ctx context.Context, v *Version, depth int, txn *store.Txn, writes *guest.Writes) (alarmChanged bool, err error) {
	o.r.o.Load.AccountWork(v.Module.CPU(), func() {
		alarmChanged, err = o.startInstance(ctx, v, depth, txn, writes)
	})
	return alarmChanged, err
}

// startInstance is start's work.
func (o *object) startInstance(ctx context.Context, v *Version, depth int, txn *store.Txn, writes *guest.Writes) (alarmChanged bool, err error) {
	st, key := o.r.o.Store, o.ns.cfg.Key
	if !o.nameStored {
		name, ok, err := st.ObjectName(txn, key, o.id)
		switch {
		case err != nil:
			return false, fmt.Errorf("object %s (%s): %w", o.id, o.ns.cfg.Class, err)
		case ok:
			o.name, o.hasName = name, true
		case o.hasName:
			if err := st.SetObjectName(txn, key, o.id, o.name); err != nil {
				return false, fmt.Errorf("object %s (%s): %w", o.id, o.ns.cfg.Class, err)
			}
		}
		o.nameStored = ok || o.hasName
		if o.hasName {
			o.log = o.log.With("name", o.name)
		}
	}
	if err := o.r.admit(o); err != nil {
		return false, fmt.Errorf("object %s (%s) cannot start: %w", o.id, o.ns.cfg.Class, err)
	}
	// A spent memory budget has idle objects give theirs back first (the
	// budget's reclaimer, ReclaimMemory).
	startedAt := time.Now()
	inst, err := v.Module.Instantiate(ctx, o.log)
	if err != nil {
		o.r.liveBudget(o).Give(1)
		return false, fmt.Errorf("object %s (%s): %w", o.id, o.ns.cfg.Class, err)
	}
	info := abi.AppendObjectInfo(nil, &abi.ObjectInfo{Class: v.Class, ID: o.hexID, HasName: o.hasName, Name: o.name})
	o.ver = v
	c := o.call(guest.Construct, depth, txn, writes)
	defer c.Free()
	if err := inst.Invoke(ctx, c, info); err != nil {
		inst.Close(ctx)
		o.r.liveBudget(o).Give(1)
		return false, fmt.Errorf("object %s (%s): constructor: %w", o.id, o.ns.cfg.Class, err)
	}
	o.inst = inst
	o.r.started(o)
	if obs := o.r.o.Observer; obs != nil {
		obs.Started(o.ns.cfg.Label, time.Since(startedAt))
	}
	return c.AlarmChanged, nil
}

// closeInstance closes o's instance; the next request starts a new one.
// The caller holds o's turn, or o is out of the registry (evicted).
func (o *object) closeInstance(ctx context.Context) { o.dropInstance(ctx, false) }

// closeTrapped closes o's instance after its call trapped.
func (o *object) closeTrapped(ctx context.Context) { o.dropInstance(ctx, true) }

func (o *object) dropInstance(ctx context.Context, trapped bool) {
	if o.inst != nil {
		if trapped {
			o.inst.CloseTrapped(ctx)
		} else {
			o.inst.Close(ctx)
		}
		o.inst = nil
		o.r.liveBudget(o).Give(1)
	}
	o.r.stopped(o)
}
