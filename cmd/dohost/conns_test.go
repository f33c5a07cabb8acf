package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConns_IdleFlood: with an open-files limit of 300, a client holds 400
// kept-alive idle connections. dohost caps its connections below the
// limit and closes the longest idle ones to make room, so a new client is
// served; it used to run out of files, fail every accept, and leave every
// new client of every tenant waiting until the idle ones went.
func TestConns_IdleFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("runs dohost as a child process")
	}
	dir := t.TempDir()
	cfg := buildGuest(t, dir, "guests/examples/counter", `name = "counter"
[durable_objects]
bindings = [{ name = "COUNTERS", class_name = "Counter" }]
`)
	c := startChild(t, cfg, filepath.Join(dir, "data"), "ulimit -n 300")
	addr := strings.TrimPrefix(c.url, "http://")
	var idle []net.Conn
	defer func() {
		for _, conn := range idle {
			conn.Close()
		}
	}()
	for i := 0; i < 400; i++ {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		idle = append(idle, conn)
		fmt.Fprint(conn, "GET /?name=n HTTP/1.1\r\nHost: x\r\n\r\n")
		// Read the answer when there is one: a connection the host closed
		// to make room answers nothing more.
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
			resp.Body.Close()
		}
	}
	// A new client, with the 400 still open on its side: served. (The
	// client timeout is a backstop against a hang, not a speed target.)
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Get(c.url + "/?name=n")
	if err != nil {
		t.Fatalf("a new client after 400 idle connections: %v\n%s", err, c.logs)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("a new client after 400 idle connections: %d", resp.StatusCode)
	}
}
