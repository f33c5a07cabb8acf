package quota

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Disk is one account's stored bytes against its quota: an estimate of
// what the engine holds on disk (refreshed from time to time, see
// SetEstimate) plus the bytes committed since the engine last wrote its
// memtable out, which the estimate does not see yet. It is safe for
// concurrent use.
type Disk struct {
	account  string
	limit    int64 // 0: none
	estimate atomic.Int64
	recent   atomic.Int64
}

// Used is the account's stored bytes, as far as is known.
func (d *Disk) Used() int64 { return d.estimate.Load() + d.recent.Load() }

// Over reports whether the account is at or past its quota.
func (d *Disk) Over() bool { return d != nil && d.limit > 0 && d.Used() >= d.limit }

// Check fails, with a message for the tenant, when the account is at or
// past its quota.
func (d *Disk) Check() error {
	if !d.Over() {
		return nil
	}
	return fmt.Errorf("%w: the stored data of account %s is about %d bytes, at its quota of %d: delete some, or ask for more", ErrExhausted, d.account, d.Used(), d.limit)
}

// Committed counts n bytes the account has just committed.
func (d *Disk) Committed(n int64) {
	if d != nil {
		d.recent.Add(n)
	}
}

// SetEstimate records the engine's estimate of the account's bytes;
// flushed says whether the engine has written its memtable out since the
// last estimate, so that the recent bytes are in it.
func (d *Disk) SetEstimate(bytes int64, flushed bool) {
	d.estimate.Store(bytes)
	if flushed {
		d.recent.Store(0)
	}
}

// Limit is the quota (0: none).
func (d *Disk) Limit() int64 { return d.limit }

// Rate is a token bucket of bytes a second: an account's write bandwidth.
// It is safe for concurrent use.
type Rate struct {
	rate, burst float64 // bytes a second; the most it holds

	mu     sync.Mutex
	tokens float64   // guarded by mu; negative: owed
	last   time.Time // guarded by mu
}

// NewRate returns a bucket of rate bytes a second that holds burst.
func NewRate(rate, burst int64) *Rate {
	return &Rate{rate: float64(rate), burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// Reserve takes n bytes and returns how long their taker should wait
// before it uses them: zero while the bucket has them, else until the
// debt they make is paid. If that is longer than within (what the taker
// can wait), it takes nothing and reports false: bytes taken by a writer
// that never writes them would be owed all the same, and a burst of
// writers that all gave up (sixteen 25 MiB puts a time, each ended by
// its time limit as it waited) left their account owing minutes.
func (r *Rate) Reserve(n int64, within time.Duration) (time.Duration, bool) {
	if r == nil || r.rate <= 0 || n <= 0 {
		return 0, true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	r.tokens = min(r.burst, r.tokens+now.Sub(r.last).Seconds()*r.rate)
	r.last = now
	left := r.tokens - float64(n)
	if left >= 0 {
		r.tokens = left
		return 0, true
	}
	wait := time.Duration(-left / r.rate * float64(time.Second))
	if wait > within {
		return wait, false
	}
	r.tokens = left
	return wait, true
}
