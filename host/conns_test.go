package host

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// serveHTTP serves h with an HTTPServer within l on 127.0.0.1 and returns
// its address.
func serveHTTP(t *testing.T, h http.Handler, l HTTPLimits) (string, *HTTPServer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHTTPServer(h, l, nil)
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String(), hs
}

// get sends one keep-alive GET on conn and reads the response.
func get(t *testing.T, conn net.Conn, br *bufio.Reader) (int, string) {
	t.Helper()
	fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, err.Error()
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

// TestConns_Cap: past MaxConns open connections, a new one closes the
// connection idle the longest; when none is idle, the new one is answered
// 503 and closed. Connections never go past the cap.
func TestConns_Cap(t *testing.T) {
	const max = 8
	release := make(chan struct{})
	var blocked atomic.Int64 // requests holding their connection busy
	addr, hs := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("block") != "" {
			blocked.Add(1)
			<-release
		}
		io.WriteString(w, "ok")
	}), HTTPLimits{MaxConns: max})

	// Twenty kept-alive connections, one request each, then idle.
	var conns []net.Conn
	for i := 0; i < 20; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if status, body := get(t, c, bufio.NewReader(c)); status != 200 {
			t.Fatalf("connection %d: %d %s", i, status, body)
		}
		conns = append(conns, c)
		if n := hs.conns.openCount(); n > max {
			t.Fatalf("%d connections open, cap %d", n, max)
		}
		// The server marks a connection idle after its response is sent,
		// and the client may read the response first: wait until it has,
		// so that the next one closes the oldest. (Without it, a late one
		// went to the back of the idle list, outlived younger ones, and
		// later made room for the last connection below, which waited
		// for its request and got nothing.)
		for hs.conns.idleCount() < min(i+1, max) {
			time.Sleep(time.Millisecond)
		}
	}
	// The oldest ones were closed to make room: reading one gives EOF.
	if _, err := conns[0].Read(make([]byte, 1)); err == nil {
		t.Error("the connection idle the longest is still open")
	}
	// All busy: a new connection is refused with 503.
	for i := 0; i < max; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprint(c, "GET /?block=1 HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	for blocked.Load() < max { // every idle one has made room, and every slot is busy
		time.Sleep(time.Millisecond)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(b), "HTTP/1.1 503") || !strings.Contains(string(b), "too many connections") {
		t.Errorf("a connection over the cap with none idle got %q", b)
	}
	close(release)
}

func (c *connLimiter) openCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open
}

func (c *connLimiter) idleCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.idle
}

// TestConns_AcceptPaced: the listener accepts no more connections while
// two a P that it accepted are untouched by their goroutines; the first
// use of one lets the next in. An accepted connection still hands its
// file descriptor to the WebSocket poller.
func TestConns_AcceptPaced(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	ln := newLimitedListener(inner, &connLimiter{max: 1000})
	k := cap(ln.pace)
	for i := 0; i <= k; i++ { // one more than the listener takes at once
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	var accepted []net.Conn
	for i := 0; i < k; i++ {
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		accepted = append(accepted, c)
	}
	if len(ln.pace) != cap(ln.pace) {
		t.Fatalf("%d of %d tokens held after %d accepted connections, none used", len(ln.pace), k, k)
	}
	next := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept() // waits for a token
		if err != nil {
			t.Error(err)
		}
		next <- c
	}()
	select {
	case <-next:
		t.Fatal("a connection was accepted while every token was held")
	default:
	}
	// The first connection's goroutine runs: it sets its read deadline,
	// as net/http does first.
	if err := accepted[0].SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	c := <-next
	defer c.Close()
	if sc, ok := c.(syscall.Conn); !ok {
		t.Error("a paced connection gives no file descriptor to the WebSocket poller")
	} else if _, err := sc.SyscallConn(); err != nil {
		t.Errorf("a paced connection's file descriptor: %v", err)
	}
	// Using a connection again gives back nothing more.
	accepted[0].Close()
	if len(ln.pace) != k {
		t.Errorf("%d tokens held, want %d: the new connection's, and the other untouched ones'", len(ln.pace), k)
	}
}
