package guest

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
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
	log *slog.Logger

	mu       sync.Mutex
	tokens   float64   // guarded by mu
	last     time.Time // guarded by mu: the last refill
	dropped  int       // guarded by mu: since the last report
	reported time.Time // guarded by mu
}

func newLogLimiter(log *slog.Logger) *logLimiter {
	return &logLimiter{log: log, tokens: LogBurst, last: time.Now()}
}

// allow takes a token for one line, reporting whether it may be logged.
func (l *logLimiter) allow() bool {
	l.mu.Lock()
	now := time.Now()
	l.tokens = min(LogBurst, l.tokens+now.Sub(l.last).Seconds()*LogRate)
	l.last = now
	ok := l.tokens >= 1
	if ok {
		l.tokens--
	} else {
		l.dropped++
	}
	var report int
	if l.dropped > 0 && now.Sub(l.reported) >= time.Second {
		report, l.dropped, l.reported = l.dropped, 0, now
	}
	l.mu.Unlock()
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

	mu  sync.Mutex
	buf []byte // an incomplete line; guarded by mu
}

func newLogWriter(log *slog.Logger, limit *logLimiter, stream string) *logWriter {
	return &logWriter{log: log, limit: limit, stream: stream}
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			if len(w.buf) >= maxLogLine {
				w.emit(w.buf[:maxLogLine])
				w.buf = append(w.buf[:0], w.buf[maxLogLine:]...)
			}
			break
		}
		w.buf = append(w.buf, p[:i]...)
		w.emit(w.buf)
		w.buf = w.buf[:0]
		p = p[i+1:]
	}
	return n, nil
}

func (w *logWriter) emit(line []byte) {
	for len(line) > maxLogLine {
		w.emit(line[:maxLogLine])
		line = line[maxLogLine:]
	}
	if !w.limit.allow() {
		return
	}
	level := slog.LevelInfo
	if w.stream == "stderr" {
		level = slog.LevelWarn
	}
	w.log.Log(context.Background(), level, strings.ToValidUTF8(string(line), "\uFFFD"), "stream", w.stream)
}
