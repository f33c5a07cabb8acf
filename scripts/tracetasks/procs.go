package main

import (
	"fmt"
	"io"

	"golang.org/x/exp/trace"
)

// While one account's goroutines wait for a P, what do the Ps do? The
// task breakdown says a request was runnable; this says whom it waited
// for. A goroutine counts as the account's once it has run one of the
// account's requests (an HTTP connection's goroutine serves its
// connection's requests). While at least one of them has been runnable
// for longer than a threshold, each P's time is counted by what it is
// doing: running a request of some account, running a goroutine outside
// any request (named by what it last waited on), in a system call, or
// idle.

// procTimes is what procs found.
type procTimes struct {
	waiting trace.Time            // how long one of the account's goroutines had waited over the threshold
	span    trace.Time            // the trace's length
	byWhat  map[string]trace.Time // P-time by what the P did, meanwhile
}

// procState is what procs follows of a goroutine.
type procState struct {
	state   trace.GoState
	since   trace.Time
	why     string // what it last waited on, or its system call
	account string // the account of the request it runs, if any
	mine    bool   // it has run a request of the account
}

// procs reads the trace and returns the Ps' time by what they did while
// a goroutine of account had been runnable for over `over`.
func procs(r io.Reader, account string, over trace.Time) (*procTimes, error) {
	gs := map[trace.GoID]*procState{}
	get := func(id trace.GoID) *procState {
		g := gs[id]
		if g == nil {
			g = &procState{}
			gs[id] = g
		}
		return g
	}
	runnable := map[trace.GoID]*procState{} // the account's goroutines waiting for a P
	onP := map[trace.ProcID]trace.GoID{}    // what each P runs
	inSyscall := map[trace.ProcID]string{}  // a P whose goroutine is in a system call
	ps := map[trace.ProcID]bool{}
	taskG := map[trace.TaskID]trace.GoID{}
	out := &procTimes{byWhat: map[string]trace.Time{}}
	var first, last trace.Time
	what := func(p trace.ProcID) string {
		if s, ok := inSyscall[p]; ok {
			return "in a system call: " + s
		}
		id, ok := onP[p]
		if !ok {
			return "idle"
		}
		g := get(id)
		if g.account != "" {
			return "a request of " + g.account
		}
		return "outside a request, after: " + g.why
	}
	err := eachEvent(r, func(ev *trace.Event) {
		now := ev.Time()
		if first == 0 {
			first = now
		}
		if last != 0 && now > last && len(runnable) > 0 {
			oldest := now // since when the longest waiting has waited
			for _, g := range runnable {
				oldest = min(oldest, g.since)
			}
			if from := max(last, oldest+over); now > from {
				out.waiting += now - from
				for p := range ps {
					out.byWhat[what(p)] += now - from
				}
			}
		}
		last = now
		if p := ev.Proc(); p != trace.NoProc {
			ps[p] = true
		}
		switch ev.Kind() {
		case trace.EventTaskBegin:
			if ev.Task().Type == "request" {
				taskG[ev.Task().ID] = ev.Goroutine()
			}
		case trace.EventLog:
			if id, ok := taskG[ev.Log().Task]; ok && ev.Log().Category == "account" {
				g := get(id)
				g.account = ev.Log().Message
				g.mine = g.mine || g.account == account
			}
		case trace.EventTaskEnd:
			if id, ok := taskG[ev.Task().ID]; ok {
				get(id).account = ""
				delete(taskG, ev.Task().ID)
			}
		case trace.EventStateTransition:
			st := ev.StateTransition()
			switch st.Resource.Kind {
			case trace.ResourceGoroutine:
				id := st.Resource.Goroutine()
				from, to := st.Goroutine()
				g := get(id)
				if g.state != to {
					g.since = now
				}
				g.state = to
				if to == trace.GoRunnable && g.mine {
					runnable[id] = g
				} else {
					delete(runnable, id)
				}
				if to == trace.GoWaiting || to == trace.GoSyscall {
					g.why = blockedOn(st)
				}
				p := ev.Proc()
				if p == trace.NoProc {
					return
				}
				switch {
				case to == trace.GoRunning:
					onP[p] = id
					delete(inSyscall, p)
				case from == trace.GoRunning && onP[p] == id:
					delete(onP, p)
					if to == trace.GoSyscall {
						inSyscall[p] = g.why
					}
				case from == trace.GoSyscall:
					delete(inSyscall, p)
				}
			case trace.ResourceProc:
				if _, to := st.Proc(); to != trace.ProcRunning {
					p := st.Resource.Proc()
					delete(onP, p)
					delete(inSyscall, p)
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	out.span = last - first
	return out, nil
}

// reportProcs prints what procs found, the largest share first.
func reportProcs(w io.Writer, account string, over trace.Time, pt *procTimes, top int) {
	fmt.Fprintf(w, "while a goroutine of %s had waited over %s for a P (%s of the trace's %s), the Ps' time:\n",
		account, ms(over), ms(pt.waiting), ms(pt.span))
	for i, k := range largestFirst(pt.byWhat) {
		if i == top {
			break
		}
		fmt.Fprintf(w, "  %10s  %s\n", ms(pt.byWhat[k]), k)
	}
}
