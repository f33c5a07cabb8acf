package host

import (
	"log/slog"
	"sync"
	"time"
)

// sampledLog logs one kind of line that a client can cause at will (a
// refusal, say) at most once per interval: a tenant's clients flooding
// the host with refused requests would otherwise flood the operator's
// log, and spend the host's time writing it, a line per request. Each
// line it writes says how many like it were not written since the last.
// It is safe for concurrent use.
type sampledLog struct {
	every time.Duration

	mu      sync.Mutex
	last    time.Time // when it last wrote a line
	dropped int64     // lines not written since
}

// warn writes msg with args at warning level on log unless a line was
// written within the interval; then it only counts it.
func (s *sampledLog) warn(log *slog.Logger, msg string, args ...any) {
	s.mu.Lock()
	now := time.Now()
	if !s.last.IsZero() && now.Sub(s.last) < s.every {
		s.dropped++
		s.mu.Unlock()
		return
	}
	dropped := s.dropped
	s.last, s.dropped = now, 0
	s.mu.Unlock()
	if dropped > 0 {
		args = append(args, "not_logged_since_last", dropped)
	}
	log.Warn(msg, args...)
}
