package guest

import (
	"testing"

	"github.com/dohost/dohost/host/internal/quota"
)

// TestCommitBehindWhenHeld: the commit of an account held down to its
// share of the cores is marked behind, so that the requests it shares its
// sync with are woken first; any other commit is not.
func TestCommitBehindWhenHeld(t *testing.T) {
	s := testStore(t)
	cpu := &quota.CPU{}
	w := &Writes{cpu: cpu}
	for _, held := range []bool{false, true, false} {
		cpu.SetHeld(held)
		txn := s.NewTxn()
		if err := Commit(txn, w); err != nil {
			t.Fatal(err)
		}
		if txn.Behind() != held {
			t.Errorf("account held %v: commit behind %v", held, txn.Behind())
		}
	}
	txn := s.NewTxn()
	if err := Commit(txn, nil, &Writes{}); err != nil {
		t.Fatal(err)
	}
	if txn.Behind() {
		t.Error("a commit with no account's writes is behind")
	}
}
