package guest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/tetratelabs/wazero/api"
)

// goRoom builds the Go example room (a snapshot large enough to be a
// mapped image) into a temporary directory and returns its path relative
// to the repository root, as testModule takes it.
func goRoom(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "room.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./guests/examples/room")
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the Go room: %v\n%s", err, b)
	}
	rel, err := filepath.Rel(repoRoot(), out)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// state is an instance's memory and mutable globals.
type state struct {
	mem     []byte
	globals []uint64
}

func stateOf(t *testing.T, m *Module, i *Instance) state {
	t.Helper()
	b, ok := i.mod.Memory().Read(0, i.mod.Memory().Size())
	if !ok {
		t.Fatal("cannot read memory")
	}
	s := state{mem: bytes.Clone(b)}
	for _, g := range m.prep.Globals {
		s.globals = append(s.globals, i.mod.ExportedGlobal(g.Name).Get())
	}
	return s
}

// TestRecycle_ResetsToSnapshot: an instance closed after its guest wrote
// every byte of its memory and every mutable global is kept, and comes
// back as the module's next instance exactly as a new one starts; one
// whose memory grew is not kept. For a copied image (the WAT guest) and a
// mapped one (the Go room).
func TestRecycle_ResetsToSnapshot(t *testing.T) {
	for _, path := range []string{"testdata/fuzzcall/guest.wasm", goRoom(t)} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			ctx := context.Background()
			m, _ := testModule(t, path, Limits{})
			if m.snap == nil {
				t.Fatal("the module has no snapshot")
			}
			a, err := m.Instantiate(ctx, m.log)
			if err != nil {
				t.Fatal(err)
			}
			want := stateOf(t, m, a)
			mem := a.mod.Memory()
			// Half the pages are in the write set (copied back), the
			// others not (dropped); a is not learned from.
			a.mem.sample = false
			m.writes.runs.Store(&[]pageRun{{first: 1, n: int(mem.Size()) / osPage / 2}})
			mem.Write(0, bytes.Repeat([]byte{0xA5}, int(mem.Size())))
			for _, g := range m.prep.Globals {
				a.mod.ExportedGlobal(g.Name).(api.MutableGlobal).Set(0x5A5A5A5A)
			}
			before := Recycled()
			a.Close(ctx)
			if n := len(m.spares.list); n != 1 {
				t.Fatalf("%d spares after closing an instance, want 1", n)
			}
			b, err := m.Instantiate(ctx, m.log)
			if err != nil {
				t.Fatal(err)
			}
			if b != a || Recycled() != before+1 {
				t.Fatal("the next instance is not the spare")
			}
			got := stateOf(t, m, b)
			if !bytes.Equal(got.mem, want.mem) {
				i := 0
				for i < len(got.mem) && i < len(want.mem) && got.mem[i] == want.mem[i] {
					i++
				}
				t.Fatalf("the revived memory (%d bytes) differs from a new instance's (%d bytes) at byte %d", len(got.mem), len(want.mem), i)
			}
			for k, g := range m.prep.Globals {
				if got.globals[k] != want.globals[k] {
					t.Errorf("global %s: %#x, a new instance has %#x", g.Name, got.globals[k], want.globals[k])
				}
			}
			if _, ok := b.mod.Memory().Grow(1); !ok {
				t.Fatal("grow")
			}
			b.Close(ctx)
			if n := len(m.spares.list); n != 0 {
				t.Fatalf("an instance whose memory grew was kept (%d spares)", n)
			}
		})
	}
}

// TestRecycle_ModuleClose: closing a module closes its spares and keeps
// no more; the module's runtime goes with its last instance.
func TestRecycle_ModuleClose(t *testing.T) {
	ctx := context.Background()
	m, _ := testModule(t, "testdata/fuzzcall/guest.wasm", Limits{})
	a, _ := m.Instantiate(ctx, m.log)
	b, _ := m.Instantiate(ctx, m.log)
	a.Close(ctx)
	held := hostSpares.Load()
	m.Close(ctx)
	if len(m.spares.list) != 0 || hostSpares.Load() != held-1 {
		t.Fatalf("closing the module left %d spares (host: %d, was %d)", len(m.spares.list), hostSpares.Load(), held)
	}
	if m.refs.Load() != 1 {
		t.Fatalf("refs %d with one instance open, want 1", m.refs.Load())
	}
	b.Close(ctx)
	if m.refs.Load() != 0 || len(m.spares.list) != 0 {
		t.Fatalf("after the last instance: refs %d, %d spares", m.refs.Load(), len(m.spares.list))
	}
}

// TestRecycle_ConstructorKept: a revived spare runs its constructor with
// the function it resolved the first time (wazero gives each resolved
// function a 10 KB call stack of its own: resolving it anew for every
// new object made most of the host's garbage while a tenant churned
// objects), and a new object on a spare allocates less than that stack.
func TestRecycle_ConstructorKept(t *testing.T) {
	ctx := context.Background()
	m, _ := testModule(t, "testdata/fuzzcall/guest.wasm", Limits{})
	st := testStore(t)
	var ctor api.Function
	cycle := func() {
		inst, err := m.Instantiate(ctx, m.log)
		if err != nil {
			t.Fatal(err)
		}
		c := NewCall()
		c.Kind, c.Txn, c.Writes, c.Env, c.Log = Construct, st.NewTxn(), m.NewWrites(), &Env{}, m.log
		if err := inst.Run(ctx, c, []byte("input")); err != nil {
			t.Fatal(err)
		}
		c.Free()
		if f := inst.fn(abi.ExportObjectNew); ctor == nil {
			ctor = f
		} else if f != ctor {
			t.Fatal("the revived instance resolved its constructor again")
		}
		inst.Close(ctx)
	}
	cycle()
	if len(m.spares.list) != 1 {
		t.Fatal("the instance was not kept as a spare")
	}
	const n = 200
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		cycle()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per >= 10240 {
		t.Errorf("a new object on a spare allocated %d bytes, want less than one call stack (10 KB)", per)
	} else {
		t.Logf("a new object on a spare allocated %d bytes", per)
	}
}

// TestRecycle_TrimSpares: spares kept for less than the idle time stay;
// past it they are closed (their module's references and the host's
// count given back), and the module's next instance is a new one.
func TestRecycle_TrimSpares(t *testing.T) {
	ctx := context.Background()
	m, _ := testModule(t, "testdata/fuzzcall/guest.wasm", Limits{})
	refs := m.refs.Load()
	a, _ := m.Instantiate(ctx, m.log)
	b, _ := m.Instantiate(ctx, m.log)
	held := hostSpares.Load()
	a.Close(ctx)
	b.Close(ctx)
	if len(m.spares.list) != 2 || hostSpares.Load() != held+2 {
		t.Fatalf("%d spares after closing two instances (host %d, was %d)", len(m.spares.list), hostSpares.Load(), held)
	}
	if n := TrimSpares(ctx, time.Hour); n != 0 || len(m.spares.list) != 2 {
		t.Fatalf("an hour's idle time closed %d, left %d spares; want 0 and 2", n, len(m.spares.list))
	}
	if n := TrimSpares(ctx, 0); n < 2 || len(m.spares.list) != 0 {
		t.Fatalf("no idle time closed %d, left %d spares; want all", n, len(m.spares.list))
	}
	if hostSpares.Load() != held || m.refs.Load() != refs {
		t.Fatalf("after the trim: host spares %d (was %d), module refs %d (was %d)", hostSpares.Load(), held, m.refs.Load(), refs)
	}
	withSpares.mu.Lock()
	_, listed := withSpares.m[m]
	withSpares.mu.Unlock()
	if listed {
		t.Fatal("a module with no spares is still listed")
	}
	revived := Recycled()
	c, err := m.Instantiate(ctx, m.log)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if Recycled() != revived {
		t.Fatal("the next instance was revived from a spare that was closed")
	}
}
