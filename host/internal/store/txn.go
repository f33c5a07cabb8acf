package store

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dohost/dohost/host/internal/mono"
)

// Txn collects the writes of one request. Reads through a Txn see its own
// writes. Nothing is visible to others until Commit, which syncs. A Txn is
// used by one goroutine at a time and must end with Commit or Discard.
type Txn struct {
	s       *Store
	b       *pebble.Batch // nil until the first write
	indexed bool          // b is indexed: reads see its writes
	cursor  *cursor       // the last listing page's iterator (Object.Page); nil: none
	behind  bool          // SetBehind
}

// NewTxn starts a transaction.
func (s *Store) NewTxn() *Txn { return &Txn{s: s} }

// SetBehind marks the Txn's commit as one whose request may wait behind
// the others it is committed with: when their shared sync ends, the
// others' requests are woken first, and so run first on the core that
// woke them. The host marks the commits of an account it holds down for
// using more than its share of the cores (guest.Load): a group's wake-ups
// land in one run queue, and the requests of the account that writes the
// most would otherwise be ahead of the rest about as often as they are
// many.
func (t *Txn) SetBehind(behind bool) { t.behind = behind }

// Behind reports whether the Txn's commit is marked behind (SetBehind).
func (t *Txn) Behind() bool { return t.behind }

// reader returns what the Txn reads through: the database, or once it
// holds writes, an indexed batch over it. Writes go to a plain batch
// until the first read after them, which indexes it (one copy): most
// requests that write read nothing afterwards, and an indexed batch costs
// an index entry for each write and the index itself.
func (t *Txn) reader() (pebble.Reader, error) {
	if t.b == nil {
		return t.s.db, nil
	}
	if !t.indexed {
		ib := t.s.db.NewIndexedBatch()
		if err := ib.Apply(t.b, nil); err != nil {
			_ = ib.Close()
			return nil, fmt.Errorf("index the transaction's writes: %w", err)
		}
		_ = t.b.Close()
		t.b, t.indexed = ib, true
	}
	return t.b, nil
}

// batch returns the batch to write to. A write ends the open listing:
// its iterator does not see what is written after it was made.
func (t *Txn) batch() *pebble.Batch {
	t.closeCursor()
	if t.b == nil {
		t.b, t.indexed = t.s.db.NewBatch(), false
	}
	return t.b
}

// closeCursor closes the iterator a listing left open, if any.
func (t *Txn) closeCursor() {
	if t.cursor != nil {
		_ = t.cursor.it.Close()
		t.cursor = nil
	}
}

// Writes reports how many writes the Txn holds.
func (t *Txn) Writes() int {
	if t.b == nil {
		return 0
	}
	return int(t.b.Count())
}

// Commit applies the Txn's writes atomically and waits until they are synced
// to disk. A Txn without writes commits without touching the disk. The Txn is
// finished afterwards, whatever the outcome.
func (t *Txn) Commit() error {
	t.closeCursor()
	if t.b == nil {
		return nil
	}
	b := t.b
	t.b = nil
	defer b.Close()
	if b.Empty() {
		return nil
	}
	if t.s.disk.refuse() {
		return errDiskFull(b.Count())
	}
	f := t.s.onCommit
	var start time.Time
	if f != nil {
		start = mono.Now()
	}
	if err := t.s.commits.commit(b, t.behind); err != nil {
		return fmt.Errorf("commit %d writes: %w", b.Count(), err)
	}
	if f != nil {
		f(len(b.Repr()), time.Since(start))
	}
	return nil
}

// Discard drops the Txn's writes. It is safe to call after Commit.
func (t *Txn) Discard() {
	t.closeCursor()
	if t.b != nil {
		_ = t.b.Close()
		t.b = nil
	}
}

// Savepoint marks the Txn's current writes, for RollbackTo.
type Savepoint struct {
	len   int    // bytes of the batch's representation; 0: no batch yet
	count uint32 // its operations
}

// Bytes is the size of the Txn's writes so far, as they will be
// committed.
func (t *Txn) Bytes() int {
	if t.b == nil {
		return 0
	}
	return len(t.b.Repr())
}

// Savepoint returns a mark of the writes made so far.
func (t *Txn) Savepoint() Savepoint {
	if t.b == nil {
		return Savepoint{}
	}
	return Savepoint{len: len(t.b.Repr()), count: t.b.Count()}
}

// RollbackTo drops every write made after sp was taken. Writes are
// appended to the batch in order, so the batch as it was at sp is a prefix
// of its representation; RollbackTo rebuilds the indexed batch from it.
func (t *Txn) RollbackTo(sp Savepoint) error {
	t.closeCursor()
	if t.b == nil || t.b.Count() == sp.count {
		return nil
	}
	old := t.b
	defer old.Close()
	t.b = nil
	if sp.len == 0 {
		return nil
	}
	repr := append([]byte(nil), old.Repr()[:sp.len]...)
	binary.LittleEndian.PutUint32(repr[8:12], sp.count)
	prefix := t.s.db.NewBatch()
	defer prefix.Close()
	if err := prefix.SetRepr(repr); err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	if err := t.batch().Apply(prefix, nil); err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}
