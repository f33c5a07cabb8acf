package guest

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/sockets"
)

// The host functions of WebSockets: ws_accept, ws_send, ws_broadcast,
// ws_close, ws_list, ws_attachment_get and _set, ws_auto_response and
// ws_auto_response_time. Each acts on the sockets of the object whose
// handler runs. Frames a handler sends wait in its call's outbox and
// leave only once its writes are durable (Call.SocketsDone): a handler
// that fails or traps sends nothing.

// SocketOwner is implemented by the object whose handler runs
// (Call.Caller): it gives the object's set of WebSockets, making it when
// create is set (nil otherwise, if it has none).
type SocketOwner interface {
	Sockets(create bool) *sockets.Set
}

// maxOutboxBytes bounds what one handler call may queue to send: its
// frames wait in memory until the call's writes commit.
const maxOutboxBytes = 64 << 20

// outbox is what a call queued for its object's sockets.
type outbox struct {
	ops      []sockOp
	bytes    int64
	accepted []*sockets.Socket
}

// sockOp is one queued send (to one socket, or a broadcast's) or close.
type sockOp struct {
	to     []*sockets.Socket
	binary bool
	data   []byte
	close  bool
	code   int
	reason string
}

// SocketsDone settles the WebSocket work of a handler call that
// returned: when ok (it succeeded and its writes are durable) its frames
// leave, in the order it sent them; otherwise they are dropped, and the
// sockets it accepted are discarded.
func (c *Call) SocketsDone(ok bool) {
	ob := &c.ws
	if ok {
		for _, op := range ob.ops {
			if op.close {
				op.to[0].Close(op.code, op.reason)
				continue
			}
			if err := sockets.SendTo(op.to, op.binary, op.data); err != nil {
				c.Log.Error("WebSocket send", "err", err)
			}
		}
	} else {
		for _, s := range ob.accepted {
			s.Discard()
		}
	}
	*ob = outbox{}
}

// queue adds op to the outbox, within its bound.
func (c *Call) queue(op sockOp) abi.Code {
	n := int64(len(op.data)+len(op.reason)+64) + 8*int64(len(op.to))
	if c.ws.bytes+n > maxOutboxBytes {
		return c.errorf(abi.TooLarge, "this handler call has queued %d bytes of WebSocket frames; at most %d leave with one call", c.ws.bytes, maxOutboxBytes)
	}
	c.ws.bytes += n
	c.ws.ops = append(c.ws.ops, op)
	return abi.OK
}

// socketSet returns the set of the object whose handler runs, or nil.
func (c *Call) socketSet(create bool) *sockets.Set {
	if o, ok := c.Caller.(SocketOwner); ok {
		return o.Sockets(create)
	}
	return nil
}

// socket returns the socket id of the object, or INVALID (with the
// pending result saying why) when there is none.
func (c *Call) socket(id uint32) (*sockets.Socket, abi.Code) {
	if st := c.socketSet(false); st != nil {
		if s := st.Get(id); s != nil {
			return s, abi.OK
		}
	}
	return nil, c.errorf(abi.Invalid, "the object has no WebSocket %d", id)
}

// message checks a message's kind and size: whether it is binary, or the
// code of what is wrong with it.
func (c *Call) message(kind uint32, data []byte, limit int64) (bool, abi.Code) {
	switch {
	case kind != abi.WSText && kind != abi.WSBinary:
		return false, c.errorf(abi.Invalid, "message kind %d is neither 1 (text) nor 2 (binary)", kind)
	case int64(len(data)) > limit:
		return false, c.errorf(abi.TooLarge, "a message of %d bytes is over the limit of %d", len(data), limit)
	case kind == abi.WSText && !utf8.Valid(data):
		return false, c.errorf(abi.Invalid, "a text message must be UTF-8; send it as binary (kind 2)")
	}
	return kind == abi.WSBinary, abi.OK
}

// overloaded fails a send with OVERLOADED while the host's buffers of
// unsent frames are full, or the account's share of them.
func (c *Call) overloaded(st *sockets.Set) abi.Code {
	if st == nil {
		return abi.OK
	}
	if full := st.Full(); full != "" {
		return c.errorf(abi.Overloaded, "%s; try again later", full)
	}
	return abi.OK
}

// checkTag checks a tag: 1–256 bytes of UTF-8.
func (c *Call) checkTag(tag []byte) abi.Code {
	switch {
	case len(tag) == 0:
		return c.errorf(abi.Invalid, "a tag may not be empty")
	case len(tag) > abi.MaxTagBytes:
		return c.errorf(abi.TooLarge, "a tag of %d bytes is over the limit of %d", len(tag), abi.MaxTagBytes)
	case !utf8.Valid(tag):
		return c.errorf(abi.Invalid, "a tag must be UTF-8")
	}
	return abi.OK
}

func wsAccept(ctx context.Context, c *Call, a *args) abi.Code {
	in, at := a.in(), a.ptr()
	if c.kind != ObjectFetch {
		return c.errorf(abi.BadState, "ws_accept accepts the WebSocket of the request a fetch handler serves")
	}
	if !c.inst.m.Has(abi.ExportObjectWSMessage) {
		return c.errorf(abi.BadState, "the module exports no %s handler to receive the socket's messages", abi.ExportObjectWSMessage)
	}
	up := sockets.UpgradeFrom(ctx)
	if up == nil {
		return c.errorf(abi.BadState, "the request is not a WebSocket upgrade (no Upgrade: websocket from the client)")
	}
	if up.Claimed() {
		return c.errorf(abi.BadState, "the request's WebSocket was already accepted")
	}
	tags, err := abi.DecodeTagList(in)
	if err != nil {
		return c.errorf(abi.BadEncoding, "tags: %v", err)
	}
	if len(tags) > abi.MaxSocketTags {
		return c.errorf(abi.TooLarge, "%d tags; a socket may have at most %d", len(tags), abi.MaxSocketTags)
	}
	for _, t := range tags {
		if code := c.checkTag([]byte(t)); code != abi.OK {
			return code
		}
	}
	st := c.socketSet(true)
	if st == nil {
		return c.errorf(abi.BadState, "this handler's object cannot hold WebSockets")
	}
	s, err := st.Accept(tags)
	if errors.Is(err, sockets.ErrTooMany) {
		return c.errorf(abi.TooLarge, "%v", err)
	} else if err != nil {
		return c.errorf(abi.Internal, "%v", err)
	}
	if !up.Claim(s) {
		s.Discard()
		return c.errorf(abi.BadState, "the request's WebSocket was already accepted")
	}
	c.ws.accepted = append(c.ws.accepted, s)
	a.mem.WriteUint32Le(at, s.ID())
	return abi.OK
}

func wsSend(_ context.Context, c *Call, a *args) abi.Code {
	id, kind, data := a.val(), a.val(), a.in()
	s, code := c.socket(id)
	if s == nil {
		return code
	}
	binary, code := c.message(kind, data, s.Limits().MessageBytes)
	if code != abi.OK {
		return code
	}
	if !s.Open() {
		return c.errorf(abi.Invalid, "WebSocket %d is closed", id)
	}
	if code := c.overloaded(c.socketSet(false)); code != abi.OK {
		return code
	}
	return c.queue(sockOp{to: []*sockets.Socket{s}, binary: binary, data: clone(data)})
}

func wsBroadcast(_ context.Context, c *Call, a *args) abi.Code {
	tag, except, kind, data, at := a.in(), a.val(), a.val(), a.in(), a.ptr()
	if len(tag) > 0 {
		if code := c.checkTag(tag); code != abi.OK {
			return code
		}
	}
	st := c.socketSet(false)
	var to []*sockets.Socket
	limit := sockets.DefaultLimits.MessageBytes
	if st != nil {
		limit = st.Limits().MessageBytes
		for _, s := range st.List(string(tag)) {
			if s.ID() != except {
				to = append(to, s)
			}
		}
	}
	binary, code := c.message(kind, data, limit)
	if code != abi.OK {
		return code
	}
	if len(to) > 0 {
		if code := c.overloaded(st); code != abi.OK {
			return code
		}
	}
	a.mem.WriteUint32Le(at, uint32(len(to)))
	if len(to) == 0 {
		return abi.OK
	}
	return c.queue(sockOp{to: to, binary: binary, data: clone(data)})
}

func wsClose(_ context.Context, c *Call, a *args) abi.Code {
	id, closeCode, reason := a.val(), a.val(), a.in()
	s, code := c.socket(id)
	if s == nil {
		return code
	}
	switch {
	case closeCode != 1000 && (closeCode < 3000 || closeCode > 4999):
		return c.errorf(abi.Invalid, "close code %d is neither 1000 nor in 3000–4999", closeCode)
	case len(reason) > abi.MaxCloseReasonBytes:
		return c.errorf(abi.TooLarge, "a close reason of %d bytes is over the limit of %d", len(reason), abi.MaxCloseReasonBytes)
	case !utf8.Valid(reason):
		return c.errorf(abi.Invalid, "a close reason must be UTF-8")
	case !s.Open():
		return c.errorf(abi.Invalid, "WebSocket %d is closed", id)
	}
	return c.queue(sockOp{to: []*sockets.Socket{s}, close: true, code: int(closeCode), reason: string(reason)})
}

func wsList(_ context.Context, c *Call, a *args) abi.Code {
	tag := a.in()
	if len(tag) > 0 {
		if code := c.checkTag(tag); code != abi.OK {
			return code
		}
	}
	var l []abi.SocketInfo
	if st := c.socketSet(false); st != nil {
		for _, s := range st.List(string(tag)) {
			l = append(l, abi.SocketInfo{Socket: s.ID(), Tags: s.Tags()})
		}
	}
	c.pending = abi.AppendSocketList(nil, l)
	return abi.OK
}

func wsAttachmentGet(_ context.Context, c *Call, a *args) abi.Code {
	s, code := c.socket(a.val())
	if s == nil {
		return code
	}
	c.pending = s.Attachment()
	return abi.OK
}

func wsAttachmentSet(_ context.Context, c *Call, a *args) abi.Code {
	id, data := a.val(), a.in()
	s, code := c.socket(id)
	if s == nil {
		return code
	}
	if len(data) > abi.MaxAttachmentBytes {
		return c.errorf(abi.TooLarge, "an attachment of %d bytes is over the limit of %d", len(data), abi.MaxAttachmentBytes)
	}
	s.SetAttachment(data)
	return abi.OK
}

func wsAutoResponse(_ context.Context, c *Call, a *args) abi.Code {
	req, resp := a.in(), a.in()
	switch {
	case len(req) > abi.MaxAutoResponseBytes || len(resp) > abi.MaxAutoResponseBytes:
		return c.errorf(abi.TooLarge, "an auto-response request or response is over the limit of %d bytes", abi.MaxAutoResponseBytes)
	case !utf8.Valid(req) || !utf8.Valid(resp):
		return c.errorf(abi.Invalid, "an auto-response pair is text: UTF-8")
	}
	st := c.socketSet(len(req) > 0)
	if st != nil {
		st.SetAutoResponse(string(req), string(resp))
	}
	return abi.OK
}

func wsAutoResponseTime(_ context.Context, c *Call, a *args) abi.Code {
	id, at := a.val(), a.ptr()
	s, code := c.socket(id)
	if s == nil {
		return code
	}
	t, ok := s.AutoResponseTime()
	if !ok {
		return abi.NotFound
	}
	a.mem.WriteUint64Le(at, uint64(t))
	return abi.OK
}

// clone copies b out of guest memory.
func clone(b []byte) []byte { return append([]byte(nil), b...) }
