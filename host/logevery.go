package host

import (
	"log/slog"
	"time"

	"github.com/dohost/dohost/host/internal/lograte"
)

// refusalLogEvery is how often, at most, a worker logs that it refused a
// request: a tenant's clients flooding a busy worker would otherwise
// flood the operator's log, and spend the host's time writing it, a line
// per request.
const refusalLogEvery = time.Second

// warnEvery writes msg with args at warning level on log if e lets a line
// through (one per every); the line says how many like it were not
// written since the last.
func warnEvery(e *lograte.Every, every time.Duration, log *slog.Logger, msg string, args ...any) {
	ok, dropped := e.Take(time.Now(), every)
	if !ok {
		return
	}
	if dropped > 0 {
		args = append(args, "not_logged_since_last", dropped)
	}
	log.Warn(msg, args...)
}
