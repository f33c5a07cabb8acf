package dohost

import (
	"testing"

	"github.com/dohost/dohost/abi"
)

// BenchmarkObjectPath is what the SDK does for one request of the seed
// flow's object, natively: decode the request, read a query parameter,
// answer JSON, encode the response. Its allocations are the guest's.
func BenchmarkObjectPath(b *testing.B) {
	raw := abi.AppendRequest(nil, &abi.Request{Method: "GET", URL: "http://127.0.0.1:8791/?roomId=room-42",
		Headers: []abi.Header{{Name: "cf-connecting-ip", Value: "127.0.0.1"}, {Name: "host", Value: "127.0.0.1:8791"}}})
	type reply struct {
		Room         string  `json:"room"`
		PreviousRoom *string `json:"previousRoom"`
		Requests     int     `json:"requests"`
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		req, err := decodeRequest(raw)
		if err != nil {
			b.Fatal(err)
		}
		room := req.URL.Query().Get("roomId")
		prev := "room-41"
		_ = encodeResponse(JSON(200, reply{Room: room, PreviousRoom: &prev, Requests: i}))
	}
}
