package sockets

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Events receive what happens on a Set's sockets: its object, which runs
// the matching handler. Each is called on the socket's reader goroutine
// and returns when the event has been handled; a socket's events come in
// order, one at a time.
type Events interface {
	// Message is a message a client sent.
	Message(s *Socket, binary bool, data []byte)
	// Closed is a socket its client closed (clean, with the client's
	// code and reason) or whose connection was lost (1006, not clean).
	Closed(s *Socket, code int, reason string, clean bool)
	// Error is a socket the host closed for an error: a message over the
	// size limit, a protocol error, a client too slow to read, or too
	// slow to send the rest of a message.
	Error(s *Socket, msg string)
	// Empty is called when the set's last socket is gone.
	Empty()
}

// Set is the sockets of one object. Its methods are safe for concurrent
// use.
type Set struct {
	h       *Host
	ev      Events
	lim     Limits
	account string
	log     *slog.Logger
	inbound chan struct{} // a token per received message waiting for the object
	share   *share        // the account's share of the host's budgets (nil: none)

	mu       sync.Mutex
	next     uint32             // guarded by mu: the last socket id given
	sockets  map[uint32]*Socket // guarded by mu: every socket not yet gone
	nOpen    int                // guarded by mu: sockets not closing
	autoReq  string             // guarded by mu: the auto-response pair
	autoResp string
	hasAuto  bool
}

// NewSet returns an empty set of an object of account, whose events go to
// ev and whose log lines (a client closed for a limit) go to log (nil: the
// host's).
func (h *Host) NewSet(ev Events, lim Limits, account string, log *slog.Logger) *Set {
	lim = lim.withDefaults()
	if log == nil {
		log = h.log
	}
	return &Set{h: h, ev: ev, lim: lim, account: account, log: log, share: h.share(account),
		inbound: make(chan struct{}, lim.Inbound), sockets: map[uint32]*Socket{}}
}

// Limits returns the set's limits.
func (st *Set) Limits() Limits { return st.lim }

// Accept adds a socket with tags to the set, pending until its
// connection is attached (Upgrade.Complete): frames sent to it wait. It
// fails with ErrTooMany at the object's or the host's cap.
func (st *Set) Accept(tags []string) (*Socket, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.nOpen >= st.lim.PerObject {
		st.h.refused.Add(1)
		return nil, fmt.Errorf("%w: the object has %d open (its cap)", ErrTooMany, st.lim.PerObject)
	}
	if err := st.h.take(st.account); err != nil {
		return nil, err
	}
	if len(st.sockets) == 0 && !st.h.track(st) {
		st.h.give(st.account)
		return nil, fmt.Errorf("%w: the host is shutting down", ErrTooMany)
	}
	// Ids are never 0 (ws_broadcast's "except none") and are not reused
	// while a socket holds one.
	for {
		st.next++
		if _, used := st.sockets[st.next]; st.next != 0 && !used {
			break
		}
	}
	s := &Socket{set: st, id: st.next, tags: slices.Clone(tags)}
	st.sockets[s.id] = s
	st.nOpen++
	st.h.accepted.Add(1)
	return s, nil
}

// Get returns the socket id, or nil when there is none. A socket whose
// client closed it stays until its close event has been handled.
func (st *Set) Get(id uint32) *Socket {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.sockets[id]
}

// List returns the open sockets, those with tag if tag is not empty, in
// the order they were accepted.
func (st *Set) List(tag string) []*Socket {
	st.mu.Lock()
	defer st.mu.Unlock()
	l := make([]*Socket, 0, len(st.sockets))
	for _, s := range st.sockets {
		if s.state < closing && (tag == "" || slices.Contains(s.tags, tag)) {
			l = append(l, s)
		}
	}
	slices.SortFunc(l, func(a, b *Socket) int { return int(a.id) - int(b.id) })
	return l
}

// Len returns how many sockets the set holds, open or closing.
func (st *Set) Len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.sockets)
}

// all returns every socket of the set.
func (st *Set) all() []*Socket {
	st.mu.Lock()
	defer st.mu.Unlock()
	l := make([]*Socket, 0, len(st.sockets))
	for _, s := range st.sockets {
		l = append(l, s)
	}
	return l
}

// CloseAll closes every socket of the set with code and reason, without
// telling the object (its worker was removed, say).
func (st *Set) CloseAll(code int, reason string) {
	for _, s := range st.all() {
		s.Close(code, reason)
	}
}

// SetAutoResponse makes the host answer a text message equal to req with
// resp, without waking the object; an empty req removes the pair.
func (st *Set) SetAutoResponse(req, resp string) {
	st.mu.Lock()
	st.autoReq, st.autoResp, st.hasAuto = req, resp, req != ""
	st.mu.Unlock()
}

// autoResponse returns the reply to a text message data, if it is the
// auto-response request.
func (st *Set) autoResponse(data []byte) (string, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.hasAuto && string(data) == st.autoReq {
		return st.autoResp, true
	}
	return "", false
}

// SendTo queues one message to every open socket of l, encoding its
// frame once: a send to one socket, or a broadcast.
func SendTo(l []*Socket, binary bool, data []byte) error {
	if len(l) == 0 {
		return nil
	}
	m, err := l[0].set.prepare(binary, data)
	if err != nil {
		return err
	}
	for _, s := range l {
		s.enqueue(m)
	}
	return nil
}

// prepare encodes a data frame of the set's object.
func (st *Set) prepare(binary bool, data []byte) (*message, error) {
	typ := websocket.TextMessage
	if binary {
		typ = websocket.BinaryMessage
	}
	pm, err := websocket.NewPreparedMessage(typ, data)
	if err != nil {
		return nil, fmt.Errorf("encode WebSocket frame: %w", err)
	}
	m := &message{pm: pm, size: int64(len(data))}
	if st.share != nil {
		m.account = &st.share.unsent
	}
	return m, nil
}

// Full says which budget of unsent bytes is spent, the host's or the
// account's share of it, or "" when neither is: while one is, sends
// should wait (OVERLOADED).
func (st *Set) Full() string {
	switch {
	case st.h.full():
		return "the host's WebSocket send buffers are full"
	case st.share != nil && st.share.unsent.Load() > st.h.maxShare:
		return "the account's share of the host's WebSocket send buffers is full"
	}
	return ""
}

// closing marks s as closing: it no longer counts against the cap, and
// lists and broadcasts skip it. It reports whether s was open.
func (st *Set) closing(s *Socket, by state) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s.state >= closing {
		return false
	}
	s.state = by
	st.nOpen--
	return true
}

// remove drops s from the set, once it is gone.
func (st *Set) remove(s *Socket) {
	st.mu.Lock()
	if s.state < closing {
		st.nOpen--
	}
	s.state = gone
	_, had := st.sockets[s.id]
	delete(st.sockets, s.id)
	empty := len(st.sockets) == 0
	st.mu.Unlock()
	if !had {
		return
	}
	st.h.give(st.account)
	if empty {
		st.h.untrack(st)
		st.ev.Empty()
	}
}

// now is the time auto-responses are stamped with.
var now = time.Now
