package sockets

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

// BenchmarkBroadcast sends one text message to every socket of one set
// (clients over TCP on 127.0.0.1, in this process) and waits until every
// client has read it: the host's fan-out path (SendTo, the queues, the
// writes) with the clients' reads beside it. Profile it to see the host's
// share (-cpuprofile): on this 2-core VM the write system call is about
// 85% of a socket's send (RATIONALE.md, "WebSockets").
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{1000} {
		b.Run("clients="+strconv.Itoa(n), func(b *testing.B) { benchBroadcast(b, n) })
	}
}

func benchBroadcast(b *testing.B, n int) {
	h := NewHost(n+10, 0, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	st := h.NewSet(&nopEvents{}, Limits{}, "a", nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, u := WithUpgrade(r.Context())
		s, err := st.Accept(nil)
		if err != nil {
			http.Error(w, err.Error(), 503)
			return
		}
		u.Claim(s)
		if err := h.Complete(w, r.WithContext(ctx), u); err != nil {
			b.Error(err)
		}
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	got := make(chan struct{}, n)
	var wg sync.WaitGroup
	conns := make([]*websocket.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, _, err := websocket.DefaultDialer.DialContext(context.Background(), url, nil)
		if err != nil {
			b.Fatalf("client %d: %v", i, err)
		}
		conns = append(conns, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
				got <- struct{}{}
			}
		}()
	}
	for !allAttached(st, n) { // a dial returns once the 101 is written, before attach
		runtime.Gosched()
	}
	msg := []byte(strings.Repeat("m", 64))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := SendTo(st.List(""), false, msg); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < n; j++ {
			<-got
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/socket")
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
}

// allAttached reports whether the set holds n sockets with connections.
func allAttached(st *Set, n int) bool {
	l := st.List("")
	if len(l) < n {
		return false
	}
	for _, s := range l {
		s.mu.Lock()
		c := s.conn
		s.mu.Unlock()
		if c == nil {
			return false
		}
	}
	return true
}
