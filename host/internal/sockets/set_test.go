package sockets

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// nopEvents counts the events of a set.
type nopEvents struct{ empty int }

func (*nopEvents) Message(*Socket, bool, []byte)     {}
func (*nopEvents) Closed(*Socket, int, string, bool) {}
func (*nopEvents) Error(*Socket, string)             {}
func (e *nopEvents) Empty()                          { e.empty++ }

// TestSet_AcceptListDiscard: ids from 1 in order, tags kept, lists by tag
// in accept order, the object's, the account's and the host's caps, and a
// discarded socket leaving its place (and the empty set noticed).
func TestSet_AcceptListDiscard(t *testing.T) {
	h := NewHost(4, 2, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ev := &nopEvents{}
	st := h.NewSet(ev, Limits{PerObject: 2}, "a", nil)
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
	if _, err := st.Accept(nil); !errors.Is(err, ErrTooMany) || !strings.Contains(err.Error(), "object") {
		t.Fatalf("third accept past the object's cap: %v", err)
	}
	if l := st.List("x"); len(l) != 1 || l[0] != a {
		t.Fatalf("list x: %v", l)
	}
	if l := st.List(""); len(l) != 2 || l[0] != a || l[1] != b {
		t.Fatalf("list all: %v", l)
	}
	if _, err := h.NewSet(&nopEvents{}, Limits{}, "a", nil).Accept(nil); !errors.Is(err, ErrTooMany) || !strings.Contains(err.Error(), "account") {
		t.Fatalf("another object of the account past its share of the host: %v", err)
	}
	other := h.NewSet(&nopEvents{}, Limits{}, "b", nil)
	for i := 0; i < 2; i++ {
		if _, err := other.Accept(nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.NewSet(&nopEvents{}, Limits{}, "c", nil).Accept(nil); !errors.Is(err, ErrTooMany) || !strings.Contains(err.Error(), "host") {
		t.Fatalf("a fifth socket past the host's cap: %v", err)
	}
	a.SetAttachment([]byte("att"))
	if string(a.Attachment()) != "att" {
		t.Fatal("attachment")
	}
	a.Discard()
	b.Discard()
	if st.Len() != 0 || ev.empty != 1 || h.Stats().Open != 2 {
		t.Fatalf("after discarding: len %d, empty events %d, open %d", st.Len(), ev.empty, h.Stats().Open)
	}
	if c, err := st.Accept(nil); err != nil || c.ID() != 3 {
		t.Fatalf("accept after discarding: %v %v", c, err)
	}
}

// TestWeighted: acquire waits while the units are taken.
func TestWeighted(t *testing.T) {
	w := newWeighted(10)
	w.acquire(6)
	got := make(chan struct{})
	go func() {
		w.acquire(6)
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("12 of 10 units granted")
	default:
	}
	w.release(6)
	<-got
	w.acquire(4)
	w.release(4)
	w.release(6)
	w.acquire(100) // more than the whole, granted alone
	w.release(100)
}

// TestSet_AutoResponse: the pair answers only the exact text.
func TestSet_AutoResponse(t *testing.T) {
	st := NewHost(0, 0, 0, slog.New(slog.NewTextHandler(io.Discard, nil))).NewSet(&nopEvents{}, Limits{}, "b", nil)
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
