package guest

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/store"
	"github.com/tetratelabs/wazero/api"
)

// FuzzHostCalls calls every host function of the ABI, from inside an
// object's fetch handler, with arbitrary arguments and arbitrary guest
// memory (testdata/fuzzcall exports fz_<name> for each). No call may make
// the host panic (wazero would report it as a trap), and each returns a
// status code the ABI defines.
func FuzzHostCalls(f *testing.F) {
	m, _ := testModule(f, "testdata/fuzzcall/guest.wasm", Limits{})
	st := testStore(f)
	ctx := context.Background()
	ns := &testNamespace{resp: abi.AppendResponse(nil, &abi.Response{Status: 200})}
	env := &Env{KV: map[string]*store.KV{"KV": st.KV("default", "fuzz")}, Namespaces: map[string]Namespace{"NS": ns}}
	var oid [store.ObjectIDLen]byte
	storage := st.Object("default", [store.NamespaceIDLen]byte{1}, oid, store.DefaultObjectLimits)
	inst, err := m.Instantiate(ctx, m.log)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { inst.Close(ctx) })
	fns := make([]api.Function, len(abi.HostFuncs))
	for i, h := range abi.HostFuncs {
		if fns[i] = inst.mod.ExportedFunction("fz_" + h.Name); fns[i] == nil {
			f.Fatalf("testdata/fuzzcall exports no fz_%s: add it", h.Name)
		}
	}
	idx := func(name string) uint8 {
		for i, h := range abi.HostFuncs {
			if h.Name == name {
				return uint8(i)
			}
		}
		f.Fatalf("no host function %s", name)
		return 0
	}
	args := func(v ...uint32) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, x)
		}
		return b
	}
	mem := make([]byte, 256)
	copy(mem, "KV")
	copy(mem[16:], "key")
	copy(mem[32:], "NS")
	f.Add(idx(abi.FnKVGet), mem, args(0, 2, 16, 3, 1024, 256, 2000))
	f.Add(idx(abi.FnKVPut), mem, args(0, 2, 16, 3, 16, 3, 0, 0))
	f.Add(idx(abi.FnKVList), mem, args(0, 2, 16, 1, 0, 0, 10, 1024, 256, 2000))
	f.Add(idx(abi.FnNSIDFromName), mem, args(32, 2, 16, 3, 1024, 256, 2000))
	f.Add(idx(abi.FnStorageList), append(abi.AppendStorageListOptions(nil, &abi.StorageListOptions{Prefix: []byte("k"), Flags: abi.ListReverse}), mem...), args(0, 22, 1024, 256, 2000))
	f.Add(idx(abi.FnStoragePutMulti), abi.AppendEntryList(nil, []abi.Entry{{Key: []byte("a"), Value: []byte("b")}}), args(0, 18))
	f.Add(idx(abi.FnAlarmSet), mem, args(16))
	f.Add(idx(abi.FnResultRead), mem, args(0, 1000))
	f.Fuzz(func(t *testing.T, fn uint8, memory []byte, argBytes []byte) {
		h := &abi.HostFuncs[int(fn)%len(abi.HostFuncs)]
		if len(memory) > 50000 {
			memory = memory[:50000]
		}
		inst.mod.Memory().Write(0, memory)
		stack := make([]uint64, max(len(h.Params), 1))
		for i := range h.Params {
			if len(argBytes) >= 4 {
				stack[i] = uint64(binary.LittleEndian.Uint32(argBytes))
				argBytes = argBytes[4:]
			}
		}
		c := &Call{Kind: ObjectFetch, Txn: st.NewTxn(), Env: env, Storage: storage, Log: m.log}
		c.inst, c.kind = inst, c.Kind
		c.clock.start(m.limits.CPU)
		err := fns[int(fn)%len(fns)].CallWithStack(c.context(ctx), stack)
		c.Txn.Discard()
		if err != nil {
			t.Fatalf("%s: the host call trapped: %v", h.Name, err)
		}
		code := int32(stack[0])
		if h.Result == abi.Length {
			if code < -int32(abi.GuestError) {
				t.Fatalf("%s returned %d", h.Name, code)
			}
		} else if code < 0 || code > int32(abi.GuestError) {
			t.Fatalf("%s returned %d, not a status code", h.Name, code)
		}
	})
}
