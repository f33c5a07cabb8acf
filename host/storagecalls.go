package host

import (
	"context"
	"encoding/binary"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/store"
	"github.com/tetratelabs/wazero/api"
)

// The host functions of Durable Object storage, transactions and alarms.
// Each works on the storage of the object whose handler is running: there
// is no argument that could name another object's keys.

// storageFuncs are the storage part of hostFuncs.
var storageFuncs = []hostFunc{
	hostFn(abi.FnStorageGet, "key_ptr key_len out_ptr out_cap out_len_ptr", storageGet),
	hostFn(abi.FnStorageGetMulti, "keys_ptr keys_len out_ptr out_cap out_len_ptr", storageGetMulti),
	hostFn(abi.FnStoragePut, "key_ptr key_len value_ptr value_len", storagePut),
	hostFn(abi.FnStoragePutMulti, "entries_ptr entries_len", storagePutMulti),
	hostFn(abi.FnStorageDelete, "key_ptr key_len", storageDelete),
	hostFn(abi.FnStorageDeleteMulti, "keys_ptr keys_len count_ptr", storageDeleteMulti),
	hostFn(abi.FnStorageList, "opts_ptr opts_len out_ptr out_cap out_len_ptr", storageList),
	hostFn(abi.FnStorageDeleteAll, "", storageDeleteAll),
	hostFn(abi.FnTxnBegin, "", txnBegin),
	hostFn(abi.FnTxnCommit, "", txnCommit),
	hostFn(abi.FnTxnRollback, "", txnRollback),
	hostFn(abi.FnAlarmGet, "out_ptr", alarmGet),
	hostFn(abi.FnAlarmSet, "time_ptr", alarmSet),
	hostFn(abi.FnAlarmDelete, "", alarmDelete),
}

// storage returns the storage of the call's object.
func (c *call) storage() (*store.Object, abi.Code) {
	if c.obj == nil {
		return nil, c.errorf(abi.BadState, "storage belongs to Durable Objects: the Worker has none")
	}
	return c.obj.storage, abi.OK
}

func storageGet(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	st, code := c.storage()
	if code != abi.OK {
		return c.finish(mod, s, 2, code, c.pending)
	}
	key, ok := c.read(mod, u32(s, 0), u32(s, 1))
	if !ok {
		return c.finish(mod, s, 2, c.errorf(abi.BadPointer, "key %#x+%d is outside guest memory", u32(s, 0), u32(s, 1)), c.pending)
	}
	v, found, err := st.Get(c.txn, key)
	switch {
	case err != nil:
		return c.finish(mod, s, 2, c.storeError(err), c.pending)
	case !found:
		return c.finish(mod, s, 2, abi.NotFound, nil)
	}
	return c.finish(mod, s, 2, abi.OK, v)
}

// keyList reads a KeyList of at most abi.MaxStorageBatch keys at s[0:2].
func (c *call) keyList(mod api.Module, s []uint64) ([][]byte, abi.Code) {
	b, ok := c.read(mod, u32(s, 0), u32(s, 1))
	if !ok {
		return nil, c.errorf(abi.BadPointer, "key list %#x+%d is outside guest memory", u32(s, 0), u32(s, 1))
	}
	keys, err := abi.DecodeKeyList(b)
	if err != nil {
		return nil, c.errorf(abi.BadEncoding, "%v", err)
	}
	if len(keys) > abi.MaxStorageBatch {
		return nil, c.errorf(abi.TooLarge, "%d keys; one call takes at most %d", len(keys), abi.MaxStorageBatch)
	}
	return keys, abi.OK
}

func storageGetMulti(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	st, code := c.storage()
	if code != abi.OK {
		return c.finish(mod, s, 2, code, c.pending)
	}
	keys, code := c.keyList(mod, s)
	if code != abi.OK {
		return c.finish(mod, s, 2, code, c.pending)
	}
	vs := make([]abi.Value, len(keys))
	for i, k := range keys {
		v, found, err := st.Get(c.txn, k)
		if err != nil {
			return c.finish(mod, s, 2, c.storeError(err), c.pending)
		}
		vs[i] = abi.Value{Found: found, Value: v}
	}
	return c.finish(mod, s, 2, abi.OK, abi.AppendValueList(nil, vs))
}

func storagePut(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	st, code := c.storage()
	if code != abi.OK {
		return code
	}
	key, ok1 := c.read(mod, u32(s, 0), u32(s, 1))
	val, ok2 := c.read(mod, u32(s, 2), u32(s, 3))
	if !ok1 || !ok2 {
		return c.errorf(abi.BadPointer, "key or value is outside guest memory")
	}
	if err := st.Put(c.txn, key, val); err != nil {
		return c.storeError(err)
	}
	c.pending = nil
	return abi.OK
}

func storagePutMulti(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	st, code := c.storage()
	if code != abi.OK {
		return code
	}
	b, ok := c.read(mod, u32(s, 0), u32(s, 1))
	if !ok {
		return c.errorf(abi.BadPointer, "entries %#x+%d are outside guest memory", u32(s, 0), u32(s, 1))
	}
	es, err := abi.DecodeEntryList(b)
	if err != nil {
		return c.errorf(abi.BadEncoding, "%v", err)
	}
	if len(es) > abi.MaxStorageBatch {
		return c.errorf(abi.TooLarge, "%d entries; one call takes at most %d", len(es), abi.MaxStorageBatch)
	}
	// All or nothing: check every entry before writing any.
	for _, e := range es {
		if err := st.CheckKey(e.Key); err != nil {
			return c.storeError(err)
		}
		if err := st.CheckValue(e.Value); err != nil {
			return c.storeError(err)
		}
	}
	for _, e := range es {
		if err := st.Put(c.txn, e.Key, e.Value); err != nil {
			return c.storeError(err)
		}
	}
	c.pending = nil
	return abi.OK
}

func storageDelete(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	st, code := c.storage()
	if code != abi.OK {
		return code
	}
	key, ok := c.read(mod, u32(s, 0), u32(s, 1))
	if !ok {
		return c.errorf(abi.BadPointer, "key %#x+%d is outside guest memory", u32(s, 0), u32(s, 1))
	}
	existed, err := st.Delete(c.txn, key)
	if err != nil {
		return c.storeError(err)
	}
	c.pending = nil
	if !existed {
		return abi.NotFound
	}
	return abi.OK
}

func storageDeleteMulti(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	st, code := c.storage()
	if code != abi.OK {
		return code
	}
	keys, code := c.keyList(mod, s)
	if code != abi.OK {
		return code
	}
	countPtr := u32(s, 2)
	if _, ok := mod.Memory().Read(countPtr, 4); !ok {
		return c.errorf(abi.BadPointer, "count_ptr %#x is outside guest memory", countPtr)
	}
	for _, k := range keys {
		if err := st.CheckKey(k); err != nil {
			return c.storeError(err)
		}
	}
	n := uint32(0)
	for _, k := range keys {
		existed, err := st.Delete(c.txn, k)
		if err != nil {
			return c.storeError(err)
		}
		if existed {
			n++
		}
	}
	mod.Memory().WriteUint32Le(countPtr, n)
	c.pending = nil
	return abi.OK
}

func storageList(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	st, code := c.storage()
	if code != abi.OK {
		return c.finish(mod, s, 2, code, c.pending)
	}
	b, ok := c.read(mod, u32(s, 0), u32(s, 1))
	if !ok {
		return c.finish(mod, s, 2, c.errorf(abi.BadPointer, "options %#x+%d are outside guest memory", u32(s, 0), u32(s, 1)), c.pending)
	}
	o, err := abi.DecodeStorageListOptions(b)
	if err != nil {
		return c.finish(mod, s, 2, c.errorf(abi.BadEncoding, "%v", err), c.pending)
	}
	if o.Limit > 1<<30 {
		return c.finish(mod, s, 2, c.errorf(abi.Invalid, "limit %d is too large", o.Limit), c.pending)
	}
	lo := store.ListOptions{
		Start: o.Start, Prefix: o.Prefix, Limit: int(o.Limit),
		StartAfter: o.Flags&abi.ListStartAfter != 0, Reverse: o.Flags&abi.ListReverse != 0, KeysOnly: o.Flags&abi.ListKeysOnly != 0,
	}
	if o.Flags&abi.ListHasEnd != 0 {
		lo.End = o.End
		if lo.End == nil {
			lo.End = []byte{}
		}
	}
	es, more, err := st.List(c.txn, lo)
	if err != nil {
		return c.finish(mod, s, 2, c.storeError(err), c.pending)
	}
	l := abi.StorageList{More: more, Entries: make([]abi.Entry, len(es))}
	for i, e := range es {
		l.Entries[i] = abi.Entry{Key: e.Key, Value: e.Value}
	}
	return c.finish(mod, s, 2, abi.OK, abi.AppendStorageList(nil, &l))
}

func storageDeleteAll(_ context.Context, c *call, _ api.Module, _ []uint64) abi.Code {
	st, code := c.storage()
	if code != abi.OK {
		return code
	}
	if err := st.DeleteAll(c.txn); err != nil {
		return c.storeError(err)
	}
	c.pending = nil
	return abi.OK
}

// maxOpenTxns bounds nested explicit transactions.
const maxOpenTxns = 64

func txnBegin(_ context.Context, c *call, _ api.Module, _ []uint64) abi.Code {
	if _, code := c.storage(); code != abi.OK {
		return code
	}
	if len(c.txns) == maxOpenTxns {
		return c.errorf(abi.TooLarge, "%d transactions are already open", maxOpenTxns)
	}
	c.txns = append(c.txns, c.txn.Savepoint())
	c.pending = nil
	return abi.OK
}

func txnCommit(_ context.Context, c *call, _ api.Module, _ []uint64) abi.Code {
	if len(c.txns) == 0 {
		return c.errorf(abi.BadState, "no transaction is open")
	}
	c.txns = c.txns[:len(c.txns)-1]
	c.pending = nil
	return abi.OK
}

func txnRollback(_ context.Context, c *call, _ api.Module, _ []uint64) abi.Code {
	if len(c.txns) == 0 {
		return c.errorf(abi.BadState, "no transaction is open")
	}
	sp := c.txns[len(c.txns)-1]
	c.txns = c.txns[:len(c.txns)-1]
	if err := c.txn.RollbackTo(sp); err != nil {
		return c.storeError(err)
	}
	c.obj.alarmDirty = true // the rollback may have undone an alarm change
	c.pending = nil
	return abi.OK
}

func alarmGet(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	if _, code := c.storage(); code != abi.OK {
		return code
	}
	if _, ok := mod.Memory().Read(u32(s, 0), 8); !ok {
		return c.errorf(abi.BadPointer, "out_ptr %#x is outside guest memory", u32(s, 0))
	}
	a, ok, err := c.app.srv.store.GetAlarm(c.txn, c.obj.ns.key, c.obj.id)
	if err != nil {
		return c.storeError(err)
	}
	c.pending = nil
	if !ok {
		return abi.NotFound
	}
	mod.Memory().WriteUint64Le(u32(s, 0), uint64(a.At))
	return abi.OK
}

func alarmSet(_ context.Context, c *call, mod api.Module, s []uint64) abi.Code {
	if _, code := c.storage(); code != abi.OK {
		return code
	}
	b, ok := mod.Memory().Read(u32(s, 0), 8)
	if !ok {
		return c.errorf(abi.BadPointer, "time_ptr %#x is outside guest memory", u32(s, 0))
	}
	at := int64(binary.LittleEndian.Uint64(b))
	if at < 0 || at > 1<<53 {
		return c.errorf(abi.Invalid, "alarm time %d is not a time in unix milliseconds", at)
	}
	if err := c.app.srv.store.SetAlarm(c.txn, store.Alarm{Namespace: c.obj.ns.key, Object: c.obj.id, At: at}); err != nil {
		return c.storeError(err)
	}
	c.obj.alarmDirty = true
	c.pending = nil
	return abi.OK
}

func alarmDelete(_ context.Context, c *call, _ api.Module, _ []uint64) abi.Code {
	if _, code := c.storage(); code != abi.OK {
		return code
	}
	if err := c.app.srv.store.DeleteAlarm(c.txn, c.obj.ns.key, c.obj.id); err != nil {
		return c.storeError(err)
	}
	c.obj.alarmDirty = true
	c.pending = nil
	return abi.OK
}
