package host

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/dohost/dohost/host/internal/lograte"
)

// The host writes AccountLogRate lines a second, in bursts of up to
// AccountLogBurst, about one account's workers, objects and guests (its
// failed and trapped handlers, refusals, its guests' own lines); the
// lines beyond are dropped and counted, and the count is written once a
// second. A tenant whose every request fails — a chain of stub calls
// through new objects failed 5,000 times a second in the soak, each a
// line — costs the host a counter, not a log write per failure, and
// cannot bury the other tenants' lines.
const (
	AccountLogRate  = 500
	AccountLogBurst = 2000
)

// accountLogs holds each account's bucket of log lines. It is safe for
// concurrent use.
type accountLogs struct {
	mu      sync.Mutex
	buckets map[string]*lograte.Bucket // guarded by mu: by account
}

// workerLog returns the logger of a worker of account: s.log's, with the
// account and the worker named, within the account's log rate.
func (s *Server) workerLog(account, worker string) *slog.Logger {
	l := &s.accountLogs
	l.mu.Lock()
	if l.buckets == nil {
		l.buckets = map[string]*lograte.Bucket{}
	}
	b := l.buckets[account]
	if b == nil {
		b = lograte.NewBucket(AccountLogRate, AccountLogBurst, time.Now())
		l.buckets[account] = b
	}
	l.mu.Unlock()
	h := s.log.Handler().WithAttrs([]slog.Attr{slog.String("account", account)})
	return slog.New(&limitedHandler{base: h, report: h, bucket: b}).With("worker", worker)
}

// limitedHandler passes records on to its handler while its bucket lets
// them through, and writes how many it dropped to report, with the
// account's name alone.
//
// Attributes added to it (WithAttrs) are applied to the handler below
// only when a record is first written: every object gets a logger with
// its class and ID, thousands a second while a tenant churns objects,
// and most never write a line; the text handler formats the attributes
// it is given at once (1.5 KB of garbage an object).
type limitedHandler struct {
	base    slog.Handler // the handler below, without pending
	pending []slog.Attr  // attributes not yet applied to base
	report  slog.Handler
	bucket  *lograte.Bucket

	once    sync.Once
	applied slog.Handler // base with pending, made by once
}

// handler returns the handler below with the pending attributes applied.
func (h *limitedHandler) handler() slog.Handler {
	if len(h.pending) == 0 {
		return h.base
	}
	h.once.Do(func() { h.applied = h.base.WithAttrs(h.pending) })
	return h.applied
}

// Enabled reports whether the handler below writes records at level.
func (h *limitedHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.base.Enabled(ctx, level)
}

// Handle writes r if the account's rate allows it.
func (h *limitedHandler) Handle(ctx context.Context, r slog.Record) error {
	now := r.Time
	if now.IsZero() {
		now = time.Now()
	}
	ok, dropped := h.bucket.Take(now)
	if dropped > 0 {
		rep := slog.NewRecord(now, slog.LevelWarn, "log lines about the account dropped: over its rate", 0)
		rep.AddAttrs(slog.Int64("dropped", dropped), slog.Int("limit_per_s", AccountLogRate))
		_ = h.report.Handle(ctx, rep)
	}
	if !ok {
		return nil
	}
	return h.handler().Handle(ctx, r)
}

// WithAttrs returns the handler with attrs added to its records, within
// the same account's rate.
func (h *limitedHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	pending := make([]slog.Attr, 0, len(h.pending)+len(attrs))
	pending = append(append(pending, h.pending...), attrs...)
	return &limitedHandler{base: h.base, pending: pending, report: h.report, bucket: h.bucket}
}

// WithGroup returns the handler with its records' later attributes in
// group name, within the same account's rate.
func (h *limitedHandler) WithGroup(name string) slog.Handler {
	return &limitedHandler{base: h.handler().WithGroup(name), report: h.report, bucket: h.bucket}
}
