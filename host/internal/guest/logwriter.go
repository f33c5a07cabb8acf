package guest

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dohost/dohost/host/internal/lograte"
	"github.com/dohost/dohost/host/internal/reqid"
)

// maxLogLine bounds one line of guest output; longer lines are split.
const maxLogLine = 4096

// A worker's guests may log LogRate lines a second, in bursts of up to
// LogBurst; the lines beyond are dropped and counted, and the count is
// reported once a second, so that a chatty guest cannot flood the log.
const (
	LogRate  = 200
	LogBurst = 1000
)

// logLimiter is a token bucket shared by all instances of one worker. It
// is safe for concurrent use.
type logLimiter struct {
	log    *slog.Logger
	bucket *lograte.Bucket
}

func newLogLimiter(log *slog.Logger) *logLimiter {
	return &logLimiter{log: log, bucket: lograte.NewBucket(LogRate, LogBurst, time.Now())}
}

// allow takes a token for one line, reporting whether it may be logged.
func (l *logLimiter) allow() bool {
	ok, report := l.bucket.Take(time.Now())
	if report > 0 {
		l.log.Warn("guest log lines dropped: over the rate limit", "dropped", report, "limit_per_s", LogRate)
	}
	return ok
}

// logWriter turns a guest's stdout or stderr into log lines tagged with the
// account, worker and object it belongs to. It is safe for concurrent use.
type logWriter struct {
	log    *slog.Logger
	limit  *logLimiter
	stream string
	owner  *Instance // whose calls write: a line names the request its call serves; nil: none

	mu  sync.Mutex
	buf []byte // an incomplete line, at most maxLogLine bytes; guarded by mu
	// partial is whether buf holds an incomplete line, read without mu
	// at the end of every guest call (endCall); written under mu.
	partial atomic.Bool
	first   []byte // guarded by mu: the first lines, up to keep bytes (keepFirst)
	keep    int
}

// keepFirst makes the writer keep its first n bytes of lines, for an
// error to quote (a module whose initialization failed, and said why).
func (w *logWriter) keepFirst(n int) {
	w.mu.Lock()
	w.keep = n
	w.mu.Unlock()
}

// kept returns the lines keepFirst kept, and the incomplete one.
func (w *logWriter) kept() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := string(w.first)
	if len(w.buf) > 0 && len(s)+len(w.buf) <= w.keep {
		s += string(w.buf)
	}
	return strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD")
}

func newLogWriter(log *slog.Logger, limit *logLimiter, stream string) *logWriter {
	return &logWriter{log: log, limit: limit, stream: stream}
}

// Write splits p into lines. It never holds more than one incomplete line
// of at most maxLogLine bytes, and once the worker's log rate is spent it
// drops the rest of p without looking at it: a guest that writes 64 MiB
// without a newline costs a few lines and a counter, not memory or time.
func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		chunk := p[:min(len(p), maxLogLine-len(w.buf))]
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			chunk = chunk[:i]
			p = p[i+1:]
		} else {
			p = p[len(chunk):]
			if len(w.buf)+len(chunk) < maxLogLine {
				w.buf = append(w.buf, chunk...)
				break // an incomplete line: wait for the rest
			}
		}
		// A whole line, or maxLogLine bytes of one.
		w.buf = append(w.buf, chunk...)
		ok := w.emit(w.buf)
		w.buf = w.buf[:0]
		if !ok {
			break // over the rate: the rest of this write is dropped too
		}
	}
	w.partial.Store(len(w.buf) > 0)
	return n, nil
}

// endCall logs the incomplete line a guest call left, if any, as a line
// of its own: a guest's last words without a newline (a message before
// it traps, a prompt) would otherwise wait for a newline that may never
// come, and be dropped with the instance. A line written in two calls
// becomes two lines.
func (w *logWriter) endCall() {
	if !w.partial.Load() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(w.buf)
		w.buf = w.buf[:0]
	}
	w.partial.Store(false)
}

// emit logs one line, if the rate limit allows, and reports whether it did.
func (w *logWriter) emit(line []byte) bool {
	if room := w.keep - len(w.first); room > 0 {
		w.first = append(w.first, line[:min(len(line), room)]...)
		if len(w.first) < w.keep {
			w.first = append(w.first, '\n')
		}
	}
	if !w.limit.allow() {
		return false
	}
	level := slog.LevelInfo
	if w.stream == "stderr" {
		level = slog.LevelWarn
	}
	logRequest(w.log, level, strings.ToValidUTF8(string(line), "\uFFFD"), w.requestID(), "stream", w.stream)
	return true
}

// logRequest logs msg at level with args and, when id is not "", the id
// of the request (alarm run, message) the guest serves: the guest's own
// lines are found with the host's about the same request (a failure's,
// an access log's).
func logRequest(log *slog.Logger, level slog.Level, msg, id string, args ...any) {
	if id != "" {
		args = append(args, "request_id", id)
	}
	log.Log(context.Background(), level, msg, args...)
}

// requestID returns the id of the request (or alarm run, or message) the
// owner's running call serves, or "". Write and endCall run in the
// call's goroutine, which alone sets Instance.cur.
func (w *logWriter) requestID() string {
	if w.owner == nil || w.owner.cur == nil {
		return ""
	}
	return reqid.From(&w.owner.cur.ctx)
}

// reset drops an incomplete line: the instance is kept as a spare, and
// what its next object writes is not to be joined to it.
func (w *logWriter) reset() {
	w.mu.Lock()
	w.buf = w.buf[:0]
	w.partial.Store(false)
	w.mu.Unlock()
}

// retarget sends the writer's lines to log: a spare revived for another
// object.
func (w *logWriter) retarget(log *slog.Logger) {
	w.mu.Lock()
	w.log = log
	w.mu.Unlock()
}
