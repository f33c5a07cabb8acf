package store

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

func testObject(s *Store, id byte) *Object {
	var nsid [NamespaceIDLen]byte
	var oid [ObjectIDLen]byte
	oid[0] = id
	return s.Object("acct", nsid, oid, DefaultObjectLimits)
}

func keysOf(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, string(e.Key))
	}
	return out
}

func TestObject_GetPutDeleteIsolation(t *testing.T) {
	s := openMem(t)
	a, b := testObject(s, 1), testObject(s, 2)
	tx := s.NewTxn()
	if err := a.Put(tx, []byte("k"), []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(tx, []byte("k"), []byte("b")); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := a.Get(tx, []byte("k")); !ok || string(v) != "a" {
		t.Fatalf("a reads %q %v", v, ok)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx = s.NewTxn()
	if ok, err := a.Delete(tx, []byte("k")); !ok || err != nil {
		t.Fatalf("delete existing: %v %v", ok, err)
	}
	if ok, _ := a.Delete(tx, []byte("k")); ok {
		t.Fatal("second delete says the key existed")
	}
	if _, ok, _ := a.Get(tx, []byte("k")); ok {
		t.Fatal("deleted key still read")
	}
	if v, _, _ := b.Get(tx, []byte("k")); string(v) != "b" {
		t.Fatalf("b's key changed: %q", v)
	}
	_ = tx.Commit()
}

func TestObject_Limits(t *testing.T) {
	s := openMem(t)
	o := testObject(s, 1)
	tx := s.NewTxn()
	defer tx.Discard()
	if err := o.Put(tx, make([]byte, DefaultMaxStorageKey+1), nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("long key: %v", err)
	}
	if err := o.Put(tx, []byte("k"), make([]byte, DefaultMaxStorageValue+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("long value: %v", err)
	}
	if err := o.Put(tx, make([]byte, DefaultMaxStorageKey), make([]byte, DefaultMaxStorageValue)); err != nil {
		t.Errorf("key and value at the limits: %v", err)
	}
	big := s.Object("acct", [NamespaceIDLen]byte{}, [ObjectIDLen]byte{9}, ObjectLimits{MaxKey: 4096, MaxValue: 1 << 20})
	if err := big.Put(tx, make([]byte, 4096), make([]byte, 1<<20)); err != nil {
		t.Errorf("raised limits: %v", err)
	}
}

func TestObject_List(t *testing.T) {
	s := openMem(t)
	o, other := testObject(s, 1), testObject(s, 2)
	tx := s.NewTxn()
	for i := 0; i < 30; i++ {
		_ = o.Put(tx, []byte(fmt.Sprintf("k%02d", i)), []byte{byte(i)})
	}
	_ = o.Put(tx, []byte("z"), []byte("last"))
	_ = other.Put(tx, []byte("k00"), []byte("other"))
	cases := []struct {
		name string
		lo   ListOptions
		want []string
	}{
		{"prefix+limit", ListOptions{Prefix: []byte("k1"), Limit: 3}, []string{"k10", "k11", "k12"}},
		{"start end", ListOptions{Start: []byte("k27"), End: []byte("k29")}, []string{"k27", "k28"}},
		{"start after", ListOptions{Start: []byte("k28"), StartAfter: true, Prefix: []byte("k")}, []string{"k29"}},
		{"reverse", ListOptions{Reverse: true, Limit: 2}, []string{"z", "k29"}},
		{"reverse in range", ListOptions{Reverse: true, Start: []byte("k05"), End: []byte("k08")}, []string{"k07", "k06", "k05"}},
		{"empty range", ListOptions{Start: []byte("k9"), End: []byte("k1")}, nil},
	}
	for _, c := range cases {
		es, more, err := o.List(tx, c.lo)
		if err != nil || more {
			t.Fatalf("%s: %v more=%v", c.name, err, more)
		}
		if fmt.Sprint(keysOf(es)) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, keysOf(es), c.want)
		}
	}
	es, _, _ := o.List(tx, ListOptions{Prefix: []byte("k0"), KeysOnly: true})
	if len(es) != 10 || es[0].Value != nil {
		t.Errorf("keys only: %d entries, value %v", len(es), es[0].Value)
	}
	// DeleteAll in the same txn, seen by its reads; the other object keeps its key.
	if err := o.DeleteAll(tx); err != nil {
		t.Fatal(err)
	}
	if es, _, _ := o.List(tx, ListOptions{}); len(es) != 0 {
		t.Errorf("after DeleteAll: %v", keysOf(es))
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := other.Get(s.NewTxn(), []byte("k00")); !ok || string(v) != "other" {
		t.Errorf("other object lost its key: %q", v)
	}
}

func TestObject_ListPages(t *testing.T) {
	s := openMem(t)
	o := testObject(s, 1)
	tx := s.NewTxn()
	n := maxListEntries*2 + 17
	for i := 0; i < n; i++ {
		_ = o.Put(tx, []byte(fmt.Sprintf("%05d", i)), []byte("v"))
	}
	_ = tx.Commit()
	for _, reverse := range []bool{false, true} {
		var got []string
		lo := ListOptions{Reverse: reverse}
		for pages := 0; ; pages++ {
			es, more, err := o.List(s.NewTxn(), lo)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, keysOf(es)...)
			if !more {
				if pages != 2 {
					t.Errorf("reverse=%v: %d pages, want 3", reverse, pages+1)
				}
				break
			}
			last := es[len(es)-1].Key
			if reverse {
				lo.End = last
			} else {
				lo.Start, lo.StartAfter = last, true
			}
		}
		if len(got) != n {
			t.Fatalf("reverse=%v: %d keys, want %d", reverse, len(got), n)
		}
		for i := 1; i < len(got); i++ {
			if (got[i-1] < got[i]) == reverse {
				t.Fatalf("reverse=%v: out of order at %d: %s %s", reverse, i, got[i-1], got[i])
			}
		}
	}
}

func TestTxn_Savepoint(t *testing.T) {
	s := openMem(t)
	o := testObject(s, 1)
	kv := s.KV("acct", "ns")
	tx := s.NewTxn()
	empty := tx.Savepoint()
	_ = o.Put(tx, []byte("a"), []byte("1"))
	sp := tx.Savepoint()
	_ = o.Put(tx, []byte("a"), []byte("2"))
	_ = o.Put(tx, []byte("b"), []byte("2"))
	_ = kv.Put(tx, []byte("kv"), []byte("x"), PutOptions{}, 0)
	_ = o.DeleteAll(tx)
	if err := tx.RollbackTo(sp); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := o.Get(tx, []byte("a")); string(v) != "1" {
		t.Errorf("a after rollback = %q, want 1", v)
	}
	for _, k := range []string{"b"} {
		if _, ok, _ := o.Get(tx, []byte(k)); ok {
			t.Errorf("%s survived the rollback", k)
		}
	}
	if _, ok, _ := kv.Get(tx, []byte("kv"), 0); ok {
		t.Error("a KV write inside the rolled-back part survived")
	}
	_ = o.Put(tx, []byte("c"), []byte("3"))
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r := s.NewTxn()
	if es, _, _ := o.List(r, ListOptions{}); fmt.Sprint(keysOf(es)) != "[a c]" {
		t.Errorf("committed %v, want [a c]", keysOf(es))
	}
	tx = s.NewTxn()
	_ = o.Put(tx, []byte("d"), nil)
	_ = tx.RollbackTo(empty)
	if tx.Writes() != 0 {
		t.Errorf("rollback to the start left %d writes", tx.Writes())
	}
}

// TestTxn_IndexedOnRead: a Txn's writes go to a plain batch until a read
// after them, which indexes it; reads before and after, listings, writes
// after the read, a rollback past it and the commit all see what they
// would with an indexed batch from the start.
func TestTxn_IndexedOnRead(t *testing.T) {
	s := openMem(t)
	o := testObject(s, 1)
	tx := s.NewTxn()
	if _, ok, _ := o.Get(tx, []byte("a")); ok {
		t.Fatal("a before any write")
	}
	_ = o.Put(tx, []byte("a"), []byte("1"))
	_ = o.Put(tx, []byte("b"), []byte("1"))
	if tx.indexed {
		t.Fatal("writes alone indexed the batch")
	}
	sp := tx.Savepoint()
	if v, ok, err := o.Get(tx, []byte("a")); err != nil || !ok || string(v) != "1" {
		t.Fatalf("a after its put: %q, %v, %v", v, ok, err)
	}
	if !tx.indexed || tx.Writes() != 2 {
		t.Fatalf("after a read: indexed %v, %d writes", tx.indexed, tx.Writes())
	}
	_ = o.Put(tx, []byte("a"), []byte("2"))
	if existed, err := o.Delete(tx, []byte("b")); err != nil || !existed {
		t.Fatalf("delete b: %v, %v", existed, err)
	}
	_ = o.Put(tx, []byte("c"), []byte("3"))
	if es, _, _ := o.List(tx, ListOptions{}); fmt.Sprint(keysOf(es)) != "[a c]" {
		t.Errorf("listed %v, want [a c]", keysOf(es))
	}
	if err := tx.RollbackTo(sp); err != nil {
		t.Fatal(err)
	}
	if es, _, _ := o.List(tx, ListOptions{}); fmt.Sprint(keysOf(es)) != "[a b]" {
		t.Errorf("after the rollback %v, want [a b]", keysOf(es))
	}
	if v, _, _ := o.Get(tx, []byte("a")); string(v) != "1" {
		t.Errorf("a after the rollback = %q, want 1", v)
	}
	_ = o.Put(tx, []byte("d"), []byte("4"))
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r := s.NewTxn()
	defer r.Discard()
	if es, _, _ := o.List(r, ListOptions{}); fmt.Sprint(keysOf(es)) != "[a b d]" {
		t.Errorf("committed %v, want [a b d]", keysOf(es))
	}
}

func TestAlarms(t *testing.T) {
	s := openMem(t)
	var ns [NamespaceIDLen]byte
	ns[0] = 7
	tx := s.NewTxn()
	for i := byte(1); i <= 3; i++ {
		if err := s.SetAlarm(tx, Alarm{Namespace: ns, Object: [ObjectIDLen]byte{i}, At: int64(i) * 1000, Retries: uint32(i)}); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.DeleteAlarm(tx, ns, [ObjectIDLen]byte{2})
	if a, ok, _ := s.GetAlarm(tx, ns, [ObjectIDLen]byte{3}); !ok || a.At != 3000 || a.Retries != 3 {
		t.Errorf("get: %+v %v", a, ok)
	}
	_ = tx.Commit()
	as, err := s.Alarms()
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].Object[0] != 1 || as[1].At != 3000 || as[1].Namespace != ns {
		t.Errorf("alarms: %+v", as)
	}
}

// TestTxn_SurvivesPowerLoss: every committed Txn is in a crash clone of the
// filesystem taken at any moment, even one that keeps only what was synced,
// while concurrent committers run; no multi-key commit is torn.
func TestTxn_SurvivesPowerLoss(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s, err := Open("db", Options{fs: fs})
	if err != nil {
		t.Fatal(err)
	}
	const writers, keys = 8, 10
	acked := make([]atomic.Int64, writers)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			o := testObject(s, byte(w))
			for seq := int64(1); ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				tx := s.NewTxn()
				for k := 0; k < keys; k++ {
					_ = o.Put(tx, []byte{byte('a' + k)}, []byte(strconv.FormatInt(seq, 10)))
				}
				if err := tx.Commit(); err != nil {
					t.Error(err)
					return
				}
				acked[w].Store(seq)
			}
		}(w)
	}
	time.Sleep(100 * time.Millisecond)
	// Read what was acknowledged before the clone: the clone must hold at
	// least that.
	var before [writers]int64
	for w := range before {
		before[w] = acked[w].Load()
	}
	clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	close(stop)
	wg.Wait()
	s.Close()

	c, err := Open("db", Options{fs: clone})
	if err != nil {
		t.Fatalf("reopen after the crash: %v", err)
	}
	defer c.Close()
	for w := 0; w < writers; w++ {
		es, _, err := testObject(c, byte(w)).List(c.NewTxn(), ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if before[w] == 0 && len(es) == 0 {
			continue
		}
		if len(es) != keys {
			t.Fatalf("writer %d: %d keys after the crash, want %d", w, len(es), keys)
		}
		seq, _ := strconv.ParseInt(string(es[0].Value), 10, 64)
		for _, e := range es {
			if string(e.Value) != string(es[0].Value) {
				t.Fatalf("writer %d: torn commit: %s=%s, %s=%s", w, es[0].Key, es[0].Value, e.Key, e.Value)
			}
		}
		if seq < before[w] {
			t.Errorf("writer %d: commit %d was acknowledged before the crash, the clone holds %d", w, before[w], seq)
		}
	}
}

// TestObject_ListContinues: in one Txn, the pages of a walk continue one
// iterator (forward and reverse, with a limit too), and give what pages
// from fresh Txns give; a write to the Txn between two pages, or another
// listing, makes the next page seek again and see what the Txn holds now.
func TestObject_ListContinues(t *testing.T) {
	s := openMem(t)
	o := testObject(s, 1)
	tx := s.NewTxn()
	n := maxListEntries*3 + 5
	for i := 0; i < n; i++ {
		_ = o.Put(tx, []byte(fmt.Sprintf("k%05d", i)), []byte("v"))
	}
	_ = tx.Commit()
	walk := func(tx *Txn, reverse bool, limit int, between func(page int)) (keys []string, seeks int) {
		lo := ListOptions{Prefix: []byte("k"), Reverse: reverse}
		for page := 0; ; page++ {
			if limit > 0 {
				lo.Limit = limit - len(keys)
			}
			before := tx.cursor
			es, more, err := o.List(tx, lo)
			if err != nil {
				t.Fatal(err)
			}
			if tx.cursor != nil && tx.cursor != before { // a last page closes its cursor
				seeks++
			}
			keys = append(keys, keysOf(es)...)
			if !more || limit > 0 && len(keys) >= limit {
				return keys, seeks
			}
			if between != nil {
				between(page)
			}
			last := es[len(es)-1].Key
			if reverse {
				lo.End = last
			} else {
				lo.Start, lo.StartAfter = last, true
			}
		}
	}
	for _, reverse := range []bool{false, true} {
		for _, limit := range []int{0, 2500} {
			tx := s.NewTxn()
			got, seeks := walk(tx, reverse, limit, nil)
			tx.Discard()
			want, _ := walk(s.NewTxn(), reverse, limit, nil)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("reverse=%v limit=%d: a continued walk differs from fresh pages", reverse, limit)
			}
			if seeks != 1 {
				t.Errorf("reverse=%v limit=%d: %d seeks, want 1", reverse, limit, seeks)
			}
		}
	}

	// A write between pages: the rest of the walk sees it.
	tx = s.NewTxn()
	got, seeks := walk(tx, false, 0, func(page int) {
		if page == 0 {
			_ = o.Put(tx, []byte("k99999"), []byte("new"))
			_, _ = o.Delete(tx, []byte(fmt.Sprintf("k%05d", n-1)))
		}
	})
	tx.Discard()
	if len(got) != n || got[len(got)-1] != "k99999" || got[len(got)-2] != fmt.Sprintf("k%05d", n-2) {
		t.Errorf("a walk with a write after its first page ends %v (%d keys)", got[len(got)-3:], len(got))
	}
	if seeks != 2 {
		t.Errorf("a walk with a write after its first page: %d seeks, want 2", seeks)
	}

	// Another listing between pages, and a rollback: both seek again.
	tx = s.NewTxn()
	sp := tx.Savepoint()
	_ = o.Put(tx, []byte("k00000x"), []byte("rolled back"))
	got, _ = walk(tx, false, 0, func(page int) {
		switch page {
		case 0:
			if es, _, err := o.List(tx, ListOptions{Prefix: []byte("k0000"), Limit: 3}); err != nil || len(es) != 3 {
				t.Errorf("a listing between pages: %d entries, %v", len(es), err)
			}
		case 1:
			if err := tx.RollbackTo(sp); err != nil {
				t.Fatal(err)
			}
		}
	})
	tx.Discard()
	if len(got) != n+1 { // the rolled-back key was on the first page
		t.Errorf("a walk with a listing and a rollback between pages: %d keys, want %d", len(got), n+1)
	}
}
