// Command probe is a test guest that exercises every call of the dohost
// ABI through the Go SDK. The host's tests drive it over HTTP; each path is
// one operation:
//
//	/kv/get?key=K            /kv/put?key=K&value=V[&ttl=S][&meta=M]
//	/kv/putget?key=K&value=V (a put, then a get of the same key)
//	/kv/delete?key=K         /kv/list?prefix=P[&cursor=C][&limit=N]
//	/kv/nobinding            a KV call on a binding the config does not grant
//	/id/name?name=N          /id/unique        /id/parse?id=S
//	/obj/<op>?name=N         forward to object N (PROBE namespace), op as below
//
// Object operations: count (in-memory counter), info (its ID and name),
// panic (handler panics), exit (the guest exits: a trap), writeexit (a KV
// write, then exit), kvput?key=K&value=V, call?chain=A,B,… (call the next
// object in the chain), log?msg=M, big?n=N (an N-byte body).
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dohost/dohost/guests/go/dohost"
)

func init() {
	dohost.Handle(fetch)
	dohost.RegisterClass("Probe", newProbe)
	dohost.RegisterClass("Other", newProbe)
}

func main() {}

func fetch(req *dohost.Request, env *dohost.Env) (*dohost.Response, error) {
	q := req.URL.Query()
	kv := env.KV("KV")
	switch p := req.URL.Path; {
	case p == "/kv/get":
		v, ok, err := kv.Get(q.Get("key"))
		if err != nil {
			return nil, err
		}
		if !ok {
			return dohost.JSON(404, nil), nil
		}
		return dohost.JSON(200, string(v)), nil
	case p == "/kv/put":
		o := dohost.PutOptions{Metadata: []byte(q.Get("meta"))}
		if ttl := q.Get("ttl"); ttl != "" {
			n, _ := strconv.Atoi(ttl)
			o.ExpirationTTL = time.Duration(n) * time.Second
		}
		if err := kv.PutWithOptions(q.Get("key"), []byte(q.Get("value")), o); err != nil {
			return errorResponse(err), nil
		}
		return dohost.JSON(200, "ok"), nil
	case p == "/kv/putget":
		if err := kv.Put(q.Get("key"), []byte(q.Get("value"))); err != nil {
			return nil, err
		}
		v, _, err := kv.Get(q.Get("key"))
		if err != nil {
			return nil, err
		}
		return dohost.NewResponse(200, v), nil
	case p == "/kv/delete":
		if err := kv.Delete(q.Get("key")); err != nil {
			return errorResponse(err), nil
		}
		return dohost.JSON(200, "ok"), nil
	case p == "/kv/list":
		limit, _ := strconv.Atoi(q.Get("limit"))
		res, err := kv.List(dohost.ListOptions{Prefix: q.Get("prefix"), Cursor: q.Get("cursor"), Limit: limit})
		if err != nil {
			return errorResponse(err), nil
		}
		return dohost.JSON(200, res), nil
	case p == "/kv/nobinding":
		_, _, err := env.KV("NOPE").Get("x")
		return errorResponse(err), nil
	case p == "/id/name":
		id, err := env.DurableObject("PROBE").IDFromName(q.Get("name"))
		if err != nil {
			return nil, err
		}
		return dohost.JSON(200, id.String()), nil
	case p == "/id/unique":
		id, err := env.DurableObject("PROBE").NewUniqueID()
		if err != nil {
			return nil, err
		}
		return dohost.JSON(200, id.String()), nil
	case p == "/id/parse":
		id, err := env.DurableObject("PROBE").IDFromString(q.Get("id"))
		if err != nil {
			return errorResponse(err), nil
		}
		return dohost.JSON(200, id.String()), nil
	case strings.HasPrefix(p, "/obj/"):
		ns := env.DurableObject("PROBE")
		if q.Get("ns") == "other" {
			ns = env.DurableObject("OTHER")
		}
		id, err := ns.IDFromName(q.Get("name"))
		if err != nil {
			return nil, err
		}
		resp, err := ns.Get(id).Fetch(req)
		if err != nil {
			return errorResponse(err), nil
		}
		return resp, nil
	}
	return dohost.Text(404, "no route "+req.URL.Path), nil
}

// errorResponse reports a host call's error as JSON so tests can check the
// status code the ABI returned.
func errorResponse(err error) *dohost.Response {
	var e *dohost.Error
	if errors.As(err, &e) {
		return dohost.JSON(502, map[string]any{"code": int(e.Code), "codeName": e.Code.String(), "message": e.Message})
	}
	return dohost.JSON(500, map[string]any{"message": err.Error()})
}

type probe struct {
	state *dohost.State
	env   *dohost.Env
	count int
}

func newProbe(state *dohost.State, env *dohost.Env) dohost.Object {
	return &probe{state: state, env: env}
}

func (o *probe) Fetch(req *dohost.Request) (*dohost.Response, error) {
	q := req.URL.Query()
	o.count++
	switch op := strings.TrimPrefix(req.URL.Path, "/obj/"); op {
	case "count":
		return dohost.JSON(200, o.count), nil
	case "info":
		name, ok := o.state.ID().Name()
		return dohost.JSON(200, map[string]any{"id": o.state.ID().String(), "name": name, "hasName": ok}), nil
	case "panic":
		panic(fmt.Sprintf("probe panics on request %d", o.count))
	case "fail":
		return nil, fmt.Errorf("probe fails on request %d", o.count)
	case "exit":
		os.Exit(3)
	case "writeexit":
		if err := o.env.KV("KV").Put(q.Get("key"), []byte("written-before-exit")); err != nil {
			return nil, err
		}
		os.Exit(4)
	case "kvput":
		if err := o.env.KV("KV").Put(q.Get("key"), []byte(q.Get("value"))); err != nil {
			return nil, err
		}
		return dohost.JSON(200, "ok"), nil
	case "call":
		chain := strings.Split(q.Get("chain"), ",")
		me, _ := o.state.ID().Name()
		if len(chain) == 0 || chain[0] == "" {
			return dohost.JSON(200, []string{me}), nil
		}
		ns := o.env.DurableObject("PROBE")
		id, err := ns.IDFromName(chain[0])
		if err != nil {
			return nil, err
		}
		next, _ := dohost.NewRequest("GET", "http://probe/obj/call?chain="+strings.Join(chain[1:], ","), nil)
		resp, err := ns.Get(id).Fetch(next)
		if err != nil {
			return errorResponse(err), nil
		}
		return resp, nil
	case "log":
		dohost.Log(q.Get("msg"))
		fmt.Println("stdout:", q.Get("msg"))
		return dohost.JSON(200, "ok"), nil
	case "big":
		n, _ := strconv.Atoi(q.Get("n"))
		return dohost.NewResponse(200, make([]byte, n)), nil
	}
	return dohost.Text(404, "no object op "+req.URL.Path), nil
}
