package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dohost/dohost/guests/go/dohost"
	"github.com/dop251/goja"
)

// hostObject is __dohost: what prelude.js builds the Workers API from. Each
// function takes and returns plain values (strings, numbers, arrays,
// ArrayBuffers); a failed host call throws an Error with the host's message.
func hostObject(vm *goja.Runtime) *goja.Object {
	h := vm.NewObject()
	env := &dohost.Env{}
	var st dohost.Storage
	set := func(name string, f func(goja.FunctionCall) goja.Value) { _ = h.Set(name, f) }
	// throw throws err as an Error; a failed host call's carries the
	// ABI's status as code (a number) and codeName, and the host's
	// message as message.
	throw := func(err error) {
		e := vm.NewGoError(err)
		var de *dohost.Error
		if errors.As(err, &de) {
			_ = e.Set("code", int(de.Code))
			_ = e.Set("codeName", de.Code.String())
			_ = e.Set("message", de.Message)
		}
		panic(e)
	}
	str := func(c goja.FunctionCall, i int) string { return c.Argument(i).String() }
	buf := func(c goja.FunctionCall, i int) []byte {
		var ab goja.ArrayBuffer
		if err := vm.ExportTo(c.Argument(i), &ab); err != nil {
			throw(fmt.Errorf("expected an ArrayBuffer: %v", err))
		}
		return ab.Bytes()
	}
	bytesOrNull := func(b []byte, ok bool) goja.Value {
		if !ok {
			return goja.Null()
		}
		return vm.ToValue(vm.NewArrayBuffer(b))
	}
	strs := func(v goja.Value) []string {
		var out []string
		if err := vm.ExportTo(v, &out); err != nil {
			throw(fmt.Errorf("expected an array of strings: %v", err))
		}
		return out
	}

	set("encode", func(c goja.FunctionCall) goja.Value { return vm.ToValue(vm.NewArrayBuffer([]byte(str(c, 0)))) })
	set("decode", func(c goja.FunctionCall) goja.Value {
		b := buf(c, 0)
		if c.Argument(1).ToBoolean() && !utf8.Valid(b) {
			panic(vm.NewTypeError("TextDecoder: the data is not valid UTF-8"))
		}
		return vm.ToValue(strings.ToValidUTF8(string(b), "\uFFFD"))
	})
	set("random", func(c goja.FunctionCall) goja.Value {
		b := make([]byte, c.Argument(0).ToInteger())
		_, _ = rand.Read(b)
		return vm.ToValue(vm.NewArrayBuffer(b))
	})
	set("btoa", func(c goja.FunctionCall) goja.Value {
		s := []rune(str(c, 0))
		b := make([]byte, len(s))
		for i, r := range s {
			b[i] = byte(r)
		}
		return vm.ToValue(base64.StdEncoding.EncodeToString(b))
	})
	set("atob", func(c goja.FunctionCall) goja.Value {
		s := str(c, 0)
		if n := len(s) % 4; n != 0 {
			s += "===="[n:]
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return goja.Null()
		}
		r := make([]rune, len(b))
		for i, x := range b {
			r[i] = rune(x)
		}
		return vm.ToValue(string(r))
	})
	set("log", func(c goja.FunctionCall) goja.Value {
		if str(c, 0) == "error" || str(c, 0) == "warn" {
			dohost.LogError(str(c, 1))
		} else {
			dohost.Log(str(c, 1))
		}
		return goja.Undefined()
	})
	set("parseQuery", func(c goja.FunctionCall) goja.Value {
		var out [][2]string
		for _, part := range strings.FieldsFunc(str(c, 0), func(r rune) bool { return r == '&' }) {
			k, v, _ := strings.Cut(part, "=")
			out = append(out, [2]string{formDecode(k), formDecode(v)})
		}
		return pairs(vm, out)
	})
	set("formatQuery", func(c goja.FunctionCall) goja.Value {
		var l [][]string
		if err := vm.ExportTo(c.Argument(0), &l); err != nil {
			throw(err)
		}
		var b []byte
		for i, p := range l {
			if i > 0 {
				b = append(b, '&')
			}
			b = formEncode(b, p[0])
			b = append(b, '=')
			b = formEncode(b, p[1])
		}
		return vm.ToValue(string(b))
	})
	set("parseURL", func(c goja.FunctionCall) goja.Value {
		u, err := parseURL(str(c, 0), str(c, 1))
		if err != nil {
			return vm.ToValue(err.Error())
		}
		pw, _ := u.User.Password()
		search := ""
		if u.RawQuery != "" || u.ForceQuery {
			search = "?" + u.RawQuery
		}
		hash := ""
		if u.Fragment != "" {
			hash = "#" + u.EscapedFragment()
		}
		path := u.EscapedPath()
		if path == "" {
			path = "/"
		}
		return vm.ToValue([]any{u.Scheme + ":", u.User.Username(), pw, u.Hostname(), u.Port(), path, search, hash})
	})
	set("envVar", func(c goja.FunctionCall) goja.Value {
		v, ok := env.Var(str(c, 0))
		if !ok {
			return goja.Null()
		}
		return vm.ToValue(v)
	})

	// Durable Object namespaces and stubs.
	set("idFromName", func(c goja.FunctionCall) goja.Value {
		id, err := env.DurableObject(str(c, 0)).IDFromName(str(c, 1))
		if err != nil {
			throw(err)
		}
		return vm.ToValue(id.String())
	})
	set("newUniqueId", func(c goja.FunctionCall) goja.Value {
		id, err := env.DurableObject(str(c, 0)).NewUniqueID()
		if err != nil {
			throw(err)
		}
		return vm.ToValue(id.String())
	})
	set("idFromString", func(c goja.FunctionCall) goja.Value {
		id, err := env.DurableObject(str(c, 0)).IDFromString(str(c, 1))
		if err != nil {
			panic(vm.NewTypeError("idFromString: %v", err))
		}
		var name any
		if n, ok := id.Name(); ok {
			name = n
		}
		return vm.ToValue([]any{id.String(), name})
	})
	set("stubFetch", func(c goja.FunctionCall) goja.Value {
		ns := env.DurableObject(str(c, 0))
		var id dohost.ObjectID
		var err error
		if n := c.Argument(2); goja.IsNull(n) || goja.IsUndefined(n) {
			id, err = ns.IDFromString(str(c, 1))
		} else {
			id, err = ns.IDFromName(n.String())
		}
		if err != nil {
			throw(err)
		}
		req, err := dohost.NewRequest(str(c, 3), str(c, 4), buf(c, 6))
		if err != nil {
			panic(vm.NewTypeError("stub.fetch: %v", err))
		}
		var hs [][]string
		if err := vm.ExportTo(c.Argument(5), &hs); err != nil {
			throw(err)
		}
		for _, p := range hs {
			req.Header.Add(p[0], p[1])
		}
		resp, err := ns.Get(id).Fetch(req)
		if err != nil {
			throw(err)
		}
		return vm.ToValue([]any{resp.StatusCode, headerPairs(vm, resp.Header), vm.NewArrayBuffer(resp.Body)})
	})

	// KV.
	set("kvGet", func(c goja.FunctionCall) goja.Value {
		v, ok, err := env.KV(str(c, 0)).Get(str(c, 1))
		if err != nil {
			throw(err)
		}
		return bytesOrNull(v, ok)
	})
	set("kvMetadata", func(c goja.FunctionCall) goja.Value {
		key := str(c, 1)
		r, err := env.KV(str(c, 0)).List(dohost.ListOptions{Prefix: key, Limit: 1})
		if err != nil {
			throw(err)
		}
		if len(r.Keys) == 0 || r.Keys[0].Name != key || len(r.Keys[0].Metadata) == 0 {
			return goja.Null()
		}
		v, err := jsonParse(vm, r.Keys[0].Metadata)
		if err != nil {
			throw(err)
		}
		return v
	})
	set("kvPut", func(c goja.FunctionCall) goja.Value {
		o := dohost.PutOptions{}
		if exp := c.Argument(3).ToInteger(); exp > 0 {
			o.Expiration = time.Unix(exp, 0)
		}
		if ttl := c.Argument(4).ToInteger(); ttl > 0 {
			o.ExpirationTTL = time.Duration(ttl) * time.Second
		}
		if m := c.Argument(5); !goja.IsNull(m) && !goja.IsUndefined(m) {
			o.Metadata = []byte(m.String())
		}
		if err := env.KV(str(c, 0)).PutWithOptions(str(c, 1), buf(c, 2), o); err != nil {
			throw(err)
		}
		return goja.Undefined()
	})
	set("kvDelete", func(c goja.FunctionCall) goja.Value {
		if err := env.KV(str(c, 0)).Delete(str(c, 1)); err != nil {
			throw(err)
		}
		return goja.Undefined()
	})
	set("kvList", func(c goja.FunctionCall) goja.Value {
		r, err := env.KV(str(c, 0)).List(dohost.ListOptions{Prefix: str(c, 1), Cursor: str(c, 2), Limit: int(c.Argument(3).ToInteger())})
		if err != nil {
			throw(err)
		}
		type key struct {
			Name       string          `json:"name"`
			Expiration int64           `json:"expiration,omitempty"`
			Metadata   json.RawMessage `json:"metadata,omitempty"`
		}
		out := struct {
			Keys         []key  `json:"keys"`
			ListComplete bool   `json:"list_complete"`
			Cursor       string `json:"cursor,omitempty"`
		}{Keys: make([]key, len(r.Keys)), ListComplete: r.ListComplete, Cursor: r.Cursor}
		for i, k := range r.Keys {
			out.Keys[i] = key{Name: k.Name}
			if !k.Expiration.IsZero() {
				out.Keys[i].Expiration = k.Expiration.Unix()
			}
			if json.Valid(k.Metadata) {
				out.Keys[i].Metadata = k.Metadata
			}
		}
		b, _ := json.Marshal(out)
		return vm.ToValue(string(b))
	})

	// The object's storage.
	set("stGet", func(c goja.FunctionCall) goja.Value {
		v, ok, err := st.Get(str(c, 0))
		if err != nil {
			throw(err)
		}
		return bytesOrNull(v, ok)
	})
	set("stPut", func(c goja.FunctionCall) goja.Value {
		if err := st.Put(str(c, 0), buf(c, 1)); err != nil {
			throw(err)
		}
		return goja.Undefined()
	})
	set("stPutMulti", func(c goja.FunctionCall) goja.Value {
		keys := strs(c.Argument(0))
		vals := c.Argument(1).ToObject(vm)
		m := make(map[string][]byte, len(keys))
		for i, k := range keys {
			var ab goja.ArrayBuffer
			if err := vm.ExportTo(vals.Get(fmt.Sprint(i)), &ab); err != nil {
				throw(err)
			}
			m[k] = ab.Bytes()
		}
		if err := st.PutMulti(m); err != nil {
			throw(err)
		}
		return goja.Undefined()
	})
	set("stDelete", func(c goja.FunctionCall) goja.Value {
		ok, err := st.Delete(str(c, 0))
		if err != nil {
			throw(err)
		}
		return vm.ToValue(ok)
	})
	set("stDeleteMulti", func(c goja.FunctionCall) goja.Value {
		n, err := st.DeleteMulti(strs(c.Argument(0)))
		if err != nil {
			throw(err)
		}
		return vm.ToValue(n)
	})
	set("stDeleteAll", func(c goja.FunctionCall) goja.Value {
		if err := st.DeleteAll(); err != nil {
			throw(err)
		}
		return goja.Undefined()
	})
	set("stList", func(c goja.FunctionCall) goja.Value {
		o := dohost.StorageListOptions{Start: str(c, 0), StartAfter: str(c, 1), End: str(c, 2), Prefix: str(c, 3),
			Reverse: c.Argument(4).ToBoolean(), Limit: int(c.Argument(5).ToInteger())}
		var out []any
		err := st.Range(o, func(k string, v []byte) bool {
			out = append(out, []any{k, vm.NewArrayBuffer(append([]byte(nil), v...))})
			return true
		})
		if err != nil {
			throw(err)
		}
		return vm.ToValue(out)
	})
	set("stGetAlarm", func(c goja.FunctionCall) goja.Value {
		t, ok, err := st.GetAlarm()
		if err != nil {
			throw(err)
		}
		if !ok {
			return goja.Null()
		}
		return vm.ToValue(t.UnixMilli())
	})
	set("stSetAlarm", func(c goja.FunctionCall) goja.Value {
		if err := st.SetAlarm(time.UnixMilli(c.Argument(0).ToInteger())); err != nil {
			throw(err)
		}
		return goja.Undefined()
	})
	set("stDeleteAlarm", func(c goja.FunctionCall) goja.Value {
		if err := st.DeleteAlarm(); err != nil {
			throw(err)
		}
		return goja.Undefined()
	})
	set("txnBegin", func(c goja.FunctionCall) goja.Value {
		if err := st.BeginTransaction(); err != nil {
			throw(err)
		}
		return goja.Undefined()
	})
	set("txnEnd", func(c goja.FunctionCall) goja.Value {
		var err error
		if c.Argument(0).ToBoolean() {
			err = st.CommitTransaction()
		} else {
			err = st.RollbackTransaction()
		}
		if err != nil {
			throw(err)
		}
		return goja.Undefined()
	})
	// WebSockets (the object's, by id).
	wsOf := func(c goja.FunctionCall) dohost.WebSocket {
		ws, ok := sockets[uint32(c.Argument(0).ToInteger())]
		if !ok {
			panic(vm.NewTypeError("the WebSocket is not one of this object's open sockets"))
		}
		return ws
	}
	set("wsAccept", func(c goja.FunctionCall) goja.Value {
		if theState == nil {
			panic(vm.NewTypeError("acceptWebSocket: only a Durable Object accepts WebSockets"))
		}
		ws, err := theState.AcceptWebSocket(strs(c.Argument(0))...)
		if err != nil {
			throw(err)
		}
		sockets[ws.ID()] = ws
		return vm.ToValue(ws.ID())
	})
	set("wsList", func(c goja.FunctionCall) goja.Value {
		if theState == nil {
			return vm.ToValue([]any{})
		}
		l, err := theState.GetWebSockets(str(c, 0))
		if err != nil {
			throw(err)
		}
		ids := make([]any, len(l))
		for i, ws := range l {
			sockets[ws.ID()] = ws
			ids[i] = ws.ID()
		}
		return vm.ToValue(ids)
	})
	set("wsSend", func(c goja.FunctionCall) goja.Value {
		ws := wsOf(c)
		var err error
		if s, ok := c.Argument(1).Export().(string); ok {
			err = ws.Send(s)
		} else {
			err = ws.SendBinary(buf(c, 1))
		}
		if err != nil {
			throw(err)
		}
		return goja.Undefined()
	})
	set("wsClose", func(c goja.FunctionCall) goja.Value {
		if err := wsOf(c).Close(int(c.Argument(1).ToInteger()), str(c, 2)); err != nil {
			throw(err)
		}
		return goja.Undefined()
	})
	set("wsTags", func(c goja.FunctionCall) goja.Value {
		tags := wsOf(c).Tags()
		if tags == nil {
			tags = []string{}
		}
		return vm.ToValue(tags)
	})
	set("wsAttachment", func(c goja.FunctionCall) goja.Value {
		b, err := wsOf(c).Attachment()
		if err != nil {
			throw(err)
		}
		return bytesOrNull(b, len(b) > 0)
	})
	set("wsSetAttachment", func(c goja.FunctionCall) goja.Value {
		if err := wsOf(c).SetAttachment(buf(c, 1)); err != nil {
			throw(err)
		}
		return goja.Undefined()
	})
	set("wsAutoResponse", func(c goja.FunctionCall) goja.Value {
		if theState == nil {
			panic(vm.NewTypeError("setWebSocketAutoResponse: only a Durable Object has WebSockets"))
		}
		if err := theState.SetWebSocketAutoResponse(str(c, 0), str(c, 1)); err != nil {
			throw(err)
		}
		return goja.Undefined()
	})
	return h
}

// sockets are the object's WebSockets the runtime has seen, by id: the
// host's ids are stable for a socket's life, across evictions.
var sockets = map[uint32]dohost.WebSocket{}

// theState is the object's state: nil in a Worker.
var theState *dohost.State

// toJSRequest is req as a JavaScript Request.
func toJSRequest(req *dohost.Request) (goja.Value, error) {
	vm := js.vm
	v, err := js.request(goja.Undefined(), vm.ToValue(req.Method), vm.ToValue(req.URL.String()),
		headerPairs(vm, req.Header), vm.ToValue(vm.NewArrayBuffer(req.Body)))
	if err != nil {
		return nil, fmt.Errorf("request: %s", describe(err))
	}
	return v, nil
}

// fromWire is the host's Response from [status, headers, body].
func fromWire(w goja.Value) (*dohost.Response, error) {
	vm := js.vm
	o := w.ToObject(vm)
	resp := dohost.NewResponse(int(o.Get("0").ToInteger()), nil)
	var hs [][]string
	if err := vm.ExportTo(o.Get("1"), &hs); err != nil {
		return nil, fmt.Errorf("response headers: %v", err)
	}
	for _, p := range hs {
		resp.Header.Add(p[0], p[1])
	}
	var ab goja.ArrayBuffer
	if err := vm.ExportTo(o.Get("2"), &ab); err != nil {
		return nil, fmt.Errorf("response body: %v", err)
	}
	resp.Body = ab.Bytes()
	return resp, nil
}

func headerPairs(vm *goja.Runtime, h dohost.Header) goja.Value {
	var out [][2]string
	for k, vs := range h {
		for _, v := range vs {
			out = append(out, [2]string{k, v})
		}
	}
	return pairs(vm, out)
}

func pairs(vm *goja.Runtime, ps [][2]string) goja.Value {
	out := make([]any, len(ps))
	for i, p := range ps {
		out[i] = []any{p[0], p[1]}
	}
	return vm.ToValue(out)
}

// parseURL resolves ref against base (if any) as the URL standard does
// for http(s) URLs: an absolute URL with a host.
func parseURL(ref, base string) (*url.URL, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return nil, err
	}
	if base != "" {
		b, err := url.Parse(base)
		if err != nil {
			return nil, err
		}
		if !b.IsAbs() {
			return nil, fmt.Errorf("%q is not an absolute URL", base)
		}
		u = b.ResolveReference(u)
	}
	if !u.IsAbs() {
		return nil, fmt.Errorf("%q is not an absolute URL", ref)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	return u, nil
}

func jsonParse(vm *goja.Runtime, b []byte) (goja.Value, error) {
	parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
	return parse(goja.Undefined(), vm.ToValue(string(b)))
}

// formDecode decodes a name or value of a query as the URL standard's
// application/x-www-form-urlencoded parser does: '+' is a space, each %XX
// a byte, a '%' not followed by two hex digits itself, and bytes that are
// not UTF-8 U+FFFD.
func formDecode(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// formEncode appends s encoded as the URL standard's
// application/x-www-form-urlencoded serializer does: a space is '+', and
// every byte but ASCII letters, digits and "*-._" is %XX.
func formEncode(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '*', c == '-', c == '.', c == '_':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}
