package sockets

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

// Upgrade is a client's WebSocket upgrade request on its way through the
// Worker to the object that accepts it. The HTTP front puts it in the
// request's context (WithUpgrade); the object's ws_accept claims it;
// when the Worker answers 101, the front completes it.
type Upgrade struct {
	mu   sync.Mutex
	sock *Socket // guarded by mu: the socket that claimed it
	done bool    // guarded by mu: Complete ran
}

type upgradeKey struct{}

// IsUpgrade reports whether r asks for a WebSocket.
func IsUpgrade(r *http.Request) bool { return websocket.IsWebSocketUpgrade(r) }

// WithUpgrade returns ctx carrying a new Upgrade.
func WithUpgrade(ctx context.Context) (context.Context, *Upgrade) {
	u := &Upgrade{}
	return context.WithValue(ctx, upgradeKey{}, u), u
}

// UpgradeFrom returns the Upgrade ctx carries, or nil.
func UpgradeFrom(ctx context.Context) *Upgrade {
	u, _ := ctx.Value(upgradeKey{}).(*Upgrade)
	return u
}

// Claim makes s the socket of the upgrade; it reports false if another
// one has it.
func (u *Upgrade) Claim(s *Socket) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.sock != nil && u.sock.Open() {
		return false
	}
	u.sock = s
	return true
}

// socket returns the pending socket that claimed the upgrade, or nil.
func (u *Upgrade) socket() *Socket {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.sock == nil || !u.sock.Open() {
		return nil
	}
	return u.sock
}

// Claimed reports whether a socket that still stands claimed the upgrade.
func (u *Upgrade) Claimed() bool { return u.socket() != nil }

// Abandon drops the socket that claimed the upgrade, if any: the
// response was not a 101.
func (u *Upgrade) Abandon() {
	u.mu.Lock()
	done := u.done
	u.mu.Unlock()
	if s := u.socket(); s != nil && !done {
		s.Discard()
	}
}

// Complete answers the client 101 and hands its connection to the
// socket that claimed the upgrade. When the handshake fails (the client
// went away, or its request was not a valid upgrade: it was answered an
// error), the socket ends as a lost connection.
func (h *Host) Complete(w http.ResponseWriter, r *http.Request, u *Upgrade) error {
	s := u.socket()
	if s == nil {
		return fmt.Errorf("no object accepted the WebSocket")
	}
	u.mu.Lock()
	u.done = true
	u.mu.Unlock()
	hj := &hijacker{ResponseWriter: w}
	c, err := h.up.Upgrade(hj, r, nil)
	if err != nil {
		s.finish(nil)
		return fmt.Errorf("WebSocket handshake: %w", err)
	}
	s.attach(c, hj.br)
	return nil
}

// readBuffer is the size of a socket's read buffer: frames larger than it
// are read through it. Over 256 bytes, or gorilla makes its own.
const readBuffer = 512

// hijacker hands gorilla a connection read through a small reader of the
// host's own, whose Buffered tells the poller's reader whether a message
// is left to read (gorilla reads through the reader it is given).
type hijacker struct {
	http.ResponseWriter
	br *bufio.Reader
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("the response writer cannot be hijacked")
	}
	c, brw, err := hj.Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		// Bytes before the handshake ended: gorilla refuses them.
		return c, brw, err
	}
	h.br = bufio.NewReaderSize(c, readBuffer)
	return c, bufio.NewReadWriter(h.br, brw.Writer), nil
}
