package wasmbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dohost/dohost/host/internal/bigcopy"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

var testOpts = Options{FuelModule: "fuel", FuelName: "refill", OverflowName: "overflow", Fuel: 1000, MaxDepth: 1000, GlobalPrefix: "snap:"}

var (
	errOutOfFuel = errors.New("out of fuel")
	errOverflow  = errors.New("calls nest too deep")
)

// fuelRuntime is a runtime with the "env" import of meter.wat and the
// meter's functions. The fuel function counts its calls and, once limit
// calls have been made (limit > 0), stops the guest; the fill and copy
// functions (for modules prepared with FillName "fill" and CopyName
// "copy") count theirs in bulkCalls and do the work in one piece, or leave
// an out-of-bounds range to the instruction.
type fuelRuntime struct {
	wazero.Runtime
	calls     atomic.Int64
	limit     int64
	bulkCalls atomic.Int64
	// grows records the table.grow hook's calls, [n, table] each; it
	// refuses grows of more than growLimit elements.
	grows     [][2]uint32
	growLimit uint32
}

func newFuelRuntime(t testing.TB) *fuelRuntime {
	t.Helper()
	ctx := context.Background()
	f := &fuelRuntime{Runtime: wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())}
	t.Cleanup(func() { f.Close(ctx) })
	_, err := f.NewHostModuleBuilder("env").NewFunctionBuilder().
		WithFunc(func(x int32) int32 { return 2 * x }).Export("twice").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.NewHostModuleBuilder(testOpts.FuelModule).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, s []uint64) {
			if n := f.calls.Add(1); f.limit > 0 && n >= f.limit {
				panic(errOutOfFuel)
			}
			s[0] = uint64(testOpts.Fuel)
		}), nil, []api.ValueType{api.ValueTypeI32}).Export(testOpts.FuelName).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(context.Context, api.Module, []uint64) {
		panic(errOverflow)
	}), nil, nil).Export(testOpts.OverflowName).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, m api.Module, s []uint64) {
			f.bulkCalls.Add(1)
			d, v, n := uint32(s[0]), byte(s[1]), uint32(s[2])
			s[0] = uint64(n) // out of bounds: left to the instruction, which traps
			if mem, ok := inBounds(m, d, n); ok {
				bigcopy.Fill(mem[d:d+n], v, nil)
				s[0] = 0
			}
		}), bulkTypes, []api.ValueType{api.ValueTypeI32}).Export("fill").
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, m api.Module, s []uint64) {
			f.bulkCalls.Add(1)
			d, src, n := uint32(s[0]), uint32(s[1]), uint32(s[2])
			s[0] = uint64(n)
			mem, ok := inBounds(m, d, n)
			if _, ok2 := inBounds(m, src, n); ok && ok2 {
				bigcopy.Move(mem, int(d), int(src), int(n), nil)
				s[0] = 0
			}
		}), bulkTypes, []api.ValueType{api.ValueTypeI32}).Export("copy").
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, s []uint64) {
			n, table := uint32(s[0]), uint32(s[1])
			f.grows = append(f.grows, [2]uint32{n, table})
			if n > f.growLimit {
				s[0] = 0xFFFFFFFF
			}
		}), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}).Export("grow").
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, f); err != nil {
		t.Fatal(err)
	}
	return f
}

// bulkTypes are the parameters of the fill and copy functions.
var bulkTypes = []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}

// inBounds returns m's whole memory and whether [at, at+n) is inside it.
func inBounds(m api.Module, at, n uint32) ([]byte, bool) {
	mem, _ := m.Memory().Read(0, m.Memory().Size())
	return mem, uint64(at)+uint64(n) <= uint64(len(mem))
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func call(t *testing.T, m api.Module, name string, args ...uint64) uint64 {
	t.Helper()
	res, err := m.ExportedFunction(name).Call(context.Background(), args...)
	if err != nil {
		t.Fatalf("%s%v: %v", name, args, err)
	}
	if len(res) == 0 {
		return 0
	}
	return res[0]
}

// TestPrepare_SameBehaviour runs every function of meter.wat in the
// original and the prepared module and compares the results.
func TestPrepare_SameBehaviour(t *testing.T) {
	orig := readTestdata(t, "meter.wasm")
	p, err := Prepare(orig, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if p.Snapshot {
		t.Errorf("meter.wasm uses table.set and has a start function: snapshot should be off")
	}
	ctx := context.Background()
	rt := newFuelRuntime(t)
	a, err := rt.InstantiateWithConfig(ctx, orig, wazero.NewModuleConfig().WithName("a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := rt.InstantiateWithConfig(ctx, p.Wasm, wazero.NewModuleConfig().WithName("b"))
	if err != nil {
		t.Fatalf("prepared module: %v", err)
	}
	cases := []struct {
		name string
		args []uint64
	}{
		{"sum", []uint64{100}}, {"sum", []uint64{0}}, {"grid", []uint64{30, 40}}, {"fib", []uint64{20}},
		{"apply", []uint64{0, 5, 3}}, {"apply", []uint64{1, 5, 3}}, {"imported", []uint64{50}},
		{"counter", nil}, {"wide", nil}, {"fref_is_null", nil}, {"load", []uint64{16}}, {"load", []uint64{1004}},
		{"pairsum", []uint64{0}}, {"pairsum", []uint64{1}}, {"fib", []uint64{22}}, {"nested_return", []uint64{7}},
	}
	for _, c := range cases {
		if x, y := call(t, a, c.name, c.args...), call(t, b, c.name, c.args...); x != y {
			t.Errorf("%s%v: original %d, prepared %d", c.name, c.args, x, y)
		}
	}
	call(t, a, "setmul")
	call(t, b, "setmul")
	if x, y := call(t, a, "apply", 2, 6, 7), call(t, b, "apply", 2, 6, 7); x != 42 || y != 42 {
		t.Errorf("apply mul: original %d, prepared %d, want 42", x, y)
	}
	if rt.calls.Load() == 0 {
		t.Errorf("the fuel function was never called (grid runs 1200 iterations on 1000 fuel)")
	}
	// Traps and their stack traces still name the functions.
	if _, err := b.ExportedFunction("boom").Call(ctx); err == nil || !strings.Contains(err.Error(), ".boom(") {
		t.Errorf("boom: got %v, want a trap naming the function", err)
	}
}

// TestPrepare_StopsRunaways: a loop that never ends and a recursion without
// loops both call the fuel function, which stops them.
func TestPrepare_StopsRunaways(t *testing.T) {
	p, err := Prepare(readTestdata(t, "meter.wasm"), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	for fn, args := range map[string][]uint64{"spin": nil, "explode": {0}} {
		t.Run(fn, func(t *testing.T) {
			rt := newFuelRuntime(t)
			rt.limit = 5
			m, err := rt.Instantiate(context.Background(), p.Wasm)
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.ExportedFunction(fn).Call(context.Background(), args...)
			if !errors.Is(err, errOutOfFuel) {
				t.Fatalf("got %v, want the fuel function's error", err)
			}
		})
	}
}

// TestPrepare_Depth: recursion deeper than MaxDepth calls the overflow
// function; every way out of a function (end, return, branch) undoes its
// count, so deep but bounded call trees run many times over.
func TestPrepare_Depth(t *testing.T) {
	p, err := Prepare(readTestdata(t, "meter.wasm"), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	rt := newFuelRuntime(t)
	m, err := rt.Instantiate(context.Background(), p.Wasm)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		call(t, m, "fib", 15)
		call(t, m, "nested_return", uint64(i))
		call(t, m, "pairsum", uint64(i%2))
	}
	if got := call(t, m, "recurse", 990); got != 990 {
		t.Errorf("recurse(990) = %d", got)
	}
	if _, err := m.ExportedFunction("recurse").Call(context.Background(), 1001); !errors.Is(err, errOverflow) {
		t.Errorf("recurse(1001): got %v, want the overflow function's error", err)
	}
}

// TestPrepare_Snapshot: a module without a start function or table changes
// is prepared for snapshots: active data moved out, mutable globals (its
// own and the meter's) exported; writing the data and setting the globals
// gives the original state.
func TestPrepare_Snapshot(t *testing.T) {
	orig := readTestdata(t, "snapshot.wasm")
	p, err := Prepare(orig, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Snapshot {
		t.Fatalf("snapshot refused: %s", p.NoSnapshot)
	}
	if len(p.Data) != 2 || string(p.Data[0].Data) != "abc" || p.Data[1].Offset != 70000 {
		t.Errorf("data: got %+v", p.Data)
	}
	// The module's one mutable global, then the meter's fuel and depth.
	if len(p.Globals) != 3 || p.Globals[0].Name != "snap:0" || p.Globals[0].ValType != valI32 ||
		p.Globals[1].Name != "snap:1" || p.Globals[2].Name != "snap:2" {
		t.Errorf("globals: got %+v", p.Globals)
	}
	ctx := context.Background()
	rt := newFuelRuntime(t)
	m, err := rt.Instantiate(ctx, p.Wasm)
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, m, "load", 8); got != 0 {
		t.Errorf("data was applied by the module: byte at 8 is %d", got)
	}
	for _, d := range p.Data {
		m.Memory().Write(d.Offset, d.Data)
	}
	g := m.ExportedGlobal("snap:0").(api.MutableGlobal)
	g.Set(g.Get() + 1)
	call(t, m, "_initialize")
	if got := call(t, m, "load", 8); got != 'a' {
		t.Errorf("byte at 8 = %d, want 'a'", got)
	}
	if got := call(t, m, "get"); got != 101 {
		t.Errorf("get = %d, want 101 (100 set by _initialize, plus 1)", got)
	}
}

// TestPrepare_GoGuest prepares a real Go guest, then initializes it and
// calls one of its exports.
func TestPrepare_GoGuest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go guest")
	}
	in := buildGoGuest(t)
	p, err := Prepare(in, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Snapshot {
		t.Fatalf("snapshot refused for a Go guest: %s", p.NoSnapshot)
	}
	t.Logf("module %d → %d bytes; %d data segments, %d mutable globals", len(in), len(p.Wasm), len(p.Data), len(p.Globals))
	ctx := context.Background()
	rt := newFuelRuntime(t)
	m, err := rt.InstantiateWithConfig(ctx, p.Wasm, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range p.Data {
		if !m.Memory().Write(d.Offset, d.Data) {
			t.Fatalf("segment at %d does not fit", d.Offset)
		}
	}
	if _, err := m.ExportedFunction("_initialize").Call(ctx); err != nil {
		t.Fatalf("_initialize: %v", err)
	}
	if res, err := m.ExportedFunction("classes").Call(ctx); err != nil || res[0] != 3 {
		t.Fatalf("classes: got %v, %v; want 3", res, err)
	}
}

func buildGoGuest(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	src := `package main

import "strings"

var words = map[string]int{}

func init() {
	for _, w := range strings.Fields("one two three") {
		words[w] = len(w)
	}
}

//go:wasmexport classes
func classes() int32 { return int32(len(words)) }

func main() {}
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module g\n\ngo 1.24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "g.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzPrepare: no input panics Prepare; every module wazero accepts is
// prepared, and the prepared module compiles too.
func FuzzPrepare(f *testing.F) {
	f.Add(malformedNameModule())
	f.Add(readTestdata(f, "meter.wasm"))
	f.Add(readTestdata(f, "snapshot.wasm"))
	f.Add(readTestdata(f, "ops.wasm"))
	f.Add(readTestdata(f, "bulk.wasm"))
	// Every function the rewriter can add, and the guard of bulk
	// instructions.
	opts := testOpts
	opts.TableGrowName, opts.FillName, opts.CopyName, opts.BulkAbove = "grow", "fill", "copy", 4096
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	f.Cleanup(func() { rt.Close(ctx) })
	f.Fuzz(func(t *testing.T, wasm []byte) {
		p, err := Prepare(wasm, opts)
		if errors.Is(err, ErrMalformed) {
			// No valid module is malformed; and wazero's own decoder may
			// allocate what a hostile count asks for, which is why the
			// host prepares a module before wazero sees it.
			return
		}
		// The original is judged without its name section, as the host
		// compiles it (guest.Module.compile): wazero's decoder makes room
		// for a name subsection's count before it reads one entry, and a
		// count of 4 billion local name maps took the fuzzing process
		// down ("fatal error: runtime: out of memory"; the seed
		// namecount). Prepare drops a name section it cannot read
		// exactly, so what wazero sees of names is never more than their
		// bytes hold.
		orig, err2 := WithoutCustomSection(wasm, "name")
		if err2 != nil {
			return
		}
		cm, cerr := compileRecovered(ctx, rt, orig)
		if cerr != nil {
			return
		}
		cm.Close(ctx)
		if err != nil {
			if strings.Contains(err.Error(), "reserved") {
				return
			}
			t.Fatalf("valid module refused: %v\nmodule % x", err, wasm)
		}
		cm2, err := rt.CompileModule(ctx, p.Wasm)
		if err != nil {
			t.Fatalf("original compiles, prepared does not: %v\noriginal % x", err, wasm)
		}
		cm2.Close(ctx)
	})
}

// compileRecovered compiles wasm, with a panic of wazero's as an error:
// its validator panics on some bytes (testdata/fuzz/FuzzPrepare/7604b76aebeb0fad),
// which the host refuses the same way (guest's compileModule).
func compileRecovered(ctx context.Context, rt wazero.Runtime, wasm []byte) (cm wazero.CompiledModule, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("wazero panicked: %v", r)
		}
	}()
	return rt.CompileModule(ctx, wasm)
}

// TestPrepare_TableGrow: every table.grow first calls the hook with the
// number of elements and the table's index; what the hook returns is the
// number the grow asks for, so that 0xFFFFFFFF makes it fail.
func TestPrepare_TableGrow(t *testing.T) {
	opts := testOpts
	opts.TableGrowName = "grow"
	p, err := Prepare(readTestdata(t, "tables.wasm"), opts)
	if err != nil {
		t.Fatal(err)
	}
	rt := newFuelRuntime(t)
	rt.growLimit = 100
	m, err := rt.InstantiateWithConfig(context.Background(), p.Wasm, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ table, n, want uint32 }{
		{0, 5, 1},            // $a had 1 element
		{1, 3, 2},            // $b had 2
		{1, 3, 5},            // and then 5
		{1, 1, 0xFFFFFFFF},   // past $b's maximum of 8: wazero refuses
		{0, 101, 0xFFFFFFFF}, // the hook refuses
		{0, 0, 6},
	} {
		if got := uint32(call(t, m, "grow", uint64(c.table), uint64(c.n))); got != c.want {
			t.Errorf("grow(table %d, %d) = %d, want %d", c.table, c.n, int32(got), int32(c.want))
		}
	}
	want := [][2]uint32{{5, 0}, {3, 1}, {3, 1}, {1, 1}, {101, 0}, {0, 0}}
	if fmt.Sprint(rt.grows) != fmt.Sprint(want) {
		t.Errorf("the hook saw [n table] %v, want %v", rt.grows, want)
	}
}

// TestPrepare_Ops: a function with every kind of immediate gives the same
// result before and after metering, and its table changes keep it from
// being snapshotted.
func TestPrepare_Ops(t *testing.T) {
	orig := readTestdata(t, "ops.wasm")
	p, err := Prepare(orig, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if p.Snapshot {
		t.Error("ops.wasm changes tables: snapshot should be off")
	}
	ctx := context.Background()
	rt := newFuelRuntime(t)
	for _, x := range []uint64{0, 1, 2, 3, 7} {
		var got [2]uint64
		for i, wasm := range [][]byte{orig, p.Wasm} {
			m, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName(""))
			if err != nil {
				t.Fatal(err)
			}
			got[i] = call(t, m, "ops", x)
			m.Close(ctx)
		}
		if got[0] != got[1] {
			t.Errorf("ops(%d): original %d, prepared %d", x, got[0], got[1])
		}
	}
}

// TestPrepare_MalformedNameSection: a name section whose subsections say
// one size and hold another is read by wazero by their contents, up to
// the end of the module when it is the last section. Such a module
// compiles as given; prepared, with the sections the rewriter adds after
// it, it must compile too (FuzzPrepare found one that did not).
func TestPrepare_MalformedNameSection(t *testing.T) {
	wasm := malformedNameModule()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatalf("the module as given does not compile (the test is wrong): %v", err)
	}
	cm.Close(ctx)
	p, err := Prepare(wasm, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	cm, err = rt.CompileModule(ctx, p.Wasm)
	if err != nil {
		t.Fatalf("the module compiles as given, but not prepared: %v", err)
	}
	cm.Close(ctx)
}

// TestPrepare_HostileNameCount: a name section's subsection of local
// names that claims 4,294,967,295 functions in 5 bytes. wazero's decoder
// allocates a map entry for each before it reads one (137 GB: the
// process dies, "runtime: out of memory"); the prepared module has no
// name section, and compiles.
func TestPrepare_HostileNameCount(t *testing.T) {
	wasm := AppendCustomSection([]byte("\x00asm\x01\x00\x00\x00"), "name", []byte("\x02\x05\xff\xff\xff\xff\x0f"))
	p, err := Prepare(wasm, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.Wasm, []byte("\x04name")) {
		t.Errorf("the prepared module keeps the name section: % x", p.Wasm)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, p.Wasm)
	if err != nil {
		t.Fatalf("the prepared module does not compile: %v", err)
	}
	cm.Close(ctx)
}

// malformedNameModule is a module of one name section whose subsection 0
// (the module name) declares 1 byte, but whose name is 2 bytes long
// ("a\x00"); read by sizes, the rest is a subsection 0x61 of 0 bytes.
func malformedNameModule() []byte {
	name := []byte("\x04name\x00\x01\x02\x61\x00")
	wasm := append([]byte("\x00asm\x01\x00\x00\x00\x00"), byte(len(name)))
	return append(wasm, name...)
}

// TestPrepare_Bulk: memory.fill and memory.copy of more than BulkAbove
// bytes go through the host's functions, smaller ones stay native, and
// either way the memory, the stack, the traps and the module's globals
// are as the original module leaves them.
func TestPrepare_Bulk(t *testing.T) {
	opts := testOpts
	opts.FillName, opts.CopyName, opts.BulkAbove = "fill", "copy", 4096
	orig := readTestdata(t, "bulk.wasm")
	p, err := Prepare(orig, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Snapshot {
		t.Errorf("bulk.wasm: snapshot refused: %s", p.NoSnapshot)
	}
	ctx := context.Background()
	rt := newFuelRuntime(t)
	wasm := p.Wasm
	const memSize = 4 * 65536
	var want int64
	for _, c := range []struct {
		fn      string
		a, b, n uint32
		host    bool
	}{
		{"fill", 100, 0xAB, 10, false},
		{"fill", 100, 0x1AB, 100000, true}, // the value is a byte
		{"fill", 0, 1, memSize, true},
		{"fill", memSize, 1, 0, false},
		{"fill", memSize - 100, 3, 5000, true}, // out of bounds: traps
		{"fill", 0, 3, 0xFFFFFFFF, true},       // so does this
		{"copy", 5, 0, 10, false},
		{"copy", 1000, 0, 200000, true},     // overlapping, up
		{"copy", 0, 1000, 200000, true},     // overlapping, down
		{"copy", 200000, 0, 100000, true},   // out of bounds: traps
		{"copy", 0, 0xFFFFFF00, 5000, true}, // so does this
		{"copy", memSize, memSize, 0, false},
	} {
		var res [2]string
		for i, w := range [][]byte{orig, wasm} {
			m, err := rt.InstantiateWithConfig(ctx, w, wazero.NewModuleConfig().WithName(""))
			if err != nil {
				t.Fatal(err)
			}
			call(t, m, "pattern", 200000)
			r, err := m.ExportedFunction(c.fn).Call(ctx, uint64(c.a), uint64(c.b), uint64(c.n))
			if err != nil {
				res[i] = "trap: " + err.Error()
				if j := strings.Index(res[i], "\n"); j >= 0 {
					res[i] = res[i][:j]
				}
			} else {
				res[i] = fmt.Sprintf("%d, memory sum %d", r[0], call(t, m, "sum", 0, memSize))
			}
			m.Close(ctx)
		}
		if res[0] != res[1] {
			t.Errorf("%s(%d, %d, %d): original %s, prepared %s", c.fn, c.a, c.b, c.n, res[0], res[1])
		}
		if c.host {
			want++
		}
		if got := rt.bulkCalls.Load(); got != want {
			t.Errorf("%s(%d, %d, %d): the host was called %d times in all, want %d", c.fn, c.a, c.b, c.n, got, want)
			want = got
		}
	}
}

// TestPrepare_SectionOrder: a known section repeated, out of order or of
// an unknown id is malformed. The rewriter reads the last section of a
// kind and copied the others as they were: a first code section that
// claims 861 million bodies reached wazero, whose decoder made room for
// them (62 GB: the host died out of memory).
func TestPrepare_SectionOrder(t *testing.T) {
	head := "\x00asm\x01\x00\x00\x00"
	typ := "\x01\x04\x01\x60\x00\x00"                 // type: () -> ()
	fn := "\x03\x02\x01\x00"                          // function: one, of type 0
	code := "\x0a\x04\x01\x02\x00\x0b"                // code: one empty body
	hostile := "\x0a\x07\x9a\x9a\xe8\x9a\x03\x9a\x30" // code: 861,539,610 bodies in 7 bytes
	for _, c := range []struct{ name, wasm string }{
		{"two code sections", head + typ + fn + hostile + code},
		{"two type sections", head + typ + typ + fn + code},
		{"function after code", head + typ + code + fn},
		{"unknown section 13", head + typ + fn + code + "\x0d\x00"},
	} {
		if _, err := Prepare([]byte(c.wasm), testOpts); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "repeated or out of order") {
			t.Errorf("%s: %v, want ErrMalformed naming the section", c.name, err)
		}
	}
	if _, err := Prepare([]byte(head+typ+fn+"\x00\x03\x01x\x00"+code), testOpts); err != nil {
		t.Errorf("a custom section between known ones: %v", err)
	}
}
