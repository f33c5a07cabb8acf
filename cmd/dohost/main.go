// Command dohost serves Durable Objects compiled to WebAssembly.
//
//	dohost serve --config wrangler.toml [--listen 127.0.0.1:8787] [--data ./.dohost]
//	dohost dev [--config wrangler.toml]
//	dohost deploy --config wrangler.toml [--admin ADDR]
//	dohost versions|rollback|remove --worker NAME [--account ID]
//	dohost workers
//	dohost version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // profiles on --debug-addr only
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host"
)

const usage = `dohost runs Durable Objects compiled to WebAssembly.

Usage:
  dohost serve --config FILE [--config FILE …] [--listen ADDR] [--data DIR]
  dohost dev [--config FILE]               serve one worker; rebuild ([build] command) and
                                           reload it when its sources change, data kept
  dohost deploy --config FILE              deploy a new version while the host serves
  dohost versions --worker NAME            a worker's recorded versions
  dohost rollback --worker NAME [--version N]
  dohost remove --worker NAME              stop serving a worker (its data stays)
  dohost workers                           the workers served
  dohost secret put|delete|list --worker NAME [SECRET]   (put reads the value from stdin)
  dohost kv get|put|delete|list --namespace-id ID [KEY [VALUE]]
  dohost objects list|inspect|storage|delete --worker NAME --class CLASS [OBJECT]
  dohost backup --to DIR                   a consistent copy, taken while serving
  dohost restore --from DIR --data DIR     put a backup back (no host may hold DIR)
  dohost version
  dohost help

The admin commands take --admin ADDR (HOST:PORT or unix:PATH; default
$DOHOST_ADMIN or 127.0.0.1:9090), --token TOKEN (default $DOHOST_TOKEN) and
--account ID (default "default"); kv, objects and backup take --data DIR
instead to work on a data directory no host holds. They exit 1 when the
host refuses, 2 on a usage error and 3 when the host cannot be reached.
Run dohost CMD -h for a command's flags.

serve loads each worker's wrangler.toml (main names the guest .wasm, built
against the dohost ABI, see abi/ABI.md), opens the data directory and serves
HTTP until SIGINT or SIGTERM, which stop new connections, let in-flight
requests finish and close the database cleanly.

Flags of serve:
`

func main() {
	setProcs()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprint(stdout, usage)
		serveFlags(stdout).PrintDefaults()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "version", "--version", "-version":
		version(stdout)
		return 0
	case "dev":
		return devCmd(args[1:], stdout, stderr)
	case "deploy":
		return deployCmd(args[1:], stdout, stderr)
	case "rollback":
		return rollbackCmd(args[1:], stdout, stderr)
	case "versions":
		return versionsCmd(args[1:], stdout, stderr)
	case "workers":
		return workersCmd(args[1:], stdout, stderr)
	case "remove":
		return removeCmd(args[1:], stdout, stderr)
	case "secret":
		return secretCmd(args[1:], stdout, stderr)
	case "kv":
		return kvCmd(args[1:], stdout, stderr)
	case "objects":
		return objectsCmd(args[1:], stdout, stderr)
	case "backup":
		return backupCmd(args[1:], stdout, stderr)
	case "restore":
		return restoreCmd(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "dohost: unknown command %q; run dohost help\n", args[0])
		return 2
	}
}

// version prints the module's version (a tag, or "(devel)" for a build
// from a checkout, with its commit), the Go that built it and the ABI
// versions this host runs.
func version(out io.Writer) {
	v, rev, dirty := "(unknown)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	fmt.Fprintf(out, "dohost %s", v)
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		fmt.Fprintf(out, " (commit %s", rev)
		if dirty {
			fmt.Fprint(out, ", modified")
		}
		fmt.Fprint(out, ")")
	}
	fmt.Fprintf(out, "\n%s %s/%s\nABI v%d (import module %q, %d host functions)\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, abi.Version, abi.ImportModule, len(abi.HostFuncs))
}

// closeTimeout bounds how long shutdown waits, after the drain, for guest
// calls to stop: they trap within a fuel slice, but a host call under way
// (a commit) finishes first.
const closeTimeout = 10 * time.Second

// loadGrants reads the --accounts file: account = [patterns of config
// files], relative to the file's directory. No file: no grants.
func loadGrants(path string) (map[string][]string, error) {
	if path == "" {
		return nil, nil
	}
	var raw map[string][]string
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		return nil, fmt.Errorf("--accounts %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	grants := map[string][]string{}
	for account, ps := range raw {
		for _, p := range ps {
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, fmt.Errorf("--accounts %s: %s: %w", path, account, err)
			}
			grants[account] = append(grants[account], abs)
		}
	}
	return grants, nil
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

type serveOptions struct {
	configs    stringList
	listen     string
	data       string
	maxObjects int
	maxConns   int
	memory     int64
	acctMemory int64
	accounts   string
	idle       time.Duration
	drain      time.Duration
	logJSON    bool
	accessLog  bool
	debug      string
	admin      string
	tokens     string
	secrets    string
	verbose    bool
	slice      time.Duration
	refusal    time.Duration
}

var opts serveOptions

// refusalPause is host.Options.RefusalPause for --refusal-pause d, where 0
// means no pause (host.Options' zero is its default).
func refusalPause(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func serveFlags(out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Var(&opts.configs, "config", "a worker's wrangler.toml (repeat for several workers)")
	fs.StringVar(&opts.listen, "listen", "127.0.0.1:8787", "address to serve HTTP on")
	fs.StringVar(&opts.data, "data", "./.dohost", "data directory: the database and the compilation cache")
	fs.IntVar(&opts.maxObjects, "max-objects", 10_000, "most Durable Objects with a live instance; past it the least recently used idle ones are evicted")
	fs.DurationVar(&opts.idle, "idle-timeout", 70*time.Second, "evict an object after this long without a request")
	fs.IntVar(&opts.maxConns, "max-conns", 0, "most open HTTP connections (0: the open-files limit less 2048)")
	fs.Int64Var(&opts.memory, "guest-memory", 0, "bytes of guest memory for all accounts together (0: half the RAM)")
	fs.Int64Var(&opts.acctMemory, "account-memory", 0, "bytes of guest memory for one account (0: a quarter of the RAM)")
	fs.StringVar(&opts.accounts, "accounts", "", "a TOML file granting each account to the configs that may claim it: acme = [\"tenants/acme/*/wrangler.toml\"] (paths relative to the file)")
	fs.DurationVar(&opts.drain, "drain", 30*time.Second, "how long SIGTERM waits for in-flight requests")
	fs.StringVar(&opts.admin, "admin-addr", "", "if set, serve the admin API (deploys), /metrics (Prometheus), /healthz and /readyz on this address: HOST:PORT (e.g. 127.0.0.1:9090) or unix:PATH")
	fs.StringVar(&opts.secrets, "secrets", "", "a TOML file of workers' secrets: a table per worker (\"name\", or \"account/name\") of NAME = \"value\"; readable by its owner only")
	fs.StringVar(&opts.tokens, "admin-tokens", "", "a TOML file of admin tokens: [[token]] name, token or token_env, account (none: the operator's); $DOHOST_ADMIN_TOKEN adds an operator token")
	fs.StringVar(&opts.debug, "debug-addr", "", "if set, serve Go's pprof profiles on this address (e.g. 127.0.0.1:6060)")
	fs.BoolVar(&opts.logJSON, "log-json", false, "log in JSON instead of text (durations in seconds)")
	fs.BoolVar(&opts.accessLog, "access-log", false, "log a line per request: request id, worker, method, path, status, duration")
	fs.BoolVar(&opts.verbose, "v", false, "log debug lines too")
	fs.DurationVar(&opts.refusal, "refusal-pause", 100*time.Millisecond, "how long a request refused for load (503: every Worker instance busy, an object's queue full, a budget spent) waits for its answer, so that clients retrying at once cannot make refusals a flood; 0 answers at once")
	fs.DurationVar(&opts.slice, "sched-slice", defaultSlice, "the kernel's time slice for dohost's threads (Linux 6.12+): how long a thread computing may keep a core from one that wakes; 0 leaves the kernel's")
	fs.Usage = func() {
		fmt.Fprint(out, usage)
		fs.PrintDefaults()
	}
	return fs
}

func serve(args []string, stderr io.Writer) int {
	opts = serveOptions{}
	fs := serveFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if (len(opts.configs) == 0 && opts.admin == "") || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "dohost serve: give at least one --config FILE (or --admin-addr, to start with the workers deployed before and deploy more through the admin API) and no other arguments")
		return 2
	}
	level := slog.LevelInfo
	if opts.verbose {
		level = slog.LevelDebug
	}
	// Handlers log without waiting for stderr's writes (host.LogWriter);
	// whatever else this function writes goes the same way, in order.
	lw := host.NewLogWriter(stderr)
	defer lw.Close()
	stderr = lw
	var h slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	if opts.logJSON {
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level, ReplaceAttr: durationSeconds})
	}
	log := slog.New(lw.Handler(h))

	// Connections are files: take every one the hard limit allows.
	if n, err := host.RaiseOpenFiles(); err != nil {
		log.Warn("cannot raise the open-files limit", "err", err)
	} else {
		log.Debug("open-files limit", "files", n)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if err := checkSlice(opts.slice); err != nil {
		fmt.Fprintf(stderr, "dohost serve: %v\n", err)
		return 2
	}
	if opts.refusal < 0 {
		fmt.Fprintf(stderr, "dohost serve: --refusal-pause %v: give 0 (answer at once) or a positive duration\n", opts.refusal)
		return 2
	}
	if opts.slice > 0 {
		if n, err := setSlice(opts.slice); err != nil {
			log.Warn("cannot set the threads' time slice: requests wait longer for a core while guests compute", "slice", opts.slice, "err", err)
		} else {
			log.Debug("time slice set", "slice", opts.slice, "threads", n)
		}
	}
	if opts.maxObjects < 1 || opts.idle <= 0 {
		fmt.Fprintln(stderr, "dohost serve: --max-objects must be at least 1 and --idle-timeout positive")
		return 2
	}
	grants, err := loadGrants(opts.accounts)
	if err != nil {
		fmt.Fprintf(stderr, "dohost: %v\n", err)
		return 2
	}
	secrets, err := host.LoadSecrets(opts.secrets)
	if err != nil {
		fmt.Fprintf(stderr, "dohost: %v\n", err)
		return 2
	}
	srv, err := host.New(ctx, host.Options{Configs: opts.configs, DataDir: opts.data, Logger: log, Accounts: grants, Secrets: secrets,
		MaxLiveObjects: opts.maxObjects, IdleTimeout: opts.idle, AccessLog: opts.accessLog, RefusalPause: refusalPause(opts.refusal),
		Limits: host.Limits{GuestMemory: opts.memory, AccountGuestMemory: opts.acctMemory}})
	if err != nil {
		fmt.Fprintf(stderr, "dohost: %v\n", err)
		return 1
	}
	// Compiling, snapshotting and checking the modules leaves tens of
	// megabytes of garbage (39 of the chat example's 116 MB of RSS), which
	// the collector would give back to the system only bit by bit: it goes
	// back now, before the first request.
	debug.FreeOSMemory()
	ln, err := net.Listen("tcp", opts.listen)
	if err != nil {
		fmt.Fprintf(stderr, "dohost: %v\n", err)
		_ = srv.Close(context.Background())
		return 1
	}
	hs := host.NewHTTPServer(srv, host.HTTPLimits{MaxConns: opts.maxConns}, slog.NewLogLogger(h, slog.LevelWarn))
	if opts.debug != "" {
		// The mutex and block profiles are empty unless sampled: one
		// contention event in 100, and blocking events of 100 µs on
		// average, cost little beside what they show.
		runtime.SetMutexProfileFraction(100)
		runtime.SetBlockProfileRate(int(100 * time.Microsecond))
		go func() {
			// DefaultServeMux carries net/http/pprof's handlers.
			if err := http.ListenAndServe(opts.debug, nil); err != nil {
				log.Error("debug server", "err", err)
			}
		}()
	}
	var admin *http.Server
	if opts.admin != "" {
		tokens, err := adminTokens(opts.tokens)
		if err != nil {
			fmt.Fprintf(stderr, "dohost: %v\n", err)
			_ = ln.Close()
			_ = srv.Close(context.Background())
			return 2
		}
		aln, err := listenAdmin(opts.admin)
		if err != nil {
			fmt.Fprintf(stderr, "dohost: admin address: %v\n", err)
			_ = ln.Close()
			_ = srv.Close(context.Background())
			return 1
		}
		admin = &http.Server{Handler: srv.AdminHandler(tokens), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := admin.Serve(aln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("admin server", "err", err)
			}
		}()
		log.Info("admin endpoints", "addr", aln.Addr().String(), "paths", "/v1/ /metrics /healthz /readyz", "tokens", tokens.Len())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("serving", "addr", "http://"+ln.Addr().String(), "data", opts.data, "workers", len(opts.configs))

	code := 0
	select {
	case <-ctx.Done():
		srv.SetStopping() // /readyz answers 503 while the requests drain
		log.Info("shutting down: draining in-flight requests", "timeout", opts.drain)
		sctx, cancel := context.WithTimeout(context.Background(), opts.drain)
		if err := hs.Shutdown(sctx); err != nil {
			// Requests still running now are stopped by Close: their
			// guests trap, and their clients get a 503.
			log.Warn("drain incomplete: the requests still running are stopped", "err", err)
		}
		cancel()
	case err := <-errc:
		log.Error("http server stopped", "err", err)
		code = 1
	}
	// Guest calls still running past the drain are stopped now; Close
	// waits for them at most closeTimeout, and never closes what one of
	// them could still touch.
	cctx, ccancel := context.WithTimeout(context.Background(), closeTimeout)
	if err := srv.Close(cctx); err != nil {
		log.Error("close", "err", err)
		code = 1
	}
	ccancel()
	if admin != nil {
		_ = admin.Close()
	}
	log.Info("stopped")
	return code
}

// adminTokens loads the admin tokens: the file's, and $DOHOST_ADMIN_TOKEN
// as the operator's (named "operator").
func adminTokens(file string) (*host.Tokens, error) {
	t := &host.Tokens{}
	if file != "" {
		var err error
		if t, err = host.LoadTokens(file); err != nil {
			return nil, err
		}
	}
	if tok := os.Getenv("DOHOST_ADMIN_TOKEN"); tok != "" {
		if err := t.Add(host.Principal{Name: "operator"}, tok); err != nil {
			return nil, fmt.Errorf("$DOHOST_ADMIN_TOKEN: %w", err)
		}
	}
	return t, nil
}

// listenAdmin listens on the admin address: HOST:PORT, or unix:PATH (a
// socket only its owner may use; a stale one is replaced).
func listenAdmin(addr string) (net.Listener, error) {
	path, ok := strings.CutPrefix(addr, "unix:")
	if !ok {
		return net.Listen("tcp", addr)
	}
	if st, err := os.Lstat(path); err == nil && st.Mode()&os.ModeSocket != 0 {
		_ = os.Remove(path)
	}
	old := syscall.Umask(0o077)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	return ln, err
}

// durationSeconds writes durations as seconds in JSON logs (text logs
// show them as Go writes them: 1.5ms).
func durationSeconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.Float64(a.Key, a.Value.Duration().Seconds())
	}
	return a
}
