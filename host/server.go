// Package host runs Durable Objects compiled to WebAssembly.
//
// A Server loads one or more workers, each described by a wrangler.toml
// whose main is a guest .wasm built against the dohost ABI (abi/ABI.md), and
// serves HTTP: each request runs the worker's fetch handler in a pooled
// instance, which routes it by name to a Durable Object; each object has
// exactly one live module instance, runs one request at a time and reaches
// its KV namespaces through host calls. All state lives in one Pebble
// database under the data directory, and a request's writes are synced
// before its response leaves.
//
//	srv, err := host.New(ctx, host.Options{Configs: []string{"wrangler.toml"}, DataDir: ".dohost"})
//	if err != nil { … }
//	defer srv.Close(ctx)
//	http.ListenAndServe("127.0.0.1:8787", srv)
package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/config"
	"github.com/dohost/dohost/host/internal/store"
	"github.com/tetratelabs/wazero"
)

// Options configure a Server.
type Options struct {
	// Configs are the wrangler.toml files of the workers to serve. A
	// directory stands for every *.toml in it and every */wrangler.toml
	// below it. Each worker serves the requests its routes match (see
	// config.Route); one worker without routes serves the rest.
	Configs []string
	// DataDir holds the database and the compilation cache. It is created
	// if missing.
	DataDir string
	// CacheDir holds wazero's compilation cache; empty means
	// DataDir/wazero-cache. Compiled code there makes restarts fast.
	CacheDir string
	// Logger receives the host's and the guests' log lines; nil means
	// slog.Default().
	Logger *slog.Logger
	// MaxLiveObjects caps the objects with a live instance; past it the
	// least recently used idle ones are evicted (their storage stays, and
	// their next request starts them again). Zero means 10,000.
	MaxLiveObjects int
	// IdleTimeout evicts an object that has had no request for this long.
	// Zero means 70 s.
	IdleTimeout time.Duration
	// TrimAfter is how long an object is idle before the memory pages its
	// instance only read from the snapshot are unmapped. Zero means 10 s.
	TrimAfter time.Duration
	// AlarmRetryDelay is the wait before the first retry of a failed alarm
	// handler; each later retry waits twice as long. Zero means 2 s, as on
	// Cloudflare.
	AlarmRetryDelay time.Duration
}

// Server serves the workers of its Options over HTTP. It is safe for
// concurrent use.
type Server struct {
	opts    Options
	log     *slog.Logger
	store   *store.Store
	cache   wazero.CompilationCache
	apps    []*app
	objects *registry

	// inflight counts the HTTP requests and alarm runs under way, and
	// throttled the guest calls among them that run long: a long call is
	// slowed down only while others wait.
	inflight, throttled atomic.Int64
	alarms              *alarmScheduler
	stats               stats

	// namespaceByKey finds a Durable Object namespace by its stable id,
	// for alarms.
	namespaceByKey map[[store.NamespaceIDLen]byte]*namespace

	routes     []route // most specific first
	defaultApp *app    // the worker without routes, or nil

	closeOnce     sync.Once
	alarmsStarted bool
}

// New loads and checks every config and module, opens the database and
// compiles the modules. Every config problem is reported at once.
func New(ctx context.Context, o Options) (*Server, error) {
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
	if len(o.Configs) == 0 {
		return nil, errors.New("no worker config given")
	}
	if o.DataDir == "" {
		return nil, errors.New("no data directory given")
	}
	cfgs, err := loadConfigs(o.Configs, o.Logger)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	s := &Server{opts: o, log: o.Logger, namespaceByKey: map[[store.NamespaceIDLen]byte]*namespace{}}
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(o.DataDir, "wazero-cache")
	}
	if s.cache, err = wazero.NewCompilationCacheWithDir(o.CacheDir); err != nil {
		return nil, fmt.Errorf("open compilation cache: %w", err)
	}
	if s.store, err = store.Open(filepath.Join(o.DataDir, "db"), store.Options{}); err != nil {
		_ = s.cache.Close(ctx)
		return nil, err
	}
	s.objects = newRegistry(s, o)
	s.alarms = newAlarmScheduler(s)
	for _, c := range cfgs {
		a, err := newApp(ctx, s, c)
		if err != nil {
			_ = s.Close(ctx)
			return nil, err
		}
		s.apps = append(s.apps, a)
		for _, ns := range a.namespaces {
			s.namespaceByKey[ns.key] = ns
		}
	}
	if err := s.buildRoutes(); err != nil {
		_ = s.Close(ctx)
		return nil, err
	}
	if err := s.alarms.start(); err != nil {
		_ = s.Close(ctx)
		return nil, err
	}
	s.alarmsStarted = true
	return s, nil
}

// Close stops the alarms (waiting for handlers that run), releases every
// instance and closes the database. In-flight requests must have finished
// (http.Server.Shutdown waits for them).
func (s *Server) Close(ctx context.Context) error {
	var err error
	s.closeOnce.Do(func() {
		if s.alarmsStarted {
			s.alarms.close()
		}
		if s.objects != nil {
			s.objects.close()
		}
		for _, a := range s.apps {
			a.close(ctx)
		}
		if s.store != nil {
			err = s.store.Close()
		}
		if s.cache != nil {
			_ = s.cache.Close(ctx)
		}
	})
	return err
}

// ServeHTTP runs the request through the worker it is routed to.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	a := s.route(r)
	if a == nil {
		httpError(w, http.StatusNotFound, fmt.Sprintf("no worker is routed for %s%s", r.Host, r.URL.Path))
		return
	}
	// The guest's work must not be cut short by a client that goes away:
	// that would close an object's instance mid-request.
	ctx := context.WithoutCancel(r.Context())

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.Limits.RequestBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over the limit of %d bytes", tooBig.Limit))
			return
		}
		httpError(w, http.StatusBadRequest, fmt.Sprintf("reading request body: %v", err))
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	req := abi.Request{Method: r.Method, URL: scheme + "://" + r.Host + r.URL.RequestURI(), Body: body}
	for name, vals := range r.Header {
		for _, v := range vals {
			req.Headers = append(req.Headers, abi.Header{Name: name, Value: v})
		}
	}
	enc := abi.AppendRequest(make([]byte, 0, 256+len(body)), &req)

	inst, err := a.pool.get(ctx)
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, fmt.Sprintf("worker %s: %v", a.cfg.Name, err))
		return
	}
	c := &call{app: a, inst: inst, kind: kindFetch, txn: s.store.NewTxn()}
	trapped, err := c.invoke(ctx, inst.fn(abi.ExportWorkerFetch), enc, true)
	a.pool.done(ctx, inst, trapped)
	if trapped {
		c.txn.Discard()
		a.log.Warn("worker instance replaced", "err", err)
	} else if cerr := c.txn.Commit(); cerr != nil {
		a.log.Error("commit failed", "err", cerr)
		httpError(w, http.StatusInternalServerError, fmt.Sprintf("worker %s: %v", a.cfg.Name, cerr))
		return
	}
	if err == nil && !c.responded {
		err = errors.New("fetch handler returned without a response")
	}
	if err != nil && c.overloaded {
		// The Worker failed after an object it called was overloaded: the
		// client should come back later.
		httpError(w, http.StatusServiceUnavailable, fmt.Sprintf("worker %s: %v", a.cfg.Name, err))
		return
	}
	if err != nil {
		httpError(w, http.StatusInternalServerError, fmt.Sprintf("worker %s: %v", a.cfg.Name, err))
		return
	}
	resp, err := abi.DecodeResponse(c.response)
	if err != nil { // respond checked it; this is a host bug
		httpError(w, http.StatusInternalServerError, fmt.Sprintf("worker %s: %v", a.cfg.Name, err))
		return
	}
	h := w.Header()
	for _, f := range resp.Headers {
		switch strings.ToLower(f.Name) {
		case "content-length", "connection", "transfer-encoding", "keep-alive", "upgrade", "trailer":
			continue
		}
		h.Add(f.Name, f.Value)
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

func httpError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "dohost: "+msg+"\n")
}

// loadConfigs reads every worker's config, expanding directories, and
// checks that no two workers of one account share a name. Every problem is
// reported at once.
func loadConfigs(paths []string, log *slog.Logger) ([]*config.Config, error) {
	var files []string
	var errs []error
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || !st.IsDir() {
			files = append(files, p) // config.Load reports a missing file
			continue
		}
		a, _ := filepath.Glob(filepath.Join(p, "*.toml"))
		b, _ := filepath.Glob(filepath.Join(p, "*", "wrangler.toml"))
		found := append(a, b...)
		sort.Strings(found)
		if len(found) == 0 {
			errs = append(errs, fmt.Errorf("%s: no *.toml or */wrangler.toml in the directory", p))
		}
		files = append(files, found...)
	}
	var cfgs []*config.Config
	names := map[string]string{} // account/name → file
	for _, f := range files {
		c, err := config.Load(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, w := range c.Warnings {
			log.Warn(w.String())
		}
		key := c.AccountID + "/" + c.Name
		if prev, ok := names[key]; ok {
			errs = append(errs, fmt.Errorf("%s: worker %q of account %q is already defined by %s", f, c.Name, c.AccountID, prev))
			continue
		}
		names[key] = f
		cfgs = append(cfgs, c)
	}
	return cfgs, errors.Join(errs...)
}

// route is one route of one worker.
type route struct {
	config.Route
	app *app
}

// buildRoutes orders every worker's routes, most specific first, and picks
// the worker without routes, if any, as the one for everything else.
func (s *Server) buildRoutes() error {
	var unrouted []string
	for _, a := range s.apps {
		if len(a.cfg.Routes) == 0 {
			unrouted = append(unrouted, fmt.Sprintf("%s (%s)", a.cfg.Name, a.cfg.File))
			s.defaultApp = a
		}
		for _, r := range a.cfg.Routes {
			s.routes = append(s.routes, route{r, a})
		}
	}
	if len(unrouted) > 1 {
		return fmt.Errorf("workers %s have no routes: with several workers, give each routes (one may have none: it serves every request no route matches)", strings.Join(unrouted, ", "))
	}
	sort.SliceStable(s.routes, func(i, j int) bool {
		a, b := s.routes[i].Specificity(), s.routes[j].Specificity()
		for k := range a {
			if a[k] != b[k] {
				return a[k] > b[k]
			}
		}
		return false
	})
	return nil
}

// route picks the worker for r: the most specific route that matches its
// host (without the port) and path, else the worker without routes.
func (s *Server) route(r *http.Request) *app {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	for _, rt := range s.routes {
		if rt.Matches(host, r.URL.Path) {
			return rt.app
		}
	}
	return s.defaultApp
}
