package objects

import (
	"context"
	"time"

	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/reqid"
)

// WebSocket messages run in batches (batch.go): a room that many clients
// write to pays one synced commit for many messages, and each message's
// frames leave once its writes are durable.

// socketMessage runs one received message's handler on o, in a batch
// with the messages that wait beside it (batch.go). It waits for o's turn
// however long the queue is: the set bounds the messages waiting
// (sockets.Limits.Inbound).
func (r *Registry) socketMessage(o *object, input []byte) {
	used := false
	end, ok := r.beginEvent(o)
	if !ok {
		return // shutting down: the sockets are being closed
	}
	defer func() { end(used) }()
	p := newPending(reqid.With(context.Background(), reqid.New()), input, nil)
	used = r.combine(o, &o.msgs, p, guest.WSMessage, "ws message", time.Time{})
}
