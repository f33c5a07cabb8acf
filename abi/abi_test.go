package abi

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestRequest_RoundTrip(t *testing.T) {
	r := &Request{Method: "POST", URL: "http://h/p?q=1", Headers: []Header{{"A", "1"}, {"B", ""}}, Body: []byte("body")}
	got, err := DecodeRequest(AppendRequest(nil, r))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("got %+v, want %+v", got, r)
	}
}

// TestRequest_Encoding pins the wire format that ABI.md documents.
func TestRequest_Encoding(t *testing.T) {
	got := AppendRequest(nil, &Request{Method: "GET", URL: "/x", Headers: []Header{{"H", "v"}}, Body: []byte("b")})
	want := []byte{
		3, 0, 0, 0, 'G', 'E', 'T',
		2, 0, 0, 0, '/', 'x',
		1, 0, 0, 0, 1, 0, 0, 0, 'H', 1, 0, 0, 0, 'v',
		1, 0, 0, 0, 'b',
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got % x\nwant % x", got, want)
	}
}

// TestAppendRequestHead: a head and its body's bytes are the record.
func TestAppendRequestHead(t *testing.T) {
	r := &Request{Method: "POST", URL: "http://h/p", Headers: []Header{{"a", "b"}}, Body: []byte("body")}
	got := append(AppendRequestHead(nil, r, len(r.Body)), r.Body...)
	if want := AppendRequest(nil, r); !bytes.Equal(got, want) {
		t.Errorf("got % x\nwant % x", got, want)
	}
}

func TestResponse_RoundTrip(t *testing.T) {
	r := &Response{Status: 201, Headers: []Header{{"Content-Type", "application/json"}}, Body: []byte("{}")}
	got, err := DecodeResponse(AppendResponse(nil, r))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("got %+v, want %+v", got, r)
	}
	if _, err := DecodeResponse(AppendResponse(nil, &Response{Status: 99})); err == nil {
		t.Error("status 99 accepted")
	}
}

func TestDecode_Malformed(t *testing.T) {
	good := AppendRequest(nil, &Request{Method: "GET", URL: "/", Headers: []Header{{"a", "b"}}, Body: []byte("xyz")})
	for i := 0; i < len(good); i++ {
		if _, err := DecodeRequest(good[:i]); !errors.Is(err, ErrTruncated) {
			t.Errorf("prefix of %d bytes: got %v, want ErrTruncated", i, err)
		}
	}
	if _, err := DecodeRequest(append(good, 0)); !errors.Is(err, ErrTrailing) {
		t.Errorf("trailing byte: got %v", err)
	}
	// A huge header count fails before allocating room for the headers
	// (4 G headers would not fit in memory).
	huge := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}
	if _, err := DecodeRequest(huge); !errors.Is(err, ErrTruncated) {
		t.Errorf("huge header count: got %v, want ErrTruncated", err)
	}
}

func TestObjectInfo_RoundTrip(t *testing.T) {
	o := &ObjectInfo{Class: "C", ID: "ab", HasName: true, Name: ""}
	got, err := DecodeObjectInfo(AppendObjectInfo(nil, o))
	if err != nil || !reflect.DeepEqual(got, o) {
		t.Errorf("got %+v, %v", got, err)
	}
}

func TestKVList_RoundTrip(t *testing.T) {
	l := &KVList{Keys: []KVListKey{{Name: "a", Expiration: 5, Metadata: []byte("m")}, {Name: "b"}}, Complete: false, Cursor: "c"}
	got, err := DecodeKVList(AppendKVList(nil, l))
	if err != nil || !reflect.DeepEqual(got, l) {
		t.Errorf("got %+v, %v", got, err)
	}
}

func TestKVPutOptions(t *testing.T) {
	o, err := DecodeKVPutOptions(nil)
	if err != nil || !reflect.DeepEqual(o, &KVPutOptions{}) {
		t.Errorf("empty options: %+v %v", o, err)
	}
	in := &KVPutOptions{Expiration: 1, ExpirationTTL: 2, Metadata: []byte("m")}
	o, err = DecodeKVPutOptions(AppendKVPutOptions(nil, in))
	if err != nil || !reflect.DeepEqual(o, in) {
		t.Errorf("got %+v %v", o, err)
	}
}

func TestCode_String(t *testing.T) {
	if Cycle.String() != "call cycle" || Code(99).String() != "code 99" {
		t.Error(Cycle.String(), Code(99).String())
	}
}

// The decoders take bytes from guests: no input may panic them, and what
// decodes must encode back to the same bytes.

func FuzzDecodeRequest(f *testing.F) {
	f.Add(AppendRequest(nil, &Request{Method: "GET", URL: "http://x/", Headers: []Header{{"a", "b"}}, Body: []byte("b")}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if err != nil {
			return
		}
		if re := AppendRequest(nil, r); !bytes.Equal(re, b) {
			t.Fatalf("re-encoding differs:\n% x\n% x", re, b)
		}
	})
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add(AppendResponse(nil, &Response{Status: 200, Headers: []Header{{"a", "b"}}, Body: []byte("b")}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeResponse(b)
		if err != nil {
			return
		}
		if re := AppendResponse(nil, r); !bytes.Equal(re, b) {
			t.Fatalf("re-encoding differs")
		}
	})
}

// checkByDecoding is what CheckResponse stands for: DecodeResponse, then
// CheckHeaders on the headers.
func checkByDecoding(b []byte) (int, error) {
	r, err := DecodeResponse(b)
	if err != nil {
		return 0, err
	}
	if err := CheckHeaders(r.Headers); err != nil {
		return 0, fmt.Errorf("response: %w", err)
	}
	return len(r.Body), nil
}

func TestCheckResponse(t *testing.T) {
	good := AppendResponse(nil, &Response{Status: 200, Headers: []Header{{"Content-Type", "text/plain"}, {"X-A", "b\tc"}}, Body: []byte("hello")})
	cases := map[string][]byte{
		"good":         good,
		"no headers":   AppendResponse(nil, &Response{Status: 204}),
		"status 99":    AppendResponse(nil, &Response{Status: 99}),
		"status 600":   AppendResponse(nil, &Response{Status: 600}),
		"empty name":   AppendResponse(nil, &Response{Status: 200, Headers: []Header{{"", "v"}}}),
		"bad name":     AppendResponse(nil, &Response{Status: 200, Headers: []Header{{"a b", "v"}}}),
		"bad value":    AppendResponse(nil, &Response{Status: 200, Headers: []Header{{"a", "v\r\nx: y"}}}),
		"trailing":     append(bytes.Clone(good), 0),
		"huge count":   {200, 0, 0, 0, 0xff, 0xff, 0xff, 0xff},
		"bad then cut": AppendResponse(nil, &Response{Status: 200, Headers: []Header{{"a b", "v"}}})[:12],
	}
	for i := 0; i < len(good); i++ {
		cases[fmt.Sprintf("first %d bytes", i)] = good[:i]
	}
	for name, b := range cases {
		n, err := CheckResponse(b)
		wantN, wantErr := checkByDecoding(b)
		if n != wantN || fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Errorf("%s: got %d, %v; want %d, %v", name, n, err, wantN, wantErr)
		}
	}
	if n, err := CheckResponse(good); err != nil || n != 5 {
		t.Errorf("good: got %d, %v", n, err)
	}
	if a := testing.AllocsPerRun(100, func() { _, _ = CheckResponse(good) }); a != 0 {
		t.Errorf("CheckResponse allocates %v times", a)
	}
}

// FuzzCheckResponse: CheckResponse agrees with decoding and checking the
// headers on every input.
func FuzzCheckResponse(f *testing.F) {
	f.Add(AppendResponse(nil, &Response{Status: 200, Headers: []Header{{"a", "b"}}, Body: []byte("b")}))
	f.Add(AppendResponse(nil, &Response{Status: 200, Headers: []Header{{"a\x00", "b"}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := CheckResponse(b)
		wantN, wantErr := checkByDecoding(b)
		if n != wantN || fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("got %d, %v; want %d, %v", n, err, wantN, wantErr)
		}
	})
}

func FuzzDecodeKVList(f *testing.F) {
	f.Add(AppendKVList(nil, &KVList{Keys: []KVListKey{{Name: "a", Expiration: 1, Metadata: []byte("m")}}, Cursor: "c"}))
	f.Add(AppendKVPutOptions(nil, &KVPutOptions{Expiration: 1, Metadata: []byte("m")}))
	f.Add(AppendObjectInfo(nil, &ObjectInfo{Class: "C", ID: "i", HasName: true, Name: "n"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if l, err := DecodeKVList(b); err == nil {
			_ = AppendKVList(nil, l)
		}
		if o, err := DecodeKVPutOptions(b); err == nil {
			_ = AppendKVPutOptions(nil, o)
		}
		if o, err := DecodeObjectInfo(b); err == nil {
			if o2, err := DecodeObjectInfo(AppendObjectInfo(nil, o)); err != nil || !reflect.DeepEqual(o, o2) {
				t.Fatalf("object info does not round-trip: %+v %+v %v", o, o2, err)
			}
		}
	})
}

// FuzzDecodeStorage runs the decoders of the storage records on any input:
// none panics, and whatever decodes encodes back to the same bytes.
func FuzzDecodeStorage(f *testing.F) {
	f.Add(AppendKeyList(nil, [][]byte{[]byte("a"), nil}))
	f.Add(AppendEntryList(nil, []Entry{{Key: []byte("k"), Value: []byte("v")}}))
	f.Add(AppendValueList(nil, []Value{{Found: true, Value: []byte("v")}, {}}))
	f.Add(AppendStorageListOptions(nil, &StorageListOptions{Start: []byte("a"), Flags: ListReverse | ListHasEnd, Limit: 3}))
	f.Add(AppendStorageList(nil, &StorageList{Entries: []Entry{{Key: []byte("k")}}, More: true}))
	f.Add(AppendAlarmInfo(nil, &AlarmInfo{RetryCount: 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		same := func(what string, re []byte) {
			if !bytes.Equal(re, b) {
				t.Fatalf("%s: re-encoding differs:\n% x\n% x", what, re, b)
			}
		}
		if k, err := DecodeKeyList(b); err == nil {
			same("key list", AppendKeyList(nil, k))
		}
		if e, err := DecodeEntryList(b); err == nil {
			same("entry list", AppendEntryList(nil, e))
		}
		if v, err := DecodeValueList(b); err == nil {
			// found is any non-zero u32 on the wire; it encodes back as 1.
			_ = AppendValueList(nil, v)
		}
		if o, err := DecodeStorageListOptions(b); err == nil {
			same("list options", AppendStorageListOptions(nil, o))
		}
		if l, err := DecodeStorageList(b); err == nil {
			_ = AppendStorageList(nil, l)
		}
		if a, err := DecodeAlarmInfo(b); err == nil {
			same("alarm info", AppendAlarmInfo(nil, a))
		}
	})
}
