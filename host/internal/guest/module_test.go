package guest

import (
	"context"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
)

// panickingRuntime is a wazero runtime whose compiler panics, as wazero's
// validator did on a fuzzed module (testdata/hostile/validatorpanic).
type panickingRuntime struct{ wazero.Runtime }

func (panickingRuntime) CompileModule(context.Context, []byte) (wazero.CompiledModule, error) {
	panic("index out of range [48] with length 7")
}

// TestCompileModule_Panic: a panic inside wazero's compiler is an error
// that names it, not a crash of the host, and the compile lock is free
// again afterwards.
func TestCompileModule_Panic(t *testing.T) {
	m := &Module{path: "x.wasm", rt: panickingRuntime{}, cache: &Cache{}}
	for range 2 { // the second would block if the first kept the lock
		cm, err := m.compileModule(context.Background(), []byte("\x00asm\x01\x00\x00\x00"))
		if cm != nil || err == nil || !strings.Contains(err.Error(), "wazero failed on it: index out of range") {
			t.Fatalf("compile under a panicking wazero: %v, %v", cm, err)
		}
	}
}
