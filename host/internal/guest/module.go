package guest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing/fstest"
	"time"

	"github.com/dohost/dohost/host/internal/quota"
	"github.com/dohost/dohost/host/internal/wasmbin"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// How guests are metered (see wasmbin.Prepare): the module and function
// the metered code calls when its fuel runs out, the fuel of one slice
// (about that many instructions run between two calls), and the prefix of
// the exports that give the host a snapshot's globals. Guests can neither
// import the module nor export such names.
const (
	meterModule   = "dohost:internal"
	meterFunc     = "fuel"
	overflowFunc  = "overflow"
	tableGrowFunc = "tablegrow"
	fuelPerSlice  = 1 << 18
	globalPrefix  = "dohost:global:"
	// importCallWeight is what a call to a host function (dohost's or
	// WASI's) costs in fuel: at most 256 of them run between two fuel
	// slices.
	importCallWeight = 1 << 10
)

// maxTableElements is the most elements an instance's tables may hold
// together, at the start or grown (8 MiB of host memory); growing one is
// charged to the memory budget as well.
const maxTableElements = 1 << 20

// tableElementBytes is what one table element is charged: wazero keeps a
// pointer per element in a slice, and a grow may double the slice's
// capacity and copy it: three pointers' worth.
const tableElementBytes = 24

// maxCallDepth bounds how deep a guest's calls nest. wazero grows the
// stack it runs guest code on up to 400 MB; a bound on frames keeps a
// runaway recursion to a few MB of host memory, and ends it at once with
// a clear error. It is twice the ~10,000 frames a Workers isolate allows.
const maxCallDepth = 20_000

// wasiModule is the only import module besides abi.ImportModule that a
// guest may import.
const wasiModule = wasi_snapshot_preview1.ModuleName

// Limits bound what one instance of a module may use.
type Limits struct {
	// MemoryPages caps each instance's linear memory, in 64 KiB pages.
	MemoryPages uint32
	// CPU is the time one handler call may run.
	CPU time.Duration
	// RequestBody and ResponseBody cap the bodies of the requests a guest
	// sends through a stub and of the responses it gives.
	RequestBody, ResponseBody int64
	// Writes caps the bytes one transaction's handler calls may write.
	Writes int64
	// Startup caps the time an instance's initialization (a start
	// function, _initialize) may take, under CPU; zero means CPU.
	Startup time.Duration
}

// startup is the time limit of an initialization.
func (l Limits) startup() time.Duration {
	if l.Startup > 0 && l.Startup < l.CPU {
		return l.Startup
	}
	return l.CPU
}

// Options configure Compile.
type Options struct {
	// Path names the module in messages (its file).
	Path string
	// Cache is the compilation cache shared by a server's modules; nil
	// compiles every time.
	Cache *Cache
	Limits
	// Log receives the module's load messages and its guests' log lines,
	// which every instance tags further.
	Log *slog.Logger
	// Load is the server's count of work in flight, for throttling.
	Load *Load
	// Tenant holds the budgets of the worker's account (and the host's)
	// that its guests draw from; nil: none.
	Tenant *quota.Tenant
	// Vars are the worker's vars and secrets, by name: env_get's answers
	// and the instances' environment variables.
	Vars map[string][]byte
}

// Module is a guest module compiled for one worker: checked against the
// ABI, metered, compiled, and, when it can be, initialized once as a
// snapshot. It is safe for concurrent use; Close it when every instance is
// closed.
type Module struct {
	path     string
	rt       wazero.Runtime // the worker's own: limits are per runtime
	cache    *Cache         // the compilation cache rt shares, or nil
	cm       wazero.CompiledModule
	prep     *wasmbin.Prepared
	snap     *snapshot // nil: instances run their initializer
	exports  map[string]bool
	limits   Limits
	log      *slog.Logger
	logLimit *logLimiter // the log lines of every instance
	load     *Load
	vars     map[string][]byte // env_get and the WASI environment
	tenant   *quota.Tenant
	cpu      *quota.CPU // the tenant's, or the module's own without one
	// memMin and memMax are the bytes of an instance's memory when it
	// starts and at most: its declared minimum, and the least of its
	// declared maximum and the worker's limit.
	memMin, memMax uint64
	// writes is the pages its instances usually write, faulted in
	// when one starts (prefault_linux.go).
	writes writeSet
	// spares are closed instances kept to be revived (recycle.go).
	spares spares
	// files is what the module's instances see as their file system,
	// read-only: a JavaScript runtime's bundle (BundleSection), or nil:
	// none.
	files fs.FS
	// refs counts the module's owner (until Close) and its open
	// instances: the compiled code and the snapshot are released when the
	// last goes, so that a module replaced by a deploy outlives the
	// instances still running it.
	refs atomic.Int64
	// trapped counts the instances closed after a trap (CloseTrapped)
	// that no new instance has replaced yet.
	trapped atomic.Int64
}

// Compile checks wasm against the ABI (the version it declares, every
// import, the signature of every handler it exports), meters it, compiles
// it and takes its snapshot. Each problem is an error at load, never a
// surprise at the first request; every problem of the imports and exports
// is reported at once.
func Compile(ctx context.Context, wasm []byte, o Options) (_ *Module, err error) {
	if o.Load == nil {
		o.Load = NewLoad()
	}
	m := &Module{path: o.Path, limits: o.Limits, log: o.Log, logLimit: newLogLimiter(o.Log), load: o.Load, vars: o.Vars, tenant: o.Tenant, cache: o.Cache, cpu: &quota.CPU{}}
	m.refs.Store(1)
	if o.Tenant != nil {
		m.cpu = &o.Tenant.CPU
	}
	defer func() {
		if err != nil {
			m.Close(ctx)
		}
	}()
	if m.rt, err = newRuntime(ctx, o.Cache, o.MemoryPages); err != nil {
		return nil, err
	}
	if err := m.compile(ctx, wasm); err != nil {
		return nil, err
	}
	if m.prep.Snapshot {
		if err := m.takeSnapshot(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", m.path, err)
		}
	} else {
		m.log.Info("instances of this module run its initializer each: it cannot be snapshotted", "reason", m.prep.NoSnapshot)
	}
	return m, nil
}

// Has reports whether the module exports the handler name.
func (m *Module) Has(name string) bool { return m.exports[name] }

// Close gives up the owner's hold on the module: its compiled code, its
// snapshot and its runtime are released at once if no instance is open,
// otherwise when the last one closes. Instances may keep running after
// Close, but no new one may be made.
func (m *Module) Close(ctx context.Context) {
	if m == nil {
		return
	}
	m.closeSpares(ctx)
	m.unref(ctx)
}

// unref drops one reference, releasing the module with the last.
func (m *Module) unref(ctx context.Context) {
	if m.refs.Add(-1) != 0 {
		return
	}
	m.snap.close()
	if m.cm != nil {
		_ = m.cm.Close(ctx)
	}
	if m.rt != nil {
		_ = m.rt.Close(ctx)
	}
}

// newRuntime returns a wazero runtime with the dohost host module, the
// meter's functions and a sandboxed WASI (no files, sockets, arguments or
// environment) instantiated.
//
// wazero's own way to stop a runaway guest (WithCloseOnContextDone) calls
// into Go at every loop iteration, which makes guest code about three times
// slower. dohost meters the code instead: the guest calls the fuel function
// every slice of about fuelPerSlice instructions, and that call ends a call
// that is past its deadline (clock.go). Because it is a call into Go, it is
// also where the Go scheduler and garbage collector can stop the goroutine
// running the guest, so that a guest in an endless loop never stalls the
// process.
func newRuntime(ctx context.Context, cache *Cache, memoryPages uint32) (wazero.Runtime, error) {
	cfg := wazero.NewRuntimeConfigCompiler().
		WithCloseOnContextDone(false).
		WithMemoryLimitPages(memoryPages).
		WithCoreFeatures(api.CoreFeaturesV2)
	if cache != nil {
		cfg = cfg.WithCompilationCache(cache.c)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("instantiate wasi: %w", err)
	}
	if err := instantiateHostModule(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, err
	}
	_, err := rt.NewHostModuleBuilder(meterModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(fuel), nil, []api.ValueType{api.ValueTypeI32}).
		Export(meterFunc).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(context.Context, api.Module, []uint64) { panic(errCallDepth) }), nil, nil).
		Export(overflowFunc).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(tableGrow), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}).
		Export(tableGrowFunc).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(memFill), bulkParams, []api.ValueType{api.ValueTypeI32}).
		Export(memFillFunc).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(memCopy), bulkParams, []api.ValueType{api.ValueTypeI32}).
		Export(memCopyFunc).
		Instantiate(ctx)
	if err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("instantiate meter module: %w", err)
	}
	return rt, nil
}

// compile checks, meters and compiles wasm.
func (m *Module) compile(ctx context.Context, wasm []byte) error {
	path := m.path
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return fmt.Errorf("%s is not a WebAssembly module (it does not start with \\0asm)", path)
	}
	if v := wasm[4:8]; v[0] != 1 || v[1] != 0 || v[2] != 0 || v[3] != 0 {
		return fmt.Errorf("%s is a WebAssembly binary of version %d; only version 1 (the MVP binary format) is supported", path, v[0])
	}
	// A JavaScript Worker's bundle is given to its instances as a file;
	// the runtime is compiled without it, so that every Worker on the
	// same runtime shares its compiled code (and the cache's copy).
	if js, ok, _ := wasmbin.CustomSection(wasm, BundleSection); ok {
		m.files = fstest.MapFS{BundleFile: &fstest.MapFile{Data: js, Mode: 0o444}}
		var err error
		if wasm, err = wasmbin.WithoutCustomSection(wasm, BundleSection); err != nil {
			return fmt.Errorf("%s is not a valid WebAssembly module: %w", path, err)
		}
	}
	// The module is prepared before wazero sees it: Prepare checks every
	// count and length against the bytes there are, so a hostile count
	// cannot make the compiler allocate what it asks for.
	p, err := wasmbin.Prepare(wasm, wasmbin.Options{
		FuelModule: meterModule, FuelName: meterFunc, Fuel: fuelPerSlice, ImportCallWeight: importCallWeight,
		OverflowName: overflowFunc, MaxDepth: maxCallDepth, GlobalPrefix: globalPrefix,
		TableGrowName: tableGrowFunc, MaxTableElements: maxTableElements,
		FillName: memFillFunc, CopyName: memCopyFunc, BulkAbove: bulkAbove,
	})
	switch {
	case errors.Is(err, wasmbin.ErrMalformed):
		return fmt.Errorf("%s is not a valid WebAssembly module: %w", path, err)
	case errors.Is(err, wasmbin.ErrUnsupported):
		// Not for wazero: its decoder allocates what a module's counts
		// ask for, and these bytes were not all read through
		// (testdata/hostile/hugecount, elemcount).
		return fmt.Errorf("%s cannot be metered: its code is malformed or uses an instruction outside WebAssembly 2.0: %w", path, err)
	case err != nil:
		return fmt.Errorf("%s: %w", path, err)
	}
	cm, err := m.compileModule(ctx, p.Wasm)
	if err != nil {
		// Report the error in terms of the module as it was given:
		// Prepare has read all of it but its custom sections, which go.
		orig, _ := wasmbin.WithoutCustomSection(wasm, "name")
		if _, cerr := m.compileModule(ctx, orig); cerr != nil {
			return fmt.Errorf("compile %s: %w", path, cerr)
		}
		return fmt.Errorf("compile %s after metering it (a dohost bug): %w", path, err)
	}
	m.cm, m.prep = cm, p
	if err := m.check(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if def := cm.ExportedMemories()["memory"]; def != nil {
		limit := m.limits.MemoryPages
		if limit == 0 {
			limit = 65536 // wazero's: 4 GiB
		}
		pages := limit
		if mx, ok := def.Max(); ok && mx < limit {
			pages = mx
		}
		m.memMin, m.memMax = uint64(def.Min())*65536, uint64(pages)*65536
	}
	return nil
}

// BundleSection is the custom section that carries a JavaScript Worker's
// bundle in a module of dohost's JavaScript runtime; its instances read it
// as the file /BundleFile (guests/js/runtime).
const BundleSection = "dohost.js"

// BundleFile is the name the bundle has in the instance's file system.
const BundleFile = "bundle.js"

// moduleConfig is the sandbox every guest instance runs in: real clocks and
// crypto randomness, no files, sockets or arguments, and stdout/stderr sent
// to the host's log. Its environment is the worker's vars (withEnv).
func moduleConfig(stdout, stderr *logWriter) wazero.ModuleConfig {
	return wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions().
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader).
		WithStdout(stdout).
		WithStderr(stderr)
}

// Cache is a compilation cache on disk: compiled code that makes the next
// start of the same module fast. It is safe for concurrent use and may be
// shared by the modules of a server.
type Cache struct {
	c wazero.CompilationCache
	// mu serializes compiling: the runtimes that share a cache share its
	// compiled modules, and wazero publishes a module it loads from the
	// directory before it has finished preparing it, so that a second
	// compile of the same bytes could use it half-made.
	mu sync.Mutex
}

// compileModule compiles wasm in the module's runtime, one compile at a
// time among the runtimes that share its cache. A panic in wazero is an
// error: its validator has panicked on hostile bytes (those of
// testdata/hostile/validatorpanic, which the meter now refuses before
// wazero sees them), and a module that cannot be compiled is refused,
// never the host taken down with it.
func (m *Module) compileModule(ctx context.Context, wasm []byte) (cm wazero.CompiledModule, err error) {
	if m.cache != nil {
		m.cache.mu.Lock()
		defer m.cache.mu.Unlock()
	}
	defer func() {
		if r := recover(); r != nil {
			cm, err = nil, fmt.Errorf("wazero failed on it: %v", r)
		}
	}()
	return m.rt.CompileModule(ctx, wasm)
}

// NewCache opens (creating it if needed) the compilation cache in dir.
func NewCache(dir string) (*Cache, error) {
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open compilation cache %s: %w", dir, err)
	}
	return &Cache{c: c}, nil
}

// Close closes the cache. It is safe on nil.
func (c *Cache) Close(ctx context.Context) {
	if c != nil {
		_ = c.c.Close(ctx)
	}
}

// CPU returns the schedule of the module's account's runaway work, which
// also counts the account's work in flight (Load.Begin).
func (m *Module) CPU() *quota.CPU { return m.cpu }
