package host

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dohost/dohost/host/internal/config"
	"github.com/dohost/dohost/host/internal/store"
)

// deployment is what the host serves: its workers and the routes between
// them. A deploy publishes a new one whole; a request holds the worker it
// picked (worker.acquire) until it ends.
type deployment struct {
	workers []*worker
	routes  routes
}

// without returns the deployment's workers but account/name's, and that
// one (nil if it has none).
func (d *deployment) without(account, name string) (rest []*worker, w *worker) {
	for _, o := range d.workers {
		if o.cfg.AccountID == account && o.cfg.Name == name {
			w = o
			continue
		}
		rest = append(rest, o)
	}
	return rest, w
}

// workers returns the workers the host serves now.
func (s *Server) workers() []*worker { return s.dep.Load().workers }

// pick returns the worker for r, with a reference the caller releases, or
// nil when no worker is routed for it.
func (s *Server) pick(r *http.Request) *worker {
	for {
		d := s.dep.Load()
		w := d.routes.pick(r)
		if w == nil || w.acquire() {
			return w
		}
		// Replaced between the load and the acquire: look again.
	}
}

// Version describes one recorded version of a worker.
type Version struct {
	Account string    `json:"account"`
	Worker  string    `json:"worker"`
	Version int       `json:"version"`
	Time    time.Time `json:"time"`
	// By is who deployed it: an admin token's name, or "config" for the
	// config the host was started with.
	By string `json:"by"`
	// Module is the SHA-256 of its guest module, in hex.
	Module string `json:"module"`
	// ConfigFile is where its config was read from.
	ConfigFile string `json:"config_file"`
	// RollbackOf is the version a rollback returned to, or 0.
	RollbackOf int    `json:"rollback_of,omitempty"`
	Removed    bool   `json:"removed,omitempty"`
	Note       string `json:"note,omitempty"`
	// Active marks the version the host serves now.
	Active bool `json:"active,omitempty"`
}

func versionOf(d store.Deploy) Version {
	return Version{Account: d.Account, Worker: d.Worker, Version: d.Version, Time: d.Time, By: d.By,
		Module: d.Module, ConfigFile: d.ConfigFile, RollbackOf: d.RollbackOf, Removed: d.Removed, Note: d.Note}
}

// DeployRequest is a new version of a worker.
type DeployRequest struct {
	// Config is the worker's wrangler.toml; ConfigFile names it in
	// messages (its main is not read: Module is the module).
	Config     []byte
	ConfigFile string
	Module     []byte
	// By is who deploys it, for the record.
	By string
	// Account, if set, is the only account_id the config may name: the
	// account of the tenant's token that deploys it. Such a config must
	// have routes, each within one of Routes (the patterns the operator
	// granted the tenant): a tenant cannot take another's requests, nor
	// every request no route matches.
	Account string
	Routes  []string
}

// checkTenantRoutes holds a tenant's config to the route patterns granted
// to it.
func checkTenantRoutes(cfg *config.Config, grants []string) error {
	if len(grants) == 0 {
		return fmt.Errorf("%w: the token may deploy no routes: the operator grants a tenant's token its route patterns (routes = [...] in the tokens file)", ErrRefused)
	}
	if len(cfg.Routes) == 0 {
		return fmt.Errorf("%w: a tenant's worker needs routes (within %s): one without would serve every request no other route matches", ErrRefused, strings.Join(grants, ", "))
	}
	var gs []config.Route
	for _, p := range grants {
		g, err := config.ParseRoute(p)
		if err != nil {
			return fmt.Errorf("granted route %q: %w", p, err)
		}
		gs = append(gs, g)
	}
	for _, r := range cfg.Routes {
		if !slices.ContainsFunc(gs, r.Within) {
			return fmt.Errorf("%w: route %q is not within the token's routes (%s)", ErrRefused, r.Pattern, strings.Join(grants, ", "))
		}
	}
	return nil
}

// ErrRefused wraps why a deploy, rollback or removal was refused; the host
// goes on serving what it served.
var ErrRefused = errors.New("refused")

// Deploy replaces the worker the config names (or adds it) while the host
// serves. The new version is compiled and checked first — its ABI version,
// an export for every class, its limits and routes — and a bad one is
// refused (the error wraps ErrRefused and says why) while the old one
// keeps serving. Requests running on the old version finish on it; new
// requests and new objects run the new one; a live object switches at its
// next idle point, and its WebSockets stay open.
func (s *Server) Deploy(ctx context.Context, req DeployRequest) (_ Version, err error) {
	defer func() { s.metrics.deployed(err) }()
	cfg, err := config.Parse(req.ConfigFile, req.Config)
	if err != nil {
		return Version{}, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if req.Account != "" {
		if cfg.AccountID != req.Account {
			return Version{}, fmt.Errorf("%w: %s: account_id %q is not the account of the token (%q)", ErrRefused, req.ConfigFile, cfg.AccountID, req.Account)
		}
		if err := checkTenantRoutes(cfg, req.Routes); err != nil {
			return Version{}, err
		}
	}
	cfg.Main = fmt.Sprintf("%s (module sha256:%.12s)", req.ConfigFile, store.ModuleHash(req.Module))
	return s.deploy(ctx, workerSpec{cfg: cfg, wasm: req.Module, raw: req.Config}, store.Deploy{By: req.By, ConfigFile: req.ConfigFile})
}

// ConfigWorker returns the account and the name of the worker a
// wrangler.toml describes, as the host reads them (account "default" when
// it names none).
func ConfigWorker(path string) (account, name string, err error) {
	c, err := config.Load(path)
	if err != nil {
		return "", "", err
	}
	return c.AccountID, c.Name, nil
}

// ReadDeploy reads a worker's wrangler.toml and the module its main names,
// checking the config, for a deploy.
func ReadDeploy(path string) (DeployRequest, error) {
	c, err := config.Load(path)
	if err != nil {
		return DeployRequest{}, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return DeployRequest{}, fmt.Errorf("config: %w", err)
	}
	wasm, err := readModule(c, "")
	if err != nil {
		return DeployRequest{}, err
	}
	return DeployRequest{Config: raw, ConfigFile: path, Module: wasm}, nil
}

// Rollback makes an earlier version of a worker the one served, as a new
// version (recorded with the version it returns to), with Deploy's checks.
// account, if set, is the only account the caller may touch.
func (s *Server) Rollback(ctx context.Context, account, worker string, version int, by string) (_ Version, err error) {
	return s.rollback(ctx, account, worker, version, by, nil)
}

// rollback is Rollback; grants, if set, holds the version's routes to a
// tenant's granted patterns.
func (s *Server) rollback(ctx context.Context, account, worker string, version int, by string, grants []string) (_ Version, err error) {
	defer func() { s.metrics.deployed(err) }()
	spec, d, err := s.recordedSpec(account, worker, version)
	if err != nil {
		return Version{}, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if grants != nil {
		if err := checkTenantRoutes(spec.cfg, grants); err != nil {
			return Version{}, err
		}
	}
	spec.version = 0 // a new version, the same as that one
	return s.deploy(ctx, spec, store.Deploy{By: by, ConfigFile: d.ConfigFile, RollbackOf: version})
}

// deploy checks spec, records it as the worker's next version and
// publishes it.
func (s *Server) deploy(ctx context.Context, spec workerSpec, rec store.Deploy) (Version, error) {
	s.deployMu.Lock()
	defer s.deployMu.Unlock()
	if s.closed.Load() {
		return Version{}, fmt.Errorf("%w: the host is shutting down", ErrRefused)
	}
	cfg := spec.cfg
	next := &deployment{}
	var old *worker
	next.workers, old = s.dep.Load().without(cfg.AccountID, cfg.Name)
	// The routes are checked before the worker is made: making it
	// applies its migrations.
	if _, err := buildRoutes(append(slices.Clip(next.workers), &worker{cfg: cfg})); err != nil {
		return Version{}, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	w, err := s.newWorker(ctx, spec)
	if err != nil {
		return Version{}, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	next.workers = append(next.workers, w)
	if next.routes, err = buildRoutes(next.workers); err != nil {
		w.close(ctx)
		return Version{}, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	rec.Account, rec.Worker, rec.Config = cfg.AccountID, cfg.Name, string(spec.raw)
	if err := s.store.AddDeploy(&rec, spec.wasm); err != nil {
		w.close(ctx)
		return Version{}, err
	}
	w.version = rec.Version
	s.publish(next, w, old)
	s.log.Info("deployed", "account", rec.Account, "worker", rec.Worker, "version", rec.Version,
		"module", rec.Module, "by", rec.By, "rollback_of", rec.RollbackOf)
	v := versionOf(rec)
	v.Active = true
	return v, nil
}

// publish makes next what the host serves, with w (new) replacing old
// (nil if w is a new worker): w's namespaces take over, then requests
// reach w, then old is closed once its requests end.
func (s *Server) publish(next *deployment, w, old *worker) {
	w.activateNamespaces()
	s.dep.Store(next)
	if old != nil {
		// A class the new version no longer binds is out of service (its
		// storage stays): nothing runs the old module for it any more.
		kept := slices.Collect(maps.Values(w.namespaces))
		for _, ns := range old.namespaces {
			if !slices.Contains(kept, ns) {
				ns.Remove()
			}
		}
		old.retire()
	}
}

// Remove stops serving a worker: its routes stop matching, its objects
// refuse requests and close their WebSockets (1001), and its alarms stop.
// Its storage and KV stay, and a later deploy or rollback brings it back.
// account, if set, is the only account the caller may touch.
func (s *Server) Remove(ctx context.Context, account, name, by string) (_ Version, err error) {
	defer func() { s.metrics.deployed(err) }()
	s.deployMu.Lock()
	defer s.deployMu.Unlock()
	next := &deployment{}
	var old *worker
	next.workers, old = s.dep.Load().without(account, name)
	if old == nil {
		return Version{}, fmt.Errorf("%w: no worker %s/%s is deployed", ErrRefused, account, name)
	}
	if next.routes, err = buildRoutes(next.workers); err != nil {
		return Version{}, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	rec := store.Deploy{Account: account, Worker: name, By: by, Removed: true, ConfigFile: old.cfg.File}
	if err := s.store.AddDeploy(&rec, nil); err != nil {
		return Version{}, err
	}
	s.dep.Store(next)
	for _, ns := range old.namespaces {
		ns.Remove()
	}
	old.retire()
	s.log.Info("worker removed", "account", account, "worker", name, "version", rec.Version, "by", by)
	return versionOf(rec), nil
}

// Versions returns every recorded version of a worker, oldest first, the
// one served now marked Active.
func (s *Server) Versions(account, worker string) ([]Version, error) {
	ds, err := s.store.Deploys(account, worker)
	if err != nil {
		return nil, err
	}
	active := s.activeVersion(account, worker)
	vs := make([]Version, len(ds))
	for i, d := range ds {
		vs[i] = versionOf(d)
		vs[i].Active = d.Version == active && active != 0
	}
	return vs, nil
}

// previousVersion is the version a rollback without one returns to: the
// one served before the active one (the newest earlier version that
// deployed a different module or config).
func (s *Server) previousVersion(account, name string) (int, error) {
	vs, err := s.store.Deploys(account, name)
	if err != nil {
		return 0, err
	}
	active, cur := -1, s.activeVersion(account, name)
	for i, v := range vs {
		if v.Version == cur {
			active = i
		}
	}
	if active < 0 {
		return 0, fmt.Errorf("%w: worker %s/%s is not deployed; name the version to roll back to", ErrRefused, account, name)
	}
	now := vs[active]
	for i := active - 1; i >= 0; i-- {
		if v := vs[i]; !v.Removed && (v.Module != now.Module || v.Config != now.Config) {
			return v.Version, nil
		}
	}
	return 0, fmt.Errorf("%w: worker %s/%s has no earlier version to roll back to", ErrRefused, account, name)
}

// activeVersion is the version of the worker served now, or 0.
func (s *Server) activeVersion(account, name string) int {
	for _, w := range s.workers() {
		if w.cfg.AccountID == account && w.cfg.Name == name {
			return w.version
		}
	}
	return 0
}

// WorkerInfo describes a worker the host serves.
type WorkerInfo struct {
	Account string   `json:"account"`
	Name    string   `json:"name"`
	Version int      `json:"version"`
	Classes []string `json:"classes,omitempty"`
	Routes  []string `json:"routes,omitempty"`
	// Error is why the worker did not load, if it did not.
	Error string `json:"error,omitempty"`
}

// Workers lists the workers the host serves, of account (every one if
// account is "").
func (s *Server) Workers(account string) []WorkerInfo {
	var out []WorkerInfo
	for _, w := range s.workers() {
		if account != "" && w.cfg.AccountID != account {
			continue
		}
		wi := WorkerInfo{Account: w.cfg.AccountID, Name: w.cfg.Name, Version: w.version, Classes: w.classes}
		for _, r := range w.cfg.Routes {
			wi.Routes = append(wi.Routes, r.Pattern)
		}
		if w.loadErr != nil {
			wi.Error = w.loadErr.Error()
		}
		out = append(out, wi)
	}
	return out
}

// startupSpecs returns what the host serves at start: each config given
// on the command line, or the version recorded for it when the config and
// module are unchanged since they were last started (which may be a
// later deploy or rollback through the admin API); and every worker
// deployed through the admin API that no config names. A config that
// changed becomes a new version once it loads.
func (s *Server) startupSpecs(cfgs []*config.Config) ([]workerSpec, error) {
	active, err := s.store.ActiveDeploys()
	if err != nil {
		return nil, err
	}
	byName := map[string]store.Deploy{}
	for _, d := range active {
		byName[d.Account+"/"+d.Worker] = d
	}
	var specs []workerSpec
	var errs []error
	for _, c := range cfgs {
		raw, err := os.ReadFile(c.File)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: %w", err))
			continue
		}
		wasm, err := readModule(c, s.opts.JSRuntime)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		key := c.AccountID + "/" + c.Name
		d, ok := byName[key]
		delete(byName, key)
		if ok && d.By != "config" {
			same, err := s.sameAsLastStart(c, raw, wasm)
			if err != nil {
				return nil, err
			}
			if same {
				sp, _, err := s.recordedSpec(d.Account, d.Worker, d.Version)
				if err != nil {
					return nil, err
				}
				s.log.Info("serving the version deployed through the admin API: the config on the command line is unchanged since it was last started",
					"account", d.Account, "worker", d.Worker, "version", d.Version, "config", c.File)
				specs = append(specs, sp)
				continue
			}
		}
		sp := workerSpec{cfg: c, wasm: wasm, raw: raw}
		if ok && d.By == "config" && d.Config == string(raw) && d.Module == store.ModuleHash(wasm) {
			sp.version = d.Version
		}
		specs = append(specs, sp)
	}
	for _, d := range active {
		if _, ok := byName[d.Account+"/"+d.Worker]; !ok || d.By == "config" {
			continue // named on the command line, or dropped from it
		}
		sp, _, err := s.recordedSpec(d.Account, d.Worker, d.Version)
		if err != nil {
			return nil, err
		}
		specs = append(specs, sp)
	}
	return specs, errors.Join(errs...)
}

// sameAsLastStart reports whether the config and module are those of the
// worker's last version that came from the command line.
func (s *Server) sameAsLastStart(c *config.Config, raw, wasm []byte) (bool, error) {
	ds, err := s.store.Deploys(c.AccountID, c.Name)
	if err != nil {
		return false, err
	}
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].By == "config" {
			return ds[i].Config == string(raw) && ds[i].Module == store.ModuleHash(wasm), nil
		}
	}
	return false, nil
}

// recordedSpec returns the spec of a recorded version, reading its record
// and its module once, and the record.
func (s *Server) recordedSpec(account, worker string, version int) (workerSpec, store.Deploy, error) {
	d, wasm, err := s.store.GetDeploy(account, worker, version)
	if err != nil {
		return workerSpec{}, d, err
	}
	if d.Removed {
		return workerSpec{}, d, fmt.Errorf("version %d of %s/%s removed the worker; roll back to a version that deployed it", version, account, worker)
	}
	cfg, err := config.Parse(d.ConfigFile, []byte(d.Config))
	if err != nil {
		return workerSpec{}, d, fmt.Errorf("version %d of %s/%s: %w", version, account, worker, err)
	}
	cfg.Main = fmt.Sprintf("%s (version %d, module sha256:%.12s)", d.ConfigFile, version, d.Module)
	return workerSpec{cfg: cfg, wasm: wasm, raw: []byte(d.Config), version: version}, d, nil
}

// recordStartup records each loaded worker that is not yet a recorded
// version (a config that is new or changed) as a version by "config".
func (s *Server) recordStartup(ws []*worker, specs []workerSpec) error {
	for i, w := range ws {
		if w.loadErr != nil || w.version != 0 {
			continue
		}
		rec := store.Deploy{Account: w.cfg.AccountID, Worker: w.cfg.Name, By: "config", Config: string(specs[i].raw), ConfigFile: w.cfg.File}
		if err := s.store.AddDeploy(&rec, specs[i].wasm); err != nil {
			return err
		}
		w.version = rec.Version
	}
	return nil
}
