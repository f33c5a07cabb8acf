package wasmbin

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Options configure Prepare.
type Options struct {
	// FuelModule and FuelName name the function the metered code calls when
	// its fuel runs out: type () -> (i32), returning the fuel of the next
	// slice. The function may trap (panic) to stop the guest.
	FuelModule, FuelName string
	// Fuel is the fuel of a slice, about the number of instructions the
	// guest runs between two calls of the fuel function.
	Fuel int32
	// ImportCallWeight is the fuel a call to an imported function (a host
	// function) costs, in place of 1: a host call can do far more work than
	// an instruction, and a loop of them must reach the fuel function, and
	// its deadline check, often. Zero means 1.
	ImportCallWeight int32
	// OverflowName names the function, in FuelModule, of type () -> ()
	// that the code calls when its calls nest deeper than MaxDepth; it is
	// expected to stop the guest.
	OverflowName string
	MaxDepth     int32
	// MaxTableElements, if set, is the most elements a table may start
	// with: a module with a larger one is refused.
	MaxTableElements uint32
	// TableGrowName, if set, names the function, in FuelModule, of type
	// (i32, i32) -> (i32) that every table.grow calls first with the number
	// of elements asked for and the table's index: it returns that number
	// to let the grow go on, or 0xFFFFFFFF to make it fail (table.grow then
	// gives -1, as it does past the table's maximum). The host charges the
	// new elements to the instance's memory budget there, and makes room
	// for them.
	TableGrowName string
	// FillName and CopyName, if set (both or neither), name the functions,
	// in FuelModule, of type (i32, i32, i32) -> (i32) that every
	// memory.fill and memory.copy of more than BulkAbove bytes calls first
	// with its operands: the destination, the value or source, and the
	// length. The function either does the whole operation and returns 0,
	// which leaves the instruction nothing to do, or returns the length
	// unchanged and leaves the operation to the instruction (which traps
	// when it is out of bounds). One such instruction can fill or copy
	// gigabytes as a single step no scheduler can interrupt; the host does
	// a large one a piece at a time, checking its clock between pieces.
	// Smaller ones stay native: compilers emit them for every small copy.
	FillName, CopyName string
	BulkAbove          uint32
	// GlobalPrefix is the prefix of the exports Prepare adds for the
	// module's mutable globals (see Prepared.Globals). No export of the
	// original module may start with it.
	GlobalPrefix string
}

// Segment is an active data segment: bytes written at an offset of memory 0
// when an instance starts.
type Segment struct {
	Offset uint32
	Data   []byte
}

// Global is a mutable global of the module, exported by Prepare under Name
// so that the host can read it after initialization and set it in every
// instance started from the snapshot.
type Global struct {
	Name    string
	ValType byte // 0x7f i32, 0x7e i64, 0x7d f32, 0x7c f64
}

// Prepared is a module rewritten for the host. See Prepare.
type Prepared struct {
	// Wasm is the rewritten module.
	Wasm []byte
	// Snapshot reports whether the module can be started from a snapshot
	// of its memory and globals. When true, Wasm's active data segments are
	// empty (Data holds them, for the host to write), and every mutable
	// global is exported as listed in Globals. When false, NoSnapshot says
	// why, and Wasm keeps its data segments.
	Snapshot   bool
	NoSnapshot string
	Data       []Segment
	Globals    []Global
	// TableElements is the number of elements the module's tables start
	// with, together.
	TableElements uint64
}

// Errors of Prepare. ErrMalformed: the module's sections are not well
// formed (counts, lengths, encodings); no valid module has this error.
// ErrUnsupported: the module's code uses an instruction or encoding outside
// WebAssembly 2.0 (or is malformed there).
var (
	ErrMalformed   = errors.New("wasmbin: malformed module")
	ErrUnsupported = errors.New("wasmbin: unsupported module")
)

// Prepare meters wasm and, where it is safe, prepares it for snapshots.
//
// Metering: every loop header, and the entry of every function that calls
// another outside a loop, subtracts from a fuel global about the number of
// instructions the guest can run before the next such point; when the fuel
// is used up the code calls the fuel function, a host function, which
// refills it or stops the guest. Any code that runs forever therefore calls
// into the host at least every Options.Fuel instructions or so, and a
// large memory.fill or memory.copy goes through the host too (FillName).
// The fuel function, the overflow function and the optional table grow,
// fill and copy functions are new imports placed, in that order, after the
// module's own function imports, so every index of a function defined in
// the module moves up by their number, in the code, the exports, the
// start function, the element segments, the globals and the name section.
//
// Snapshots: a module whose state after initialization is its memory and
// its mutable globals (it has one memory of its own, does not change
// tables or drop data segments at run time, and its active data segments
// have constant offsets) is prepared so that the host can initialize one
// instance, record that state, and start later instances from it.
func Prepare(wasm []byte, o Options) (*Prepared, error) {
	m, err := parseModule(wasm)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	for _, im := range m.imports {
		if im.module == o.FuelModule {
			return nil, fmt.Errorf("module imports %s.%s: the module %q is reserved for the host", im.module, im.name, o.FuelModule)
		}
	}
	for i, n := range m.tableMins {
		if o.MaxTableElements > 0 && n > o.MaxTableElements {
			return nil, fmt.Errorf("table %d starts with %d elements; this host allows at most %d", i, n, o.MaxTableElements)
		}
	}
	for _, e := range m.exports {
		if strings.HasPrefix(e.name, o.GlobalPrefix) {
			return nil, fmt.Errorf("module exports %q: export names starting with %q are reserved for the host", e.name, o.GlobalPrefix)
		}
	}
	if (o.FillName == "") != (o.CopyName == "") {
		return nil, errors.New("wasmbin: Options.FillName and CopyName go together")
	}
	w := &rewriter{m: m, o: o}
	w.fuelFunc = uint32(m.funcImports)
	w.fuelType = uint32(len(m.types))
	add := func(name string, params, results []byte) uint32 {
		w.funcs = append(w.funcs, addedFunc{name, params, results})
		return w.fuelFunc + uint32(len(w.funcs)-1)
	}
	i32 := []byte{valI32}
	add(o.FuelName, nil, i32)
	w.overflowFunc = add(o.OverflowName, nil, nil)
	if o.TableGrowName != "" {
		w.tableGrowFunc = add(o.TableGrowName, []byte{valI32, valI32}, i32)
	}
	w.bulk = o.FillName != ""
	if w.bulk {
		w.fillFunc = add(o.FillName, []byte{valI32, valI32, valI32}, i32)
		w.copyFunc = add(o.CopyName, []byte{valI32, valI32, valI32}, i32)
	}
	w.added = uint32(len(w.funcs))
	w.fuelGlobal = uint32(m.globalImports + len(m.globals))
	w.depthGlobal = w.fuelGlobal + 1
	p := &Prepared{}
	for _, n := range m.tableMins {
		p.TableElements += uint64(n)
	}
	p.NoSnapshot = w.snapshotBlocker()
	p.Snapshot = p.NoSnapshot == ""

	var code []byte
	if m.codeSection >= 0 {
		if code, err = w.code(m.sections[m.codeSection].body); err != nil {
			if errors.Is(err, ErrMalformed) {
				// Counts and lengths that do not fit the bytes: never for
				// wazero, whose decoder may allocate what they ask for.
				return nil, fmt.Errorf("code: %w", err)
			}
			return nil, fmt.Errorf("%w: code: %w", ErrUnsupported, err)
		}
	}
	if p.Snapshot && w.mutatesTables {
		p.Snapshot, p.NoSnapshot = false, "its code changes tables or drops data segments at run time"
	}
	if p.Snapshot {
		for i, g := range m.globals {
			if g.mutable {
				p.Globals = append(p.Globals, Global{Name: o.GlobalPrefix + strconv.Itoa(m.globalImports+i), ValType: g.valType})
			}
		}
		// The meter's own globals too: an instance stopped by a trap
		// deep in its calls keeps the depth it had, and one started
		// from the snapshot, or reset to it, must not.
		for _, gi := range []uint32{w.fuelGlobal, w.depthGlobal} {
			p.Globals = append(p.Globals, Global{Name: o.GlobalPrefix + strconv.Itoa(int(gi)), ValType: valI32})
		}
		for _, d := range m.data {
			if !d.passive && len(d.init) > 0 {
				p.Data = append(p.Data, Segment{Offset: d.offset, Data: d.init})
			}
		}
	}

	out := append([]byte(nil), wasm[:8]...)
	have := map[byte]bool{}
	for i, s := range m.sections {
		for _, id := range []byte{secType, secImport, secGlobal, secExport} {
			if !have[id] && s.id != secCustom && order(s.id) > order(id) {
				// The module has no such section: add it where it belongs.
				have[id] = true
				out = w.appendSection(out, id, nil, p)
			}
		}
		have[s.id] = true
		if i == m.codeSection {
			out = appendSection(out, secCode, code)
			continue
		}
		if out, err = w.appendSectionChecked(out, s, p); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	for _, id := range []byte{secType, secImport, secGlobal, secExport} {
		if !have[id] {
			out = w.appendSection(out, id, nil, p)
		}
	}
	p.Wasm = out
	return p, nil
}

// order is the position of a known section in a module.
func order(id byte) int {
	switch id {
	case secDataCount:
		return 10
	case secCode:
		return 11
	case secData:
		return 12
	}
	return int(id)
}

type rewriter struct {
	m     *module
	o     Options
	funcs []addedFunc // the functions imported for the meter, in order
	added uint32      // their number: the imports (and types) added
	// The indices of the added functions: fuel first, overflow after it,
	// then table grow (if any), fill and copy (if bulk).
	fuelFunc, overflowFunc, tableGrowFunc, fillFunc, copyFunc uint32
	bulk                                                      bool
	fuelGlobal                                                uint32 // index of the fuel global
	// depthGlobal, right after it, counts the call depth; with bulk, three
	// scratch globals follow (bulkGlobals).
	depthGlobal   uint32
	fuelType      uint32     // index of the fuel function's type; the other added functions' follow, in order
	blockTypes    []funcType // types added for multi-value function bodies, after those
	mutatesTables bool       // the code uses table.set/grow/fill/init/copy, elem.drop or data.drop
	dataIndices   bool       // the code uses memory.init or data.drop
}

// addedFunc is a function the rewriter imports from Options.FuelModule.
type addedFunc struct {
	name            string
	params, results []byte
}

// bulkGlobals is the number of scratch globals a bulk instruction's guard
// holds its operands in (see appendBulk).
const bulkGlobals = 3

// snapshotBlocker says why the module cannot be snapshotted, or "".
func (w *rewriter) snapshotBlocker() string {
	m := w.m
	switch {
	case m.memImports > 0:
		return "it imports its memory"
	case m.memories != 1:
		return fmt.Sprintf("it defines %d memories", m.memories)
	case m.globalImports > 0:
		return "it imports globals"
	}
	for _, g := range m.globals {
		if g.mutable && g.valType != valI32 && g.valType != valI64 && g.valType != valF32 && g.valType != valF64 {
			return "it has a mutable vector or reference global"
		}
	}
	for _, d := range m.data {
		if !d.passive && (!d.constOK || d.memory != 0) {
			return "a data segment has a computed offset"
		}
	}
	return ""
}

// fn maps a function index of the original module to the rewritten one.
func (w *rewriter) fn(i uint32) uint32 {
	if i >= w.fuelFunc {
		return i + w.added
	}
	return i
}

func (w *rewriter) appendSectionChecked(out []byte, s section, p *Prepared) ([]byte, error) {
	switch s.id {
	case secElement:
		body, err := w.elements(s.body)
		if err != nil {
			return nil, fmt.Errorf("element section: %w", err)
		}
		return appendSection(out, secElement, body), nil
	case secCustom:
		r := &reader{b: s.body}
		if string(r.name()) == "name" && r.err == nil {
			body, err := w.names(s.body, r.p)
			if err != nil {
				return out, nil // a name section is only for debugging: drop one we cannot read
			}
			return appendSection(out, secCustom, body), nil
		}
		return appendSection(out, secCustom, s.body), nil
	}
	return w.appendSection(out, s.id, s.body, p), nil
}

// appendSection appends section id rewritten from its original body (nil
// when the module had none).
func (w *rewriter) appendSection(out []byte, id byte, orig []byte, p *Prepared) []byte {
	m := w.m
	var b []byte
	switch id {
	case secType:
		b = appendU32(b, uint32(len(m.types))+w.added+uint32(len(w.blockTypes)))
		b = append(b, rest(orig)...)
		for _, f := range w.funcs {
			b = append(b, 0x60)
			b = appendU32(b, uint32(len(f.params)))
			b = append(b, f.params...)
			b = appendU32(b, uint32(len(f.results)))
			b = append(b, f.results...)
		}
		for _, t := range w.blockTypes {
			b = append(b, 0x60, 0)
			b = appendU32(b, uint32(len(t.results)))
			b = append(b, t.results...)
		}
	case secImport:
		b = appendU32(b, uint32(len(m.imports))+w.added)
		b = append(b, rest(orig)...)
		for i, f := range w.funcs {
			b = appendName(b, w.o.FuelModule)
			b = appendName(b, f.name)
			b = append(b, kindFunc)
			b = appendU32(b, w.fuelType+uint32(i))
		}
	case secGlobal:
		scratch := 0
		if w.bulk {
			scratch = bulkGlobals
		}
		b = appendU32(b, uint32(len(m.globals)+2+scratch))
		for _, g := range m.globals {
			b = append(b, g.valType, boolByte(g.mutable))
			b = w.appendConstExpr(b, g.init)
		}
		b = append(b, valI32, 1, opI32Const)
		b = appendSLEB32(b, w.o.Fuel)
		b = append(b, opEnd)
		b = append(b, valI32, 1, opI32Const, 0, opEnd) // call depth
		for range scratch {
			b = append(b, valI32, 1, opI32Const, 0, opEnd)
		}
	case secExport:
		b = appendU32(b, uint32(len(m.exports)+len(p.Globals)))
		for _, e := range m.exports {
			b = appendName(b, e.name)
			b = append(b, e.kind)
			if e.kind == kindFunc {
				b = appendU32(b, w.fn(e.index))
			} else {
				b = appendU32(b, e.index)
			}
		}
		for _, g := range p.Globals {
			i, _ := strconv.Atoi(strings.TrimPrefix(g.Name, w.o.GlobalPrefix))
			b = appendName(b, g.Name)
			b = append(b, kindGlobal)
			b = appendU32(b, uint32(i))
		}
	case secStart:
		b = appendU32(b, w.fn(*m.start))
	case secDataCount:
		if p.Snapshot && !w.dataIndices {
			b = appendU32(b, 0)
		} else {
			b = orig
		}
	case secData:
		if !p.Snapshot {
			b = orig
			break
		}
		if !w.dataIndices {
			// No code refers to a segment: the host writes them all.
			b = appendU32(b, 0)
			break
		}
		// Keep every segment, so that indices stay, but empty the active
		// ones: the host writes their bytes itself.
		b = appendU32(b, uint32(len(m.data)))
		for _, d := range m.data {
			switch {
			case d.passive:
				b = append(b, 1)
				b = appendU32(b, uint32(len(d.init)))
				b = append(b, d.init...)
			default:
				b = append(b, 0, opI32Const, 0, opEnd, 0)
			}
		}
	default:
		b = orig
	}
	return appendSection(out, id, b)
}

// rest returns a vector section's body after its count.
func rest(body []byte) []byte {
	if body == nil {
		return nil
	}
	r := &reader{b: body}
	r.u32()
	return body[r.p:]
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// appendConstExpr appends a constant expression with its function indices
// remapped.
func (w *rewriter) appendConstExpr(b, expr []byte) []byte {
	r := &reader{b: expr}
	for r.err == nil && r.p < len(expr) {
		in := r.next()
		if in.op == opRefFunc {
			b = append(b, opRefFunc)
			b = appendU32(b, w.fn(in.idx))
			continue
		}
		b = append(b, expr[in.start:r.p]...)
	}
	return b
}

// elements rewrites the element section's function indices.
func (w *rewriter) elements(body []byte) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	if uint64(n) > uint64(len(body)) {
		return nil, fmt.Errorf("element count %d", n)
	}
	b := appendU32(nil, n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		flags := r.u32()
		b = appendU32(b, flags)
		if flags > 7 {
			return nil, fmt.Errorf("element segment flags %d", flags)
		}
		if flags == 2 || flags == 6 {
			b = appendU32(b, r.u32()) // table index
		}
		if flags&1 == 0 { // active: offset expression
			b = w.appendConstExpr(b, r.constExpr())
		}
		if flags&3 != 0 { // element kind or reference type
			b = append(b, r.byte())
		}
		count := r.u32()
		if uint64(count) > uint64(len(body)) {
			return nil, fmt.Errorf("element segment of %d entries", count)
		}
		b = appendU32(b, count)
		for j := uint32(0); j < count && r.err == nil; j++ {
			if flags&4 == 0 {
				b = appendU32(b, w.fn(r.u32()))
			} else {
				b = w.appendConstExpr(b, r.constExpr())
			}
		}
	}
	if r.err == nil && r.p != len(body) {
		r.fail("%d bytes after the last element segment", len(body)-r.p)
	}
	return b, r.err
}

// names rewrites the function indices of a name section: its function
// names (subsection 1) and local names (subsection 2). It accepts only a
// section whose every subsection holds exactly what its size says and
// whose names are valid UTF-8; for any other it returns an error, and the
// caller drops the section (it is only for debugging). wazero reads the
// known subsections by their contents rather than their sizes, running on
// to the end of the module when they disagree: a section that is not
// exact could read differently once the rewriter adds sections after it.
func (w *rewriter) names(body []byte, at int) ([]byte, error) {
	b := append([]byte(nil), body[:at]...)
	r := &reader{b: body, p: at}
	validName := func(sr *reader) {
		if n := sr.name(); sr.err == nil && !utf8.Valid(n) {
			sr.fail("a name is not valid UTF-8")
		}
	}
	for r.err == nil && r.p < len(body) {
		id := r.byte()
		sub := r.bytes(r.u32())
		if r.err != nil {
			break
		}
		sr := &reader{b: sub}
		switch id {
		case 0:
			validName(sr)
		case 1, 2:
			n := sr.u32()
			nb := appendU32(nil, n)
			for i := uint32(0); i < n && sr.err == nil; i++ {
				nb = appendU32(nb, w.fn(sr.u32()))
				start := sr.p
				if id == 1 {
					validName(sr)
				} else {
					locals := sr.u32()
					for j := uint32(0); j < locals && sr.err == nil; j++ {
						sr.u32()
						validName(sr)
					}
				}
				nb = append(nb, sub[start:sr.p]...)
			}
			sub = nb
		default:
			sr.p = len(sub) // wazero skips it by its size, as we do
		}
		if sr.err != nil {
			return nil, sr.err
		}
		if id <= 2 && sr.p != len(sr.b) {
			return nil, fmt.Errorf("name subsection %d: %d bytes after its contents", id, len(sr.b)-sr.p)
		}
		b = append(b, id)
		b = appendU32(b, uint32(len(sub)))
		b = append(b, sub...)
	}
	return b, r.err
}

// code meters every function body of a code section.
func (w *rewriter) code(sec []byte) ([]byte, error) {
	bs, err := bodies(sec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(bs) != len(w.m.funcs) {
		return nil, fmt.Errorf("%w: %d function bodies for %d functions", ErrMalformed, len(bs), len(w.m.funcs))
	}
	out := appendU32(make([]byte, 0, len(sec)+len(sec)/8), uint32(len(bs)))
	var fb []byte
	for i, b := range bs {
		ti := w.m.funcs[i]
		if int(ti) >= len(w.m.types) {
			return nil, fmt.Errorf("function %d has type %d of %d", w.m.funcImports+i, ti, len(w.m.types))
		}
		fb, err = w.meter(fb[:0], b, w.m.types[ti])
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", w.m.funcImports+i, err)
		}
		out = appendU32(out, uint32(len(fb)))
		out = append(out, fb...)
	}
	return out, nil
}

// meter rewrites one function body of type ft: fuel checks at every loop
// header, and at its entry when it calls another function outside any
// loop; function indices remapped. A function that calls others also
// counts the call depth: up on entry, with a check against MaxDepth, and
// down on the way out. Its body goes into a block of the function's
// result type, so that every way out (the end, a branch to the function's
// label, a return, which becomes a branch to the block) passes the
// decrement after it.
func (w *rewriter) meter(out []byte, b body, ft funcType) ([]byte, error) {
	// Pass 1: the weight of the function (instructions outside loops) and
	// of each loop (instructions inside it but outside loops nested in it),
	// and whether a call can happen before any loop header runs.
	var (
		loops       []int32 // weights, in order of the loop instructions
		frames      []int   // per open block: -1, or the loop's index in loops
		fnWeight    int32
		callOutside bool
		calls       bool
	)
	r := &reader{b: b.code}
	cur := func() *int32 {
		for i := len(frames) - 1; i >= 0; i-- {
			if frames[i] >= 0 {
				return &loops[frames[i]]
			}
		}
		return &fnWeight
	}
	done := false
	for r.err == nil && !done {
		in := r.next()
		if r.err != nil {
			break
		}
		*cur() += 1
		switch in.op {
		case opBlock, opIf:
			frames = append(frames, -1)
		case opLoop:
			frames = append(frames, len(loops))
			loops = append(loops, 0)
		case opEnd:
			if len(frames) == 0 {
				done = true
			} else {
				frames = frames[:len(frames)-1]
			}
		case opCall, opCallIndirect:
			calls = true
			if cur() == &fnWeight {
				callOutside = true
			}
			if in.op == opCall && in.idx < uint32(w.m.funcImports) && w.o.ImportCallWeight > 1 {
				*cur() = min(*cur()+w.o.ImportCallWeight-1, w.o.Fuel)
			}
		case opTableSet:
			w.mutatesTables = true
		case opPrefixFC:
			switch in.sub {
			case fcDataDrop, fcTableInit, fcElemDrop, fcTableCopy, fcTableGrow, fcTableFill:
				w.mutatesTables = true
			}
			if in.sub == fcMemoryInit || in.sub == fcDataDrop {
				w.dataIndices = true
			}
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.p != len(b.code) {
		return nil, fmt.Errorf("%d bytes after the end of the body", len(b.code)-r.p)
	}

	// Pass 2: emit.
	out = append(out, b.locals...)
	if calls {
		out = w.appendDepthCheck(out)
	}
	if callOutside {
		out = w.appendCheck(out, fnWeight)
	}
	if calls {
		out = append(out, opBlock)
		out = w.appendBlockType(out, ft.results)
	}
	r = &reader{b: b.code}
	k, depth := 0, 0
	for r.p < len(b.code) {
		in := r.next()
		switch in.op {
		case opCall, opRefFunc:
			out = append(out, in.op)
			out = appendU32(out, w.fn(in.idx))
		case opLoop:
			out = append(out, b.code[in.start:r.p]...)
			out = w.appendCheck(out, loops[k])
			k++
			depth++
		case opBlock, opIf:
			out = append(out, b.code[in.start:r.p]...)
			depth++
		case opReturn:
			if calls {
				out = append(out, opBr) // to the body's block
				out = appendU32(out, uint32(depth))
			} else {
				out = append(out, opReturn)
			}
		case opPrefixFC:
			switch {
			case in.sub == fcTableGrow && w.o.TableGrowName != "":
				// [ref, n] → call $tablegrow(n, table) → [ref, n'] → table.grow
				out = append(out, opI32Const)
				out = appendSLEB32(out, int32(in.idx))
				out = append(out, opCall)
				out = appendU32(out, w.tableGrowFunc)
			case in.sub == fcMemoryFill && w.bulk:
				out = w.appendBulk(out, w.fillFunc)
			case in.sub == fcMemoryCopy && w.bulk:
				out = w.appendBulk(out, w.copyFunc)
			}
			out = append(out, b.code[in.start:r.p]...)
		case opEnd:
			if depth == 0 && calls { // the function's end
				out = append(out, opEnd) // the body's block
				out = append(out, opGlobalGet)
				out = appendU32(out, w.depthGlobal)
				out = append(out, opI32Const, 1, opI32Sub, opGlobalSet)
				out = appendU32(out, w.depthGlobal)
			}
			out = append(out, opEnd)
			depth--
		default:
			out = append(out, b.code[in.start:r.p]...)
		}
	}
	return out, nil
}

// appendBlockType appends the block type of a block with these results:
// empty, one value type, or a type index (added to the module) for more.
func (w *rewriter) appendBlockType(b []byte, results []byte) []byte {
	switch len(results) {
	case 0:
		return append(b, 0x40)
	case 1:
		return append(b, results[0])
	}
	for i, t := range w.blockTypes {
		if string(t.results) == string(results) {
			return appendSLEB32(b, int32(w.fuelType)+int32(w.added)+int32(i))
		}
	}
	w.blockTypes = append(w.blockTypes, funcType{results: results})
	return appendSLEB32(b, int32(w.fuelType)+int32(w.added)+int32(len(w.blockTypes)-1))
}

// appendBulk appends, before a memory.fill or memory.copy, the guard that
// hands one of more than BulkAbove bytes to the host function f. The
// operands [d, x, n] go to the scratch globals (the guest runs on one
// thread and nothing runs between the sets and the gets), and n comes
// back as what f leaves to the instruction: 0 when it did the work.
//
//	global.set $n  global.set $x  global.set $d
//	global.get $n  i32.const BulkAbove  i32.gt_u
//	if  global.get $d  global.get $x  global.get $n  call f  global.set $n  end
//	global.get $d  global.get $x  global.get $n
func (w *rewriter) appendBulk(b []byte, f uint32) []byte {
	d, x, n := w.depthGlobal+1, w.depthGlobal+2, w.depthGlobal+3
	op := func(b []byte, op byte, g uint32) []byte { return appendU32(append(b, op), g) }
	getAll := func(b []byte) []byte { return op(op(op(b, opGlobalGet, d), opGlobalGet, x), opGlobalGet, n) }
	b = op(op(op(b, opGlobalSet, n), opGlobalSet, x), opGlobalSet, d)
	b = op(b, opGlobalGet, n)
	b = appendSLEB32(append(b, opI32Const), int32(w.o.BulkAbove))
	b = append(b, opI32GtU, opIf, 0x40)
	b = getAll(b)
	b = op(b, opCall, f)
	b = op(b, opGlobalSet, n)
	b = append(b, opEnd)
	return getAll(b)
}

// appendDepthCheck appends the call depth's increment and check:
//
//	global.get $depth  i32.const 1  i32.add  global.set $depth
//	global.get $depth  i32.const MaxDepth  i32.gt_u  if  call $overflow  end
func (w *rewriter) appendDepthCheck(b []byte) []byte {
	b = append(b, opGlobalGet)
	b = appendU32(b, w.depthGlobal)
	b = append(b, opI32Const, 1, opI32Add, opGlobalSet)
	b = appendU32(b, w.depthGlobal)
	b = append(b, opGlobalGet)
	b = appendU32(b, w.depthGlobal)
	b = append(b, opI32Const)
	b = appendSLEB32(b, w.o.MaxDepth)
	b = append(b, opI32GtU, opIf, 0x40, opCall)
	b = appendU32(b, w.overflowFunc)
	return append(b, opEnd)
}

// appendCheck appends a fuel check that charges weight:
//
//	global.get $fuel  i32.const weight  i32.sub  global.set $fuel
//	global.get $fuel  i32.const 0  i32.le_s
//	if  call $fuel_fn  global.set $fuel  end
func (w *rewriter) appendCheck(b []byte, weight int32) []byte {
	weight = max(1, min(weight, w.o.Fuel))
	b = append(b, opGlobalGet)
	b = appendU32(b, w.fuelGlobal)
	b = append(b, opI32Const)
	b = appendSLEB32(b, weight)
	b = append(b, opI32Sub, opGlobalSet)
	b = appendU32(b, w.fuelGlobal)
	b = append(b, opGlobalGet)
	b = appendU32(b, w.fuelGlobal)
	b = append(b, opI32Const, 0, opI32LeS, opIf, 0x40, opCall)
	b = appendU32(b, w.fuelFunc)
	b = append(b, opGlobalSet)
	b = appendU32(b, w.fuelGlobal)
	return append(b, opEnd)
}
