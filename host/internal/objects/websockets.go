package objects

import (
	"context"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/guest"
	"github.com/dohost/dohost/host/internal/reqid"
	"github.com/dohost/dohost/host/internal/sockets"
)

// An object's WebSockets live in its sockets.Set, which the host keeps
// whether or not the object has an instance: an object whose only work is
// open sockets is evicted like any idle one (it hibernates), its record
// stays while it has sockets, and the next event starts its instance
// again (constructor first) and runs the handler.

// Sockets implements guest.SocketOwner: o's set of sockets, made on first
// use when create is set. The caller holds o's turn.
func (o *object) Sockets(create bool) *sockets.Set {
	if s := o.ws.Load(); s != nil || !create {
		return s
	}
	if o.r.o.Sockets == nil {
		return nil
	}
	s := o.r.o.Sockets.NewSet(wsEvents{o}, o.ns.version().Limits.Sockets, o.ns.cfg.Account, o.log)
	o.ws.Store(s)
	return s
}

// hasSockets reports whether o holds sockets, which keep its record.
func (o *object) hasSockets() bool {
	s := o.ws.Load()
	return s != nil && s.Len() > 0
}

// wsEvents delivers a set's events to its object.
type wsEvents struct{ o *object }

func (e wsEvents) Message(s *sockets.Socket, binary bool, data []byte) {
	in := abi.AppendWSMessage(nil, &abi.WSMessage{Socket: s.ID(), Binary: binary, Data: data})
	e.o.r.socketMessage(e.o, in)
}

func (e wsEvents) Closed(s *sockets.Socket, code int, reason string, clean bool) {
	if !e.o.ns.version().Module.Has(abi.ExportObjectWSClose) {
		return
	}
	in := abi.AppendWSClose(nil, &abi.WSClose{Socket: s.ID(), Code: uint32(code), Reason: reason, WasClean: clean})
	e.o.r.socketEvent(e.o, guest.WSClose, "ws close", in)
}

func (e wsEvents) Error(s *sockets.Socket, msg string) {
	if !e.o.ns.version().Module.Has(abi.ExportObjectWSError) {
		return
	}
	in := abi.AppendWSError(nil, &abi.WSError{Socket: s.ID(), Message: msg})
	e.o.r.socketEvent(e.o, guest.WSError, "ws error", in)
}

// Empty drops o's record if nothing else keeps it: no reference, no
// instance.
func (e wsEvents) Empty() {
	o, s := e.o, e.o.sh
	s.mu.Lock()
	defer s.mu.Unlock()
	k := objectKey{o.ns, o.id}
	if o.refs == 0 && !o.inLRU && s.objects[k] == o && !o.hasSockets() {
		delete(s.objects, k)
	}
}

// socketEvent runs the handler of one socket event on o, starting its
// instance if it has none. It waits for o's turn however long the queue
// is: the set bounds the events waiting (sockets.Limits.Inbound).
func (r *Registry) socketEvent(o *object, kind guest.Kind, handler string, input []byte) {
	used := false
	end, ok := r.beginEvent(o)
	if !ok {
		return // shutting down: the sockets are being closed
	}
	defer func() { end(used) }()
	select {
	case o.turn <- struct{}{}:
	case <-r.o.Load.Stopping():
		return
	}
	defer o.release()
	used = true
	ctx := reqid.With(context.Background(), reqid.New())
	cpu := o.ns.version().Module.CPU()
	r.o.Load.Begin(cpu)
	defer r.o.Load.End(cpu)
	r.o.Load.AwaitShare(cpu)
	if code, err := o.run(ctx, kind, input, nil); err != nil {
		logFailure(ctx, o, handler, code, err)
	}
}

// beginEvent counts a socket event of o as work under way and takes a
// reference to o, unless the host is stopping (then it reports false);
// end undoes both, used telling whether the event ran on o.
func (r *Registry) beginEvent(o *object) (end func(used bool), ok bool) {
	if !r.o.Load.Enter() {
		return nil, false
	}
	r.ref(o)
	return func(used bool) {
		r.put(o, used)
		r.o.Load.Exit()
	}, true
}

// ref takes another reference to o, whose record is in the registry (it
// has sockets).
func (r *Registry) ref(o *object) {
	o.sh.mu.Lock()
	o.refs++
	o.sh.mu.Unlock()
}
