package host

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wsWait bounds each wait of a WebSocket test for a frame that must come:
// a safety net for a broken host, not a timing assertion.
const wsWait = 30 * time.Second

// wsURL is the WebSocket URL of path on ts.
func wsURL(ts *testServer, path string) string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + path
}

// dialRefused dials path on ts, whose upgrade must be refused with status;
// it returns the refusal.
func dialRefused(t testing.TB, ts *testServer, path string, status int) *http.Response {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(wsURL(ts, path), nil)
	if err == nil {
		c.Close()
		t.Fatalf("dial %s: accepted, want a refusal with %d", path, status)
	}
	if resp == nil || resp.StatusCode != status {
		t.Fatalf("dial %s: %v %v, want %d", path, err, resp, status)
	}
	return resp
}

// dialWS opens a WebSocket to path on ts.
func dialWS(t testing.TB, ts *testServer, path string) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(wsURL(ts, path), nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", path, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readWS reads the next message of c.
func readWS(t testing.TB, c *websocket.Conn) (int, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wsWait))
	typ, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return typ, string(b)
}

// readText reads the next message of c, which must be text.
func readText(t testing.TB, c *websocket.Conn) string {
	t.Helper()
	typ, s := readWS(t, c)
	if typ != websocket.TextMessage {
		t.Fatalf("read a message of type %d, want text: %q", typ, s)
	}
	return s
}

// sendText sends a text message on c.
func sendText(t testing.TB, c *websocket.Conn, s string) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatalf("send %q: %v", s, err)
	}
}

// readClose reads until c is closed and returns the close error.
func readClose(t testing.TB, c *websocket.Conn) *websocket.CloseError {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wsWait))
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			ce, ok := err.(*websocket.CloseError)
			if !ok {
				t.Fatalf("read: %v, want a close frame", err)
			}
			return ce
		}
		if len(b) > 64 {
			b = b[:64]
		}
		t.Logf("(a message before the close: %q…)", b)
	}
}

// TestChat_Flow: the chat example, in Go and in JavaScript — every message stored and sent to every
// client of the room, the sender included; a client that joins gets the
// stored messages first, oldest first; "ping" answered by the host
// without waking the room.
func TestChat_Flow(t *testing.T) {
	for _, example := range []string{"chat", "chat-js"} {
		t.Run(example, func(t *testing.T) { chatFlow(t, exampleServer(t, example)) })
	}
}

func chatFlow(t *testing.T, ts *testServer) {
	a := dialWS(t, ts, "/?room=lobby")
	sendText(t, a, "hello")
	if got := readText(t, a); got != "hello" {
		t.Fatalf("sender got %q, want its own message", got)
	}
	sendText(t, a, "world")
	readText(t, a)

	b := dialWS(t, ts, "/?room=lobby")
	for _, want := range []string{"hello", "world"} {
		if got := readText(t, b); got != want {
			t.Fatalf("joiner got %q, want the history's %q", got, want)
		}
	}
	sendText(t, b, "hi from b")
	for _, c := range []*websocket.Conn{a, b} {
		if got := readText(t, c); got != "hi from b" {
			t.Fatalf("got %q, want the broadcast", got)
		}
	}

	// Another room hears nothing of this one.
	other := dialWS(t, ts, "/?room=kitchen")
	sendText(t, other, "in the kitchen")
	if got := readText(t, other); got != "in the kitchen" {
		t.Fatalf("got %q", got)
	}

	started := ts.Stats().ObjectsStarted
	sendText(t, a, "ping")
	if got := readText(t, a); got != "pong" {
		t.Fatalf("ping got %q, want pong", got)
	}
	if st := ts.Stats(); st.ObjectsStarted != started || st.WebSockets.AutoResponses != 1 {
		t.Fatalf("auto-response: started %d → %d, auto-responses %d", started, st.ObjectsStarted, st.WebSockets.AutoResponses)
	}

	// The seed's case: one KV read, sent to every client of the room.
	req, _ := http.NewRequest("PUT", ts.URL+"/kv?key=news", strings.NewReader("hello all"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT /kv: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if status, body := ts.do(t, "POST", "/announce?room=lobby&key=news"); status != 200 || body != `{"sent":2}` {
		t.Fatalf("announce: %d %s", status, body)
	}
	for _, c := range []*websocket.Conn{a, b} {
		if got := readText(t, c); got != "hello all" {
			t.Fatalf("got %q, want the announcement", got)
		}
	}

	var hist struct{ Messages []string }
	ts.getJSON(t, "/?room=lobby", http.StatusOK, &hist)
	if strings.Join(hist.Messages, ",") != "hello,world,hi from b" {
		t.Fatalf("stored history %q", hist.Messages)
	}
}
