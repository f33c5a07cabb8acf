// Command counter is a Durable Object that keeps a counter in its durable
// storage. The Worker routes /?name=N to the object named N:
//
//	POST /?name=N               adds one and answers {"name": N, "value": v}
//	GET  /?name=N               answers the same without changing it
//	POST /?name=N&resetAfter=S  adds one and sets an alarm that resets the
//	                            counter to 0 after S seconds
//
// dohost commits the object's writes, synced to disk, before the response
// leaves: a value a client has seen survives a crash of the host.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o counter.wasm .
package main

import (
	"strconv"
	"time"

	"github.com/dohost/dohost/guests/go/dohost"
)

func init() {
	dohost.Handle(fetch)
	dohost.RegisterClass("Counter", newCounter)
}

func main() {}

func fetch(req *dohost.Request, env *dohost.Env) (*dohost.Response, error) {
	name := req.URL.Query().Get("name")
	if name == "" {
		return dohost.JSON(400, map[string]string{"error": "missing name query parameter: try POST /?name=visits"}), nil
	}
	ns := env.DurableObject("COUNTERS")
	id, err := ns.IDFromName(name)
	if err != nil {
		return nil, err
	}
	return ns.Get(id).Fetch(req)
}

// Counter is one named counter. Its value lives only in storage, so the
// object needs no state in memory.
type Counter struct {
	state *dohost.State
}

func newCounter(state *dohost.State, env *dohost.Env) dohost.Object {
	return &Counter{state: state}
}

type reply struct {
	Name  string `json:"name"`
	Value int64  `json:"value"`
}

func (c *Counter) value() (int64, error) {
	v, ok, err := c.state.Storage().Get("value")
	if err != nil || !ok {
		return 0, err
	}
	return strconv.ParseInt(string(v), 10, 64)
}

// Fetch serves GET and POST.
func (c *Counter) Fetch(req *dohost.Request) (*dohost.Response, error) {
	name, _ := c.state.ID().Name()
	st := c.state.Storage()
	v, err := c.value()
	if err != nil {
		return nil, err
	}
	switch req.Method {
	case "GET", "HEAD":
	case "POST":
		v++
		if err := st.Put("value", []byte(strconv.FormatInt(v, 10))); err != nil {
			return nil, err
		}
		if s := req.URL.Query().Get("resetAfter"); s != "" {
			secs, err := strconv.ParseFloat(s, 64)
			if err != nil || secs < 0 {
				return dohost.JSON(400, map[string]string{"error": "resetAfter must be a number of seconds"}), nil
			}
			if err := st.SetAlarm(time.Now().Add(time.Duration(secs * float64(time.Second)))); err != nil {
				return nil, err
			}
		}
	default:
		r := dohost.JSON(405, map[string]string{"error": "use GET or POST"})
		r.Header.Set("Allow", "GET, POST")
		return r, nil
	}
	return dohost.JSON(200, reply{Name: name, Value: v}), nil
}

// Alarm resets the counter.
func (c *Counter) Alarm(dohost.AlarmInfo) error {
	return c.state.Storage().Put("value", []byte("0"))
}
