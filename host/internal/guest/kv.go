package guest

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/store"
)

// The host functions of KV namespaces: kv_get, kv_put, kv_delete and
// kv_list. Each names its namespace by the binding in wrangler.toml.

// kv resolves a binding name to its KV namespace.
func (c *Call) kv(name []byte) (*store.KV, abi.Code) {
	kv := c.Env.KV[string(name)]
	if kv == nil {
		return nil, c.errorf(abi.NoBinding, "no KV namespace binding %q; this worker's are: %s", name, keyList(c.Env.KV))
	}
	return kv, abi.OK
}

// keyList lists a map's keys, sorted, for messages.
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

func kvGet(_ context.Context, c *Call, a *args) abi.Code {
	kv, code := c.kv(a.in())
	if code != abi.OK {
		return code
	}
	// The value is read into the call's buffer of the last kv_get: its
	// result, which the buffer held, is replaced by this one anyway.
	v, buf, found, err := kv.GetInto(c.getBuf, c.Txn, a.in(), now(), c.clock.tick)
	c.getBuf = buf
	switch {
	case err != nil:
		return c.storeError(err)
	case !found:
		return abi.NotFound
	}
	c.pending = v
	return abi.OK
}

func kvPut(_ context.Context, c *Call, a *args) abi.Code {
	kv, code := c.kv(a.in())
	if code != abi.OK {
		return code
	}
	key, val, optb := a.in(), a.in(), a.in()
	if code := c.charge(len(key), len(val)+len(optb)); code != abi.OK {
		return code
	}
	o, err := abi.DecodeKVPutOptions(optb)
	if err != nil {
		return c.errorf(abi.BadEncoding, "%v", err)
	}
	if o.Expiration > 1<<62 || o.ExpirationTTL > 1<<62 {
		return c.errorf(abi.Invalid, "expiration out of range")
	}
	err = kv.Put(c.Txn, key, val, store.PutOptions{
		Expiration: int64(o.Expiration), ExpirationTTL: int64(o.ExpirationTTL), Metadata: o.Metadata,
		Between: c.clock.tick,
	}, now())
	if err != nil {
		return c.storeError(err)
	}
	return abi.OK
}

func kvDelete(_ context.Context, c *Call, a *args) abi.Code {
	kv, code := c.kv(a.in())
	if code != abi.OK {
		return code
	}
	key := a.in()
	if code := c.charge(len(key), 0); code != abi.OK {
		return code
	}
	if err := kv.Delete(c.Txn, key); err != nil {
		return c.storeError(err)
	}
	return abi.OK
}

func kvList(_ context.Context, c *Call, a *args) abi.Code {
	kv, code := c.kv(a.in())
	if code != abi.OK {
		return code
	}
	prefix, cursor, limit := a.in(), a.in(), int32(a.val())
	if limit < 0 {
		return c.errorf(abi.Invalid, "limit %d is negative", limit)
	}
	res, err := kv.List(c.Txn, prefix, string(cursor), int(limit), now())
	if err != nil {
		return c.storeError(err)
	}
	l := abi.KVList{Complete: res.Complete, Cursor: res.Cursor, Keys: make([]abi.KVListKey, len(res.Keys))}
	for i, k := range res.Keys {
		l.Keys[i] = abi.KVListKey{Name: string(k.Name), Expiration: uint64(k.Expiration), Metadata: k.Metadata}
	}
	c.pending = abi.AppendKVList(nil, &l)
	return abi.OK
}
