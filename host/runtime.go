package host

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/wasmbin"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// wasiModule is the only import module besides abi.ImportModule.
const wasiModule = wasi_snapshot_preview1.ModuleName

// newRuntime returns a wazero runtime with the dohost host module and a
// sandboxed WASI (no files, sockets, arguments or environment) instantiated.
// Every guest call in it is bounded by its context: a runaway guest is
// stopped at its deadline instead of stalling the process.
func newRuntime(ctx context.Context, cache wazero.CompilationCache, memoryPages uint32) (wazero.Runtime, error) {
	cfg := wazero.NewRuntimeConfigCompiler().
		WithCloseOnContextDone(true).
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
	return rt, nil
}

// mergeGap is the longest run of zeros between two data segments that
// MergeDataSegments fills to join them: the pages in between are written
// anyway when the segments are this close.
const mergeGap = 4096

// compileGuest compiles a guest module and checks it against the ABI: the
// version it declares, every import, and the exports the host calls. Each
// problem is a clear error at load, never a surprise at the first request.
func compileGuest(ctx context.Context, rt wazero.Runtime, path string, wasm []byte) (wazero.CompiledModule, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, fmt.Errorf("%s is not a WebAssembly module (it does not start with \\0asm)", path)
	}
	if v := wasm[4:8]; v[0] != 1 || v[1] != 0 || v[2] != 0 || v[3] != 0 {
		return nil, fmt.Errorf("%s is a WebAssembly binary of version %d; only version 1 (the MVP binary format) is supported", path, v[0])
	}
	// Merging data segments makes instantiating Go guests several times
	// faster; if the merged module fails to compile, the original's error
	// is the one to report.
	merged, changed := wasmbin.MergeDataSegments(wasm, mergeGap)
	cm, err := rt.CompileModule(ctx, merged)
	if err != nil && changed {
		cm, err = rt.CompileModule(ctx, wasm)
	}
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", path, err)
	}
	if err := checkGuest(rt, cm); err != nil {
		_ = cm.Close(ctx)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cm, nil
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
	mod         api.Module
	workerFetch api.Function
	classes     api.Function
	objectNew   api.Function
	objectFetch api.Function
	mem         *linearMemory // nil when wazero's default memory is used
	stack       [1]uint64
}

// instantiate creates an instance of cm and runs its reactor initializer.
func instantiate(ctx context.Context, rt wazero.Runtime, cm wazero.CompiledModule, cfg wazero.ModuleConfig) (*instance, error) {
	actx, alloc := withMemoryAllocator(ctx)
	mod, err := rt.InstantiateModule(actx, cm, cfg)
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w", describeTrap(err))
	}
	inst := &instance{
		mod:         mod,
		mem:         alloc.mem,
		workerFetch: mod.ExportedFunction(abi.ExportWorkerFetch),
		classes:     mod.ExportedFunction(abi.ExportClasses),
		objectNew:   mod.ExportedFunction(abi.ExportObjectNew),
		objectFetch: mod.ExportedFunction(abi.ExportObjectFetch),
	}
	if init := mod.ExportedFunction(abi.ExportInitialize); init != nil {
		inst.mem.enter()
		_, err := init.Call(ctx)
		inst.mem.exit()
		if err != nil {
			_ = mod.Close(ctx)
			return nil, fmt.Errorf("%s: %w", abi.ExportInitialize, describeTrap(err))
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
