package dohost

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/dohost/dohost/abi"
)

// Header is a set of HTTP header fields, keyed by canonical name
// ("Content-Type"), like net/http's Header.
type Header map[string][]string

// Get returns the first value of key, or "".
func (h Header) Get(key string) string {
	if v := h[CanonicalHeaderKey(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns every value of key.
func (h Header) Values(key string) []string { return h[CanonicalHeaderKey(key)] }

// Set replaces the values of key with value.
func (h Header) Set(key, value string) { h[CanonicalHeaderKey(key)] = []string{value} }

// Add appends value to the values of key.
func (h Header) Add(key, value string) {
	k := CanonicalHeaderKey(key)
	h[k] = append(h[k], value)
}

// Del removes key.
func (h Header) Del(key string) { delete(h, CanonicalHeaderKey(key)) }

// CanonicalHeaderKey returns the canonical form of a header name: the first
// letter and each letter after a hyphen upper case, the rest lower case.
// Names with characters other than letters, digits and "-!#$%&'*+.^_`|~"
// are returned unchanged, as net/textproto does.
func CanonicalHeaderKey(s string) string {
	if c, ok := commonHeader(s); ok {
		return c
	}
	upper := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isTokenChar(c) {
			return s
		}
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			return canonicalize(s)
		}
		upper = c == '-'
	}
	return s
}

// commonHeader returns the canonical form of a common header name in
// lower case, as the host passes names, without allocating.
func commonHeader(s string) (string, bool) {
	switch s {
	case "accept":
		return "Accept", true
	case "accept-encoding":
		return "Accept-Encoding", true
	case "accept-language":
		return "Accept-Language", true
	case "authorization":
		return "Authorization", true
	case "cache-control":
		return "Cache-Control", true
	case "cf-connecting-ip":
		return "Cf-Connecting-Ip", true
	case "connection":
		return "Connection", true
	case "content-length":
		return "Content-Length", true
	case "content-type":
		return "Content-Type", true
	case "cookie":
		return "Cookie", true
	case "host":
		return "Host", true
	case "if-none-match":
		return "If-None-Match", true
	case "origin":
		return "Origin", true
	case "referer":
		return "Referer", true
	case "user-agent":
		return "User-Agent", true
	case "x-forwarded-for":
		return "X-Forwarded-For", true
	case "x-forwarded-proto":
		return "X-Forwarded-Proto", true
	}
	return "", false
}

func canonicalize(s string) string {
	b := []byte(s)
	upper := true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			b[i] = c - 'A' + 'a'
		}
		upper = c == '-'
	}
	return string(b)
}

func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-!#$%&'*+.^_`|~", c) >= 0
}

// Request is an HTTP request, as the Worker receives it and as a stub
// forwards it to an object.
type Request struct {
	Method string
	URL    *url.URL // absolute
	Header Header
	Body   []byte

	orig *received // how the request arrived, to pass it on as it came
}

// received remembers a record as it crossed the boundary and the fields it
// was decoded into, so that one passed on unchanged (a Worker forwarding
// its request to an object, returning the object's response) is passed on
// as those same bytes, without encoding it again.
type received struct {
	raw     []byte
	method  string
	url     *url.URL
	urlVal  url.URL
	status  int
	headers []abi.Header // canonical names, in order
	names   int          // distinct names among them
	body    []byte
}

// unchanged reports whether the decoded fields still hold what arrived.
func (r *received) unchanged(method string, u *url.URL, status int, h Header, body []byte) bool {
	if r == nil || method != r.method || u != r.url || (u != nil && *u != r.urlVal) || status != r.status ||
		len(body) != len(r.body) || (len(body) > 0 && &body[0] != &r.body[0]) {
		return false
	}
	// h holds what arrived if it has as many names, and each run of a
	// name in the record (the host sorts names, so a name's values are
	// one run) is that name's values, in order. A name in two runs fails
	// the length check: the record is then made anew, which is correct.
	if len(h) != r.names {
		return false
	}
	for i := 0; i < len(r.headers); {
		name := r.headers[i].Name
		vs := h[name]
		j := 0
		for ; i < len(r.headers) && r.headers[i].Name == name; i, j = i+1, j+1 {
			if j >= len(vs) || vs[j] != r.headers[i].Value {
				return false
			}
		}
		if j != len(vs) {
			return false
		}
	}
	return true
}

// NewRequest returns a request for an absolute URL.
func NewRequest(method, rawURL string, body []byte) (*Request, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("dohost: new request: %w", err)
	}
	if method == "" {
		method = "GET"
	}
	return &Request{Method: method, URL: u, Header: Header{}, Body: body}, nil
}

// Response is an HTTP response.
type Response struct {
	StatusCode int
	Header     Header
	Body       []byte

	orig *received
}

// NewResponse returns a response with the given status and body.
func NewResponse(status int, body []byte) *Response {
	return &Response{StatusCode: status, Header: Header{}, Body: body}
}

// Text returns a text/plain response.
func Text(status int, body string) *Response {
	r := NewResponse(status, []byte(body))
	r.Header.Set("Content-Type", "text/plain; charset=utf-8")
	return r
}

// JSON returns an application/json response with v encoded as JSON, like
// Response.json. A value that cannot be encoded gives a 500 response that
// says why.
func JSON(status int, v any) *Response {
	b, err := json.Marshal(v)
	if err != nil {
		return Text(500, "dohost: encoding JSON response: "+err.Error())
	}
	r := NewResponse(status, b)
	r.Header.Set("Content-Type", "application/json")
	return r
}

func encodeRequest(r *Request) []byte {
	if r.orig.unchanged(r.Method, r.URL, 0, r.Header, r.Body) {
		return r.orig.raw
	}
	ar := abi.Request{Method: r.Method, Body: r.Body}
	if r.URL != nil {
		ar.URL = r.URL.String()
	}
	ar.Headers = flatten(r.Header)
	return abi.AppendRequest(nil, &ar)
}

func decodeRequest(b []byte) (*Request, error) {
	ar, err := abi.DecodeRequest(b)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(ar.URL)
	if err != nil {
		return nil, fmt.Errorf("request URL: %w", err)
	}
	h := unflatten(ar.Headers)
	// The request and what it remembers of its record: one allocation.
	rr := &struct {
		req  Request
		orig received
	}{
		req:  Request{Method: ar.Method, URL: u, Header: h, Body: ar.Body},
		orig: received{raw: b, method: ar.Method, url: u, urlVal: *u, headers: ar.Headers, names: len(h), body: ar.Body},
	}
	rr.req.orig = &rr.orig
	return &rr.req, nil
}

func encodeResponse(r *Response) []byte {
	if r.orig.unchanged("", nil, r.StatusCode, r.Header, r.Body) {
		return r.orig.raw
	}
	return abi.AppendResponse(nil, &abi.Response{Status: r.StatusCode, Headers: flatten(r.Header), Body: r.Body})
}

func decodeResponse(b []byte) (*Response, error) {
	ar, err := abi.DecodeResponse(b)
	if err != nil {
		return nil, err
	}
	h := unflatten(ar.Headers)
	rr := &struct {
		resp Response
		orig received
	}{
		resp: Response{StatusCode: ar.Status, Header: h, Body: ar.Body},
		orig: received{raw: b, status: ar.Status, headers: ar.Headers, names: len(h), body: ar.Body},
	}
	rr.resp.orig = &rr.orig
	return &rr.resp, nil
}

func flatten(h Header) []abi.Header {
	if len(h) == 0 {
		return nil
	}
	if len(h) == 1 { // the common case (a Content-Type): nothing to sort
		for k, vs := range h {
			out := make([]abi.Header, len(vs))
			for i, v := range vs {
				out[i] = abi.Header{Name: k, Value: v}
			}
			return out
		}
	}
	keys := make([]string, 0, len(h))
	n := 0
	for k, vs := range h {
		keys = append(keys, k)
		n += len(vs)
	}
	sort.Strings(keys)
	out := make([]abi.Header, 0, n)
	for _, k := range keys {
		for _, v := range h[k] {
			out = append(out, abi.Header{Name: k, Value: v})
		}
	}
	return out
}

// unflatten makes a Header of hs, and turns hs's names into their
// canonical form (as the Header keys them).
func unflatten(hs []abi.Header) Header {
	h := make(Header, len(hs))
	// Each name's values are a slice of vals, one allocation for them all,
	// and each field costs one map operation, while a name's fields are
	// adjacent (the host sorts them by name).
	vals := make([]string, len(hs))
	start := 0 // where the current name's run began
	for i, f := range hs {
		name := CanonicalHeaderKey(f.Name)
		hs[i].Name = name
		vals[i] = f.Value
		if i == 0 || hs[i-1].Name != name {
			start = i
			n := len(h)
			h[name] = vals[i : i+1 : i+1]
			if len(h) == n { // the name came before, apart
				return unflattenScattered(hs)
			}
			continue
		}
		h[name] = vals[start : i+1 : i+1]
	}
	return h
}

// unflattenScattered is unflatten for fields whose names repeat apart.
func unflattenScattered(hs []abi.Header) Header {
	h := make(Header, len(hs))
	for i, f := range hs {
		hs[i].Name = CanonicalHeaderKey(f.Name)
		h[hs[i].Name] = append(h[hs[i].Name], f.Value)
	}
	return h
}
