package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// The stall probe measures the machine, not dohost: a process of its own,
// at the victim's niceness and sharing nothing with dohost, sleeps 1 ms
// over and over and records how late it wakes. When the victim's latency
// rises in a phase and the probe's does too, every process on the machine
// was kept from running, not only dohost's victim, which no scheduling
// inside dohost can undo (on the machine this was written on, a kernel
// daemon scanning the memory of running processes: SOAK.md).

// probeSleep is the sleep the probe times.
const probeSleep = time.Millisecond

// runStallProbe is the probe's process (-stall-probe): it samples until
// its standard input closes, and for each line read prints the p99
// (weighted by time: quantiles) and the maximum lateness, in nanoseconds,
// since the line before.
func runStallProbe() {
	runtime.GOMAXPROCS(1)
	var mu sync.Mutex
	var late []time.Duration
	go func() {
		for {
			t := time.Now()
			time.Sleep(probeSleep)
			d := time.Since(t) - probeSleep
			mu.Lock()
			late = append(late, d)
			mu.Unlock()
		}
	}()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		mu.Lock()
		s := late
		late = make([]time.Duration, 0, cap(s))
		mu.Unlock()
		p99, top := quantiles(s)
		fmt.Printf("%d %d\n", p99, top)
	}
}

// quantiles returns the p99 of s weighted by time, and its maximum
// (sorting s). A sample late by d stands for the probeSleep+d of wall
// time it spans: a stall of 10 ms is one late wakeup of the probe's but
// twenty late requests of a victim sending 2,000 a second, so the p99 is
// the lateness that 99% of the time (not of the wakeups) stayed below,
// the figure comparable with the victim's p99.
func quantiles(s []time.Duration) (p99, top time.Duration) {
	if len(s) == 0 {
		return 0, 0
	}
	slices.Sort(s)
	var total time.Duration
	for _, d := range s {
		total += probeSleep + d
	}
	var below time.Duration
	for _, d := range s {
		below += probeSleep + d
		if below >= total/100*99 {
			return d, s[len(s)-1]
		}
	}
	return s[len(s)-1], s[len(s)-1]
}

// stallProbe is the soak's end of a probe process.
type stallProbe struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startStallProbe starts the probe in a process of its own.
func startStallProbe() (*stallProbe, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-stall-probe")
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the stall probe: %w", err)
	}
	return &stallProbe{cmd: cmd, in: in, out: bufio.NewReader(out)}, nil
}

// take returns the p99 and maximum lateness since the last take.
func (p *stallProbe) take() (p99, top time.Duration, err error) {
	if _, err := io.WriteString(p.in, "\n"); err != nil {
		return 0, 0, fmt.Errorf("asking the stall probe: %w", err)
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		return 0, 0, fmt.Errorf("reading the stall probe: %w", err)
	}
	if _, err := fmt.Sscan(strings.TrimSpace(line), &p99, &top); err != nil {
		return 0, 0, fmt.Errorf("reading the stall probe's %q: %w", line, err)
	}
	return p99, top, nil
}

// stop ends the probe.
func (p *stallProbe) stop() {
	p.in.Close()
	_ = p.cmd.Wait()
}

// damonRunning reports whether a DAMON daemon (kdamond) runs on this
// machine: its scans of a running process's mapped pages stall every
// process once dohost holds much memory (SOAK.md).
func damonRunning() bool {
	states, _ := filepath.Glob("/sys/kernel/mm/damon/admin/kdamonds/*/state")
	for _, f := range states {
		if b, err := os.ReadFile(f); err == nil && strings.TrimSpace(string(b)) == "on" {
			return true
		}
	}
	return false
}
