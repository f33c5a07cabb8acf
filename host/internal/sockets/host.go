package sockets

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Limits bound WebSockets. Zero fields take the defaults of DefaultLimits.
type Limits struct {
	// MessageBytes caps a message, received or sent: 1 MiB, as on
	// Cloudflare. A client that sends a larger one is closed with 1009.
	MessageBytes int64
	// PerObject caps the open sockets of one object: 32,768, as on
	// Cloudflare. Past it ws_accept fails with TOO_LARGE.
	PerObject int
	// QueueFrames and QueueBytes bound the frames waiting to be written
	// to one client. A client that falls that far behind is closed with
	// 1013 (try again later).
	QueueFrames int
	QueueBytes  int64
	// WriteTimeout is how long writing one frame to a client may take
	// before the client is closed as too slow.
	WriteTimeout time.Duration
	// Inbound is how many received messages of one object may wait for
	// its handler at once; the readers of its other sockets wait (and
	// their clients' data waits in the kernel) until one is handled.
	Inbound int
	// MessageTimeout is how long the rest of a message, or of a control
	// frame, may take to arrive once it has begun (its header included):
	// a message being read holds a place among its object's pending ones
	// and the host's budget, and a frame a reader waits for holds the
	// reader, so a client that stops in the middle of one is closed with
	// 1008 at this bound.
	MessageTimeout time.Duration
}

// DefaultLimits are the limits of a worker that sets none.
var DefaultLimits = Limits{
	MessageBytes: 1 << 20, PerObject: 32768,
	QueueFrames: 1024, QueueBytes: 16 << 20, WriteTimeout: 10 * time.Second,
	Inbound: 64, MessageTimeout: 30 * time.Second,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MessageBytes <= 0 {
		l.MessageBytes = d.MessageBytes
	}
	if l.PerObject <= 0 {
		l.PerObject = d.PerObject
	}
	if l.QueueFrames <= 0 {
		l.QueueFrames = d.QueueFrames
	}
	if l.QueueBytes <= 0 {
		l.QueueBytes = d.QueueBytes
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.Inbound <= 0 {
		l.Inbound = d.Inbound
	}
	if l.MessageTimeout <= 0 {
		l.MessageTimeout = d.MessageTimeout
	}
	return l
}

// ErrTooMany is returned by Set.Accept when the object or the host has
// as many sockets open as it may.
var ErrTooMany = errors.New("too many WebSockets")

// Stats are counters of a Host's sockets.
type Stats struct {
	Open          int64 // sockets open now, accepted or connected
	QueuedBytes   int64 // bytes of messages not yet written to their clients
	Accepted      int64 // sockets accepted by objects
	Refused       int64 // accepts refused for the per-object or per-host cap
	Closed        int64 // sockets gone, for any reason
	MessagesIn    int64 // messages received from clients
	MessagesOut   int64 // frames written to clients
	AutoResponses int64 // messages answered by the auto-response pair
	TooBig        int64 // clients closed for a message over MessageBytes (1009)
	TooSlow       int64 // clients closed for falling behind (1013)
	Stalled       int64 // clients closed for a message that took over MessageTimeout to arrive (1008)
	// InboundBytes is what the host's budget of received messages holds:
	// messages read, being read or waiting for their objects, each at the
	// message limit; InboundWaiting counts the messages whose reading
	// waits for room in it, or in their account's share.
	InboundBytes, InboundWaiting int64
}

// Host holds every set of a server: the cap of sockets on the host, the
// upgrader, the counters, and the shutdown that closes every socket.
type Host struct {
	max        int
	maxAccount int // sockets of one account
	maxQueued  int64
	inbound    *weighted // bytes of received messages read or waiting for their object
	// maxShare is one account's share of inbound and of the unsent bytes
	// each (0: none), when the host serves several accounts.
	maxShare int64
	log      *slog.Logger
	up       websocket.Upgrader

	open   atomic.Int64
	queued atomic.Int64 // bytes of data frames waiting in queues, each message once

	pollOnce sync.Once
	poller   *poller // nil where there is none: a goroutine reads each socket

	mu       sync.Mutex
	sets     map[*Set]struct{} // guarded by mu: sets with sockets
	accounts map[string]int    // guarded by mu: open sockets by account
	shares   map[string]*share // guarded by mu: the accounts' shares of the budgets
	closing  bool              // guarded by mu: CloseAll ran

	accepted, refused, closed, in, out, auto, tooBig, tooSlow, stalled atomic.Int64
}

// NewHost returns a Host that holds at most max sockets, maxAccount of
// them at most of one account (0: no cap but each object's), and at most
// maxQueued bytes of frames not yet written to their clients (0: no
// budget); received messages read or waiting for their objects are held
// to maxQueued bytes too (counted at the message limit each: past it,
// readers wait). Where an account's sockets are capped below the host's,
// one account's frames and one account's received messages each hold at
// most half of that: another account's clients are written to and read
// however slow the first one's clients are to read or to send, or its
// objects to take their messages. It logs to log. Past the budget of
// unsent frames, or the account's share of it, the account's sends fail
// with OVERLOADED and a client of it that is behind is closed with 1013.
func NewHost(max, maxAccount int, maxQueued int64, log *slog.Logger) *Host {
	h := &Host{max: max, maxAccount: maxAccount, maxQueued: maxQueued, log: log,
		sets: map[*Set]struct{}{}, accounts: map[string]int{}, shares: map[string]*share{}}
	if maxQueued > 0 {
		h.inbound = newWeighted(maxQueued)
		if maxAccount > 0 && maxAccount < max {
			h.maxShare = maxQueued / 2
		}
	}
	h.up = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// The reader is Complete's (readBuffer bytes); writes take a
		// buffer from the pool: an idle socket holds no write buffer.
		WriteBufferPool: &sync.Pool{},
		// The Worker sees the Origin header and decides, as on Workers.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return h
}

// poll returns the host's poller, started on first use, or nil.
func (h *Host) poll() *poller {
	h.pollOnce.Do(func() {
		p, err := newPoller()
		if err != nil {
			h.log.Warn("WebSockets: no poller; each socket gets a reading goroutine", "err", err)
			return
		}
		h.poller = p
	})
	return h.poller
}

// Close stops the poller. Call it after CloseAll.
func (h *Host) Close() {
	h.pollOnce.Do(func() {})
	if h.poller != nil {
		h.poller.close()
	}
}

// Stats returns the counters.
func (h *Host) Stats() Stats {
	st := Stats{
		Open: h.open.Load(), QueuedBytes: h.queued.Load(), Accepted: h.accepted.Load(), Refused: h.refused.Load(),
		Closed: h.closed.Load(), MessagesIn: h.in.Load(), MessagesOut: h.out.Load(),
		AutoResponses: h.auto.Load(), TooBig: h.tooBig.Load(), TooSlow: h.tooSlow.Load(),
		Stalled: h.stalled.Load(),
	}
	if h.inbound != nil {
		st.InboundBytes, st.InboundWaiting = h.inbound.state()
	}
	h.mu.Lock()
	shares := slices.Collect(maps.Values(h.shares))
	h.mu.Unlock()
	for _, sh := range shares {
		_, n := sh.inbound.state()
		st.InboundWaiting += n
	}
	return st
}

// Budget is what one of the host's WebSocket budgets holds, in bytes,
// and its limit (0: none).
type Budget struct{ Used, Limit int64 }

// Budgets are the two WebSocket budgets of the host, or of one account's
// shares of them: the frames not yet written to their clients, and the
// received messages read or waiting for their objects.
type Budgets struct{ Unsent, Inbound Budget }

// Budgets returns what the host's WebSocket budgets hold, and each
// account's share of them where the host keeps shares (it serves several
// accounts), by account.
func (h *Host) Budgets() (host Budgets, accounts map[string]Budgets) {
	host.Unsent = Budget{h.queued.Load(), h.maxQueued}
	if h.inbound != nil {
		used, _ := h.inbound.state()
		host.Inbound = Budget{used, h.maxQueued}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	accounts = map[string]Budgets{}
	for a, sh := range h.shares {
		used, _ := sh.inbound.state()
		accounts[a] = Budgets{Unsent: Budget{sh.unsent.Load(), h.maxShare}, Inbound: Budget{used, h.maxShare}}
	}
	return host, accounts
}

// share is one account's share of the host's WebSocket budgets, where
// the host keeps shares.
type share struct {
	unsent  atomic.Int64 // bytes of its frames not yet written, each message once
	inbound *weighted    // its received messages read or waiting for their objects
}

// share returns account's share of the budgets, or nil when the host
// keeps none.
func (h *Host) share(account string) *share {
	if h.maxShare == 0 {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	sh := h.shares[account]
	if sh == nil {
		sh = &share{inbound: newWeighted(h.maxShare)}
		h.shares[account] = sh
	}
	return sh
}

// full reports whether the unsent bytes are over the budget.
func (h *Host) full() bool { return h.maxQueued > 0 && h.queued.Load() > h.maxQueued }

// take counts one more open socket of account, within the host's cap
// and the account's share of it.
func (h *Host) take(account string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.max > 0 && h.open.Load() >= int64(h.max) {
		h.refused.Add(1)
		return fmt.Errorf("%w: the host has %d open (its cap)", ErrTooMany, h.max)
	}
	if h.maxAccount > 0 && h.accounts[account] >= h.maxAccount {
		h.refused.Add(1)
		return fmt.Errorf("%w: the account has %d open (its share of the host's)", ErrTooMany, h.maxAccount)
	}
	h.open.Add(1)
	h.accounts[account]++
	return nil
}

// give counts one socket of account gone.
func (h *Host) give(account string) {
	h.mu.Lock()
	if h.accounts[account]--; h.accounts[account] <= 0 {
		delete(h.accounts, account)
	}
	h.mu.Unlock()
	h.open.Add(-1)
	h.closed.Add(1)
}

// track and untrack keep the sets with sockets, for CloseAll.
func (h *Host) track(s *Set) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	h.sets[s] = struct{}{}
	return true
}

func (h *Host) untrack(s *Set) {
	h.mu.Lock()
	delete(h.sets, s)
	h.mu.Unlock()
}

// CloseAll closes every socket with code and reason (1012, "service
// restart", on shutdown), without telling the objects, and refuses new
// ones. It waits up to wait for the close frames to be written.
func (h *Host) CloseAll(code int, reason string, wait time.Duration) {
	h.mu.Lock()
	h.closing = true
	sets := make([]*Set, 0, len(h.sets))
	for s := range h.sets {
		sets = append(sets, s)
	}
	h.mu.Unlock()
	deadline := time.Now().Add(wait)
	var wg sync.WaitGroup
	for _, s := range sets {
		for _, sock := range s.all() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sock.shutdown(code, reason, deadline)
			}()
		}
	}
	wg.Wait()
}
