// Package wasmbin rewrites WebAssembly binaries before they are compiled.
//
// Its one pass, MergeDataSegments, exists for Go guests: Go's linker emits
// tens of thousands of small active data segments (one per run of non-zero
// bytes), and instantiating a module costs time per segment. Merging
// segments separated by short runs of zeros into one segment writes the
// same bytes into the same fresh (zeroed) memory, so the instance is
// identical and its instantiation several times faster.
//
// The input is untrusted: every length is checked, and anything the pass
// does not fully understand leaves the module unchanged.
package wasmbin

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sort"
)

const (
	sectionData      = 11
	sectionDataCount = 12
	opI32Const       = 0x41
	opEnd            = 0x0b
)

var errMalformed = errors.New("wasmbin: malformed module")

type segment struct {
	off  uint32
	data []byte
}

// MergeDataSegments returns wasm with its active data segments merged
// wherever the zero gap between two of them is at most maxGap bytes. It
// reports whether it changed anything. A module it cannot rewrite safely
// (passive segments, non-constant offsets, overlapping segments, a second
// memory, malformed sections) is returned unchanged with changed false.
func MergeDataSegments(wasm []byte, maxGap int) (out []byte, changed bool) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return wasm, false
	}
	var dataStart, dataEnd, countStart, countEnd int
	var segs []segment
	p := 8
	for p < len(wasm) {
		id := wasm[p]
		size, n := binary.Uvarint(wasm[p+1:])
		if n <= 0 || size > uint64(len(wasm)-p-1-n) {
			return wasm, false
		}
		start, end := p, p+1+n+int(size)
		body := wasm[p+1+n : end]
		switch id {
		case sectionData:
			var err error
			if segs, err = parseData(body); err != nil {
				return wasm, false
			}
			dataStart, dataEnd = start, end
		case sectionDataCount:
			countStart, countEnd = start, end
		}
		p = end
	}
	if dataEnd == 0 || len(segs) < 2 {
		return wasm, false
	}
	merged, ok := merge(segs, maxGap)
	if !ok || len(merged) == len(segs) {
		return wasm, false
	}
	var b bytes.Buffer
	b.Grow(len(wasm))
	write := func(from, to int) { b.Write(wasm[from:to]) }
	if countEnd != 0 {
		if countStart > dataStart {
			return wasm, false // the data count section must precede the code and data sections
		}
		write(0, countStart)
		body := binary.AppendUvarint(nil, uint64(len(merged)))
		b.WriteByte(sectionDataCount)
		b.Write(binary.AppendUvarint(nil, uint64(len(body))))
		b.Write(body)
		write(countEnd, dataStart)
	} else {
		write(0, dataStart)
	}
	body := binary.AppendUvarint(nil, uint64(len(merged)))
	for _, s := range merged {
		body = append(body, 0, opI32Const)
		body = appendSLEB32(body, int32(s.off))
		body = append(body, opEnd)
		body = binary.AppendUvarint(body, uint64(len(s.data)))
		body = append(body, s.data...)
	}
	b.WriteByte(sectionData)
	b.Write(binary.AppendUvarint(nil, uint64(len(body))))
	b.Write(body)
	write(dataEnd, len(wasm))
	return b.Bytes(), true
}

// parseData reads a data section whose segments are all active, in memory
// 0, at i32.const offsets.
func parseData(b []byte) ([]segment, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return nil, errMalformed
	}
	b = b[n:]
	segs := make([]segment, 0, count)
	for i := uint64(0); i < count; i++ {
		if len(b) < 1 {
			return nil, errMalformed
		}
		flags, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errMalformed
		}
		b = b[n:]
		switch flags {
		case 0:
		case 2: // explicit memory index: only memory 0
			mem, n := binary.Uvarint(b)
			if n <= 0 || mem != 0 {
				return nil, errMalformed
			}
			b = b[n:]
		default: // passive
			return nil, errMalformed
		}
		if len(b) < 1 || b[0] != opI32Const {
			return nil, errMalformed
		}
		off, n := readSLEB32(b[1:])
		if n <= 0 || len(b) < 2+n || b[1+n] != opEnd {
			return nil, errMalformed
		}
		b = b[2+n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return nil, errMalformed
		}
		segs = append(segs, segment{off: uint32(off), data: b[n : n+int(size)]})
		b = b[n+int(size):]
	}
	if len(b) != 0 {
		return nil, errMalformed
	}
	return segs, nil
}

// merge sorts segments by offset and joins those at most maxGap apart,
// filling the gaps with zeros. Overlapping segments are not merged: their
// order of application would matter.
func merge(segs []segment, maxGap int) ([]segment, bool) {
	sorted := make([]segment, 0, len(segs))
	for _, s := range segs {
		if len(s.data) > 0 {
			sorted = append(sorted, s)
		}
	}
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].off < sorted[j].off })
	var out []segment
	for _, s := range sorted {
		if len(out) > 0 {
			last := &out[len(out)-1]
			end := uint64(last.off) + uint64(len(last.data))
			if uint64(s.off) < end {
				return nil, false
			}
			if gap := uint64(s.off) - end; gap <= uint64(maxGap) {
				last.data = append(last.data, make([]byte, gap)...)
				last.data = append(last.data, s.data...)
				continue
			}
		}
		out = append(out, segment{off: s.off, data: append([]byte(nil), s.data...)})
	}
	return out, true
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
