package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/config"
	"github.com/dohost/dohost/host/internal/store"
	"github.com/tetratelabs/wazero"
)

// app is one deployed worker: its config, its compiled module, its bindings
// and the pool of instances that run its Worker handler.
type app struct {
	srv *Server
	cfg *config.Config
	log *slog.Logger

	rt       wazero.Runtime
	guest    *guest
	logLimit *logLimiter // guest log lines of every instance

	kv         map[string]*store.KV  // binding → namespace
	namespaces map[string]*namespace // binding → Durable Object namespace
	classes    []string              // what the module says it implements

	pool *pool
}

// namespace is the Durable Object namespace of one class of an app. Every
// binding to the class shares it.
type namespace struct {
	app     *app
	binding string // the first binding that names it, for messages
	class   string
	key     [store.NamespaceIDLen]byte // stable id; keys ID MACs and storage
}

func newApp(ctx context.Context, srv *Server, cfg *config.Config) (_ *app, err error) {
	a := &app{
		srv:        srv,
		cfg:        cfg,
		log:        srv.log.With("account", cfg.AccountID, "worker", cfg.Name),
		kv:         map[string]*store.KV{},
		namespaces: map[string]*namespace{},
	}
	a.logLimit = newLogLimiter(a.log)
	defer func() {
		if err != nil {
			a.close(ctx)
			err = fmt.Errorf("worker %q (%s): %w", cfg.Name, cfg.File, err)
		}
	}()
	wasm, err := os.ReadFile(cfg.Main)
	if err != nil {
		return nil, fmt.Errorf("read guest module: %w", err)
	}
	if a.rt, err = newRuntime(ctx, srv.cache, uint32(cfg.Limits.Memory>>16)); err != nil {
		return nil, err
	}
	if a.guest, err = compileGuest(ctx, a.rt, cfg.Main, wasm); err != nil {
		return nil, err
	}
	if a.guest.prep.Snapshot {
		if err := a.takeSnapshot(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Main, err)
		}
	} else {
		a.log.Info("instances of this module run its initializer each: it cannot be snapshotted", "reason", a.guest.prep.NoSnapshot)
	}
	for _, b := range cfg.KVNamespaces {
		a.kv[b.Binding] = srv.store.KV(cfg.AccountID, b.ID)
	}
	for _, m := range cfg.Migrations {
		for _, r := range m.RenamedClasses {
			if err := srv.store.RenameNamespace(cfg.AccountID, cfg.Name, r.From, r.To); err != nil {
				return nil, fmt.Errorf("migration %q: %w", m.Tag, err)
			}
		}
	}
	byClass := map[string]*namespace{}
	for _, b := range cfg.DurableObjects {
		ns := byClass[b.ClassName]
		if ns == nil {
			key, err := srv.store.NamespaceID(cfg.AccountID, cfg.Name, b.ClassName)
			if err != nil {
				return nil, err
			}
			ns = &namespace{app: a, binding: b.Name, class: b.ClassName, key: key}
			byClass[b.ClassName] = ns
		}
		a.namespaces[b.Name] = ns
	}
	a.pool = newPool(a, cfg.Host.WorkerInstances)

	// A first Worker instance proves the module instantiates and says which
	// classes it implements; it then serves as the pool's first member.
	inst, err := a.newInstance(ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := a.checkClasses(ctx, inst); err != nil {
		inst.close(ctx)
		return nil, err
	}
	a.pool.put(ctx, inst)
	return a, nil
}

// checkClasses asks the module for its classes and checks that every
// Durable Object binding names one of them.
func (a *app) checkClasses(ctx context.Context, inst *instance) error {
	if len(a.cfg.DurableObjects) == 0 {
		return nil
	}
	exports := a.guest.cm.ExportedFunctions()
	_, hasClasses := exports[abi.ExportClasses]
	_, hasNew := exports[abi.ExportObjectNew]
	_, hasFetch := exports[abi.ExportObjectFetch]
	if !hasClasses || !hasNew || !hasFetch {
		return fmt.Errorf("the config binds Durable Object classes, but the module does not export %s, %s and %s",
			abi.ExportClasses, abi.ExportObjectNew, abi.ExportObjectFetch)
	}
	c := &call{app: a, inst: inst, kind: kindClasses, txn: a.srv.store.NewTxn()}
	defer c.txn.Discard()
	if _, err := c.invoke(ctx, inst.mod.ExportedFunction(abi.ExportClasses), nil, false); err != nil {
		return fmt.Errorf("%s: %w", abi.ExportClasses, err)
	}
	for _, name := range strings.Split(string(c.response), "\n") {
		if name = strings.TrimSpace(name); name != "" {
			a.classes = append(a.classes, name)
		}
	}
	sort.Strings(a.classes)
	var errs []error
	for _, b := range a.cfg.DurableObjects {
		if i := sort.SearchStrings(a.classes, b.ClassName); i == len(a.classes) || a.classes[i] != b.ClassName {
			errs = append(errs, fmt.Errorf("binding %s: class %q is not exported by the module (it exports: %s)",
				b.Name, b.ClassName, listOrNone(a.classes)))
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

// newInstance instantiates the module for obj (nil: a Worker instance).
func (a *app) newInstance(ctx context.Context, obj *object) (*instance, error) {
	log := a.log
	if obj != nil {
		log = obj.log
	}
	inst, err := a.instantiate(ctx, moduleConfig(newLogWriter(log, a.logLimit, "stdout"), newLogWriter(log, a.logLimit, "stderr")), obj)
	if err == nil && obj == nil {
		a.srv.stats.workerInstances.Add(1)
	}
	return inst, err
}

func (a *app) close(ctx context.Context) {
	if a.pool != nil {
		a.pool.close(ctx)
	}
	a.guest.close(ctx)
	if a.rt != nil {
		_ = a.rt.Close(ctx)
	}
}
