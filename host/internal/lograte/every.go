// Package lograte keeps a log line that can repeat at will (an engine's
// retries, a client's refused requests) to one per interval, counting
// the ones it holds back.
package lograte

import (
	"sync"
	"time"
)

// Every lets one line of a kind through per interval. Its zero value lets
// the first line through. It is safe for concurrent use.
type Every struct {
	mu      sync.Mutex
	last    time.Time // when it last let a line through
	dropped int64     // lines held back since
}

// Take reports whether a line may be written at now (none was within
// every before it), and, if so, how many were held back since the last
// one written; otherwise it counts the line as held back.
func (e *Every) Take(now time.Time, every time.Duration) (ok bool, dropped int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.last.IsZero() && now.Sub(e.last) < every {
		e.dropped++
		return false, 0
	}
	dropped = e.dropped
	e.last, e.dropped = now, 0
	return true, dropped
}
