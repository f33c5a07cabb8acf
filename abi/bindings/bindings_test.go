package bindings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dohost/dohost/abi"
)

// TestGenerated: the committed bindings are what the table makes now.
func TestGenerated(t *testing.T) {
	for _, f := range Files() {
		got, err := os.ReadFile(filepath.Join("..", "..", f.Path))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != f.Data {
			t.Errorf("%s is not what abi's table makes: run go generate ./abi/bindings", f.Path)
		}
	}
}

// TestSDKsCallEveryHostFunction: each SDK uses every host function of the
// table, so that one added to the ABI fails this test until every SDK
// gives it to its guests.
func TestSDKsCallEveryHostFunction(t *testing.T) {
	for _, sdk := range []struct {
		path string
		uses func(name string) string // what shows the SDK uses the function
	}{
		{"guests/c/dohost.c", func(name string) string { return "dohost_abi_" + name + "(" }},
		{"guests/go/dohost/imports_wasip1.go", func(name string) string { return "//go:wasmimport dohost " + name + "\n" }},
		{"guests/rust/dohost/src/lib.rs", func(name string) string { return "abi::" + name + "(" }},
		{"guests/assemblyscript/dohost/index.ts", func(name string) string { return "abi." + name + "(" }},
	} {
		src, err := os.ReadFile(filepath.Join("..", "..", sdk.path))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range abi.HostFuncs {
			if !strings.Contains(string(src), sdk.uses(f.Name)) {
				t.Errorf("%s does not call the host function %s (no %q)", sdk.path, f.Name, sdk.uses(f.Name))
			}
		}
	}
}

// TestJSRuntimeCallsEveryHostFunction: the JavaScript runtime, built on
// the C SDK, gives JavaScript every host function: its bridge (or its
// handlers) calls the C SDK's function for each one. result_read and
// respond are the C SDK's own, beneath every call and handler.
func TestJSRuntimeCallsEveryHostFunction(t *testing.T) {
	var src []byte
	for _, f := range []string{"guests/js/runtime/bridge.c", "guests/js/runtime/runtime.c"} {
		b, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	beneath := map[string]bool{"result_read": true, "respond": true}
	for _, f := range abi.HostFuncs {
		if beneath[f.Name] {
			continue
		}
		c := "dohost_" + strings.TrimPrefix(f.Name, "ns_") + "("
		if !strings.Contains(string(src), c) {
			t.Errorf("the JavaScript runtime does not give JavaScript the host function %s (no call of %s)", f.Name, c)
		}
	}
}
