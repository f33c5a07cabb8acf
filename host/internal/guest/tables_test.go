package guest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
)

// TestTableRefs: tableRefs finds a wazero module instance's tables by
// index, with their maximum (a wazero upgrade that lays them out anew
// fails here), and a table that reserveTable made room in is grown by
// wazero in that room, without moving or clearing its elements again.
func TestTableRefs(t *testing.T) {
	ctx := context.Background()
	wasm, err := os.ReadFile(filepath.Join(repoRoot(), "host/internal/wasmbin/testdata/tables.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := tableRefs(mod, 0)
	if !ok || a.refs.Len() != 1 || a.max != nil {
		t.Fatalf("table 0: found %v, %d elements, maximum %v; want 1 element and none", ok, a.refs.Len(), a.max)
	}
	b, ok := tableRefs(mod, 1)
	if !ok || b.refs.Len() != 2 || b.max == nil || *b.max != 8 {
		t.Fatalf("table 1: found %v, %d elements, maximum %v; want 2 elements and 8", ok, b.refs.Len(), b.max)
	}
	if !fits(b, 6) || fits(b, 7) {
		t.Errorf("table 1 (2 of at most 8): fits 6 %v, fits 7 %v; want true, false", fits(b, 6), fits(b, 7))
	}
	if _, ok := tableRefs(mod, 2); ok {
		t.Error("tableRefs found a third table")
	}
	if _, ok := tableRefs(nil, 0); ok {
		t.Error("tableRefs found a table of no module")
	}

	// An element set before the grow stays.
	a.refs.Index(0).SetUint(42)
	reserveTable(ctx, a, 1000)
	a, _ = tableRefs(mod, 0)
	room := a.refs.Pointer()
	if a.refs.Len() != 1 || a.refs.Cap() != 1001 {
		t.Fatalf("after reserveTable(1000): %d elements, capacity %d; want 1 and 1001", a.refs.Len(), a.refs.Cap())
	}
	if got := mod.ExportedFunction("grow"); got == nil {
		t.Fatal("no grow export")
	} else if res, err := got.Call(ctx, 0, 1000); err != nil || int32(res[0]) != 1 {
		t.Fatalf("grow(0, 1000) = %v, %v; want 1", res, err)
	}
	a, _ = tableRefs(mod, 0)
	if a.refs.Len() != 1001 || a.refs.Pointer() != room {
		t.Errorf("after the grow: %d elements at %#x; want 1001 in the room made at %#x", a.refs.Len(), a.refs.Pointer(), room)
	}
	if a.refs.Index(0).Uint() != 42 || a.refs.Index(1000).Uint() != 0 {
		t.Errorf("after the grow: elements 0 and 1000 are %d and %d; want 42 and 0", a.refs.Index(0).Uint(), a.refs.Index(1000).Uint())
	}
}
