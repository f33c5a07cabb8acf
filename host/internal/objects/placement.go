package objects

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/reqid"
)

// Placement is where a stub call finds its object: it delivers one request
// to the object and returns the object's encoded response once the
// object's writes are durable. The Registry is the local placement, the
// only one today: every object runs in this process. Objects spread over
// several hosts would be placed behind this same seam (DESIGN.md).
type Placement interface {
	Deliver(ctx context.Context, d Delivery) ([]byte, abi.Code, error)
}

// Delivery is one request to one object.
type Delivery struct {
	Namespace *Namespace
	ID        ID
	// Name is the name ID was derived from, when HasName: an object that
	// does not know its name yet learns it.
	Name    string
	HasName bool
	// Request is an encoded abi.Request, owned by the delivery.
	Request []byte
	// From is the guest call that makes the request (nil: none); the
	// request waits for the object's turn until Deadline (zero: as long
	// as its context lasts).
	From     *guest.Call
	Deadline time.Time
}

// MaxChain is the most objects one chain of stub calls may hold at once,
// each waiting on the next: a Worker's call to an object is the first.
// Each holds a live instance while it waits, so an endless chain would
// hold the host's every instance.
const MaxChain = 32

// depthOf is the depth in a chain of stub calls of the object that from
// (nil: the host) calls: 1 for an object a Worker or the host calls.
func depthOf(from *guest.Call) int {
	if from == nil {
		return 1
	}
	return from.Depth + 1
}

// Deliver implements Placement: it runs the request on the local object,
// waiting for its turn unless that would close a cycle.
func (r *Registry) Deliver(ctx context.Context, d Delivery) ([]byte, abi.Code, error) {
	if !r.o.Load.Enter() {
		return nil, abi.Overloaded, guest.ErrStopping
	}
	defer r.o.Load.Exit()
	if depth := depthOf(d.From); depth > MaxChain {
		return nil, abi.TooLarge, fmt.Errorf("a chain of stub calls may hold %d objects at once, each waiting on the next; this call would make %d", MaxChain, depth)
	}
	o := r.get(d.Namespace, d.ID)
	used := false
	defer func() { r.put(o, used) }()
	if d.From != nil {
		if caller, ok := d.From.Caller.(*object); ok {
			if err := r.enter(caller, o); err != nil {
				return nil, abi.Cycle, err
			}
			defer r.leave(caller)
		}
	}
	resp, code, ran, err := r.deliverBatched(ctx, o, d)
	used = ran
	return resp, code, err
}

// logFailure writes a handler's failure to the operator's log, with the
// object's class, ID and name, the request's id, and all the guest said.
func logFailure(ctx context.Context, o *object, handler string, code abi.Code, err error) {
	level, msg := slog.LevelWarn, "object "+handler+" handler failed"
	switch {
	case code == abi.Internal:
		level, msg = slog.LevelError, "object "+handler+": the host failed"
	case guest.IsTrap(err):
		msg = "object " + handler + " handler trapped; instance replaced"
	}
	o.log.Log(ctx, level, msg, "request_id", reqid.From(ctx), "err", err)
}
