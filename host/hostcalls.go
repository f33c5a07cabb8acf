package host

import (
	"bytes"
	"context"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/store"
	"github.com/tetratelabs/wazero/api"
)

// hostFunc is one function of the dohost import module. Every function
// returns one i32: a status code, or for result_read a length.
type hostFunc struct {
	name       string
	paramNames []string
	params     []api.ValueType
	fn         api.GoModuleFunc
}

// handler is the body of a host function. It runs only inside a guest
// handler call (c is never nil) and returns the status code.
type handler func(ctx context.Context, c *call, mod api.Module, s []uint64) abi.Code

func hostFn(name string, params string, h handler) hostFunc {
	names := strings.Fields(params)
	types := make([]api.ValueType, len(names))
	for i := range types {
		types[i] = api.ValueTypeI32
	}
	return hostFunc{name: name, paramNames: names, params: types, fn: func(ctx context.Context, mod api.Module, s []uint64) {
		c := callFrom(ctx)
		if c == nil || c.kind == kindInit {
			// Outside a handler: during _initialize or a start function.
			s[0] = uint64(uint32(abi.BadState))
			return
		}
		s[0] = uint64(uint32(h(ctx, c, mod, s)))
	}}
}

// hostFuncs is the dohost import module, ABI v1. abi/ABI.md documents each.
var hostFuncs = append([]hostFunc{
	{name: abi.FnResultRead, paramNames: []string{"ptr", "cap"}, params: []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, fn: resultRead},
	hostFn(abi.FnRespond, "ptr len", respond),
	hostFn(abi.FnFail, "ptr len", fail),
	hostFn(abi.FnLog, "level ptr len", logFn),
	hostFn(abi.FnKVGet, "binding_ptr binding_len key_ptr key_len out_ptr out_cap out_len_ptr", kvGet),
	hostFn(abi.FnKVPut, "binding_ptr binding_len key_ptr key_len value_ptr value_len opts_ptr opts_len", kvPut),
	hostFn(abi.FnKVDelete, "binding_ptr binding_len key_ptr key_len", kvDelete),
	hostFn(abi.FnKVList, "binding_ptr binding_len prefix_ptr prefix_len cursor_ptr cursor_len limit out_ptr out_cap out_len_ptr", kvList),
	hostFn(abi.FnNSIDFromName, "binding_ptr binding_len name_ptr name_len out_ptr out_cap out_len_ptr", nsIDFromName),
	hostFn(abi.FnNSNewUniqueID, "binding_ptr binding_len out_ptr out_cap out_len_ptr", nsNewUniqueID),
	hostFn(abi.FnNSIDFromString, "binding_ptr binding_len id_ptr id_len out_ptr out_cap out_len_ptr", nsIDFromString),
	hostFn(abi.FnStubFetch, "binding_ptr binding_len id_ptr id_len req_ptr req_len out_ptr out_cap out_len_ptr", stubFetch),
}, storageFuncs...)

// resultRead copies up to cap bytes of the pending result to ptr and returns
// the pending result's full length, or -code on error.
func resultRead(ctx context.Context, mod api.Module, s []uint64) {
	c := callFrom(ctx)
	if c == nil || c.kind == kindInit {
		s[0] = negCode(abi.BadState)
		return
	}
	ptr, n := u32(s, 0), u32(s, 1)
	data := c.pending
	if uint64(n) > uint64(len(data)) {
		n = uint32(len(data))
	}
	if n > 0 && !mod.Memory().Write(ptr, data[:n]) {
		s[0] = negCode(abi.BadPointer)
		return
	}
	s[0] = uint64(uint32(len(data)))
}

// negCode is the i32 result -code, for functions that return lengths.
func negCode(c abi.Code) uint64 { return uint64(uint32(-int32(c))) }

func respond(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	b, ok := c.read(mod, u32(s, 0), u32(s, 1))
	if !ok {
		return c.errorf(abi.BadPointer, "response %#x+%d is outside guest memory", u32(s, 0), u32(s, 1))
	}
	if c.responded {
		return c.errorf(abi.BadState, "respond was already called in this handler")
	}
	if c.kind == kindFetch {
		r, err := abi.DecodeResponse(b)
		if err != nil {
			return c.errorf(abi.BadEncoding, "%v", err)
		}
		if limit := c.app.cfg.Limits.ResponseBody; int64(len(r.Body)) > limit {
			return c.errorf(abi.TooLarge, "response body of %d bytes is over the limit of %d", len(r.Body), limit)
		}
	}
	c.response = bytes.Clone(b)
	c.responded = true
	return abi.OK
}

func fail(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	b, ok := c.read(mod, u32(s, 0), u32(s, 1))
	if !ok {
		return c.errorf(abi.BadPointer, "message %#x+%d is outside guest memory", u32(s, 0), u32(s, 1))
	}
	c.failure = strings.ToValidUTF8(string(b[:min(len(b), 4096)]), "\uFFFD")
	return abi.OK
}

func logFn(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	level := u32(s, 0)
	b, ok := c.read(mod, u32(s, 1), u32(s, 2))
	if !ok {
		return c.errorf(abi.BadPointer, "log message %#x+%d is outside guest memory", u32(s, 1), u32(s, 2))
	}
	var l slog.Level
	switch level {
	case abi.LogDebug:
		l = slog.LevelDebug
	case abi.LogInfo:
		l = slog.LevelInfo
	case abi.LogWarn:
		l = slog.LevelWarn
	case abi.LogError:
		l = slog.LevelError
	default:
		return c.errorf(abi.Invalid, "log level %d is not 0-3", level)
	}
	if c.app.logLimit.allow() {
		c.logger().Log(context.Background(), l, strings.ToValidUTF8(string(b[:min(len(b), 8192)]), "\uFFFD"))
	}
	return abi.OK
}

// kvBinding resolves the binding name at s[0:2].
func (c *call) kvBinding(mod api.Module, s []uint64) (*store.KV, abi.Code) {
	name, ok := c.read(mod, u32(s, 0), u32(s, 1))
	if !ok {
		return nil, c.errorf(abi.BadPointer, "binding name %#x+%d is outside guest memory", u32(s, 0), u32(s, 1))
	}
	kv := c.app.kv[string(name)]
	if kv == nil {
		return nil, c.errorf(abi.NoBinding, "no KV namespace binding %q; this worker's are: %s", name, keyList(c.app.kv))
	}
	return kv, abi.OK
}

func keyList[V any](m map[string]V) string {
	if len(m) == 0 {
		return "(none)"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

func now() int64 { return time.Now().Unix() }

func kvGet(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	kv, code := c.kvBinding(mod, s)
	if code != abi.OK {
		return c.finish(mod, s, 4, code, c.pending)
	}
	key, ok := c.read(mod, u32(s, 2), u32(s, 3))
	if !ok {
		return c.finish(mod, s, 4, c.errorf(abi.BadPointer, "key %#x+%d is outside guest memory", u32(s, 2), u32(s, 3)), c.pending)
	}
	v, found, err := kv.Get(c.txn, key, now())
	if err != nil {
		return c.finish(mod, s, 4, c.storeError(err), c.pending)
	}
	if !found {
		return c.finish(mod, s, 4, abi.NotFound, nil)
	}
	return c.finish(mod, s, 4, abi.OK, v)
}

func kvPut(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	kv, code := c.kvBinding(mod, s)
	if code != abi.OK {
		return code
	}
	key, ok1 := c.read(mod, u32(s, 2), u32(s, 3))
	val, ok2 := c.read(mod, u32(s, 4), u32(s, 5))
	optb, ok3 := c.read(mod, u32(s, 6), u32(s, 7))
	if !ok1 || !ok2 || !ok3 {
		return c.errorf(abi.BadPointer, "key, value or options is outside guest memory")
	}
	o, err := abi.DecodeKVPutOptions(optb)
	if err != nil {
		return c.errorf(abi.BadEncoding, "%v", err)
	}
	if o.Expiration > 1<<62 || o.ExpirationTTL > 1<<62 {
		return c.errorf(abi.Invalid, "expiration out of range")
	}
	err = kv.Put(c.txn, key, val, store.PutOptions{
		Expiration: int64(o.Expiration), ExpirationTTL: int64(o.ExpirationTTL), Metadata: o.Metadata,
	}, now())
	if err != nil {
		return c.storeError(err)
	}
	c.pending = nil
	return abi.OK
}

func kvDelete(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	kv, code := c.kvBinding(mod, s)
	if code != abi.OK {
		return code
	}
	key, ok := c.read(mod, u32(s, 2), u32(s, 3))
	if !ok {
		return c.errorf(abi.BadPointer, "key %#x+%d is outside guest memory", u32(s, 2), u32(s, 3))
	}
	if err := kv.Delete(c.txn, key); err != nil {
		return c.storeError(err)
	}
	c.pending = nil
	return abi.OK
}

func kvList(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	kv, code := c.kvBinding(mod, s)
	if code != abi.OK {
		return c.finish(mod, s, 7, code, c.pending)
	}
	prefix, ok1 := c.read(mod, u32(s, 2), u32(s, 3))
	cursor, ok2 := c.read(mod, u32(s, 4), u32(s, 5))
	if !ok1 || !ok2 {
		return c.finish(mod, s, 7, c.errorf(abi.BadPointer, "prefix or cursor is outside guest memory"), c.pending)
	}
	limit := int32(u32(s, 6))
	if limit < 0 {
		return c.finish(mod, s, 7, c.errorf(abi.Invalid, "limit %d is negative", limit), c.pending)
	}
	res, err := kv.List(c.txn, prefix, string(cursor), int(limit), now())
	if err != nil {
		return c.finish(mod, s, 7, c.storeError(err), c.pending)
	}
	l := abi.KVList{Complete: res.Complete, Cursor: res.Cursor, Keys: make([]abi.KVListKey, len(res.Keys))}
	for i, k := range res.Keys {
		l.Keys[i] = abi.KVListKey{Name: string(k.Name), Expiration: uint64(k.Expiration), Metadata: k.Metadata}
	}
	return c.finish(mod, s, 7, abi.OK, abi.AppendKVList(nil, &l))
}

// nsBinding resolves the Durable Object namespace binding at s[0:2].
func (c *call) nsBinding(mod api.Module, s []uint64) (*namespace, abi.Code) {
	name, ok := c.read(mod, u32(s, 0), u32(s, 1))
	if !ok {
		return nil, c.errorf(abi.BadPointer, "binding name %#x+%d is outside guest memory", u32(s, 0), u32(s, 1))
	}
	ns := c.app.namespaces[string(name)]
	if ns == nil {
		return nil, c.errorf(abi.NoBinding, "no Durable Object namespace binding %q; this worker's are: %s", name, keyList(c.app.namespaces))
	}
	return ns, abi.OK
}

func nsIDFromName(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	ns, code := c.nsBinding(mod, s)
	if code != abi.OK {
		return c.finish(mod, s, 4, code, c.pending)
	}
	name, ok := c.read(mod, u32(s, 2), u32(s, 3))
	if !ok {
		return c.finish(mod, s, 4, c.errorf(abi.BadPointer, "name %#x+%d is outside guest memory", u32(s, 2), u32(s, 3)), c.pending)
	}
	id := idFromName(ns.key[:], string(name))
	if len(c.names) < 64 {
		c.names = append(c.names, namedID{ns: ns, id: id, name: string(name)})
	}
	return c.finish(mod, s, 4, abi.OK, []byte(id.String()))
}

func nsNewUniqueID(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	ns, code := c.nsBinding(mod, s)
	if code != abi.OK {
		return c.finish(mod, s, 2, code, c.pending)
	}
	id, err := newUniqueID(ns.key[:])
	if err != nil {
		return c.finish(mod, s, 2, c.errorf(abi.Internal, "%v", err), c.pending)
	}
	return c.finish(mod, s, 2, abi.OK, []byte(id.String()))
}

func nsIDFromString(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	ns, code := c.nsBinding(mod, s)
	if code != abi.OK {
		return c.finish(mod, s, 4, code, c.pending)
	}
	str, ok := c.read(mod, u32(s, 2), u32(s, 3))
	if !ok {
		return c.finish(mod, s, 4, c.errorf(abi.BadPointer, "id %#x+%d is outside guest memory", u32(s, 2), u32(s, 3)), c.pending)
	}
	id, err := parseID(ns.key[:], string(str))
	if err != nil {
		return c.finish(mod, s, 4, c.errorf(abi.Invalid, "%q: %v (binding %s)", str, err, ns.binding), c.pending)
	}
	return c.finish(mod, s, 4, abi.OK, []byte(id.String()))
}

func stubFetch(ctx context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	ns, code := c.nsBinding(mod, s)
	if code != abi.OK {
		return c.finish(mod, s, 6, code, c.pending)
	}
	idStr, ok1 := c.read(mod, u32(s, 2), u32(s, 3))
	req, ok2 := c.read(mod, u32(s, 4), u32(s, 5))
	if !ok1 || !ok2 {
		return c.finish(mod, s, 6, c.errorf(abi.BadPointer, "id or request is outside guest memory"), c.pending)
	}
	id, err := parseID(ns.key[:], string(idStr))
	if err != nil {
		return c.finish(mod, s, 6, c.errorf(abi.Invalid, "%q: %v (binding %s)", idStr, err, ns.binding), c.pending)
	}
	dr, err := abi.DecodeRequest(req)
	if err != nil {
		return c.finish(mod, s, 6, c.errorf(abi.BadEncoding, "%v", err), c.pending)
	}
	if limit := ns.app.cfg.Limits.RequestBody; int64(len(dr.Body)) > limit {
		return c.finish(mod, s, 6, c.errorf(abi.TooLarge, "request body of %d bytes is over the limit of %d", len(dr.Body), limit), c.pending)
	}
	name, hasName := "", false
	for _, n := range c.names {
		if n.ns == ns && n.id == id {
			name, hasName = n.name, true
			break
		}
	}
	// req is a view of the caller's memory; the callee gets its own copy so
	// that nothing it does depends on the caller's instance staying open.
	start := time.Now()
	resp, code, err := c.app.srv.objects.fetch(ctx, c.obj, c.deadline, ns, id, name, hasName, bytes.Clone(req))
	c.blocked(time.Since(start))
	if err != nil {
		if code == abi.Overloaded {
			c.overloaded = true
		}
		return c.finish(mod, s, 6, c.errorf(code, "%v", err), c.pending)
	}
	return c.finish(mod, s, 6, abi.OK, resp)
}
