package lograte

import (
	"sync"
	"sync/atomic"
	"time"
)

// ReportEvery is how often, at most, a Bucket asks for the lines it held
// back to be reported.
const ReportEvery = time.Second

// Bucket lets lines through at a rate, in bursts up to a size: a token
// bucket. The lines beyond are held back and counted, and the count is
// handed out at most once per ReportEvery, for one line that says how
// many were dropped. It is safe for concurrent use.
type Bucket struct {
	rate, burst float64

	mu       sync.Mutex
	tokens   float64   // guarded by mu
	last     time.Time // guarded by mu: the last refill
	dropped  int64     // guarded by mu: held back since the last report
	reported time.Time // guarded by mu
}

// NewBucket returns a full bucket of burst lines that refills at rate
// lines a second from now.
func NewBucket(rate, burst float64, now time.Time) *Bucket {
	return &Bucket{rate: rate, burst: burst, tokens: burst, last: now}
}

// Take reports whether a line may be written at now, and how many lines
// held back are to be reported now (0 when none, or when the last report
// was within ReportEvery).
func (b *Bucket) Take(now time.Time) (ok bool, report int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
	ok = b.tokens >= 1
	if ok {
		b.tokens--
	} else {
		b.dropped++
		dropped.Add(1)
	}
	if b.dropped > 0 && now.Sub(b.reported) >= ReportEvery {
		report, b.dropped, b.reported = b.dropped, 0, now
	}
	return ok, report
}

// dropped counts the lines every Bucket of the process held back.
var dropped atomic.Int64

// Dropped returns how many lines the process's Buckets have held back, in
// all: an operator's alert on a tenant flooding the log, beside the line
// each Bucket writes about its own.
func Dropped() int64 { return dropped.Load() }
