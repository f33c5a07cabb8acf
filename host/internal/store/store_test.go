package store

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

func openMem(t testing.TB) *Store {
	t.Helper()
	s, err := Open("db", Options{fs: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestKV_ReadYourWritesAndCommit(t *testing.T) {
	s := openMem(t)
	kv := s.KV("acct", "ns")
	tx := s.NewTxn()
	if err := kv.Put(tx, []byte("a"), []byte("1"), PutOptions{}, 0); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := kv.Get(tx, []byte("a"), 0); !ok || string(v) != "1" {
		t.Fatalf("txn does not see its own write: %q %v", v, ok)
	}
	if _, ok, _ := kv.Get(s.NewTxn(), []byte("a"), 0); ok {
		t.Fatal("another txn sees an uncommitted write")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := kv.Get(s.NewTxn(), []byte("a"), 0); !ok || string(v) != "1" {
		t.Fatalf("after commit: %q %v", v, ok)
	}
	tx = s.NewTxn()
	_ = kv.Put(tx, []byte("b"), []byte("2"), PutOptions{}, 0)
	tx.Discard()
	if _, ok, _ := kv.Get(s.NewTxn(), []byte("b"), 0); ok {
		t.Fatal("a discarded write is visible")
	}
}

func TestKV_Isolation(t *testing.T) {
	s := openMem(t)
	tx := s.NewTxn()
	// Namespaces and accounts never see each other's keys, even where one
	// name is a prefix of another or holds a zero byte.
	spaces := []*KV{s.KV("a", "ns"), s.KV("a", "ns2"), s.KV("a\x00", "ns"), s.KV("b", "ns"), s.KV("a", "n")}
	for i, kv := range spaces {
		if err := kv.Put(tx, []byte("k"), []byte{byte(i)}, PutOptions{}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for i, kv := range spaces {
		l, err := kv.List(s.NewTxn(), nil, "", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Keys) != 1 {
			t.Errorf("space %d lists %d keys, want 1", i, len(l.Keys))
		}
		if v, _, _ := kv.Get(s.NewTxn(), []byte("k"), 0); len(v) != 1 || v[0] != byte(i) {
			t.Errorf("space %d reads %v", i, v)
		}
	}
}

func TestKV_Expiration(t *testing.T) {
	s := openMem(t)
	kv := s.KV("a", "n")
	tx := s.NewTxn()
	if err := kv.Put(tx, []byte("e"), []byte("v"), PutOptions{ExpirationTTL: 60, Metadata: []byte("m")}, 1000); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := kv.Get(s.NewTxn(), []byte("e"), 1059); !ok {
		t.Error("expired early")
	}
	if _, ok, _ := kv.Get(s.NewTxn(), []byte("e"), 1060); ok {
		t.Error("not expired at its expiration")
	}
	l, _ := kv.List(s.NewTxn(), nil, "", 0, 1059)
	if len(l.Keys) != 1 || l.Keys[0].Expiration != 1060 || string(l.Keys[0].Metadata) != "m" {
		t.Errorf("list before expiry: %+v", l.Keys)
	}
	l, _ = kv.List(s.NewTxn(), nil, "", 0, 1060)
	if len(l.Keys) != 0 {
		t.Errorf("list after expiry: %+v", l.Keys)
	}
	err := kv.Put(s.NewTxn(), []byte("x"), nil, PutOptions{Expiration: 1030}, 1000)
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("expiration 30 s ahead: %v", err)
	}
}

func TestKV_Limits(t *testing.T) {
	s := openMem(t)
	kv := s.KV("a", "n")
	tx := s.NewTxn()
	cases := []struct {
		key, val, meta []byte
		want           error
	}{
		{nil, nil, nil, ErrInvalid},
		{[]byte("."), nil, nil, ErrInvalid},
		{bytes.Repeat([]byte("k"), MaxKVKey), nil, nil, nil},
		{bytes.Repeat([]byte("k"), MaxKVKey+1), nil, nil, ErrTooLarge},
		{[]byte("k"), make([]byte, MaxKVValue+1), nil, ErrTooLarge},
		{[]byte("k"), nil, make([]byte, MaxKVMetadata+1), ErrTooLarge},
	}
	for i, c := range cases {
		err := kv.Put(tx, c.key, c.val, PutOptions{Metadata: c.meta}, 0)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("case %d: got %v, want %v", i, err, c.want)
		}
	}
	if _, err := kv.List(tx, nil, "", MaxKVListLimit+1, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("list limit: %v", err)
	}
}

func TestKV_ListPaging(t *testing.T) {
	s := openMem(t)
	kv := s.KV("a", "n")
	tx := s.NewTxn()
	for i := 0; i < 2500; i++ {
		_ = kv.Put(tx, []byte(fmt.Sprintf("k%05d", i)), nil, PutOptions{}, 0)
	}
	_ = kv.Put(tx, []byte("l"), nil, PutOptions{}, 0)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var all []string
	cursor := ""
	for pages := 0; ; pages++ {
		l, err := kv.List(s.NewTxn(), []byte("k"), cursor, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range l.Keys {
			all = append(all, string(k.Name))
		}
		if l.Complete {
			if pages != 2 {
				t.Errorf("took %d pages, want 3", pages+1)
			}
			break
		}
		cursor = l.Cursor
	}
	if len(all) != 2500 || all[0] != "k00000" || all[2499] != "k02499" {
		t.Errorf("listed %d keys: first %s", len(all), all[0])
	}
	// A cursor of another prefix is refused.
	if _, err := kv.List(s.NewTxn(), []byte("l"), cursor, 0, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("foreign cursor: %v", err)
	}
}

func TestNamespaceID(t *testing.T) {
	s := openMem(t)
	a, _ := s.NamespaceID("acct", "w", "A")
	a2, _ := s.NamespaceID("acct", "w", "A")
	b, _ := s.NamespaceID("acct", "w", "B")
	if a != a2 || a == b {
		t.Fatalf("ids not stable or not distinct: %x %x %x", a, a2, b)
	}
	if _, _, err := s.Migrate("acct", "w", []Migration{{Tag: "v1", Renamed: []ClassMove{{From: "A", To: "C"}}}}); err != nil {
		t.Fatal(err)
	}
	c, _ := s.NamespaceID("acct", "w", "C")
	if c != a {
		t.Errorf("renamed class has id %x, want %x", c, a)
	}
	if a3, _ := s.NamespaceID("acct", "w", "A"); a3 == a {
		t.Error("old class name still has the id")
	}
}

func TestEnc(t *testing.T) {
	in := []string{"", "a", "a\x00", "a\x00b", "a\x01", "ab", "b", "\x00", "\xff"}
	for _, a := range in {
		got, rest, err := decodeEnc(append(appendEnc(nil, a), 'x'))
		if err != nil || got != a || string(rest) != "x" {
			t.Errorf("decode(enc(%q)) = %q, %q, %v", a, got, rest, err)
		}
		for _, b := range in {
			ea, eb := appendEnc(nil, a), appendEnc(nil, b)
			if (a < b) != (bytes.Compare(ea, eb) < 0) {
				t.Errorf("order of %q and %q not kept", a, b)
			}
			if a != b && bytes.HasPrefix(eb, ea) {
				t.Errorf("enc(%q) is a prefix of enc(%q)", a, b)
			}
		}
	}
}

// FuzzKeyEncoding: enc is order-preserving, prefix-free and reversible.
func FuzzKeyEncoding(f *testing.F) {
	f.Add("a", "a\x00")
	f.Add("", "\x00\x01")
	f.Fuzz(func(t *testing.T, a, b string) {
		ea, eb := appendEnc(nil, a), appendEnc(nil, b)
		if got, rest, err := decodeEnc(ea); err != nil || got != a || len(rest) != 0 {
			t.Fatalf("decode(enc(%q)) = %q, %v", a, got, err)
		}
		if c := strings.Compare(a, b); c != bytes.Compare(ea, eb) {
			t.Fatalf("order of %q, %q not kept", a, b)
		}
		if a != b && (bytes.HasPrefix(eb, ea) || bytes.HasPrefix(ea, eb)) {
			t.Fatalf("one encoding is a prefix of the other: %q %q", a, b)
		}
		_, _, _ = decodeEnc([]byte(a))
	})
}

// TestKV_GetIntoBetween: a large value is copied a piece at a time with
// between called between pieces, and when between panics (a guest's
// clock ending its call mid-copy) the engine's handle on the value is
// closed all the same: the store closes with no iterator leaked.
func TestKV_GetIntoBetween(t *testing.T) {
	s, err := Open("db", Options{fs: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	kv := s.KV("acct", "ns")
	tx := s.NewTxn()
	big := bytes.Repeat([]byte("v"), 3<<20)
	if err := kv.Put(tx, []byte("big"), big, PutOptions{}, 0); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Flush(); err != nil { // read from a table, through an iterator
		t.Fatal(err)
	}
	calls := 0
	v, _, ok, err := kv.GetInto(nil, s.NewTxn(), []byte("big"), 0, func() { calls++ })
	if err != nil || !ok || !bytes.Equal(v, big) {
		t.Fatalf("GetInto: %v %v, %d bytes", ok, err, len(v))
	}
	if calls < 11 {
		t.Errorf("between ran %d times for 3 MiB, want one between each two 256 KiB pieces", calls)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic in between did not come through")
			}
		}()
		n := 0
		_, _, _, _ = kv.GetInto(nil, s.NewTxn(), []byte("big"), 0, func() {
			if n++; n == 3 {
				panic("the call's time is up")
			}
		})
	}()
	if err := s.Close(); err != nil {
		t.Fatalf("Close after a copy ended by a panic: %v", err)
	}
}
