package host

import (
	"io"
	"sync"
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
// Nothing is dropped: when maxLogBuffer bytes are waiting (the
// destination is stuck or slower than the lines), Write waits for room.
// Lines written before Flush or Close returns are written to the
// destination by then. It is safe for concurrent use.
type LogWriter struct {
	dst io.Writer

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

// NewLogWriter returns a LogWriter writing to dst. Close it to write out
// what waits and stop its goroutine.
func NewLogWriter(dst io.Writer) *LogWriter {
	w := &LogWriter{dst: dst, done: make(chan struct{})}
	w.room.L, w.work.L = &w.mu, &w.mu
	go w.flush()
	return w
}

// Write copies p into the buffer for the destination; it waits only while
// the buffer is full. After Close it writes p itself.
func (w *LogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	for !w.closed && len(w.buf) > 0 && len(w.buf)+len(p) > maxLogBuffer {
		w.waiting++
		w.room.Wait()
		w.waiting--
	}
	if w.closed {
		w.mu.Unlock()
		<-w.done // the lines before it are out: keep the order
		return w.dst.Write(p)
	}
	w.buf = append(w.buf, p...)
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

// Flush waits until the lines written before it are written to the
// destination.
func (w *LogWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for !w.closed && (len(w.buf) > 0 || w.writing) {
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
	<-w.done
	return nil
}
