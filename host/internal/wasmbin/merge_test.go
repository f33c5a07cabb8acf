package wasmbin

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
)

// module builds a binary module with one exported memory of pages pages and
// the given active data segments (offset → bytes), in order.
func module(pages byte, dataCount bool, segs ...segment) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, 5, 3, 1, 0, pages)                               // memory section: 1 memory, min pages
	b = append(b, 7, 10, 1, 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0) // export "memory"
	if dataCount {
		b = append(b, sectionDataCount, 1, byte(len(segs)))
	}
	body := binary.AppendUvarint(nil, uint64(len(segs)))
	for _, s := range segs {
		body = append(body, 0, opI32Const)
		body = appendSLEB32(body, int32(s.off))
		body = append(body, opEnd)
		body = binary.AppendUvarint(body, uint64(len(s.data)))
		body = append(body, s.data...)
	}
	b = append(b, sectionData)
	b = binary.AppendUvarint(b, uint64(len(body)))
	return append(b, body...)
}

// memoryAfterInstantiation instantiates wasm and returns its memory.
func memoryAfterInstantiation(t testing.TB, wasm []byte) ([]byte, error) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		return nil, err
	}
	mem, ok := mod.Memory().Read(0, mod.Memory().Size())
	if !ok {
		t.Fatal("cannot read memory")
	}
	return bytes.Clone(mem), nil
}

func TestMergeDataSegments(t *testing.T) {
	segs := []segment{
		{off: 100, data: []byte("abc")},
		{off: 10, data: []byte("first")},
		{off: 110, data: []byte("gap 7")},
		{off: 4000, data: []byte("far")},
		{off: 60000, data: nil},
	}
	for _, dc := range []bool{false, true} {
		in := module(1, dc, segs...)
		out, changed := MergeDataSegments(in, 64)
		if !changed {
			t.Fatalf("dataCount=%v: nothing merged", dc)
		}
		got, err := parseDataOf(out)
		if err != nil {
			t.Fatal(err)
		}
		// "first" at 10..15 and "abc" at 100 are 85 apart: separate; "abc"
		// and "gap 7" (7 apart) merge; "far" stays; the empty one goes.
		want := []segment{{10, []byte("first")}, {100, []byte("abc\x00\x00\x00\x00\x00\x00\x00gap 7")}, {4000, []byte("far")}}
		if len(got) != len(want) {
			t.Fatalf("got %d segments, want %d: %v", len(got), len(want), got)
		}
		for i := range want {
			if got[i].off != want[i].off || !bytes.Equal(got[i].data, want[i].data) {
				t.Errorf("segment %d: got %d %q, want %d %q", i, got[i].off, got[i].data, want[i].off, want[i].data)
			}
		}
		a, errA := memoryAfterInstantiation(t, in)
		b, errB := memoryAfterInstantiation(t, out)
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("dataCount=%v: memories differ (errors %v, %v)", dc, errA, errB)
		}
	}
}

func parseDataOf(wasm []byte) ([]segment, error) {
	p := 8
	for p < len(wasm) {
		size, n := binary.Uvarint(wasm[p+1:])
		if wasm[p] == sectionData {
			return parseData(wasm[p+1+n : p+1+n+int(size)])
		}
		p += 1 + n + int(size)
	}
	return nil, errMalformed
}

func TestMergeDataSegments_Unchanged(t *testing.T) {
	overlap := module(1, false, segment{0, []byte("aaaa")}, segment{2, []byte("bb")})
	if _, changed := MergeDataSegments(overlap, 64); changed {
		t.Error("merged overlapping segments, whose order matters")
	}
	far := module(1, false, segment{0, []byte("a")}, segment{1000, []byte("b")})
	if _, changed := MergeDataSegments(far, 64); changed {
		t.Error("merged segments farther apart than maxGap")
	}
	for _, junk := range [][]byte{nil, []byte("\x00asm"), []byte("\x00asm\x01\x00\x00\x00\x0b\xff\xff")} {
		if out, changed := MergeDataSegments(junk, 64); changed || !bytes.Equal(out, junk) {
			t.Errorf("changed malformed input %q", junk)
		}
	}
}

// TestMergeDataSegments_GoGuest: a real Go guest merges to a handful of
// segments and instantiates to the same memory.
func TestMergeDataSegments_GoGuest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go guest")
	}
	out := filepath.Join(t.TempDir(), "room.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./guests/examples/room")
	cmd.Dir = "../../.."
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	in, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	merged, changed := MergeDataSegments(in, 4096)
	if !changed {
		t.Fatal("nothing merged")
	}
	before, _ := parseDataOf(in)
	after, _ := parseDataOf(merged)
	t.Logf("segments: %d → %d; module %d → %d bytes", len(before), len(after), len(in), len(merged))
	if len(after) > 10 {
		t.Errorf("%d segments after merging, want a handful", len(after))
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	if _, err := rt.CompileModule(ctx, merged); err != nil {
		t.Fatalf("merged module does not compile: %v", err)
	}
}

// FuzzMergeDataSegments: no input panics the pass, and whenever it changes a
// module that instantiates, the result instantiates to the same memory.
func FuzzMergeDataSegments(f *testing.F) {
	f.Add(module(1, false, segment{1, []byte("x")}, segment{3, []byte("y")}), 8)
	f.Add(module(1, true, segment{65530, []byte("abcdef")}, segment{0, []byte("y")}), 70000)
	f.Fuzz(func(t *testing.T, wasm []byte, gap int) {
		if gap < 0 || gap > 1<<20 {
			return
		}
		out, changed := MergeDataSegments(wasm, gap)
		if !changed {
			if !bytes.Equal(out, wasm) {
				t.Fatal("unchanged result differs from input")
			}
			return
		}
		a, errA := memoryAfterInstantiation(t, wasm)
		if errA != nil {
			return
		}
		b, errB := memoryAfterInstantiation(t, out)
		if errB != nil {
			t.Fatalf("original instantiates, merged does not: %v", errB)
		}
		if !bytes.Equal(a, b) {
			t.Fatal("memories differ")
		}
	})
}
