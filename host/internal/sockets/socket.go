package sockets

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// state is where a socket is in its life. Every state from closing on
// means the socket is no longer open: lists, broadcasts and sends skip it.
type state uint8

const (
	pending  state = iota // accepted; its connection not attached yet
	open                  // connected
	closing               // the object closed it: no event follows
	failing               // the host closed it for an error: an error event follows
	stopping              // the host is shutting down: no event follows
	gone                  // out of its set
)

// closeWait is how long a socket waits for the client's answer to a close
// frame before it drops the connection.
const closeWait = 5 * time.Second

// Socket is one WebSocket of an object.
type Socket struct {
	set  *Set
	id   uint32
	tags []string

	state      state  // guarded by set.mu
	attachment []byte // guarded by set.mu
	failure    string // guarded by set.mu: why the host closed it (failing)
	finished   bool   // guarded by set.mu: finish ran

	autoAt atomic.Int64 // unix ms of the last auto-response, 0: none

	// Set by attach, before the socket is read: the reader gorilla reads
	// through (whether it holds bytes tells readable when to stop), and
	// the socket's registration with the host's poller (pollKey 0: none).
	br      *bufio.Reader
	pollKey atomic.Uint64
	pollFD  atomic.Int32
	readMu  sync.Mutex // held by readable while it reads

	mu      sync.Mutex
	conn    *websocket.Conn // guarded by mu: nil while pending
	queue   []frame         // guarded by mu: frames waiting to be written
	queued  int64           // guarded by mu: their bytes
	writing bool            // guarded by mu: a drain goroutine runs
}

// frame is one frame waiting to be written: a data frame, or a close.
type frame struct {
	msg    *message // nil: a close frame
	size   int64
	code   int
	reason string
}

// message is one encoded data frame, shared by the queues of every socket
// a broadcast reaches. The host's budget of unsent bytes counts it once,
// while any queue holds it.
type message struct {
	pm      *websocket.PreparedMessage
	size    int64
	account *atomic.Int64 // the unsent bytes of its object's account (nil: not counted)
	refs    atomic.Int32
}

// hold counts one more queue holding m.
func (m *message) hold(h *Host) {
	if m.refs.Add(1) == 1 {
		h.queued.Add(m.size)
		if m.account != nil {
			m.account.Add(m.size)
		}
	}
}

// release counts one queue less.
func (m *message) release(h *Host) {
	if m.refs.Add(-1) == 0 {
		h.queued.Add(-m.size)
		if m.account != nil {
			m.account.Add(-m.size)
		}
	}
}

// dropQueue empties the queue, releasing its messages. The caller holds
// s.mu.
func (s *Socket) dropQueue() {
	for _, f := range s.queue {
		if f.msg != nil {
			f.msg.release(s.set.h)
		}
	}
	s.queue, s.queued = nil, 0
}

// ID returns the socket's id, unique in its set while the socket lives.
func (s *Socket) ID() uint32 { return s.id }

// Limits returns the limits of the socket's set.
func (s *Socket) Limits() Limits { return s.set.lim }

// Tags returns the socket's tags.
func (s *Socket) Tags() []string { return s.tags }

// Open reports whether the socket is open: accepted and not closed.
func (s *Socket) Open() bool {
	s.set.mu.Lock()
	defer s.set.mu.Unlock()
	return s.state < closing
}

// Attachment returns a copy of the socket's attachment.
func (s *Socket) Attachment() []byte {
	s.set.mu.Lock()
	defer s.set.mu.Unlock()
	return slices.Clone(s.attachment)
}

// SetAttachment replaces the socket's attachment with a copy of b.
func (s *Socket) SetAttachment(b []byte) {
	b = slices.Clone(b)
	s.set.mu.Lock()
	s.attachment = b
	s.set.mu.Unlock()
}

// AutoResponseTime returns when the host last answered this socket with
// the auto-response, in unix milliseconds, or false if never.
func (s *Socket) AutoResponseTime() (int64, bool) {
	t := s.autoAt.Load()
	return t, t != 0
}

// Send queues a message to the socket. It fails when the socket is not
// open or data is over the message limit.
func (s *Socket) Send(binary bool, data []byte) error {
	if !s.Open() {
		return fmt.Errorf("socket %d is closed", s.id)
	}
	m, err := s.set.prepare(binary, data)
	if err != nil {
		return err
	}
	s.enqueue(m)
	return nil
}

// Close closes the socket with code and reason, after the frames queued
// before it. The object gets no event for it.
func (s *Socket) Close(code int, reason string) {
	if s.set.closing(s, closing) {
		s.push(frame{code: code, reason: reason})
	}
}

// Discard drops a socket whose accept did not stand (the handler failed,
// or did not answer 101): it never connects and no event follows.
func (s *Socket) Discard() {
	s.set.closing(s, closing)
	s.mu.Lock()
	c := s.conn
	s.dropQueue()
	s.mu.Unlock()
	if c != nil {
		s.closeConn(c)
	}
	s.set.remove(s)
}

// closeConn closes the socket's connection, first taking it out of the
// poller (a closed descriptor's number is soon another connection's).
func (s *Socket) closeConn(c *websocket.Conn) {
	if s.pollKey.Load() != 0 {
		s.set.h.poller.remove(s)
	}
	_ = c.NetConn().Close()
}

// enqueue queues a data frame unless the socket is closing. Past the
// queue's bounds, or when the host's unsent bytes are over its budget and
// this client is already behind, it closes the socket as too slow instead.
func (s *Socket) enqueue(m *message) {
	if !s.Open() {
		return
	}
	lim, h := &s.set.lim, s.set.h
	// The check and the append are one step: concurrent senders cannot
	// both pass a bound only one of them fits in.
	s.mu.Lock()
	n, b := len(s.queue), s.queued
	why := ""
	switch {
	case n >= lim.QueueFrames || b+m.size > lim.QueueBytes:
		why = fmt.Sprintf("closed with 1013: the client fell %d frames (%d bytes) behind", n, b)
	case n > 0:
		if full := s.set.Full(); full != "" {
			why = fmt.Sprintf("closed with 1013: %s and the client is %d frames behind", full, n)
		}
	}
	start := false
	if why == "" {
		m.hold(h)
		start = s.pushLocked(frame{msg: m, size: m.size})
	}
	s.mu.Unlock()
	if why != "" {
		h.tooSlow.Add(1)
		s.fail(websocket.CloseTryAgainLater, "client too slow", true, why)
		return
	}
	if start {
		go s.drain()
	}
}

// push appends f to the queue and starts a drain if none runs.
func (s *Socket) push(f frame) {
	s.mu.Lock()
	start := s.pushLocked(f)
	s.mu.Unlock()
	if start {
		go s.drain()
	}
}

// pushLocked appends f to the queue and reports whether the caller must
// start a drain (it is then marked as running). The caller holds s.mu.
func (s *Socket) pushLocked(f frame) bool {
	s.queue = append(s.queue, f)
	s.queued += f.size
	start := s.conn != nil && !s.writing
	if start {
		s.writing = true
	}
	return start
}

// drain writes the queued frames, then exits.
func (s *Socket) drain() {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.writing = false
			s.queue = nil
			s.mu.Unlock()
			return
		}
		f := s.queue[0]
		s.queue[0] = frame{}
		s.queue = s.queue[1:]
		s.queued -= f.size
		c := s.conn
		s.mu.Unlock()
		_ = c.SetWriteDeadline(time.Now().Add(s.set.lim.WriteTimeout))
		var err error
		if f.msg != nil {
			err = c.WritePreparedMessage(f.msg.pm)
			f.msg.release(s.set.h)
			s.set.h.out.Add(1)
		} else {
			err = c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(f.code, f.reason))
			// The client answers with its close frame; one that does not
			// is dropped after closeWait.
			time.AfterFunc(closeWait, func() {
				s.closeConn(c)
				s.finish(nil)
			})
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				s.set.h.tooSlow.Add(1)
				s.fail(websocket.CloseTryAgainLater, "client too slow", true,
					fmt.Sprintf("closed with 1013: writing a frame took over %s", s.set.lim.WriteTimeout))
			}
			s.closeConn(c)
			s.mu.Lock()
			s.writing = false
			s.dropQueue()
			s.mu.Unlock()
			// A socket the poller watched has no reader to notice.
			s.finish(nil)
			return
		}
	}
}

// fail closes the socket for an error: the object gets an error event
// with msg once the reader has stopped. The client gets a close frame with
// code and reason when send is set: the frames still queued are dropped
// and the close is written next, after the frame being written, if any
// (a slow client that reads again gets it). Otherwise the connection is
// closed at once (the library has sent its close already).
func (s *Socket) fail(code int, reason string, send bool, msg string) {
	st := s.set
	st.mu.Lock()
	wasOpen := s.state < closing
	if wasOpen {
		s.state = failing
		s.failure = msg
		st.nOpen--
	}
	st.mu.Unlock()
	if !wasOpen {
		return
	}
	st.log.Warn("WebSocket closed by the host", "socket", s.id, "code", code, "why", msg)
	if !send {
		go s.abort(0, "", time.Time{})
		return
	}
	s.mu.Lock()
	s.dropQueue()
	connected := s.conn != nil
	s.mu.Unlock()
	if !connected {
		go s.finish(nil)
		return
	}
	s.push(frame{code: code, reason: reason})
}

// abort drops the queue, tries to send a close frame with code (0: none)
// until deadline and closes the connection; a socket not connected yet
// is finished at once.
func (s *Socket) abort(code int, reason string, deadline time.Time) {
	s.mu.Lock()
	c := s.conn
	s.dropQueue()
	s.mu.Unlock()
	if c == nil {
		// Never connected: no reader will end it.
		s.finish(nil)
		return
	}
	if code != 0 {
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), deadline)
	}
	s.closeConn(c)
	s.finish(nil)
}

// shutdown closes the socket for the host's shutdown, with no event.
func (s *Socket) shutdown(code int, reason string, deadline time.Time) {
	st := s.set
	st.mu.Lock()
	if s.state < closing {
		st.nOpen--
	}
	if s.state < gone {
		s.state = stopping
	}
	st.mu.Unlock()
	s.abort(code, reason, deadline)
}

// attach connects the socket to its client, whose frames gorilla reads
// through br, and starts reading: through the host's poller where it
// can, else with a goroutine of its own. A socket closed meanwhile (by
// the object, or the shutdown) still gets its queued frames, its close
// among them.
func (s *Socket) attach(c *websocket.Conn, br *bufio.Reader) {
	c.SetReadLimit(s.set.lim.MessageBytes)
	st := s.set
	st.mu.Lock()
	if s.state == pending {
		s.state = open
	}
	stopped := s.state == stopping || s.state == gone
	st.mu.Unlock()
	if stopped {
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseServiceRestart, "service restart"), time.Now().Add(time.Second))
		_ = c.NetConn().Close()
		s.finish(nil)
		return
	}
	s.br = br
	s.mu.Lock()
	s.conn = c
	start := len(s.queue) > 0 && !s.writing
	if start {
		s.writing = true
	}
	s.mu.Unlock()
	if start {
		go s.drain()
	}
	// The poller may call readable as soon as the socket is added: after
	// its connection is set.
	if br == nil || st.h.poll() == nil || !st.h.poller.add(s, c.NetConn()) {
		go s.read(c)
	}
}

// read hands each message the client sends to the set's events, until
// the connection ends: the goroutine of a socket the poller does not
// watch.
func (s *Socket) read(c *websocket.Conn) {
	for s.next(c) {
	}
}

// readable reads the messages a socket the poller found readable has
// buffered, then waits for the poller again.
func (s *Socket) readable() {
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	// One readable runs at a time (the poller fires once per re-arm);
	// the lock says so to the memory model, which does not see epoll.
	s.readMu.Lock()
	// Pings and pongs are answered here, not in gorilla, which would
	// wait on for the next message (control.go). Bytes are here: a frame
	// has begun, and it must all arrive within MessageTimeout, its header
	// too (without a deadline a client that sent part of a header and
	// stopped held this goroutine for good).
	timeout := s.set.lim.MessageTimeout
	_ = c.SetReadDeadline(now().Add(timeout))
	pong := answerPing(c)
	for more := skimControl(s.br, true, pong); more; more = skimControl(s.br, false, pong) {
		if !s.next(c) {
			s.readMu.Unlock()
			return
		}
		_ = c.SetReadDeadline(now().Add(timeout)) // next cleared it
	}
	_ = c.SetReadDeadline(time.Time{})
	s.readMu.Unlock()
	if err := s.set.h.poller.rearm(s); err != nil {
		// Closed meanwhile, by the writer or the shutdown.
		s.closeConn(c)
		s.finish(nil)
	}
}

// next reads one message and hands it to the set's events; it reports
// false once the connection is over (and the socket finished, or closing
// for a message too slow to arrive). A message that is not all here yet
// is waited for, MessageTimeout at most once the host reads it (and the
// poller's reader has its header under that deadline too: readable).
func (s *Socket) next(c *websocket.Conn) bool {
	st := s.set
	typ, r, err := c.NextReader()
	if err != nil {
		s.readFailed(err)
		return false
	}
	// The message waits for a place among the object's pending ones, and
	// in the account's share and the host's budget of received messages,
	// before it is read: its bytes stay in the kernel meanwhile, and the
	// wait is not the client's.
	st.inbound <- struct{}{}
	defer func() { <-st.inbound }()
	var share *weighted
	if st.share != nil {
		share = st.share.inbound
	}
	for _, w := range [...]*weighted{share, st.h.inbound} {
		if w != nil {
			w.acquire(st.lim.MessageBytes)
			defer w.release(st.lim.MessageBytes)
		}
	}
	_ = c.SetReadDeadline(now().Add(st.lim.MessageTimeout))
	data, err := io.ReadAll(r)
	if err != nil {
		s.readFailed(err)
		return false
	}
	// The next message may be a long time coming: that is not slow.
	_ = c.SetReadDeadline(time.Time{})
	st.h.in.Add(1)
	if typ == websocket.TextMessage {
		if resp, ok := st.autoResponse(data); ok {
			s.autoAt.Store(now().UnixMilli())
			st.h.auto.Add(1)
			if m, err := st.prepare(false, []byte(resp)); err == nil {
				s.enqueue(m)
			}
			return true
		}
	}
	if s.Open() {
		st.ev.Message(s, typ == websocket.BinaryMessage, data)
	}
	return true
}

// readFailed ends the reading of a socket whose read failed with err: a
// message that took over MessageTimeout closes it with 1008 (the object
// gets an error event), anything else is the end of the connection.
func (s *Socket) readFailed(err error) {
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !s.Open() {
		// Over, or closing already: the close under way finishes it.
		s.finish(err)
		return
	}
	s.set.h.stalled.Add(1)
	s.fail(websocket.ClosePolicyViolation, "message too slow", true,
		fmt.Sprintf("closed with 1008: a message took over %s to arrive", s.set.lim.MessageTimeout))
}

// finish ends a socket whose connection is over (err is why; nil for one
// never connected, or closed by the host): it leaves its set, and the
// object hears of it as the way it ended calls for. Only its first call
// counts: the reader and the writer may both see the end.
func (s *Socket) finish(err error) {
	st := s.set
	var ce *websocket.CloseError
	if errors.Is(err, websocket.ErrReadLimit) {
		st.h.tooBig.Add(1)
		// The library has sent the client its 1009 already.
		s.fail(websocket.CloseMessageTooBig, "message too big", false,
			fmt.Sprintf("closed with 1009: a message was over the limit of %d bytes", st.lim.MessageBytes))
	} else if err != nil && !errors.As(err, &ce) && !isDisconnect(err) {
		s.fail(websocket.CloseProtocolError, "protocol error", false, "closed with 1002: "+err.Error())
	}
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c != nil {
		s.closeConn(c)
	}
	st.mu.Lock()
	was, failure, again := s.state, s.failure, s.finished
	s.finished = true
	if was < closing {
		st.nOpen--
		s.state = closing
	}
	st.mu.Unlock()
	if again {
		return
	}
	switch {
	case was == failing:
		st.ev.Error(s, failure)
	case was < closing && ce != nil && ce.Code != websocket.CloseAbnormalClosure:
		st.ev.Closed(s, ce.Code, ce.Text, true)
	case was < closing:
		st.ev.Closed(s, websocket.CloseAbnormalClosure, "", false)
	}
	st.remove(s)
}

// isDisconnect reports whether err is a connection that ended without a
// close frame: the client went away.
func isDisconnect(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.As(err, &ne) || errors.Is(err, syscall.ECONNRESET)
}
