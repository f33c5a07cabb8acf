package host

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
)

// maxLogLine bounds one line of guest output; longer lines are split.
const maxLogLine = 4096

// logWriter turns a guest's stdout or stderr into log lines tagged with the
// worker and object it belongs to. It is safe for concurrent use.
type logWriter struct {
	log    *slog.Logger
	stream string

	mu  sync.Mutex
	buf []byte // an incomplete line; guarded by mu
}

func newLogWriter(log *slog.Logger, stream string) *logWriter {
	return &logWriter{log: log, stream: stream}
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
	level := slog.LevelInfo
	if w.stream == "stderr" {
		level = slog.LevelWarn
	}
	w.log.Log(context.Background(), level, strings.ToValidUTF8(string(line), "\uFFFD"), "stream", w.stream)
}
