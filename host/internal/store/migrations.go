package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// A worker's migrations, as wrangler's [[migrations]] spell them, are
// applied once each, in order, and their tags recorded:
//
//	enc("migrations") enc(account) enc(script) → the applied tags (JSON)

// Migration is one [[migrations]] entry.
type Migration struct {
	Tag         string
	New         []string
	Deleted     []string
	Renamed     []ClassMove // within the script
	Transferred []ClassMove // from another script of the account
}

// ClassMove moves a class's namespace: its objects and their storage
// follow it. FromScript is the script it comes from (Transferred only).
type ClassMove struct {
	From, FromScript, To string
}

// ErrMigration wraps why a worker's migrations do not fit what is stored.
var ErrMigration = errors.New("migrations do not fit what is stored")

func migrationsKey(account, script string) []byte {
	k := appendEnc([]byte{tagMeta}, "migrations")
	return appendEnc(appendEnc(k, account), script)
}

// AppliedMigrations returns the tags of the migrations applied to a
// script, in order.
func (s *Store) AppliedMigrations(account, script string) ([]string, error) {
	v, ok, err := getCopy(s.db, migrationsKey(account, script))
	if err != nil || !ok {
		return nil, err
	}
	var tags []string
	if err := json.Unmarshal(v, &tags); err != nil {
		return nil, fmt.Errorf("applied migrations of %s/%s: %w", account, script, err)
	}
	return tags, nil
}

// PendingMigrations checks ms against the tags applied to the script and
// returns the ones still to apply: the applied tags must be the first of
// ms, in order (a config cannot drop or reorder an applied migration).
func (s *Store) PendingMigrations(account, script string, ms []Migration) ([]Migration, error) {
	applied, err := s.AppliedMigrations(account, script)
	if err != nil {
		return nil, err
	}
	return pending(applied, ms)
}

func pending(applied []string, ms []Migration) ([]Migration, error) {
	for i, tag := range applied {
		if i >= len(ms) {
			return nil, fmt.Errorf("%w: migration %q was applied, and the config does not list it (it lists %d migrations; applied: %v)", ErrMigration, tag, len(ms), applied)
		}
		if ms[i].Tag != tag {
			return nil, fmt.Errorf("%w: migration %d is %q in the config, but %q was applied there (applied: %v)", ErrMigration, i+1, ms[i].Tag, tag, applied)
		}
	}
	return ms[len(applied):], nil
}

// Migrate applies the migrations of ms not yet applied to the script, in
// order, in one synced batch, and records their tags: a renamed class
// keeps its namespace (its objects' storage and alarms), a transferred one
// moves from another script of the account, and a deleted one loses its
// namespace, storage, alarms and object names. A migration that does not
// fit what is stored (a class renamed onto one that has objects, say) is
// refused with ErrMigration, and nothing is applied. It returns the
// migrations it applied and the namespace ids of the deleted classes.
func (s *Store) Migrate(account, script string, ms []Migration) (applied []Migration, deleted [][NamespaceIDLen]byte, err error) {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	done, err := s.AppliedMigrations(account, script)
	if err != nil {
		return nil, nil, err
	}
	todo, err := pending(done, ms)
	if err != nil || len(todo) == 0 {
		return nil, nil, err
	}
	// The namespace records as the migrations change them, before any
	// is written.
	ids := map[string][]byte{} // nsKey → id (nil: none)
	get := func(script, class string) ([]byte, error) {
		k := string(nsKey(account, script, class))
		if v, ok := ids[k]; ok {
			return v, nil
		}
		v, _, err := getCopy(s.db, []byte(k))
		ids[k] = v
		return v, err
	}
	set := func(script, class string, id []byte) { ids[string(nsKey(account, script, class))] = id }
	move := func(kind, tag string, m ClassMove, fromScript string) error {
		from, err := get(fromScript, m.From)
		if err != nil {
			return err
		}
		to, err := get(script, m.To)
		if err != nil {
			return err
		}
		switch {
		case from != nil && to != nil:
			return fmt.Errorf("%w: migration %q: %s class %s to %s, but %s already has objects", ErrMigration, tag, kind, m.From, m.To, m.To)
		case from != nil:
			set(script, m.To, from)
			set(fromScript, m.From, nil)
		}
		// Neither: a class that never had objects; only to: moved before
		// tags were recorded. Nothing to move.
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, m := range todo {
		for _, r := range m.Renamed {
			if err := move("renames", m.Tag, r, script); err != nil {
				return nil, nil, err
			}
		}
		for _, t := range m.Transferred {
			if t.FromScript == script {
				return nil, nil, fmt.Errorf("%w: migration %q: transferred_classes from_script is this worker (%s); rename the class instead", ErrMigration, m.Tag, script)
			}
			if err := move("transfers", m.Tag, t, t.FromScript); err != nil {
				return nil, nil, err
			}
		}
		for _, c := range m.Deleted {
			id, err := get(script, c)
			if err != nil {
				return nil, nil, err
			}
			if id == nil {
				continue
			}
			set(script, c, nil)
			var nsid [NamespaceIDLen]byte
			copy(nsid[:], id)
			deleted = append(deleted, nsid)
			deleteNamespaceData(b, account, nsid)
		}
	}
	for k, id := range ids {
		if id == nil {
			_ = b.Delete([]byte(k), nil)
		} else {
			_ = b.Set([]byte(k), id, nil)
		}
	}
	for _, m := range todo {
		done = append(done, m.Tag)
	}
	rec, _ := json.Marshal(done)
	_ = b.Set(migrationsKey(account, script), rec, nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return nil, nil, fmt.Errorf("apply migrations of %s/%s: %w", account, script, err)
	}
	return slices.Clone(todo), deleted, nil
}

// deleteNamespaceData adds to b the deletion of everything a namespace
// holds: its objects' storage, their alarms and their names.
func deleteNamespaceData(b *pebble.Batch, account string, nsid [NamespaceIDLen]byte) {
	p := append(appendEnc([]byte{tagObject}, account), nsid[:]...)
	_ = b.DeleteRange(p, prefixEnd(p), nil)
	for _, kind := range []string{"alarm", "objname"} {
		p := append(appendEnc([]byte{tagMeta}, kind), nsid[:]...)
		_ = b.DeleteRange(p, prefixEnd(p), nil)
	}
}
