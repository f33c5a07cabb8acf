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
	if f := t.s.readFault; f != nil {
		if err := f(); err != nil {
			return nil, false, fmt.Errorf("storage get: %w", err)
		}
	}
	r, err := t.reader()
	if err != nil {
		return nil, false, fmt.Errorf("storage get: %w", err)
	}
	v, ok, err := getCopy(r, o.key(key))
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
	// The key is built on the stack when it fits: the batch copies it.
	var buf [128]byte
	if err := setLarge(t.batch(), append(append(buf[:0], o.prefix...), key...), nil, value); err != nil {
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
	r, err := t.reader()
	if err != nil {
		return false, fmt.Errorf("storage delete: %w", err)
	}
	_, ok, err := getCopy(r, k)
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
	more, err = o.Page(t, lo, func(key, value []byte) {
		if entries == nil {
			entries = make([]Entry, 0, 64)
		}
		e := Entry{Key: clone(key)}
		if !lo.KeysOnly {
			e.Value = clone(value)
		}
		entries = append(entries, e)
	})
	if err != nil {
		return nil, false, err
	}
	return entries, more, nil
}

// Page calls add with each entry of one page of the listing lo describes,
// in order (value nil when the listing is keys only), and reports whether
// the page ended at its size bound before the listing did. key and value
// are valid only during the call to add.
//
// The iterator stays open in t after a page the listing goes on from (t's
// Commit or Discard closes it): a request for the next page
// (the same listing, starting after this page's last key, or for a reverse
// listing ending at it) with no write to t in between continues it rather
// than seeking again. A page walk of a long listing costs one seek.
func (o *Object) Page(t *Txn, lo ListOptions, add func(key, value []byte)) (more bool, err error) {
	for _, k := range [][]byte{lo.Start, lo.End, lo.Prefix} {
		if err := o.CheckKey(k); err != nil {
			return false, err
		}
	}
	if lo.Limit < 0 {
		return false, fmt.Errorf("%w: limit %d is negative", ErrInvalid, lo.Limit)
	}
	c := t.cursor
	if c == nil || !c.continues(o, lo) {
		t.closeCursor()
		c, err = o.openCursor(t, lo)
		if c == nil || err != nil {
			return false, err
		}
		t.cursor = c
	}
	it := c.it
	next := it.Next
	if lo.Reverse {
		next = it.Prev
	}
	n, size := 0, 0
	ok := c.on
	for ; ok; ok = next() {
		if lo.Limit > 0 && n == lo.Limit {
			break
		}
		if n == maxListEntries || n > 0 && size >= maxListBytes {
			more = true
			break
		}
		key := it.Key()[len(o.prefix):]
		var value []byte
		if !lo.KeysOnly {
			v, err := it.ValueAndErr()
			if err != nil {
				t.closeCursor()
				return false, fmt.Errorf("storage list: %w", err)
			}
			value = v
		}
		c.last = append(c.last[:0], key...)
		size += len(key) + len(value)
		n++
		add(key, value)
	}
	c.on = ok
	if err := it.Error(); err != nil {
		t.closeCursor()
		return false, fmt.Errorf("storage list: %w", err)
	}
	c.lo = lo
	if !ok {
		// the listing is done: nothing to continue
		t.closeCursor()
	}
	return more, nil
}

// openCursor opens an iterator over the listing lo describes, standing on
// its first entry; nil when the listing is empty by its bounds.
func (o *Object) openCursor(t *Txn, lo ListOptions) (*cursor, error) {
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
		return nil, nil
	}
	r, err := t.reader()
	if err != nil {
		return nil, fmt.Errorf("storage list: %w", err)
	}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("storage list: %w", err)
	}
	c := &cursor{it: it, obj: o}
	if lo.Reverse {
		c.on = it.Last()
	} else {
		c.on = it.First()
	}
	return c, nil
}

// A cursor is the open iterator of a listing's last page, in its Txn.
type cursor struct {
	it   *pebble.Iterator
	obj  *Object
	lo   ListOptions // the options of the page it gave last
	last []byte      // that page's last key; nil before a page
	on   bool        // the iterator stands on the entry the next page begins with
}

// continues reports whether lo asks for the page after c's: the same
// listing, from where that page ended.
func (c *cursor) continues(o *Object, lo ListOptions) bool {
	p := c.lo
	if c.obj != o || c.last == nil || lo.Reverse != p.Reverse || lo.KeysOnly != p.KeysOnly || !bytes.Equal(lo.Prefix, p.Prefix) {
		return false
	}
	if lo.Reverse {
		// the next page ends at the last key, and starts where this one did
		return lo.End != nil && bytes.Equal(lo.End, c.last) &&
			lo.StartAfter == p.StartAfter && (lo.Start == nil) == (p.Start == nil) && bytes.Equal(lo.Start, p.Start)
	}
	return lo.StartAfter && lo.Start != nil && bytes.Equal(lo.Start, c.last) &&
		(lo.End == nil) == (p.End == nil) && bytes.Equal(lo.End, p.End)
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
