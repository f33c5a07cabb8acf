package sockets

import (
	"bufio"
	"bytes"
	"testing"
)

// controlFrame is a client's control frame of opcode op (masked with
// mask) carrying payload.
func controlFrame(op byte, mask [4]byte, payload []byte) []byte {
	f := append([]byte{0x80 | op, maskBit | byte(len(payload))}, mask[:]...)
	for i, b := range payload {
		f = append(f, b^mask[i%4])
	}
	return f
}

// FuzzSkimControl: whatever a client sends, skimControl takes only whole,
// well-formed pings and pongs from the front, hands on each ping's
// payload unmasked, and stops at the first byte that is not one of them.
func FuzzSkimControl(f *testing.F) {
	m := [4]byte{1, 2, 3, 4}
	f.Add(controlFrame(0x9, m, []byte("hello")))
	f.Add(append(controlFrame(0xA, m, nil), controlFrame(0x9, m, []byte("x"))...))
	f.Add(append(controlFrame(0x9, m, []byte("ab")), 0x81, 0x85, 1, 2, 3, 4, 'h'))
	f.Add(controlFrame(0x9, m, []byte("cut"))[:5])
	f.Add([]byte{0x89, 0x05, 'h', 'e', 'l', 'l', 'o'}) // unmasked
	f.Add([]byte{0x88, 0x80, 0, 0, 0, 0})              // a close
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > readBuffer {
			data = data[:readBuffer] // what one read can buffer
		}
		br := bufio.NewReaderSize(bytes.NewReader(data), readBuffer)
		var pongs [][]byte
		more := skimControl(br, true, func(p []byte) { pongs = append(pongs, p) })
		rest := br.Buffered()
		if more != (rest > 0) && len(data) > 0 {
			t.Fatalf("more %v with %d bytes left", more, rest)
		}
		// What it took is whole frames, each a well-formed ping or pong,
		// and a pong answers each ping with its payload.
		took := data[:len(data)-rest]
		var want [][]byte
		for len(took) > 0 {
			if len(took) < 6 || (took[0] != pingHeader && took[0] != pongHeader) || took[1]&maskBit == 0 {
				t.Fatalf("took a frame that is no ping or pong: % x", took)
			}
			n := int(took[1] &^ maskBit)
			if n > maxControlSize || len(took) < 6+n {
				t.Fatalf("took a frame that is not whole: % x", took)
			}
			if took[0] == pingHeader {
				p := make([]byte, n)
				for i := range p {
					p[i] = took[6+i] ^ took[2+i%4]
				}
				want = append(want, p)
			}
			took = took[6+n:]
		}
		if len(pongs) != len(want) {
			t.Fatalf("%d pongs for %d pings", len(pongs), len(want))
		}
		for i := range want {
			if !bytes.Equal(pongs[i], want[i]) {
				t.Fatalf("pong %d: %q, want %q", i, pongs[i], want[i])
			}
		}
		// It stopped at something that is not a whole ping or pong.
		if rest > 0 {
			h := data[len(data)-rest:]
			if len(h) >= 6 && (h[0] == pingHeader || h[0] == pongHeader) && h[1]&maskBit != 0 {
				if n := int(h[1] &^ maskBit); n <= maxControlSize && len(h) >= 6+n {
					t.Fatalf("left a whole %x frame: % x", h[0], h)
				}
			}
		}
	})
}
