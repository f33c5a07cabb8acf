// Command soak runs dohost with two tenants, a victim and an attacker, and
// measures what each attack of the attacker costs the victim: the victim
// (the seed app in WebAssembly text) is under steady load from start to
// end, while the attacker's hostile guests (testdata/hostile) and hostile
// clients take their turns, one after another. For every phase it prints
// the victim's requests, errors, p50 and p99 (and the p99's ratio to the
// baseline), the machine's own stalls in the phase (stall p99: how late a
// process of its own woke from 1 ms sleeps, stalls.go), the host's
// peak resident memory, the cores it used, and how many of the
// attacker's requests it answered 200 (a phase that stops attacking
// shows); at the end, whether the host ran throughout, in
// one process, and stopped cleanly on SIGTERM.
//
//	make soak                          # builds bin/dohost, ~7 minutes
//	go run ./scripts/soak -phase 8s -only kvflood,loop
//
// Everything talks to 127.0.0.1; every phase is bounded in time and in
// connections.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	binary   = flag.String("bin", "bin/dohost", "the dohost binary")
	phaseDur = flag.Duration("phase", 10*time.Second, "how long each phase lasts")
	rate     = flag.Int("rate", 2000, "the victim's requests a second, sent on schedule whatever the answers take (0: -clients clients, each a request after the other)")
	clients  = flag.Int("clients", 8, "with -rate 0, the victim's concurrent clients")
	only     = flag.String("only", "", "run only these attacks (comma-separated)")
	addr     = flag.String("listen", "127.0.0.1:8790", "where dohost serves")
	keep     = flag.Bool("keep", false, "keep the data directory and dohost's log, and say where")
	debug    = flag.String("debug-addr", "", "pass --debug-addr to dohost (pprof), and take a goroutine dump halfway through each attack into the data directory")
	niceness = flag.Int("nice", 10, "run dohost at this niceness: the load generator shares the cores, and its own wait for one would count as the victim's latency")
	attacker = flag.String("attacker", "", "(internal) be the attacker's clients of this attack for one phase, against -listen: the soak runs them so, in a process of their own")
	probe    = flag.Bool("stall-probe", false, "(internal) be the stall probe (stalls.go): the soak runs it so, in a process of its own")
	slice    = flag.String("sched-slice", "", "pass --sched-slice to dohost (0: the kernel's slice; empty: dohost's default)")
	rounds   = flag.Int("rounds", 1, "run the baseline and the attacks this many times over, in the same host, and end with each phase's median p99 ratio and its range: one run's ratio moves with the machine")
	burnAt   = flag.Float64("burn-cores", 0, "the burn control's share of the cores: a process outside dohost spinning that much (burn.go; 0: a tenth of the machine's, the least the host holds a busy account to)")
	hostLat  = flag.Bool("host-latency", false, "pass --access-log to dohost and also report the victim's p99 as the host measured it (from reading the request to the end of the answer): what the rest is, the client waited for a core")
)

// warmup is how long the victim runs before its baseline is measured.
const warmup = 3 * time.Second

// An attack is a function that misbehaves against base until ctx ends.
type attack struct {
	name, what string
	kind       string // "cpu", "disk", "memory", "conns", "control": what the 1.5x goal applies to (cpu, disk)
	run        func(ctx context.Context, base string)
}

// lasting are the attacks that leave objects whose alarms run on after
// their phase (re-armed, or retried after their handler's time ran out),
// and how many: they are deleted through the admin API when the phase
// ends (deleteObjects), so that the next phases measure their own
// attacks, not this one's remains.
var lasting = map[string]int{"alarmspin": 64, "alarmrearm": 64}

func main() {
	flag.Parse()
	if *attacker != "" {
		runAttacker(*attacker)
		return
	}
	if *probe {
		runStallProbe()
		return
	}
	root, err := os.Getwd()
	check(err)
	dir, err := os.MkdirTemp("", "dohost-soak-")
	check(err)
	if *keep {
		fmt.Printf("# data and log in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	configs := []string{victimConfig(root, dir)}
	for _, a := range attacks {
		configs = append(configs, hostileConfig(root, dir, a.name))
	}
	args := []string{"serve", "--listen", *addr, "--data", filepath.Join(dir, "data"), "--drain", "5s", "--admin-addr", adminAddr()}
	if *debug != "" {
		args = append(args, "--debug-addr", *debug)
	}
	if *hostLat {
		args = append(args, "--access-log")
	}
	if *slice != "" {
		args = append(args, "--sched-slice", *slice)
	}
	for _, c := range uniq(configs) {
		args = append(args, "--config", c)
	}
	cmd := exec.Command(*binary, args...)
	if *niceness != 0 {
		cmd = exec.Command("nice", append([]string{"-n", strconv.Itoa(*niceness), *binary}, args...)...)
	}
	// dohost's log goes through a pipe, as to a log collector: a write to
	// a file on the data's disk can wait for the journal behind a sync.
	logf := newLogFile(filepath.Join(dir, "dohost.log"))
	cmd.Stdout, cmd.Stderr = logf.w, logf.w
	cmd.Env = append(os.Environ(), "DOHOST_ADMIN_TOKEN="+adminToken)
	check(cmd.Start())
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.w.Close() }()
	base := "http://" + *addr
	waitUp(base, exited)

	load := fmt.Sprintf("%d requests a second, latency from when each was due", *rate)
	if *rate == 0 {
		load = fmt.Sprintf("%d clients, each a request after the other", *clients)
	}
	fmt.Printf("# dohost soak: victim = room-wat (account victim, %s), attacker = testdata/hostile (account evil); %s a phase; %d cores\n",
		load, *phaseDur, runtimeCPUs())
	if damonRunning() {
		fmt.Println("# this machine runs DAMON (kdamond): once dohost holds much memory its scans stall every process; stall p99 shows it (SOAK.md)")
	}
	hostCol := ""
	if *hostLat {
		hostCol = fmt.Sprintf(" %8s", "host p99")
	}
	fmt.Printf("%-14s %-7s %8s %7s %8s %8s %7s%s %9s %9s %5s %8s  %s\n", "phase", "kind", "victim", "errors", "p50 ms", "p99 ms", "p99 x", hostCol, "stall p99", "peak MiB", "cores", "attacks", "what")
	stalls, err := startStallProbe()
	check(err)
	defer stalls.stop()

	v := newVictim(base, *rate, *clients)
	defer v.stop()
	// The victim's first seconds (its connections opened, its 100 rooms'
	// objects made, the host's heap grown to its load) are not its steady
	// state: they would raise the baseline and flatter every ratio.
	time.Sleep(warmup)
	var baseline time.Duration
	ratios := map[string][]float64{} // each phase's p99 ratio, a round each
	run := func(name, kind, what string, a func(ctx context.Context) int64) {
		resetPeak(pid)
		cpuAt := cpuTime(pid)
		var attacks atomic.Int64
		v.reset()
		_, _, err := stalls.take()
		check(err)
		logAt := logf.size()
		ctx, cancel := context.WithTimeout(context.Background(), *phaseDur)
		done := make(chan struct{})
		if a != nil {
			go func() { defer close(done); attacks.Store(a(ctx)) }()
		} else {
			close(done)
		}
		if *debug != "" {
			go func() {
				time.Sleep(*phaseDur / 2)
				if resp, err := http.Get("http://" + *debug + "/debug/pprof/goroutine?debug=2"); err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					_ = os.WriteFile(filepath.Join(dir, name+".goroutines"), b, 0o644)
				}
			}()
		}
		<-ctx.Done()
		cancel()
		// Attacks end with their phase; their last requests may take a
		// moment to come back (bounded by the attacker's cpu_ms).
		select {
		case <-done:
		case <-time.After(30 * time.Second):
		}
		n, errs, p50, p99 := v.snapshot()
		if v.firstErr != "" {
			what += " (victim's first error: " + v.firstErr + ")"
		}
		if name == "baseline" {
			baseline = p99
		}
		ratio := float64(p99) / float64(max(baseline, time.Microsecond))
		if name != "baseline" {
			ratios[name] = append(ratios[name], ratio)
		}
		if *hostLat {
			hostCol = fmt.Sprintf(" %8.2f", ms(hostP99(logf, logAt)))
		}
		stall, _, err := stalls.take()
		check(err)
		cores := (cpuTime(pid) - cpuAt).Seconds() / phaseDur.Seconds()
		fmt.Printf("%-14s %-7s %8d %7d %8.2f %8.2f %7.2f%s %9.2f %9d %5.2f %8d  %s\n", name, kind, n, errs,
			ms(p50), ms(p99), ratio, hostCol, ms(stall), peakRSS(pid)>>20, cores, attacks.Load(), what)
		select {
		case err := <-exited:
			fmt.Printf("FAIL: dohost exited during %s: %v (log: %s)\n", name, err, logf.name)
			os.Exit(1)
		default:
		}
	}
	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n != "" {
			want[n] = true
		}
	}
	for round := 1; round <= *rounds; round++ {
		if *rounds > 1 {
			fmt.Printf("# round %d of %d\n", round, *rounds)
		}
		run("baseline", "-", "no attack", nil)
		for _, a := range attacks {
			if len(want) > 0 && !want[a.name] {
				continue
			}
			a := a
			run(a.name, a.kind, a.what, func(ctx context.Context) int64 { return attackFrom(ctx, a.name) })
			if n := lasting[a.name]; n > 0 {
				deleteObjects(a.name, n)
			}
			// Let the host settle (evictions, trims, alarms) between attacks.
			time.Sleep(2 * time.Second)
		}
	}
	v.stop()
	if *rounds > 1 {
		printRounds(ratios)
	}

	// The end: SIGTERM with guest calls still running (a loop each).
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	go hammer(ctx, base+"/evil/loop/", "POST", 4, nil)
	time.Sleep(time.Second)
	start := time.Now()
	check(cmd.Process.Signal(syscall.SIGTERM))
	err = <-exited
	cancel()
	fmt.Printf("\nSIGTERM with looping guests: dohost pid %d exited after %v: %v\n", pid, time.Since(start).Round(time.Millisecond), exitStatus(err))
	fmt.Printf("the host ran every phase in one process (pid %d); its peak RSS over the run: see the phases above\n", pid)
}

// attackFrom runs the attackers' clients of the attack name until ctx
// ends, in a process of their own at dohost's niceness: they share the
// cores with the host and the victim's clients, where a real attacker's
// would be elsewhere, and in the victim's process their goroutines
// would delay its requests (the clients of one attack send thousands of
// requests a second).
func attackFrom(ctx context.Context, name string) (answered int64) {
	self, err := os.Executable()
	check(err)
	args := []string{self, "-attacker", name, "-listen", *addr, "-phase", phaseDur.String(), "-rate", strconv.Itoa(*rate), "-clients", strconv.Itoa(*clients), "-burn-cores", strconv.FormatFloat(*burnAt, 'g', -1, 64)}
	if *niceness != 0 {
		args = append([]string{"nice", "-n", strconv.Itoa(*niceness)}, args...)
	}
	// It ends with its phase, as ctx does, and then says how many of its
	// requests were answered; it is killed if it has not ended 30 s later.
	cmd := exec.Command(args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Start(); err != nil {
		check(err)
	}
	ended := make(chan struct{})
	go func() {
		select {
		case <-ended:
		case <-time.After(time.Until(deadline(ctx)) + 30*time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	_ = cmd.Wait()
	close(ended)
	fmt.Sscanf(out.String(), "answered %d", &answered)
	return answered
}

// deadline is ctx's deadline, or now if it has none.
func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now()
}

// runAttacker is the attackers' process of attackFrom: the attack's
// clients for one phase.
func runAttacker(name string) {
	for _, a := range attacks {
		if a.name == name {
			ctx, cancel := context.WithTimeout(context.Background(), *phaseDur)
			defer cancel()
			a.run(ctx, "http://"+*addr)
			fmt.Printf("answered %d\n", answered.Load())
			return
		}
	}
	check(fmt.Errorf("no attack %q", name))
}

// posts is the attack of n clients POSTing to the hostile guest name,
// each a request after the other.
func posts(name string, n int) func(ctx context.Context, base string) {
	return func(ctx context.Context, base string) {
		hammer(ctx, base+"/evil/"+name+"/", "POST", n, nil)
	}
}

var attacks = []attack{
	{"kvflood", "KV puts of 25 MiB in a loop (4 at once)", "memory", posts("kvflood", 4)},
	{"storageflood", "storage puts of 128 KiB in a loop (4 at once)", "memory", posts("storageflood", 4)},
	{"logflood", "64 MiB to stdout without a newline, x8 (4 at once)", "memory", posts("logflood", 4)},
	{"chain", "stub calls to new objects without end (4 at once)", "memory", posts("chain", 4)},
	{"bodies", "200 clients POSTing 32 MiB bodies, each once a second", "memory", func(ctx context.Context, base string) {
		body := bytes.Repeat([]byte("x"), 32<<20)
		hammerPaced(ctx, base+"/evil/loop/", 200, body, time.Second)
	}},
	{"loop", "endless loops in 16 objects (cpu_ms 200)", "cpu", posts("loop", 16)},
	{"kvgetloop", "reading a 25 MiB value in a loop (16 at once)", "cpu", posts("kvgetloop", 16)},
	{"bigfill", "fills and copies of 255 MiB, one instruction each (16 at once)", "cpu", posts("bigfill", 16)},
	{"workerloop", "every Worker instance in a loop", "cpu", posts("workerloop", 8)},
	{"memhog", "100 objects growing to 64 MiB each and keeping it", "memory", func(ctx context.Context, base string) {
		objects(ctx, base+"/evil/memhog/", 100)
	}},
	{"tablebomb", "objects growing tables by 10M elements", "memory", func(ctx context.Context, base string) {
		objects(ctx, base+"/evil/tablebomb/", 60)
	}},
	{"alarmspin", "64 objects whose alarm handlers loop", "cpu", func(ctx context.Context, base string) {
		objects(ctx, base+"/evil/alarmspin/", 64)
		<-ctx.Done()
	}},
	{"alarmrearm", "64 objects re-arming their alarm every run", "disk", func(ctx context.Context, base string) {
		objects(ctx, base+"/evil/alarmrearm/", 64)
		<-ctx.Done()
	}},
	{"diskwrite", "synced storage puts of 128 KiB as fast as they go (16 at once)", "disk", func(ctx context.Context, base string) {
		hammerURL(ctx, func(k int64) string {
			return fmt.Sprintf("%s/p/obj/st/put?name=w%d&key=k%d&size=131072", base, k%16, k)
		}, "GET", 16, nil)
	}},
	{"smallwrites", "synced storage puts of 1 KiB as fast as they go (16 at once)", "disk", func(ctx context.Context, base string) {
		hammerURL(ctx, func(k int64) string {
			return fmt.Sprintf("%s/p/obj/st/put?name=w%d&key=k%d&size=1024", base, k%16, k)
		}, "GET", 16, nil)
	}},
	{"neighbour", "not an attack: the victim's own app and load, from the other account (what an equal neighbour costs)", "control", func(ctx context.Context, base string) {
		n := newVictim(base+"/n", *rate, *clients)
		<-ctx.Done()
		n.stop()
		n.mu.Lock()
		answered.Add(int64(len(n.lat)))
		n.mu.Unlock()
	}},
	{"burn", "not an attack: a process outside dohost spinning for -burn-cores of the cores in 1 ms bursts (what that much CPU costs a server here)", "control", func(ctx context.Context, base string) {
		cores := *burnAt
		if cores == 0 {
			cores = float64(runtimeCPUs()) / 10
		}
		answered.Add(burn(ctx, cores))
	}},
	{"bigresponses", "16 MiB responses from 32 objects, 32 clients without pause", "memory", func(ctx context.Context, base string) {
		hammerURL(ctx, func(k int64) string {
			return fmt.Sprintf("%s/p/obj/big?name=r%d&n=%d", base, k%32, 16<<20)
		}, "GET", 32, nil)
	}},
	{"idleconns", "5,000 idle kept-alive connections", "conns", func(ctx context.Context, base string) {
		idle(ctx, base, 5000)
	}},
	{"trickle", "100 connections trickling a body, a byte a second", "conns", func(ctx context.Context, base string) {
		trickle(ctx, base, 100)
	}},
}

// victimConfig serves the seed app in WAT as the account victim, on every
// path no other route takes.
func victimConfig(root, dir string) string {
	return seedConfig(root, dir, "victim", "")
}

// seedConfig serves the seed app in WAT as account, under routes (TOML;
// "": every path no other route takes), its config named after account.
func seedConfig(root, dir, account, routes string) string {
	b, err := os.ReadFile(filepath.Join(root, "guests/examples/room-wat/wrangler.toml"))
	check(err)
	extra := fmt.Sprintf("account_id = %q", account)
	if routes != "" {
		extra += "\nroutes = " + routes
	}
	s := strings.Replace(string(b), `main = "room-wat.wasm"`, fmt.Sprintf("main = %q\n%s", filepath.Join(root, "guests/examples/room-wat/room-wat.wasm"), extra), 1)
	return write(filepath.Join(dir, account+".toml"), s)
}

// hostileConfig serves testdata/hostile/<name> as the account evil under
// /evil/<name>/; diskwrite, smallwrites and bigresponses are the probe guest (storage
// writes; large responses) under /p/; neighbour is the victim's own app
// under /n/.
func hostileConfig(root, dir, name string) string {
	if name == "bodies" || name == "idleconns" || name == "trickle" || name == "burn" {
		name = "loop" // client attacks: any worker of the account (burn needs none)
	}
	if name == "diskwrite" || name == "smallwrites" || name == "bigresponses" {
		return diskWriterConfig(root, dir)
	}
	if name == "neighbour" {
		return seedConfig(root, dir, "evil", `["*/n/*"]`)
	}
	b, err := os.ReadFile(filepath.Join(root, "testdata/hostile", name, "wrangler.toml"))
	check(err)
	s := strings.Replace(string(b), `main = "guest.wasm"`, fmt.Sprintf("main = %q\naccount_id = \"evil\"\nroutes = [\"*/evil/%s/*\"]",
		filepath.Join(root, "testdata/hostile", name, "guest.wasm"), name), 1)
	return write(filepath.Join(dir, "evil-"+name+".toml"), s)
}

// diskWriterConfig serves the probe test guest (built here) as the account
// evil under /p/: /p/obj/st/put?…&size=N is one synced storage write of N
// bytes.
func diskWriterConfig(root, dir string) string {
	wasm := filepath.Join(dir, "probe.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", wasm, "./testdata/guests/probe")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		check(fmt.Errorf("build the probe guest: %v\n%s", err, out))
	}
	return write(filepath.Join(dir, "evil-diskwrite.toml"), fmt.Sprintf(`name = "diskwrite"
main = %q
account_id = "evil"
routes = ["*/p/*"]
kv_namespaces = [{ binding = "KV", id = "evil-kv" }]
[durable_objects]
bindings = [{ name = "PROBE", class_name = "Probe" }, { name = "OTHER", class_name = "Other" }]
`, wasm))
}

func write(path, s string) string {
	check(os.WriteFile(path, []byte(s), 0o644))
	return path
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// hammer sends method requests to prefix+NN (two characters: one of 100
// objects) from n goroutines until ctx ends.
func hammer(ctx context.Context, prefix, method string, n int, body []byte) {
	hammerURL(ctx, func(k int64) string { return fmt.Sprintf("%s%02d", prefix, k%100) }, method, n, body)
}

// hammerURL sends method requests to url(k), k = 1, 2, …, from n
// goroutines until ctx ends.
func hammerURL(ctx context.Context, url func(int64) string, method string, n int, body []byte) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}}
	var seq atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				var r io.Reader
				if body != nil {
					r = bytes.NewReader(body)
				}
				req, _ := http.NewRequestWithContext(ctx, method, url(seq.Add(1)), r)
				resp, err := client.Do(req)
				if err != nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					answered.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	client.CloseIdleConnections()
}

// answered counts the attacker's requests answered 200 (hammerURL).
var answered atomic.Int64

// hammerPaced has n clients POST body to prefix+NN, each once every
// period.
func hammerPaced(ctx context.Context, prefix string, n int, body []byte, period time.Duration) {
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: n}}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			t := time.NewTicker(period)
			defer t.Stop()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "POST", fmt.Sprintf("%s%02d", prefix, i%100), bytes.NewReader(body))
				if resp, err := client.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				select {
				case <-ctx.Done():
				case <-t.C:
				}
			}
		}(i)
	}
	wg.Wait()
}

// adminToken is the operator's token the soak starts dohost with, for
// deleteObjects: 32 hex digits, as dohost asks.
var adminToken = func() string {
	b := make([]byte, 16)
	_, err := rand.Read(b)
	check(err)
	return hex.EncodeToString(b)
}()

// adminAddr is where dohost serves its admin API: the port after -listen's.
func adminAddr() string {
	host, port, err := net.SplitHostPort(*addr)
	check(err)
	p, err := strconv.Atoi(port)
	check(err)
	return net.JoinHostPort(host, strconv.Itoa(p+1))
}

// lastingWait bounds deleteObjects: a delete waits for its object's turn,
// and a looping alarm handler holds that until its time runs out, within
// twice its cpu_ms (alarmspin's: 60 s) of wall time from its start.
const lastingWait = 150 * time.Second

// deleteObjects deletes the n objects the attack name made (objects(): named
// 00, 01, …), their storage and alarms with them, through the admin API,
// as an operator would a tenant's misbehaving objects; for at most
// lastingWait, after which the deletes still waiting are given up.
func deleteObjects(name string, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), lastingWait)
	defer cancel()
	start := time.Now()
	admin := adminAddr()
	var wg sync.WaitGroup
	var deleted, failed atomic.Int64
	var firstErr atomic.Value
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			u := fmt.Sprintf("http://%s/v1/objects/evil/hostile-%s/Hostile/%02d", admin, name, i)
			var err error
			for busy := true; busy && ctx.Err() == nil; { // 409: a call still holds its turn
				req, _ := http.NewRequestWithContext(ctx, "DELETE", u, nil)
				req.Header.Set("Authorization", "Bearer "+adminToken)
				var resp *http.Response
				if resp, err = http.DefaultClient.Do(req); err != nil {
					break
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				busy = resp.StatusCode == http.StatusConflict
				if resp.StatusCode != 200 {
					err = fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
				}
			}
			if ctx.Err() != nil {
				return // still waiting: counted as left
			}
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			deleted.Add(1)
		}(i)
	}
	wg.Wait() // each delete ends by lastingWait: its request carries ctx
	msg := fmt.Sprintf("# after %s: its %d objects deleted (admin API), their alarms with them, in %v", name, deleted.Load(), time.Since(start).Round(100*time.Millisecond))
	if left := int64(n) - deleted.Load() - failed.Load(); left > 0 {
		msg += fmt.Sprintf("; %d given up, still waiting for their object's turn after %v", left, lastingWait)
	}
	if f := failed.Load(); f > 0 {
		msg += fmt.Sprintf("; %d failed: %v", f, firstErr.Load())
	}
	fmt.Println(msg)
}

// objects POSTs once to n objects, prefix+00 …, four at a time.
func objects(ctx context.Context, prefix string, n int) {
	client := &http.Client{}
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := 0; i < n && ctx.Err() == nil; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			req, _ := http.NewRequestWithContext(ctx, "POST", fmt.Sprintf("%s%02d", prefix, i), nil)
			if resp, err := client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}(i)
	}
	wg.Wait()
}

// idle opens n connections, a request on each, and leaves them idle until
// ctx ends.
func idle(ctx context.Context, base string, n int) {
	host := strings.TrimPrefix(base, "http://")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err != nil {
			continue
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "GET /evil/loop/x HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	<-ctx.Done()
}

// trickle opens n connections that send a body a byte a second.
func trickle(ctx context.Context, base string, n int) {
	host := strings.TrimPrefix(base, "http://")
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", host, time.Second)
			if err != nil {
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "POST /evil/loop/t HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if _, err := c.Write([]byte("x")); err != nil {
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// victim is the steady load on 100 rooms: rate requests a second, each
// sent when it is due (its latency counts from then, so that a slow answer
// does not hide the requests it delays), or, with rate 0, n clients each
// sending a request after the other.
type victim struct {
	base   string
	client *http.Client
	stopc  chan struct{}
	wg     sync.WaitGroup

	mu       sync.Mutex
	lat      []time.Duration
	errs     int
	firstErr string
}

// maxOutstanding bounds the victim's requests in flight at a fixed rate:
// one due past it counts as an error ("client backlog").
const maxOutstanding = 512

func newVictim(base string, rate, n int) *victim {
	v := &victim{base: base, stopc: make(chan struct{})}
	v.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: max(n, 64)}, Timeout: 60 * time.Second}
	if rate > 0 {
		v.wg.Add(1)
		go v.paced(rate)
		return v
	}
	for i := 0; i < n; i++ {
		v.wg.Add(1)
		go func(i int) {
			defer v.wg.Done()
			for k := 0; ; k++ {
				select {
				case <-v.stopc:
					return
				default:
				}
				v.one(time.Now(), (i*131+k)%100)
			}
		}(i)
	}
	return v
}

// paced sends rate requests a second, each at its due time.
func (v *victim) paced(rate int) {
	defer v.wg.Done()
	every := time.Second / time.Duration(rate)
	slots := make(chan struct{}, maxOutstanding)
	start := time.Now()
	for k := 0; ; k++ {
		due := start.Add(time.Duration(k) * every)
		if d := time.Until(due); d > 0 {
			select {
			case <-v.stopc:
				return
			case <-time.After(d):
			}
		} else {
			select {
			case <-v.stopc:
				return
			default:
			}
		}
		select {
		case slots <- struct{}{}:
		default:
			v.fail("client backlog: too many requests in flight")
			continue
		}
		v.wg.Add(1)
		go func(k int) {
			defer v.wg.Done()
			defer func() { <-slots }()
			v.one(due, k%100)
		}(k)
	}
}

// one sends a request to room and records its latency from due.
func (v *victim) one(due time.Time, room int) {
	resp, err := v.client.Get(fmt.Sprintf("%s/?roomId=room-%d", v.base, room))
	if err != nil {
		v.fail(err.Error())
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		v.fail(resp.Status + ": " + strings.TrimSpace(string(body)))
		return
	}
	d := time.Since(due)
	v.mu.Lock()
	v.lat = append(v.lat, d)
	v.mu.Unlock()
}

func (v *victim) fail(msg string) {
	v.mu.Lock()
	v.errs++
	if v.firstErr == "" {
		v.firstErr = msg
	}
	v.mu.Unlock()
}

func (v *victim) reset() {
	v.mu.Lock()
	v.lat, v.errs, v.firstErr = v.lat[:0], 0, ""
	v.mu.Unlock()
}

func (v *victim) snapshot() (n, errs int, p50, p99 time.Duration) {
	v.mu.Lock()
	lat := append([]time.Duration(nil), v.lat...)
	errs = v.errs
	v.mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) == 0 {
		return 0, errs, 0, 0
	}
	return len(lat), errs, lat[len(lat)/2], lat[len(lat)*99/100]
}

func (v *victim) stop() {
	select {
	case <-v.stopc:
	default:
		close(v.stopc)
	}
	v.wg.Wait()
}

func waitUp(base string, exited <-chan error) {
	for {
		select {
		case err := <-exited:
			fmt.Printf("FAIL: dohost did not start: %v\n", err)
			os.Exit(1)
		default:
		}
		if resp, err := http.Get(base + "/?roomId=up"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// accessRe matches an access-log line of the victim's worker.
var accessRe = regexp.MustCompile(`msg=request .*worker=victim/.* duration=(\S+)`)

// logFile is dohost's log: what it writes to w is appended to the file
// name by a goroutine of the soak.
type logFile struct {
	name    string
	w       *os.File // dohost's end of the pipe
	written atomic.Int64
}

func newLogFile(name string) *logFile {
	f, err := os.Create(name)
	check(err)
	r, w, err := os.Pipe()
	check(err)
	l := &logFile{name: name, w: w}
	go func() {
		defer f.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if _, werr := f.Write(buf[:n]); werr == nil {
					l.written.Add(int64(n))
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return l
}

// size is how much of the log is in the file so far.
func (l *logFile) size() int64 { return l.written.Load() }

// hostP99 is the p99 of the victim's requests in dohost's access log
// from offset at on: their time in the host.
func hostP99(l *logFile, at int64) time.Duration {
	time.Sleep(100 * time.Millisecond) // the last lines through the pipe
	f, err := os.Open(l.name)
	if err != nil {
		return 0
	}
	defer f.Close()
	if _, err := f.Seek(at, io.SeekStart); err != nil {
		return 0
	}
	var lat []time.Duration
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := accessRe.FindStringSubmatch(sc.Text()); m != nil {
			if d, err := time.ParseDuration(m[1]); err == nil {
				lat = append(lat, d)
			}
		}
	}
	if len(lat) == 0 {
		return 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)*99/100]
}

// resetPeak resets the process's peak RSS (VmHWM), so that each phase
// reports its own.
func resetPeak(pid int) {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

var hwmRe = regexp.MustCompile(`VmHWM:\s+(\d+) kB`)

// cpuTime reads the CPU time the process has used, user and system.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command's closing parenthesis: utime and stime
	// are the 12th and 13th of them, in clock ticks (100 a second).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

// peakRSS reads the process's peak RSS since the last reset, in bytes.
func peakRSS(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := hwmRe.FindStringSubmatch(sc.Text()); m != nil {
			kb, _ := strconv.ParseInt(m[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func runtimeCPUs() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return max(1, strings.Count(string(b), "processor\t:"))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}
