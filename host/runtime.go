package host

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/wasmbin"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// wasiModule is the only import module besides abi.ImportModule that a
// guest may import.
const wasiModule = wasi_snapshot_preview1.ModuleName

// How guests are metered (see wasmbin.Prepare): the module and function
// the metered code calls when its fuel runs out, the fuel of one slice
// (about that many instructions run between two calls), and the prefix of
// the exports that give the host a snapshot's globals. Guests can neither
// import the module nor export such names.
const (
	meterModule  = "dohost:internal"
	meterFunc    = "fuel"
	overflowFunc = "overflow"
	fuelPerSlice = 1 << 18
	globalPrefix = "dohost:global:"
)

// maxCallDepth bounds how deep a guest's calls nest. wazero grows the
// stack it runs guest code on up to 400 MB; a bound on frames keeps a
// runaway recursion to a few MB of host memory, and ends it at once with
// a clear error. It is twice the ~10,000 frames a Workers isolate allows.
const maxCallDepth = 20_000

// throttleAfter is how long a guest call runs before it may be throttled:
// from then on, while other requests are in flight, it gets a twentieth
// of the time, sleeping at each fuel slice nineteen times as long as the
// slice ran. A guest that computes for long (or forever) thus leaves the cores
// to the short requests of every other object, which are nearly all
// requests, and runs at full speed when it is alone. The time it sleeps is
// added to its deadline, so that cpu_ms still measures time spent running.
const (
	throttleAfter = 5 * time.Millisecond
	throttleSleep = 19 // sleep per unit of running, once throttled
)

// newRuntime returns a wazero runtime with the dohost host module, the
// meter's fuel function and a sandboxed WASI (no files, sockets, arguments
// or environment) instantiated.
//
// wazero's own way to stop a runaway guest (WithCloseOnContextDone) calls
// into Go at every loop iteration, which makes guest code about three times
// slower. dohost meters the code instead: the guest calls the fuel function
// every slice of about fuelPerSlice instructions, and that call ends a call
// that is past its deadline. Because it is a call into Go, it is also where
// the Go scheduler and garbage collector can stop the goroutine running the
// guest, so that a guest in an endless loop never stalls the process.
func newRuntime(ctx context.Context, cache wazero.CompilationCache, memoryPages uint32) (wazero.Runtime, error) {
	cfg := wazero.NewRuntimeConfigCompiler().
		WithCloseOnContextDone(false).
		WithMemoryLimitPages(memoryPages).
		WithCoreFeatures(api.CoreFeaturesV2)
	if cache != nil {
		cfg = cfg.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("instantiate wasi: %w", err)
	}
	b := rt.NewHostModuleBuilder(abi.ImportModule)
	for _, f := range hostFuncs {
		b.NewFunctionBuilder().
			WithGoModuleFunction(f.fn, f.params, []api.ValueType{api.ValueTypeI32}).
			WithParameterNames(f.paramNames...).
			Export(f.name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("instantiate host module: %w", err)
	}
	_, err := rt.NewHostModuleBuilder(meterModule).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(fuel), nil, []api.ValueType{api.ValueTypeI32}).
		Export(meterFunc).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(context.Context, api.Module, []uint64) { panic(errCallDepth) }), nil, nil).
		Export(overflowFunc).Instantiate(ctx)
	if err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("instantiate meter module: %w", err)
	}
	return rt, nil
}

// errDeadline is what the fuel function panics with to end a guest call
// that ran past its deadline; describeTrap turns it into ErrGuestTimeout.
var errDeadline = errors.New("deadline")

// errCallDepth ends a guest whose calls nest deeper than maxCallDepth.
var errCallDepth = fmt.Errorf("call stack exhausted: calls nested more than %d deep", maxCallDepth)

// fuel is called by metered guest code when a slice of fuel is used up. It
// ends the call if it is past its deadline, throttles a call that has been
// running for long, and returns the next slice.
func fuel(ctx context.Context, _ api.Module, s []uint64) {
	if c := callFrom(ctx); c != nil {
		now := time.Now()
		if now.After(c.deadline) {
			panic(errDeadline)
		}
		if now.Sub(c.started) > throttleAfter {
			srv := c.app.srv
			if !c.throttled {
				c.throttled = true
				srv.throttled.Add(1)
			}
			// Sleeps shorter than the timer's granularity (about a
			// millisecond) last that long anyway: owe the pause until it
			// is worth a sleep, and count what the sleep really took.
			if srv.inflight.Load() > srv.throttled.Load() {
				c.owed += throttleSleep * now.Sub(c.lastSlice)
			}
			if c.owed >= time.Millisecond {
				time.Sleep(c.owed)
				slept := time.Since(now)
				c.owed -= slept
				c.deadline = c.deadline.Add(slept)
				now = now.Add(slept)
			}
		}
		c.lastSlice = now
	}
	s[0] = fuelPerSlice
}

// guest is a compiled guest module: the module as the host rewrote it and,
// when it has one, the snapshot its instances start from.
type guest struct {
	cm   wazero.CompiledModule
	prep *wasmbin.Prepared
	snap *snapshot // nil: instances run their initializer
}

func (g *guest) close(ctx context.Context) {
	if g == nil {
		return
	}
	g.snap.close()
	if g.cm != nil {
		_ = g.cm.Close(ctx)
	}
}

// compileGuest checks a guest module against the ABI (the version it
// declares, every import, the exports the host calls), meters it and
// compiles it. Each problem is a clear error at load, never a surprise at
// the first request.
func compileGuest(ctx context.Context, rt wazero.Runtime, path string, wasm []byte) (*guest, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, fmt.Errorf("%s is not a WebAssembly module (it does not start with \\0asm)", path)
	}
	if v := wasm[4:8]; v[0] != 1 || v[1] != 0 || v[2] != 0 || v[3] != 0 {
		return nil, fmt.Errorf("%s is a WebAssembly binary of version %d; only version 1 (the MVP binary format) is supported", path, v[0])
	}
	// The module is prepared before wazero sees it: Prepare checks every
	// count and length against the bytes there are, so a hostile count
	// cannot make the compiler allocate what it asks for.
	p, err := wasmbin.Prepare(wasm, wasmbin.Options{
		FuelModule: meterModule, FuelName: meterFunc, Fuel: fuelPerSlice,
		OverflowName: overflowFunc, MaxDepth: maxCallDepth, GlobalPrefix: globalPrefix,
	})
	switch {
	case errors.Is(err, wasmbin.ErrMalformed):
		return nil, fmt.Errorf("%s is not a valid WebAssembly module: %w", path, err)
	case errors.Is(err, wasmbin.ErrUnsupported):
		// Let wazero say what is wrong, if it can; otherwise the module
		// uses something it supports but the meter does not.
		if _, cerr := rt.CompileModule(ctx, wasm); cerr != nil {
			return nil, fmt.Errorf("compile %s: %w", path, cerr)
		}
		return nil, fmt.Errorf("%s uses an instruction dohost cannot meter: %w", path, err)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cm, err := rt.CompileModule(ctx, p.Wasm)
	if err != nil {
		// Report the error in terms of the module as it was given.
		if _, cerr := rt.CompileModule(ctx, wasm); cerr != nil {
			return nil, fmt.Errorf("compile %s: %w", path, cerr)
		}
		return nil, fmt.Errorf("compile %s after metering it (a dohost bug): %w", path, err)
	}
	if err := checkGuest(rt, cm); err != nil {
		_ = cm.Close(ctx)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &guest{cm: cm, prep: p}, nil
}

func checkGuest(rt wazero.Runtime, cm wazero.CompiledModule) error {
	exports := cm.ExportedFunctions()
	var versions []int
	for name := range exports {
		if v, ok := strings.CutPrefix(name, abi.VersionExportPrefix); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("export %q is not a valid ABI version marker", name)
			}
			versions = append(versions, n)
		}
	}
	sort.Ints(versions)
	switch {
	case len(versions) == 0:
		return fmt.Errorf("module does not declare a dohost ABI version: it must export a function %q (see abi/ABI.md); this host supports ABI v%d", abi.VersionExport, abi.Version)
	case len(versions) > 1:
		return fmt.Errorf("module declares several dohost ABI versions %v; export exactly one", versions)
	case versions[0] != abi.Version:
		return fmt.Errorf("module was built for dohost ABI v%d; this host supports ABI v%d only: rebuild it with a v%d SDK", versions[0], abi.Version, abi.Version)
	}
	var errs []error
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		switch mod {
		case meterModule:
			continue // added by the meter; Prepare refuses guests that import it themselves
		case abi.ImportModule, wasiModule:
			var def api.FunctionDefinition
			if host := rt.Module(mod); host != nil {
				def = host.ExportedFunctionDefinitions()[name]
			}
			if def == nil {
				errs = append(errs, fmt.Errorf("imports %s.%s, which ABI v%d does not have", mod, name, abi.Version))
				continue
			}
			if err := sameSignature(def, f); err != nil {
				errs = append(errs, fmt.Errorf("imports %s.%s with the wrong signature: %w", mod, name, err))
			}
		default:
			errs = append(errs, fmt.Errorf("imports %s.%s: only the modules %q and %q can be imported", mod, name, abi.ImportModule, wasiModule))
		}
	}
	for _, m := range cm.ImportedMemories() {
		mod, name, _ := m.Import()
		errs = append(errs, fmt.Errorf("imports memory %s.%s: a guest must define and export its own memory", mod, name))
	}
	if _, ok := cm.ExportedMemories()["memory"]; !ok {
		errs = append(errs, errors.New(`module does not export its memory as "memory"`))
	}
	want := map[string][2]int{ // name → params, results
		abi.ExportWorkerFetch: {1, 1},
		abi.ExportClasses:     {0, 1},
		abi.ExportObjectNew:   {1, 1},
		abi.ExportObjectFetch: {1, 1},
		abi.ExportObjectAlarm: {1, 1},
		abi.ExportInitialize:  {0, 0},
	}
	for name, pr := range want {
		d, ok := exports[name]
		if !ok {
			if name == abi.ExportWorkerFetch {
				errs = append(errs, fmt.Errorf("module does not export %q, the Worker's fetch handler", name))
			}
			continue
		}
		if !allI32(d.ParamTypes(), pr[0]) || !allI32(d.ResultTypes(), pr[1]) {
			errs = append(errs, fmt.Errorf("export %s has signature %s, want %d i32 parameter(s) and %d i32 result(s)", name, sig(d), pr[0], pr[1]))
		}
	}
	return errors.Join(errs...)
}

func allI32(ts []api.ValueType, n int) bool {
	if len(ts) != n {
		return false
	}
	for _, t := range ts {
		if t != api.ValueTypeI32 {
			return false
		}
	}
	return true
}

func sig(d api.FunctionDefinition) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return strings.Join(s, ", ")
	}
	return "(" + names(d.ParamTypes()) + ") -> (" + names(d.ResultTypes()) + ")"
}

func sameSignature(want, got api.FunctionDefinition) error {
	if sig(want) != sig(got) {
		return fmt.Errorf("got %s, want %s", sig(got), sig(want))
	}
	return nil
}

// instance is one instantiated guest module: a pooled Worker instance or
// the single instance of one object. It is not safe for concurrent use.
type instance struct {
	mod   api.Module
	mem   *linearMemory
	fns   []namedFunc // resolved exports
	stack [1]uint64
}

type namedFunc struct {
	name string
	fn   api.Function
}

// fn returns the exported function name (nil if there is none), resolving
// it on first use: wazero gives every resolved function a call stack of
// its own, so an instance resolves only what it calls.
func (i *instance) fn(name string) api.Function {
	for _, f := range i.fns {
		if f.name == name {
			return f.fn
		}
	}
	f := i.mod.ExportedFunction(name)
	i.fns = append(i.fns, namedFunc{name, f})
	return f
}

// trim releases what an idle instance holds that its next call can get
// back: the memory pages it shares with its snapshot and never wrote
// (they cost the host nothing, but count in its RSS) and the call stacks
// of its resolved exports (10 KB each, and more once grown).
func (i *instance) trim() {
	if i.mem != nil {
		i.mem.trim()
	}
	i.fns = nil
}

// instantiate creates an instance of a's guest for obj (nil: a Worker
// instance): from the snapshot when there is one, otherwise by running the
// module's initializer. Its start function and initializer run under the
// worker's time limit.
func (a *app) instantiate(ctx context.Context, cfg wazero.ModuleConfig, obj *object) (*instance, error) {
	g := a.guest
	var img *image
	if g.snap != nil {
		img = g.snap.img
	}
	c := &call{app: a, obj: obj, kind: kindInit}
	c.start()
	actx, alloc := withMemoryAllocator(ctx, img)
	mod, err := a.rt.InstantiateModule(c.context(actx), g.cm, cfg)
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w", describeTrap(err))
	}
	inst := &instance{mod: mod, mem: alloc.mem}
	if g.snap != nil {
		if err := g.snap.restore(mod); err != nil {
			inst.close(ctx)
			return nil, err
		}
		return inst, nil
	}
	if init := mod.ExportedFunction(abi.ExportInitialize); init != nil {
		c.inst = inst
		if err := c.run(ctx, init); err != nil {
			inst.close(ctx)
			return nil, fmt.Errorf("%s: %w", abi.ExportInitialize, err)
		}
	}
	return inst, nil
}

// moduleConfig is the sandbox every guest instance runs in: real clocks and
// crypto randomness, no files, sockets, arguments or environment, and
// stdout/stderr sent to the host's log.
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

func (i *instance) close(ctx context.Context) {
	if i != nil && i.mod != nil {
		_ = i.mod.Close(ctx)
	}
}

// ErrGuestTimeout is the cause of a guest call stopped at its deadline.
var ErrGuestTimeout = errors.New("guest ran past its time limit")

// describeTrap turns a wazero call error into a sentence about the guest.
func describeTrap(err error) error {
	if errors.Is(err, errDeadline) {
		return fmt.Errorf("%w (%w)", ErrGuestTimeout, context.DeadlineExceeded)
	}
	if errors.Is(err, errCallDepth) {
		return fmt.Errorf("guest trapped: %w", errCallDepth)
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return fmt.Errorf("%w (%w)", ErrGuestTimeout, context.DeadlineExceeded)
		case sys.ExitCodeContextCanceled:
			return fmt.Errorf("guest call canceled: %w", context.Canceled)
		default:
			return fmt.Errorf("guest exited with code %d", exit.ExitCode())
		}
	}
	return fmt.Errorf("guest trapped: %w", err)
}
