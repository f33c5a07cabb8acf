package host

import (
	"io"
	"log/slog"
	"sync"
	"time"
)

// LogWriter passes the operator's log on to its destination (stderr, a
// pipe to journald) from a goroutine of its own, so that a handler that
// logs a line copies it into a buffer and goes on: it neither waits for
// the write system call nor queues behind the other handlers' writes.
// Lines that arrive while one write is under way go out together in the
// next. slog's handlers write each record under a mutex; writing straight
// to stderr, thousands of request handlers a second (an access log line
// each, or a tenant's failures) queued on that mutex, and a handler that
// had its line written then waited behind every runnable goroutine before
// its response left (Go hands a contended mutex over and yields).
//
// Lines that come within logBatch of the first one after a write go out
// together, in one write: with an access log, a line a request, the
// writer's goroutine woke and wrote for every line, 2,000 system calls and
// wake-ups a second under the soak's victim alone, each woken goroutine
// taking the next turn on the P of the handler that logged, ahead of
// the requests waiting there.
//
// Nothing is dropped: when maxLogBuffer bytes are waiting (the
// destination is stuck or slower than the lines), Write waits for room.
// Lines written before Flush or Close returns are written to the
// destination by then. It is safe for concurrent use.
type LogWriter struct {
	dst   io.Writer
	batch time.Duration // how long the lines after a write gather before the next
	kick  chan struct{} // cuts a batch's gathering short: Flush, Close, a full buffer

	mu      sync.Mutex
	room    sync.Cond // signalled when the buffer has room, or a write finished
	work    sync.Cond // signalled when the buffer has lines, or on Close
	buf     []byte    // guarded by mu: lines not yet handed to dst
	spare   []byte    // guarded by mu: the other buffer, reused
	writing bool      // guarded by mu: a write to dst is under way
	closed  bool      // guarded by mu: no flusher; Write writes itself
	waiting int       // guarded by mu: writers waiting for room
	done    chan struct{}
}

// maxLogBuffer is how many bytes of lines may wait for the destination
// before Write waits for room.
const maxLogBuffer = 1 << 20

// logBatch is how long the lines that come after a write gather before
// the next: short beside what a reader of the log notices. Once
// logBatchBytes of them wait, they go without waiting longer: lines that
// come that fast make large writes anyway, and gathering more only
// makes the handlers append to a larger, colder buffer (BenchmarkLogLines
// slowed by a sixth when every batch gathered for its time).
const (
	logBatch      = 5 * time.Millisecond
	logBatchBytes = 64 << 10
)

// NewLogWriter returns a LogWriter writing to dst. Close it to write out
// what waits and stop its goroutine.
func NewLogWriter(dst io.Writer) *LogWriter { return newLogWriter(dst, logBatch) }

// newLogWriter is NewLogWriter with the lines gathering for batch.
func newLogWriter(dst io.Writer, batch time.Duration) *LogWriter {
	w := &LogWriter{dst: dst, batch: batch, kick: make(chan struct{}, 1), done: make(chan struct{})}
	w.room.L, w.work.L = &w.mu, &w.mu
	go w.flush()
	return w
}

// hurry cuts the gathering of the lines under way short.
func (w *LogWriter) hurry() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Write copies p into the buffer for the destination; it waits only while
// the buffer is full. After Close it writes p itself.
func (w *LogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	for !w.closed && len(w.buf) > 0 && len(w.buf)+len(p) > maxLogBuffer {
		w.waiting++
		w.hurry()
		w.room.Wait()
		w.waiting--
	}
	if w.closed {
		w.mu.Unlock()
		<-w.done // the lines before it are out: keep the order
		return w.dst.Write(p)
	}
	w.buf = append(w.buf, p...)
	if n := len(w.buf); n >= logBatchBytes && n-len(p) < logBatchBytes {
		w.hurry() // lines come fast enough to fill a write without waiting
	}
	w.work.Signal()
	w.mu.Unlock()
	return len(p), nil
}

// flush writes the buffered lines to the destination as they come, until
// Close.
func (w *LogWriter) flush() {
	defer close(w.done)
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for len(w.buf) == 0 && !w.closed {
			w.work.Wait()
		}
		if len(w.buf) == 0 { // closed, and everything written
			return
		}
		if !w.closed && w.waiting == 0 && len(w.buf) < logBatchBytes {
			w.mu.Unlock()
			w.gather()
			w.mu.Lock()
		}
		out := w.buf
		w.buf, w.spare = w.spare[:0], nil
		w.writing = true
		w.room.Broadcast()
		w.mu.Unlock()
		_, _ = w.dst.Write(out) // the log has nowhere to report its own failure
		w.mu.Lock()
		w.writing = false
		if cap(out) <= maxLogBuffer {
			w.spare = out[:0]
		}
		w.room.Broadcast()
	}
}

// gather waits for the lines that come within the batch's time, or
// until hurried.
func (w *LogWriter) gather() {
	t := time.NewTimer(w.batch)
	defer t.Stop()
	select {
	case <-t.C:
	case <-w.kick:
	}
}

// Flush waits until the lines written before it are written to the
// destination.
func (w *LogWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for !w.closed && (len(w.buf) > 0 || w.writing) {
		w.hurry()
		w.room.Wait()
	}
}

// Close writes out the buffered lines and stops the writer's goroutine;
// later lines are written straight to the destination.
func (w *LogWriter) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.work.Signal()
	w.room.Broadcast()
	w.mu.Unlock()
	w.hurry()
	<-w.done
	return nil
}

// Handler returns h, a handler that writes to w, with a Flush method
// (kept by the handlers derived from it), which waits until the records
// handled before it are written to w's destination: code about to end
// the process calls it through its logger's handler (the storage
// engine's fatal errors, store.Open), so that its last line is not lost
// in w's buffer.
func (w *LogWriter) Handler(h slog.Handler) slog.Handler { return logHandler{h, w} }

// logHandler is LogWriter.Handler's handler.
type logHandler struct {
	slog.Handler
	w *LogWriter
}

// WithAttrs returns the wrapped handler's WithAttrs, wrapped alike.
func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(attrs), h.w}
}

// WithGroup returns the wrapped handler's WithGroup, wrapped alike.
func (h logHandler) WithGroup(name string) slog.Handler {
	return logHandler{h.Handler.WithGroup(name), h.w}
}

// Flush waits until the records handled before it are written to the
// destination (LogWriter.Flush).
func (h logHandler) Flush() { h.w.Flush() }
