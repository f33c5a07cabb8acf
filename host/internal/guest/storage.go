package guest

import (
	"context"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/store"
)

// The host functions of Durable Object storage and transactions. Each
// works on the storage of the object whose handler is running (c.Storage,
// which wrap checked is there): there is no argument that could name
// another object's keys.

func storageGet(_ context.Context, c *Call, a *args) abi.Code {
	st := c.Storage
	v, found, err := st.Get(c.Txn, a.in())
	switch {
	case err != nil:
		return c.storeError(err)
	case !found:
		return abi.NotFound
	}
	c.pending = v
	return abi.OK
}

// keyList decodes a KeyList of at most abi.MaxStorageBatch keys.
func (c *Call) keyList(b []byte) ([][]byte, abi.Code) {
	keys, err := abi.DecodeKeyList(b)
	if err != nil {
		return nil, c.errorf(abi.BadEncoding, "%v", err)
	}
	if len(keys) > abi.MaxStorageBatch {
		return nil, c.errorf(abi.TooLarge, "%d keys; one call takes at most %d", len(keys), abi.MaxStorageBatch)
	}
	return keys, abi.OK
}

func storageGetMulti(_ context.Context, c *Call, a *args) abi.Code {
	st := c.Storage
	keys, code := c.keyList(a.in())
	if code != abi.OK {
		return code
	}
	vs := make([]abi.Value, len(keys))
	for i, k := range keys {
		v, found, err := st.Get(c.Txn, k)
		if err != nil {
			return c.storeError(err)
		}
		vs[i] = abi.Value{Found: found, Value: v}
	}
	c.pending = abi.AppendValueList(nil, vs)
	return abi.OK
}

func storagePut(_ context.Context, c *Call, a *args) abi.Code {
	st := c.Storage
	key, val := a.in(), a.in()
	if code := c.charge(len(key), len(val)); code != abi.OK {
		return code
	}
	if err := st.Put(c.Txn, key, val); err != nil {
		return c.storeError(err)
	}
	return abi.OK
}

func storagePutMulti(_ context.Context, c *Call, a *args) abi.Code {
	st := c.Storage
	es, err := abi.DecodeEntryList(a.in())
	if err != nil {
		return c.errorf(abi.BadEncoding, "%v", err)
	}
	if len(es) > abi.MaxStorageBatch {
		return c.errorf(abi.TooLarge, "%d entries; one call takes at most %d", len(es), abi.MaxStorageBatch)
	}
	// All or nothing: check every entry before writing any.
	keys, vals := 0, 0
	for _, e := range es {
		if err := st.CheckKey(e.Key); err != nil {
			return c.storeError(err)
		}
		if err := st.CheckValue(e.Value); err != nil {
			return c.storeError(err)
		}
		keys, vals = keys+len(e.Key), vals+len(e.Value)
	}
	if code := c.charge(keys, vals+len(es)*writeOverhead); code != abi.OK {
		return code
	}
	for _, e := range es {
		if err := st.Put(c.Txn, e.Key, e.Value); err != nil {
			return c.storeError(err)
		}
	}
	return abi.OK
}

func storageDelete(_ context.Context, c *Call, a *args) abi.Code {
	st := c.Storage
	key := a.in()
	if code := c.charge(len(key), 0); code != abi.OK {
		return code
	}
	existed, err := st.Delete(c.Txn, key)
	if err != nil {
		return c.storeError(err)
	}
	if !existed {
		return abi.NotFound
	}
	return abi.OK
}

func storageDeleteMulti(_ context.Context, c *Call, a *args) abi.Code {
	st := c.Storage
	keys, code := c.keyList(a.in())
	if code != abi.OK {
		return code
	}
	countPtr := a.ptr()
	size := 0
	for _, k := range keys {
		if err := st.CheckKey(k); err != nil {
			return c.storeError(err)
		}
		size += len(k)
	}
	if code := c.charge(size+len(keys)*writeOverhead/2, 0); code != abi.OK {
		return code
	}
	n := uint32(0)
	for _, k := range keys {
		existed, err := st.Delete(c.Txn, k)
		if err != nil {
			return c.storeError(err)
		}
		if existed {
			n++
		}
	}
	a.mem.WriteUint32Le(countPtr, n)
	return abi.OK
}

func storageList(_ context.Context, c *Call, a *args) abi.Code {
	st := c.Storage
	o, err := abi.DecodeStorageListOptions(a.in())
	if err != nil {
		return c.errorf(abi.BadEncoding, "%v", err)
	}
	if o.Limit > 1<<30 {
		return c.errorf(abi.Invalid, "limit %d is too large", o.Limit)
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
	// The page is encoded as the store walks it, into a buffer the
	// call's next pages reuse.
	var w abi.StorageListWriter
	w.Start(c.listBuf[:0])
	more, err := st.Page(c.Txn, lo, w.Add)
	if err != nil {
		return c.storeError(err)
	}
	c.listBuf = w.Finish(more)
	c.pending = c.listBuf
	return abi.OK
}

func storageDeleteAll(_ context.Context, c *Call, _ *args) abi.Code {
	st := c.Storage
	if code := c.charge(st.PrefixLen(), 0); code != abi.OK {
		return code
	}
	if err := st.DeleteAll(c.Txn); err != nil {
		return c.storeError(err)
	}
	return abi.OK
}

// maxOpenTxns bounds nested explicit transactions.
const maxOpenTxns = 64

func txnBegin(_ context.Context, c *Call, _ *args) abi.Code {
	if len(c.txns) == maxOpenTxns {
		return c.errorf(abi.TooLarge, "%d transactions are already open", maxOpenTxns)
	}
	c.txns = append(c.txns, savepoint{c.Txn.Savepoint(), c.alarmSet})
	return abi.OK
}

func txnCommit(_ context.Context, c *Call, _ *args) abi.Code {
	if len(c.txns) == 0 {
		return c.errorf(abi.BadState, "no transaction is open")
	}
	c.txns = c.txns[:len(c.txns)-1]
	return abi.OK
}

func txnRollback(_ context.Context, c *Call, _ *args) abi.Code {
	if len(c.txns) == 0 {
		return c.errorf(abi.BadState, "no transaction is open")
	}
	sp := c.txns[len(c.txns)-1]
	c.txns = c.txns[:len(c.txns)-1]
	if err := c.Txn.RollbackTo(sp.sp); err != nil {
		return c.storeError(err)
	}
	c.alarmSet = sp.alarmSet
	c.AlarmChanged = true // the rollback may have undone an alarm change
	return abi.OK
}
