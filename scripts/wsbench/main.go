// Command wsbench measures a WebSocket chat room under many clients: the
// one behind dohost's chat example (ws://HOST/?room=R) or workerd's peer
// app (ws://HOST/chat?room=R), which answer alike — every text message is
// stored and sent to every client of the room, the sender included.
//
//	wsbench -url 'ws://127.0.0.1:8788/?room=bench' -clients 10000 -rounds 30 -pid 1234
//
// It connects the clients (a new client first receives the room's stored
// messages), then, round after round, one client sends a message and
// wsbench times how long until every client has it: the broadcast's p50
// and p99 over the rounds. With -pid it reads the server's resident
// memory before and after the clients connect (the host's memory per idle
// socket), again after -hibernate (longer than the server's idle timeout:
// its object evicted, its sockets kept) before the broadcasts, and after
// them. -senders clients of a room of their
// own then send as fast as the room answers: messages a second through
// one object. With -ping each client sends a WebSocket ping once
// connected (many client libraries ping every 20-30 s; browsers do not).
// It prints one RESULT line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sys/unix"
)

func main() {
	u := flag.String("url", "ws://127.0.0.1:8788/?room=bench", "the room's WebSocket URL")
	clients := flag.Int("clients", 10000, "clients to connect")
	rounds := flag.Int("rounds", 30, "broadcasts to time")
	pid := flag.Int("pid", 0, "the server's pid, to read its memory")
	hibernate := flag.Duration("hibernate", 0, "wait this long idle, then read the memory again (0: skip)")
	senders := flag.Int("senders", 10, "clients of a room of their own that send for -send-time (0: skip)")
	sendTime := flag.Duration("send-time", 5*time.Second, "how long the senders send")
	dialers := flag.Int("dialers", 32, "connections opened at once")
	ping := flag.Bool("ping", false, "each client sends a WebSocket ping once connected, as many client libraries do every 20-30 s")
	flag.Parse()
	raiseOpenFiles()

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	res := []string{fmt.Sprintf("clients=%d", *clients)}
	rss0 := rssKB(*pid)

	r := newRoom(*clients)
	connected, err := r.connect(*u, *clients, *dialers, run, *ping)
	res = append(res, fmt.Sprintf("connected=%d", connected))
	if err != nil {
		log.Printf("connecting: %v", err)
	}
	if connected == 0 {
		fmt.Println("RESULT " + strings.Join(res, " "))
		os.Exit(1)
	}
	time.Sleep(time.Second) // the last handshakes' garbage settles
	rss1 := rssKB(*pid)
	if *pid > 0 {
		res = append(res, fmt.Sprintf("rss_before_kB=%d rss_connected_kB=%d per_socket_B=%d", rss0, rss1, (rss1-rss0)*1024/int64(connected)))
	}

	if *hibernate > 0 && *pid > 0 {
		time.Sleep(*hibernate)
		rss2 := rssKB(*pid)
		res = append(res, fmt.Sprintf("rss_hibernated_kB=%d per_socket_hibernated_B=%d", rss2, (rss2-rss0)*1024/int64(connected)))
	}

	lat := make([]time.Duration, 0, *rounds)
	cpu0 := cpuTicks(*pid)
	for i := 0; i < *rounds; i++ {
		d, err := r.broadcast(run, i, connected)
		if err != nil {
			log.Printf("round %d: %v", i, err)
			break
		}
		lat = append(lat, d)
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		res = append(res, fmt.Sprintf("rounds=%d bcast_p50_ms=%.1f bcast_p99_ms=%.1f bcast_max_ms=%.1f",
			len(lat), ms(pct(lat, 50)), ms(pct(lat, 99)), ms(lat[len(lat)-1])))
		if *pid > 0 {
			// The server's CPU over the rounds, a broadcast's share: the
			// host's part of the fan-out, whatever the client costs.
			ms := float64(cpuTicks(*pid)-cpu0) * 1000 / clkTck / float64(len(lat))
			res = append(res, fmt.Sprintf("server_cpu_ms_per_bcast=%.1f rss_after_broadcasts_kB=%d", ms, rssKB(*pid)))
		}
	}

	if *senders > 0 {
		n, err := throughput(*u, *senders, *sendTime, run)
		if err != nil {
			log.Printf("throughput: %v", err)
		}
		res = append(res, fmt.Sprintf("senders=%d msgs_per_s=%.0f", *senders, n))
	}
	r.close()
	fmt.Println("RESULT " + strings.Join(res, " "))
}

// room is the clients of one room: each reader counts the rounds' messages
// it receives.
type room struct {
	mu    sync.Mutex
	conns []*websocket.Conn
	round atomic.Int64 // the round being timed
	got   atomic.Int64 // clients that have the round's message
	total atomic.Int64 // clients connected, once all are
	done  chan struct{}
	first *websocket.Conn
}

func newRoom(n int) *room {
	return &room{conns: make([]*websocket.Conn, 0, n), done: make(chan struct{}, 1)}
}

// connect opens n clients, dialers at a time, each sending a ping first if
// ping is set; it returns how many connected.
func (r *room) connect(u string, n, dialers int, run string, ping bool) (int, error) {
	var (
		wg       sync.WaitGroup
		next     atomic.Int64
		errMu    sync.Mutex
		firstErr error
	)
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	for w := 0; w < dialers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for int(next.Add(1)) <= n {
				c, _, err := d.Dial(u, nil)
				if err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
					return
				}
				if ping {
					_ = c.WriteControl(websocket.PingMessage, []byte("wsbench"), time.Now().Add(10*time.Second))
				}
				r.mu.Lock()
				r.conns = append(r.conns, c)
				if r.first == nil {
					r.first = c
				}
				r.mu.Unlock()
				go r.read(c, run)
			}
		}()
	}
	wg.Wait()
	r.total.Store(int64(len(r.conns)))
	return len(r.conns), firstErr
}

// read counts the messages of the round being timed.
func (r *room) read(c *websocket.Conn, run string) {
	prefix := "wsb " + run + " "
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			return
		}
		s := string(b)
		if !strings.HasPrefix(s, prefix) {
			continue // stored messages, pongs
		}
		n, _ := strconv.ParseInt(strings.TrimPrefix(s, prefix), 10, 64)
		if n == r.round.Load() {
			r.got.Add(1)
			if r.got.Load() == r.total.Load() {
				select {
				case r.done <- struct{}{}:
				default:
				}
			}
		}
	}
}

// broadcast has the first client send round i's message and waits until
// all n clients have it.
func (r *room) broadcast(run string, i, n int) (time.Duration, error) {
	r.round.Store(int64(i))
	r.got.Store(0)
	select {
	case <-r.done:
	default:
	}
	start := time.Now()
	if err := r.first.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf("wsb %s %d", run, i))); err != nil {
		return 0, err
	}
	select {
	case <-r.done:
		return time.Since(start), nil
	case <-time.After(60 * time.Second):
		return 0, fmt.Errorf("%d of %d clients had the message after 60 s", r.got.Load(), n)
	}
}

func (r *room) close() {
	for _, c := range r.conns {
		_ = c.Close()
	}
}

// throughput has k clients of a room of their own each send a message,
// wait for it to come back, and send the next, for d: the room's
// messages a second.
func throughput(base string, k int, d time.Duration, run string) (float64, error) {
	u, err := url.Parse(base)
	if err != nil {
		return 0, err
	}
	q := u.Query()
	q.Set("room", q.Get("room")+"-tp-"+run)
	u.RawQuery = q.Encode()
	conns := make([]*websocket.Conn, k)
	for i := range conns {
		if conns[i], _, err = websocket.DefaultDialer.Dial(u.String(), nil); err != nil {
			return 0, err
		}
		defer conns[i].Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var sent atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := fmt.Sprintf("tp %s %d ", run, i)
			for n := 0; ctx.Err() == nil; n++ {
				msg := mine + strconv.Itoa(n)
				if c.WriteMessage(websocket.TextMessage, []byte(msg)) != nil {
					return
				}
				// Wait for our own message back (the others' pass by).
				for {
					_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
					_, b, err := c.ReadMessage()
					if err != nil {
						return
					}
					if string(b) == msg {
						break
					}
				}
				sent.Add(1)
			}
		}()
	}
	wg.Wait()
	if sent.Load() == 0 {
		return 0, errors.New("no message came back")
	}
	return float64(sent.Load()) / time.Since(start).Seconds(), nil
}

func pct(s []time.Duration, p int) time.Duration { return s[min(len(s)-1, len(s)*p/100)] }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// rssKB reads the resident memory of pid, in KiB (0 without a pid).
func rssKB(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// clkTck is the kernel's clock tick rate, the unit of /proc/PID/stat's
// CPU times (100 on Linux everywhere it matters).
const clkTck = 100

// cpuTicks reads the user + system CPU of pid, in clock ticks (0 without
// a pid).
func cpuTicks(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command, which is in parentheses: utime is the
	// 14th field of the line, stime the 15th.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

// raiseOpenFiles lifts this process's open-files limit to its hard limit:
// each client is a file.
func raiseOpenFiles() {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
	}
}
