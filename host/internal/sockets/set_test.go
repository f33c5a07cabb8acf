package sockets

import (
	"errors"
	"io"
	"log/slog"
	"testing"
)

// nopEvents counts the events of a set.
type nopEvents struct{ empty int }

func (*nopEvents) Message(*Socket, bool, []byte)     {}
func (*nopEvents) Closed(*Socket, int, string, bool) {}
func (*nopEvents) Error(*Socket, string)             {}
func (e *nopEvents) Empty()                          { e.empty++ }

// TestSet_AcceptListDiscard: ids from 1 in order, tags kept, lists by tag
// in accept order, the object's and the host's caps, and a discarded
// socket leaving its place (and the empty set noticed).
func TestSet_AcceptListDiscard(t *testing.T) {
	h := NewHost(3, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ev := &nopEvents{}
	st := h.NewSet(ev, Limits{PerObject: 2}, nil)
	a, err := st.Accept([]string{"x", "y"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Accept([]string{"y"})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID() != 1 || b.ID() != 2 {
		t.Fatalf("ids %d %d", a.ID(), b.ID())
	}
	if _, err := st.Accept(nil); !errors.Is(err, ErrTooMany) {
		t.Fatalf("third accept past the object's cap: %v", err)
	}
	if l := st.List("x"); len(l) != 1 || l[0] != a {
		t.Fatalf("list x: %v", l)
	}
	if l := st.List(""); len(l) != 2 || l[0] != a || l[1] != b {
		t.Fatalf("list all: %v", l)
	}
	other := h.NewSet(&nopEvents{}, Limits{}, nil)
	if _, err := other.Accept(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Accept(nil); !errors.Is(err, ErrTooMany) {
		t.Fatalf("a fourth socket past the host's cap: %v", err)
	}
	a.SetAttachment([]byte("att"))
	if string(a.Attachment()) != "att" {
		t.Fatal("attachment")
	}
	a.Discard()
	b.Discard()
	if st.Len() != 0 || ev.empty != 1 || h.Stats().Open != 1 {
		t.Fatalf("after discarding: len %d, empty events %d, open %d", st.Len(), ev.empty, h.Stats().Open)
	}
	if c, err := st.Accept(nil); err != nil || c.ID() != 3 {
		t.Fatalf("accept after discarding: %v %v", c, err)
	}
}

// TestSet_AutoResponse: the pair answers only the exact text.
func TestSet_AutoResponse(t *testing.T) {
	st := NewHost(0, 0, slog.New(slog.NewTextHandler(io.Discard, nil))).NewSet(&nopEvents{}, Limits{}, nil)
	if _, ok := st.autoResponse([]byte("ping")); ok {
		t.Fatal("an answer with no pair set")
	}
	st.SetAutoResponse("ping", "pong")
	if r, ok := st.autoResponse([]byte("ping")); !ok || r != "pong" {
		t.Fatalf("%q %v", r, ok)
	}
	if _, ok := st.autoResponse([]byte("ping ")); ok {
		t.Fatal("answered a different message")
	}
	st.SetAutoResponse("", "")
	if _, ok := st.autoResponse([]byte("ping")); ok {
		t.Fatal("answered after the pair was removed")
	}
}
