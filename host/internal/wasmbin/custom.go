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
		n, payload, err := s.custom()
		if err != nil {
			return nil, false, err
		}
		if s.id == secCustom && n == name {
			return payload, true, nil
		}
	}
	return nil, false, nil
}

// custom is a custom section's name and payload ("" and nil for another
// section).
func (s section) custom() (name string, payload []byte, err error) {
	if s.id != secCustom {
		return "", nil, nil
	}
	r := &reader{b: s.body}
	n := r.name()
	if r.err != nil {
		return "", nil, fmt.Errorf("custom section: %w", r.err)
	}
	return string(n), s.body[r.p:], nil
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
	secs, err := sections(wasm)
	if err != nil {
		return nil, err
	}
	out := append(make([]byte, 0, len(wasm)), wasm[:8]...)
	for _, s := range secs {
		if n, _, err := s.custom(); err == nil && s.id == secCustom && n == name {
			continue
		}
		out = append(out, s.raw...)
	}
	return out, nil
}
