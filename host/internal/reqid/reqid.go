// Package reqid names each request the host serves, so that the short
// message a client gets and the operator's log lines about the same
// request can be matched: the client sees the id, the log has the rest.
package reqid

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
)

// prefix makes ids unique across restarts of the process; seq within it.
var (
	prefix = func() uint32 {
		var b [4]byte
		_, _ = rand.Read(b[:])
		return binary.LittleEndian.Uint32(b[:])
	}()
	seq atomic.Uint64
)

// New returns a new request id: 16 hex digits, unique in this process and
// unlikely to repeat across its restarts.
func New() string {
	var b [8]byte
	binary.BigEndian.PutUint32(b[:4], prefix)
	binary.BigEndian.PutUint32(b[4:], uint32(seq.Add(1)))
	return hex.EncodeToString(b[:])
}

type key struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// From returns the request id ctx carries, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}
