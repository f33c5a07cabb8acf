package host

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dohost/dohost/host/internal/config"
)

// exampleWasm builds the example guests/examples/<name> and returns its
// .wasm: a Go example with go build (guestWasm), any other with its
// Makefile rule (C: clang and wasi-libc; Rust: rustc; AssemblyScript:
// asc from npm), once per test binary.
func exampleWasm(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(repoRoot(), "guests", "examples", name)
	if _, err := os.Stat(filepath.Join(dir, "main.go")); err == nil {
		return guestWasm(t, "guests/examples/"+name)
	}
	out := filepath.Join(dir, name+".wasm")
	rel, _ := filepath.Rel(repoRoot(), out)
	return buildOnce(t, out, fmt.Sprintf("build example %s (make %s; %s)", name, rel, toolchainHint), func() *exec.Cmd {
		return exec.Command("make", "-s", "--no-print-directory", rel)
	})
}

// sdkGuestWasm builds the guest in dir (relative to the repository root)
// written with the SDK of lang ("c", "rust", "as") with the Makefile's
// rule for it (c-guest, rust-guest, as-guest), once per test binary.
func sdkGuestWasm(t testing.TB, lang, dir string) string {
	t.Helper()
	out := filepath.Join(guests.dir, strings.ReplaceAll(dir, "/", "_")+".wasm")
	return buildOnce(t, out, fmt.Sprintf("build the %s guest %s (%s)", lang, dir, toolchainHint), func() *exec.Cmd {
		return exec.Command("make", "-s", "--no-print-directory", lang+"-guest", "DIR="+dir, "OUT="+out)
	})
}

// toolchainHint says what builds the guests of other languages.
const toolchainHint = "C, Rust and WAT guests need the toolchains make deps installs; AssemblyScript guests npm"

// exampleServer serves the example name with its own wrangler.toml, its
// main pointed at the built module.
func exampleServer(t *testing.T, name string) *testServer {
	t.Helper()
	exdir := filepath.Join(repoRoot(), "guests", "examples", name)
	cfg, err := os.ReadFile(filepath.Join(exdir, "wrangler.toml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var o Options
	main := regexp.MustCompile(`(?m)^main = "(.*)"$`)
	if m := main.FindSubmatch(cfg); m != nil && config.IsScript(string(m[1])) {
		// A JavaScript example: its own source, on the runtime built here.
		o = jsOptions(t)
		cfg = main.ReplaceAll(cfg, []byte(fmt.Sprintf("main = %q", filepath.Join(exdir, string(m[1])))))
	} else {
		cfg = main.ReplaceAll(cfg, []byte(fmt.Sprintf("main = %q", exampleWasm(t, name))))
	}
	path := filepath.Join(dir, "wrangler.toml")
	if err := os.WriteFile(path, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	o.DataDir = filepath.Join(dir, "data")
	return startServerOpts(t, o, path)
}

// jsRuntime builds dohost's JavaScript runtime with make, once per test
// binary (makeJSRuntime).
func jsRuntime(t testing.TB) string {
	out := filepath.Join(guests.dir, "dohost-js.wasm")
	return buildOnce(t, out, "build the JavaScript runtime", func() *exec.Cmd { return makeJSRuntime(out) })
}

// jsOptions are options for a server of JavaScript Workers: the runtime
// built here, compiled once into the test binary's shared compilation
// cache (startServerOpts) by a program built without the race detector,
// under which wazero's compiler is many times slower.
func jsOptions(t testing.TB) Options {
	t.Helper()
	rt := jsRuntime(t)
	cache := filepath.Join(guests.dir, "wazero-cache")
	buildOnce(t, cache+".js", "compile the JavaScript runtime into the cache", func() *exec.Cmd {
		cmd := exec.Command("go", "test", "-count=1", "./host/testdata/precompile") // no -race
		cmd.Env = append(os.Environ(), "PRECOMPILE_CACHE="+cache, "PRECOMPILE_MODULE="+rt)
		return cmd
	})
	guests.jsRuntime.Store(rt)
	return Options{JSRuntime: rt}
}

// answer is what a client sees of a response, less what differs between
// any two (the date, the request id).
func answer(t *testing.T, ts *testServer, method, path, body string) string {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var hs []string
	for k, vs := range resp.Header {
		if k != "Date" && k != "X-Request-Id" {
			hs = append(hs, k+": "+strings.Join(vs, ", "))
		}
	}
	sort.Strings(hs)
	return fmt.Sprintf("%d\n%s\n%q", resp.StatusCode, strings.Join(hs, "\n"), b)
}

// exampleStep is one request of an agreement script; until, if set, has
// the step repeated (on both servers alike) until the answer contains it.
type exampleStep struct {
	method, path, body, until string
}

var roomSteps = []exampleStep{
	{method: "GET", path: "/?roomId=lobby"},
	{method: "GET", path: "/?roomId=kitchen"},
	{method: "GET", path: "/?roomId=lobby"},
	{method: "POST", path: "/?roomId=lobby", body: "ignored"},
	{method: "GET", path: "/"},
	{method: "GET", path: "/?roomId="},
	{method: "GET", path: "/?roomId=%3Cb%3E%26%E2%80%A8%ff%22%5C%0A%01"},
	{method: "GET", path: "/?roomId=a%zz&roomId=second"},
	{method: "GET", path: "/?x;y=1&roomId=after+semicolon"},
	{method: "GET", path: "/?a=1&roomId=caf%C3%A9#frag"},
	{method: "GET", path: "/path/ignored?roomId=%E6%97%A5%E6%9C%AC"},
}

var counterSteps = []exampleStep{
	{method: "POST", path: "/?name=visits"},
	{method: "POST", path: "/?name=visits"},
	{method: "GET", path: "/?name=visits"},
	{method: "HEAD", path: "/?name=visits"},
	{method: "PUT", path: "/?name=visits"},
	{method: "DELETE", path: "/?name=visits"},
	{method: "GET", path: "/"},
	{method: "GET", path: "/?name=other"},
	{method: "POST", path: "/?name=visits&resetAfter=soon"},
	{method: "POST", path: "/?name=visits&resetAfter=-1"},
	{method: "POST", path: "/?name=visits&resetAfter=%201"},
	{method: "GET", path: "/?name=%C3%A9t%C3%A9%3C"},
	{method: "POST", path: "/?name=alarmed"},
	{method: "POST", path: "/?name=alarmed&resetAfter=0.05"},
	{method: "GET", path: "/?name=alarmed", until: `\"value\":0`}, // as answer quotes the body
}

// TestExamples_Agree: each example in another language answers every
// request of its script exactly as the Go example does: status, headers
// (but the date and request id) and body, byte for byte.
func TestExamples_Agree(t *testing.T) {
	for _, c := range []struct {
		golden string
		others []string
		steps  []exampleStep
	}{
		{"room", []string{"room-c", "room-rust", "room-as", "room-ts"}, roomSteps},
		{"counter", []string{"counter-c", "counter-rust", "counter-as", "counter-js"}, counterSteps},
	} {
		for _, other := range c.others {
			t.Run(other, func(t *testing.T) {
				want, got := exampleServer(t, c.golden), exampleServer(t, other)
				for _, s := range c.steps {
					w, g := answer(t, want, s.method, s.path, s.body), answer(t, got, s.method, s.path, s.body)
					for start := time.Now(); s.until != "" && !(strings.Contains(w, s.until) && strings.Contains(g, s.until)); {
						if time.Since(start) > time.Minute {
							t.Fatalf("%s %s: no answer with %s in a minute: %s: %s; %s: %s", s.method, s.path, s.until, c.golden, w, other, g)
						}
						time.Sleep(10 * time.Millisecond)
						w, g = answer(t, want, s.method, s.path, s.body), answer(t, got, s.method, s.path, s.body)
					}
					if w != g {
						t.Errorf("%s %s:\n%s answers\n%s\n%s answers\n%s", s.method, s.path, c.golden, w, other, g)
					}
				}
			})
		}
	}
}

// TestCommittedWasm_MatchesSource: every WebAssembly module committed built
// (the WAT guests and fixtures, so that the tests need no wat2wasm) is what
// its .wat source makes, built as make guests builds it.
func TestCommittedWasm_MatchesSource(t *testing.T) {
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		t.Fatal("wat2wasm is not installed (apt-get install wabt; .ci/run does)")
	}
	root := repoRoot()
	var sources []string
	for _, dir := range []string{"testdata", "host/internal/wasmbin/testdata", "guests/examples"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(path, ".wat") {
				sources = append(sources, path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(sources) < 20 {
		t.Fatalf("found %d .wat sources", len(sources))
	}
	for _, src := range sources {
		rel, _ := filepath.Rel(root, src)
		args := []string{src, "-o", filepath.Join(t.TempDir(), "out.wasm")}
		if !strings.HasPrefix(rel, "guests/") {
			args = append([]string{"--debug-names"}, args...) // as make guests builds fixtures
		}
		if b, err := exec.Command("wat2wasm", args...).CombinedOutput(); err != nil {
			t.Errorf("wat2wasm %s: %v\n%s", rel, err, b)
			continue
		}
		built, _ := os.ReadFile(args[len(args)-1])
		committed, err := os.ReadFile(strings.TrimSuffix(src, ".wat") + ".wasm")
		if err != nil {
			t.Errorf("%s has no committed .wasm: %v", rel, err)
			continue
		}
		if !bytes.Equal(built, committed) {
			t.Errorf("%s: the committed .wasm is not what the source makes (run make guests)", rel)
		}
	}
}
