package store

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// KV limits, Cloudflare's.
const (
	MaxKVKey       = 512      // bytes in a key
	MaxKVValue     = 25 << 20 // bytes in a value
	MaxKVMetadata  = 1024     // bytes of metadata
	MaxKVListLimit = 1000     // keys in one list page
	MinKVTTL       = 60       // seconds: the shortest expiration
)

// ErrTooLarge and ErrInvalid classify a refused KV or storage call; the
// wrapping error says which limit or argument.
var (
	ErrTooLarge = errors.New("too large")
	ErrInvalid  = errors.New("invalid argument")
)

// KV is one KV namespace: every key under enc(account) enc(namespace id).
// It holds no state but its prefix; all access goes through a Txn.
type KV struct {
	prefix []byte
}

// KV returns the namespace id of account. Two workers of one account that
// bind the same id share it; other accounts never do.
func (s *Store) KV(account, id string) *KV {
	p := []byte{tagKV}
	p = appendEnc(p, account)
	p = appendEnc(p, id)
	return &KV{prefix: p}
}

func (kv *KV) key(k []byte) []byte {
	b := make([]byte, 0, len(kv.prefix)+len(k))
	return append(append(b, kv.prefix...), k...)
}

// Value flags, the first byte of every stored KV value.
const (
	kvHasExpiration = 1 << 0
	kvHasMetadata   = 1 << 1
)

// PutOptions are the optional parts of a KV write.
type PutOptions struct {
	Expiration    int64 // unix seconds; 0 = none
	ExpirationTTL int64 // seconds from now; 0 = none
	Metadata      []byte
	// Between, if set, runs between the pieces of the value's copy into
	// the transaction (bigcopy.CopyBetween): a guest call's clock.
	Between func()
}

// ListKey is one key of a List page.
type ListKey struct {
	Name       []byte
	Expiration int64
	Metadata   []byte
}

// ListResult is one page of a List.
type ListResult struct {
	Keys     []ListKey
	Complete bool
	Cursor   string // empty when Complete
}

func checkKVKey(k []byte) error {
	switch {
	case len(k) == 0:
		return fmt.Errorf("%w: key is empty", ErrInvalid)
	case len(k) > MaxKVKey:
		return fmt.Errorf("%w: key is %d bytes; the limit is %d", ErrTooLarge, len(k), MaxKVKey)
	case string(k) == "." || string(k) == "..":
		return fmt.Errorf("%w: key %q is not allowed", ErrInvalid, k)
	}
	return nil
}

// record is a decoded stored value.
type record struct {
	expiration int64
	metadata   []byte
	value      []byte
}

func decodeRecord(v []byte) (record, error) {
	var r record
	if len(v) < 1 {
		return r, errors.New("store: empty kv record")
	}
	flags := v[0]
	v = v[1:]
	if flags&kvHasExpiration != 0 {
		if len(v) < 8 {
			return r, errors.New("store: truncated kv record")
		}
		r.expiration = int64(binary.LittleEndian.Uint64(v))
		v = v[8:]
	}
	if flags&kvHasMetadata != 0 {
		if len(v) < 4 {
			return r, errors.New("store: truncated kv record")
		}
		n := binary.LittleEndian.Uint32(v)
		v = v[4:]
		if uint64(n) > uint64(len(v)) {
			return r, errors.New("store: truncated kv metadata")
		}
		r.metadata, v = v[:n], v[n:]
	}
	r.value = v
	return r, nil
}

func (r record) live(now int64) bool { return r.expiration == 0 || r.expiration > now }

// Get returns the value of key as of t (seeing t's own writes), or ok false
// when there is none or it has expired. The value is a copy.
func (kv *KV) Get(t *Txn, key []byte, now int64) (value []byte, ok bool, err error) {
	value, _, ok, err = kv.GetInto(nil, t, key, now, nil)
	return value, ok, err
}

// GetInto is Get reading into buf's array when it has room, and returns,
// besides the value, the buffer that holds it (buf, or a new one): a
// caller that passes it to its next GetInto reads large values over and
// over without allocating each time. The value is valid until then.
func (kv *KV) GetInto(buf []byte, t *Txn, key []byte, now int64, between func()) (value, used []byte, ok bool, err error) {
	if err := checkKVKey(key); err != nil {
		return nil, buf, false, err
	}
	r, err := t.reader()
	if err != nil {
		return nil, buf, false, fmt.Errorf("kv get: %w", err)
	}
	raw, ok, err := getAppend(buf, r, kv.key(key), between)
	if err != nil || !ok {
		return nil, buf, false, err
	}
	value, ok, err = decodeLive(raw, now)
	return value, raw, ok, err
}

// decodeLive decodes a stored KV record, and reports ok false for one
// that has expired.
func decodeLive(raw []byte, now int64) (value []byte, ok bool, err error) {
	r, err := decodeRecord(raw)
	if err != nil {
		return nil, false, err
	}
	if !r.live(now) {
		return nil, false, nil
	}
	return r.value, true, nil
}

// Put writes key = value into t.
func (kv *KV) Put(t *Txn, key, value []byte, o PutOptions, now int64) error {
	if err := checkKVKey(key); err != nil {
		return err
	}
	if len(value) > MaxKVValue {
		return fmt.Errorf("%w: value is %d bytes; the limit is %d", ErrTooLarge, len(value), MaxKVValue)
	}
	if len(o.Metadata) > MaxKVMetadata {
		return fmt.Errorf("%w: metadata is %d bytes; the limit is %d", ErrTooLarge, len(o.Metadata), MaxKVMetadata)
	}
	exp := o.Expiration
	if o.ExpirationTTL != 0 {
		if o.ExpirationTTL < MinKVTTL {
			return fmt.Errorf("%w: expirationTtl %d s is under the minimum of %d s", ErrInvalid, o.ExpirationTTL, MinKVTTL)
		}
		exp = now + o.ExpirationTTL
	} else if exp != 0 && exp < now+MinKVTTL {
		return fmt.Errorf("%w: expiration %d is less than %d s in the future", ErrInvalid, exp, MinKVTTL)
	}
	var flags byte
	head := make([]byte, 1, 13+len(o.Metadata))
	if exp != 0 {
		flags |= kvHasExpiration
		head = binary.LittleEndian.AppendUint64(head, uint64(exp))
	}
	if len(o.Metadata) > 0 {
		flags |= kvHasMetadata
		head = binary.LittleEndian.AppendUint32(head, uint32(len(o.Metadata)))
		head = append(head, o.Metadata...)
	}
	head[0] = flags
	if err := setLarge(t.batch(), kv.key(key), o.Between, head, value); err != nil {
		return fmt.Errorf("kv put: %w", err)
	}
	return nil
}

// Delete removes key in t. Deleting a missing key is not an error.
func (kv *KV) Delete(t *Txn, key []byte) error {
	if err := checkKVKey(key); err != nil {
		return err
	}
	if err := t.batch().Delete(kv.key(key), nil); err != nil {
		return fmt.Errorf("kv delete: %w", err)
	}
	return nil
}

// cursorVersion is the first byte of every cursor: the key a listing
// continues after follows it.
const cursorVersion = 1

// List returns up to limit live keys that start with prefix, in byte order,
// after the position cursor names (empty: from the start). A limit of 0
// means MaxKVListLimit. The cursor of a page that is not Complete continues
// the listing; cursors are opaque to guests.
func (kv *KV) List(t *Txn, prefix []byte, cursor string, limit int, now int64) (*ListResult, error) {
	if len(prefix) > MaxKVKey {
		return nil, fmt.Errorf("%w: prefix is %d bytes; the limit is %d", ErrTooLarge, len(prefix), MaxKVKey)
	}
	switch {
	case limit == 0:
		limit = MaxKVListLimit
	case limit < 0 || limit > MaxKVListLimit:
		return nil, fmt.Errorf("%w: limit %d is not in 1-%d", ErrInvalid, limit, MaxKVListLimit)
	}
	lower := kv.key(prefix)
	upper := prefixEnd(lower)
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || len(raw) == 0 || raw[0] != cursorVersion || !bytes.HasPrefix(raw[1:], prefix) {
			return nil, fmt.Errorf("%w: cursor %q does not belong to this listing", ErrInvalid, cursor)
		}
		after := raw[1:]
		// The smallest key after `after` is after+0x00.
		lower = append(kv.key(after), 0)
	}
	r, err := t.reader()
	if err != nil {
		return nil, fmt.Errorf("kv list: %w", err)
	}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("kv list: %w", err)
	}
	defer it.Close()
	res := &ListResult{Complete: true}
	for ok := it.First(); ok; ok = it.Next() {
		r, err := decodeRecord(it.Value())
		if err != nil {
			return nil, err
		}
		if !r.live(now) {
			continue
		}
		if len(res.Keys) == limit {
			res.Complete = false
			last := res.Keys[len(res.Keys)-1].Name
			res.Cursor = base64.RawURLEncoding.EncodeToString(append([]byte{cursorVersion}, last...))
			break
		}
		name := bytes.Clone(it.Key()[len(kv.prefix):])
		res.Keys = append(res.Keys, ListKey{Name: name, Expiration: r.expiration, Metadata: bytes.Clone(r.metadata)})
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("kv list: %w", err)
	}
	return res, nil
}
