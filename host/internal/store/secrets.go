package store

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// A worker's secrets, under the meta table:
//
//	enc("secret") enc(account) enc(worker) enc(name) → the value
//
// They are read only to make the worker's environment; nothing lists
// their values.

func secretPrefix(account, worker string) []byte {
	k := appendEnc([]byte{tagMeta}, "secret")
	return appendEnc(appendEnc(k, account), worker)
}

// SetSecret sets a worker's secret, synced.
func (s *Store) SetSecret(account, worker, name string, value []byte) error {
	if err := s.db.Set(appendEnc(secretPrefix(account, worker), name), value, pebble.Sync); err != nil {
		return fmt.Errorf("set secret %s of %s/%s: %w", name, account, worker, err)
	}
	return nil
}

// DeleteSecret deletes a worker's secret, synced; ok is false when there
// was none.
func (s *Store) DeleteSecret(account, worker, name string) (ok bool, err error) {
	k := appendEnc(secretPrefix(account, worker), name)
	if _, ok, err = getCopy(s.db, k); err != nil || !ok {
		return false, err
	}
	if err := s.db.Delete(k, pebble.Sync); err != nil {
		return false, fmt.Errorf("delete secret %s of %s/%s: %w", name, account, worker, err)
	}
	return true, nil
}

// Secrets returns a worker's secrets by name.
func (s *Store) Secrets(account, worker string) (map[string][]byte, error) {
	p := secretPrefix(account, worker)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, fmt.Errorf("read secrets of %s/%s: %w", account, worker, err)
	}
	defer it.Close()
	out := map[string][]byte{}
	for it.First(); it.Valid(); it.Next() {
		name, _, err := decodeEnc(it.Key()[len(p):])
		if err != nil {
			return nil, fmt.Errorf("secret record of %s/%s: %w", account, worker, err)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		out[name] = append([]byte(nil), v...)
	}
	return out, it.Error()
}
