package guest

import (
	"runtime/metrics"
	"slices"
	"time"

	"github.com/dohost/dohost/host/internal/mono"
	"github.com/dohost/dohost/host/internal/quota"
)

// The cores' share between accounts. A long call is slowed down while
// other accounts wait (clock.tickAhead), but a flood of short calls is
// not: an account whose clients send thousands of small synced writes a
// second never has a call run for long, yet it can keep every core
// busy, and the other accounts' requests then wait in the scheduler's
// queue behind its goroutines (the soak's smallwrites: a victim's p99
// 6-8 times its own, its slow requests waiting 3 ms for a core). The Go
// scheduler has no priorities; what the host can do is to let such an
// account start less work.
//
// So every account's guest calls are counted (quota.CPU.Use) once two or
// more accounts are being served, and a loop (shareLoop) looks, every
// shareTick, at how long the host's goroutines waited for a core
// (runtime/metrics' /sched/latencies). While more than shareSlowFrac of
// them waited over shareLatency, the host is congested, and it lowers a
// cap on the cores an account's calls may use; while not, it raises it
// again, up to all of them, where it is no cap. The cap holds the busiest
// accounts (held: over the last 80 ms or so, the busiest and those near
// it): one over the cap spends its share ahead of time
// (quota.CPU.Spend), and its new work (requests, alarm runs) waits before
// it starts while it is more than shareBurst of its calls' time ahead
// and others are served (AwaitShare): others' requests are in flight, or,
// for an account dominantOver times busier than every other, another
// account's work ended within shareRecent (othersServed). The cap never goes below half
// again the rate of the second-busiest account, nor below minShare: an
// account that uses less than the others never waits for it, and the
// busiest account is held down to no less than the others' rate. (When
// every account spent its share under the cap, a victim of the
// congestion whose calls waited for a core mid-call — their time
// counting as run, up to a millisecond each — went over it: in a
// trace of the smallwrites attack, the victim's requests slower than 3 ms
// had waited 15 ms each, on average, for their own account's share.)
const (
	shareTick     = 10 * time.Millisecond
	shareLatency  = time.Millisecond
	shareSlowFrac = 0.01
	shareBurst    = 10 * time.Millisecond
	// shareMinSamples is how many waits the scheduler must have recorded
	// in a tick for it to tell congestion (it samples one in eight).
	shareMinSamples = 16
)

// minShare is the lowest cap, in cores: a tenth of the machine. An
// account whose calls use less is never held back: the host cannot see
// all it spends on an account (reading requests, writing answers,
// committing), and the account it is congested by may be one whose guest
// calls are cheap and whose clients are many.
var minShare = float64(cores) / 10

// listAccount makes cpu's account known to the share of the cores; the
// loop that keeps it starts when there are two.
func (l *Load) listAccount(cpu *quota.CPU) {
	l.shareMu.Lock()
	defer l.shareMu.Unlock()
	l.accounts = append(l.accounts, cpu)
	if len(l.accounts) == 2 {
		l.shared.Store(true)
		go l.shareLoop()
	}
}

// listed returns the accounts listAccount made known so far.
func (l *Load) listed() []*quota.CPU {
	l.shareMu.Lock()
	defer l.shareMu.Unlock()
	return l.accounts
}

// AwaitShare waits, before new work of the account whose schedule is cpu
// (a request, an alarm run, a socket's events), while the account has
// spent its share of the cores more than shareBurst of its calls' time
// ahead (burst) and other accounts are being served (othersServed), or
// until the host stops. The wait counts as throttled.
func (l *Load) AwaitShare(cpu *quota.CPU) {
	// Held first: the clock is read only for an account the share holds
	// (every request of every account passes here).
	if l == nil || !cpu.Held() || !l.overShare(cpu, mono.Now()) {
		return
	}
	l.awaitTurn(cpu, l.othersServed, func() time.Time {
		if !cpu.Held() { // no longer among the busiest: its work goes on
			return time.Time{}
		}
		return cpu.Spent().Add(-l.burst())
	})
}

// overShare reports whether new work of cpu's account waits at now: the
// account is held, its share is spent more than burst ahead, and other
// accounts are being served (othersServed).
func (l *Load) overShare(cpu *quota.CPU, now time.Time) bool {
	return cpu.Held() && cpu.OverShare(now, l.burst()) && l.othersServed(cpu, now)
}

// othersServed reports whether accounts other than cpu's are being
// served, which a held account spends its share and waits for: their
// requests are in flight and not throttled (othersWaiting), or, for a
// dominant account (quota.CPU.Dominant), one of them ended within
// shareRecent. At first a dominant account too made way only while
// others' requests were in flight: a victim sending 2,000 requests a
// second, each answered in a millisecond, had none in flight at many of
// the moments its attacker looked, and the attacker's requests went on at
// those moments, three of every four that were over its share (the
// soak's smallwrites: 1,500 a second over it, 500 waited, 350 of those
// let go early). Their work was then ahead of the victim's next request.
// Accounts about as busy as each other make way only for requests in
// flight: a victim of the congestion that looks as busy as its attacker
// by their calls' time (whose cost is the host's copying and committing,
// no call's clock sees) would otherwise wait whenever the attacker was
// served, which it always is.
func (l *Load) othersServed(cpu *quota.CPU, now time.Time) bool {
	if l.othersWaiting(cpu) {
		return true
	}
	if !cpu.Dominant() {
		return false
	}
	for _, a := range l.listed() {
		if a != cpu && a.ServedWithin(now, shareRecent) {
			return true
		}
	}
	return false
}

// shareRecent is how recently another account's work must have ended for
// it to count as served (othersServed): a few of a busy tenant's gaps
// between requests, and short enough that a held account whose
// neighbours went quiet runs at full speed again at once.
const shareRecent = 20 * time.Millisecond

// burst is how far ahead an account may spend its share before its new
// work waits: shareBurst of its calls' running time, as the cap spends it.
func (l *Load) burst() time.Duration {
	return shareBurst * time.Duration(max(1000, l.perMille.Load())) / 1000
}

// spend counts a guest call of cpu's account that ran for d, up to now,
// once two or more accounts are served, and spends it from the account's
// share while there is a cap, the account is held and other accounts are
// being served (othersServed).
func (l *Load) spend(cpu *quota.CPU, now time.Time, d time.Duration) {
	if !l.shared.Load() {
		return
	}
	cpu.Use(d)
	if w := l.perMille.Load(); w > 0 && cpu.Held() && l.othersServed(cpu, now) {
		cpu.Spend(now, d, w)
	}
}

// shareLoop keeps the cap on an account's share of the cores, every
// shareTick until the host stops.
func (l *Load) shareLoop() {
	t := time.NewTicker(shareTick)
	defer t.Stop()
	s := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	var (
		prev  []uint64        // the histogram's counts at the last tick
		used  []time.Duration // each account's guest time then
		rates []float64       // each account's recent rate, in cores
		avgs  []float64       // the same over longer (heldSmoothing)
		limit = float64(cores)
	)
	for {
		select {
		case <-l.stopped:
			return
		case <-t.C:
		}
		metrics.Read(s)
		n, slow := waitsSince(s[0].Value.Float64Histogram(), &prev)
		accounts := l.listed()
		for len(used) < len(accounts) {
			used = append(used, accounts[len(used)].Used())
			rates, avgs = append(rates, 0), append(avgs, 0)
		}
		active, busiest, second := 0, 0.0, 0.0
		for i, a := range accounts {
			u := a.Used()
			r := float64(u-used[i]) / float64(shareTick)
			rates[i] = (rates[i] + r) / 2
			avgs[i] += (r - avgs[i]) * heldSmoothing
			used[i] = u
			if a.Inflight.Load() > 0 || rates[i] > minShare/100 {
				active++
			}
			switch r := rates[i]; {
			case r > busiest:
				busiest, second = r, busiest
			case r > second:
				second = r
			}
		}
		limit = nextLimit(limit, active, n, slow, second)
		if limit >= float64(cores) {
			l.perMille.Store(0)
		} else {
			l.perMille.Store(int64(1000 / limit))
		}
		top := slices.Max(avgs)
		for i, a := range accounts {
			h := limit < float64(cores) && held(avgs[i], top)
			a.SetHeld(h)
			a.SetDominant(h && dominant(avgs, i))
		}
	}
}

// heldSmoothing is the weight of a tick's rate in an account's average
// for held: about the last 80 ms count. The tick's own rate is noisy — an
// account's calls that its clients happened to bunch, or that waited for
// a core mid-call (their time counts up to a millisecond of wall clock
// then) — and a victim of the congestion must not be taken for its cause.
const heldSmoothing = 1.0 / 8

// held reports whether an account whose average rate is avg is held
// down under the cap when the busiest account's is top: it is the
// busiest or close to it (within heldNear). An account that uses clearly
// less than the busiest never spends its share, and never waits for it:
// the cap holds the busiest down to half again the second's rate
// (nextLimit), so the second stays under heldNear of it and its work goes
// on at full speed.
func held(avg, top float64) bool { return avg > 0 && avg >= top*heldNear }

// dominant reports whether account i's average rate is at least
// dominantOver times every other account's.
func dominant(avgs []float64, i int) bool {
	for j, a := range avgs {
		if j != i && avgs[i] < a*dominantOver {
			return false
		}
	}
	return avgs[i] > 0
}

// dominantOver is how many times busier than every other account a held
// account must be for it to make way whenever others are served
// (othersServed): the soak's small writes used ten times the victim's
// calls' time; its large writes, whose cost no call's clock sees, about
// as much as the victim's.
const dominantOver = 2

// heldNear is how close to the busiest account's rate an account's must
// be for it to be held down too (several accounts as busy as each other
// are held alike): above the 1/1.5 that the cap leaves the second.
const heldNear = 0.8

// nextLimit is the cap on an account's share of the cores, in cores,
// after limit: all of them while fewer than two accounts are active;
// lowered by 30% (to no less than half again second, the second-busiest
// account's rate, nor minShare) when more than shareSlowFrac of the n
// waits for a core of the last tick took longer than shareLatency (slow);
// raised by 10% when fewer did; kept when the scheduler recorded too few
// waits to tell.
func nextLimit(limit float64, active int, n, slow uint64, second float64) float64 {
	switch {
	case active < 2:
		return float64(cores)
	case n < shareMinSamples:
		return limit
	case float64(slow) > float64(n)*shareSlowFrac:
		return min(max(limit*0.7, second*1.5, minShare), float64(cores))
	default:
		return min(limit*1.1, float64(cores))
	}
}

// waitsSince returns how many waits for a core h counts since *prev (the
// counts at the last reading, which it updates), and how many of them
// were longer than shareLatency.
func waitsSince(h *metrics.Float64Histogram, prev *[]uint64) (n, slow uint64) {
	if len(*prev) != len(h.Counts) {
		*prev = make([]uint64, len(h.Counts))
		copy(*prev, h.Counts)
		return 0, 0
	}
	for i, c := range h.Counts {
		d := c - (*prev)[i]
		n += d
		// Bucket i holds the waits from Buckets[i] to Buckets[i+1].
		if h.Buckets[i] >= shareLatency.Seconds() {
			slow += d
		}
	}
	copy(*prev, h.Counts)
	return n, slow
}
