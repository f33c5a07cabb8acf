package guest

import (
	"context"

	"github.com/dohost/dohost/host/internal/bigcopy"
	"github.com/tetratelabs/wazero/api"
)

// bulkAbove is the size above which a guest's memory.fill or memory.copy
// is done by the host (wasmbin.Options.FillName): one such instruction of
// 64 MiB into fresh memory runs for tens of milliseconds as a single step
// of guest code, which neither the clock nor the Go scheduler can
// interrupt, while the core's other goroutines wait. Done by the host, it
// runs a piece at a time with the clock's check (tick) between pieces:
// its deadline holds, it yields its core, and a long one takes a long
// slot, as a loop does. Smaller ones, which compilers emit for every
// small copy, stay native.
const bulkAbove = 64 << 10

// The meter module's names of memFill and memCopy.
const (
	memFillFunc = "memfill"
	memCopyFunc = "memcopy"
)

// bulkParams is the type of memFill and memCopy: (i32, i32, i32) -> (i32).
var bulkParams = []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}

// memFill is called by metered code before a memory.fill of more than
// bulkAbove bytes, with its operands (destination, value, length): it
// fills the range and returns 0, leaving the instruction nothing to do,
// or, when the range is outside the guest's memory, returns the length
// and leaves the instruction to trap as it would have.
func memFill(ctx context.Context, mod api.Module, s []uint64) {
	d, v, n := uint32(s[0]), byte(s[1]), uint32(s[2])
	s[0] = uint64(n)
	mem := guestMemory(mod)
	if uint64(d)+uint64(n) > uint64(len(mem)) {
		return
	}
	bigcopy.Fill(mem[d:d+n], v, tickOf(ctx))
	s[0] = 0
}

// memCopy is memFill for memory.copy (destination, source, length); the
// ranges may overlap.
func memCopy(ctx context.Context, mod api.Module, s []uint64) {
	d, src, n := uint32(s[0]), uint32(s[1]), uint32(s[2])
	s[0] = uint64(n)
	mem := guestMemory(mod)
	if uint64(d)+uint64(n) > uint64(len(mem)) || uint64(src)+uint64(n) > uint64(len(mem)) {
		return
	}
	bigcopy.Move(mem, int(d), int(src), int(n), tickOf(ctx))
	s[0] = 0
}

// guestMemory is the whole of mod's memory (nil if it has none).
func guestMemory(mod api.Module) []byte {
	m := mod.Memory()
	if m == nil {
		return nil
	}
	b, _ := m.Read(0, m.Size())
	return b
}

// tickOf is the clock check of the guest call running in ctx, or nil.
func tickOf(ctx context.Context) func() {
	if c := callFrom(ctx); c != nil {
		return c.clock.tick
	}
	return nil
}
