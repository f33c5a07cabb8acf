package dohost

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"time"
	"unsafe"

	"github.com/dohost/dohost/abi"
)

// Storage is a Durable Object's own durable storage: keys and values of
// bytes, private to the object. Reads see the request's own writes; every
// write a request makes (here and in KV) is committed atomically, and
// synced to disk, before its response leaves the host. A request that
// traps leaves none of its writes behind.
//
// Keys are at most 2 KiB and values 128 KiB unless the worker's
// wrangler.toml raises [limits] storage_key_bytes and storage_value_bytes;
// the multi-key calls take at most 128 keys.
type Storage struct{}

// Get returns the value of key; ok is false when there is none.
func (*Storage) Get(key string) (value []byte, ok bool, err error) {
	code := hostStorageGet(sptr(key), uint32(len(key)), scratchPtr, uint32(len(scratch)), outLenPtr)
	switch abi.Code(code) {
	case abi.OK:
		return bytes.Clone(output()), true, nil
	case abi.NotFound:
		return nil, false, nil
	}
	return nil, false, check("Storage.Get", code, output)
}

// GetMulti returns the values of the keys that exist.
func (*Storage) GetMulti(keys []string) (map[string][]byte, error) {
	enc := encodeKeys(keys)
	code := hostStorageGetMulti(bptr(enc), uint32(len(enc)), scratchPtr, uint32(len(scratch)), outLenPtr)
	if err := check("Storage.GetMulti", code, output); err != nil {
		return nil, err
	}
	vs, err := abi.DecodeValueList(output())
	if err != nil || len(vs) != len(keys) {
		return nil, &Error{Op: "Storage.GetMulti", Code: abi.BadEncoding, Message: fmt.Sprint("bad answer: ", err)}
	}
	out := make(map[string][]byte, len(keys))
	for i, v := range vs {
		if v.Found {
			out[keys[i]] = bytes.Clone(v.Value)
		}
	}
	return out, nil
}

// Put sets key to value. Like every write (ABI.md §7), it fails with
// ErrTooLarge past the worker's max_write_bytes or the account's storage
// quota, and with ErrOverloaded while the host's write buffers are full
// (try again later); it may wait while the account writes faster than
// its rate.
func (*Storage) Put(key string, value []byte) error {
	code := hostStoragePut(sptr(key), uint32(len(key)), bptr(value), uint32(len(value)))
	return check("Storage.Put", code, pending)
}

// PutMulti sets every key of entries, all or none.
func (*Storage) PutMulti(entries map[string][]byte) error {
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	es := make([]abi.Entry, len(keys))
	for i, k := range keys {
		es[i] = abi.Entry{Key: []byte(k), Value: entries[k]}
	}
	enc := abi.AppendEntryList(nil, es)
	code := hostStoragePutMulti(bptr(enc), uint32(len(enc)))
	return check("Storage.PutMulti", code, pending)
}

// Delete removes key and reports whether it existed.
func (*Storage) Delete(key string) (bool, error) {
	code := hostStorageDelete(sptr(key), uint32(len(key)))
	switch abi.Code(code) {
	case abi.OK:
		return true, nil
	case abi.NotFound:
		return false, nil
	}
	return false, check("Storage.Delete", code, pending)
}

// DeleteMulti removes the keys and returns how many existed.
func (*Storage) DeleteMulti(keys []string) (int, error) {
	enc := encodeKeys(keys)
	var n uint32
	code := hostStorageDeleteMulti(bptr(enc), uint32(len(enc)), unsafe.Pointer(&n))
	if err := check("Storage.DeleteMulti", code, pending); err != nil {
		return 0, err
	}
	return int(n), nil
}

// DeleteAll removes every key of the object.
func (*Storage) DeleteAll() error {
	return check("Storage.DeleteAll", hostStorageDeleteAll(), pending)
}

// StorageListOptions select the keys of a listing, as Cloudflare's storage.list:
// keys in [Start, End) (or after StartAfter) that begin with Prefix, in
// byte order or reversed, at most Limit (0: all of them).
type StorageListOptions struct {
	Start      string
	StartAfter string // exclusive start; overrides Start when set
	End        string // exclusive; empty: no end
	Prefix     string
	Reverse    bool
	Limit      int
	KeysOnly   bool // Range gives nil values
}

// Entry is one key and its value.
type Entry struct {
	Key   string
	Value []byte
}

// List returns the entries o selects, in order.
func (s *Storage) List(o StorageListOptions) ([]Entry, error) {
	var out []Entry
	err := s.Range(o, func(key string, value []byte) bool {
		out = append(out, Entry{Key: key, Value: value})
		return true
	})
	return out, err
}

// Range calls f for each entry o selects, in order, until f returns false.
// The host returns a long listing in pages, so an object of any size can
// be walked without holding it all in memory.
func (*Storage) Range(o StorageListOptions, f func(key string, value []byte) bool) error {
	lo := abi.StorageListOptions{Start: []byte(o.Start), Prefix: []byte(o.Prefix)}
	if o.StartAfter != "" {
		lo.Start = []byte(o.StartAfter)
		lo.Flags |= abi.ListStartAfter
	}
	if o.End != "" {
		lo.End = []byte(o.End)
		lo.Flags |= abi.ListHasEnd
	}
	if o.Reverse {
		lo.Flags |= abi.ListReverse
	}
	if o.KeysOnly {
		lo.Flags |= abi.ListKeysOnly
	}
	left := o.Limit
	for {
		if o.Limit > 0 {
			lo.Limit = uint32(left)
		}
		enc := abi.AppendStorageListOptions(nil, &lo)
		code := hostStorageList(bptr(enc), uint32(len(enc)), scratchPtr, uint32(len(scratch)), outLenPtr)
		if err := check("Storage.List", code, output); err != nil {
			return err
		}
		page, err := abi.DecodeStorageList(bytes.Clone(output()))
		if err != nil {
			return &Error{Op: "Storage.List", Code: abi.BadEncoding, Message: err.Error()}
		}
		for _, e := range page.Entries {
			v := e.Value
			if o.KeysOnly {
				v = nil
			}
			if !f(string(e.Key), v) {
				return nil
			}
		}
		left -= len(page.Entries)
		if !page.More || len(page.Entries) == 0 || o.Limit > 0 && left <= 0 {
			return nil
		}
		last := page.Entries[len(page.Entries)-1].Key
		if o.Reverse {
			lo.End = last
			lo.Flags |= abi.ListHasEnd
		} else {
			lo.Start = last
			lo.Flags |= abi.ListStartAfter
		}
	}
}

// BeginTransaction starts a transaction that CommitTransaction or
// RollbackTransaction ends, for code whose transaction cannot be one Go
// callback (the JavaScript runtime's, whose callback may return a
// promise). Transactions nest: end the innermost first. Transaction is the
// way for Go code.
func (*Storage) BeginTransaction() error {
	return check("Storage.BeginTransaction", hostTxnBegin(), pending)
}

// CommitTransaction ends the innermost transaction, keeping its writes.
func (*Storage) CommitTransaction() error {
	return check("Storage.CommitTransaction", hostTxnCommit(), pending)
}

// RollbackTransaction ends the innermost transaction, undoing its writes.
func (*Storage) RollbackTransaction() error {
	return check("Storage.RollbackTransaction", hostTxnRollback(), pending)
}

// Transaction runs f as one transaction: if f returns an error or panics,
// every write f made (to storage, KV and the alarm) is rolled back and the
// error returned; otherwise they stand. Transactions nest.
func (s *Storage) Transaction(f func(txn *Storage) error) (err error) {
	if err := check("Storage.Transaction", hostTxnBegin(), pending); err != nil {
		return err
	}
	done := false
	defer func() {
		if done {
			return
		}
		// f failed or panicked.
		if rerr := check("Storage.Transaction", hostTxnRollback(), pending); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if err := f(s); err != nil {
		return err
	}
	done = true
	return check("Storage.Transaction", hostTxnCommit(), pending)
}

// GetAlarm returns the time the object's alarm is set for.
func (*Storage) GetAlarm() (t time.Time, ok bool, err error) {
	var ms int64
	code := hostAlarmGet(unsafe.Pointer(&ms))
	switch abi.Code(code) {
	case abi.OK:
		return time.UnixMilli(ms), true, nil
	case abi.NotFound:
		return time.Time{}, false, nil
	}
	return time.Time{}, false, check("Storage.GetAlarm", code, pending)
}

// ErrNoAlarmHandler is returned by SetAlarm when the object's class has no
// Alarm method.
var ErrNoAlarmHandler = errors.New("dohost: Storage.SetAlarm: the object has no Alarm method (implement dohost.AlarmHandler)")

// SetAlarm sets the object's alarm to t, replacing any other: the object's
// Alarm method runs then (at once if t has passed), also after a restart,
// and again with backoff (2 s, 4 s, … six times) while it fails.
func (*Storage) SetAlarm(t time.Time) error {
	if _, ok := theObject.(AlarmHandler); !ok && theObject != nil {
		return ErrNoAlarmHandler
	}
	ms := t.UnixMilli()
	return check("Storage.SetAlarm", hostAlarmSet(unsafe.Pointer(&ms)), pending)
}

// DeleteAlarm removes the object's alarm.
func (*Storage) DeleteAlarm() error {
	return check("Storage.DeleteAlarm", hostAlarmDelete(), pending)
}

func encodeKeys(keys []string) []byte {
	e := abi.Encoder{}
	e.U32(uint32(len(keys)))
	for _, k := range keys {
		e.Str(k)
	}
	return e.B
}
