// Command tracetasks reads a Go execution trace of dohost (its
// --debug-addr's /debug/pprof/trace) and says where one account's requests
// spent their time: each request is a trace task ("request", with the
// account logged), and its time between the task's begin and end is split
// by the state of the goroutine that began it — running, runnable (waiting
// for a P), or waiting, by what it waited on (the first frames outside the
// runtime). It also reports how long each request's goroutine took from
// its last wake-up out of a network wait outside a task (the request
// readable) to the task's begin — the wait before the host reads a
// request, which the access log does not see — and, for the slowest 2% of
// those waits, their time by state. Last, it says what the Ps did while
// one of the account's goroutines had waited for one over -over: whose
// requests they ran, or whether they were idle or in system calls.
//
//	curl -o soak.trace 'http://127.0.0.1:6061/debug/pprof/trace?seconds=3'
//	go run ./scripts/tracetasks -account victim soak.trace
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/exp/trace"
)

func main() {
	account := flag.String("account", "", "the account whose requests to report (required)")
	top := flag.Int("top", 12, "how many states to list")
	over := flag.Duration("over", 500*time.Microsecond, "the wait for a P past which the Ps' time is split by what they did")
	flag.Parse()
	if *account == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: tracetasks -account ACCOUNT TRACE")
		os.Exit(2)
	}
	b, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tasks, err := read(bytes.NewReader(b))
	if err != nil {
		fmt.Fprintf(os.Stderr, "tracetasks: %s: %v\n", flag.Arg(0), err)
		os.Exit(1)
	}
	var mine []*task
	for _, t := range tasks {
		if t.account == *account {
			mine = append(mine, t)
		}
	}
	if len(mine) == 0 {
		fmt.Fprintf(os.Stderr, "tracetasks: no request of account %q in the trace\n", *account)
		os.Exit(1)
	}
	report(os.Stdout, mine, *top)
	pt, err := procs(bytes.NewReader(b), *account, trace.Time(*over))
	if err != nil {
		fmt.Fprintf(os.Stderr, "tracetasks: %s: %v\n", flag.Arg(0), err)
		os.Exit(1)
	}
	reportProcs(os.Stdout, *account, trace.Time(*over), pt, *top)
}

// A task is one request: when it began and ended, on which goroutine, and
// its time by the goroutine's state.
type task struct {
	account    string
	g          trace.GoID
	begin, end trace.Time
	// readable is how long before begin the goroutine woke from a network
	// wait (0: it did not wait on the network first).
	readable trace.Time
	states   map[string]trace.Time
	// before is the readable wait by the goroutine's state, as states.
	before map[string]trace.Time
}

func (t *task) dur() trace.Time { return t.end - t.begin }

// goroutine is what read follows of a goroutine: its state since when,
// what it waits on, when it last woke from a network wait, and the task
// under way on it.
type goroutine struct {
	state    trace.GoState
	since    trace.Time
	why      string
	netWoke  trace.Time
	before   map[string]trace.Time // since netWoke, by state, until a task begins
	lastWait string
	task     *task
}

// read returns the ended request tasks of the trace, their accounts and
// their time by state.
func read(r io.Reader) ([]*task, error) {
	byID := map[trace.TaskID]*task{}
	gs := map[trace.GoID]*goroutine{}
	var ended []*task
	settle := func(g *goroutine, now trace.Time) {
		switch {
		case g.task != nil && g.since != 0:
			g.task.states[g.label()] += now - g.since
		case g.before != nil && g.since != 0:
			g.before[g.label()] += now - g.since
		}
		g.since = now
	}
	err := eachEvent(r, func(ev *trace.Event) {
		switch ev.Kind() {
		case trace.EventTaskBegin:
			if ev.Task().Type != "request" {
				return
			}
			id := ev.Goroutine()
			g := gs[id]
			if g == nil {
				g = &goroutine{state: trace.GoRunning}
				gs[id] = g
			}
			t := &task{g: id, begin: ev.Time(), states: map[string]trace.Time{}}
			settle(g, ev.Time())
			if g.netWoke != 0 {
				t.readable, t.before = ev.Time()-g.netWoke, g.before
			}
			g.netWoke, g.before = 0, nil
			g.task = t
			byID[ev.Task().ID] = t
		case trace.EventLog:
			if t := byID[ev.Log().Task]; t != nil && ev.Log().Category == "account" {
				t.account = ev.Log().Message
			}
		case trace.EventTaskEnd:
			t := byID[ev.Task().ID]
			if t == nil {
				return
			}
			delete(byID, ev.Task().ID)
			if g := gs[t.g]; g != nil && g.task == t {
				settle(g, ev.Time())
				g.task = nil
			}
			t.end = ev.Time()
			ended = append(ended, t)
		case trace.EventStateTransition:
			st := ev.StateTransition()
			if st.Resource.Kind != trace.ResourceGoroutine {
				return
			}
			id := st.Resource.Goroutine()
			from, to := st.Goroutine()
			g := gs[id]
			if g == nil {
				g = &goroutine{}
				gs[id] = g
			}
			settle(g, ev.Time())
			if from == trace.GoWaiting && to == trace.GoRunnable && g.lastWait == "network" && g.task == nil {
				g.netWoke, g.before = ev.Time(), map[string]trace.Time{}
			}
			g.state = to
			if to == trace.GoWaiting || to == trace.GoSyscall {
				g.why = blockedOn(st)
			}
			if to == trace.GoWaiting {
				g.lastWait = st.Reason
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return ended, nil
}

// largestFirst returns m's keys, the largest value first.
func largestFirst(m map[string]trace.Time) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	return keys
}

// eachEvent calls fn with each event of the trace r, in order.
func eachEvent(r io.Reader, fn func(*trace.Event)) error {
	tr, err := trace.NewReader(r)
	if err != nil {
		return err
	}
	for {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		fn(&ev)
	}
}

// label names the goroutine's state, and for a wait or a system call
// what it is in.
func (g *goroutine) label() string {
	s := g.state.String()
	if g.state == trace.GoWaiting || g.state == trace.GoSyscall {
		s += " " + g.why
	}
	return s
}

// blockedOn is the reason of a transition to a wait and the first two
// frames of its stack outside the runtime.
func blockedOn(st trace.StateTransition) string {
	var frames []string
	for f := range st.Stack.Frames() {
		fn := f.Func
		if strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/") || strings.HasPrefix(fn, "sync.") {
			continue
		}
		frames = append(frames, strings.TrimPrefix(fn, "github.com/dohost/dohost/host/"))
		if len(frames) == 2 {
			break
		}
	}
	return strings.TrimSpace(st.Reason + " " + strings.Join(frames, " < "))
}

// report prints the tasks' durations and their time by state, for all of
// them and for the slowest 2%, and the wait from readable to begin.
func report(w io.Writer, ts []*task, top int) {
	sort.Slice(ts, func(i, j int) bool { return ts[i].dur() < ts[j].dur() })
	n := len(ts)
	fmt.Fprintf(w, "%d requests of %s: p50 %s, p99 %s, max %s\n", n, ts[0].account, ms(ts[n/2].dur()), ms(ts[n*99/100].dur()), ms(ts[n-1].dur()))
	var ready []*task
	for _, t := range ts {
		if t.readable > 0 {
			ready = append(ready, t)
		}
	}
	if len(ready) > 0 {
		sort.Slice(ready, func(i, j int) bool { return ready[i].readable < ready[j].readable })
		m := len(ready)
		fmt.Fprintf(w, "from readable to the request's begin (%d after a network wait): p50 %s, p90 %s, p99 %s\n", m, ms(ready[m/2].readable), ms(ready[m*9/10].readable), ms(ready[m*99/100].readable))
	}
	inTask := func(t *task) (map[string]trace.Time, trace.Time) { return t.states, t.dur() }
	breakdown(w, "all", ts, top, inTask)
	breakdown(w, "the slowest 2%", ts[n*98/100:], top, inTask)
	if len(ready) > 0 {
		breakdown(w, "before the begin, the slowest 2% from readable", ready[len(ready)*98/100:], top,
			func(t *task) (map[string]trace.Time, trace.Time) { return t.before, t.readable })
	}
}

// breakdown prints the tasks' mean time in each state, largest first:
// of their time in the task, or (times) of another span of theirs.
func breakdown(w io.Writer, name string, ts []*task, top int, times func(*task) (map[string]trace.Time, trace.Time)) {
	sum := map[string]trace.Time{}
	var all trace.Time
	for _, t := range ts {
		states, d := times(t)
		for k, v := range states {
			sum[k] += v
		}
		all += d
	}
	keys := largestFirst(sum)
	n := trace.Time(len(ts))
	fmt.Fprintf(w, "%s (%d), mean %s:\n", name, len(ts), ms(all/n))
	for i, k := range keys {
		if i == top {
			break
		}
		fmt.Fprintf(w, "  %10s  %s\n", ms(sum[k]/n), k)
	}
}

func ms(t trace.Time) string { return fmt.Sprintf("%.3f ms", float64(t)/1e6) }
