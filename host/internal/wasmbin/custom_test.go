package wasmbin

import (
	"bytes"
	"testing"
)

func TestCustomSection(t *testing.T) {
	empty := []byte("\x00asm\x01\x00\x00\x00")
	if _, ok, err := CustomSection(empty, "dohost.js"); ok || err != nil {
		t.Fatalf("empty module: ok %v err %v", ok, err)
	}
	big := bytes.Repeat([]byte("x"), 300) // a length past one LEB128 byte
	w := AppendCustomSection(AppendCustomSection(empty, "other", []byte("no")), "dohost.js", big)
	got, ok, err := CustomSection(w, "dohost.js")
	if err != nil || !ok || !bytes.Equal(got, big) {
		t.Fatalf("got %d bytes, ok %v, err %v", len(got), ok, err)
	}
	if p, err := Prepare(w, Options{}); err != nil {
		t.Fatalf("Prepare: %v", err)
	} else if got, ok, _ := CustomSection(p.Wasm, "dohost.js"); !ok || !bytes.Equal(got, big) {
		t.Fatalf("after Prepare: ok %v, %d bytes", ok, len(got))
	}
	if back, err := WithoutCustomSection(w, "dohost.js"); err != nil || !bytes.Equal(back, AppendCustomSection(empty, "other", []byte("no"))) {
		t.Fatalf("without the section: %x, %v", back, err)
	}
	if _, _, err := CustomSection(w[:len(w)-1], "dohost.js"); err == nil {
		t.Fatal("a truncated module: no error")
	}
}
