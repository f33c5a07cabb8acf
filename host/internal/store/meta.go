package store

import (
	"crypto/rand"
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

// RenameNamespace moves the stable id of class from to class to, as a
// renamed_classes migration asks: the objects and their storage follow. It
// does nothing when to already has an id or from has none, so applying the
// same migration at every start is harmless.
func (s *Store) RenameNamespace(account, script, from, to string) error {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	fk, tk := nsKey(account, script, from), nsKey(account, script, to)
	if _, ok, err := getCopy(s.db, tk); err != nil || ok {
		return err
	}
	v, ok, err := getCopy(s.db, fk)
	if err != nil || !ok {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	_ = b.Set(tk, v, nil)
	_ = b.Delete(fk, nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("rename namespace %s to %s: %w", from, to, err)
	}
	return nil
}

func nsKey(account, script, class string) []byte {
	k := []byte{tagMeta}
	k = appendEnc(k, "ns")
	k = appendEnc(k, account)
	k = appendEnc(k, script)
	return appendEnc(k, class)
}
