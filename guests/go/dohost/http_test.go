package dohost

import (
	"bytes"
	"testing"

	"github.com/dohost/dohost/abi"
)

// TestPassThrough: a request or response passed on unchanged is passed on
// as the bytes it arrived as; any change is seen and encoded.
func TestPassThrough(t *testing.T) {
	raw := abi.AppendRequest(nil, &abi.Request{Method: "GET", URL: "http://h/p?q=1",
		Headers: []abi.Header{{Name: "x-a", Value: "1"}, {Name: "X-A", Value: "2"}, {Name: "b", Value: "3"}}, Body: []byte("body")})
	changes := map[string]func(r *Request){
		"method":           func(r *Request) { r.Method = "POST" },
		"url in place":     func(r *Request) { r.URL.RawQuery = "q=2" },
		"url replaced":     func(r *Request) { u := *r.URL; r.URL = &u },
		"header value":     func(r *Request) { r.Header["X-A"][1] = "9" },
		"header added":     func(r *Request) { r.Header.Add("C", "4") },
		"header removed":   func(r *Request) { r.Header.Del("B") },
		"body replaced":    func(r *Request) { r.Body = []byte("body") },
		"body shortened":   func(r *Request) { r.Body = r.Body[:2] },
		"header reordered": func(r *Request) { v := r.Header["X-A"]; v[0], v[1] = v[1], v[0] },
	}
	r, err := decodeRequest(bytes.Clone(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := encodeRequest(r); !bytes.Equal(got, raw) {
		t.Errorf("unchanged request re-encoded:\n% x\nwant\n% x", got, raw)
	}
	for name, change := range changes {
		r, _ := decodeRequest(bytes.Clone(raw))
		change(r)
		got := encodeRequest(r)
		if bytes.Equal(got, raw) {
			t.Errorf("%s: the change was not seen", name)
		}
		back, err := abi.DecodeRequest(got)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if back.Method != r.Method || back.URL != r.URL.String() || !bytes.Equal(back.Body, r.Body) {
			t.Errorf("%s: encoded %+v", name, back)
		}
	}

	resp := abi.AppendResponse(nil, &abi.Response{Status: 201, Headers: []abi.Header{{Name: "content-type", Value: "a/b"}}, Body: []byte("x")})
	p, err := decodeResponse(bytes.Clone(resp))
	if err != nil {
		t.Fatal(err)
	}
	if got := encodeResponse(p); !bytes.Equal(got, resp) {
		t.Error("unchanged response re-encoded")
	}
	p.StatusCode = 200
	if got := encodeResponse(p); bytes.Equal(got, resp) {
		t.Error("a changed status was not seen")
	}
	if got := encodeResponse(NewResponse(201, []byte("x"))); bytes.Equal(got, resp) {
		t.Error("a new response is not a received one")
	}
}
