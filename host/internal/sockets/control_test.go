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
