package wasmbin

import "fmt"

// Opcodes the rewriters look at. Every other opcode is only skipped.
const (
	opUnreachable  = 0x00
	opBlock        = 0x02
	opLoop         = 0x03
	opIf           = 0x04
	opElse         = 0x05
	opBr           = 0x0c
	opBrIf         = 0x0d
	opBrTable      = 0x0e
	opReturn       = 0x0f
	opCall         = 0x10
	opCallIndirect = 0x11
	opSelectT      = 0x1c
	opLocalGet     = 0x20
	opGlobalGet    = 0x23
	opGlobalSet    = 0x24
	opTableGet     = 0x25
	opTableSet     = 0x26
	opI32Const     = 0x41
	opI64Const     = 0x42
	opF32Const     = 0x43
	opF64Const     = 0x44
	opI32GtU       = 0x4b
	opI32LeS       = 0x4c
	opI32Add       = 0x6a
	opI32Sub       = 0x6b
	opRefNull      = 0xd0
	opRefIsNull    = 0xd1
	opRefFunc      = 0xd2
	opEnd          = 0x0b
	opPrefixFC     = 0xfc
	opPrefixSIMD   = 0xfd
)

// Sub-opcodes of the 0xFC prefix that change tables or data segments, or
// fill and copy memory.
const (
	fcMemoryInit = 8
	fcDataDrop   = 9
	fcMemoryCopy = 10
	fcMemoryFill = 11
	fcTableInit  = 12
	fcElemDrop   = 13
	fcTableCopy  = 14
	fcTableGrow  = 15
	fcTableFill  = 17
)

// instr is one decoded instruction.
type instr struct {
	op    byte
	sub   uint32 // the sub-opcode of a 0xFC or 0xFD instruction
	start int    // offset of its first byte
	idx   uint32 // call, ref.func: the function index; table.grow: the table's
}

// next decodes the instruction at r.p and moves past it.
func (r *reader) next() instr {
	in := instr{start: r.p}
	in.op = r.byte()
	switch in.op {
	case opCall, opRefFunc:
		in.idx = r.u32()
	case opPrefixFC, opPrefixSIMD:
		in.sub = r.u32()
		if in.op == opPrefixFC && in.sub == fcTableGrow {
			in.idx = r.u32()
		} else {
			r.skipPrefixed(in.op, in.sub)
		}
	default:
		r.skipImmediates(in.op)
	}
	return in
}

// skipImmediates moves past the immediates of an instruction with opcode op
// (not 0xFC or 0xFD ones). It fails on opcodes outside WebAssembly 2.0.
func (r *reader) skipImmediates(op byte) {
	switch {
	case op == opBlock || op == opLoop || op == opIf:
		r.blockType()
	case op == opBr || op == opBrIf || op == opCall || op == opRefFunc ||
		op >= opLocalGet && op <= opTableSet:
		r.u32()
	case op == opBrTable:
		n := r.u32()
		if uint64(n) > uint64(len(r.b)) {
			r.fail("br_table of %d labels", n)
			return
		}
		for i := uint32(0); i <= n && r.err == nil; i++ {
			r.u32()
		}
	case op == opCallIndirect:
		r.u32()
		r.u32()
	case op == opSelectT:
		r.bytes(r.u32())
	case op >= 0x28 && op <= 0x3e: // loads and stores: memarg
		r.u32()
		r.u32()
	case op == 0x3f || op == 0x40: // memory.size, memory.grow
		r.u32()
	case op == opI32Const:
		r.sleb(5)
	case op == opI64Const:
		r.sleb(10)
	case op == opF32Const:
		r.bytes(4)
	case op == opF64Const:
		r.bytes(8)
	case op == opRefNull:
		r.byte()
	case op == opUnreachable || op == 0x01 || op == opElse || op == opEnd || op == opReturn ||
		op == 0x1a || op == 0x1b || op >= 0x45 && op <= 0xc4 || op == opRefIsNull:
	default:
		r.fail("opcode 0x%02x is not supported", op)
	}
}

// skipPrefixed moves past the immediates of a 0xFC or 0xFD instruction.
func (r *reader) skipPrefixed(prefix byte, sub uint32) {
	if prefix == opPrefixFC {
		switch {
		case sub <= 7: // saturating truncations
		case sub == fcMemoryInit:
			r.u32()
			r.byte()
		case sub == fcDataDrop, sub == fcElemDrop, sub == fcTableGrow, sub == 16, sub == fcTableFill:
			r.u32()
		case sub == fcMemoryCopy:
			r.byte()
			r.byte()
		case sub == fcMemoryFill:
			r.byte()
		case sub == fcTableInit, sub == fcTableCopy:
			r.u32()
			r.u32()
		default:
			r.fail("opcode 0xfc %d is not supported", sub)
		}
		return
	}
	switch {
	case sub <= 11 || sub == 92 || sub == 93: // loads and stores: memarg
		r.u32()
		r.u32()
	case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
		r.bytes(16)
	case sub >= 21 && sub <= 34: // extract and replace lane
		r.byte()
	case sub >= 84 && sub <= 91: // load and store lane: memarg, lane
		r.u32()
		r.u32()
		r.byte()
	case sub <= 255:
	default:
		r.fail("opcode 0xfd %d is not supported", sub)
	}
}

// blockType skips a block type: empty, a value type or a type index.
func (r *reader) blockType() {
	if r.err != nil || r.p >= len(r.b) {
		r.byte()
		return
	}
	switch r.b[r.p] {
	case 0x40, valI32, valI64, valF32, valF64, valV128, valFuncref, valExternref:
		r.p++
	default:
		r.sleb(5)
	}
}

// body is one function body of the code section.
type body struct {
	locals []byte // the raw local declarations, with their count
	code   []byte // the instructions, ending with end
}

// bodies splits a code section into function bodies.
func bodies(sec []byte) ([]body, error) {
	r := &reader{b: sec}
	n := r.u32()
	if uint64(n) > uint64(len(sec)) {
		// Before the slice below is made for them: a hostile count asked
		// for 41 GB (testdata/fuzz/FuzzPrepare/eaabe6eac12d0180).
		return nil, fmt.Errorf("code count %d in a section of %d bytes", n, len(sec))
	}
	out := make([]body, 0, n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		b := r.bytes(r.u32())
		if r.err != nil {
			break
		}
		br := &reader{b: b}
		groups := br.u32()
		for j := uint32(0); j < groups && br.err == nil; j++ {
			br.u32()
			br.byte()
		}
		if br.err != nil {
			return nil, br.err
		}
		out = append(out, body{locals: b[:br.p], code: b[br.p:]})
	}
	if r.err == nil && r.p != len(sec) {
		r.fail("%d bytes after the last function body", len(sec)-r.p)
	}
	return out, r.err
}

func readSLEB32(b []byte) (int32, int) {
	var v int64
	var shift uint
	for i := 0; i < len(b) && i < 5; i++ {
		c := b[i]
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			if v < -1<<31 || v > 1<<31-1 {
				return 0, 0
			}
			return int32(v), i + 1
		}
	}
	return 0, 0
}

func appendSLEB32(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
