package dohost

import (
	"bytes"
	"fmt"
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
		"value added":      func(r *Request) { r.Header.Add("X-A", "3") },
		"value removed":    func(r *Request) { r.Header["X-A"] = r.Header["X-A"][:1] },
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

// TestUnflatten: a request's fields become its Header, each name's values
// in the order they came, whether a name's fields are adjacent (as the
// host sends them) or apart.
func TestUnflatten(t *testing.T) {
	for _, tc := range []struct {
		in   []abi.Header
		want Header
	}{
		{[]abi.Header{{Name: "accept", Value: "1"}, {Name: "x-a", Value: "2"}, {Name: "X-A", Value: "3"}, {Name: "z", Value: "4"}},
			Header{"Accept": {"1"}, "X-A": {"2", "3"}, "Z": {"4"}}},
		{[]abi.Header{{Name: "x-a", Value: "1"}, {Name: "b", Value: "2"}, {Name: "x-a", Value: "3"}, {Name: "x-a", Value: "4"}},
			Header{"X-A": {"1", "3", "4"}, "B": {"2"}}},
		{nil, Header{}},
	} {
		raw := abi.AppendRequest(nil, &abi.Request{Method: "GET", URL: "http://h/", Headers: tc.in})
		r, err := decodeRequest(raw)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(r.Header) != fmt.Sprint(tc.want) {
			t.Errorf("%v: got %v, want %v", tc.in, r.Header, tc.want)
		}
		r.Header.Add("X-A", "5") // a name's values are its own: this changes no other
		for name, vs := range tc.want {
			if name != "X-A" && fmt.Sprint(r.Header[name]) != fmt.Sprint(vs) {
				t.Errorf("%v: adding to X-A changed %s: %v", tc.in, name, r.Header[name])
			}
		}
		back, err := abi.DecodeRequest(encodeRequest(r))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range back.Headers {
			if f.Name == "X-A" {
				got = append(got, f.Value)
			}
		}
		if want := append(append([]string(nil), tc.want["X-A"]...), "5"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%v: X-A encoded as %v, want %v", tc.in, got, want)
		}
	}
}
