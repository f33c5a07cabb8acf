package store

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// NamespaceIDLen is the length of a Durable Object namespace's stable id.
const NamespaceIDLen = 16

// NamespaceID returns the stable id of the Durable Object namespace that
// holds class in script of account, creating it (synced) on first use.
//
// Object storage is keyed by this id, not by the class name, so a later
// rename only moves this one record. The id is random and never shown to a
// guest; it also keys the MAC that ties object IDs to their namespace.
func (s *Store) NamespaceID(account, script, class string) ([NamespaceIDLen]byte, error) {
	var id [NamespaceIDLen]byte
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	k := nsKey(account, script, class)
	v, ok, err := getCopy(s.db, k)
	if err != nil {
		return id, fmt.Errorf("read namespace id of %s/%s/%s: %w", account, script, class, err)
	}
	if ok {
		if len(v) != NamespaceIDLen {
			return id, fmt.Errorf("namespace id of %s/%s/%s: stored record is %d bytes, want %d", account, script, class, len(v), NamespaceIDLen)
		}
		copy(id[:], v)
		return id, nil
	}
	if _, err := rand.Read(id[:]); err != nil {
		return id, fmt.Errorf("new namespace id: %w", err)
	}
	if err := s.db.Set(k, id[:], pebble.Sync); err != nil {
		return id, fmt.Errorf("write namespace id of %s/%s/%s: %w", account, script, class, err)
	}
	return id, nil
}

func nsKey(account, script, class string) []byte {
	k := []byte{tagMeta}
	k = appendEnc(k, "ns")
	k = appendEnc(k, account)
	k = appendEnc(k, script)
	return appendEnc(k, class)
}

// Alarm is the alarm of one object: when it fires and how many times its
// handler has failed at this time.
type Alarm struct {
	Namespace [NamespaceIDLen]byte
	Object    [ObjectIDLen]byte
	At        int64  // unix milliseconds
	Retries   uint32 // failed runs so far
}

func alarmPrefix() []byte {
	return appendEnc([]byte{tagMeta}, "alarm")
}

func alarmKey(nsid [NamespaceIDLen]byte, id [ObjectIDLen]byte) []byte {
	k := alarmPrefix()
	k = append(k, nsid[:]...)
	return append(k, id[:]...)
}

// SetAlarm sets the object's alarm in t, replacing any other.
func (s *Store) SetAlarm(t *Txn, a Alarm) error {
	v := binary.LittleEndian.AppendUint64(nil, uint64(a.At))
	v = binary.LittleEndian.AppendUint32(v, a.Retries)
	if err := t.batch().Set(alarmKey(a.Namespace, a.Object), v, nil); err != nil {
		return fmt.Errorf("set alarm: %w", err)
	}
	return nil
}

// GetAlarm returns the object's alarm as t sees it.
func (s *Store) GetAlarm(t *Txn, nsid [NamespaceIDLen]byte, id [ObjectIDLen]byte) (Alarm, bool, error) {
	r, err := t.reader()
	if err != nil {
		return Alarm{}, false, fmt.Errorf("read alarm: %w", err)
	}
	v, ok, err := getCopy(r, alarmKey(nsid, id))
	if err != nil || !ok {
		return Alarm{}, false, err
	}
	a, err := decodeAlarm(nsid, id, v)
	return a, err == nil, err
}

// DeleteAlarm removes the object's alarm in t.
func (s *Store) DeleteAlarm(t *Txn, nsid [NamespaceIDLen]byte, id [ObjectIDLen]byte) error {
	if err := t.batch().Delete(alarmKey(nsid, id), nil); err != nil {
		return fmt.Errorf("delete alarm: %w", err)
	}
	return nil
}

func decodeAlarm(nsid [NamespaceIDLen]byte, id [ObjectIDLen]byte, v []byte) (Alarm, error) {
	if len(v) != 12 {
		return Alarm{}, fmt.Errorf("alarm record is %d bytes, want 12", len(v))
	}
	return Alarm{Namespace: nsid, Object: id, At: int64(binary.LittleEndian.Uint64(v)), Retries: binary.LittleEndian.Uint32(v[8:])}, nil
}

// Alarms returns every alarm in the database, to schedule them at start.
func (s *Store) Alarms() ([]Alarm, error) {
	p := alarmPrefix()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, fmt.Errorf("read alarms: %w", err)
	}
	defer it.Close()
	var out []Alarm
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()[len(p):]
		if len(k) != NamespaceIDLen+ObjectIDLen {
			return nil, fmt.Errorf("read alarms: bad key % x", it.Key())
		}
		var nsid [NamespaceIDLen]byte
		var id [ObjectIDLen]byte
		copy(nsid[:], k)
		copy(id[:], k[NamespaceIDLen:])
		a, err := decodeAlarm(nsid, id, it.Value())
		if err != nil {
			return nil, fmt.Errorf("read alarms: %w", err)
		}
		out = append(out, a)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("read alarms: %w", err)
	}
	return out, nil
}

func objectNameKey(nsid [NamespaceIDLen]byte, id [ObjectIDLen]byte) []byte {
	k := appendEnc([]byte{tagMeta}, "objname")
	k = append(k, nsid[:]...)
	return append(k, id[:]...)
}

// ObjectName returns the name an object was created with, if it was
// reached through idFromName.
func (s *Store) ObjectName(t *Txn, nsid [NamespaceIDLen]byte, id [ObjectIDLen]byte) (string, bool, error) {
	r, err := t.reader()
	if err != nil {
		return "", false, fmt.Errorf("read object name: %w", err)
	}
	v, ok, err := getCopy(r, objectNameKey(nsid, id))
	if err != nil {
		return "", false, fmt.Errorf("read object name: %w", err)
	}
	return string(v), ok, nil
}

// SetObjectName records the name of an object in t.
func (s *Store) SetObjectName(t *Txn, nsid [NamespaceIDLen]byte, id [ObjectIDLen]byte, name string) error {
	if err := t.batch().Set(objectNameKey(nsid, id), []byte(name), nil); err != nil {
		return fmt.Errorf("record object name: %w", err)
	}
	return nil
}

// DeleteObjectName forgets the name an object was created with, in t.
func (s *Store) DeleteObjectName(t *Txn, nsid [NamespaceIDLen]byte, id [ObjectIDLen]byte) error {
	if err := t.batch().Delete(objectNameKey(nsid, id), nil); err != nil {
		return fmt.Errorf("delete object name: %w", err)
	}
	return nil
}

// AccountUsage estimates the bytes account's data takes on disk: its KV
// namespaces and its objects' storage, as written out of the engine's
// memory (what was committed since the last flush is not in it yet).
func (s *Store) AccountUsage(account string) (int64, error) {
	var total uint64
	for _, tag := range []byte{tagKV, tagObject} {
		p := appendEnc([]byte{tag}, account)
		n, err := s.db.EstimateDiskUsage(p, prefixEnd(p))
		if err != nil {
			return 0, fmt.Errorf("estimate the disk usage of account %s: %w", account, err)
		}
		total += n
	}
	return int64(total), nil
}

// Flushes counts the times the engine has written its memtable out to
// disk since it opened.
func (s *Store) Flushes() int64 { return s.db.Metrics().Flush.Count }

// DiskFull reports whether commits are being refused for want of disk
// space (ErrDiskFull).
func (s *Store) DiskFull() bool { return s.disk.full.Load() }
