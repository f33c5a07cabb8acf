package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// The crash tests run `dohost serve` as a child process: this test binary,
// re-executed with DOHOST_TEST_MAIN set, runs main instead of the tests.
func TestMain(m *testing.M) {
	if os.Getenv("DOHOST_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// buildGuest builds the Go guest in pkg (relative to the repository root)
// into dir and writes a wrangler.toml for it there from body.
func buildGuest(t *testing.T, dir, pkg, body string) string {
	t.Helper()
	wasm := filepath.Join(dir, "guest.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", wasm, "./"+pkg)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	cfg := filepath.Join(dir, "wrangler.toml")
	if err := os.WriteFile(cfg, []byte("main = \"guest.wasm\"\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// child is a `dohost serve` process.
type child struct {
	cmd    *exec.Cmd
	url    string
	logs   *lockedWriter
	exited chan struct{} // closed when its stderr closes: it is gone
}

// startChild starts `dohost serve` (after the shell commands, if any) on
// a port the kernel picks and waits for its readiness signal, the log line that says where it serves: no
// fixed deadline, so a busy machine makes the test slower, not failed.
func startChild(t *testing.T, cfg, data string, shell ...string) *child {
	t.Helper()
	return startChildWith(t, []string{"--config", cfg, "--data", data}, nil, shell...)
}

// startChildWith is startChild with serve's flags and more environment.
func startChildWith(t *testing.T, flags, env []string, shell ...string) *child {
	t.Helper()
	logs := &lockedWriter{b: &strings.Builder{}}
	args := append([]string{os.Args[0], "serve", "--listen", "127.0.0.1:0"}, flags...)
	if len(shell) > 0 { // run it from sh, after shell's commands (ulimit …)
		args = append([]string{"sh", "-c", strings.Join(shell, "; ") + `; exec "$0" "$@"`}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(append(os.Environ(), "DOHOST_TEST_MAIN=1"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, logs: logs, exited: make(chan struct{})}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan string, 1)
	go func() {
		defer close(c.exited)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logs, line)
			if i := strings.Index(line, "msg=serving addr="); i >= 0 {
				addr, _, _ := strings.Cut(line[i+len("msg=serving addr="):], " ")
				select {
				case ready <- addr:
				default:
				}
			}
		}
		close(ready) // the child is gone
	}()
	addr, ok := <-ready
	if !ok {
		t.Fatalf("dohost exited before it served:\n%s", logs)
	}
	c.url = addr
	// Reading an HTTP response proves the listener is up.
	resp, err := http.Get(c.url + "/")
	if err != nil {
		t.Fatalf("dohost said it serves on %s, but: %v\n%s", addr, err, logs)
	}
	resp.Body.Close()
	return c
}

type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// killAfter is how many writes the crash tests wait to be acknowledged
// before they kill the host: the writers go on meanwhile, so writes are in
// flight at the kill.
const killAfter = 200

// waitProgress waits until progressed is closed (killAfter writes were
// acknowledged) or the child dies.
func waitProgress(t *testing.T, progressed chan struct{}, c *child) {
	t.Helper()
	select {
	case <-progressed:
	case <-c.exited:
		t.Fatalf("dohost exited under load:\n%s", c.logs)
	}
}

// kill ends the child with SIGKILL: no drain, no clean close.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

func do(client *http.Client, method, url string) (int, []byte, error) {
	req, _ := http.NewRequest(method, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestCrash_Counter runs the counter example under concurrent POSTs, kills
// the host with SIGKILL, restarts it on the same data directory, and checks
// that every counter is at least the last value a client was answered, and
// at most one more (the request in flight at the kill may have committed).
// Three rounds on one data directory.
func TestCrash_Counter(t *testing.T) {
	if testing.Short() {
		t.Skip("runs dohost as a child process")
	}
	dir := t.TempDir()
	cfg := buildGuest(t, dir, "guests/examples/counter", `name = "counter"
[durable_objects]
bindings = [{ name = "COUNTERS", class_name = "Counter" }]
`)
	data := filepath.Join(dir, "data")
	const writers = 16
	acked := make([]int64, writers)
	for round := 0; round < 3; round++ {
		c := startChild(t, cfg, data)
		client := &http.Client{} // no timeout: a busy machine is slow, not broken
		// After a restart, every counter holds at least what was acked.
		for w := range acked {
			code, body, err := do(client, "GET", fmt.Sprintf("%s/?name=c%d", c.url, w))
			if err != nil || code != 200 {
				t.Fatalf("round %d: GET c%d: %d %s %v", round, w, code, body, err)
			}
			var r struct{ Value int64 }
			_ = json.Unmarshal(body, &r)
			if r.Value < acked[w] || r.Value > acked[w]+1 {
				t.Fatalf("round %d: counter c%d = %d after the crash; the last acknowledged value was %d", round, w, r.Value, acked[w])
			}
			acked[w] = r.Value
		}
		var stop atomic.Bool
		var wg sync.WaitGroup
		var total atomic.Int64
		progressed := make(chan struct{})
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for !stop.Load() {
					code, body, err := do(client, "POST", fmt.Sprintf("%s/?name=c%d", c.url, w))
					if err != nil {
						return // the host is gone
					}
					if code != 200 {
						t.Errorf("POST c%d: %d %s", w, code, body)
						return
					}
					var r struct{ Value int64 }
					if err := json.Unmarshal(body, &r); err != nil {
						t.Errorf("POST c%d: %s: %v", w, body, err)
						return
					}
					if r.Value != acked[w]+1 {
						t.Errorf("POST c%d: value %d, want %d", w, r.Value, acked[w]+1)
					}
					acked[w] = r.Value
					if total.Add(1) == killAfter {
						close(progressed)
					}
				}
			}(w)
		}
		waitProgress(t, progressed, c)
		c.kill(t)
		stop.Store(true)
		wg.Wait()
		t.Logf("round %d: %d acknowledged increments before SIGKILL", round, total.Load())
	}
}

// TestCrash_MultiKey: each request writes 50 keys of one object in one
// call, all with the request's sequence number. After SIGKILL and restart,
// every object's 50 keys hold one number (no write is torn), and it is the
// last acknowledged one or the one in flight.
func TestCrash_MultiKey(t *testing.T) {
	if testing.Short() {
		t.Skip("runs dohost as a child process")
	}
	dir := t.TempDir()
	cfg := buildGuest(t, dir, "testdata/guests/probe", `name = "probe"
kv_namespaces = [{ binding = "KV", id = "probe-kv" }]
[durable_objects]
bindings = [{ name = "PROBE", class_name = "Probe" }, { name = "OTHER", class_name = "Other" }]
`)
	data := filepath.Join(dir, "data")
	const writers, keys = 8, 50
	acked := make([]int, writers)
	for round := 0; round < 3; round++ {
		c := startChild(t, cfg, data)
		client := &http.Client{} // no timeout: a busy machine is slow, not broken
		for w := range acked {
			code, body, err := do(client, "GET", fmt.Sprintf("%s/obj/st/list?name=m%d&prefix=k", c.url, w))
			if err != nil || code != 200 {
				t.Fatalf("round %d: list m%d: %d %s %v", round, w, code, body, err)
			}
			var l [][2]string
			_ = json.Unmarshal(body, &l)
			if acked[w] == 0 && len(l) == 0 {
				continue
			}
			if len(l) != keys {
				t.Fatalf("round %d: object m%d has %d keys, want %d", round, w, len(l), keys)
			}
			var seq int
			fmt.Sscan(l[0][1], &seq)
			for _, e := range l {
				if e[1] != l[0][1] {
					t.Fatalf("round %d: object m%d is torn: %s=%s but %s=%s", round, w, l[0][0], l[0][1], e[0], e[1])
				}
			}
			if seq < acked[w] || seq > acked[w]+1 {
				t.Fatalf("round %d: object m%d holds write %d; the last acknowledged was %d", round, w, seq, acked[w])
			}
			acked[w] = seq
		}
		var stop atomic.Bool
		var wg sync.WaitGroup
		var total atomic.Int64
		progressed := make(chan struct{})
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for !stop.Load() {
					seq := acked[w] + 1
					code, body, err := do(client, "GET", fmt.Sprintf("%s/obj/st/putmulti?name=m%d&prefix=k&n=%d&value=%d", c.url, w, keys, seq))
					if err != nil {
						return
					}
					if code != 200 {
						t.Errorf("putmulti m%d: %d %s", w, code, body)
						return
					}
					acked[w] = seq
					if total.Add(1) == killAfter {
						close(progressed)
					}
				}
			}(w)
		}
		waitProgress(t, progressed, c)
		c.kill(t)
		stop.Store(true)
		wg.Wait()
	}
}
