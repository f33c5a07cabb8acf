package wasmbin

import (
	"fmt"
)

// Section ids of the binary format.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
)

// External kinds of imports and exports.
const (
	kindFunc   = 0
	kindTable  = 1
	kindMemory = 2
	kindGlobal = 3
)

// Value types.
const (
	valI32       = 0x7f
	valI64       = 0x7e
	valF32       = 0x7d
	valF64       = 0x7c
	valV128      = 0x7b
	valFuncref   = 0x70
	valExternref = 0x6f
)

// funcType is a function signature: its parameter and result types.
type funcType struct {
	params, results []byte
}

// importEntry is one import.
type importEntry struct {
	module, name string
	kind         byte
}

// global is one defined global.
type global struct {
	valType byte
	mutable bool
	init    []byte // the raw constant expression, including its end
}

// exportEntry is one export.
type exportEntry struct {
	name  string
	kind  byte
	index uint32
}

// dataSegment is one data segment.
type dataSegment struct {
	passive bool
	memory  uint32
	offExpr []byte // active: the raw offset expression, including its end
	offset  uint32 // active with an i32.const offset: its value
	constOK bool   // offset is known
	init    []byte
}

// module is a decoded module: enough of each section to rewrite it. Section
// bodies it does not need to change are kept raw.
type module struct {
	sections []section

	types         []funcType
	imports       []importEntry
	funcImports   int
	globalImports int
	memImports    int
	funcs         []uint32 // type index of each defined function
	memories      int      // defined memories
	tableMins     []uint32 // the initial size of each defined table
	globals       []global
	exports       []exportEntry
	start         *uint32
	data          []dataSegment
	codeSection   int // index in sections, -1 if none
}

// parseModule decodes wasm. It checks the structure of the sections it
// reads; wazero validates the rest when it compiles the result.
func parseModule(wasm []byte) (*module, error) {
	secs, err := sections(wasm)
	if err != nil {
		return nil, err
	}
	m := &module{sections: secs, codeSection: -1}
	last := 0 // the order of the last known section
	for i, s := range secs {
		if s.id != secCustom {
			// Each known section once, in order: the rewriter reads the
			// last of a kind and copies the others as they are, where
			// wazero's decoder would make room for what their counts say.
			if s.id > secDataCount || order(s.id) <= last {
				return nil, fmt.Errorf("section %d (number %d in the module): unknown, repeated or out of order", s.id, i+1)
			}
			last = order(s.id)
		}
		r := &reader{b: s.body}
		switch s.id {
		case secType:
			m.parseTypes(r)
		case secImport:
			m.parseImports(r)
		case secFunction:
			n := r.u32()
			if uint64(n) > uint64(len(r.b)) {
				r.fail("function count %d", n)
			}
			for j := uint32(0); j < n && r.err == nil; j++ {
				m.funcs = append(m.funcs, r.u32())
			}
		case secTable:
			n := r.u32()
			if uint64(n) > uint64(len(r.b)) {
				r.fail("table count %d", n)
			}
			for j := uint32(0); j < n && r.err == nil; j++ {
				r.byte()
				m.tableMins = append(m.tableMins, r.limits())
			}
		case secMemory:
			n := r.u32()
			if uint64(n) > uint64(len(r.b)) {
				r.fail("memory count %d", n)
			}
			for j := uint32(0); j < n && r.err == nil; j++ {
				r.limits()
			}
			m.memories = int(n)
		case secGlobal:
			n := r.u32()
			if uint64(n) > uint64(len(r.b)) {
				r.fail("global count %d", n)
			}
			for j := uint32(0); j < n && r.err == nil; j++ {
				g := global{valType: r.byte()}
				g.mutable = r.byte() == 1
				g.init = r.constExpr()
				m.globals = append(m.globals, g)
			}
		case secExport:
			n := r.u32()
			if uint64(n) > uint64(len(r.b)) {
				r.fail("export count %d", n)
			}
			for j := uint32(0); j < n && r.err == nil; j++ {
				e := exportEntry{name: string(r.name())}
				e.kind = r.byte()
				e.index = r.u32()
				m.exports = append(m.exports, e)
			}
		case secStart:
			v := r.u32()
			m.start = &v
		case secCode:
			m.codeSection = i
		case secData:
			m.parseData(r)
		case secDataCount:
			r.u32()
		case secElement:
			if n := r.u32(); uint64(n) > uint64(len(r.b)) {
				r.fail("element count %d", n)
			} else {
				continue // read when rewritten
			}
		default:
			continue // custom sections: kept raw
		}
		if r.err == nil && s.id != secCode && r.p != len(r.b) {
			r.fail("%d bytes left over in section %d", len(r.b)-r.p, s.id)
		}
		if r.err != nil {
			return nil, fmt.Errorf("section %d: %w", s.id, r.err)
		}
	}
	return m, nil
}

func (m *module) parseTypes(r *reader) {
	n := r.u32()
	if uint64(n) > uint64(len(r.b)) {
		r.fail("type count %d", n)
		return
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		if form := r.byte(); form != 0x60 {
			r.fail("type form 0x%02x", form)
			return
		}
		var t funcType
		t.params = r.bytes(r.u32())
		t.results = r.bytes(r.u32())
		m.types = append(m.types, t)
	}
}

func (m *module) parseImports(r *reader) {
	n := r.u32()
	if uint64(n) > uint64(len(r.b)) {
		r.fail("import count %d", n)
		return
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		e := importEntry{module: string(r.name()), name: string(r.name())}
		e.kind = r.byte()
		switch e.kind {
		case kindFunc:
			r.u32() // its type
			m.funcImports++
		case kindTable:
			r.byte()
			r.limits()
		case kindMemory:
			r.limits()
			m.memImports++
		case kindGlobal:
			r.byte()
			r.byte()
			m.globalImports++
		default:
			r.fail("import kind %d", e.kind)
		}
		m.imports = append(m.imports, e)
	}
}

func (m *module) parseData(r *reader) {
	n := r.u32()
	if uint64(n) > uint64(len(r.b)) {
		r.fail("data count %d", n)
		return
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		var d dataSegment
		switch flags := r.u32(); flags {
		case 0:
			d.offExpr = r.constExpr()
		case 1:
			d.passive = true
		case 2:
			d.memory = r.u32()
			d.offExpr = r.constExpr()
		default:
			r.fail("data segment flags %d", flags)
			return
		}
		d.init = r.bytes(r.u32())
		if !d.passive && len(d.offExpr) >= 2 && d.offExpr[0] == opI32Const {
			if v, n := readSLEB32(d.offExpr[1:]); n > 0 && 1+n == len(d.offExpr)-1 {
				d.offset, d.constOK = uint32(v), true
			}
		}
		m.data = append(m.data, d)
	}
}

// limits skips a table or memory limits field.
// limits reads a table's or memory's limits and returns its minimum.
func (r *reader) limits() uint32 {
	switch flags := r.byte(); flags {
	case 0:
		return r.u32()
	case 1:
		min := r.u32()
		r.u32()
		return min
	default:
		r.fail("limits flags 0x%02x (shared or 64-bit memories are not supported)", flags)
	}
	return 0
}

// constExpr reads a constant expression up to and including its end and
// returns its raw bytes.
func (r *reader) constExpr() []byte {
	start := r.p
	for r.err == nil {
		op := r.byte()
		if op == opEnd {
			return r.b[start:r.p]
		}
		r.skipImmediates(op)
	}
	return nil
}

// appendName appends a name (length-prefixed bytes).
func appendName(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}
