package store

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Object storage limits: Cloudflare's, which a worker may raise.
const (
	DefaultMaxStorageKey   = 2 << 10   // bytes in a key
	DefaultMaxStorageValue = 128 << 10 // bytes in a value
)

// Bounds of one List page: a listing longer than this is returned in
// several pages, so that a huge object never has to fit in memory at once.
const (
	maxListEntries = 1000
	maxListBytes   = 4 << 20
)

// ObjectLimits bound the keys and values of object storage.
type ObjectLimits struct {
	MaxKey, MaxValue int
}

// DefaultObjectLimits are Cloudflare's.
var DefaultObjectLimits = ObjectLimits{MaxKey: DefaultMaxStorageKey, MaxValue: DefaultMaxStorageValue}

// ObjectIDLen is the length of an object ID in keys.
const ObjectIDLen = 32

// Object is the private storage of one Durable Object: every key under
// 0x02 enc(account) nsid objectID. Nothing in the API can name a key
// outside it. It holds no state but its prefix; all access goes through a
// Txn.
type Object struct {
	prefix []byte
	limits ObjectLimits
	nsid   [NamespaceIDLen]byte
	id     [ObjectIDLen]byte
}

// Object returns the storage of object id in namespace nsid of account.
func (s *Store) Object(account string, nsid [NamespaceIDLen]byte, id [ObjectIDLen]byte, l ObjectLimits) *Object {
	p := make([]byte, 0, 1+len(account)+2+NamespaceIDLen+ObjectIDLen)
	p = append(p, tagObject)
	p = appendEnc(p, account)
	p = append(p, nsid[:]...)
	p = append(p, id[:]...)
	return &Object{prefix: p, limits: l, nsid: nsid, id: id}
}

func (o *Object) key(k []byte) []byte {
	b := make([]byte, 0, len(o.prefix)+len(k))
	return append(append(b, o.prefix...), k...)
}

// CheckKey checks a key against the limits.
func (o *Object) CheckKey(k []byte) error {
	if len(k) > o.limits.MaxKey {
		return fmt.Errorf("%w: key is %d bytes; the limit is %d", ErrTooLarge, len(k), o.limits.MaxKey)
	}
	return nil
}

// CheckValue checks a value against the limits.
func (o *Object) CheckValue(v []byte) error {
	if len(v) > o.limits.MaxValue {
		return fmt.Errorf("%w: value is %d bytes; the limit is %d", ErrTooLarge, len(v), o.limits.MaxValue)
	}
	return nil
}

// Get returns the value of key as t sees it; the value is a copy.
func (o *Object) Get(t *Txn, key []byte) ([]byte, bool, error) {
	if err := o.CheckKey(key); err != nil {
		return nil, false, err
	}
	v, ok, err := getCopy(t.reader(), o.key(key))
	if err != nil {
		return nil, false, fmt.Errorf("storage get: %w", err)
	}
	return v, ok, nil
}

// Put writes key = value into t.
func (o *Object) Put(t *Txn, key, value []byte) error {
	if err := o.CheckKey(key); err != nil {
		return err
	}
	if err := o.CheckValue(value); err != nil {
		return err
	}
	if err := setLarge(t.batch(), o.key(key), value); err != nil {
		return fmt.Errorf("storage put: %w", err)
	}
	return nil
}

// Delete removes key in t and reports whether it existed.
func (o *Object) Delete(t *Txn, key []byte) (bool, error) {
	if err := o.CheckKey(key); err != nil {
		return false, err
	}
	k := o.key(key)
	_, ok, err := getCopy(t.reader(), k)
	if err != nil {
		return false, fmt.Errorf("storage delete: %w", err)
	}
	if !ok {
		return false, nil
	}
	if err := t.batch().Delete(k, nil); err != nil {
		return false, fmt.Errorf("storage delete: %w", err)
	}
	return true, nil
}

// DeleteAll removes every key of the object in t: one range deletion.
func (o *Object) DeleteAll(t *Txn) error {
	if err := t.batch().DeleteRange(o.prefix, prefixEnd(o.prefix), nil); err != nil {
		return fmt.Errorf("storage delete all: %w", err)
	}
	return nil
}

// ListOptions select the keys of a List: those in [Start, End) (Start
// exclusive when StartAfter) that begin with Prefix, in byte order or in
// reverse, at most Limit of them (0: no limit).
type ListOptions struct {
	Start, End, Prefix []byte
	StartAfter         bool
	Reverse            bool
	KeysOnly           bool
	Limit              int
}

// Entry is one key of a List page, with its value unless the listing is
// keys only.
type Entry struct {
	Key, Value []byte
}

// List returns one page of the listing o describes. more is true when the
// page ended at its size bound before the listing did; the next page
// starts after the last key (for a reverse listing, ends before it).
func (o *Object) List(t *Txn, lo ListOptions) (entries []Entry, more bool, err error) {
	for _, k := range [][]byte{lo.Start, lo.End, lo.Prefix} {
		if err := o.CheckKey(k); err != nil {
			return nil, false, err
		}
	}
	if lo.Limit < 0 {
		return nil, false, fmt.Errorf("%w: limit %d is negative", ErrInvalid, lo.Limit)
	}
	lower, upper := o.key(lo.Prefix), prefixEnd(o.key(lo.Prefix))
	if upper == nil {
		upper = prefixEnd(o.prefix)
	}
	if lo.Start != nil {
		s := o.key(lo.Start)
		if lo.StartAfter {
			s = append(s, 0)
		}
		if bytes.Compare(s, lower) > 0 {
			lower = s
		}
	}
	if lo.End != nil {
		if e := o.key(lo.End); bytes.Compare(e, upper) < 0 {
			upper = e
		}
	}
	if bytes.Compare(lower, upper) >= 0 {
		return nil, false, nil
	}
	it, err := t.reader().NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, false, fmt.Errorf("storage list: %w", err)
	}
	defer it.Close()
	first, next := it.First, it.Next
	if lo.Reverse {
		first, next = it.Last, it.Prev
	}
	size := 0
	// The page's keys and values are copied into a few shared buffers,
	// not one allocation each.
	var buf []byte
	clone := func(b []byte) []byte {
		if buf == nil || len(buf)+len(b) > cap(buf) {
			buf = make([]byte, 0, max(len(b), 32<<10))
		}
		buf = append(buf, b...)
		return buf[len(buf)-len(b) : len(buf) : len(buf)]
	}
	for ok := first(); ok; ok = next() {
		if lo.Limit > 0 && len(entries) == lo.Limit {
			break
		}
		if len(entries) == maxListEntries || len(entries) > 0 && size >= maxListBytes {
			more = true
			break
		}
		if entries == nil {
			entries = make([]Entry, 0, 64)
		}
		e := Entry{Key: clone(it.Key()[len(o.prefix):])}
		if !lo.KeysOnly {
			v, err := it.ValueAndErr()
			if err != nil {
				return nil, false, fmt.Errorf("storage list: %w", err)
			}
			e.Value = clone(v)
		}
		size += len(e.Key) + len(e.Value)
		entries = append(entries, e)
	}
	if err := it.Error(); err != nil {
		return nil, false, fmt.Errorf("storage list: %w", err)
	}
	return entries, more, nil
}

// PrefixLen is the length of the prefix every key of the object's storage
// has in the database: what a range deletion of it writes, twice.
func (o *Object) PrefixLen() int { return len(o.prefix) }

// Alarm returns the time of the object's alarm as t sees it, in unix
// milliseconds, or ok false when none is set.
func (o *Object) Alarm(t *Txn) (at int64, ok bool, err error) {
	a, ok, err := t.s.GetAlarm(t, o.nsid, o.id)
	return a.At, ok, err
}

// SetAlarm sets the object's alarm in t to at (unix milliseconds), with no
// failed runs, replacing any other.
func (o *Object) SetAlarm(t *Txn, at int64) error {
	return t.s.SetAlarm(t, Alarm{Namespace: o.nsid, Object: o.id, At: at})
}

// DeleteAlarm removes the object's alarm in t.
func (o *Object) DeleteAlarm(t *Txn) error {
	return t.s.DeleteAlarm(t, o.nsid, o.id)
}
