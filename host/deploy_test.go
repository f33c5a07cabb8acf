package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// deployProbe builds testdata/guests/deployprobe as version v and returns
// its module.
func deployProbe(t testing.TB, v string) []byte {
	return deployProbeClass(t, v, "Versioned")
}

// The padded version and class the one build of deployprobe has; each
// version is that build with these rewritten (same length).
const (
	probeVersionPad = "v0______________"
	probeClassPad   = "Versioned_______________"
)

// deployProbeClass returns deployprobe as version v of class: its one
// build with the padded strings rewritten, which makes a module that
// differs in its hash and in what it answers, without another Go build.
func deployProbeClass(t testing.TB, v, class string) []byte {
	t.Helper()
	out := filepath.Join(guests.dir, "deployprobe.wasm")
	buildOnce(t, out, "build deployprobe", func() *exec.Cmd {
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-ldflags", "-X main.version="+probeVersionPad+" -X main.class="+probeClassPad, "-o", out, "./testdata/guests/deployprobe")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		return cmd
	})
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]string{{probeVersionPad, v}, {probeClassPad, class}} {
		// The string itself, and the build settings that quote it.
		if len(r[1]) > len(r[0]) || !bytes.Contains(b, []byte(r[0])) {
			t.Fatalf("deployprobe: cannot rewrite %q as %q", r[0], r[1])
		}
		b = bytes.ReplaceAll(b, []byte(r[0]), []byte(r[1]+strings.Repeat("_", len(r[0])-len(r[1]))))
	}
	return b
}

const deployConfig = `
name = "versioned"

[durable_objects]
bindings = [{ name = "OBJ", class_name = "Versioned" }]
`

// startDeployProbe starts a server whose one worker is deployprobe v1,
// from a config on the command line.
func startDeployProbe(t *testing.T, o Options) (*testServer, string) {
	t.Helper()
	dir := t.TempDir()
	wasm := filepath.Join(dir, "v1.wasm")
	if err := os.WriteFile(wasm, deployProbe(t, "v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if o.DataDir == "" {
		o.DataDir = filepath.Join(dir, "data")
	}
	return startServerOpts(t, o, writeConfig(t, dir, wasm, deployConfig)), dir
}

// probeReply is deployprobe's answer.
type probeReply struct {
	Version string `json:"version"`
	Value   int64  `json:"value"`
	Calls   int    `json:"calls"`
}

// post POSTs to name's object and returns its reply.
func (ts *testServer) post(t testing.TB, name string) probeReply {
	t.Helper()
	resp, err := http.Post(ts.URL+"/obj?name="+name, "text/plain", nil)
	if err != nil {
		t.Fatalf("POST %s: %v", name, err)
	}
	defer resp.Body.Close()
	var r probeReply
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: status %d", name, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("POST %s: %v", name, err)
	}
	return r
}

// deployVersion deploys deployprobe v with config (deployConfig if "").
func (ts *testServer) deployVersion(t testing.TB, v, config string) (Version, error) {
	t.Helper()
	if config == "" {
		config = deployConfig
	}
	config = "main = \"deployprobe.wasm\"\n" + config
	return ts.Deploy(context.Background(), DeployRequest{
		Config: []byte(config), ConfigFile: "wrangler.toml", Module: deployProbe(t, v), By: "test",
	})
}

func TestDeploy_NewVersionServes(t *testing.T) {
	ts, _ := startDeployProbe(t, Options{})
	if r := ts.post(t, "a"); r != (probeReply{"v1", 1, 1}) {
		t.Fatalf("before the deploy: %+v", r)
	}
	if r := ts.post(t, "a"); r != (probeReply{"v1", 2, 2}) {
		t.Fatalf("before the deploy: %+v", r)
	}
	v, err := ts.deployVersion(t, "v2", "")
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if v.Version != 2 || v.By != "test" || !v.Active {
		t.Fatalf("deploy recorded %+v, want version 2 by test, active", v)
	}
	// The idle object gave up its v1 instance at the deploy; its storage
	// stays.
	if r := ts.post(t, "a"); r != (probeReply{"v2", 3, 1}) {
		t.Fatalf("after the deploy: %+v, want v2 with the stored value 3 on a new instance", r)
	}
	if r := ts.post(t, "b"); r != (probeReply{"v2", 1, 1}) {
		t.Fatalf("a new object: %+v", r)
	}
	vs, err := ts.Versions("default", "versioned")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].By != "config" || vs[0].Active || vs[1].By != "test" || !vs[1].Active || vs[0].Module == vs[1].Module {
		t.Fatalf("versions: %+v", vs)
	}
}

func TestDeploy_BadVersionRefused(t *testing.T) {
	ts, _ := startDeployProbe(t, Options{})
	ts.post(t, "a")
	cases := []struct {
		name   string
		req    DeployRequest
		reason string
	}{
		{"not wasm", DeployRequest{Config: []byte("main = \"x.wasm\"\n" + deployConfig), ConfigFile: "w.toml", Module: []byte("not a module")}, "not a WebAssembly module"},
		// Bytes on which wazero's validator panics: refused before it sees them.
		{"validator panic", DeployRequest{Config: []byte("main = \"x.wasm\"\n" + deployConfig), ConfigFile: "w.toml", Module: readHostile(t, "validatorpanic")}, "cannot be metered"},
		{"bad config", DeployRequest{Config: []byte("name = 3"), ConfigFile: "w.toml", Module: deployProbe(t, "v2")}, "name"},
		{"missing class", DeployRequest{Config: []byte("main = \"x.wasm\"\n" + strings.ReplaceAll(deployConfig, "Versioned", "Nope")), ConfigFile: "w.toml", Module: deployProbe(t, "v2")}, `class "Nope" is not exported`},
		{"other account", DeployRequest{Config: []byte("main = \"x.wasm\"\naccount_id = \"acme\"\n" + deployConfig), ConfigFile: "w.toml", Module: deployProbe(t, "v2"), Account: "default"}, "not the account of the token"},
	}
	for _, c := range cases {
		_, err := ts.Deploy(context.Background(), c.req)
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s: %v, want a refusal saying %q", c.name, err, c.reason)
		}
	}
	var m dto.Metric
	if err := ts.metrics.deploys.WithLabelValues("refused").Write(&m); err != nil || m.Counter.GetValue() != float64(len(cases)) {
		got := m.Counter.GetValue()
		t.Errorf("refused deploys counted: %v (%v), want %d", got, err, len(cases))
	}
	// The old version keeps serving, on the same instance.
	if r := ts.post(t, "a"); r != (probeReply{"v1", 2, 2}) {
		t.Fatalf("after refused deploys: %+v", r)
	}
	if vs, _ := ts.Versions("default", "versioned"); len(vs) != 1 {
		t.Fatalf("a refused deploy was recorded: %+v", vs)
	}
}

func TestDeploy_Rollback(t *testing.T) {
	ts, _ := startDeployProbe(t, Options{})
	ts.post(t, "a")
	if _, err := ts.deployVersion(t, "v2", ""); err != nil {
		t.Fatal(err)
	}
	if r := ts.post(t, "a"); r.Version != "v2" {
		t.Fatalf("after the deploy: %+v", r)
	}
	n, err := ts.previousVersion("default", "versioned")
	if err != nil || n != 1 {
		t.Fatalf("previous version: %d, %v", n, err)
	}
	v, err := ts.Rollback(context.Background(), "default", "versioned", n, "test")
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != 3 || v.RollbackOf != 1 {
		t.Fatalf("rollback recorded %+v", v)
	}
	if r := ts.post(t, "a"); r != (probeReply{"v1", 3, 1}) {
		t.Fatalf("after the rollback: %+v", r)
	}
	if _, err := ts.Rollback(context.Background(), "default", "versioned", 9, "test"); !errors.Is(err, ErrRefused) {
		t.Fatalf("rollback to a version that does not exist: %v", err)
	}
}

// TestDeploy_UnderLoad deploys and rolls back while clients POST to a few
// objects: every request succeeds, and every acknowledged increment is
// in the final values.
func TestDeploy_UnderLoad(t *testing.T) {
	ts, _ := startDeployProbe(t, Options{})
	deployProbe(t, "v2")
	deployProbe(t, "v3")
	const clients, names, deploys, between = 4, 3, 6, 20
	var wg sync.WaitGroup
	var acked atomic.Int64
	stop := make(chan struct{})
	failures := make(chan string, 100)
	versions := sync.Map{} // version → true
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("n%d", (c+i)%names)
				resp, err := http.Post(ts.URL+"/obj?name="+name, "text/plain", nil)
				if err != nil {
					failures <- err.Error()
					return
				}
				var r probeReply
				err = json.NewDecoder(resp.Body).Decode(&r)
				resp.Body.Close()
				if resp.StatusCode != 200 || err != nil {
					failures <- fmt.Sprintf("status %d: %v", resp.StatusCode, err)
					return
				}
				acked.Add(1)
				versions.Store(r.Version, true)
			}
		}()
	}
	// Each deploy waits for requests to have run since the one before.
	for d := range deploys {
		for n := acked.Load(); acked.Load() < n+between; {
			select {
			case f := <-failures:
				t.Fatalf("request failed during deploys: %s", f)
			default:
				time.Sleep(time.Millisecond)
			}
		}
		if _, err := ts.deployVersion(t, fmt.Sprintf("v%d", 2+d%2), ""); err != nil {
			t.Errorf("deploy under load: %v", err)
		}
	}
	for n := acked.Load(); acked.Load() < n+between; {
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Errorf("request failed during deploys: %s", f)
	}
	total := int64(0)
	for i := range names {
		r := ts.post(t, fmt.Sprintf("n%d", i))
		total += r.Value - 1
	}
	if total != acked.Load() {
		t.Fatalf("the objects counted %d increments, want %d (every acknowledged one)", total, acked.Load())
	}
	for _, v := range []string{"v1", "v2", "v3"} {
		if _, ok := versions.Load(v); !ok {
			t.Errorf("no request ran on %s", v)
		}
	}
	t.Logf("%d requests, %d deploys", acked.Load(), deploys)
}

func TestDeploy_WebSocketStaysOpen(t *testing.T) {
	ts, _ := startDeployProbe(t, Options{})
	c := dialWS(t, ts, "/obj?name=room")
	sendText(t, c, "hi")
	if got := readText(t, c); got != "v1: hi" {
		t.Fatalf("before the deploy: %q", got)
	}
	if _, err := ts.deployVersion(t, "v2", ""); err != nil {
		t.Fatal(err)
	}
	sendText(t, c, "hi")
	if got := readText(t, c); got != "v2: hi" {
		t.Fatalf("after the deploy, the same socket: %q, want v2's answer", got)
	}
}

func TestDeploy_Restart(t *testing.T) {
	ts, dir := startDeployProbe(t, Options{})
	ts.post(t, "a")
	if _, err := ts.deployVersion(t, "v2", ""); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	ts.stop(t)

	// The command line's config is unchanged: the deployed v2 serves.
	ts = startServerOpts(t, Options{DataDir: data}, filepath.Join(dir, "wrangler.toml"))
	if r := ts.post(t, "a"); r.Version != "v2" || r.Value != 2 {
		t.Fatalf("after a restart: %+v, want v2 with the stored value", r)
	}
	ts.stop(t)

	// A changed config on the command line is a new version.
	if err := os.WriteFile(filepath.Join(dir, "v1.wasm"), deployProbe(t, "v3"), 0o644); err != nil {
		t.Fatal(err)
	}
	ts = startServerOpts(t, Options{DataDir: data}, filepath.Join(dir, "wrangler.toml"))
	if r := ts.post(t, "a"); r.Version != "v3" || r.Value != 3 {
		t.Fatalf("after a restart with a new module: %+v", r)
	}
	vs, _ := ts.Versions("default", "versioned")
	if len(vs) != 3 || vs[2].By != "config" || !vs[2].Active {
		t.Fatalf("versions: %+v", vs)
	}
}

func TestDeploy_AddAndRemoveWorker(t *testing.T) {
	ts, _ := startDeployProbe(t, Options{})
	// A second worker, routed by path, added while the host serves.
	second := `name = "second"
routes = ["*/second/*"]
[durable_objects]
bindings = [{ name = "OBJ", class_name = "Versioned" }]
`
	if _, err := ts.deployVersion(t, "v2", second); err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, probeReply) {
		resp, err := http.Post(ts.URL+path, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r probeReply
		_ = json.NewDecoder(resp.Body).Decode(&r)
		return resp.StatusCode, r
	}
	if st, r := get("/second/obj?name=a"); st != 200 || r != (probeReply{"v2", 1, 1}) {
		t.Fatalf("the added worker: %d %+v", st, r)
	}
	if st, r := get("/obj?name=a"); st != 200 || r != (probeReply{"v1", 1, 1}) {
		t.Fatalf("the first worker: %d %+v", st, r)
	}
	if _, err := ts.Remove(context.Background(), "default", "second", "test"); err != nil {
		t.Fatal(err)
	}
	// Its routes are gone: the first worker (no routes) serves the path.
	if st, r := get("/second/obj?name=a"); st != 200 || r.Version != "v1" {
		t.Fatalf("after removing the worker: %d %+v", st, r)
	}
	if _, err := ts.Remove(context.Background(), "default", "second", "test"); !errors.Is(err, ErrRefused) {
		t.Fatalf("removing it twice: %v", err)
	}
	// A rollback brings it back with its data.
	if _, err := ts.Rollback(context.Background(), "default", "second", 1, "test"); err != nil {
		t.Fatal(err)
	}
	if st, r := get("/second/obj?name=a"); st != 200 || r != (probeReply{"v2", 2, 1}) {
		t.Fatalf("after bringing it back: %d %+v", st, r)
	}
}

func TestDeploy_Migrations(t *testing.T) {
	ts, _ := startDeployProbe(t, Options{})
	ts.post(t, "a")
	deploy := func(v, class, config string) error {
		_, err := ts.Deploy(context.Background(), DeployRequest{
			Config: []byte("main = \"m.wasm\"\nname = \"versioned\"\n" + config), ConfigFile: "wrangler.toml",
			Module: deployProbeClass(t, v, class), By: "test",
		})
		return err
	}
	const v1 = `
[[migrations]]
tag = "v1"
new_classes = ["Versioned"]
`
	const v2 = `
[[migrations]]
tag = "v2"
renamed_classes = [{ from = "Versioned", to = "Renamed" }]
`
	const v3 = `
[[migrations]]
tag = "v3"
deleted_classes = ["Renamed"]
new_classes = ["Versioned"]
`
	// A renamed class keeps its objects' storage.
	if err := deploy("v2", "Renamed", `durable_objects.bindings = [{ name = "OBJ", class_name = "Renamed" }]`+v1+v2); err != nil {
		t.Fatal(err)
	}
	if r := ts.post(t, "a"); r != (probeReply{"v2", 2, 1}) {
		t.Fatalf("after the rename: %+v, want the stored value", r)
	}
	// Migrations that do not fit what was applied are refused, and the
	// last version serves on.
	err := deploy("v2", "Renamed", `durable_objects.bindings = [{ name = "OBJ", class_name = "Renamed" }]`+v2)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "migrations do not fit") {
		t.Fatalf("a config without an applied migration: %v", err)
	}
	// Binding a class the migrations take away is a config error.
	err = deploy("v2", "Renamed", `durable_objects.bindings = [{ name = "OBJ", class_name = "Versioned" }]`+v1+v2)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "renames it to Renamed") {
		t.Fatalf("binding a renamed class: %v", err)
	}
	if r := ts.post(t, "a"); r != (probeReply{"v2", 3, 2}) {
		t.Fatalf("after refused deploys: %+v", r)
	}
	// A deleted class's storage is gone; a new class of the old name
	// starts empty.
	if err := deploy("v3", "Versioned", `durable_objects.bindings = [{ name = "OBJ", class_name = "Versioned" }]`+v1+v2+v3); err != nil {
		t.Fatal(err)
	}
	if r := ts.post(t, "a"); r != (probeReply{"v3", 1, 1}) {
		t.Fatalf("after the deletion: %+v, want a new, empty object", r)
	}
}

// TestDeploy_RemovedWorkerKeepsAlarms: an alarm that comes due while its
// worker is removed stays stored, and fires once the worker is deployed
// again.
func TestDeploy_RemovedWorkerKeepsAlarms(t *testing.T) {
	dir := t.TempDir()
	ts := startServerOpts(t, Options{DataDir: filepath.Join(dir, "data")}, writeConfig(t, dir, exampleWasm(t, "counter"), `
name = "counter"
[durable_objects]
bindings = [{ name = "COUNTERS", class_name = "Counter" }]
`))
	post := func(q string) string {
		t.Helper()
		resp, err := http.Post(ts.URL+"/?name=x"+q, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post("")
	if got := post("&resetAfter=0.2"); got != `{"name":"x","value":2}` {
		t.Fatalf("POST: %s", got)
	}
	if _, err := ts.Remove(context.Background(), "default", "counter", "test"); err != nil {
		t.Fatal(err)
	}
	// The scheduler drops the alarm when it comes due and finds no
	// namespace; the stored alarm stays.
	for ts.Stats().AlarmsPending > 0 {
		time.Sleep(time.Millisecond)
	}
	if _, err := ts.Rollback(context.Background(), "default", "counter", 1, "test"); err != nil {
		t.Fatal(err)
	}
	for ts.Stats().AlarmsRun == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, body := ts.get(t, "/?name=x"); body != `{"name":"x","value":0}` {
		t.Fatalf("after the worker came back: %s, want the alarm's reset", body)
	}
}

// TestDeploy_StartEmpty: a host started without configs answers 404 until
// a worker is deployed through it, and serves that worker again after a
// restart without configs.
func TestDeploy_StartEmpty(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	ts := startServerOpts(t, Options{DataDir: data})
	if status, _ := ts.get(t, "/obj?name=a"); status != 404 {
		t.Fatalf("an empty host: %d, want 404", status)
	}
	if _, err := ts.deployVersion(t, "v2", ""); err != nil {
		t.Fatal(err)
	}
	if r := ts.post(t, "a"); r != (probeReply{"v2", 1, 1}) {
		t.Fatalf("after the deploy: %+v", r)
	}
	ts.stop(t)
	ts = startServerOpts(t, Options{DataDir: data})
	if r := ts.post(t, "a"); r != (probeReply{"v2", 2, 1}) {
		t.Fatalf("after a restart: %+v", r)
	}
}
