package host

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzFront sends the HTTP front requests built from fuzzed pieces — the
// method, the target, the Host header, one more header, the body, sent
// with its length or chunked — to the echo worker through the production
// server (NewHTTPServer, its limits), and fails if the server's error log
// shows a panic: every request, however malformed, gets an answer or a
// closed connection from net/http's own checks, never a crash of the
// handler. (A request whose headers passed 256 bytes with a small body
// once made the front slice its record past its capacity.)
func FuzzFront(f *testing.F) {
	ts := echoServer(f)
	var errs testLogger
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	hs := NewHTTPServer(ts.Server, HTTPLimits{HeaderTimeout: 2 * time.Second}, log.New(&errs, "", 0))
	go hs.Serve(ln)
	f.Cleanup(func() { hs.Close() })

	for n := 250; n < 1200; n += 3 { // headers past the 256 bytes first reserved
		f.Add("POST", "/h", "x", "X-Pad", strings.Repeat("p", n), []byte("0123456789"), false)
	}
	f.Add("GET", "/", "example.com.", "Accept", "*/*", []byte(nil), false)
	f.Add("PUT", "/a?b=c&d=%zz", "[::1]:80", "Content-Type", "text/plain; charset=utf-8", []byte("hello"), true)
	f.Add("DELETE", "http://other/abs", "", "Cookie", "a=b; c=d", []byte{0, 1, 2, 0xff}, false)
	f.Fuzz(func(t *testing.T, method, target, host, name, value string, body []byte, chunked bool) {
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n%s: %s\r\nConnection: close\r\n", method, target, host, name, value)
		if chunked {
			fmt.Fprintf(&b, "Transfer-Encoding: chunked\r\n\r\n")
			if len(body) > 0 {
				fmt.Fprintf(&b, "%x\r\n%s\r\n", len(body), body)
			}
			b.WriteString("0\r\n\r\n")
		} else {
			fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
		}
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// A bound on a stuck exchange, not a measurement: the check is
		// the error log's.
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write(b.Bytes()); err == nil {
			_, _ = io.Copy(io.Discard, conn) // the answer, to the close
		}
		if log := errs.String(); strings.Contains(log, "panic") {
			t.Fatalf("the front panicked on %q:\n%s", b.Bytes(), log)
		}
	})
}
