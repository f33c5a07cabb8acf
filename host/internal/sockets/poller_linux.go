//go:build linux

package sockets

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// poller waits for the host's idle sockets to become readable with one
// epoll instance and one goroutine, instead of a goroutine blocked in a
// read for each socket: an idle socket then costs its connection's
// buffers and no stack. When a socket is readable, a goroutine reads the
// messages it has (socket.readable) and re-arms it.
type poller struct {
	epfd int
	wake int // an eventfd that ends the loop

	mu    sync.Mutex
	socks map[uint64]*Socket // guarded by mu: registered sockets by key
	next  uint64             // guarded by mu
	done  chan struct{}
}

// wakeKey is the epoll key of the eventfd.
const wakeKey = 0

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	setKey(&ev, wakeKey)
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(wake)
		unix.Close(epfd)
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	p := &poller{epfd: epfd, wake: wake, socks: map[uint64]*Socket{}, next: wakeKey, done: make(chan struct{})}
	go p.loop()
	return p, nil
}

// setKey and key store a socket's key in an event's data.
func setKey(ev *unix.EpollEvent, k uint64) { ev.Fd, ev.Pad = int32(uint32(k)), int32(uint32(k>>32)) }
func key(ev *unix.EpollEvent) uint64       { return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32 }

// fdOf returns the file descriptor of c, if it has one.
func fdOf(c net.Conn) (int, bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	fd := -1
	if rc.Control(func(f uintptr) { fd = int(f) }) != nil || fd < 0 {
		return 0, false
	}
	return fd, true
}

// add registers s, whose connection is c, to be read when readable; it
// reports false if c has no file descriptor to wait on.
func (p *poller) add(s *Socket, c net.Conn) bool {
	fd, ok := fdOf(c)
	if !ok {
		return false
	}
	// The socket's fields are set under the lock the loop takes to find
	// it: the loop's goroutine sees them (the memory model does not see
	// epoll's own ordering).
	p.mu.Lock()
	p.next++
	k := p.next
	s.pollFD.Store(int32(fd))
	s.pollKey.Store(k)
	p.socks[k] = s
	p.mu.Unlock()
	if err := p.ctl(unix.EPOLL_CTL_ADD, s); err != nil {
		p.mu.Lock()
		delete(p.socks, k)
		p.mu.Unlock()
		return false
	}
	return true
}

// ctl adds or re-arms s: one readiness event, then none until re-armed.
func (p *poller) ctl(op int, s *Socket) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT}
	setKey(&ev, s.pollKey.Load())
	return unix.EpollCtl(p.epfd, op, int(s.pollFD.Load()), &ev)
}

// rearm waits for s to be readable again.
func (p *poller) rearm(s *Socket) error { return p.ctl(unix.EPOLL_CTL_MOD, s) }

// remove forgets s, before its connection is closed.
func (p *poller) remove(s *Socket) {
	k := s.pollKey.Load()
	p.mu.Lock()
	_, had := p.socks[k]
	delete(p.socks, k)
	p.mu.Unlock()
	if had {
		_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(s.pollFD.Load()), nil)
	}
}

func (p *poller) loop() {
	defer close(p.done)
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return
		}
		for i := range events[:n] {
			k := key(&events[i])
			if k == wakeKey {
				return
			}
			p.mu.Lock()
			s := p.socks[k]
			p.mu.Unlock()
			if s != nil {
				go s.readable()
			}
		}
	}
}

// close ends the loop and releases the epoll instance.
func (p *poller) close() {
	var one = [8]byte{1}
	_, _ = unix.Write(p.wake, one[:])
	<-p.done
	unix.Close(p.wake)
	unix.Close(p.epfd)
}
