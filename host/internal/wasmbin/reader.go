package wasmbin

import (
	"encoding/binary"
	"fmt"
)

// reader reads the primitive encodings of the binary format. Every read is
// bounds-checked; the first failure sticks in err and later reads return
// zero values.
type reader struct {
	b   []byte
	p   int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("wasmbin: at byte %d: %s", r.p, fmt.Sprintf(format, args...))
	}
}

func (r *reader) done() bool { return r.err != nil || r.p >= len(r.b) }

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.p >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[r.p]
	r.p++
	return c
}

func (r *reader) bytes(n uint32) []byte {
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.b)-r.p) {
		r.fail("length %d past the end", n)
		return nil
	}
	s := r.b[r.p : r.p+int(n)]
	r.p += int(n)
	return s
}

func (r *reader) u32() uint32 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.p:])
	if n <= 0 || n > 5 || v > 1<<32-1 {
		r.fail("bad u32")
		return 0
	}
	r.p += n
	return uint32(v)
}

// sleb skips a signed LEB128 of at most maxBytes bytes.
func (r *reader) sleb(maxBytes int) {
	for i := 0; i < maxBytes; i++ {
		if r.byte()&0x80 == 0 {
			return
		}
	}
	r.fail("signed integer too long")
}

func (r *reader) name() []byte { return r.bytes(r.u32()) }

// section is one section of a module: its id and its body, and the
// section as it stands in the module (id, size and body).
type section struct {
	id   byte
	body []byte
	raw  []byte
}

// sections splits a module into its sections.
func sections(wasm []byte) ([]section, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" || string(wasm[4:8]) != "\x01\x00\x00\x00" {
		return nil, fmt.Errorf("%w: not a WebAssembly 1.0 binary", ErrMalformed)
	}
	r := &reader{b: wasm, p: 8}
	var out []section
	for !r.done() {
		start := r.p
		id := r.byte()
		body := r.bytes(r.u32())
		if r.err != nil {
			return nil, r.err
		}
		out = append(out, section{id, body, wasm[start:r.p]})
	}
	return out, r.err
}

func appendU32(b []byte, v uint32) []byte { return binary.AppendUvarint(b, uint64(v)) }

func appendSection(b []byte, id byte, body []byte) []byte {
	b = append(b, id)
	b = appendU32(b, uint32(len(body)))
	return append(b, body...)
}
