// Command room is the seed example, Cloudflare's "Use KV from Durable
// Objects", as a dohost guest: the Worker reads ?roomId=, routes the request
// to the object of that name, and the object reads and writes the KV key
// last-room and counts its requests in memory.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o room.wasm .
package main

import (
	"github.com/dohost/dohost/guests/go/dohost"
)

func init() {
	dohost.Handle(fetch)
	dohost.RegisterClass("YourDurableObject", newYourDurableObject)
}

// main is required by the Go toolchain; a reactor's main never runs.
func main() {}

// fetch is the Worker: it picks the object by room name and forwards the
// request to it.
func fetch(req *dohost.Request, env *dohost.Env) (*dohost.Response, error) {
	roomID := req.URL.Query().Get("roomId")
	if roomID == "" {
		return dohost.JSON(400, map[string]string{"error": "missing roomId query parameter: try /?roomId=lobby"}), nil
	}
	ns := env.DurableObject("YOUR_DO_CLASS")
	id, err := ns.IDFromName(roomID)
	if err != nil {
		return nil, err
	}
	return ns.Get(id).Fetch(req)
}

// YourDurableObject is one room.
type YourDurableObject struct {
	kv       *dohost.KVNamespace
	requests int // in memory only: starts over when the object restarts
}

func newYourDurableObject(state *dohost.State, env *dohost.Env) dohost.Object {
	return &YourDurableObject{kv: env.KV("YOUR_KV_NAMESPACE")}
}

type reply struct {
	Room         string  `json:"room"`
	PreviousRoom *string `json:"previousRoom"`
	Requests     int     `json:"requests"`
}

// Fetch reads the last room any request went to, records this one, and
// answers with both and this room's request count.
func (o *YourDurableObject) Fetch(req *dohost.Request) (*dohost.Response, error) {
	room := req.URL.Query().Get("roomId")
	prev, ok, err := o.kv.Get("last-room")
	if err != nil {
		return nil, err
	}
	if err := o.kv.Put("last-room", []byte(room)); err != nil {
		return nil, err
	}
	o.requests++
	r := reply{Room: room, Requests: o.requests}
	if ok {
		s := string(prev)
		r.PreviousRoom = &s
	}
	return dohost.JSON(200, r), nil
}
