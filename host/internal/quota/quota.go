// Package quota holds the budgets that bound what tenants make the host
// spend: bytes of linear memory, of write batches and of request bodies
// held in memory, live objects, alarm handlers running at once. A Budget
// is one amount with a limit; a Pair draws from a tenant's budget and the
// host's together, so that no tenant takes more than its share and all
// tenants together no more than the host has.
//
// Budgets only count: the code that spends memory or starts an instance
// takes from its budget first and gives back when it is done, and turns a
// refusal into a clear error for the tenant that asked.
package quota

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// ErrExhausted is the cause of every refusal: errors.Is(err, ErrExhausted).
var ErrExhausted = errors.New("quota: exhausted")

// Budget is an amount of one resource that several users draw from. It
// is safe for concurrent use.
type Budget struct {
	name  string // what it is of, for messages: "memory of account a"
	unit  string // "bytes", "objects"
	limit int64
	used  atomic.Int64
	// reclaim, if set, is asked to free some of the budget when a Take
	// would go past the limit (see Reclaimer).
	reclaim func() bool
}

// maxReclaims bounds how often one Take asks its budget's reclaimer to
// free room before it fails.
const maxReclaims = 64

// New returns a budget of limit units; a limit of 0 or less is no limit.
func New(name, unit string, limit int64) *Budget {
	return &Budget{name: name, unit: unit, limit: limit}
}

// Take reserves n units, or reserves nothing and fails, with an error that
// says which budget and how much, if that would go past the limit.
func (b *Budget) Take(n int64) error {
	if b == nil || n <= 0 {
		return nil
	}
	for range maxReclaims {
		err := b.take(n)
		if err == nil || b.reclaim == nil || !b.reclaim() {
			return err
		}
	}
	return b.take(n)
}

func (b *Budget) take(n int64) error {
	used := b.used.Add(n)
	if b.limit > 0 && used > b.limit {
		b.used.Add(-n)
		return fmt.Errorf("%w: %s: %d %s in use of %d, and %d more asked", ErrExhausted, b.name, used-n, b.unit, b.limit, n)
	}
	return nil
}

// Give returns n units taken before.
func (b *Budget) Give(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// Used reports the units in use.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// Limit reports the budget's limit (0: none).
func (b *Budget) Limit() int64 {
	if b == nil {
		return 0
	}
	return b.limit
}

// Pair is a tenant's budget and the host's for the same resource.
type Pair struct {
	Tenant, Host *Budget
}

// Take reserves n units of both, or of neither.
func (p Pair) Take(n int64) error {
	if err := p.Tenant.Take(n); err != nil {
		return err
	}
	if err := p.Host.Take(n); err != nil {
		p.Tenant.Give(n)
		return err
	}
	return nil
}

// Give returns n units to both.
func (p Pair) Give(n int64) {
	p.Tenant.Give(n)
	p.Host.Give(n)
}
