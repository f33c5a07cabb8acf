package quota

import (
	"sync"
	"sync/atomic"
)

// Limits size the budgets: for the whole host and for each account.
type Limits struct {
	// Memory: bytes of guests' linear memory (and tables) that is their
	// own, not shared with a snapshot.
	Memory, AccountMemory int64
	// Writes: bytes of handler calls' write batches, held in memory until
	// they commit.
	Writes, AccountWrites int64
	// Objects: objects with a live instance.
	Objects, AccountObjects int64
	// Alarms: alarm handlers running at once.
	Alarms, AccountAlarms int64
	// Bodies: bytes of request and response bodies held in memory.
	Bodies, AccountBodies int64
	// AccountDisk: bytes one account may store (0: no quota).
	AccountDisk int64
	// AccountWriteRate: bytes a second one account may write, in bursts
	// of AccountWriteBurst (0: no limit).
	AccountWriteRate, AccountWriteBurst int64
}

// Host holds the host's budgets and each account's. It is safe for
// concurrent use.
type Host struct {
	limits Limits

	Memory, Writes, Objects, Alarms, Bodies *Budget

	mu       sync.Mutex
	accounts map[string]*Tenant // guarded by mu

	reclaimer atomic.Pointer[Reclaimer]
}

// Reclaimer frees guest memory when a budget of it is spent: given an
// account, it frees some of that account's (evicts one of its idle
// objects); given "", some of any account's. It reports whether it freed
// any. It is called from Take, by code that holds no lock a reclaimer
// takes.
type Reclaimer func(account string) bool

// SetMemoryReclaimer makes f the reclaimer of the guest memory budgets:
// a grow or a new instance that would pass a limit first has f free room.
func (h *Host) SetMemoryReclaimer(f Reclaimer) { h.reclaimer.Store(&f) }

// reclaim has the reclaimer, if one is set, free memory of account.
func (h *Host) reclaim(account string) bool {
	f := h.reclaimer.Load()
	return f != nil && (*f)(account)
}

// Tenant is one account's budgets, each paired with the host's, its disk
// quota and its write rate.
type Tenant struct {
	Account                                 string
	Memory, Writes, Objects, Alarms, Bodies Pair
	Disk                                    *Disk
	WriteRate                               *Rate // nil: none
	CPU                                     CPU
}

// NewHost returns the budgets of a host with limits l.
func NewHost(l Limits) *Host {
	h := &Host{
		limits:   l,
		Memory:   New("the host's guest memory", "bytes", l.Memory),
		Writes:   New("the host's write buffers", "bytes", l.Writes),
		Objects:  New("the host's live objects", "objects", l.Objects),
		Alarms:   New("the host's running alarms", "alarms", l.Alarms),
		Bodies:   New("the host's memory for request and response bodies", "bytes", l.Bodies),
		accounts: map[string]*Tenant{},
	}
	h.Memory.reclaim = func() bool { return h.reclaim("") }
	return h
}

// Tenants returns every account's budgets made so far.
func (h *Host) Tenants() []*Tenant {
	h.mu.Lock()
	defer h.mu.Unlock()
	ts := make([]*Tenant, 0, len(h.accounts))
	for _, t := range h.accounts {
		ts = append(ts, t)
	}
	return ts
}

// Limits returns the limits the host was made with.
func (h *Host) Limits() Limits { return h.limits }

// Tenant returns account's budgets, made on first use.
func (h *Host) Tenant(account string) *Tenant {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.accounts[account]
	if t == nil {
		l := h.limits
		of := " of account " + account
		t = &Tenant{
			Account: account,
			Memory:  Pair{New("guest memory"+of, "bytes", l.AccountMemory), h.Memory},
			Writes:  Pair{New("write buffers"+of, "bytes", l.AccountWrites), h.Writes},
			Objects: Pair{New("live objects"+of, "objects", l.AccountObjects), h.Objects},
			Alarms:  Pair{New("running alarms"+of, "alarms", l.AccountAlarms), h.Alarms},
			Bodies:  Pair{New("memory for request and response bodies"+of, "bytes", l.AccountBodies), h.Bodies},
			Disk:    &Disk{account: account, limit: l.AccountDisk},
		}
		t.Memory.Tenant.reclaim = func() bool { return h.reclaim(account) }
		if l.AccountWriteRate > 0 {
			t.WriteRate = NewRate(l.AccountWriteRate, max(l.AccountWriteBurst, l.AccountWriteRate))
		}
		h.accounts[account] = t
	}
	return t
}
