package objects

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/store"
)

// The operator's view of a namespace's objects: what they store, and a
// way to delete one. None of it runs guest code.

// Detached returns a namespace of the registry that no worker serves and
// whose alarms do not run: for reading and deleting the objects of a
// class (and for a host that only opened its data directory). Its objects
// never get an instance.
func (r *Registry) Detached(account, class string, key [store.NamespaceIDLen]byte) *Namespace {
	ns := r.NewNamespace(NamespaceConfig{Account: account, Class: class, Key: key, Log: r.o.Log,
		Label: account + "/" + class, Limits: Limits{Queue: 100, Storage: store.DefaultObjectLimits}})
	ns.removed.Store(true) // no request runs on it
	return ns
}

// ObjectInfo describes one object of a namespace.
type ObjectInfo struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"` // the name it was created with, if any
	// Alarm is when its alarm fires, in unix milliseconds; 0: none.
	Alarm int64 `json:"alarm,omitempty"`
	// Live reports whether it has an instance now; WebSockets counts its
	// open sockets.
	Live       bool `json:"live,omitempty"`
	WebSockets int  `json:"websockets,omitempty"`
	// Busy reports whether a call holds its turn now: a request, an
	// alarm run (a delete waits for it to end).
	Busy bool `json:"busy,omitempty"`
}

// Resolve returns the object that s names: an ID of the namespace (64 hex
// digits), or else a name, as idFromName would take it.
func (ns *Namespace) Resolve(s string) ID {
	ks := ns.keys()
	if e, err := ks.parse(s); err == nil {
		return e.id
	}
	return ks.fromName(s).id
}

// Objects lists the namespace's objects that hold storage or an alarm, by
// ID, after the ID after ("": from the first), at most limit.
func (ns *Namespace) Objects(after string, limit int) ([]ObjectInfo, error) {
	var from []byte
	if after != "" {
		b, err := hex.DecodeString(after)
		if err != nil || len(b) != store.ObjectIDLen {
			return nil, fmt.Errorf("%w: after %q is not an object ID", store.ErrInvalid, after)
		}
		from = b
	}
	st := ns.r.o.Store
	ids, err := st.ObjectIDs(ns.cfg.Account, ns.cfg.Key, from, limit)
	if err != nil {
		return nil, err
	}
	txn := st.NewTxn()
	defer txn.Discard()
	out := make([]ObjectInfo, 0, len(ids))
	for _, raw := range ids {
		oi, err := ns.info(txn, ID(raw))
		if err != nil {
			return nil, err
		}
		out = append(out, oi)
	}
	return out, nil
}

// info describes the object id, reading its name and alarm in txn.
func (ns *Namespace) info(txn *store.Txn, id ID) (ObjectInfo, error) {
	st := ns.r.o.Store
	oi := ObjectInfo{ID: id.String()}
	if name, ok, err := st.ObjectName(txn, ns.cfg.Key, id); err != nil {
		return oi, err
	} else if ok {
		oi.Name = name
	}
	if a, ok, err := st.GetAlarm(txn, ns.cfg.Key, id); err != nil {
		return oi, err
	} else if ok {
		oi.Alarm = a.At
	}
	sh := ns.r.shardOf(id)
	sh.mu.Lock()
	if o := sh.objects[objectKey{ns, id}]; o != nil {
		oi.Live = o.inLRU
		oi.Busy = len(o.turn) > 0
		if s := o.ws.Load(); s != nil {
			oi.WebSockets = s.Len()
		}
	}
	sh.mu.Unlock()
	return oi, nil
}

// ObjectDetail is what Inspect says of one object.
type ObjectDetail struct {
	ObjectInfo
	// Keys and Bytes are its storage's keys and their bytes (keys and
	// values), as last committed.
	Keys  int   `json:"keys"`
	Bytes int64 `json:"bytes"`
}

// Inspect describes the object s names (see Resolve), whether or not it
// has storage.
func (ns *Namespace) Inspect(s string) (ObjectDetail, error) {
	id := ns.Resolve(s)
	st := ns.r.o.Store
	txn := st.NewTxn()
	defer txn.Discard()
	oi, err := ns.info(txn, id)
	d := ObjectDetail{ObjectInfo: oi}
	if err != nil {
		return d, err
	}
	o := st.Object(ns.cfg.Account, ns.cfg.Key, id, store.DefaultObjectLimits)
	lo := store.ListOptions{}
	for {
		es, more, err := o.List(txn, lo)
		if err != nil {
			return d, err
		}
		for _, e := range es {
			d.Keys++
			d.Bytes += int64(len(e.Key) + len(e.Value))
		}
		if !more || len(es) == 0 {
			return d, nil
		}
		lo.Start, lo.StartAfter = es[len(es)-1].Key, true
	}
}

// Storage returns one page of the storage of the object s names (see
// Resolve), as it was last committed.
func (ns *Namespace) Storage(s string, lo store.ListOptions) ([]store.Entry, bool, error) {
	id := ns.Resolve(s)
	o := ns.r.o.Store.Object(ns.cfg.Account, ns.cfg.Key, id, store.DefaultObjectLimits)
	txn := ns.r.o.Store.NewTxn()
	defer txn.Discard()
	return o.List(txn, lo)
}

// ErrBusy is DeleteObject's error when the object's turn stays taken
// longer than the caller waits: a call under way holds it, up to its
// worker's cpu_ms (twice that in wall time when throttled).
var ErrBusy = errors.New("busy")

// deleteWait is the longest DeleteObject waits for the object's turn.
const deleteWait = time.Minute

// DeleteObject deletes the object s names (see Resolve): it waits for the
// object's turn (a request running on it finishes first), closes its
// instance and its WebSockets (1001), and deletes its storage, its alarm
// and its name, synced. Its next request starts it empty. If the turn
// stays taken past ctx or deleteWait, it deletes nothing and fails with
// ErrBusy.
func (ns *Namespace) DeleteObject(ctx context.Context, s string) error {
	r := ns.r
	id := ns.Resolve(s)
	o := r.get(ns, id)
	defer r.put(o, false)
	if code, err := o.acquire(ctx, time.Now().Add(deleteWait)); err != nil {
		if code == abi.Timeout {
			return fmt.Errorf("%w: object %s: a call under way held its turn longer than the delete waits (%v at most; a handler runs up to its worker's cpu_ms); nothing was deleted: try again: %w", ErrBusy, id, deleteWait, err)
		}
		return err
	}
	defer o.release()
	o.closeInstance(ctx)
	if st := o.ws.Load(); st != nil {
		st.CloseAll(1001, "the object was deleted")
	}
	txn := r.o.Store.NewTxn()
	if err := o.storage.DeleteAll(txn); err != nil {
		txn.Discard()
		return err
	}
	if err := o.storage.DeleteAlarm(txn); err != nil {
		txn.Discard()
		return err
	}
	if err := r.o.Store.DeleteObjectName(txn, ns.cfg.Key, id); err != nil {
		txn.Discard()
		return err
	}
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("delete object %s: %w", id, err)
	}
	o.name, o.hasName, o.nameStored = "", false, false
	r.alarms.reload(o)
	return nil
}
