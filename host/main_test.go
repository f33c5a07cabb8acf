package host

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dohost/dohost/host/internal/objects"
)

// Guest modules built once for the whole test binary.
var guests struct {
	dir       string
	once      sync.Map     // name → *sync.Once
	errs      sync.Map     // name → error
	jsRuntime atomic.Value // string: the JavaScript runtime, once jsOptions built it
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dohost-guests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	guests.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the module root, two levels up from this package.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// guestWasm builds the Go guest in pkg (relative to the repository root)
// for wasip1 and returns the path of its .wasm.
func guestWasm(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(guests.dir, strings.ReplaceAll(pkg, "/", "_")+".wasm")
	return buildOnce(t, out, "build "+pkg, func() *exec.Cmd {
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./"+pkg)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		return cmd
	})
}

// makeJSRuntime is the command that builds the JavaScript runtime into out
// with make, holding a lock on build/ (where make unpacks and compiles
// QuickJS) so that test binaries running at once (go test ./...) do not
// build it over each other.
func makeJSRuntime(out string) *exec.Cmd {
	return exec.Command("sh", "-c", `mkdir -p build && exec flock build make -s --no-print-directory JS_RUNTIME="$1" "$1"`, "sh", out)
}

// buildOnce runs the command cmd makes, in the repository's root, the
// first time a test of this binary asks for out, and returns out; each
// later test that asks fails as the first did, with what.
func buildOnce(t testing.TB, out, what string, cmd func() *exec.Cmd) string {
	t.Helper()
	o, _ := guests.once.LoadOrStore(out, new(sync.Once))
	o.(*sync.Once).Do(func() {
		c := cmd()
		c.Dir = repoRoot()
		if b, err := c.CombinedOutput(); err != nil {
			guests.errs.Store(out, fmt.Errorf("%s: %v\n%s", what, err, b))
		}
	})
	if err, ok := guests.errs.Load(out); ok {
		t.Fatal(err)
	}
	return out
}

// writeConfig writes a wrangler.toml into dir whose main is wasm; body
// holds everything but main. It returns the config's path.
func writeConfig(t testing.TB, dir, wasm, body string) string {
	t.Helper()
	path := filepath.Join(dir, "wrangler.toml")
	text := fmt.Sprintf("main = %q\n%s", wasm, body)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const roomConfig = `
name = "my-worker"
kv_namespaces = [{ binding = "YOUR_KV_NAMESPACE", id = "0f2ac74b498b48028cb68387c421e279" }]

[durable_objects]
bindings = [{ name = "YOUR_DO_CLASS", class_name = "YourDurableObject" }]
`

const probeConfig = `
name = "probe"
kv_namespaces = [{ binding = "KV", id = "probe-kv" }]

[durable_objects]
bindings = [
  { name = "PROBE", class_name = "Probe" },
  { name = "OTHER", class_name = "Other" },
]
`

// testLogger collects log lines, and shows them when a test fails.
type testLogger struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *testLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *testLogger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testServer is a Server behind a real HTTP listener on 127.0.0.1.
type testServer struct {
	*Server
	URL  string
	http *httptest.Server
	logs *testLogger
	lang string // the probe's language, for a server of startProbeOpts
}

func startServer(t testing.TB, dataDir string, configs ...string) *testServer {
	t.Helper()
	return startServerOpts(t, Options{DataDir: dataDir}, configs...)
}

// startServerOpts starts a server with o, the configs, the shared
// compilation cache and a logger that shows when the test fails.
func startServerOpts(t testing.TB, o Options, configs ...string) *testServer {
	t.Helper()
	logs := &testLogger{}
	o.Configs = configs
	o.CacheDir = filepath.Join(guests.dir, "wazero-cache")
	if rt, ok := guests.jsRuntime.Load().(string); ok && o.JSRuntime == "" {
		o.JSRuntime = rt // for a config whose main is a script
	}
	if o.Logger == nil { // a test's own logger stands; ts.logs then stays empty
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(srv)
	ts := &testServer{Server: srv, URL: hs.URL, http: hs, logs: logs}
	t.Cleanup(func() {
		ts.stop(t)
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	return ts
}

// stop closes the listener and then the server; it may be called twice.
func (ts *testServer) stop(t testing.TB) {
	t.Helper()
	ts.http.Close()
	if err := ts.Server.Close(context.Background()); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func (ts *testServer) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(ts.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// namespace returns the Durable Object namespace the first worker binds
// as binding.
func (ts *testServer) namespace(t testing.TB, binding string) *objects.Namespace {
	t.Helper()
	ns := ts.workers()[0].namespaces[binding]
	if ns == nil {
		t.Fatalf("the first worker binds no namespace %s", binding)
	}
	return ns
}

// getJSON GETs path, checks the status and decodes the body into v.
func (ts *testServer) getJSON(t testing.TB, path string, wantStatus int, v any) {
	t.Helper()
	status, body := ts.get(t, path)
	if status != wantStatus {
		t.Fatalf("GET %s: status %d, want %d; body %s", path, status, wantStatus, body)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: decoding %q: %v", path, body, err)
		}
	}
}
