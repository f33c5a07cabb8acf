package guest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/store"
)

// TestHostFuncs_Table: the host registers exactly the rows of
// abi.HostFuncs, each with the table's parameter names, and implements
// nothing else.
func TestHostFuncs_Table(t *testing.T) {
	m, _ := testModule(t, "testdata/fuzzcall/guest.wasm", Limits{})
	defs := m.rt.Module(abi.ImportModule).ExportedFunctionDefinitions()
	if len(defs) != len(abi.HostFuncs) {
		t.Errorf("the host module has %d functions, abi.HostFuncs %d rows", len(defs), len(abi.HostFuncs))
	}
	for _, f := range abi.HostFuncs {
		d := defs[f.Name]
		if d == nil {
			t.Errorf("%s: not registered", f.Name)
			continue
		}
		if got := d.ParamNames(); !slices.Equal(got, f.ParamNames()) {
			t.Errorf("%s: registered with parameters %v, the table has %v", f.Name, got, f.ParamNames())
		}
		if len(d.ResultTypes()) != 1 {
			t.Errorf("%s: %d results", f.Name, len(d.ResultTypes()))
		}
	}
	for name := range hostFns {
		if abi.HostFuncByName(name) == nil {
			t.Errorf("hostFns implements %s, which abi.HostFuncs does not list", name)
		}
	}
}

// hostCaller calls the host functions of the fuzzcall guest (which
// exports fz_<name> for each) from inside an object's fetch handler.
type hostCaller struct {
	t    *testing.T
	inst *Instance
	c    *Call
}

func newHostCaller(t *testing.T) *hostCaller {
	m, _ := testModule(t, "testdata/fuzzcall/guest.wasm", Limits{})
	st := testStore(t)
	ctx := context.Background()
	inst, err := m.Instantiate(ctx, m.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close(ctx) })
	env := &Env{KV: map[string]*store.KV{"KV": st.KV("default", "kv")}}
	var oid [store.ObjectIDLen]byte
	c := &Call{Kind: ObjectFetch, Txn: st.NewTxn(), Env: env, Log: m.log,
		Storage: st.Object("default", [store.NamespaceIDLen]byte{1}, oid, store.DefaultObjectLimits)}
	c.inst, c.kind = inst, c.Kind
	c.clock.start(m.limits.CPU)
	t.Cleanup(c.Txn.Discard)
	return &hostCaller{t: t, inst: inst, c: c}
}

// call calls host function name with args and returns its i32 result.
func (h *hostCaller) call(name string, args ...uint32) int32 {
	h.t.Helper()
	stack := make([]uint64, max(len(args), 1))
	for i, a := range args {
		stack[i] = uint64(a)
	}
	if err := h.inst.mod.ExportedFunction("fz_"+name).CallWithStack(h.c.context(context.Background()), stack); err != nil {
		h.t.Fatalf("%s: %v", name, err)
	}
	return int32(stack[0])
}

func (h *hostCaller) write(at uint32, b []byte) {
	if !h.inst.mod.Memory().Write(at, b) {
		h.t.Fatalf("write at %#x", at)
	}
}

func (h *hostCaller) u32(at uint32) uint32 {
	v, _ := h.inst.mod.Memory().ReadUint32Le(at)
	return v
}

// pending reads the whole pending result with result_read.
func (h *hostCaller) pending() string {
	h.t.Helper()
	n := h.call(abi.FnResultRead, 40000, 0)
	if n < 0 {
		h.t.Fatalf("result_read: %d", n)
	}
	h.call(abi.FnResultRead, 40000, uint32(n))
	b, _ := h.inst.mod.Memory().Read(40000, uint32(n))
	return string(b)
}

// TestHostFuncs_OutBuffer: the out buffer protocol of ABI.md §2, and what
// a bad out pointer gives: BAD_POINTER, with the length of the error
// message (not of the value) at out_len_ptr.
func TestHostFuncs_OutBuffer(t *testing.T) {
	h := newHostCaller(t)
	h.write(0, []byte("KV"))
	h.write(16, []byte("key"))
	h.write(32, []byte("a value of 20 bytes."))
	if code := h.call(abi.FnKVPut, 0, 2, 16, 3, 32, 20, 0, 0); code != int32(abi.OK) {
		t.Fatalf("kv_put: %d", code)
	}
	size := h.inst.mod.Memory().Size()

	// The value fits: copied, and its length written.
	if code := h.call(abi.FnKVGet, 0, 2, 16, 3, 1024, 64, 2000); code != int32(abi.OK) || h.u32(2000) != 20 {
		t.Fatalf("kv_get: %d, length %d", code, h.u32(2000))
	}
	if b, _ := h.inst.mod.Memory().Read(1024, 20); string(b) != "a value of 20 bytes." {
		t.Errorf("kv_get copied %q", b)
	}
	// It does not fit: only the length, then result_read.
	h.write(1024, make([]byte, 20))
	if code := h.call(abi.FnKVGet, 0, 2, 16, 3, 1024, 4, 2000); code != int32(abi.OK) || h.u32(2000) != 20 {
		t.Fatalf("kv_get, small buffer: %d, length %d", code, h.u32(2000))
	}
	if b, _ := h.inst.mod.Memory().Read(1024, 4); string(b) != "\x00\x00\x00\x00" {
		t.Errorf("kv_get copied %q into a buffer too small", b)
	}
	if got := h.pending(); got != "a value of 20 bytes." {
		t.Errorf("result_read after kv_get: %q", got)
	}
	// The out buffer is outside memory: BAD_POINTER, nothing done, and the
	// message's length at out_len_ptr.
	code := h.call(abi.FnKVGet, 0, 2, 16, 3, size-2, 64, 2000)
	msg := h.pending()
	if code != int32(abi.BadPointer) || h.u32(2000) != uint32(len(msg)) || !strings.Contains(msg, "out_ptr/out_cap") {
		t.Errorf("kv_get, out buffer outside memory: code %d, out_len %d, message %q (%d bytes)", code, h.u32(2000), msg, len(msg))
	}
	// out_len_ptr itself is outside memory: BAD_POINTER, the message pending.
	if code := h.call(abi.FnKVGet, 0, 2, 16, 3, 1024, 64, size-2); code != int32(abi.BadPointer) || !strings.Contains(h.pending(), "out_len_ptr") {
		t.Errorf("kv_get, out_len_ptr outside memory: code %d", code)
	}
	// An input outside memory: named by its parameters.
	if code := h.call(abi.FnKVGet, 0, 2, size, 3, 1024, 64, 2000); code != int32(abi.BadPointer) || !strings.Contains(h.pending(), "key_ptr/key_len") {
		t.Errorf("kv_get, key outside memory: code %d", code)
	}
}

// TestHostFuncs_Pending: every host call but result_read replaces the
// pending result, with its data, its error message, or nothing.
func TestHostFuncs_Pending(t *testing.T) {
	h := newHostCaller(t)
	h.c.pending = []byte("the handler's input")
	if got := h.pending(); got != "the handler's input" {
		t.Fatalf("input: %q", got)
	}
	h.write(0, []byte("a log line"))
	if code := h.call(abi.FnLog, abi.LogInfo, 0, 10); code != int32(abi.OK) {
		t.Fatalf("log: %d", code)
	}
	if got := h.pending(); got != "" {
		t.Errorf("after log the pending result is %q, want empty", got)
	}
	if code := h.call(abi.FnLog, 7, 0, 10); code != int32(abi.Invalid) || !strings.Contains(h.pending(), "log level 7") {
		t.Errorf("log level 7: %d", code)
	}
	h.write(100, []byte("KV"))
	h.write(116, []byte("k"))
	if code := h.call(abi.FnKVPut, 100, 2, 116, 1, 116, 1, 0, 0); code != int32(abi.OK) || h.pending() != "" {
		t.Errorf("kv_put: %d, pending %q", code, h.pending())
	}
	if code := h.call(abi.FnTxnCommit); code != int32(abi.BadState) || !strings.Contains(h.pending(), "no transaction") {
		t.Errorf("txn_commit outside a transaction: %d", code)
	}
}

// TestHostFuncs_RespondChecksHeaders: respond refuses, with BAD_ENCODING
// and a message naming it, a header HTTP cannot carry, rather than drop
// it; stub_fetch does the same for a request's headers.
func TestHostFuncs_RespondChecksHeaders(t *testing.T) {
	h := newHostCaller(t)
	for _, bad := range []abi.Header{{Name: "Bad Name", Value: "v"}, {Name: "", Value: "v"}, {Name: "X", Value: "a\r\nInjected: 1"}} {
		rec := abi.AppendResponse(nil, &abi.Response{Status: 200, Headers: []abi.Header{{Name: "Ok", Value: "1"}, bad}})
		h.write(0, rec)
		if code := h.call(abi.FnRespond, 0, uint32(len(rec))); code != int32(abi.BadEncoding) || !strings.Contains(h.pending(), "header 1") {
			t.Errorf("respond with header %q: %q: code %d", bad.Name, bad.Value, code)
		}
	}
	ns := &testNamespace{resp: abi.AppendResponse(nil, &abi.Response{Status: 200})}
	h.c.Env.Namespaces = map[string]Namespace{"NS": ns}
	h.write(100, []byte("NS"))
	id := ns.IDFromName("x")
	h.write(200, []byte(id))
	req := abi.AppendRequest(nil, &abi.Request{Method: "GET", URL: "relative/is/fine", Headers: []abi.Header{{Name: "Bad Name", Value: "v"}}})
	h.write(1000, req)
	if code := h.call(abi.FnStubFetch, 100, 2, 200, 64, 1000, uint32(len(req)), 4000, 1000, 3000); code != int32(abi.BadEncoding) || ns.calls != 0 {
		t.Errorf("stub_fetch with a bad header: code %d, %d requests reached the object", code, ns.calls)
	}
	req = abi.AppendRequest(nil, &abi.Request{Method: "GET", URL: "relative/is/fine"})
	h.write(1000, req)
	if code := h.call(abi.FnStubFetch, 100, 2, 200, 64, 1000, uint32(len(req)), 4000, 1000, 3000); code != int32(abi.OK) || ns.calls != 1 {
		t.Errorf("stub_fetch to a relative URL: code %d (%s)", code, h.pending())
	}
	rec := abi.AppendResponse(nil, &abi.Response{Status: 200, Headers: []abi.Header{{Name: "x-ok", Value: "tab\tis fine"}}})
	h.write(0, rec)
	if code := h.call(abi.FnRespond, 0, uint32(len(rec))); code != int32(abi.OK) {
		t.Errorf("respond: %d (%s)", code, h.pending())
	}
	if code := h.call(abi.FnRespond, 0, uint32(len(rec))); code != int32(abi.BadState) {
		t.Errorf("respond twice: %d", code)
	}
}
