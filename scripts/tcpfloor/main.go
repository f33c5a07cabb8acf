// Command tcpfloor measures the floor under a broadcast on this machine:
// how long it takes to write one small message to each of N TCP
// connections on 127.0.0.1 and have every one read by a client on the
// same cores, with nothing else in the way — no WebSocket framing, no
// queues, no goroutine per connection, no storage: one write(2) per
// connection from the server's threads, and epoll_wait(2) plus one
// read(2) per connection in the client's. Whatever a WebSocket host does
// on top, its broadcast to N clients on this machine cannot be faster.
//
//	go run ./scripts/tcpfloor -clients 10000 -rounds 30
//
// The client is this process; it starts the server as a second process
// (the same binary with -serve), connects -clients connections, and then,
// round after round, tells the server to write and times from the
// request until every connection has its message: p50 and p99 over the
// rounds, and the CPU each process used per round (from /proc). Linux
// only.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// msgSize is the message each connection gets: about a chat message in a
// WebSocket frame.
const msgSize = 64

func main() {
	clients := flag.Int("clients", 10000, "connections")
	rounds := flag.Int("rounds", 30, "broadcasts to time")
	writers := flag.Int("writers", 2, "server threads writing, each to its share of the connections")
	readers := flag.Int("readers", 2, "client threads reading, each with an epoll instance over its share")
	serve := flag.String("serve", "", "(internal) be the server, listening on this address")
	flag.Parse()
	raiseOpenFiles()
	if *serve != "" {
		if err := server(*serve, *clients, *writers); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := client(*clients, *rounds, *writers, *readers); err != nil {
		log.Fatal(err)
	}
}

// server accepts a control connection and then n connections, and writes
// a message to each of the n for every byte that arrives on the control
// connection, from w threads.
func server(addr string, n, w int) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Println("ready")
	ctl, err := ln.Accept()
	if err != nil {
		return fmt.Errorf("accept the control connection: %w", err)
	}
	fds := make([]int, 0, n)
	for len(fds) < n {
		c, err := ln.Accept()
		if err != nil {
			return fmt.Errorf("accept: %w", err)
		}
		fd, err := rawFD(c)
		if err != nil {
			return err
		}
		fds = append(fds, fd)
	}
	msg := []byte(strings.Repeat("m", msgSize))
	cmd := make([]byte, 1)
	for {
		if _, err := ctl.Read(cmd); err != nil {
			return nil // the client is done
		}
		var wg sync.WaitGroup
		for part := range w {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := part; i < len(fds); i += w {
					if _, err := unix.Write(fds[i], msg); err != nil {
						log.Fatalf("write: %v", err)
					}
				}
			}()
		}
		wg.Wait()
	}
}

// client starts the server, connects n connections, and times rounds
// broadcasts, reading with r epoll threads.
func client(n, rounds, w, r int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := exec.Command(os.Args[0], "-serve", addr, "-clients", strconv.Itoa(n), "-writers", strconv.Itoa(w))
	srv.Stderr = os.Stderr
	out, err := srv.StdoutPipe()
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return fmt.Errorf("start the server: %w", err)
	}
	defer srv.Process.Kill()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		return fmt.Errorf("the server did not start: %q", line)
	}
	ctl, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	conns := make([]net.Conn, 0, n)
	parts := make([][]int, r)
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		conns = append(conns, c)
		fd, err := rawFD(c)
		if err != nil {
			return err
		}
		parts[i%r] = append(parts[i%r], fd)
	}
	got := make(chan int, r)
	start := make([]chan struct{}, r)
	for k := range r {
		start[k] = make(chan struct{})
		go readAll(parts[k], start[k], got)
	}
	time.Sleep(500 * time.Millisecond) // the server accepts the last ones
	var lat []time.Duration
	var srvCPU, cliCPU time.Duration
	for range rounds {
		s0, c0 := cpuOf(srv.Process.Pid), cpuOf(os.Getpid())
		t0 := time.Now()
		for k := range r {
			start[k] <- struct{}{}
		}
		if _, err := ctl.Write([]byte{1}); err != nil {
			return err
		}
		for range r {
			<-got
		}
		lat = append(lat, time.Since(t0))
		srvCPU += cpuOf(srv.Process.Pid) - s0
		cliCPU += cpuOf(os.Getpid()) - c0
		time.Sleep(100 * time.Millisecond)
	}
	slices.Sort(lat)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
	fmt.Printf("RESULT clients=%d rounds=%d writers=%d readers=%d p50_ms=%s p99_ms=%s max_ms=%s server_cpu_ms=%s client_cpu_ms=%s\n",
		n, rounds, w, r, ms(lat[len(lat)/2]), ms(lat[(len(lat)*99)/100]), ms(lat[len(lat)-1]),
		ms(srvCPU/time.Duration(rounds)), ms(cliCPU/time.Duration(rounds)))
	for _, c := range conns {
		c.Close()
	}
	ctl.Close()
	return nil
}

// readAll waits for a start, then reads until each of fds has had a
// message, and reports on got; round after round.
func readAll(fds []int, start <-chan struct{}, got chan<- int) {
	ep, err := unix.EpollCreate1(0)
	if err != nil {
		log.Fatalf("epoll: %v", err)
	}
	for i, fd := range fds {
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(i)}); err != nil {
			log.Fatalf("epoll add: %v", err)
		}
	}
	evs := make([]unix.EpollEvent, 1024)
	buf := make([]byte, 4096)
	have := make([]int, len(fds))
	for range start {
		left := len(fds)
		for left > 0 {
			k, err := unix.EpollWait(ep, evs, -1)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				log.Fatalf("epoll wait: %v", err)
			}
			for _, ev := range evs[:k] {
				i := int(ev.Fd)
				m, err := unix.Read(fds[i], buf)
				if err == unix.EAGAIN {
					continue
				}
				if err != nil || m == 0 {
					log.Fatalf("read: %d %v", m, err)
				}
				before := have[i] / msgSize
				have[i] += m
				if have[i]/msgSize > before {
					left--
				}
			}
		}
		got <- len(fds)
	}
}

// rawFD returns c's file descriptor, left in the non-blocking mode Go
// gave it; c keeps it open.
func rawFD(c net.Conn) (int, error) {
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return 0, err
	}
	var fd int
	if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return 0, err
	}
	return fd, nil
}

// cpuOf returns the CPU time (user and system) process pid has used.
func cpuOf(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// raiseOpenFiles lifts the soft limit on open files to the hard one.
func raiseOpenFiles() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}
