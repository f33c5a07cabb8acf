package dohost

import (
	"bytes"
	"errors"
	"time"
	"unsafe"

	"github.com/dohost/dohost/abi"
)

// WebSockets, as Cloudflare's Hibernation API has them: an object accepts
// the WebSocket of an upgrade request (State.AcceptWebSocket) and answers
// UpgradeResponse; from then on the host holds the connection, also while
// the object is evicted, and calls the object's WebSocketMessage (and
// WebSocketClose, WebSocketError) methods for what its clients do. Frames
// an object sends leave once the handler that sent them has returned and
// its writes are durable; a handler that fails sends none.

// WebSocket is one of the object's WebSockets. It stays valid across
// evictions: the host keeps the socket, with its id, tags and attachment.
type WebSocket struct {
	id   uint32
	tags []string
}

// ID returns the socket's id, unique among the object's open sockets.
func (ws WebSocket) ID() uint32 { return ws.id }

// Tags returns the tags the socket was accepted with (known for the
// sockets of GetWebSockets and AcceptWebSocket).
func (ws WebSocket) Tags() []string { return ws.tags }

// Send sends a text message.
func (ws WebSocket) Send(text string) error {
	return check("WebSocket.Send", hostWSSend(ws.id, abi.WSText, sptr(text), uint32(len(text))), pending)
}

// SendBinary sends a binary message.
func (ws WebSocket) SendBinary(data []byte) error {
	return check("WebSocket.SendBinary", hostWSSend(ws.id, abi.WSBinary, bptr(data), uint32(len(data))), pending)
}

// Close closes the socket with code (1000, or 3000–4999) and reason (at
// most 123 bytes), after the messages sent before it. No WebSocketClose
// follows for a socket the object closed.
func (ws WebSocket) Close(code int, reason string) error {
	return check("WebSocket.Close", hostWSClose(ws.id, uint32(code), sptr(reason), uint32(len(reason))), pending)
}

// Attachment returns the socket's attachment (DeserializeAttachment):
// empty until SetAttachment.
func (ws WebSocket) Attachment() ([]byte, error) {
	code := hostWSAttachmentGet(ws.id, scratchPtr, uint32(len(scratch)), outLenPtr)
	if err := check("WebSocket.Attachment", code, output); err != nil {
		return nil, err
	}
	return bytes.Clone(output()), nil
}

// SetAttachment stores up to 2 KiB with the socket (SerializeAttachment):
// it survives the object's eviction, for the next instance to read.
func (ws WebSocket) SetAttachment(data []byte) error {
	return check("WebSocket.SetAttachment", hostWSAttachmentSet(ws.id, bptr(data), uint32(len(data))), pending)
}

// AutoResponseTime returns when the host last answered this socket with
// the auto-response (State.SetWebSocketAutoResponse); ok is false if
// never.
func (ws WebSocket) AutoResponseTime() (t time.Time, ok bool, err error) {
	var ms uint64
	code := hostWSAutoResponseTime(ws.id, unsafe.Pointer(&ms))
	switch abi.Code(code) {
	case abi.OK:
		return time.UnixMilli(int64(ms)), true, nil
	case abi.NotFound:
		return time.Time{}, false, nil
	}
	return time.Time{}, false, check("WebSocket.AutoResponseTime", code, pending)
}

// Message is a message a client sent.
type Message struct {
	Binary bool
	Data   []byte
}

// Text returns the message as a string.
func (m Message) Text() string { return string(m.Data) }

// WebSocketHandler is implemented by objects that accept WebSockets: the
// host calls WebSocketMessage for each message a client sends, starting
// the object first if it was evicted. An error (or a panic) is logged and
// the message's frames are not sent; the socket stays open.
type WebSocketHandler interface {
	WebSocketMessage(ws WebSocket, msg Message) error
}

// WebSocketCloseHandler is implemented by objects that want to know when
// a client closes its socket (clean, with its code and reason) or its
// connection is lost (1006, not clean).
type WebSocketCloseHandler interface {
	WebSocketClose(ws WebSocket, code int, reason string, wasClean bool) error
}

// WebSocketErrorHandler is implemented by objects that want to know when
// the host closed a socket for an error: a message over the size limit, a
// client too slow to read its messages.
type WebSocketErrorHandler interface {
	WebSocketError(ws WebSocket, err error) error
}

// ErrNoWebSocketHandler is returned by AcceptWebSocket when the object's
// class has no WebSocketMessage method.
var ErrNoWebSocketHandler = errors.New("dohost: AcceptWebSocket: the object has no WebSocketMessage method (implement dohost.WebSocketHandler)")

// AcceptWebSocket accepts the WebSocket of the upgrade request the object
// is serving, with up to 10 tags; answer the request with
// UpgradeResponse. Messages sent to the socket before the client is
// connected wait for it.
func (s *State) AcceptWebSocket(tags ...string) (WebSocket, error) {
	if _, ok := theObject.(WebSocketHandler); !ok && theObject != nil {
		return WebSocket{}, ErrNoWebSocketHandler
	}
	enc := abi.AppendTagList(nil, tags)
	var id uint32
	if err := check("State.AcceptWebSocket", hostWSAccept(bptr(enc), uint32(len(enc)), unsafe.Pointer(&id)), pending); err != nil {
		return WebSocket{}, err
	}
	return WebSocket{id: id, tags: tags}, nil
}

// UpgradeResponse is the answer to an upgrade request whose WebSocket
// the object accepted: 101 Switching Protocols.
func UpgradeResponse() *Response { return NewResponse(101, nil) }

// IsWebSocketUpgrade reports whether req asks for a WebSocket.
func IsWebSocketUpgrade(req *Request) bool {
	return bytes.EqualFold([]byte(req.Header.Get("Upgrade")), []byte("websocket"))
}

// GetWebSockets returns the object's open sockets, those with tag if tag
// is not empty, in the order they were accepted.
func (s *State) GetWebSockets(tag string) ([]WebSocket, error) {
	code := hostWSList(sptr(tag), uint32(len(tag)), scratchPtr, uint32(len(scratch)), outLenPtr)
	if err := check("State.GetWebSockets", code, output); err != nil {
		return nil, err
	}
	l, err := abi.DecodeSocketList(output())
	if err != nil {
		return nil, &Error{Op: "State.GetWebSockets", Code: abi.BadEncoding, Message: err.Error()}
	}
	out := make([]WebSocket, len(l))
	for i, e := range l {
		out[i] = WebSocket{id: e.Socket, tags: e.Tags}
	}
	return out, nil
}

// Broadcast sends one text message to every open socket with tag (every
// one if tag is empty) but except (the zero WebSocket: none), in one host
// call: the host writes the frame to each. It returns how many sockets
// it was sent to.
func (s *State) Broadcast(tag string, except WebSocket, text string) (int, error) {
	return broadcast("State.Broadcast", tag, except, abi.WSText, sptr(text), len(text))
}

// BroadcastBinary is Broadcast with a binary message.
func (s *State) BroadcastBinary(tag string, except WebSocket, data []byte) (int, error) {
	return broadcast("State.BroadcastBinary", tag, except, abi.WSBinary, bptr(data), len(data))
}

func broadcast(op, tag string, except WebSocket, kind uint32, p unsafe.Pointer, n int) (int, error) {
	var count uint32
	code := hostWSBroadcast(sptr(tag), uint32(len(tag)), except.id, kind, p, uint32(n), unsafe.Pointer(&count))
	if err := check(op, code, pending); err != nil {
		return 0, err
	}
	return int(count), nil
}

// SetWebSocketAutoResponse makes the host answer a text message equal to
// request with response without waking the object, on every socket of
// the object (an empty request removes the pair).
func (s *State) SetWebSocketAutoResponse(request, response string) error {
	return check("State.SetWebSocketAutoResponse",
		hostWSAutoResponse(sptr(request), uint32(len(request)), sptr(response), uint32(len(response))), pending)
}
