package host

import (
	"errors"
	"log"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// HTTPLimits bound the HTTP connections of a host: how many may be open
// and how long each may take to speak. Zero fields take the defaults.
type HTTPLimits struct {
	// MaxConns caps the open connections. At the cap, a new connection
	// closes the one idle (kept alive between requests) the longest; if
	// none is idle, the new one is answered 503 and closed. The default is
	// the open-files limit less 2048 files for the database and guests.
	MaxConns int
	// IdleTimeout closes a kept-alive connection idle this long: 60 s.
	IdleTimeout time.Duration
	// HeaderTimeout is how long a request's headers may take: 10 s.
	HeaderTimeout time.Duration
	// WriteTimeout is how long writing a response may take: 60 s.
	WriteTimeout time.Duration
}

// DefaultMaxConns is the cap of open connections for an open-files limit
// of nofile (0: this process's).
func DefaultMaxConns(nofile uint64) int {
	if nofile == 0 {
		var rl unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil {
			nofile = rl.Cur
		} else {
			nofile = 1024
		}
	}
	return max(64, int(min(nofile, 1<<30))-2048)
}

// RaiseOpenFiles raises this process's soft limit of open files to its
// hard limit and returns the new soft limit.
func RaiseOpenFiles() (uint64, error) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
			return 0, err
		}
	}
	return rl.Cur, nil
}

// HTTPServer serves a Server over HTTP within HTTPLimits.
type HTTPServer struct {
	*http.Server
	conns *connLimiter
}

// NewHTTPServer returns an HTTP server for h (a *Server) within l, which
// logs its connection errors to errorLog.
func NewHTTPServer(h http.Handler, l HTTPLimits, errorLog *log.Logger) *HTTPServer {
	if l.MaxConns == 0 {
		l.MaxConns = DefaultMaxConns(0)
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = 60 * time.Second
	}
	if l.HeaderTimeout == 0 {
		l.HeaderTimeout = 10 * time.Second
	}
	if l.WriteTimeout == 0 {
		l.WriteTimeout = 60 * time.Second
	}
	c := &connLimiter{max: l.MaxConns}
	hs := &http.Server{
		Handler:           writeDeadline(h, l.WriteTimeout),
		ReadHeaderTimeout: l.HeaderTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          errorLog,
		ConnState:         c.state,
	}
	return &HTTPServer{Server: hs, conns: c}
}

// Serve accepts connections on ln, within the cap, until Shutdown.
func (hs *HTTPServer) Serve(ln net.Listener) error {
	return hs.Server.Serve(newLimitedListener(ln, hs.conns))
}

// writeDeadline gives each response at most d to be written.
func writeDeadline(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
		h.ServeHTTP(w, r)
	})
}

// connLimiter counts the open connections and keeps the idle ones in the
// order they went idle. Every request passes through its lock twice (its
// connection goes active, then idle), so nothing under the lock
// allocates or looks anything up: the list runs through the connections
// themselves (pacedConn), and an allocation there could have to help the
// garbage collector while every other request waits. It is safe for
// concurrent use.
type connLimiter struct {
	max int

	mu          sync.Mutex
	open        int        // guarded by mu: the connections counted (pacedConn.counted)
	front, back *pacedConn // guarded by mu: the idle connections, longest idle first
	idle        int        // guarded by mu: how many
}

// state follows a connection through net/http's states. Connections the
// limiter did not accept (not a *pacedConn) are not counted.
func (c *connLimiter) state(conn net.Conn, st http.ConnState) {
	pc, ok := conn.(*pacedConn)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch st {
	case http.StateNew:
		if !pc.counted {
			pc.counted = true
			c.open++
		}
	case http.StateIdle:
		if pc.counted && !pc.idle {
			c.pushIdle(pc)
		}
	case http.StateActive:
		if pc.idle {
			c.removeIdle(pc)
		}
	case http.StateClosed, http.StateHijacked:
		c.forget(pc)
	}
}

// forget stops counting pc, and takes it off the idle list. The caller
// holds mu.
func (c *connLimiter) forget(pc *pacedConn) {
	if pc.idle {
		c.removeIdle(pc)
	}
	if pc.counted {
		pc.counted = false
		c.open--
	}
}

// pushIdle puts pc, counted and not idle, at the back of the idle list.
// The caller holds mu.
func (c *connLimiter) pushIdle(pc *pacedConn) {
	pc.idle, pc.prevIdle, pc.nextIdle = true, c.back, nil
	if c.back != nil {
		c.back.nextIdle = pc
	} else {
		c.front = pc
	}
	c.back = pc
	c.idle++
}

// removeIdle takes pc, which is idle, off the idle list. The caller holds
// mu.
func (c *connLimiter) removeIdle(pc *pacedConn) {
	if pc.prevIdle != nil {
		pc.prevIdle.nextIdle = pc.nextIdle
	} else {
		c.front = pc.nextIdle
	}
	if pc.nextIdle != nil {
		pc.nextIdle.prevIdle = pc.prevIdle
	} else {
		c.back = pc.prevIdle
	}
	pc.idle, pc.prevIdle, pc.nextIdle = false, nil, nil
	c.idle--
}

// admit makes room for one more connection: it reports whether there is
// room, closing the longest idle connection first when at the cap.
func (c *connLimiter) admit() bool {
	c.mu.Lock()
	if c.open < c.max {
		c.mu.Unlock()
		return true
	}
	victim := c.front
	if victim == nil {
		c.mu.Unlock()
		return false
	}
	c.forget(victim)
	c.mu.Unlock()
	_ = victim.Close()
	return true
}

// busyResponse is what a connection over the cap gets before it is closed.
const busyResponse = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\n" +
	"Connection: close\r\nContent-Length: 46\r\n\r\ndohost: too many connections; try again later\n"

// limitedListener is a listener whose Accept keeps the connections within
// the limiter's cap, and accepts no faster than the connections it
// accepted start to be served (pace).
type limitedListener struct {
	net.Listener
	c    *connLimiter
	pace chan struct{} // a token for each accepted connection whose goroutine has not yet run
}

// newLimitedListener returns ln within c's cap, paced to the goroutines
// that can run.
func newLimitedListener(ln net.Listener, c *connLimiter) *limitedListener {
	return &limitedListener{Listener: ln, c: c, pace: make(chan struct{}, max(4, 2*runtime.GOMAXPROCS(0)))}
}

// Accept waits while 2 connections a P that it accepted have not yet
// been touched by the goroutine that serves them. net/http starts a
// goroutine for each connection it accepts, and a flood of new
// connections (the soak's 5,000 at once) otherwise put thousands of them
// in the scheduler's queue at once, ahead of the requests already read
// from connections kept alive; the rest now wait in the kernel's accept
// queue, and come in as fast as they are served.
func (l *limitedListener) Accept() (net.Conn, error) {
	l.pace <- struct{}{}
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			<-l.pace
			return nil, err
		}
		if l.c.admit() {
			return &pacedConn{Conn: conn, pace: l.pace}, nil
		}
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = conn.Write([]byte(busyResponse))
		_ = conn.Close()
	}
}

// pacedConn is an accepted connection that gives its listener's token
// back the first time it is used: its goroutine has run.
type pacedConn struct {
	net.Conn
	started atomic.Bool
	pace    chan struct{}

	// Guarded by the connLimiter's mu.
	counted            bool // among its open connections
	idle               bool // on its idle list
	prevIdle, nextIdle *pacedConn
}

func (c *pacedConn) start() {
	if !c.started.Load() && c.started.CompareAndSwap(false, true) {
		<-c.pace
	}
}

func (c *pacedConn) Read(p []byte) (int, error) {
	c.start()
	return c.Conn.Read(p)
}

func (c *pacedConn) Write(p []byte) (int, error) {
	c.start()
	return c.Conn.Write(p)
}

func (c *pacedConn) SetDeadline(t time.Time) error {
	c.start()
	return c.Conn.SetDeadline(t)
}

func (c *pacedConn) SetReadDeadline(t time.Time) error {
	c.start()
	return c.Conn.SetReadDeadline(t)
}

func (c *pacedConn) Close() error {
	c.start()
	return c.Conn.Close()
}

// SyscallConn returns the connection's file descriptor's RawConn: the
// host's WebSocket poller waits on it (sockets).
func (c *pacedConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("the connection has no file descriptor")
	}
	return sc.SyscallConn()
}

// CloseWrite shuts the sending side down (net/http does, so that a
// client reads an error response before the connection closes).
func (c *pacedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
