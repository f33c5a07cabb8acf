package abi

import "fmt"

// The records and limits of WebSockets (ABI.md §4, WebSockets).

// Kinds of WebSocket messages: the kind parameter of ws_send and
// ws_broadcast, and the kind field of a WSMessage.
const (
	WSText   = 1
	WSBinary = 2
)

// Limits of WebSockets, as Cloudflare's Hibernation API has them.
const (
	// MaxSocketTags is the most tags one socket may have; a tag is
	// 1–MaxTagBytes bytes.
	MaxSocketTags = 10
	MaxTagBytes   = 256
	// MaxAttachmentBytes bounds a socket's attachment.
	MaxAttachmentBytes = 2048
	// MaxCloseReasonBytes bounds the reason of a close: a close frame's
	// payload is at most 125 bytes, two of them the code.
	MaxCloseReasonBytes = 123
	// MaxAutoResponseBytes bounds the request and the response of the
	// auto-response pair.
	MaxAutoResponseBytes = 2048
)

// WSMessage is the input of ExportObjectWSMessage: a message a client sent
// on one of the object's sockets.
//
//	u32 socket, u32 kind (1 text, 2 binary), bytes data
type WSMessage struct {
	Socket uint32
	Binary bool
	Data   []byte
}

// AppendWSMessage appends the encoding of m to b.
func AppendWSMessage(b []byte, m *WSMessage) []byte {
	e := Encoder{B: b}
	e.U32(m.Socket)
	if m.Binary {
		e.U32(WSBinary)
	} else {
		e.U32(WSText)
	}
	e.Bytes(m.Data)
	return e.B
}

// DecodeWSMessage decodes an encoded WSMessage.
func DecodeWSMessage(b []byte) (*WSMessage, error) {
	d := Decoder{B: b}
	m := &WSMessage{Socket: d.U32()}
	k := d.U32()
	m.Binary, m.Data = k == WSBinary, d.Bytes()
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode ws message: %w", err)
	}
	if k != WSText && k != WSBinary {
		return nil, fmt.Errorf("decode ws message: kind %d is neither 1 (text) nor 2 (binary)", k)
	}
	return m, nil
}

// WSClose is the input of ExportObjectWSClose: a socket its client closed,
// or whose connection was lost (code 1006, not clean).
//
//	u32 socket, u32 code, str reason, u32 was_clean (0 or 1)
type WSClose struct {
	Socket   uint32
	Code     uint32
	Reason   string
	WasClean bool
}

// AppendWSClose appends the encoding of c to b.
func AppendWSClose(b []byte, c *WSClose) []byte {
	e := Encoder{B: b}
	e.U32(c.Socket)
	e.U32(c.Code)
	e.Str(c.Reason)
	if c.WasClean {
		e.U32(1)
	} else {
		e.U32(0)
	}
	return e.B
}

// DecodeWSClose decodes an encoded WSClose.
func DecodeWSClose(b []byte) (*WSClose, error) {
	d := Decoder{B: b}
	c := &WSClose{Socket: d.U32(), Code: d.U32(), Reason: d.Str(), WasClean: d.U32() != 0}
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode ws close: %w", err)
	}
	return c, nil
}

// WSError is the input of ExportObjectWSError: a socket the host closed
// because of an error (a message over the size limit, a protocol error).
//
//	u32 socket, str message
type WSError struct {
	Socket  uint32
	Message string
}

// AppendWSError appends the encoding of e to b.
func AppendWSError(b []byte, we *WSError) []byte {
	e := Encoder{B: b}
	e.U32(we.Socket)
	e.Str(we.Message)
	return e.B
}

// DecodeWSError decodes an encoded WSError.
func DecodeWSError(b []byte) (*WSError, error) {
	d := Decoder{B: b}
	we := &WSError{Socket: d.U32(), Message: d.Str()}
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode ws error: %w", err)
	}
	return we, nil
}

// SocketInfo is one entry of a SocketList: a socket and its tags.
type SocketInfo struct {
	Socket uint32
	Tags   []string
}

// AppendSocketList appends the encoding of a SocketList to b:
//
//	u32 n, n × (u32 socket, u32 n_tags, n_tags × str tag)
func AppendSocketList(b []byte, l []SocketInfo) []byte {
	e := Encoder{B: b}
	e.U32(uint32(len(l)))
	for i := range l {
		e.U32(l[i].Socket)
		e.U32(uint32(len(l[i].Tags)))
		for _, t := range l[i].Tags {
			e.Str(t)
		}
	}
	return e.B
}

// DecodeSocketList decodes an encoded SocketList.
func DecodeSocketList(b []byte) ([]SocketInfo, error) {
	d := Decoder{B: b}
	n := d.count(8)
	l := make([]SocketInfo, 0, n)
	for i := 0; i < n && d.Err == nil; i++ {
		s := SocketInfo{Socket: d.U32()}
		nt := d.count(4)
		for j := 0; j < nt && d.Err == nil; j++ {
			s.Tags = append(s.Tags, d.Str())
		}
		l = append(l, s)
	}
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode socket list: %w", err)
	}
	return l, nil
}

// AppendTagList appends the encoding of a TagList, the tags ws_accept
// takes, to b: u32 n, n × str tag (a KeyList's layout).
func AppendTagList(b []byte, tags []string) []byte {
	e := Encoder{B: b}
	e.U32(uint32(len(tags)))
	for _, t := range tags {
		e.Str(t)
	}
	return e.B
}

// DecodeTagList decodes an encoded TagList.
func DecodeTagList(b []byte) ([]string, error) {
	d := Decoder{B: b}
	n := d.count(4)
	tags := make([]string, 0, n)
	for i := 0; i < n && d.Err == nil; i++ {
		tags = append(tags, d.Str())
	}
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("decode tag list: %w", err)
	}
	return tags, nil
}
