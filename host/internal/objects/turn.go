package objects

import (
	"context"
	"fmt"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/guest"
)

// An object runs one request at a time: holding the token of its turn
// channel (capacity 1) is the right to run. Requests that find the turn
// taken wait for it in the order the runtime's channel gives (first come,
// first served), at most Limits.Queue of them.

// tryAcquire takes o's turn if it is free.
func (o *object) tryAcquire() bool {
	select {
	case o.turn <- struct{}{}:
		return true
	default:
		return false
	}
}

// acquire waits for o's turn, until deadline. Past the namespace's queue
// limit it fails at once with OVERLOADED; at the deadline, with TIMEOUT.
func (o *object) acquire(ctx context.Context, deadline time.Time) (abi.Code, error) {
	if o.tryAcquire() {
		return abi.OK, nil
	}
	if limit := o.ns.version().Limits.Queue; int(o.waiters.Add(1)) > limit {
		o.waiters.Add(-1)
		return abi.Overloaded, fmt.Errorf("object %s: %d requests are already queued (max_queue)", o.id, limit)
	}
	defer o.waiters.Add(-1)
	o.sh.waiting.Add(1)
	defer o.sh.waiting.Add(-1)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	select {
	case o.turn <- struct{}{}:
		return abi.OK, nil
	case <-ctx.Done():
		return abi.Timeout, fmt.Errorf("object %s: gave up waiting for its turn: %w", o.id, ctx.Err())
	case <-o.r.o.Load.Stopping():
		return abi.Overloaded, fmt.Errorf("object %s: %w", o.id, guest.ErrStopping)
	}
}

// release gives o's turn back.
func (o *object) release() { <-o.turn }
