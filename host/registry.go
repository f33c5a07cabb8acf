package host

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/store"
)

type objectKey struct {
	ns *namespace
	id objectID
}

// registry maps object IDs to objects, across all apps of a server, and
// keeps the number of live instances bounded.
//
// An object's record exists while someone holds a reference (get … put) or
// while it has a live instance. Live objects are kept in least-recently
// used order; when there are more than maxLive, or one has been idle for
// idleTimeout, the least recently used idle ones are evicted: their
// instance is closed and their record dropped. Their storage stays; the
// next request starts them again. An object with references is never
// evicted, so a record is never duplicated: one ID, one instance.
//
// Lock order: registry.mu and registry.graphMu are leaves; neither is held
// while waiting for an object's turn or running a guest.
type registry struct {
	srv         *Server
	maxLive     int
	idleTimeout time.Duration
	trimAfter   time.Duration

	mu      sync.Mutex
	objects map[objectKey]*object // guarded by mu
	lru     list.List             // guarded by mu: live objects, most recently used first
	live    int                   // guarded by mu: len(lru)

	graphMu sync.Mutex // guards every object's waitingOn

	stop chan struct{}
	done chan struct{}
}

func newRegistry(srv *Server, o Options) *registry {
	r := &registry{
		srv: srv, maxLive: o.MaxLiveObjects, idleTimeout: o.IdleTimeout, trimAfter: o.TrimAfter,
		objects: map[objectKey]*object{},
		stop:    make(chan struct{}), done: make(chan struct{}),
	}
	go r.sweep()
	return r
}

// close stops the sweeper.
func (r *registry) close() {
	close(r.stop)
	<-r.done
}

// get returns the object id of ns, creating its record (not its instance),
// and takes a reference to it: the caller must put it back.
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
	o.refs++
	return o
}

// put drops a reference taken by get. used says whether the reference ran
// a handler, which makes the object the most recently used.
func (r *registry) put(o *object, used bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o.refs--
	switch {
	case o.lruElem != nil:
		if used {
			o.lastUsed = time.Now()
			r.lru.MoveToFront(o.lruElem)
		}
	case o.refs == 0:
		delete(r.objects, objectKey{o.ns, o.id})
	}
}

// started records that o (whose turn the caller holds) has a new instance,
// and evicts the least recently used idle objects beyond the cap.
func (r *registry) started(o *object) {
	r.mu.Lock()
	o.lastUsed = time.Now()
	o.lruElem = r.lru.PushFront(o)
	r.live++
	var victims []*object
	for e := r.lru.Back(); e != nil && r.live-len(victims) > r.maxLive; e = e.Prev() {
		if v := e.Value.(*object); v.refs == 0 {
			victims = append(victims, v)
		}
	}
	r.removeLocked(victims)
	r.mu.Unlock()
	r.evict(victims, "over the cap of live objects")
}

// stopped records that o (whose turn the caller holds) lost its instance.
func (r *registry) stopped(o *object) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o.lruElem != nil {
		r.lru.Remove(o.lruElem)
		o.lruElem = nil
		r.live--
	}
}

// removeLocked drops unreferenced live objects from the registry: nobody
// can reach them afterwards, so the caller owns their instances.
func (r *registry) removeLocked(os []*object) {
	for _, o := range os {
		r.lru.Remove(o.lruElem)
		o.lruElem = nil
		r.live--
		delete(r.objects, objectKey{o.ns, o.id})
	}
}

// evict closes the instances of objects removed from the registry.
func (r *registry) evict(os []*object, why string) {
	for _, o := range os {
		o.stop(context.Background())
		r.srv.stats.objectsEvicted.Add(1)
		o.log.Debug("object evicted", "why", why)
	}
}

// maxTrimsPerTick bounds the instances one sweep trims: unmapping pages
// costs a TLB flush, ~0.2 ms for a Go guest's instance, and a burst of new
// objects going idle together should not take a core for it.
const maxTrimsPerTick = 100

// sweep evicts objects idle for longer than idleTimeout and trims the
// memory of those idle for longer than trimAfter, until close.
func (r *registry) sweep() {
	defer close(r.done)
	every := min(r.idleTimeout/4, r.trimAfter/2, time.Second)
	t := time.NewTicker(max(every, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		now := time.Now()
		r.mu.Lock()
		var idle, trim []*object
		for e := r.lru.Back(); e != nil; e = e.Prev() {
			o := e.Value.(*object)
			age := now.Sub(o.lastUsed)
			if age < r.trimAfter {
				break // the rest were used more recently
			}
			switch {
			case o.refs > 0:
			case age >= r.idleTimeout:
				idle = append(idle, o)
			case !o.trimmed && len(trim) < maxTrimsPerTick:
				o.refs++ // keeps it from being evicted while we trim it
				trim = append(trim, o)
			}
		}
		r.removeLocked(idle)
		r.mu.Unlock()
		r.evict(idle, "idle")
		for _, o := range trim {
			select {
			case o.turn <- struct{}{}:
				if o.inst != nil {
					o.inst.trim()
					r.srv.stats.objectsTrimmed.Add(1)
				}
				o.trimmed = true
				o.release()
			default: // a request came in meanwhile: it is not idle
			}
			r.put(o, false)
		}
	}
}

// liveCount reports the number of live instances.
func (r *registry) liveCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.live
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
	if limit := o.ns.app.cfg.Limits.Queue; int(o.waiters.Add(1)) > limit {
		o.waiters.Add(-1)
		return abi.Overloaded, fmt.Errorf("object %s: %d requests are already queued (max_queue)", o.id, limit)
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
	used := false
	defer func() { r.put(o, used) }()
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
	used = true
	if hasName && !o.hasName {
		o.name, o.hasName = name, true
	}
	return o.run(ctx, kindFetch, req, nil)
}
