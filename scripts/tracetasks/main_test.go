package main

import (
	"bytes"
	"context"
	"net"
	"runtime"
	"runtime/trace"
	"strings"
	"testing"
	"time"

	xtrace "golang.org/x/exp/trace"
)

// TestRead: a request task's time is split by its goroutine's state, a
// wait named by what it waited on, and the wait from its connection's
// read to the task's begin is found, split by state the same way; other
// tasks and accounts are told apart.
func TestRead(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { // the server: a read that waits on the network, then the request
		defer close(served)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b := make([]byte, 1)
		if _, err := c.Read(b); err != nil {
			return
		}
		ctx, task := trace.NewTask(context.Background(), "request")
		trace.Log(ctx, "account", "acme")
		release := make(chan struct{})
		time.AfterFunc(5*time.Millisecond, func() { close(release) })
		<-release // a wait the breakdown names
		task.End()
		_, other := trace.NewTask(context.Background(), "not a request")
		other.End()
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // the server waits on the network meanwhile
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	<-served
	c.Close()
	trace.Stop()

	tasks, err := read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].account != "acme" {
		t.Fatalf("tasks: %+v, want one request of acme", tasks)
	}
	rq := tasks[0]
	var waited time.Duration
	for k, v := range rq.states {
		if strings.HasPrefix(k, "Waiting chan receive") && strings.Contains(k, "TestRead") {
			waited += time.Duration(v)
		}
	}
	if waited < 4*time.Millisecond || waited > time.Duration(rq.dur()) {
		t.Errorf("the request's channel wait: %v of %v, want 5 ms or so; states %v", waited, time.Duration(rq.dur()), rq.states)
	}
	if rq.readable <= 0 {
		t.Errorf("no wait from readable to the request's begin found")
	}
	var before time.Duration
	for _, v := range rq.before {
		before += time.Duration(v)
	}
	if before != time.Duration(rq.readable) {
		t.Errorf("the wait before the begin by state, %v in all (%v), is not the wait from readable, %v", before, rq.before, time.Duration(rq.readable))
	}
	var out bytes.Buffer
	report(&out, tasks, 5)
	if !strings.Contains(out.String(), "1 requests of acme") || !strings.Contains(out.String(), "from readable") || !strings.Contains(out.String(), "before the begin") {
		t.Errorf("report:\n%s", out.String())
	}
}

// TestProcs: while a goroutine of one account waits for the only P, the
// P's time goes to the request of the account that holds it, none to the
// waiting account's.
func TestProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	over := xtrace.Time(500 * time.Microsecond)
	var pt *procTimes
	// The runtime may stop the spinning goroutine early (a collection, the
	// tracer's next generation), and acme's goroutine then runs before it
	// has waited: up to five tries for one that waits.
	for try := 0; try < 5 && (pt == nil || pt.waiting == 0); try++ {
		var err error
		if pt, err = procs(waitBehindHog(t), "acme", over); err != nil {
			t.Fatal(err)
		}
	}
	if pt.waiting <= 0 || pt.waiting > xtrace.Time(time.Second) {
		t.Fatalf("acme waited over %v for %v, want up to 4.5 ms", time.Duration(over), time.Duration(pt.waiting))
	}
	// Not all of it: on a busy machine the runtime's own goroutines (the
	// tracer's writer, a collection's workers) take the P for part of it.
	if hog := pt.byWhat["a request of hog"]; hog == 0 || pt.byWhat["a request of acme"] != 0 {
		t.Errorf("of the %v acme waited, the P ran hog's request %v; all: %v", time.Duration(pt.waiting), time.Duration(hog), pt.byWhat)
	}
	var out bytes.Buffer
	reportProcs(&out, "acme", over, pt, 5)
	if !strings.Contains(out.String(), "a request of hog") {
		t.Errorf("report:\n%s", out.String())
	}
}

// waitBehindHog traces, with one P, a goroutine of account acme that
// runs a request and waits, then is woken by a request of account hog,
// which keeps the P for 5 ms after.
func waitBehindHog(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	wake, parked, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() { // a goroutine of acme: a request, then a wait
		defer close(done)
		ctx, task := trace.NewTask(context.Background(), "request")
		trace.Log(ctx, "account", "acme")
		task.End()
		close(parked) // with one P, it keeps running until it parks below
		<-wake
	}()
	<-parked
	ctx, task := trace.NewTask(context.Background(), "request")
	trace.Log(ctx, "account", "hog")
	wake <- struct{}{} // acme's goroutine is runnable from here, the P still ours
	for start := time.Now(); time.Since(start) < 5*time.Millisecond; {
	}
	task.End()
	<-done
	trace.Stop()
	return &buf
}
