package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestCrash_Chat runs the chat example with clients that each send a
// message and wait for it to come back (the room sends it only once it is
// stored), kills the host with SIGKILL, and checks that every client saw
// its connection close and that, after a restart on the same data
// directory, every message a client had back is in the room's history, in
// the order the room took them.
func TestCrash_Chat(t *testing.T) {
	if testing.Short() {
		t.Skip("runs dohost as a child process")
	}
	dir := t.TempDir()
	cfg := buildGuest(t, dir, "guests/examples/chat", `name = "chat"
[durable_objects]
bindings = [{ name = "ROOMS", class_name = "ChatRoom" }]
`)
	data := filepath.Join(dir, "data")
	c := startChild(t, cfg, data)
	wsURL := "ws" + strings.TrimPrefix(c.url, "http") + "/?room=crash"

	const clients = 4
	acked := make([]string, clients) // each client's last message it had back
	var total atomic.Int64
	progressed := make(chan struct{})
	closed := make(chan error, clients)
	var wg sync.WaitGroup
	for k := 0; k < clients; k++ {
		conn, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
		if err != nil {
			t.Fatalf("dial: %v\n%s", err, c.logs)
		}
		defer conn.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				msg := fmt.Sprintf("c%d-%d", k, n)
				if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
					closed <- err
					return
				}
				for {
					// A safety net against a hang: the kill closes the
					// connection, which ends the read at once.
					_ = conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
					_, b, err := conn.ReadMessage()
					if err != nil {
						closed <- err
						return
					}
					if string(b) == msg {
						break
					}
				}
				acked[k] = msg
				if total.Add(1) == killAfter {
					close(progressed)
				}
			}
		}()
	}
	waitProgress(t, progressed, c)
	c.kill(t)
	wg.Wait()
	for k := 0; k < clients; k++ {
		if err := <-closed; err == nil || strings.Contains(err.Error(), "timeout") {
			t.Fatalf("a client's connection did not end with the host: %v", err)
		}
	}

	c = startChild(t, cfg, data)
	code, body, err := do(&http.Client{}, "GET", c.url+"/?room=crash")
	if err != nil || code != 200 {
		t.Fatalf("history: %d %s %v", code, body, err)
	}
	var h struct{ Messages []string }
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatal(err)
	}
	for k, m := range acked {
		if m != "" && !slices.Contains(h.Messages, m) {
			t.Fatalf("client %d had %q back before the crash; the history after it is %q", k, m, h.Messages)
		}
	}
	// Each client's messages are in the order it sent them.
	last := map[string]int{}
	for _, m := range h.Messages {
		var k, n int
		if _, err := fmt.Sscanf(m, "c%d-%d", &k, &n); err != nil {
			t.Fatalf("history holds %q", m)
		}
		key := fmt.Sprint(k)
		if prev, ok := last[key]; ok && n != prev+1 {
			t.Fatalf("client %d's messages out of order in the history: %d after %d", k, n, prev)
		}
		last[key] = n
	}
	t.Logf("%d messages had back before SIGKILL; the history keeps %d", total.Load(), len(h.Messages))
}
