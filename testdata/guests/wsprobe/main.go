// Command wsprobe is a test guest that exercises every WebSocket call of
// the dohost ABI through the Go SDK; wsprobe-c, wsprobe-rust and
// wsprobe-as do the same in the other SDKs, with the same answers. The
// Worker forwards every request to the object named ?room= (default r).
//
// The object's fetch: an upgrade is accepted with the tags of ?tags=a,b
// and welcomed with "welcome <id>" (sent before the 101: it waits for the
// client); with ?fail=1 the handler accepts and then fails. Without an
// upgrade: /accept (ws_accept on a plain request: "err <code>"),
// /list?tag=T, /broadcast?tag=T&msg=M ("sent <n>").
//
// Each text message is a command, answered on the same socket:
//
//	whoami            you <id>
//	echo <text>       <text> (a binary message is echoed as binary)
//	bcast <tag|-> <t> broadcast t to the tag (-: all); then sent <n>
//	bcastx <t>        broadcast t to all but the sender; then sent <n>
//	list <tag|->      list <id>:<tag>,<tag> <id>:… (open sockets)
//	attach <data>     set the attachment; ok
//	getattach [<id>]  attach <data> (the sender's, or socket id's)
//	close <code> <r>  close the sender with code and reason
//	auto <req> <resp> set the auto-response; ok
//	autotime          autotime <ms> | autotime none
//	mem               mem <n>: messages this instance handled
//	store <v>         a storage write, then stored <v>
//	fail              send "never", then fail
//	trap              send "never", then trap
//	errors            errors <code> <code> <code> <code>: a send to no
//	                  socket, close code 1001, a 3000-byte attachment,
//	                  ws_accept in a message handler
//	big <n>           an n-byte message to the sender, or err <code>
//	flood <n> <size>  (Go only, for the host's tests) n messages of size
//	                  bytes to every other socket; then sent <n>
//	storetrap <v>     (Go only, for the host's tests) the write of store,
//	                  send "never", then trap
//	last              (Go only, for the host's tests) last <v>: what store
//	                  wrote last (-: nothing)
//
// A client that closes is announced to the others as
// "closed <id> <code> <clean 0|1> <attachment>"; one the host closed for
// an error as "error <id> <attachment>".
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/dohost/dohost/guests/go/dohost"
)

func init() {
	dohost.Handle(fetch)
	dohost.RegisterClass("WSProbe", newProbe)
}

func main() {}

func fetch(req *dohost.Request, env *dohost.Env) (*dohost.Response, error) {
	room := req.URL.Query().Get("room")
	if room == "" {
		room = "r"
	}
	ns := env.DurableObject("WSPROBE")
	id, err := ns.IDFromName(room)
	if err != nil {
		return nil, err
	}
	return ns.Get(id).Fetch(req)
}

type probe struct {
	state *dohost.State
	seen  int
}

func newProbe(state *dohost.State, _ *dohost.Env) dohost.Object {
	return &probe{state: state}
}

// code is the ABI code of err, or 0.
func code(err error) int {
	var e *dohost.Error
	if errors.As(err, &e) {
		return int(e.Code)
	}
	if err != nil {
		return -1
	}
	return 0
}

func (p *probe) list(tag string) (string, error) {
	if tag == "-" {
		tag = ""
	}
	l, err := p.state.GetWebSockets(tag)
	if err != nil {
		return "", err
	}
	out := "list"
	for _, ws := range l {
		out += fmt.Sprintf(" %d:%s", ws.ID(), strings.Join(ws.Tags(), ","))
	}
	return out, nil
}

func (p *probe) Fetch(req *dohost.Request) (*dohost.Response, error) {
	q := req.URL.Query()
	if dohost.IsWebSocketUpgrade(req) {
		var tags []string
		if t := q.Get("tags"); t != "" {
			tags = strings.Split(t, ",")
		}
		ws, err := p.state.AcceptWebSocket(tags...)
		if err != nil {
			return dohost.Text(400, fmt.Sprintf("err %d", code(err))), nil
		}
		if err := ws.Send(fmt.Sprintf("welcome %d", ws.ID())); err != nil {
			return nil, err
		}
		if q.Get("fail") != "" {
			return nil, errors.New("the probe fails after accepting")
		}
		return dohost.UpgradeResponse(), nil
	}
	switch req.URL.Path {
	case "/accept":
		_, err := p.state.AcceptWebSocket()
		return dohost.Text(200, fmt.Sprintf("err %d", code(err))), nil
	case "/list":
		s, err := p.list(q.Get("tag"))
		if err != nil {
			return nil, err
		}
		return dohost.Text(200, s), nil
	case "/broadcast":
		n, err := p.state.Broadcast(q.Get("tag"), dohost.WebSocket{}, q.Get("msg"))
		if err != nil {
			return nil, err
		}
		return dohost.Text(200, fmt.Sprintf("sent %d", n)), nil
	}
	return dohost.Text(404, "no such path"), nil
}

func (p *probe) WebSocketMessage(ws dohost.WebSocket, msg dohost.Message) error {
	p.seen++
	if msg.Binary {
		return ws.SendBinary(msg.Data)
	}
	cmd, arg, _ := strings.Cut(msg.Text(), " ")
	reply := ""
	switch cmd {
	case "whoami":
		reply = fmt.Sprintf("you %d", ws.ID())
	case "echo":
		reply = arg
	case "bcast", "bcastx":
		tag, text := "", arg
		except := dohost.WebSocket{}
		if cmd == "bcast" {
			tag, text, _ = strings.Cut(arg, " ")
			if tag == "-" {
				tag = ""
			}
		} else {
			except = ws
		}
		n, err := p.state.Broadcast(tag, except, text)
		if err != nil {
			return err
		}
		reply = fmt.Sprintf("sent %d", n)
	case "list":
		s, err := p.list(arg)
		if err != nil {
			return err
		}
		reply = s
	case "attach":
		if err := ws.SetAttachment([]byte(arg)); err != nil {
			return err
		}
		reply = "ok"
	case "getattach":
		target := ws
		if arg != "" {
			l, err := p.state.GetWebSockets("")
			if err != nil {
				return err
			}
			id, _ := strconv.Atoi(arg)
			for _, s := range l {
				if s.ID() == uint32(id) {
					target = s
				}
			}
		}
		a, err := target.Attachment()
		if err != nil {
			return err
		}
		reply = "attach " + string(a)
	case "close":
		c, reason, _ := strings.Cut(arg, " ")
		n, _ := strconv.Atoi(c)
		return ws.Close(n, reason)
	case "auto":
		req, resp, _ := strings.Cut(arg, " ")
		if err := p.state.SetWebSocketAutoResponse(req, resp); err != nil {
			return err
		}
		reply = "ok"
	case "autotime":
		t, ok, err := ws.AutoResponseTime()
		if err != nil {
			return err
		}
		reply = "autotime none"
		if ok {
			reply = fmt.Sprintf("autotime %d", t.UnixMilli())
		}
	case "mem":
		reply = fmt.Sprintf("mem %d", p.seen)
	case "store":
		if err := p.state.Storage().Put("last", []byte(arg)); err != nil {
			return err
		}
		reply = "stored " + arg
	case "fail":
		if err := ws.Send("never"); err != nil {
			return err
		}
		return errors.New("the probe fails on purpose")
	case "trap":
		if err := ws.Send("never"); err != nil {
			return err
		}
		os.Exit(3)
	case "storetrap":
		if err := p.state.Storage().Put("last", []byte(arg)); err != nil {
			return err
		}
		if err := ws.Send("never"); err != nil {
			return err
		}
		os.Exit(3)
	case "last":
		v, ok, err := p.state.Storage().Get("last")
		if err != nil {
			return err
		}
		if !ok {
			v = []byte("-")
		}
		reply = "last " + string(v)
	case "errors":
		c1 := code(dohost.WebSocket{}.Send("x"))
		c2 := code(ws.Close(1001, "reserved"))
		c3 := code(ws.SetAttachment(make([]byte, 3000)))
		_, err := p.state.AcceptWebSocket()
		reply = fmt.Sprintf("errors %d %d %d %d", c1, c2, c3, code(err))
	case "big":
		n, _ := strconv.Atoi(arg)
		if err := ws.Send(strings.Repeat("b", n)); err != nil {
			reply = fmt.Sprintf("err %d", code(err))
		}
	case "flood":
		a, b, _ := strings.Cut(arg, " ")
		n, _ := strconv.Atoi(a)
		size, _ := strconv.Atoi(b)
		msg := strings.Repeat("f", size)
		for range n {
			if _, err := p.state.Broadcast("", ws, msg); err != nil {
				return err
			}
		}
		reply = fmt.Sprintf("sent %d", n)
	default:
		reply = "unknown " + cmd
	}
	if reply == "" {
		return nil
	}
	return ws.Send(reply)
}

func (p *probe) announce(except dohost.WebSocket, msg string) error {
	_, err := p.state.Broadcast("", except, msg)
	return err
}

func (p *probe) WebSocketClose(ws dohost.WebSocket, code int, reason string, wasClean bool) error {
	a, err := ws.Attachment()
	if err != nil {
		return err
	}
	clean := 0
	if wasClean {
		clean = 1
	}
	return p.announce(ws, fmt.Sprintf("closed %d %d %d %s", ws.ID(), code, clean, a))
}

func (p *probe) WebSocketError(ws dohost.WebSocket, err error) error {
	a, aerr := ws.Attachment()
	if aerr != nil {
		return aerr
	}
	return p.announce(ws, fmt.Sprintf("error %d %s", ws.ID(), a))
}
