package store

import (
	"errors"
	"testing"
)

// putObject writes key=value into an object of class's namespace, with an
// alarm and a name, and returns the namespace id.
func putObject(t *testing.T, s *Store, script, class string) [NamespaceIDLen]byte {
	t.Helper()
	nsid, err := s.NamespaceID("acct", script, class)
	if err != nil {
		t.Fatal(err)
	}
	var id [ObjectIDLen]byte
	id[0] = 7
	txn := s.NewTxn()
	o := s.Object("acct", nsid, id, DefaultObjectLimits)
	if err := o.Put(txn, []byte("key"), []byte("value")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAlarm(txn, Alarm{Namespace: nsid, Object: id, At: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetObjectName(txn, nsid, id, "obj"); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	return nsid
}

// value reads key of the object putObject wrote in nsid.
func value(t *testing.T, s *Store, nsid [NamespaceIDLen]byte) (string, bool) {
	t.Helper()
	var id [ObjectIDLen]byte
	id[0] = 7
	v, ok, err := s.Object("acct", nsid, id, DefaultObjectLimits).Get(s.NewTxn(), []byte("key"))
	if err != nil {
		t.Fatal(err)
	}
	return string(v), ok
}

func TestMigrate(t *testing.T) {
	s := openMem(t)
	a := putObject(t, s, "w", "A")
	d := putObject(t, s, "w", "D")
	x := putObject(t, s, "other", "X")
	ms := []Migration{
		{Tag: "v1", New: []string{"A", "D"}},
		{Tag: "v2", Renamed: []ClassMove{{From: "A", To: "B"}}, Deleted: []string{"D"}},
		{Tag: "v3", Transferred: []ClassMove{{From: "X", FromScript: "other", To: "Y"}}},
	}
	applied, deleted, err := s.Migrate("acct", "w", ms)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 3 || len(deleted) != 1 || deleted[0] != d {
		t.Fatalf("applied %v, deleted %x", applied, deleted)
	}
	if b, _ := s.NamespaceID("acct", "w", "B"); b != a {
		t.Error("the renamed class has a new namespace")
	}
	if y, _ := s.NamespaceID("acct", "w", "Y"); y != x {
		t.Error("the transferred class has a new namespace")
	}
	if v, ok := value(t, s, a); !ok || v != "value" {
		t.Error("the renamed class lost its storage")
	}
	if _, ok := value(t, s, d); ok {
		t.Error("the deleted class kept its storage")
	}
	alarms, err := s.Alarms()
	if err != nil {
		t.Fatal(err)
	}
	for _, al := range alarms {
		if al.Namespace == d {
			t.Error("the deleted class kept its alarm")
		}
	}
	if len(alarms) != 2 {
		t.Errorf("%d alarms, want 2 (the renamed and the transferred classes')", len(alarms))
	}
	var id [ObjectIDLen]byte
	id[0] = 7
	if _, ok, _ := s.ObjectName(s.NewTxn(), d, id); ok {
		t.Error("the deleted class kept its object names")
	}
	if tags, _ := s.AppliedMigrations("acct", "w"); len(tags) != 3 || tags[2] != "v3" {
		t.Errorf("applied tags %v", tags)
	}

	// Applied once: a second deploy of the same list does nothing.
	if applied, _, err := s.Migrate("acct", "w", ms); err != nil || len(applied) != 0 {
		t.Errorf("again: %v, %v", applied, err)
	}
	// A list that drops or reorders an applied tag is refused.
	for _, bad := range [][]Migration{ms[:2], {ms[0], ms[2], ms[1]}} {
		if _, _, err := s.Migrate("acct", "w", bad); !errors.Is(err, ErrMigration) {
			t.Errorf("%v: %v, want ErrMigration", bad, err)
		}
	}
	// A rename onto a class that has objects is refused, and nothing of
	// its migration applied.
	putObject(t, s, "w", "C")
	more := append(ms, Migration{Tag: "v4", Deleted: []string{"B"}, Renamed: []ClassMove{{From: "Y", To: "C"}}})
	if _, _, err := s.Migrate("acct", "w", more); !errors.Is(err, ErrMigration) {
		t.Fatalf("rename onto a used class: %v", err)
	}
	if v, ok := value(t, s, a); !ok || v != "value" {
		t.Error("a refused migration deleted a class")
	}
	if tags, _ := s.AppliedMigrations("acct", "w"); len(tags) != 3 {
		t.Errorf("a refused migration was recorded: %v", tags)
	}
}
