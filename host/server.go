// Package host runs Durable Objects compiled to WebAssembly.
//
// A Server loads one or more workers, each described by a wrangler.toml
// whose main is a guest .wasm built against the dohost ABI (abi/ABI.md), and
// serves HTTP: each request runs the worker's fetch handler in a pooled
// instance, which routes it by name to a Durable Object; each object has
// exactly one live module instance, runs one request at a time and reaches
// its KV namespaces and storage through host calls. All state lives in one
// Pebble database under the data directory, and a request's writes are
// synced before its response leaves.
//
//	srv, err := host.New(ctx, host.Options{Configs: []string{"wrangler.toml"}, DataDir: ".dohost"})
//	if err != nil { … }
//	defer srv.Close(ctx)
//	http.ListenAndServe("127.0.0.1:8787", srv)
//
// # Layout
//
// A request moves down this list and back: the HTTP front (front.go) picks
// the worker by its routes (routes.go) and runs its fetch handler in a
// pooled instance; a stub call from the guest reaches package objects,
// which finds the object and runs its handler; package guest runs the
// WebAssembly and its host functions; package store keeps everything in
// Pebble. A worker (worker.go) ties one config to its compiled module, its
// bindings and its namespaces.
package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dohost/dohost/host/internal/config"
	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/lograte"
	"github.com/dohost/dohost/host/internal/objects"
	"github.com/dohost/dohost/host/internal/quota"
	"github.com/dohost/dohost/host/internal/sockets"
	"github.com/dohost/dohost/host/internal/store"
)

// Options configure a Server.
type Options struct {
	// Configs are the wrangler.toml files of the workers to serve. A
	// directory stands for every *.toml in it and every */wrangler.toml
	// below it. Each worker serves the requests its routes match; one
	// worker without routes serves the rest. With none, the host serves
	// the workers deployed to its data directory through Deploy, if any,
	// and answers 404 until one is.
	Configs []string
	// DataDir holds the database and the compilation cache. It is created
	// if missing, and one Server at a time may use it.
	DataDir string
	// CacheDir holds the compilation cache; empty means
	// DataDir/wazero-cache. Compiled code there makes restarts fast.
	CacheDir string
	// Logger receives the host's and the guests' log lines; nil means
	// slog.Default().
	Logger *slog.Logger
	// MaxLiveObjects caps the objects with a live instance; past it the
	// least recently used idle ones are evicted (their storage stays, and
	// their next request starts them again). Zero means 10,000.
	MaxLiveObjects int
	// IdleTimeout evicts an object that has had no request for this long,
	// and closes a Worker instance idle this long (each worker keeps one).
	// Zero means 70 s.
	IdleTimeout time.Duration
	// TrimAfter is how long an object, or a Worker instance, is idle
	// before the memory pages its instance only read from the snapshot
	// are unmapped. Zero means 10 s.
	TrimAfter time.Duration
	// AlarmRetryDelay is the wait before the first retry of a failed alarm
	// handler; each later retry waits twice as long. Zero means 2 s, as on
	// Cloudflare.
	AlarmRetryDelay time.Duration
	// Limits bound what all tenants together, and each account, may use
	// of the host; zero fields take DefaultLimits.
	Limits Limits
	// BodyTimeout is how long a request's body may take to arrive once
	// its headers have; zero means 60 s. A client that trickles a body
	// holds nothing longer.
	BodyTimeout time.Duration
	// RefusalPause is how long a request refused for load (503: every
	// Worker instance busy, an object's queue full, a budget spent) waits
	// for its answer, holding nothing but its connection, so that clients
	// that retry at once cannot make refusals a flood; zero means 100 ms,
	// a negative pause answers at once.
	RefusalPause time.Duration
	// WebSocketMessageTimeout is how long the rest of a WebSocket message
	// (or control frame, its header included) may take to arrive once it
	// has begun; zero means 30 s. A client that stops in the middle of one
	// is closed with 1008: the message holds a place in its object's and
	// its account's budgets while it is read, and a reader goroutine.
	WebSocketMessageTimeout time.Duration

	// Accounts, if set, grants each account to the config files that may
	// claim it (account → patterns of absolute paths, as filepath.Match
	// spells them): a config whose account_id is not granted to its file
	// is refused. Set it when tenants write their own configs.
	Accounts map[string][]string

	// StartupTimeout caps the time a module's initialization (its
	// _initialize) may take, within its cpu_ms; zero means 10 s.
	StartupTimeout time.Duration

	// Secrets are secrets of workers beside those stored in the data
	// directory (dohost secret put): "account/worker" → name → value
	// (account "default" for a config without account_id). They are not
	// stored, and a stored secret of the same name gives way to them.
	Secrets map[string]map[string]string

	// AccessLog logs a line per request at info level: its request id,
	// worker, method, path, status, duration and client address.
	AccessLog bool

	// JSRuntime is the module of dohost's JavaScript runtime
	// (guests/js/runtime), which runs the workers whose main is a .js or
	// .ts file; empty means DefaultJSRuntime().
	JSRuntime string

	freeSpace store.FreeSpaceFunc // tests: a disk that fills up
	readFault func() error        // tests: a disk whose reads fail
	// beforeBatch, in tests, runs before an object takes a batch of
	// events to run (objects.Options).
	beforeBatch func(guest.Kind)
	batchTime   time.Duration // tests: objects.Options.BatchTime
	// onRefusalPause, in tests, runs when a refused request begins its
	// pause, what it held already given back.
	onRefusalPause func()
}

// Server serves the workers of its Options over HTTP. It is safe for
// concurrent use.
type Server struct {
	opts    Options
	log     *slog.Logger
	lock    *os.File // the data directory's lock
	store   *store.Store
	cache   *guest.Cache
	load    *guest.Load
	quota   *quota.Host
	objects *objects.Registry
	sockets *sockets.Host
	metrics *promMetrics

	accountLogs accountLogs // the log lines about each account (workerLog)

	dep      atomic.Pointer[deployment] // what the host serves
	deployMu sync.Mutex                 // one deploy at a time
	closed   atomic.Bool                // Close began: no more deploys

	stopDisk, diskDone chan struct{} // watchDisk

	stopping  atomic.Bool // SetStopping: /readyz answers 503
	closeOnce sync.Once
}

// New loads and checks every config and module, opens the database and
// compiles the modules. Every config problem is reported at once.
func New(ctx context.Context, o Options) (_ *Server, err error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxLiveObjects == 0 {
		o.MaxLiveObjects = 10_000
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 70 * time.Second
	}
	if o.TrimAfter == 0 {
		o.TrimAfter = 10 * time.Second
	}
	if o.AlarmRetryDelay == 0 {
		o.AlarmRetryDelay = 2 * time.Second
	}
	if o.BodyTimeout == 0 {
		o.BodyTimeout = 60 * time.Second
	}
	if o.RefusalPause == 0 {
		o.RefusalPause = 100 * time.Millisecond
	}
	if o.WebSocketMessageTimeout == 0 {
		o.WebSocketMessageTimeout = sockets.DefaultLimits.MessageTimeout
	}
	if o.StartupTimeout == 0 {
		o.StartupTimeout = 10 * time.Second
	}
	if o.DataDir == "" {
		return nil, errors.New("no data directory given")
	}
	var cfgs []*config.Config
	if len(o.Configs) > 0 {
		if cfgs, err = config.LoadAll(o.Configs); err != nil {
			return nil, err
		}
	}
	if err := checkAccounts(cfgs, o.Accounts); err != nil {
		return nil, err
	}
	for _, c := range cfgs {
		for _, w := range c.Warnings {
			o.Logger.Warn(w.String())
		}
	}
	if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	o.Limits = o.Limits.withDefaults(DefaultLimits(0, o.MaxLiveObjects))
	if o.Limits.AccountDisk == 0 {
		o.Limits.AccountDisk = defaultAccountDisk(o.DataDir)
	}
	s := &Server{opts: o, log: o.Logger, load: guest.NewLoad(), quota: quota.NewHost(o.Limits.quotaLimits(o.MaxLiveObjects))}
	s.metrics = newMetrics(s)
	defer func() {
		if err != nil {
			_ = s.Close(ctx)
		}
	}()
	if s.lock, err = lockDataDir(o.DataDir); err != nil {
		return nil, err
	}
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(o.DataDir, "wazero-cache")
	}
	if s.cache, err = guest.NewCache(o.CacheDir); err != nil {
		return nil, err
	}
	if s.store, err = store.Open(filepath.Join(o.DataDir, "db"), store.Options{Logger: o.Logger, Reserve: o.Limits.DiskReserve, CacheSize: o.Limits.StoreCache, FreeSpace: o.freeSpace, OnCommit: s.metrics.committed, ReadFault: o.readFault}); err != nil {
		return nil, err
	}
	maxSockets, accounts := o.Limits.WebSockets, map[string]bool{}
	for _, c := range cfgs {
		if n := c.Host.MaxWebSockets; n > 0 && n < maxSockets {
			maxSockets = n
		}
		accounts[c.AccountID] = true
	}
	// One account of several may hold half the host's sockets; a host of
	// one account gives it all.
	maxAccount := maxSockets
	if len(accounts) > 1 {
		maxAccount = maxSockets / 2
	}
	s.sockets = sockets.NewHost(maxSockets, maxAccount, o.Limits.WebSocketBuffers, o.Logger)
	s.objects = objects.New(objects.Options{
		Store: s.store, Load: s.load, Log: o.Logger, Sockets: s.sockets, Observer: s.metrics,
		IdleTimeout: o.IdleTimeout, TrimAfter: o.TrimAfter,
		AlarmRetryDelay: o.AlarmRetryDelay, AlarmRate: o.Limits.AccountAlarmRate,
		BeforeBatch: o.beforeBatch, BatchTime: o.batchTime,
	})
	s.quota.SetMemoryReclaimer(s.objects.ReclaimMemory)
	specs, err := s.startupSpecs(cfgs)
	if err != nil {
		return nil, err
	}
	dep := &deployment{}
	if len(specs) > 0 {
		if dep.workers, err = s.loadWorkers(ctx, specs); err != nil {
			return nil, err
		}
	}
	if dep.routes, err = buildRoutes(dep.workers); err != nil {
		for _, w := range dep.workers {
			w.close(ctx)
		}
		return nil, err
	}
	if err := s.recordStartup(dep.workers, specs); err != nil {
		for _, w := range dep.workers {
			w.close(ctx)
		}
		return nil, err
	}
	for _, w := range dep.workers {
		w.activateNamespaces()
	}
	s.dep.Store(dep)
	if err := s.objects.Start(); err != nil {
		return nil, err
	}
	s.stopDisk, s.diskDone = make(chan struct{}), make(chan struct{})
	go s.watchDisk(s.stopDisk, s.diskDone)
	return s, nil
}

// Close shuts the server down: it stops every guest call still running
// (each traps at its next fuel slice or host call, and waits for a turn or
// a Worker instance end) and waits for them to return, or for ctx to be
// done; then it stops the alarms, releases every instance and closes the
// database and the data directory. Call it once HTTP requests have been
// drained (http.Server.Shutdown) or given up on. If some call does not
// return before ctx is done, nothing it could still touch is closed —
// instance memory, the database — and Close says so: the process should
// exit.
func (s *Server) Close(ctx context.Context) error {
	var err error
	s.closeOnce.Do(func() {
		s.deployMu.Lock()
		s.closed.Store(true)
		s.deployMu.Unlock()
		if s.sockets != nil {
			// Clients hear the host is restarting (1012) and reconnect.
			s.sockets.CloseAll(websocketRestart, "service restart", time.Second)
			defer s.sockets.Close()
		}
		if n := s.load.Stop(ctx); n > 0 {
			err = fmt.Errorf("close: %d guest calls did not return; their instances and the database were left open", n)
			return
		}
		if s.stopDisk != nil {
			close(s.stopDisk)
			<-s.diskDone
		}
		if s.objects != nil {
			s.objects.Close()
		}
		if d := s.dep.Load(); d != nil {
			for _, w := range d.workers {
				w.retire()
			}
		}
		if s.store != nil {
			err = s.store.Close()
		}
		s.cache.Close(ctx)
		if s.lock != nil {
			_ = s.lock.Close()
		}
	})
	return err
}

// Stats are counters of a Server's activity since it started.
type Stats struct {
	ObjectsStarted     int64 // object instances created (constructor run)
	ObjectsLive        int64 // object instances alive now
	ObjectsFailed      int64 // object instances replaced after a trap or timeout
	ObjectsEvicted     int64 // object instances closed because they were idle or over the cap
	ObjectsTrimmed     int64 // idle object instances trimmed (shared pages and call stacks released)
	WorkerInstances    int64 // Worker instances created
	WorkerIdle         int64 // Worker instances idle in their pools now
	WorkerRetired      int64 // Worker instances closed for being idle (IdleTimeout)
	WorkerTrimmed      int64 // idle Worker instances trimmed (TrimAfter)
	AlarmsRun          int64 // alarm handler runs
	AlarmsFailed       int64 // alarm handler runs that failed (and were retried or dropped)
	AlarmsPending      int64 // alarms scheduled now
	WorkersFailed      int64 // workers that did not load (their routes answer 503)
	ObjectsHibernating int64 // objects with WebSockets open and no instance
	ObjectsWaiting     int64 // requests and events waiting for an object's turn
	WorkerWaiting      int64 // requests waiting for a Worker instance
	// InstancesRecycled counts instances (of objects and Workers) made by
	// reviving a closed one, in this process (every Server in it).
	InstancesRecycled int64
	// LogLinesDropped counts the log lines about accounts and from guests
	// held back over their rates (AccountLogRate, guest.LogRate), in this
	// process (every Server in it).
	LogLinesDropped int64

	// WebSockets counts the host's WebSockets.
	WebSockets sockets.Stats

	// Engine is the storage engine's work since the store opened: what its
	// flushes and compactions wrote for what was written to its log is its
	// write amplification.
	Engine store.EngineStats
}

// websocketRestart is the close code of sockets closed by a shutdown:
// 1012, service restart.
const websocketRestart = 1012

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	o := s.objects.Stats()
	st := Stats{
		ObjectsStarted: o.Started, ObjectsLive: o.Live, ObjectsFailed: o.Failed,
		ObjectsEvicted: o.Evicted, ObjectsTrimmed: o.Trimmed,
		AlarmsRun: o.AlarmsRun, AlarmsFailed: o.AlarmsFailed, AlarmsPending: o.AlarmsPending,
		ObjectsHibernating: o.Hibernating, ObjectsWaiting: o.Waiting, WebSockets: s.sockets.Stats(),
		InstancesRecycled: guest.Recycled(), LogLinesDropped: lograte.Dropped(), Engine: s.store.Engine(),
	}
	for _, w := range s.workers() {
		if w.pool != nil {
			st.WorkerInstances += w.pool.Created()
			st.WorkerIdle += int64(w.pool.Idle())
			st.WorkerRetired += w.pool.Retired()
			st.WorkerTrimmed += w.pool.Trimmed()
			st.WorkerWaiting += w.pool.Waiting()
		} else {
			st.WorkersFailed++
		}
	}
	return st
}
