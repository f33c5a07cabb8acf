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
