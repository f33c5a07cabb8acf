package objects

import (
	"context"
	"time"
)

// maxTrimsPerTick bounds the instances one sweep trims: unmapping pages
// costs a TLB flush, ~0.2 ms for a Go guest's instance, and a burst of new
// objects going idle together should not take a core for it.
const maxTrimsPerTick = 100

// started records that o (whose turn the caller holds) has a new instance,
// and evicts the least recently used idle objects beyond the cap.
func (r *Registry) started(o *object) {
	r.nStarted.Add(1)
	r.mu.Lock()
	o.lastUsed = time.Now()
	o.lruElem = r.lru.PushFront(o)
	r.live++
	var victims []*object
	for e := r.lru.Back(); e != nil && r.live-len(victims) > r.o.MaxLive; e = e.Prev() {
		if v := e.Value.(*object); v.refs == 0 {
			victims = append(victims, v)
		}
	}
	r.removeLocked(victims)
	r.mu.Unlock()
	r.evict(victims, "over the cap of live objects")
}

// stopped records that o (whose turn the caller holds) lost its instance.
func (r *Registry) stopped(o *object) {
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
func (r *Registry) removeLocked(os []*object) {
	for _, o := range os {
		r.lru.Remove(o.lruElem)
		o.lruElem = nil
		r.live--
		delete(r.objects, objectKey{o.ns, o.id})
	}
}

// evict closes the instances of objects removed from the registry.
func (r *Registry) evict(os []*object, why string) {
	for _, o := range os {
		o.closeInstance(context.Background())
		r.nEvicted.Add(1)
		o.log.Debug("object evicted", "why", why)
	}
}

// sweep evicts objects idle for longer than IdleTimeout and trims the
// memory of those idle for longer than TrimAfter, until Close.
func (r *Registry) sweep() {
	defer close(r.done)
	every := min(r.o.IdleTimeout/4, r.o.TrimAfter/2, time.Second)
	t := time.NewTicker(max(every, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		r.sweepOnce(time.Now())
	}
}

func (r *Registry) sweepOnce(now time.Time) {
	r.mu.Lock()
	var idle, trim []*object
	for e := r.lru.Back(); e != nil; e = e.Prev() {
		o := e.Value.(*object)
		age := now.Sub(o.lastUsed)
		if age < r.o.TrimAfter {
			break // the rest were used more recently
		}
		switch {
		case o.refs > 0:
		case age >= r.o.IdleTimeout:
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
		if o.tryAcquire() { // otherwise a request came in: it is not idle
			if o.inst != nil {
				o.inst.Trim()
				r.nTrimmed.Add(1)
			}
			o.trimmed = true
			o.release()
		}
		r.put(o, false)
	}
}
