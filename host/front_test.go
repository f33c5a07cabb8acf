package host

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dohost/dohost/abi"
)

// TestFront_RequestHeaders: a guest sees the headers an HTTP client sent
// with lower-case names, sorted by name, a repeated name once per value in
// the order sent, plus host and cf-connecting-ip (the client's address; a
// forged one is replaced). The echo guest answers with the record it got.
func TestFront_RequestHeaders(t *testing.T) {
	ts := startServer(t, filepath.Join(t.TempDir(), "data"), filepath.Join(repoRoot(), "testdata", "echo", "wrangler.toml"))
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Written by hand, so that the names keep the case they are sent in.
	fmt.Fprint(conn, "GET /path?q=1 HTTP/1.1\r\n"+
		"Host: Example.COM\r\n"+
		"x-lower-only: a\r\n"+
		"ALLCAPS: b\r\n"+
		"X-Multi: first\r\n"+
		"Accept: text/plain\r\n"+
		"cf-connecting-ip: 6.6.6.6\r\n"+
		"x-multi: second\r\n"+
		"Connection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	req, err := abi.DecodeRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "GET" || req.URL != "http://Example.COM/path?q=1" {
		t.Errorf("method %q url %q", req.Method, req.URL)
	}
	var got []string
	for _, h := range req.Headers {
		got = append(got, h.Name+": "+h.Value)
	}
	want := []string{
		"accept: text/plain", "allcaps: b", "cf-connecting-ip: 127.0.0.1", "connection: close",
		"host: Example.COM", "x-lower-only: a", "x-multi: first", "x-multi: second",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("headers:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestFront_ErrorsToLog: a Go guest's panic or returned error answers the
// client with a short message and a request id, nothing of the guest's
// (no message, no stack trace, no source path); the log has all of it
// under that request id.
func TestFront_ErrorsToLog(t *testing.T) {
	ts := startProbe(t)
	for _, c := range []struct{ path, logged string }{
		{"/worker/panic?secret=s3cr3t", "the probe worker panics with a secret: s3cr3t"},
		{"/worker/fail?secret=s3cr3t", "the probe worker fails with a secret: s3cr3t"},
	} {
		resp, err := http.Get(ts.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := string(b)
		id := requestID(body)
		if resp.StatusCode != 500 || id == "" || resp.Header.Get(RequestIDHeader) != id {
			t.Errorf("GET %s: %d %q, header %q; want 500 with a request id", c.path, resp.StatusCode, body, resp.Header.Get(RequestIDHeader))
		}
		for _, secret := range []string{"s3cr3t", "probe", "panic", ".go"} {
			if strings.Contains(body, secret) {
				t.Errorf("GET %s: the client sees %q: %q", c.path, secret, body)
			}
		}
		logged := ts.logFor(id)
		if !strings.Contains(logged, c.logged) || !strings.Contains(logged, "worker=probe") {
			t.Errorf("GET %s: the log lines of request %s lack %q:\n%s", c.path, id, c.logged, logged)
		}
		if strings.Contains(c.path, "panic") && !strings.Contains(logged, "main.go") {
			t.Errorf("GET %s: the log lacks the panic's stack trace:\n%s", c.path, logged)
		}
	}
}
