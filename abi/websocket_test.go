package abi

import (
	"bytes"
	"reflect"
	"testing"
)

func TestWebSocketRecords(t *testing.T) {
	m := &WSMessage{Socket: 7, Binary: true, Data: []byte{0, 1}}
	if got, err := DecodeWSMessage(AppendWSMessage(nil, m)); err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("message: %+v %v", got, err)
	}
	bad := AppendWSMessage(nil, m)
	bad[4] = 3 // kind 3
	if _, err := DecodeWSMessage(bad); err == nil {
		t.Fatal("kind 3 decoded")
	}
	c := &WSClose{Socket: 1, Code: 4001, Reason: "bye", WasClean: true}
	if got, err := DecodeWSClose(AppendWSClose(nil, c)); err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("close: %+v %v", got, err)
	}
	e := &WSError{Socket: 2, Message: "too big"}
	if got, err := DecodeWSError(AppendWSError(nil, e)); err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("error: %+v %v", got, err)
	}
	l := []SocketInfo{{Socket: 1, Tags: []string{"a", "b"}}, {Socket: 3}}
	if got, err := DecodeSocketList(AppendSocketList(nil, l)); err != nil || !reflect.DeepEqual(got, l) {
		t.Fatalf("list: %+v %v", got, err)
	}
	tags := []string{"x", "y"}
	if got, err := DecodeTagList(AppendTagList(nil, tags)); err != nil || !reflect.DeepEqual(got, tags) {
		t.Fatalf("tags: %+v %v", got, err)
	}
	if _, err := DecodeTagList(append(AppendTagList(nil, tags), 0)); err == nil {
		t.Fatal("trailing byte decoded")
	}
}

// FuzzDecodeWebSocket runs the decoders of the WebSocket records on any
// input: none panics, and whatever decodes encodes back to the same bytes.
func FuzzDecodeWebSocket(f *testing.F) {
	f.Add(AppendWSMessage(nil, &WSMessage{Socket: 1, Data: []byte("hi")}))
	f.Add(AppendWSClose(nil, &WSClose{Socket: 1, Code: 1000, Reason: "r", WasClean: true}))
	f.Add(AppendWSError(nil, &WSError{Socket: 1, Message: "m"}))
	f.Add(AppendSocketList(nil, []SocketInfo{{Socket: 1, Tags: []string{"t"}}}))
	f.Add(AppendTagList(nil, []string{"a", "b"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		same := func(what string, re []byte) {
			if !bytes.Equal(re, b) {
				t.Fatalf("%s: re-encoding differs:\n% x\n% x", what, re, b)
			}
		}
		if m, err := DecodeWSMessage(b); err == nil {
			same("message", AppendWSMessage(nil, m))
		}
		if c, err := DecodeWSClose(b); err == nil {
			_ = AppendWSClose(nil, c) // was_clean is any non-zero u32 on the wire
		}
		if e, err := DecodeWSError(b); err == nil {
			same("error", AppendWSError(nil, e))
		}
		if l, err := DecodeSocketList(b); err == nil {
			same("socket list", AppendSocketList(nil, l))
		}
		if tags, err := DecodeTagList(b); err == nil {
			same("tag list", AppendTagList(nil, tags))
		}
	})
}
