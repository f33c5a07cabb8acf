package store

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// LookupNamespaceID returns the stable id of class in script of account,
// without creating it: ok is false when the class never had one.
func (s *Store) LookupNamespaceID(account, script, class string) (id [NamespaceIDLen]byte, ok bool, err error) {
	v, ok, err := getCopy(s.db, nsKey(account, script, class))
	if err != nil || !ok {
		return id, false, err
	}
	if len(v) != NamespaceIDLen {
		return id, false, fmt.Errorf("namespace id of %s/%s/%s: stored record is %d bytes, want %d", account, script, class, len(v), NamespaceIDLen)
	}
	copy(id[:], v)
	return id, true, nil
}

// ObjectIDs returns the ids of the namespace's objects that hold storage
// or an alarm, in order, after after (nil: from the first), at most limit.
func (s *Store) ObjectIDs(account string, nsid [NamespaceIDLen]byte, after []byte, limit int) ([][ObjectIDLen]byte, error) {
	var ids [][ObjectIDLen]byte
	seen := map[[ObjectIDLen]byte]bool{}
	add := func(b []byte) {
		var id [ObjectIDLen]byte
		copy(id[:], b)
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	storage := append(appendEnc([]byte{tagObject}, account), nsid[:]...)
	alarms := append(alarmPrefix(), nsid[:]...)
	for _, p := range [][]byte{storage, alarms} {
		lower := p
		if after != nil {
			lower = prefixEnd(append(bytes.Clone(p), after...))
		}
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(p)})
		if err != nil {
			return nil, fmt.Errorf("list objects: %w", err)
		}
		n := 0
		for ok := it.First(); ok && n < limit; n++ {
			k := it.Key()
			if len(k) < len(p)+ObjectIDLen {
				ok = it.Next()
				continue
			}
			id := k[len(p) : len(p)+ObjectIDLen]
			add(id)
			// The next object: past every key of this one.
			ok = it.SeekGE(prefixEnd(append(bytes.Clone(p), id...)))
		}
		if err := it.Close(); err != nil {
			return nil, fmt.Errorf("list objects: %w", err)
		}
	}
	slices.SortFunc(ids, func(a, b [ObjectIDLen]byte) int { return bytes.Compare(a[:], b[:]) })
	if len(ids) > limit {
		ids = ids[:limit]
	}
	return ids, nil
}

// Checkpoint writes a consistent copy of the database into dir, which
// must not exist: every write committed before the call is in it. It
// shares unchanged files with the database by hard links where the
// filesystem allows, so it is fast and small while the two share a disk.
func (s *Store) Checkpoint(dir string) error {
	if err := s.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("checkpoint to %s: %w", dir, err)
	}
	return nil
}
