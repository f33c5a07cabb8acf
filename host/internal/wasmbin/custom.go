package wasmbin

import "fmt"

// CustomSection returns the payload of the module's first custom section
// called name; ok is false if it has none.
func CustomSection(wasm []byte, name string) (payload []byte, ok bool, err error) {
	secs, err := sections(wasm)
	if err != nil {
		return nil, false, err
	}
	for _, s := range secs {
		if s.id != secCustom {
			continue
		}
		r := &reader{b: s.body}
		n := r.name()
		if r.err != nil {
			return nil, false, fmt.Errorf("custom section: %w", r.err)
		}
		if string(n) == name {
			return s.body[r.p:], true, nil
		}
	}
	return nil, false, nil
}

// AppendCustomSection returns wasm with a custom section called name
// holding payload added at its end. wasm must be a module (it is not
// checked here: Prepare checks it when the result is loaded).
func AppendCustomSection(wasm []byte, name string, payload []byte) []byte {
	body := appendName(make([]byte, 0, len(name)+5+len(payload)), name)
	body = append(body, payload...)
	out := make([]byte, 0, len(wasm)+len(body)+6)
	out = append(out, wasm...)
	return appendSection(out, secCustom, body)
}

// WithoutCustomSection returns wasm without its custom sections called
// name, every other section byte for byte as it was (so that a module
// given to AppendCustomSection comes back exactly).
func WithoutCustomSection(wasm []byte, name string) ([]byte, error) {
	if _, err := sections(wasm); err != nil {
		return nil, err
	}
	out := append([]byte(nil), wasm[:8]...)
	r := &reader{b: wasm, p: 8}
	for !r.done() {
		start := r.p
		id := r.byte()
		body := r.bytes(r.u32())
		if id == secCustom {
			br := &reader{b: body}
			if n := br.name(); br.err == nil && string(n) == name {
				continue
			}
		}
		out = append(out, wasm[start:r.p]...)
	}
	return out, r.err
}
