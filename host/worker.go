package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/config"
	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/lograte"
	"github.com/dohost/dohost/host/internal/objects"
	"github.com/dohost/dohost/host/internal/quota"
	"github.com/dohost/dohost/host/internal/sockets"
	"github.com/dohost/dohost/host/internal/store"
)

// worker is one version of a deployed worker: its config, its compiled
// module, the bindings its guests reach, its Durable Object namespaces
// and the pool of instances that run its fetch handler. A deploy replaces
// it with a new worker; the old one is closed when its last request ends
// (acquire, release, retire).
type worker struct {
	cfg        *config.Config
	version    int // its version in the deploy records; 0 if none
	log        *slog.Logger
	module     *guest.Module
	env        *guest.Env
	pool       *guest.Pool
	namespaces map[string]*objects.Namespace // by binding
	classes    []string                      // what the module says it implements
	tenant     *quota.Tenant                 // its account's budgets
	// loadErr is why the worker did not load, when others did: its routes
	// answer 503 while the host serves the rest.
	loadErr error

	// activate makes the worker's namespaces run it: existing ones (of an
	// earlier version) are updated, new ones registered. A deploy calls
	// it once the worker is checked and recorded.
	activate []func()

	refused lograte.Every // "every Worker instance is busy": a line per refusalLogEvery
	noBody  lograte.Every // "bodies fill their memory budget": the same

	refs      atomic.Int64 // requests running on it
	retired   atomic.Bool  // replaced: its last request closes it
	closeOnce sync.Once
}

// workerSpec is what a worker is made from: its config and its module.
type workerSpec struct {
	cfg  *config.Config
	wasm []byte
	// raw is the config's text, for the deploy record.
	raw []byte
	// version is the recorded version the spec is, if any.
	version int
}

// newWorker compiles the worker's module, resolves its bindings and
// prepares its namespaces, and checks, with a first instance, that the
// module implements every class the config binds. Nothing the host serves
// changes until the worker's activate functions run.
func (s *Server) newWorker(ctx context.Context, spec workerSpec) (_ *worker, err error) {
	cfg := spec.cfg
	w := &worker{
		cfg:        cfg,
		version:    spec.version,
		log:        s.workerLog(cfg.AccountID, cfg.Name),
		env:        &guest.Env{KV: map[string]*store.KV{}, Namespaces: map[string]guest.Namespace{}},
		namespaces: map[string]*objects.Namespace{},
		tenant:     s.quota.Tenant(cfg.AccountID),
	}
	defer func() {
		if err != nil {
			w.close(ctx)
			err = fmt.Errorf("worker %q (%s): %w", cfg.Name, cfg.File, err)
		}
	}()
	vars, err := s.workerVars(cfg)
	if err != nil {
		return nil, err
	}
	w.module, err = guest.Compile(ctx, spec.wasm, guest.Options{
		Vars: vars,
		Path: cfg.Main, Cache: s.cache, Log: w.log, Load: s.load,
		Limits: guest.Limits{
			MemoryPages: uint32(cfg.Limits.Memory >> 16), CPU: cfg.Limits.CPU,
			RequestBody: cfg.Limits.RequestBody, ResponseBody: cfg.Limits.ResponseBody,
			Writes: cfg.Limits.Writes, Startup: s.opts.StartupTimeout,
		},
		Tenant: w.tenant,
	})
	if err != nil {
		return nil, err
	}
	for _, b := range cfg.KVNamespaces {
		w.env.KV[b.Binding] = s.store.KV(cfg.AccountID, b.ID)
	}
	w.pool = guest.NewPool(w.module, guest.PoolOptions{
		Size: cfg.Host.WorkerInstances, MaxWait: cfg.Limits.Queue,
		IdleFor: s.opts.IdleTimeout, TrimAfter: s.opts.TrimAfter,
	}, w.log)

	// A first Worker instance proves the module instantiates and says which
	// classes it implements; it then serves as the pool's first member.
	inst, err := w.pool.New(ctx)
	if err != nil {
		return nil, err
	}
	if err := w.checkClasses(ctx, s.store, inst); err != nil {
		inst.Close(ctx)
		return nil, err
	}
	w.pool.Put(ctx, inst)

	// Only a module that passed its checks migrates stored namespaces.
	applied, _, err := s.store.Migrate(cfg.AccountID, cfg.Name, storeMigrations(cfg.Migrations))
	if err != nil {
		return nil, err
	}
	for _, m := range applied {
		w.log.Info("migration applied", "tag", m.Tag, "new", m.New, "renamed", m.Renamed, "deleted", m.Deleted, "transferred", m.Transferred)
	}
	limits := objects.Limits{
		Queue:   cfg.Limits.Queue,
		Storage: store.ObjectLimits{MaxKey: cfg.Limits.StorageKey, MaxValue: cfg.Limits.StorageValue},
		Sockets: sockets.Limits{MessageBytes: cfg.Limits.WebSocketMessage, PerObject: cfg.Limits.WebSocketsPerObject,
			MessageTimeout: s.opts.WebSocketMessageTimeout},
	}
	byClass := map[string]*objects.Namespace{}
	for _, b := range cfg.DurableObjects {
		ns := byClass[b.ClassName]
		if ns == nil {
			key, err := s.store.NamespaceID(cfg.AccountID, cfg.Name, b.ClassName)
			if err != nil {
				return nil, err
			}
			v := objects.Version{Class: b.ClassName, Module: w.module, Env: w.env, Limits: limits}
			if ns = s.objects.Known(key); ns != nil {
				// A namespace of an earlier version: its objects switch.
				w.activate = append(w.activate, func() {
					if n := ns.Update(v); n > 0 {
						w.log.Info("idle objects switched to the new version", "class", b.ClassName, "objects", n)
					}
				})
			} else {
				ns = s.objects.NewNamespace(objects.NamespaceConfig{
					Account: cfg.AccountID, Class: b.ClassName, Binding: b.Name, Key: key,
					Module: w.module, Env: w.env, Log: w.log, Tenant: w.tenant,
					Label: cfg.AccountID + "/" + cfg.Name + "/" + b.ClassName, Limits: limits,
				})
				w.activate = append(w.activate, func() { s.objects.Register(ns) })
			}
			byClass[b.ClassName] = ns
		}
		w.namespaces[b.Name] = ns
		w.env.Namespaces[b.Name] = ns
	}
	return w, nil
}

// workerVars returns a worker's vars and secrets (stored, and from
// Options.Secrets), refusing a secret named as a var or a binding.
func (s *Server) workerVars(cfg *config.Config) (map[string][]byte, error) {
	secrets, err := s.store.Secrets(cfg.AccountID, cfg.Name)
	if err != nil {
		return nil, err
	}
	for name, v := range s.opts.Secrets[cfg.AccountID+"/"+cfg.Name] {
		secrets[name] = []byte(v)
	}
	vars := make(map[string][]byte, len(cfg.Vars)+len(secrets))
	for n, v := range cfg.Vars {
		vars[n] = v
	}
	bound := cfg.Bindings()
	var errs []error
	for n, v := range secrets {
		switch _, isVar := cfg.Vars[n]; {
		case isVar:
			errs = append(errs, fmt.Errorf("secret %s has the name of a var in [vars]", n))
		case bound[n]:
			errs = append(errs, fmt.Errorf("secret %s has the name of a binding", n))
		default:
			vars[n] = v
		}
	}
	return vars, errors.Join(errs...)
}

// storeMigrations converts a config's migrations for the store.
func storeMigrations(ms []config.Migration) []store.Migration {
	out := make([]store.Migration, len(ms))
	for i, m := range ms {
		sm := store.Migration{Tag: m.Tag, New: m.NewClasses, Deleted: m.DeletedClasses}
		for _, r := range m.RenamedClasses {
			sm.Renamed = append(sm.Renamed, store.ClassMove{From: r.From, To: r.To})
		}
		for _, t := range m.TransferredClasses {
			sm.Transferred = append(sm.Transferred, store.ClassMove{From: t.From, FromScript: t.FromScript, To: t.To})
		}
		out[i] = sm
	}
	return out
}

// activateNamespaces makes w's namespaces run it (activate), once.
func (w *worker) activateNamespaces() {
	for _, f := range w.activate {
		f()
	}
	w.activate = nil
}

// acquire takes a reference to w for a request, unless w was replaced
// (then the caller looks again).
func (w *worker) acquire() bool {
	w.refs.Add(1)
	if w.retired.Load() {
		w.release()
		return false
	}
	return true
}

// release drops a reference acquire took; the last one of a replaced
// worker closes it.
func (w *worker) release() {
	if w.refs.Add(-1) == 0 && w.retired.Load() {
		w.closeOnce.Do(func() { w.close(context.Background()) })
	}
}

// retire marks w replaced: it is closed now if no request runs on it,
// else when the last one ends. Objects still running its module keep it
// open until they switch (guest.Module counts its instances).
func (w *worker) retire() {
	w.retired.Store(true)
	if w.refs.Load() == 0 {
		w.closeOnce.Do(func() { w.close(context.Background()) })
	}
}

// checkClasses asks the module for its classes and checks that every
// Durable Object binding names one of them.
func (w *worker) checkClasses(ctx context.Context, st *store.Store, inst *guest.Instance) error {
	if len(w.cfg.DurableObjects) == 0 {
		return nil
	}
	if err := w.module.CheckClasses(); err != nil {
		return err
	}
	c := &guest.Call{Kind: guest.Classes, Txn: st.NewTxn(), Env: w.env, Log: w.log}
	defer c.Txn.Discard()
	if err := inst.Invoke(ctx, c, nil); err != nil {
		return fmt.Errorf("%s: %w", abi.ExportClasses, err)
	}
	for _, name := range strings.Split(string(c.Response), "\n") {
		if name = strings.TrimSpace(name); name != "" {
			w.classes = append(w.classes, name)
		}
	}
	sort.Strings(w.classes)
	var errs []error
	for _, b := range w.cfg.DurableObjects {
		if i := sort.SearchStrings(w.classes, b.ClassName); i == len(w.classes) || w.classes[i] != b.ClassName {
			errs = append(errs, fmt.Errorf("binding %s: class %q is not exported by the module (it exports: %s)",
				b.Name, b.ClassName, listOrNone(w.classes)))
		}
	}
	return errors.Join(errs...)
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// close releases the worker's instances and module.
func (w *worker) close(ctx context.Context) {
	if w == nil {
		return
	}
	if w.pool != nil {
		w.pool.Close(ctx)
	}
	w.module.Close(ctx)
}

// loadWorkers loads every worker, several at once. A worker that fails to
// load is the host's failure when it is the only one, or when every one
// fails; otherwise the host serves the others, and that worker's routes
// answer 503 with the reason in the log: one tenant's broken module (an
// _initialize that never returns, say) does not keep the rest down.
func (s *Server) loadWorkers(ctx context.Context, specs []workerSpec) ([]*worker, error) {
	ws := make([]*worker, len(specs))
	errs := make([]error, len(specs))
	sem := make(chan struct{}, max(1, runtime.NumCPU()))
	var wg sync.WaitGroup
	for i, sp := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ws[i], errs[i] = s.newWorker(ctx, sp)
		}()
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
		}
	}
	if failed > 0 && failed == len(specs) {
		return nil, errors.Join(errs...)
	}
	for i, sp := range specs {
		c := sp.cfg
		if errs[i] != nil {
			s.log.Error("worker failed to load; its routes answer 503 until it is fixed", "account", c.AccountID, "worker", c.Name, "err", errs[i])
			ws[i] = &worker{cfg: c, log: s.workerLog(c.AccountID, c.Name), loadErr: errs[i]}
		}
	}
	return ws, nil
}
