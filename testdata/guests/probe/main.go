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
//	/byid/<op>?id=HEX        the same, reaching the object by its ID string
//	/echo                    the request as the Worker sees it (obj/echo: as an object does)
//	/worker/storage          a storage call from the Worker (BAD_STATE)
//	/stub/badheader          a stub call with a header HTTP cannot carry (BAD_ENCODING)
//	/worker/panic            the Worker's handler panics
//	/worker/fail             the Worker's handler returns an error
//
// Object operations: count (in-memory counter), info (its ID and name),
// panic (handler panics), exit (the guest exits: a trap), writeexit (a KV
// write, then exit), kvput?key=K&value=V, call?chain=A,B,…&put=K (call
// the next object in the chain; the last stores key K, if set, with its
// name), log?msg=M, big?n=N (an N-byte body), sleep?ms=M,
// busy?ms=M (computes for M ms, holding the object's turn),
// chatty?n=N (N log lines and N lines of stdout), sandbox (tries files,
// the environment and the network, and says what happened).
// Every path may be prefixed with /p (for the routing tests).
//
// Storage operations, each on the object's own storage (st/…): get?key=K,
// put?key=K&value=V (or size=N: N bytes; keysize=N: an N-byte key),
// getmulti?keys=a,b, putmulti?prefix=P&n=N&value=V (N keys P0000… in one
// call), delete?key=K, deletemulti?keys=a,b, list?prefix&start&startAfter
// &end&reverse&limit&keysOnly, count, deleteall, txn?key=K&value=V[&fail=1]
// (a put inside a transaction that fails when asked), nested (a failed
// inner transaction inside a committed outer one), putexit?key=K (a put,
// then exit), ctor (what the constructor read). Alarms: alarm/set?in=MS,
// alarm/get, alarm/delete, alarm/runs (how many times Alarm ran; it fails
// while the stored counter alarmfail is above zero, counting it down, and
// while alarmrearm is above zero re-arms itself for the time it ran for).
package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
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
	switch p := probePath(req); {
	case p == "/worker/panic":
		panic("the probe worker panics with a secret: " + q.Get("secret"))
	case p == "/worker/fail":
		return nil, errors.New("the probe worker fails with a secret: " + q.Get("secret"))
	case p == "/echo" || strings.HasPrefix(p, "/echo/"):
		return echo(req), nil
	case p == "/worker/storage":
		// Storage belongs to objects: BAD_STATE from the Worker.
		_, _, err := new(dohost.Storage).Get("k")
		return errorResponse(err), nil
	case p == "/stub/badheader":
		// A header HTTP cannot carry: BAD_ENCODING, nothing sent.
		ns := env.DurableObject("PROBE")
		id, err := ns.IDFromName("b")
		if err != nil {
			return nil, err
		}
		r, _ := dohost.NewRequest("GET", "http://probe/obj/count", nil)
		r.Header["Bad Name"] = []string{"x"}
		_, err = ns.Get(id).Fetch(r)
		return errorResponse(err), nil
	case p == "/env":
		v, ok := env.Var(q.Get("name"))
		if !ok {
			return dohost.JSON(404, nil), nil
		}
		return dohost.JSON(200, v), nil
	case p == "/env/os":
		// The WASI environment holds the same names and values.
		v, ok := os.LookupEnv(q.Get("name"))
		if !ok {
			return dohost.JSON(404, nil), nil
		}
		return dohost.JSON(200, v), nil
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
	case strings.HasPrefix(p, "/byid/"):
		// The same operations, reaching the object by an ID string.
		ns := env.DurableObject("PROBE")
		id, err := ns.IDFromString(q.Get("id"))
		if err != nil {
			return errorResponse(err), nil
		}
		fwd, _ := dohost.NewRequest(req.Method, "http://probe/obj/"+strings.TrimPrefix(p, "/byid/")+"?"+req.URL.RawQuery, nil)
		resp, err := ns.Get(id).Fetch(fwd)
		if err != nil {
			return errorResponse(err), nil
		}
		return resp, nil
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

// echo answers with the request as the handler sees it: its method, URL,
// headers (lower-case names, sorted, each name's values in order) and
// body (base64), so that the probes of every language can be held to the
// same view of the same request.
func echo(req *dohost.Request) *dohost.Response {
	names := make([]string, 0, len(req.Header))
	key := map[string]string{}
	for k := range req.Header {
		l := strings.ToLower(k)
		names = append(names, l)
		key[l] = k
	}
	sort.Strings(names)
	hs := [][2]string{}
	for _, n := range names {
		for _, v := range req.Header[key[n]] {
			hs = append(hs, [2]string{n, v})
		}
	}
	return dohost.JSON(200, map[string]any{"method": req.Method, "url": req.URL.String(), "headers": hs, "body": req.Body})
}

// probePath is the request's path without a leading "/p" segment, which
// the routing tests put in front of every path.
func probePath(req *dohost.Request) string {
	if rest, ok := strings.CutPrefix(req.URL.Path, "/p/"); ok {
		return "/" + rest
	}
	return req.URL.Path
}

// errorResponse reports a host call's error as JSON so tests can check the
// status code the ABI returned.
func errorResponse(err error) *dohost.Response {
	if err == nil {
		return dohost.JSON(200, "no error")
	}
	var e *dohost.Error
	if errors.As(err, &e) {
		return dohost.JSON(502, map[string]any{"code": int(e.Code), "codeName": e.Code.String(), "message": e.Message})
	}
	return dohost.JSON(500, map[string]any{"message": err.Error()})
}

type probe struct {
	state  *dohost.State
	env    *dohost.Env
	count  int
	ctor   string // what the constructor read from storage
	ctorOK bool
}

func newProbe(state *dohost.State, env *dohost.Env) dohost.Object {
	p := &probe{state: state, env: env}
	// Read storage before the first request is let in; count the starts.
	err := state.BlockConcurrencyWhile(func() error {
		v, ok, err := state.Storage().Get("starts")
		if err != nil {
			return err
		}
		p.ctor, p.ctorOK = string(v), ok
		n, _ := strconv.Atoi(string(v))
		return state.Storage().Put("starts", []byte(strconv.Itoa(n+1)))
	})
	if err != nil {
		panic(err)
	}
	return p
}

// Alarm counts its runs in storage, and fails while alarmfail is above 0.
func (o *probe) Alarm(info dohost.AlarmInfo) error {
	st := o.state.Storage()
	n := atoi(st, "alarmruns")
	if err := st.Put("alarmruns", []byte(strconv.Itoa(n+1))); err != nil {
		return err
	}
	if err := st.Put("alarmretry", []byte(strconv.Itoa(info.RetryCount))); err != nil {
		return err
	}
	if f := atoi(st, "alarmfail"); f > 0 {
		_ = st.Put("alarmfail", []byte(strconv.Itoa(f-1)))
		dohost.Logf("alarm run %d fails", n+1)
		return fmt.Errorf("alarm fails on purpose (%d more)", f-1)
	}
	if r := atoi(st, "alarmrearm"); r > 0 {
		// Re-arm for the very time this run is for.
		at, ok, err := st.GetAlarm()
		if err != nil || !ok {
			return fmt.Errorf("alarm/get in the alarm handler: %v %v", ok, err)
		}
		_ = st.Put("alarmrearm", []byte(strconv.Itoa(r-1)))
		return st.SetAlarm(at)
	}
	return nil
}

func atoi(st *dohost.Storage, key string) int {
	v, _, _ := st.Get(key)
	n, _ := strconv.Atoi(string(v))
	return n
}

// storageOp serves st/… and alarm/… operations.
func (o *probe) storageOp(op string, q url.Values) (*dohost.Response, error) {
	st := o.state.Storage()
	key := q.Get("key")
	if n, _ := strconv.Atoi(q.Get("keysize")); n > 0 {
		key = strings.Repeat("k", n)
	}
	value := []byte(q.Get("value"))
	if n, _ := strconv.Atoi(q.Get("size")); n > 0 {
		value = []byte(strings.Repeat("v", n))
	}
	ok := dohost.JSON(200, "ok")
	switch op {
	case "st/get":
		v, found, err := st.Get(key)
		if err != nil {
			return errorResponse(err), nil
		}
		return dohost.JSON(200, map[string]any{"found": found, "value": string(v)}), nil
	case "st/put":
		if err := st.Put(key, value); err != nil {
			return errorResponse(err), nil
		}
		return ok, nil
	case "st/getmulti":
		m, err := st.GetMulti(strings.Split(q.Get("keys"), ","))
		if err != nil {
			return errorResponse(err), nil
		}
		out := map[string]string{}
		for k, v := range m {
			out[k] = string(v)
		}
		return dohost.JSON(200, out), nil
	case "st/putmulti":
		n, _ := strconv.Atoi(q.Get("n"))
		m := map[string][]byte{}
		for i := 0; i < n; i++ {
			m[fmt.Sprintf("%s%04d", q.Get("prefix"), i)] = value
		}
		if err := st.PutMulti(m); err != nil {
			return errorResponse(err), nil
		}
		return ok, nil
	case "st/delete":
		existed, err := st.Delete(key)
		if err != nil {
			return errorResponse(err), nil
		}
		return dohost.JSON(200, existed), nil
	case "st/deletemulti":
		n, err := st.DeleteMulti(strings.Split(q.Get("keys"), ","))
		if err != nil {
			return errorResponse(err), nil
		}
		return dohost.JSON(200, n), nil
	case "st/list":
		limit, _ := strconv.Atoi(q.Get("limit"))
		es, err := st.List(dohost.StorageListOptions{
			Prefix: q.Get("prefix"), Start: q.Get("start"), StartAfter: q.Get("startAfter"), End: q.Get("end"),
			Reverse: q.Get("reverse") != "", KeysOnly: q.Get("keysOnly") != "", Limit: limit,
		})
		if err != nil {
			return errorResponse(err), nil
		}
		out := make([][2]string, len(es))
		for i, e := range es {
			out[i] = [2]string{e.Key, string(e.Value)}
		}
		return dohost.JSON(200, out), nil
	case "st/count":
		n := 0
		err := st.Range(dohost.StorageListOptions{Prefix: q.Get("prefix"), KeysOnly: true}, func(string, []byte) bool { n++; return true })
		if err != nil {
			return errorResponse(err), nil
		}
		return dohost.JSON(200, n), nil
	case "st/deleteall":
		if err := st.DeleteAll(); err != nil {
			return errorResponse(err), nil
		}
		return ok, nil
	case "st/txn":
		err := st.Transaction(func(tx *dohost.Storage) error {
			if err := tx.Put(key, value); err != nil {
				return err
			}
			if q.Get("fail") != "" {
				return errors.New("the transaction fails on purpose")
			}
			return nil
		})
		if err != nil {
			return dohost.JSON(409, err.Error()), nil
		}
		return ok, nil
	case "st/nested":
		err := st.Transaction(func(tx *dohost.Storage) error {
			_ = tx.Put("outer", []byte("kept"))
			inner := tx.Transaction(func(tx *dohost.Storage) error {
				_ = tx.Put("inner", []byte("dropped"))
				return errors.New("inner fails")
			})
			if inner == nil {
				return errors.New("inner transaction did not fail")
			}
			return nil
		})
		if err != nil {
			return errorResponse(err), nil
		}
		return ok, nil
	case "st/putexit":
		if err := st.Put(key, []byte("written-before-exit")); err != nil {
			return nil, err
		}
		os.Exit(5)
	case "st/ctor":
		return dohost.JSON(200, map[string]any{"read": o.ctor, "found": o.ctorOK}), nil
	case "alarm/set":
		ms, _ := strconv.Atoi(q.Get("in"))
		if err := st.SetAlarm(time.Now().Add(time.Duration(ms) * time.Millisecond)); err != nil {
			return errorResponse(err), nil
		}
		return ok, nil
	case "alarm/get":
		t, found, err := st.GetAlarm()
		if err != nil {
			return errorResponse(err), nil
		}
		if !found {
			return dohost.JSON(200, nil), nil
		}
		return dohost.JSON(200, t.UnixMilli()), nil
	case "alarm/delete":
		if err := st.DeleteAlarm(); err != nil {
			return errorResponse(err), nil
		}
		return ok, nil
	case "alarm/runs":
		return dohost.JSON(200, map[string]int{"runs": atoi(st, "alarmruns"), "lastRetry": atoi(st, "alarmretry")}), nil
	}
	return dohost.Text(404, "no storage op "+op), nil
}

func (o *probe) Fetch(req *dohost.Request) (*dohost.Response, error) {
	q := req.URL.Query()
	o.count++
	op := strings.TrimPrefix(probePath(req), "/obj/")
	if strings.HasPrefix(op, "st/") || strings.HasPrefix(op, "alarm/") {
		return o.storageOp(op, q)
	}
	if op == "echo" || strings.HasPrefix(op, "echo/") {
		return echo(req), nil
	}
	switch op {
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
			if k := q.Get("put"); k != "" { // the last one stores key put
				if err := o.state.Storage().Put(k, []byte(me)); err != nil {
					return errorResponse(err), nil
				}
			}
			return dohost.JSON(200, []string{me}), nil
		}
		ns := o.env.DurableObject("PROBE")
		id, err := ns.IDFromName(chain[0])
		if err != nil {
			return nil, err
		}
		next, _ := dohost.NewRequest("GET", "http://probe/obj/call?chain="+strings.Join(chain[1:], ",")+"&put="+url.QueryEscape(q.Get("put")), nil)
		resp, err := ns.Get(id).Fetch(next)
		if err != nil {
			return errorResponse(err), nil
		}
		return resp, nil
	case "log":
		dohost.Log(q.Get("msg"))
		fmt.Println("stdout:", q.Get("msg"))
		if p := q.Get("partial"); p != "" {
			fmt.Print("partial: ", p) // no newline
		}
		if q.Get("fail") != "" {
			return nil, fmt.Errorf("probe fails after logging %q", q.Get("msg"))
		}
		return dohost.JSON(200, "ok"), nil
	case "chatty":
		n, _ := strconv.Atoi(q.Get("n"))
		for i := 0; i < n; i++ {
			dohost.Logf("chatty %d", i)
			fmt.Println("chatty stdout", i)
		}
		return dohost.JSON(200, "ok"), nil
	case "sandbox":
		// What a guest can reach of the machine: nothing.
		res := map[string]string{}
		_, err := os.ReadFile("/etc/passwd")
		res["readfile"] = fmt.Sprint(err)
		_, err = os.ReadDir("/")
		res["readdir"] = fmt.Sprint(err)
		res["writefile"] = fmt.Sprint(os.WriteFile("/tmp/dohost-escape", []byte("x"), 0o644))
		res["env"] = strings.Join(os.Environ(), ",")
		res["args"] = strings.Join(os.Args, ",")
		_, err = net.Dial("tcp", "127.0.0.1:22")
		res["dial"] = fmt.Sprint(err)
		wd, err := os.Getwd()
		res["getwd"] = wd + " " + fmt.Sprint(err)
		return dohost.JSON(200, res), nil
	case "busy":
		// Holds the object's turn for ms milliseconds, computing.
		ms, _ := strconv.Atoi(q.Get("ms"))
		for until := time.Now().Add(time.Duration(ms) * time.Millisecond); time.Now().Before(until); {
		}
		return dohost.JSON(200, "busy"), nil
	case "sleep":
		ms, _ := strconv.Atoi(q.Get("ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return dohost.JSON(200, "slept"), nil
	case "headers":
		// n headers of growing values, and one name given twice.
		n, _ := strconv.Atoi(q.Get("n"))
		r := dohost.NewResponse(200, []byte("h"))
		for i := 0; i < n; i++ {
			r.Header.Add(fmt.Sprintf("X-H-%03d", i), strings.Repeat("v", i%50))
		}
		r.Header.Add("X-Rep", "1")
		r.Header.Add("X-Rep", "2")
		return r, nil
	case "big":
		n, _ := strconv.Atoi(q.Get("n"))
		return dohost.NewResponse(200, make([]byte, n)), nil
	}
	return dohost.Text(404, "no object op "+req.URL.Path), nil
}
