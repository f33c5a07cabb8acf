// Command chat is a WebSocket chat room per Durable Object, on the
// Hibernation API: a client connects to ws://HOST/?room=R; every text
// message a client sends is stored (the last 50 are kept in the room's
// storage) and sent unchanged to every client of the room, the sender
// included; a client that joins first receives the stored messages, oldest
// first. "ping" is answered "pong" by the host without waking the room.
//
// GET /?room=R (without upgrading) answers the stored messages as JSON;
// PUT /kv?key=K stores the body in the KV namespace; POST
// /announce?room=R&key=K reads the KV key K once and broadcasts its value
// to every client of the room (the seed's case: one read, fanned out by
// the host).
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o chat.wasm .
package main

import (
	"encoding/binary"
	"fmt"

	"github.com/dohost/dohost/guests/go/dohost"
)

func init() {
	dohost.Handle(fetch)
	dohost.RegisterClass("ChatRoom", newChatRoom)
}

func main() {}

// fetch routes the request to the room named by ?room=.
func fetch(req *dohost.Request, env *dohost.Env) (*dohost.Response, error) {
	if req.URL.Path == "/kv" {
		if req.Method != "PUT" {
			return dohost.Text(405, "PUT /kv?key=K with the value as the body\n"), nil
		}
		if err := env.KV("ANNOUNCEMENTS").Put(req.URL.Query().Get("key"), req.Body); err != nil {
			return nil, err
		}
		return dohost.Text(200, "stored\n"), nil
	}
	room := req.URL.Query().Get("room")
	if room == "" {
		return dohost.Text(400, "missing room query parameter: connect to ws://HOST/?room=lobby\n"), nil
	}
	ns := env.DurableObject("ROOMS")
	id, err := ns.IDFromName(room)
	if err != nil {
		return nil, err
	}
	return ns.Get(id).Fetch(req)
}

// keep is how many messages a room keeps.
const keep = 50

// ChatRoom is one room: its clients' sockets are held by the host, its
// last messages in its storage.
type ChatRoom struct {
	state *dohost.State
	kv    *dohost.KVNamespace
	seq   uint64 // the number of the last stored message
}

func newChatRoom(state *dohost.State, env *dohost.Env) dohost.Object {
	r := &ChatRoom{state: state, kv: env.KV("ANNOUNCEMENTS")}
	if err := state.SetWebSocketAutoResponse("ping", "pong"); err != nil {
		panic(err)
	}
	if b, ok, err := state.Storage().Get("seq"); err != nil {
		panic(err)
	} else if ok && len(b) == 8 {
		r.seq = binary.BigEndian.Uint64(b)
	}
	return r
}

// msgKey is the storage key of message n: keys sort in message order.
func msgKey(n uint64) string { return fmt.Sprintf("msg:%016x", n) }

// history returns the stored messages, oldest first.
func (r *ChatRoom) history() ([]string, error) {
	es, err := r.state.Storage().List(dohost.StorageListOptions{Prefix: "msg:"})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = string(e.Value)
	}
	return out, nil
}

// Fetch accepts a client's WebSocket and sends it the history, or answers
// the history as JSON, or broadcasts an announcement read from KV.
func (r *ChatRoom) Fetch(req *dohost.Request) (*dohost.Response, error) {
	if dohost.IsWebSocketUpgrade(req) {
		ws, err := r.state.AcceptWebSocket("chat")
		if err != nil {
			return nil, err
		}
		h, err := r.history()
		if err != nil {
			return nil, err
		}
		for _, m := range h {
			if err := ws.Send(m); err != nil {
				return nil, err
			}
		}
		return dohost.UpgradeResponse(), nil
	}
	if req.URL.Path == "/announce" {
		if req.Method != "POST" {
			return dohost.Text(405, "POST /announce?room=R&key=K\n"), nil
		}
		key := req.URL.Query().Get("key")
		v, ok, err := r.kv.Get(key)
		if err != nil {
			return nil, err
		}
		if !ok {
			return dohost.Text(404, "no such key\n"), nil
		}
		n, err := r.state.Broadcast("", dohost.WebSocket{}, string(v))
		if err != nil {
			return nil, err
		}
		return dohost.JSON(200, map[string]int{"sent": n}), nil
	}
	h, err := r.history()
	if err != nil {
		return nil, err
	}
	return dohost.JSON(200, map[string][]string{"messages": h}), nil
}

// WebSocketMessage stores a text message and sends it to every client.
func (r *ChatRoom) WebSocketMessage(ws dohost.WebSocket, msg dohost.Message) error {
	if msg.Binary {
		return ws.Close(4000, "text messages only")
	}
	st := r.state.Storage()
	next := r.seq + 1
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], next)
	puts := map[string][]byte{msgKey(next): msg.Data, "seq": seq[:]}
	if err := st.PutMulti(puts); err != nil {
		return err
	}
	if next > keep {
		if _, err := st.Delete(msgKey(next - keep)); err != nil {
			return err
		}
	}
	r.seq = next
	_, err := r.state.Broadcast("", dohost.WebSocket{}, msg.Text())
	return err
}

// WebSocketClose lets a client go.
func (r *ChatRoom) WebSocketClose(ws dohost.WebSocket, code int, reason string, wasClean bool) error {
	return nil
}
