package host

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dohost/dohost/host/internal/guest"
	"github.com/gorilla/websocket"
)

// The WebSocket probe in every language with an SDK (testdata/guests/
// wsprobe, wsprobe-c, wsprobe-rust, wsprobe-as, and wsprobe-js on the
// JavaScript runtime): the same commands and answers, so that one
// conversation holds each SDK to the same behaviour.

// wsProbeWasm builds the WebSocket probe of lang (for JavaScript, the
// Worker's source, which the host bundles and runs on the runtime).
func wsProbeWasm(t testing.TB, lang string) string {
	t.Helper()
	switch lang {
	case "go":
		return guestWasm(t, "testdata/guests/wsprobe")
	case "js":
		jsOptions(t) // the runtime, built and compiled; servers take it from there
		return filepath.Join(repoRoot(), "testdata/guests/wsprobe-js/index.js")
	}
	return sdkGuestWasm(t, lang, "testdata/guests/wsprobe-"+lang)
}

const wsProbeConfig = `
name = "wsprobe"

[durable_objects]
bindings = [{ name = "WSPROBE", class_name = "WSProbe" }]
`

// startWSProbe serves the WebSocket probe of lang with o, and extra
// appended to its config.
func startWSProbe(t *testing.T, lang string, o Options, extra string) *testServer {
	t.Helper()
	dir := t.TempDir()
	o.DataDir = dir + "/data"
	return startServerOpts(t, o, writeConfig(t, dir, wsProbeWasm(t, lang), wsProbeConfig+extra))
}

// wsClient is one client of a probe: its connection and its socket id.
type wsClient struct {
	t  *testing.T
	c  *websocket.Conn
	id int
}

// join connects to path (a room and tags) and reads the welcome.
func join(t *testing.T, ts *testServer, path string) *wsClient {
	t.Helper()
	return welcomed(t, dialWS(t, ts, path))
}

// welcomed reads the welcome of c, a new connection to the probe.
func welcomed(t *testing.T, c *websocket.Conn) *wsClient {
	t.Helper()
	w := readText(t, c)
	id, err := strconv.Atoi(strings.TrimPrefix(w, "welcome "))
	if err != nil {
		t.Fatalf("first message %q, want welcome <id>", w)
	}
	return &wsClient{t: t, c: c, id: id}
}

// say sends a command.
func (w *wsClient) say(cmd string) {
	w.t.Helper()
	sendText(w.t, w.c, cmd)
}

// hear reads the next message, which must be want.
func (w *wsClient) hear(want string) {
	w.t.Helper()
	if got := readText(w.t, w.c); got != want {
		w.t.Fatalf("client %d heard %q, want %q", w.id, got, want)
	}
}

// ask sends cmd and expects the answer want.
func (w *wsClient) ask(cmd, want string) {
	w.t.Helper()
	w.say(cmd)
	w.hear(want)
}

// TestWS_Conformance: one conversation, the same in every language —
// accept with tags, send, broadcast to a tag and to all but one, list,
// attachments, the calls' errors, auto-response, a failed and a trapped
// handler (whose frames never leave), a client's close and the object's.
func TestWS_Conformance(t *testing.T) {
	for _, lang := range wsProbeLangs {
		t.Run(lang, func(t *testing.T) { testWSConformance(t, lang) })
	}
}

func testWSConformance(t *testing.T, lang string) {
	{
		ts := startWSProbe(t, lang, Options{}, "")
		a := join(t, ts, "/?tags=x,y")
		b := join(t, ts, "/?tags=y")
		c := join(t, ts, "/")
		if a.id == 0 || a.id == b.id || b.id == c.id {
			t.Fatalf("socket ids %d %d %d", a.id, b.id, c.id)
		}
		a.ask("whoami", fmt.Sprintf("you %d", a.id))
		a.ask("list -", fmt.Sprintf("list %d:x,y %d:y %d:", a.id, b.id, c.id))
		a.ask("list y", fmt.Sprintf("list %d:x,y %d:y", a.id, b.id))

		a.say("bcast y hi")
		a.hear("hi")
		a.hear("sent 2")
		b.hear("hi")
		c.ask("whoami", fmt.Sprintf("you %d", c.id)) // c heard nothing before
		a.say("bcastx yo")
		a.hear("sent 2")
		b.hear("yo")
		c.hear("yo")

		if err := a.c.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2, 255}); err != nil {
			t.Fatal(err)
		}
		if typ, got := readWS(t, a.c); typ != websocket.BinaryMessage || got != "\x00\x01\x02\xff" {
			t.Fatalf("binary echo: type %d %q", typ, got)
		}

		a.ask("attach alice", "ok")
		a.ask("getattach", "attach alice")
		b.ask(fmt.Sprintf("getattach %d", a.id), "attach alice")
		b.ask("getattach", "attach ")
		// A send to no socket, close code 1001, a 3000-byte attachment,
		// ws_accept outside a fetch: INVALID, INVALID, TOO_LARGE, BAD_STATE.
		// JavaScript's WebSocket names no socket: a send on one not
		// accepted is the runtime's TypeError, before any host call.
		if lang == "js" {
			a.ask("errors", "errors type 6 5 9")
		} else {
			a.ask("errors", "errors 6 6 5 9")
		}

		a.ask("autotime", "autotime none")
		a.ask("auto ping pong", "ok")
		before := time.Now().UnixMilli()
		a.ask("ping", "pong")
		a.say("autotime")
		got := readText(t, a.c)
		ms, err := strconv.ParseInt(strings.TrimPrefix(got, "autotime "), 10, 64)
		if err != nil || ms < before-1000 || ms > time.Now().UnixMilli()+1000 {
			t.Fatalf("autotime answered %q, want a time near %d", got, before)
		}

		// A failed handler's frames never leave; the socket stays.
		a.say("fail")
		a.ask("whoami", fmt.Sprintf("you %d", a.id))
		a.ask("store v1", "stored v1")

		// The object's plain requests.
		if _, body := ts.get(t, "/accept"); body != "err 9" {
			t.Fatalf("/accept: %q, want BAD_STATE", body)
		}
		if _, body := ts.get(t, "/list?tag=y"); body != fmt.Sprintf("list %d:x,y %d:y", a.id, b.id) {
			t.Fatalf("/list: %q", body)
		}
		if _, body := ts.get(t, "/broadcast?tag=x&msg=hey"); body != "sent 1" {
			t.Fatalf("/broadcast: %q", body)
		}
		a.hear("hey")

		// A client closes: the others hear of it, with its attachment.
		c.ask("attach carol", "ok")
		if err := c.c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye")); err != nil {
			t.Fatal(err)
		}
		a.hear(fmt.Sprintf("closed %d 4001 1 carol", c.id))
		b.hear(fmt.Sprintf("closed %d 4001 1 carol", c.id))

		// The object closes a socket: its client gets the code and reason;
		// no close handler runs for it.
		a.say("close 4002 done")
		if ce := readClose(t, a.c); ce.Code != 4002 || ce.Text != "done" {
			t.Fatalf("close: %d %q", ce.Code, ce.Text)
		}
		b.ask("list -", fmt.Sprintf("list %d:y", b.id))

		// A trap: its frames never leave, the socket stays open, a new
		// instance serves the next message.
		b.say("trap")
		b.ask("whoami", fmt.Sprintf("you %d", b.id))
		b.ask("mem", "mem 2")
		if !strings.Contains(ts.logs.String(), "trapped") {
			t.Fatalf("the trap is not in the log")
		}
	}
}

// TestWS_Hibernation: an object whose only work is open sockets is
// evicted; its sockets stay with their tags and attachments; the next
// message starts a new instance (constructor first) and is delivered; an
// auto-response is answered without waking it. The eviction is the
// memory reclaimer's, the one the idle sweep makes too: with a short
// IdleTimeout a busy machine evicted the object between two messages,
// and the instance's count of them came out one short.
func TestWS_Hibernation(t *testing.T) {
	ts := startWSProbe(t, "go", Options{TrimAfter: 20 * time.Millisecond}, "")
	a := join(t, ts, "/?tags=x")
	b := join(t, ts, "/?tags=y")
	a.ask("attach alice", "ok")
	a.ask("auto ping pong", "ok")
	a.ask("mem", "mem 3")
	waitFor(t, "the object to hibernate", func() bool {
		ts.objects.ReclaimMemory("") // once its last message's turn has ended
		st := ts.Stats()
		return st.ObjectsLive == 0 && st.ObjectsHibernating == 1
	})
	started := ts.Stats().ObjectsStarted
	if st := ts.Stats(); st.WebSockets.Open != 2 {
		t.Fatalf("%d sockets open while hibernating, want 2", st.WebSockets.Open)
	}

	a.ask("ping", "pong")
	if st := ts.Stats(); st.ObjectsStarted != started || st.ObjectsLive != 0 {
		t.Fatalf("the auto-response woke the object: started %d → %d, live %d", started, st.ObjectsStarted, st.ObjectsLive)
	}

	a.ask("getattach", "attach alice")
	if st := ts.Stats(); st.ObjectsStarted != started+1 {
		t.Fatalf("a message to a hibernating object: started %d → %d, want one more", started, st.ObjectsStarted)
	}
	a.ask("mem", "mem 2") // a new instance: its second message
	b.ask("list -", fmt.Sprintf("list %d:x %d:y", a.id, b.id))
}

// TestWS_Limits: a message over the limit closes its client with 1009 and
// tells the object; a send over it fails; the object's and the host's
// caps of sockets refuse the next accept.
func TestWS_Limits(t *testing.T) {
	ts := startWSProbe(t, "go", Options{}, `
[limits]
websocket_message_bytes = 1024
websockets_per_object = 2

[dohost]
max_websockets = 3
`)
	a := join(t, ts, "/?room=one")
	b := join(t, ts, "/?room=one")
	b.ask("attach bob", "ok")
	a.ask("big 1024", strings.Repeat("b", 1024))
	a.ask("big 1025", "err 5")

	// The object's cap: a third socket in room one is refused (the
	// probe answers TOO_LARGE from ws_accept with 400).
	dialRefused(t, ts, "/?room=one", http.StatusBadRequest)
	// The host's cap (all of it this one account's, the host's only):
	// room two takes the third, not a fourth.
	join(t, ts, "/?room=two")
	dialRefused(t, ts, "/?room=two", http.StatusBadRequest)

	// A message over the limit: 1009 for its client, an error event for
	// the object (announced to the others).
	if err := b.c.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", 1025))); err != nil {
		t.Fatal(err)
	}
	if ce := readClose(t, b.c); ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("over-long message: close %d, want 1009", ce.Code)
	}
	a.hear(fmt.Sprintf("error %d bob", b.id))
	st := ts.Stats().WebSockets
	if st.TooBig != 1 || st.Refused != 2 {
		t.Fatalf("stats: %+v", st)
	}
}

// TestWS_SlowConsumer: a client that does not read is closed with 1013
// once it falls too far behind; the object and the other clients go on.
func TestWS_SlowConsumer(t *testing.T) {
	ts := startWSProbe(t, "go", Options{}, "\n[limits]\nwebsocket_message_bytes = 1048576\n")
	sender := join(t, ts, "/")
	fast := join(t, ts, "/")
	slow := join(t, ts, "/")
	slow.ask("attach slow", "ok")
	// Rounds of 4 MiB to each of the others: the fast client reads each
	// before the next; the slow one falls behind by more than the
	// kernel's buffers and its queue (16 MiB) hold.
	const rounds, n = 12, 4
	for r := 0; r < rounds && ts.Stats().WebSockets.TooSlow == 0; r++ {
		sender.ask(fmt.Sprintf("flood %d %d", n, 1<<20), fmt.Sprintf("sent %d", n))
		for i := 0; i < n; i++ {
			_ = fast.c.SetReadDeadline(time.Now().Add(wsWait))
			_, b, err := fast.c.ReadMessage()
			if err != nil || len(b) != 1<<20 {
				t.Fatalf("fast client, round %d, message %d: %d bytes, %v", r, i, len(b), err)
			}
		}
	}
	// The slow client reads again: after what reached it, the close.
	if ce := readClose(t, slow.c); ce.Code != websocket.CloseTryAgainLater {
		t.Fatalf("slow client: close %d, want 1013", ce.Code)
	}
	fast.hear(fmt.Sprintf("error %d slow", slow.id))
	sender.hear(fmt.Sprintf("error %d slow", slow.id))
	if st := ts.Stats().WebSockets; st.TooSlow != 1 {
		t.Fatalf("stats: %+v", st)
	}
	sender.ask("whoami", fmt.Sprintf("you %d", sender.id))
}

// TestWS_DisconnectMidBroadcast: a client that drops its connection while
// a broadcast is under way costs the others nothing, and the object hears
// it was lost (1006, not clean).
func TestWS_DisconnectMidBroadcast(t *testing.T) {
	ts := startWSProbe(t, "go", Options{}, "")
	sender := join(t, ts, "/")
	stay := join(t, ts, "/")
	gone := join(t, ts, "/")
	gone.ask("attach gone", "ok")
	const n = 200
	sender.say(fmt.Sprintf("flood %d %d", n, 1000))
	readWS(t, gone.c) // the broadcast is under way
	_ = gone.c.NetConn().Close()
	for i := 0; i < n; i++ {
		_ = stay.c.SetReadDeadline(time.Now().Add(wsWait))
		_, b, err := stay.c.ReadMessage()
		if err != nil || len(b) != 1000 {
			t.Fatalf("message %d: %d bytes, %v", i, len(b), err)
		}
	}
	sender.hear(fmt.Sprintf("sent %d", n))
	stay.hear(fmt.Sprintf("closed %d 1006 0 gone", gone.id))
}

// TestWS_AcceptThenFail: a socket accepted by a handler that fails is
// dropped: the client gets the error, nothing stays open.
func TestWS_AcceptThenFail(t *testing.T) {
	ts := startWSProbe(t, "go", Options{}, "")
	resp := dialRefused(t, ts, "/?fail=1", http.StatusInternalServerError)
	if resp.Header.Get(RequestIDHeader) == "" {
		t.Fatal("no request id")
	}
	waitFor(t, "the socket to be dropped", func() bool { return ts.Stats().WebSockets.Open == 0 })
	a := join(t, ts, "/")
	a.ask("list -", fmt.Sprintf("list %d:", a.id))
}

// TestWS_Shutdown: a host that shuts down closes every socket with 1012.
func TestWS_Shutdown(t *testing.T) {
	ts := startWSProbe(t, "go", Options{}, "")
	a := join(t, ts, "/")
	b := join(t, ts, "/?room=other")
	ts.stop(t)
	for _, c := range []*wsClient{a, b} {
		if ce := readClose(t, c.c); ce.Code != websocket.CloseServiceRestart {
			t.Fatalf("close %d, want 1012", ce.Code)
		}
	}
}

// TestWS_UpgradeWithoutAccept: a Worker that answers 101 without an
// object accepting is a 500; a plain request to the chat is unaffected.
func TestWS_NotAnUpgrade(t *testing.T) {
	ts := startWSProbe(t, "go", Options{}, "")
	if status, body := ts.get(t, "/list"); status != 200 || body != "list" {
		t.Fatalf("/list: %d %q", status, body)
	}
}

// TestWS_HostBuffers: the host's budget of unsent messages, all sockets
// together, closes a client that falls behind once it is spent, long
// before the client's own queue would: what a tenant's slow clients can
// make the host hold is bounded.
func TestWS_HostBuffers(t *testing.T) {
	ts := startWSProbe(t, "go", Options{Limits: Limits{WebSocketBuffers: 3 << 20}}, "\n[limits]\nwebsocket_message_bytes = 1048576\n")
	sender := join(t, ts, "/")
	fast := join(t, ts, "/")
	slow := join(t, ts, "/")
	slow.ask("attach slow", "ok")
	for r := 0; r < 40 && ts.Stats().WebSockets.TooSlow == 0; r++ {
		sender.ask("flood 1 1048576", "sent 1")
		_ = fast.c.SetReadDeadline(time.Now().Add(wsWait))
		if _, b, err := fast.c.ReadMessage(); err != nil || len(b) != 1<<20 {
			t.Fatalf("fast client, round %d: %d bytes, %v", r, len(b), err)
		}
	}
	if ce := readClose(t, slow.c); ce.Code != websocket.CloseTryAgainLater {
		t.Fatalf("slow client: close %d, want 1013", ce.Code)
	}
	fast.hear(fmt.Sprintf("error %d slow", slow.id))
	if !strings.Contains(ts.logs.String(), "send buffers are full") {
		t.Fatal("the log does not say the host's buffers were full")
	}
	waitFor(t, "the queues to drain", func() bool { return ts.Stats().WebSockets.QueuedBytes == 0 })
}

// twoAccountsWS serves the WebSocket probe with o for two accounts, a
// under /a/ and b under /b/, each config with extra appended.
func twoAccountsWS(t *testing.T, o Options, extra string) *testServer {
	t.Helper()
	dir := t.TempDir()
	wasm := wsProbeWasm(t, "go")
	conf := func(account, routes string) string {
		d := filepath.Join(dir, account)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return writeConfig(t, d, wasm, "account_id = \""+account+"\"\nroutes = ["+routes+"]\n"+wsProbeConfig+extra)
	}
	o.DataDir = filepath.Join(dir, "data")
	return startServerOpts(t, o, conf("a", `"*/a/*"`), conf("b", `"*/b/*"`))
}

// TestWS_AccountShare: on a host serving two accounts, one account holds
// at most half of max_websockets; the other still gets its half.
func TestWS_AccountShare(t *testing.T) {
	ts := twoAccountsWS(t, Options{}, "\n[dohost]\nmax_websockets = 4\n")
	join(t, ts, "/a/?room=1")
	join(t, ts, "/a/?room=2")
	// Account a's third socket of the host's four is refused: the probe's
	// 400 for TOO_LARGE.
	dialRefused(t, ts, "/a/?room=3", http.StatusBadRequest)
	join(t, ts, "/b/?room=1")
	join(t, ts, "/b/?room=2")
}

// TestWS_SendShare: frames that one account's clients are slow to take
// hold at most half the host's budget of unsent bytes, when the host
// serves several accounts: with room for 40 MiB, two 16 MiB messages
// stuck on clients of account a that do not read leave a's next send
// refused (OVERLOADED: the probe's welcome to a new client, and the
// upgrade fails), and account b's sends go out. Without the share, a's
// next send went out, and the next, until the host's budget was spent
// and every account's sends were refused.
func TestWS_SendShare(t *testing.T) {
	const big = 16 << 20
	ts := twoAccountsWS(t, Options{Limits: Limits{WebSocketBuffers: 40 << 20}}, "\n[limits]\nwebsocket_message_bytes = 16777216\n")
	for i := 0; i < 2; i++ {
		join(t, ts, "/a/?room=1").say(fmt.Sprintf("big %d", big)) // and never read it
	}
	// Each is written until the client's socket buffers are full, and
	// counts until it is written whole.
	waitFor(t, "a's two messages queued", func() bool { return ts.Stats().WebSockets.QueuedBytes >= 2*big })
	// The metrics show the account's share at work.
	admin := httptest.NewServer(ts.AdminHandler(nil))
	defer admin.Close()
	mf := scrape(t, admin)
	unsent := map[string]string{"account": "a", "resource": "websocket_unsent_bytes"}
	if got := value(t, mf, "dohost_account_budget_used", unsent); got < 2*big {
		t.Errorf("account a's unsent bytes: %v, want at least %d", got, 2*big)
	}
	if got := value(t, mf, "dohost_account_budget_limit", unsent); got != 20<<20 {
		t.Errorf("account a's share of unsent bytes: %v, want 20 MiB", got)
	}
	if got := value(t, mf, "dohost_host_budget_limit", map[string]string{"resource": "websocket_inbound_bytes"}); got != 40<<20 {
		t.Errorf("the host's budget of received messages: %v, want 40 MiB", got)
	}
	dialRefused(t, ts, "/a/?room=2", http.StatusInternalServerError)
	if !strings.Contains(ts.logs.String(), "overloaded: the account's share of the host's WebSocket send buffers is full") {
		t.Fatal("the log does not say why account a's send failed")
	}
	b := join(t, ts, "/b/?room=1")
	b.say("big 1000")
	if got := readText(t, b.c); got != strings.Repeat("b", 1000) {
		t.Fatalf("account b's message: %d bytes %.20q…, want 1000 b", len(got), got)
	}
}

// TestWS_MessageBatch: messages that arrive for an object while it is
// busy run together, one handler call after the other, with one commit:
// four clients' messages held back behind the first give one commit for
// those that write, each writer hears its answer, and each handler that
// trapped sends nothing (its "never") and loses its own writes, not the
// others': the last write that stands is the second store's, not the
// trapped one's after it. A trapped call's instance is replaced for the
// next message, in the same batch.
func TestWS_MessageBatch(t *testing.T) {
	hold, entered, gate := holdFirstBatch(guest.WSMessage)
	ts := startWSProbe(t, "go", Options{beforeBatch: hold, batchTime: time.Hour}, "")
	admin := httptest.NewServer(ts.AdminHandler(nil))
	defer admin.Close()
	a, b, c, d := join(t, ts, "/"), join(t, ts, "/"), join(t, ts, "/"), join(t, ts, "/")
	commits := func() float64 {
		return value(t, scrape(t, admin), "dohost_commit_duration_seconds", nil)
	}
	before := commits()
	a.say("store 1")
	<-entered // a's message waits for its batch to be taken
	b.say("trap")
	waitFor(t, "b's message waiting", func() bool { return ts.Stats().ObjectsWaiting == 2 })
	c.say("store 2")
	waitFor(t, "c's message waiting", func() bool { return ts.Stats().ObjectsWaiting == 3 })
	d.say("storetrap 9")
	waitFor(t, "the four messages waiting", func() bool { return ts.Stats().ObjectsWaiting == 4 })
	close(gate)
	a.hear("stored 1")
	c.hear("stored 2")
	if n := commits() - before; n != 1 {
		t.Errorf("%v commits for a batch of four messages, want 1", n)
	}
	b.ask("whoami", fmt.Sprintf("you %d", b.id)) // not "never"
	d.ask("last", "last 2")                      // not "never", nor 9
	if got := ts.Stats().ObjectsFailed; got != 2 {
		t.Errorf("%d instances replaced after a trap, want 2", got)
	}
}

// stallMessage has w begin a text message of which it sends only the
// first fragments, and never the rest. w's connection must have been
// dialed with a small write buffer (stallDialer).
func stallMessage(t *testing.T, w *wsClient) {
	t.Helper()
	mw, err := w.c.NextWriter(websocket.TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	// Past the 1 KiB buffer, each KiB goes out as a fragment.
	if _, err := mw.Write(make([]byte, 8<<10)); err != nil {
		t.Fatal(err)
	}
}

// joinStalling joins path with a client whose messages go out in 1 KiB
// fragments, for stallMessage.
func joinStalling(t *testing.T, ts *testServer, path string) *wsClient {
	t.Helper()
	d := websocket.Dialer{WriteBufferSize: 1024}
	c, _, err := d.Dial(wsURL(ts, path), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return welcomed(t, c)
}

// TestWS_StalledMessages: a message being read holds a place in the
// host's budget of received messages, at the message limit, so clients
// that stop in the middle of one could hold all of it, and every other
// tenant's clients would go unread. One account's messages hold at most
// half the budget: with room for four messages on the host, four stalled
// ones of account a leave account b's clients read at once.
func TestWS_StalledMessages(t *testing.T) {
	ts := twoAccountsWS(t, Options{Limits: Limits{WebSocketBuffers: 4 << 20}, WebSocketMessageTimeout: time.Hour}, "")
	for i := 0; i < 4; i++ {
		stallMessage(t, joinStalling(t, ts, "/a/?room=1"))
	}
	// Each of the four is read up to its stall, or waits for room.
	waitFor(t, "a's four messages begun", func() bool {
		ws := ts.Stats().WebSockets
		return ws.InboundBytes/(1<<20)+ws.InboundWaiting == 4
	})
	b := join(t, ts, "/b/?room=1")
	b.ask("whoami", fmt.Sprintf("you %d", b.id))
}

// TestWS_MessageTimeout: a client that stops in the middle of a message
// is closed with 1008 once the message timeout has passed, its object
// hears of it as an error, and its account's share of the budget is free
// again; a client that only pinged meanwhile is not closed.
func TestWS_MessageTimeout(t *testing.T) {
	ts := twoAccountsWS(t, Options{Limits: Limits{WebSocketBuffers: 4 << 20}, WebSocketMessageTimeout: 2 * time.Second}, "")
	watcher := join(t, ts, "/a/?room=1")
	// A ping is not a message begun: the watcher, quiet past the
	// timeout after it, stays.
	if err := watcher.c.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(wsWait)); err != nil {
		t.Fatal(err)
	}
	var stalled []*wsClient
	for i := 0; i < 2; i++ {
		w := joinStalling(t, ts, "/a/?room=1")
		stallMessage(t, w)
		stalled = append(stalled, w)
	}
	for _, w := range stalled {
		if ce := readClose(t, w.c); ce.Code != websocket.ClosePolicyViolation {
			t.Fatalf("stalled client: close %d %q, want 1008", ce.Code, ce.Text)
		}
	}
	heard := map[string]bool{}
	for range stalled {
		heard[readText(t, watcher.c)] = true
	}
	for _, w := range stalled {
		if want := fmt.Sprintf("error %d ", w.id); !heard[want] {
			t.Fatalf("the object's error events %v, want %q", heard, want)
		}
	}
	if n := ts.Stats().WebSockets.Stalled; n != 2 {
		t.Fatalf("Stats: %d stalled, want 2", n)
	}
	if !strings.Contains(ts.logs.String(), "a message took over 2s to arrive") {
		t.Fatal("the log does not say why the clients were closed")
	}
	// The account's share is free: its messages are read again.
	watcher.ask("whoami", fmt.Sprintf("you %d", watcher.id))
	other := join(t, ts, "/a/?room=2")
	other.ask("whoami", fmt.Sprintf("you %d", other.id))
}
