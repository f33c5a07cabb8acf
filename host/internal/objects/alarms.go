package objects

import (
	"container/heap"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/quota"
	"github.com/dohost/dohost/host/internal/reqid"
	"github.com/dohost/dohost/host/internal/store"
)

// Alarm retries, as on Cloudflare: a handler that fails is run again after
// Options.AlarmRetryDelay (2 s), then twice that, and so on, up to
// maxAlarmRetries times; then the alarm is dropped.
const maxAlarmRetries = 6

// Without a tenant's budget (NamespaceConfig.Tenant), at most
// defaultAlarmHandlers handlers run at once.
const defaultAlarmHandlers = 64

// alarmKey names an object across all namespaces: namespace ids are unique.
type alarmKey struct {
	ns [store.NamespaceIDLen]byte
	id ID
}

type alarmItem struct {
	key   alarmKey
	at    int64 // unix ms
	index int   // in the heap; -1 when not in it
}

// alarmHeap orders items by time.
type alarmHeap []*alarmItem

func (h alarmHeap) Len() int           { return len(h) }
func (h alarmHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h alarmHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *alarmHeap) Push(x any) {
	it := x.(*alarmItem)
	it.index = len(*h)
	*h = append(*h, it)
}
func (h *alarmHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	it.index = -1
	*h = old[:len(old)-1]
	return it
}

// alarmScheduler runs every object's alarm at its time. The database holds
// the alarms (store.Alarm); the scheduler holds the same set in memory,
// loaded at start and refreshed from the database after every commit that
// changed an object's alarm. An alarm is deleted only by the commit of a
// handler run that succeeded, so a crash in between runs it again at the
// next start: at least once.
type alarmScheduler struct {
	r     *Registry
	log   *slog.Logger
	wake  chan struct{} // capacity 1
	stop  chan struct{}
	done  chan struct{}
	slots *quota.Budget // running handlers, for namespaces without a tenant
	wg    sync.WaitGroup

	mu     sync.Mutex
	heap   alarmHeap               // guarded by mu
	byKey  map[alarmKey]*alarmItem // guarded by mu; items in the heap or firing
	firing map[alarmKey]bool       // guarded by mu
	// deferred are due items whose account (or the host) had no handler
	// slot free: they go back into the heap when a handler ends.
	deferred []*alarmItem          // guarded by mu
	rates    map[string]*alarmRate // guarded by mu: by account

	runs, failures atomic.Int64
}

// alarmRate is a token bucket of one account's alarm runs.
type alarmRate struct {
	tokens float64
	last   time.Time
}

func newAlarmScheduler(r *Registry) *alarmScheduler {
	return &alarmScheduler{
		r: r, log: r.o.Log,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		slots: quota.New("running alarms", "alarms", defaultAlarmHandlers),
		byKey: map[alarmKey]*alarmItem{}, firing: map[alarmKey]bool{}, rates: map[string]*alarmRate{},
	}
}

// start loads the stored alarms and starts the scheduling loop. Alarms
// whose time has passed (the host was down) fire at once.
func (s *alarmScheduler) start() error {
	as, err := s.r.o.Store.Alarms()
	if err != nil {
		return err
	}
	for _, a := range as {
		s.set(alarmKey{a.Namespace, a.Object}, a.At)
	}
	go s.loop()
	return nil
}

// loadNamespace schedules the stored alarms of the namespace key, which
// was registered after start (deployed, or deployed again after its
// removal): they were dropped, or never fired, while it was not.
func (s *alarmScheduler) loadNamespace(key [store.NamespaceIDLen]byte) error {
	as, err := s.r.o.Store.Alarms()
	if err != nil {
		return err
	}
	for _, a := range as {
		if a.Namespace == key {
			s.set(alarmKey{a.Namespace, a.Object}, a.At)
		}
	}
	return nil
}

// close stops scheduling and waits for running handlers.
func (s *alarmScheduler) close() {
	close(s.stop)
	<-s.done
	s.wg.Wait()
}

func (s *alarmScheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// set schedules key at at, replacing its earlier time.
func (s *alarmScheduler) set(key alarmKey, at int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if it := s.byKey[key]; it != nil {
		it.at = at
		if it.index >= 0 {
			heap.Fix(&s.heap, it.index)
		}
	} else {
		it := &alarmItem{key: key, at: at}
		s.byKey[key] = it
		if !s.firing[key] {
			heap.Push(&s.heap, it)
		}
	}
	s.poke()
}

// remove unschedules key.
func (s *alarmScheduler) remove(key alarmKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if it := s.byKey[key]; it != nil {
		if it.index >= 0 {
			heap.Remove(&s.heap, it.index)
		}
		delete(s.byKey, key)
	}
}

// reload refreshes o's alarm from the database, after a commit changed it.
func (s *alarmScheduler) reload(o *object) {
	key := alarmKey{o.ns.cfg.Key, o.id}
	txn := s.r.o.Store.NewTxn()
	a, ok, err := s.r.o.Store.GetAlarm(txn, key.ns, o.id)
	txn.Discard()
	switch {
	case err != nil:
		o.log.Error("read alarm", "err", err)
	case ok:
		s.set(key, a.At)
	default:
		s.remove(key)
	}
}

// pending reports the number of scheduled alarms.
func (s *alarmScheduler) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byKey)
}

// loop fires the due alarms, earliest first, each in a goroutine of its
// own, while its account has a handler slot (and the host one) and a run
// left in its rate: an account's alarms wait for its own slots and rate,
// never another's.
func (s *alarmScheduler) loop() {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var next *alarmItem
		wait := time.Hour
		if len(s.heap) > 0 {
			next = s.heap[0]
			wait = time.Until(time.UnixMilli(next.at))
		}
		if next != nil && wait <= 0 {
			heap.Pop(&s.heap)
			tenant := s.tenant(next.key)
			if delay := s.rateDelayLocked(tenant); delay > 0 {
				// Over the account's rate: later. The stored alarm keeps
				// its time; only its place in the schedule moves.
				next.at = time.Now().Add(delay).UnixMilli()
				heap.Push(&s.heap, next)
				s.mu.Unlock()
				continue
			}
			slots := s.slotsOf(tenant)
			if slots.Take(1) != nil {
				s.deferred = append(s.deferred, next)
				s.mu.Unlock()
				continue
			}
			s.firing[next.key] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go s.fire(next.key, next.at, slots)
			continue
		}
		s.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-s.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case <-s.stop:
			return
		}
	}
}

// tenant returns the budgets of the account key's namespace belongs to,
// or nil.
func (s *alarmScheduler) tenant(key alarmKey) *quota.Tenant {
	if ns := s.r.Namespace(key.ns); ns != nil {
		return ns.cfg.Tenant
	}
	return nil
}

// slotsOf returns the handler slots an alarm of tenant runs in.
func (s *alarmScheduler) slotsOf(t *quota.Tenant) quota.Pair {
	if t != nil {
		return t.Alarms
	}
	return quota.Pair{Host: s.slots}
}

// rateDelayLocked takes one run from the account's rate, or says how long
// until there is one. Without a tenant or a rate there is no delay.
func (s *alarmScheduler) rateDelayLocked(t *quota.Tenant) time.Duration {
	rate := float64(s.r.o.AlarmRate)
	if t == nil || rate <= 0 {
		return 0
	}
	now := time.Now()
	b := s.rates[t.Account]
	if b == nil {
		b = &alarmRate{tokens: rate, last: now}
		s.rates[t.Account] = b
	}
	b.tokens = min(rate, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// flushDeferredLocked puts the deferred items that are still scheduled
// back into the heap, to try again for a slot.
func (s *alarmScheduler) flushDeferredLocked() {
	for _, it := range s.deferred {
		if s.byKey[it.key] == it && it.index < 0 && !s.firing[it.key] {
			heap.Push(&s.heap, it)
		}
	}
	s.deferred = s.deferred[:0]
}

// fire runs the alarm of key due at at, holding its object's turn, and on
// failure schedules the retry.
func (s *alarmScheduler) fire(key alarmKey, at int64, slots quota.Pair) {
	defer s.wg.Done()
	defer func() {
		slots.Give(1)
		s.mu.Lock()
		delete(s.firing, key)
		s.flushDeferredLocked()
		// A set while firing left the item out of the heap: put it back.
		if cur := s.byKey[key]; cur != nil && cur.index < 0 {
			heap.Push(&s.heap, cur)
		}
		s.mu.Unlock()
		s.poke()
	}()
	ns := s.r.Namespace(key.ns)
	if ns == nil {
		// The class is not deployed now; the alarm stays in the database
		// for a later start that has it.
		s.remove(key)
		return
	}
	// A run has an id, as a request has: the guest's lines and the host's
	// about the same run carry it.
	id := reqid.New()
	ctx := reqid.With(context.Background(), id)
	r := s.r
	if !r.o.Load.Enter() {
		return // shutting down: the stored alarm fires at the next start
	}
	defer r.o.Load.Exit()
	o := r.get(ns, key.id)
	used := false
	defer func() { r.put(o, used) }()
	if _, err := o.acquire(ctx, time.Now().Add(time.Minute)); err != nil {
		// The object's queue is full: try again in a second. The stored
		// alarm is unchanged; only its place in the schedule moves.
		o.log.Warn("alarm postponed: the object is busy", "request_id", id, "err", err)
		s.mu.Lock()
		if it := s.byKey[key]; it != nil {
			it.at = time.Now().Add(time.Second).UnixMilli()
		}
		s.mu.Unlock()
		return
	}
	defer o.release()
	used = true
	st := r.o.Store
	check := st.NewTxn()
	a, ok, err := st.GetAlarm(check, ns.cfg.Key, o.id)
	check.Discard()
	if err != nil || !ok || a.At != at {
		s.reload(o) // changed while it waited
		return
	}
	info := abi.AppendAlarmInfo(nil, &abi.AlarmInfo{RetryCount: a.Retries})
	r.o.Load.Begin(ns.version().Module.CPU())
	defer r.o.Load.End(ns.version().Module.CPU())
	r.o.Load.AwaitShare(ns.version().Module.CPU())
	_, err = o.run(ctx, guest.Alarm, info, func(c *guest.Call) error {
		// Done: delete the alarm, unless the handler set (or deleted) it
		// itself: then what it left stands, even the same time again.
		if c.AlarmSet() {
			return nil
		}
		cur, ok, err := st.GetAlarm(c.Txn, ns.cfg.Key, o.id)
		if err != nil || !ok || cur.At != a.At || cur.Retries != a.Retries {
			return err
		}
		c.AlarmChanged = true
		return st.DeleteAlarm(c.Txn, ns.cfg.Key, o.id)
	})
	s.runs.Add(1)
	if err == nil {
		return
	}
	s.failures.Add(1)
	txn := st.NewTxn()
	defer txn.Discard()
	cur, ok, gerr := st.GetAlarm(txn, ns.cfg.Key, o.id)
	if gerr != nil || !ok || cur.At != a.At || cur.Retries != a.Retries {
		s.reload(o) // the handler set another alarm: that one stands
		return
	}
	if a.Retries >= maxAlarmRetries {
		o.log.Error("alarm dropped: its handler failed too often", "request_id", id, "runs", a.Retries+1, "err", err)
		_ = st.DeleteAlarm(txn, ns.cfg.Key, o.id)
	} else {
		delay := r.o.AlarmRetryDelay << a.Retries
		o.log.Warn("alarm handler failed; retrying", "request_id", id, "in", delay, "retry", a.Retries+1, "err", err)
		_ = st.SetAlarm(txn, store.Alarm{Namespace: ns.cfg.Key, Object: o.id, At: time.Now().Add(delay).UnixMilli(), Retries: a.Retries + 1})
	}
	if err := txn.Commit(); err != nil {
		o.log.Error("alarm retry: commit failed", "request_id", id, "err", err)
	}
	s.reload(o)
}
