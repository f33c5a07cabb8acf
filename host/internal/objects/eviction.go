package objects

import (
	"context"
	"time"

	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/quota"
)

// maxTrimsPerTick bounds the instances one sweep trims: unmapping pages
// costs a TLB flush, ~0.2 ms for a Go guest's instance, and a burst of new
// objects going idle together should not take a core for it.
const maxTrimsPerTick = 100

// liveBudget returns the budget of live objects o counts in.
func (r *Registry) liveBudget(o *object) quota.Pair {
	if t := o.ns.cfg.Tenant; t != nil {
		return t.Objects
	}
	return quota.Pair{}
}

// admit takes a place among the live objects for o, which is about to
// start: one of its account's and one of the host's. Where the account or
// the host is at its cap, the least recently used idle object (of the
// account, or of any) is evicted to make room; where every one is busy,
// admit fails (quota.ErrExhausted): the new object is refused rather than
// the cap exceeded. The caller holds o's turn.
func (r *Registry) admit(o *object) error {
	pair := r.liveBudget(o)
	for {
		err := pair.Take(1)
		if err == nil {
			return nil
		}
		if !r.evictIdle(o, pair.Tenant) {
			return err
		}
	}
}

// evictIdle evicts the least recently used idle object to make room for o
// in a budget that refused it: of o's account when the account's part of
// the budget is the one spent, of any account otherwise. It reports
// whether there was one.
func (r *Registry) evictIdle(o *object, tenant *quota.Budget) bool {
	account := ""
	if tenant.Limit() > 0 && tenant.Used() >= tenant.Limit() {
		account = o.ns.cfg.Account
	}
	return r.evictLRU(o, account, "to make room for a new object")
}

// ReclaimMemory evicts the least recently used idle object of account
// (of any account if it is "") to give its memory back: the guest memory
// budgets' reclaimer (quota.Host.SetMemoryReclaimer), so that a spent
// budget costs idle objects their instances before it fails a grow or a
// new instance. It reports whether there was one.
func (r *Registry) ReclaimMemory(account string) bool {
	return r.evictLRU(nil, account, "to free memory")
}

// evictLRU evicts the least recently used idle object other than except,
// of account (any if ""), and reports whether there was one.
//
// Each part of the registry offers its least recently used such object;
// the least recently used of those goes, if it is still idle when its
// part is locked again (a request may have taken it meanwhile: then the
// parts are asked again).
func (r *Registry) evictLRU(except *object, account, why string) bool {
	for {
		var v *object
		var vUsed time.Time
		r.eachShard(func(s *registryShard) {
			for c := s.lru.back; c != nil; c = c.lruPrev {
				if c.refs == 0 && c != except && (account == "" || c.ns.cfg.Account == account) {
					if v == nil || c.lastUsed.Before(vUsed) {
						v, vUsed = c, c.lastUsed
					}
					break
				}
			}
		})
		if v == nil {
			return false
		}
		s := v.sh
		s.mu.Lock()
		idle := v.inLRU && v.refs == 0
		if idle {
			s.removeOneLocked(v)
		}
		s.mu.Unlock()
		if idle {
			r.evict([]*object{v}, why)
			return true
		}
	}
}

// started records that o (whose turn the caller holds) has a new instance.
func (r *Registry) started(o *object) {
	r.nStarted.Add(1)
	now := time.Now()
	s := o.sh
	s.mu.Lock()
	o.lastUsed = now
	s.lru.pushFront(o)
	s.mu.Unlock()
}

// stopped records that o (whose turn the caller holds) lost its instance.
func (r *Registry) stopped(o *object) {
	s := o.sh
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.inLRU {
		s.lru.remove(o)
	}
}

// removeOneLocked drops one unreferenced live object of the part from the
// registry: nobody can reach it afterwards, so the caller owns its
// instance. One that holds sockets keeps its record (it hibernates: the
// caller closes its instance, and its next event starts a new one). The
// caller holds s.mu.
func (s *registryShard) removeOneLocked(o *object) {
	s.lru.remove(o)
	if !o.hasSockets() {
		delete(s.objects, objectKey{o.ns, o.id})
	}
}

// evict closes the instances of objects removed from the registry. One
// that holds sockets kept its record, so an event may reach it meanwhile:
// its instance is closed under its turn, and if an event holds the turn,
// the object is busy, not idle, and keeps its instance (run lists it
// again).
func (r *Registry) evict(os []*object, why string) {
	for _, o := range os {
		if o.ws.Load() != nil {
			if !o.tryAcquire() {
				continue
			}
			o.closeInstance(context.Background())
			o.release()
		} else {
			o.closeInstance(context.Background())
		}
		r.nEvicted.Add(1)
		o.log.Debug("object evicted", "why", why)
	}
}

// recycle closes the instances of ns's idle objects that run an earlier
// version than ns's current one, and reports how many it closed; a busy
// object switches when its request ends (run). An object with sockets
// keeps them, and hibernates.
func (r *Registry) recycle(ns *Namespace) int {
	var old []*object
	r.eachShard(func(s *registryShard) {
		for o := s.lru.back; o != nil; o = o.lruPrev {
			if o.ns == ns && o.refs == 0 {
				o.refs++ // keeps it in the registry while it is looked at
				old = append(old, o)
			}
		}
	})
	v, n := ns.version(), 0
	for _, o := range old {
		if o.tryAcquire() { // otherwise a request runs: it switches at its end
			if o.inst != nil && (o.ver != v || ns.removed.Load()) {
				o.closeInstance(context.Background())
				n++
			}
			o.release()
		}
		r.put(o, false)
	}
	return n
}

// relist puts o, which has an instance, back in the LRU list if an
// eviction took it out while a socket event or a request ran on it. The
// caller holds o's turn.
func (r *Registry) relist(o *object) {
	now := time.Now()
	s := o.sh
	s.mu.Lock()
	if !o.inLRU {
		o.lastUsed = now
		s.lru.pushFront(o)
	}
	s.mu.Unlock()
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

// maxIdlePerTick bounds the idle objects one sweep evicts.
const maxIdlePerTick = 1000

func (r *Registry) sweepOnce(now time.Time) {
	// Made before the locks: nothing is allocated while one is held.
	idle, trim := make([]*object, 0, maxIdlePerTick), make([]*object, 0, maxTrimsPerTick)
	r.eachShard(func(s *registryShard) {
		from := len(idle)
		for o := s.lru.back; o != nil && len(idle) < maxIdlePerTick; o = o.lruPrev {
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
		for _, o := range idle[from:] {
			s.removeOneLocked(o)
		}
	})
	r.evict(idle, "idle")
	// Spare instances no new object took for as long as an idle object
	// is kept go too (guest.TrimSpares).
	guest.TrimSpares(context.Background(), r.o.IdleTimeout)
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
