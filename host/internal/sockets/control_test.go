//go:build linux

package sockets

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// textEvents passes the text of each message a set receives to got.
type textEvents struct {
	nopEvents
	got chan string
}

func (e *textEvents) Message(_ *Socket, _ bool, data []byte) { e.got <- string(data) }

// serveSet serves WebSocket upgrades into st on a test server and returns
// its ws:// URL.
func serveSet(t *testing.T, h *Host, st *Set) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, u := WithUpgrade(r.Context())
		s, err := st.Accept(nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		u.Claim(s)
		if err := h.Complete(w, r.WithContext(ctx), u); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// readers counts the goroutines reading a socket the poller found
// readable.
func readers() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "sockets.(*Socket).readable(")
}

// TestSkimControl: clients that ping get their pongs, with the ping's
// payload, and then no reader goroutine stays behind for them (gorilla,
// left to answer, waited on in its reader for the next message); a
// message after a ping still arrives.
func TestSkimControl(t *testing.T) {
	const n = 20
	h := NewHost(n+10, 0, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if h.poll() == nil {
		t.Fatal("no poller on Linux")
	}
	ev := &textEvents{got: make(chan string, n)}
	st := h.NewSet(ev, Limits{}, "a", nil)
	url := serveSet(t, h, st)
	pongs := make(chan string, n)
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		c, _, err := websocket.DefaultDialer.DialContext(context.Background(), url, nil)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		defer c.Close()
		c.SetPongHandler(func(data string) error {
			pongs <- data
			return nil
		})
		go func() { // the client's reads run its pong handler
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
		conns[i] = c
	}
	for !allAttached(st, n) {
		runtime.Gosched()
	}
	for i, c := range conns {
		if err := c.WriteControl(websocket.PingMessage, []byte(fmt.Sprintf("ping %d", i)), time.Now().Add(10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for range conns {
		seen[<-pongs] = true
	}
	for i := range conns {
		if want := fmt.Sprintf("ping %d", i); !seen[want] {
			t.Fatalf("pongs %v: none says %q", seen, want)
		}
	}
	// The pongs were written by the readers; wait for them to return.
	for deadline := time.Now().Add(30 * time.Second); readers() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d reader goroutines still wait after the pings were answered", readers())
		}
	}
	if err := conns[0].WriteMessage(websocket.TextMessage, []byte("after the ping")); err != nil {
		t.Fatal(err)
	}
	if got := <-ev.got; got != "after the ping" {
		t.Fatalf("message %q", got)
	}
}

// TestPartialFrame: a client that sends part of a frame header and stops
// is closed with 1008 once MessageTimeout passes (its reader goroutine
// waited for the rest for good before), and its reader goes; a ping split
// across two writes is answered, and the client that sent it, idle after,
// stays connected past MessageTimeout with no reader left behind.
func TestPartialFrame(t *testing.T) {
	h := NewHost(10, 0, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if h.poll() == nil {
		t.Fatal("no poller on Linux")
	}
	const timeout = 100 * time.Millisecond
	ev := &textEvents{got: make(chan string, 4)}
	st := h.NewSet(ev, Limits{MessageTimeout: timeout}, "a", nil)
	url := serveSet(t, h, st)
	dial := func() (*websocket.Conn, chan error, chan string) {
		c, _, err := websocket.DefaultDialer.DialContext(context.Background(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		ended, pongs := make(chan error, 1), make(chan string, 1)
		c.SetPongHandler(func(data string) error {
			pongs <- data
			return nil
		})
		go func() {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					ended <- err
					return
				}
			}
		}()
		return c, ended, pongs
	}
	stalled, stalledEnd, _ := dial()
	pinger, pingerEnd, pongs := dial()
	for !allAttached(st, 2) {
		runtime.Gosched()
	}

	// One byte of a text frame's header, then nothing.
	if _, err := stalled.NetConn().Write([]byte{0x81}); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-stalledEnd:
	case <-time.After(30 * time.Second):
		t.Fatalf("the client that sent part of a header is still connected after 30 s (MessageTimeout %v)", timeout)
	}
	if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
		t.Fatalf("the stalled client's connection ended with %v, want a close with 1008", err)
	}
	if n := h.Stats().Stalled; n != 1 {
		t.Fatalf("stalled count %d, want 1", n)
	}

	// A ping in two writes: the first three bytes, then the rest once the
	// server's reader has them and waits.
	ping := controlFrame(websocket.PingMessage, [4]byte{1, 2, 3, 4}, []byte("split"))
	if _, err := pinger.NetConn().Write(ping[:3]); err != nil {
		t.Fatal(err)
	}
	for readers() == 0 {
		runtime.Gosched()
	}
	if _, err := pinger.NetConn().Write(ping[3:]); err != nil {
		t.Fatal(err)
	}
	if got := <-pongs; got != "split" {
		t.Fatalf("pong %q, want the ping's payload", got)
	}
	for deadline := time.Now().Add(30 * time.Second); readers() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d reader goroutines still wait after the split ping was answered", readers())
		}
	}
	// Idle for several MessageTimeouts: nothing has begun, so nothing is
	// too slow.
	time.Sleep(5 * timeout)
	select {
	case err := <-pingerEnd:
		t.Fatalf("the idle client was disconnected: %v", err)
	default:
	}
	if err := pinger.WriteMessage(websocket.TextMessage, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if got := <-ev.got; got != "still here" {
		t.Fatalf("message %q", got)
	}
}
