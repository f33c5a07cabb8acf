package host

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// blockingSink is a log destination whose writes wait until it is
// released, as a stuck pipe does.
type blockingSink struct {
	testLogger
	writes  atomic.Int64
	entered chan struct{} // a write has begun
	release chan struct{} // closed to let writes through
}

func newBlockingSink() *blockingSink {
	return &blockingSink{entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (s *blockingSink) Write(p []byte) (int, error) {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-s.release
	s.writes.Add(1)
	return s.testLogger.Write(p)
}

// TestLogWriter_DoesNotWaitForTheDestination: while the destination is
// stuck in a write, 1,000 lines from 8 goroutines are taken without
// waiting; once it is free they all reach it whole, each goroutine's in
// its order, in a few writes rather than one each.
func TestLogWriter_DoesNotWaitForTheDestination(t *testing.T) {
	sink := newBlockingSink()
	w := NewLogWriter(sink)
	fmt.Fprintf(w, "first\n")
	<-sink.entered // the writer's goroutine is stuck in the destination
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 125 {
				fmt.Fprintf(w, "g%d line %03d\n", g, i)
			}
		}()
	}
	wg.Wait() // returns only if no Write waited for the stuck destination
	close(sink.release)
	w.Flush()
	out := sink.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1001 || lines[0] != "first" {
		t.Fatalf("%d lines reached the destination, want 1,001 starting with the first", len(lines))
	}
	next := map[string]int{}
	for _, l := range lines[1:] {
		var g string
		var i int
		if _, err := fmt.Sscanf(l, "%s line %d", &g, &i); err != nil {
			t.Fatalf("line %q came apart: %v", l, err)
		}
		if i != next[g] {
			t.Fatalf("%s's line %d came after its line %d", g, i, next[g]-1)
		}
		next[g]++
	}
	if sink.writes.Load() > 3 {
		t.Errorf("%d writes to the destination for 1,001 lines, want them together (at most 3)", sink.writes.Load())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLogWriter_FullBufferWaits: nothing is dropped when the destination
// is stuck: a writer that would take the buffer past its size waits for
// room, and its line arrives once the destination is free.
func TestLogWriter_FullBufferWaits(t *testing.T) {
	sink := newBlockingSink()
	w := NewLogWriter(sink)
	fmt.Fprintf(w, "first\n")
	<-sink.entered
	big := strings.Repeat("x", maxLogBuffer-2) + "\n"
	if _, err := w.Write([]byte(big)); err != nil { // fills the buffer
		t.Fatal(err)
	}
	wrote := make(chan struct{})
	go func() {
		fmt.Fprintf(w, "last\n")
		close(wrote)
	}()
	for waiting := 0; waiting == 0; { // until the writer waits for room
		select {
		case <-wrote:
			t.Fatal("a line past a full buffer was taken while the destination was stuck")
		default:
		}
		runtime.Gosched()
		w.mu.Lock()
		waiting = w.waiting
		w.mu.Unlock()
	}
	close(sink.release)
	<-wrote
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if out := sink.String(); out != "first\n"+big+"last\n" {
		t.Fatalf("the destination got %d bytes, want every line in order (%d)", len(out), len("first\n"+big+"last\n"))
	}
}

// TestLogWriter_Batches: lines that come one by one while a batch
// gathers go out in one write, and Flush does not wait for the batch's
// time.
func TestLogWriter_Batches(t *testing.T) {
	sink := &countingSink{}
	w := newLogWriter(sink, time.Hour)
	defer w.Close()
	for i := range 10 {
		fmt.Fprintf(w, "line %d\n", i)
		time.Sleep(time.Millisecond) // the writer's goroutine is free meanwhile
	}
	if n := sink.writes.Load(); n != 0 {
		t.Fatalf("%d writes while the batch gathered, want none before its time or a Flush", n)
	}
	w.Flush() // hangs for the hour if it does not cut the gathering short
	if n := sink.writes.Load(); n != 1 || strings.Count(sink.String(), "\n") != 10 {
		t.Fatalf("%d writes with %d lines, want the 10 lines in one", n, strings.Count(sink.String(), "\n"))
	}
}

// TestLogWriter_Handler: the handler of a logger derived from
// LogWriter.Handler's (with attributes and a group) has a Flush method,
// which writes out the lines waiting, in order, without waiting for the
// batch's time.
func TestLogWriter_Handler(t *testing.T) {
	sink := &countingSink{}
	w := newLogWriter(sink, time.Hour)
	defer w.Close()
	log := slog.New(w.Handler(slog.NewTextHandler(w, nil))).With("worker", "w").WithGroup("g")
	log.Info("first")
	log.Error("second")
	f, ok := log.Handler().(interface{ Flush() })
	if !ok {
		t.Fatalf("the derived logger's handler %T has no Flush", log.Handler())
	}
	f.Flush() // hangs for the hour if it does not cut the gathering short
	got := sink.String()
	if n := sink.writes.Load(); n != 1 || !strings.Contains(got, "msg=first") || !strings.Contains(got, "msg=second") ||
		strings.Index(got, "first") > strings.Index(got, "second") {
		t.Fatalf("after Flush, %d writes: %q, want both lines in order in one", n, got)
	}
}

// countingSink is a log destination that counts its writes.
type countingSink struct {
	testLogger
	writes atomic.Int64
}

func (s *countingSink) Write(p []byte) (int, error) {
	s.writes.Add(1)
	return s.testLogger.Write(p)
}

// TestLogWriter_Close writes out what waits, and lines after Close go
// straight to the destination.
func TestLogWriter_Close(t *testing.T) {
	var sink testLogger
	w := NewLogWriter(&sink)
	for i := range 100 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(sink.String(), "\n"); n != 100 {
		t.Fatalf("%d of 100 lines written by Close", n)
	}
	fmt.Fprintf(w, "after\n")
	if !strings.HasSuffix(sink.String(), "line 99\nafter\n") {
		t.Fatal("a line after Close was not written at once, in order")
	}
}

// BenchmarkLogLines: request handlers on every P logging a line each
// through slog, as the access log does, to a pipe drained by another
// process-like reader: straight to the pipe, and through a LogWriter.
func BenchmarkLogLines(b *testing.B) {
	for _, buffered := range []bool{false, true} {
		name := "direct"
		if buffered {
			name = "logwriter"
		}
		b.Run(name, func(b *testing.B) {
			w, drain := drainedPipe(b)
			var dst io.Writer = w
			var lw *LogWriter
			if buffered {
				lw = NewLogWriter(w)
				dst = lw
			}
			log := slog.New(slog.NewTextHandler(dst, nil))
			b.SetParallelism(16) // handlers outnumber the Ps
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					accessLine(log)
				}
			})
			b.StopTimer()
			if lw != nil {
				lw.Close()
			}
			drain()
		})
	}
}

// drainedPipe returns the writing end of a pipe whose reading end a
// goroutine empties, and drain, which closes the writing end and waits
// until all that was written is read.
func drainedPipe(b *testing.B) (w *os.File, drain func()) {
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	drained := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, r); close(drained) }()
	return w, func() {
		w.Close()
		<-drained
		r.Close()
	}
}

// accessLine logs an access log's line, as a server's handler does.
func accessLine(log *slog.Logger) {
	log.Info("request", "request_id", "01JAXQ3V5N7M", "worker", "victim/room", "method", "GET",
		"path", "/room/r42", "status", 200, "duration", 1234*time.Microsecond, "remote", "127.0.0.1:51234")
}

// BenchmarkLogLinesPaced: an access log's lines as a server's handlers
// write them, spread out in time (eight handlers, a line every 4 ms each:
// 2,000 lines a second), through a LogWriter to a pipe drained by another
// goroutine. cpu-µs/line is the process's CPU time per line: slog's
// formatting, the LogWriter, its writes and wake-ups.
func BenchmarkLogLinesPaced(b *testing.B) {
	w, drain := drainedPipe(b)
	lw := NewLogWriter(w)
	log := slog.New(slog.NewTextHandler(lw, nil))
	const handlers = 8
	b.ResetTimer()
	cpu0 := processCPU()
	var wg sync.WaitGroup
	for g := range handlers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(4 * time.Millisecond)
			defer tick.Stop()
			for i := g; i < b.N; i += handlers {
				<-tick.C
				accessLine(log)
			}
		}()
	}
	wg.Wait()
	lw.Close()
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/line")
	drain()
}
