package sockets

import (
	"bufio"
	"time"

	"github.com/gorilla/websocket"
)

// Pings between messages. Many client libraries ping every 20–30 s
// (browsers do not). gorilla answers a ping inside NextReader and then
// goes on waiting for the next data frame, so the poller's reader that
// called it stayed blocked — a goroutine and its stack for every pinging
// client, for as long as it sent nothing else — and gorilla's read errors
// are sticky, so no deadline can end that wait and leave the connection
// usable. skimControl answers the pings, and drops the pongs, that are
// wholly buffered at a message boundary before gorilla is called, so the
// reader goes back to the poller. It reads control frames only, and only
// well-formed ones: anything else (a data frame, a close, one that breaks
// RFC 6455) is left to gorilla, which reads all the rest and fails the
// connection as the RFC says. A control frame split across reads is
// waited for here, under the deadline a frame that has begun has
// (Limits.MessageTimeout): in gorilla, once answered, the wait for the
// next frame would have none.

// Control frames from a client, RFC 6455 §5.2 and §5.5: FIN set, no RSV
// bits, opcode 0x9 (ping) or 0xA (pong); masked; at most 125 bytes of
// payload, so the 7-bit length.
const (
	pingHeader     = 0x80 | websocket.PingMessage
	pongHeader     = 0x80 | websocket.PongMessage
	maskBit        = 0x80
	maxControlSize = 125
	pongWait       = time.Second // gorilla's own, for its pongs
)

// skimControl consumes the pings and pongs at the head of br, calling
// pong with each ping's payload (the reader answers on the connection:
// answerPing). It reports whether br holds anything more for gorilla to
// read: false when it is empty, so the socket can go back to the poller.
// br must be at a frame boundary (between messages). fill has it read
// once first if nothing is buffered: the poller found the socket
// readable. A control frame that is only partly here is waited for (the
// caller's read deadline bounds the wait; on an error the rest is left
// to gorilla, which meets it too), so that gorilla is only ever called on
// a data or close frame, whose header the same deadline bounds.
func skimControl(br *bufio.Reader, fill bool, pong func(payload []byte)) bool {
	if fill && br.Buffered() == 0 {
		if _, err := br.Peek(1); err != nil {
			return true // gorilla reads the error and ends the socket
		}
	}
	for br.Buffered() > 0 {
		h, err := br.Peek(2)
		if err != nil || (h[0] != pingHeader && h[0] != pongHeader) || h[1]&maskBit == 0 {
			return true
		}
		size := int(h[1] &^ maskBit)
		if size > maxControlSize {
			return true
		}
		end := 2 + 4 + size
		if h, err = br.Peek(end); err != nil {
			return true
		}
		if h[0] == pingHeader {
			mask, payload := h[2:6], make([]byte, size)
			for i := range payload {
				payload[i] = h[6+i] ^ mask[i%4]
			}
			pong(payload)
		}
		_, _ = br.Discard(end)
	}
	return false
}

// answerPing answers a ping on c with a pong of its payload. As gorilla's
// own answer, it waits at most a second: a connection that takes no pong
// in that time is failing, and its reader finds out.
func answerPing(c *websocket.Conn) func([]byte) {
	return func(payload []byte) {
		_ = c.WriteControl(websocket.PongMessage, payload, now().Add(pongWait))
	}
}
