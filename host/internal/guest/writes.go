package guest

import (
	"errors"
	"time"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/quota"
)

// Writes counts the bytes of one transaction's writes while they wait in
// memory for their commit: against the worker's max_write_bytes and
// against the account's and the host's budgets of write buffers. The calls
// that share a transaction (a constructor and the request that started
// the object) share one Writes. It is used by one goroutine at a time.
type Writes struct {
	limit  int64
	pair   quota.Pair
	tenant *quota.Tenant // nil: none
	cpu    *quota.CPU    // the account's schedule; nil: none
	n      int64
}

// NewWrites returns an empty count for a transaction of m's worker.
func (m *Module) NewWrites() *Writes {
	w := &Writes{limit: m.limits.Writes, tenant: m.tenant, cpu: m.cpu}
	if m.tenant != nil {
		w.pair = m.tenant.Writes
	}
	return w
}

// Release gives back what the transaction took, once it is committed or
// discarded. It is safe on nil and to call twice.
func (w *Writes) Release() {
	if w != nil {
		w.pair.Give(w.n)
		w.n = 0
	}
}

// beforeCommit counts the bytes about to be committed toward the
// account's stored data.
func (w *Writes) beforeCommit() {
	if w == nil || w.tenant == nil || w.n == 0 {
		return
	}
	w.tenant.Disk.Committed(w.n)
}

// held reports whether the account is held down to its share of the
// cores (Load's share): its commits wait behind others' (Commit).
func (w *Writes) held() bool { return w != nil && w.cpu.Held() }

// writeOverhead is what a batch holds for each write besides its key and
// value: the record's header and the index entry.
const writeOverhead = 64

// charge reserves the memory a write of key and value takes in the call's
// batch (the key twice: in the batch and in its index). It fails with
// TOO_LARGE past the worker's max_write_bytes or when the account's stored
// data is at its quota, and with OVERLOADED when the account's or the
// host's write buffers are full, and then nothing is written. Deletes are
// charged too (they take memory until they commit), but a delete (key
// only) is never refused for the quota: it is how an account gets under
// it again.
func (c *Call) charge(key, value int) abi.Code {
	w := c.Writes
	if w == nil {
		return abi.OK
	}
	if w.tenant != nil && value > 0 {
		if err := w.tenant.Disk.Check(); err != nil {
			return c.errorf(abi.TooLarge, "%v", err)
		}
	}
	n := int64(2*key + value + writeOverhead)
	if w.limit > 0 && w.n+n > w.limit {
		return c.errorf(abi.TooLarge, "this handler call's writes would be %d bytes; max_write_bytes is %d: commit in smaller requests", w.n+n, w.limit)
	}
	if w.tenant != nil {
		// A writer past its account's rate is slowed where it writes, so
		// that what it makes the host copy and collect is bounded too,
		// not only what it commits (a write never committed costs as
		// much until then). The wait is not running time (clock.pause).
		// A write the call could not wait for is refused.
		d, ok := w.tenant.WriteRate.Reserve(n, c.clock.left())
		if !ok {
			return c.errorf(abi.Overloaded, "the account's write rate is spent for the next %v; try again later", d.Round(time.Millisecond))
		}
		if d > 0 {
			c.clock.pause(d)
		}
	}
	if err := w.pair.Take(n); err != nil {
		if errors.Is(err, quota.ErrExhausted) {
			return c.errorf(abi.Overloaded, "%v; try again later", err)
		}
		return c.errorf(abi.Internal, "%v", err)
	}
	w.n += n
	return abi.OK
}
