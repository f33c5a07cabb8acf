// Command deployprobe is the guest the hot-deploy tests deploy. Its
// version and class name are set at build time (-ldflags "-X
// main.version=V -X main.class=C"), padded with "_" to a fixed length so
// that the tests can make each version from one build by rewriting the
// padded strings in the module:
//
//	POST /obj?name=N   adds one to N's stored value
//	GET  /obj?name=N   reads it
//
// GET /env?name=N answers the var or secret N. Both others answer
// {"version": V, "value": v, "calls": c}: the version the
// object runs, its stored value and the requests its instance has served
// since it started (which shows whether an object kept its instance).
// GET /obj?name=N with a WebSocket upgrade joins N's sockets; every text
// message is answered "V: message" by whichever version runs the object
// when it arrives.
package main

import (
	"strconv"
	"strings"

	"github.com/dohost/dohost/guests/go/dohost"
)

// version and class are set at build time, padded with "_".
var version, class = "dev", "Versioned"

func init() {
	version, class = strings.TrimRight(version, "_"), strings.TrimRight(class, "_")
	dohost.Handle(fetch)
	dohost.RegisterClass(class, newVersioned)
}

func main() {}

func fetch(req *dohost.Request, env *dohost.Env) (*dohost.Response, error) {
	switch req.URL.Path {
	case "/version":
		return dohost.Text(200, version), nil
	case "/env":
		v, _ := env.Var(req.URL.Query().Get("name"))
		return dohost.Text(200, v), nil
	}
	name := req.URL.Query().Get("name")
	if name == "" {
		return dohost.Text(400, "missing name\n"), nil
	}
	ns := env.DurableObject("OBJ")
	id, err := ns.IDFromName(name)
	if err != nil {
		return nil, err
	}
	return ns.Get(id).Fetch(req)
}

// Versioned keeps a value in storage and counts its instance's calls.
type Versioned struct {
	state *dohost.State
	calls int
}

func newVersioned(state *dohost.State, env *dohost.Env) dohost.Object {
	return &Versioned{state: state}
}

type reply struct {
	Version string `json:"version"`
	Value   int64  `json:"value"`
	Calls   int    `json:"calls"`
}

func (o *Versioned) Fetch(req *dohost.Request) (*dohost.Response, error) {
	if dohost.IsWebSocketUpgrade(req) {
		if _, err := o.state.AcceptWebSocket(); err != nil {
			return nil, err
		}
		return dohost.UpgradeResponse(), nil
	}
	o.calls++
	st := o.state.Storage()
	var v int64
	if b, ok, err := st.Get("value"); err != nil {
		return nil, err
	} else if ok {
		if v, err = strconv.ParseInt(string(b), 10, 64); err != nil {
			return nil, err
		}
	}
	if req.Method == "POST" {
		v++
		if err := st.Put("value", []byte(strconv.FormatInt(v, 10))); err != nil {
			return nil, err
		}
	}
	return dohost.JSON(200, reply{Version: version, Value: v, Calls: o.calls}), nil
}

func (o *Versioned) WebSocketMessage(ws dohost.WebSocket, msg dohost.Message) error {
	return ws.Send(version + ": " + msg.Text())
}
