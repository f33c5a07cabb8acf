package objects

import (
	"log/slog"

	"github.com/dohost/dohost/abi"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/mono"
	"github.com/dohost/dohost/host/internal/sockets"
	"github.com/dohost/dohost/host/internal/store"
)

// Options configure a Registry.
type Options struct {
	Store *store.Store
	// Load is the server's count of work in flight; alarm runs count in it.
	Load *guest.Load
	Log  *slog.Logger
	// IdleTimeout evicts an object idle for this long; TrimAfter trims
	// one idle for this long (Instance.Trim).
	IdleTimeout, TrimAfter time.Duration
	// AlarmRetryDelay is the wait before the first retry of a failed alarm
	// handler; each later retry waits twice as long.
	AlarmRetryDelay time.Duration
	// AlarmRate caps the alarm runs of one account a second (in bursts of
	// as many); 0 is no cap.
	AlarmRate int
	// Sockets holds the host's WebSockets; nil: objects cannot accept any.
	Sockets *sockets.Host
	// Observer, if set, hears of every handler run and instance start,
	// for metrics.
	Observer Observer
	// BeforeBatch, if set, runs before an object takes a batch of
	// events of kind to run (batch.go): tests hold the first batch back
	// with it while more events arrive.
	BeforeBatch func(kind guest.Kind)
	// BatchTime is how long a batch of events runs before it takes no
	// new one (batch.go); zero means 2 ms.
	BatchTime time.Duration
}

// Observer receives what a registry's objects do, for metrics. Its
// methods are called on the request path: they must be cheap and safe for
// concurrent use. class is the namespace's NamespaceConfig.Label.
type Observer interface {
	// Handled: one handler run ended, with the code its caller got (OK
	// when it succeeded) and, if it trapped, why (guest.TrapCause), d
	// after it had the object's turn (a start included).
	Handled(class, handler string, code abi.Code, trap string, d time.Duration)
	// Started: an instance was created and its constructor ran, in d.
	Started(class string, d time.Duration)
}

// Stats are counters of a Registry's objects.
type Stats struct {
	Started int64 // instances created (constructor run)
	Live    int64 // instances alive now
	Failed  int64 // instances replaced after a trap or timeout
	Evicted int64 // instances closed because they were idle or over the cap
	Trimmed int64 // idle instances trimmed
	Records int64 // objects with a record now: live, referenced, or holding sockets
	// Hibernating are objects with WebSockets open and no instance.
	Hibernating int64
	// Alarm handler runs, the runs that failed, and the alarms scheduled.
	AlarmsRun, AlarmsFailed, AlarmsPending int64
	// Waiting are requests and events waiting for an object's turn.
	Waiting int64
}

// Registry holds the objects of every namespace of a server, and keeps the
// number of live instances bounded. It is safe for concurrent use.
//
// An object's record exists while someone holds a reference (get … put)
// or while it has a live instance. Live objects are kept in
// least-recently-used order; when one has been idle for IdleTimeout, or a
// new object needs its place under its account's or the host's cap of
// live objects (NamespaceConfig.Tenant), the least recently used idle
// ones are evicted: their instance is closed and their record dropped. Their
// storage stays; the next request starts them again. An object with
// references is never evicted, so a record is never duplicated: one ID,
// one instance.
type Registry struct {
	o         Options
	placement Placement
	alarms    *alarmScheduler

	nsMu       sync.RWMutex
	namespaces map[[store.NamespaceIDLen]byte]*Namespace // guarded by nsMu: registered, by stable id
	removedNS  map[[store.NamespaceIDLen]byte]*Namespace // guarded by nsMu: removed (Namespace.Remove), by stable id

	// The records, in registryShards parts by ID (shardOf), each with
	// its own lock and LRU list: a request takes and drops its object's
	// reference under one part's lock, so that one tenant starting
	// objects by the thousand (each start takes a lock several times)
	// does not queue every other tenant's requests behind one lock.
	shards [registryShards]registryShard

	graphMu sync.Mutex // guards every object's waitingOn

	nStarted, nFailed, nEvicted, nTrimmed atomic.Int64

	stop    chan struct{}
	done    chan struct{}
	running atomic.Bool // Start ran; Close not yet
}

type objectKey struct {
	ns *Namespace
	id ID
}

// registryShards is how many parts the registry's records are kept in.
const registryShards = 32

// registryShard is one part of the registry: the records of the objects
// whose IDs fall in it, and the live ones among them in least recently
// used order. Eviction takes the least recently used of all parts
// (evictLRU).
type registryShard struct {
	mu      sync.Mutex
	objects map[objectKey]*object // guarded by mu
	lru     lru                   // guarded by mu: live objects, most recently used first
	// waiting counts the part's objects' requests and events waiting for
	// a turn or running one: a count for the whole registry, written by
	// every request on whichever core, cost each a wait for its cache
	// line.
	waiting atomic.Int64
	_       [64]byte // keeps the parts' locks off each other's cache lines
}

// eachShard runs fn on every part of the registry in turn, holding the
// part's lock while fn runs (one at a time: never two at once).
func (r *Registry) eachShard(fn func(s *registryShard)) {
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		fn(s)
		s.mu.Unlock()
	}
}

// shardOf returns the part of the registry that holds id's record. IDs
// are HMACs or random bytes: any byte spreads them evenly (the first
// holds the unique-ID bit).
func (r *Registry) shardOf(id ID) *registryShard { return &r.shards[int(id[1])%registryShards] }

// New returns a Registry with no namespaces. Add them, then Start it.
func New(o Options) *Registry {
	if o.Load == nil {
		o.Load = guest.NewLoad()
	}
	if o.BatchTime == 0 {
		o.BatchTime = 2 * time.Millisecond
	}
	r := &Registry{
		o:          o,
		namespaces: map[[store.NamespaceIDLen]byte]*Namespace{},
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	for i := range r.shards {
		r.shards[i].objects = map[objectKey]*object{}
	}
	r.placement = r
	r.alarms = newAlarmScheduler(r)
	return r
}

// Start loads the stored alarms, which begin to fire (those past due at
// once), and starts the sweeper that trims and evicts idle objects.
func (r *Registry) Start() error {
	if err := r.alarms.start(); err != nil {
		return err
	}
	r.running.Store(true)
	go r.sweep()
	return nil
}

// Close stops the alarms, waiting for the handlers that run, and the
// sweeper. Instances are closed with their modules.
func (r *Registry) Close() {
	if !r.running.Load() {
		return
	}
	r.running.Store(false)
	r.alarms.close()
	close(r.stop)
	<-r.done
}

// Stats returns the registry's counters.
func (r *Registry) Stats() Stats {
	live, records, hibernating, waiting := 0, 0, 0, int64(0)
	r.eachShard(func(s *registryShard) {
		waiting += s.waiting.Load()
		live += s.lru.n
		records += len(s.objects)
		if len(s.objects) > s.lru.n {
			for _, o := range s.objects {
				if !o.inLRU && o.ws.Load() != nil {
					hibernating++
				}
			}
		}
	})
	return Stats{
		Started: r.nStarted.Load(), Live: int64(live), Failed: r.nFailed.Load(),
		Evicted: r.nEvicted.Load(), Trimmed: r.nTrimmed.Load(), Records: int64(records),
		Hibernating: int64(hibernating),
		AlarmsRun:   r.alarms.runs.Load(), AlarmsFailed: r.alarms.failures.Load(),
		AlarmsPending: int64(r.alarms.pending()),
		Waiting:       waiting,
	}
}

// get returns the object id of ns, creating its record (not its instance),
// and takes a reference to it: the caller must put it back.
//
// A new record is made outside the lock: making it allocates, and an
// allocation may have to help the garbage collector for a while, which
// must not happen while every other request waits for the lock.
func (r *Registry) get(ns *Namespace, id ID) *object {
	k, s := objectKey{ns, id}, r.shardOf(id)
	s.mu.Lock()
	if o := s.objects[k]; o != nil {
		o.refs++
		s.mu.Unlock()
		return o
	}
	s.mu.Unlock()
	n := newObject(r, ns, id)
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objects[k]
	if o == nil {
		o = n
		s.objects[k] = o
	}
	o.refs++
	return o
}

// put drops a reference taken by get. used says whether the reference ran
// a handler, which makes the object the most recently used.
func (r *Registry) put(o *object, used bool) {
	var now time.Time
	if used {
		now = mono.Now() // read before the lock: a clock reading is not free
	}
	s := o.sh
	s.mu.Lock()
	defer s.mu.Unlock()
	o.refs--
	switch {
	case o.inLRU:
		if used {
			o.lastUsed = now
			s.lru.moveToFront(o)
		}
	case o.refs == 0 && !o.hasSockets():
		delete(s.objects, objectKey{o.ns, o.id})
	}
}
