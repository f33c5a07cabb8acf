package quota

import (
	"context"
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

// Wait takes n bytes, waiting (until ctx is done or stop is closed, at
// most) while the bucket is in debt: a writer past its rate is slowed,
// never refused.
func (r *Rate) Wait(ctx context.Context, stop <-chan struct{}, n int64) {
	if r == nil || r.rate <= 0 || n <= 0 {
		return
	}
	r.mu.Lock()
	now := time.Now()
	r.tokens = min(r.burst, r.tokens+now.Sub(r.last).Seconds()*r.rate)
	r.last = now
	r.tokens -= float64(n)
	var wait time.Duration
	if r.tokens < 0 {
		wait = time.Duration(-r.tokens / r.rate * float64(time.Second))
	}
	r.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-stop:
		}
	}
}
