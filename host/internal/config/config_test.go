package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seed is the seed example's wrangler.toml with main added, verbatim.
const seed = `name = "my-worker"
main = "room.wasm"
compatibility_date = "2024-04-03"

kv_namespaces = [
  { binding = "YOUR_KV_NAMESPACE", id = "0f2ac74b498b48028cb68387c421e279" }
]

[durable_objects]
bindings = [
  { name = "YOUR_DO_CLASS", class_name = "YourDurableObject" }
]

[[migrations]]
tag = "v1"
new_classes = ["YourDurableObject"]
`

func TestParse_Seed(t *testing.T) {
	c, err := Parse("/srv/app/wrangler.toml", []byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "my-worker" || c.Main != "/srv/app/room.wasm" || c.AccountID != DefaultAccount {
		t.Errorf("got name %q main %q account %q", c.Name, c.Main, c.AccountID)
	}
	if len(c.KVNamespaces) != 1 || c.KVNamespaces[0] != (KVNamespace{"YOUR_KV_NAMESPACE", "0f2ac74b498b48028cb68387c421e279"}) {
		t.Errorf("kv %+v", c.KVNamespaces)
	}
	if len(c.DurableObjects) != 1 || c.DurableObjects[0] != (DurableObject{"YOUR_DO_CLASS", "YourDurableObject"}) {
		t.Errorf("durable objects %+v", c.DurableObjects)
	}
	if len(c.Migrations) != 1 || c.Migrations[0].Tag != "v1" || c.Migrations[0].NewClasses[0] != "YourDurableObject" {
		t.Errorf("migrations %+v", c.Migrations)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings %v; the seed's file, compatibility_date included, should give none", c.Warnings)
	}
	if c.Limits != DefaultLimits || c.Host != DefaultHost {
		t.Errorf("limits %+v host %+v", c.Limits, c.Host)
	}
}

func TestParse_Settings(t *testing.T) {
	c, err := Parse("w.toml", []byte(`name = "w"
main = "/abs/w.wasm"
account_id = "acct-1"
[vars]
N = 7
S = "text"
T = { a = [1, "b"] }
[limits]
cpu_ms = 50
websocket_message_bytes = 4096
websockets_per_object = 100
[dohost]
worker_instances = 8
max_websockets = 5000
[[migrations]]
tag = "v2"
renamed_classes = [{ from = "A", to = "B" }]
deleted_classes = ["C"]
transferred_classes = [{ from = "X", from_script = "other", to = "Y" }]
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Main != "/abs/w.wasm" || c.AccountID != "acct-1" || c.Limits.CPU != 50*time.Millisecond || c.Host.WorkerInstances != 8 {
		t.Errorf("got %+v", c)
	}
	if string(c.Vars["N"]) != "7" || string(c.Vars["S"]) != "text" || string(c.Vars["T"]) != `{"a":[1,"b"]}` {
		t.Errorf("vars %q", c.Vars)
	}
	if c.Limits.WebSocketMessage != 4096 || c.Limits.WebSocketsPerObject != 100 || c.Host.MaxWebSockets != 5000 {
		t.Errorf("WebSocket limits %+v, host %+v", c.Limits, c.Host)
	}
	if m := c.Migrations[0]; m.RenamedClasses[0] != (Rename{"A", "B"}) || m.DeletedClasses[0] != "C" || m.TransferredClasses[0] != (Transfer{"X", "other", "Y"}) {
		t.Errorf("migration %+v", m)
	}
}

// TestParse_Errors: every problem of a file at once, each with its line.
func TestParse_Errors(t *testing.T) {
	cases := []struct {
		name, text string
		want       []string // one per problem, in order
	}{
		{"syntax", "name = \"w\"\nmain = \n", []string{"w.toml:2: "}},
		{"missing name and main", "account_id = \"a\"\n", []string{
			"w.toml: name: is required", "w.toml: main: is required"}},
		{"types and unknown keys", `name = "w"
main = 7
colour = "blue"
[durable_objects]
bindings = [
  { name = "A", class_name = "X" },
  { name = "A", class_name = "Y", extra = 1 },
  { name = "9bad" },
]
`, []string{
			"w.toml:2: main: must be a string, not an integer",
			"w.toml:3: colour: unknown key",
			"w.toml:7: durable_objects.bindings[1].extra: unknown key",
			"w.toml:7: durable_objects.bindings[1].name: binding \"A\" is already defined at durable_objects.bindings[0].name",
			"w.toml:8: durable_objects.bindings[2].class_name: is required",
			"w.toml:8: durable_objects.bindings[2].name: \"9bad\" is not a valid binding name",
		}},
		{"kv and limits", `name = "Bad Name"
main = "w.py"
kv_namespaces = [{ binding = "KV" }, "oops"]
[limits]
cpu_ms = 0
memory = 3
`, []string{
			"w.toml:1: name: \"Bad Name\" is not a valid worker name",
			"w.toml:2: main: \"w.py\" must be a WebAssembly module (.wasm) or a Worker in JavaScript or TypeScript",
			"w.toml:3: kv_namespaces[1]: must be a table, not a string",
			"w.toml:3: kv_namespaces[0].id: is required",
			"w.toml:5: limits.cpu_ms: 0 is out of range",
			"w.toml:6: limits.memory: unknown key",
		}},
		{"migrations against bindings", `name = "w"
main = "w.wasm"
durable_objects.bindings = [{ name = "A", class_name = "Old" }, { name = "B", class_name = "Gone" }, { name = "C", class_name = "Back" }]
[[migrations]]
tag = "v1"
renamed_classes = [{ from = "Old", to = "New" }]
deleted_classes = ["Gone", "Back"]
[[migrations]]
tag = "v1"
new_classes = ["Back"]
`, []string{
			"w.toml:3: durable_objects.bindings[0].class_name: binding A names class Old, but migration \"v1\" renames it to New",
			"w.toml:3: durable_objects.bindings[1].class_name: binding B names class Gone, but migration \"v1\" deletes it",
			"w.toml:9: migrations[1].tag: tag \"v1\" is used by an earlier migration",
		}},
		{"vars", `name = "w"
main = "w.wasm"
kv_namespaces = [{ binding = "KV", id = "1" }]
[vars]
KV = "clash"
"bad name" = "x"
OK = 1
`, []string{
			"w.toml:5: vars.KV: KV is also the name of a binding",
			"w.toml:6: vars.bad name: \"bad name\" is not a valid var name",
		}},
		{"array of tables", `name = "w"
main = "w.wasm"

[[kv_namespaces]]
binding = "A"
id = "1"

[[kv_namespaces]]
binding = "B"
id = 2
`, []string{"w.toml:10: kv_namespaces[1].id: must be a string, not an integer"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("w.toml", []byte(c.text))
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("got %v, want *Error", err)
			}
			if len(e.Diagnostics) != len(c.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(e.Diagnostics), len(c.want), err)
			}
			for i, w := range c.want {
				if got := e.Diagnostics[i].String(); !strings.HasPrefix(got, w) {
					t.Errorf("problem %d: got %q, want prefix %q", i, got, w)
				}
			}
		})
	}
}

func TestParse_Warnings(t *testing.T) {
	c, err := Parse("w.toml", []byte(`name = "w"
main = "w.wasm"
workers_dev = true
kv_namespaces = [{ binding = "K", id = "1", preview_id = "2" }]
[triggers]
crons = ["* * * * *"]
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range c.Warnings {
		got = append(got, w.String())
	}
	want := []string{
		"w.toml:3: warning: workers_dev: dohost does not support it yet; ignored",
		"w.toml:4: warning: kv_namespaces[0].preview_id: dohost has no preview mode; ignored",
		"w.toml:5: warning: triggers: dohost does not support it yet; ignored",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoad_MissingModule(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "does-not-exist.toml"))
	if err == nil || !strings.Contains(err.Error(), "does-not-exist.toml") {
		t.Errorf("got %v", err)
	}
}

func TestLocate(t *testing.T) {
	lines := locate(`# comment
name = "w" # trailing
"quoted.key" = 1
[a.b]
c = { d = 1, e = [1, 2] }
s = """multi
line = 3
"""
[[arr]]
x = 1
[[arr]]
x = 2
inline = [
  { k = 1 },
  { k = 2 }, # comment
]
`)
	want := map[string]int{
		"name": 2, "quoted.key": 3, "a.b": 4, "a.b.c": 5, "a.b.c.d": 5, "a.b.c.e": 5,
		"a.b.s": 6, "arr[0]": 9, "arr[0].x": 10, "arr[1].x": 12, "arr[1].inline[0].k": 14, "arr[1].inline[1].k": 15,
	}
	for k, l := range want {
		if lines[k] != l {
			t.Errorf("line of %s: got %d, want %d", k, lines[k], l)
		}
	}
	if _, ok := lines["a.b.line"]; ok {
		t.Errorf("found a key inside a multi-line string")
	}
}

// FuzzParse: no input makes Parse panic, and every failure is an *Error
// with at least one diagnostic.
func FuzzParse(f *testing.F) {
	f.Add(seed)
	f.Add("name = \"w\"\nmain = \"w.wasm\"\n[[migrations]]\ntag = 1\n")
	f.Add("a = [ { b = \"\"\"x\n\"\"\" } ]\n[x.'y'.\"z\"]\n")
	f.Fuzz(func(t *testing.T, text string) {
		_ = locate(text)
		c, err := Parse("f.toml", []byte(text))
		if err != nil {
			e, ok := err.(*Error)
			if !ok || len(e.Diagnostics) == 0 {
				t.Fatalf("error %v is not an *Error with diagnostics", err)
			}
			return
		}
		if c.Name == "" || c.Main == "" {
			t.Fatalf("accepted a config without name or main: %+v", c)
		}
	})
}

func TestParse_RoutesAndLimits(t *testing.T) {
	c, err := Parse("w.toml", []byte(`name = "w"
main = "w.wasm"
routes = [
  "api.example.com/*",
  { pattern = "*.example.com/app/*", zone_name = "example.com" },
  { pattern = "shop.example.org", custom_domain = true },
  "*/health",
]
[limits]
memory_mb = 16
max_request_bytes = 1000
max_response_bytes = 2000
max_queue = 5
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Routes) != 4 {
		t.Fatalf("routes %+v", c.Routes)
	}
	l := c.Limits
	if l.Memory != 16<<20 || l.RequestBody != 1000 || l.ResponseBody != 2000 || l.Queue != 5 || l.CPU != DefaultLimits.CPU {
		t.Errorf("limits %+v", l)
	}
	cases := []struct {
		route      int
		host, path string
		want       bool
	}{
		{0, "api.example.com", "/", true},
		{0, "API.example.com", "/x/y", true},
		{0, "example.com", "/", false},
		{1, "a.example.com", "/app/x", true},
		{1, "a.example.com", "/other", false},
		{1, "example.com", "/app/x", false}, // "*.example.com" needs a subdomain
		{2, "shop.example.org", "/anything", true},
		{3, "whatever", "/health", true},
		{3, "whatever", "/health/x", false},
	}
	for _, k := range cases {
		if got := c.Routes[k.route].Matches(k.host, k.path); got != k.want {
			t.Errorf("route %q on %s%s: got %v, want %v", c.Routes[k.route].Pattern, k.host, k.path, got, k.want)
		}
	}
	if a, b := c.Routes[0].Specificity(), c.Routes[1].Specificity(); !less(b, a) {
		t.Errorf("exact host should beat a wildcard: %v vs %v", a, b)
	}

	_, err = Parse("w.toml", []byte(`name = "w"
main = "w.wasm"
route = "example.com"
routes = ["a*b.com/*", "x.com/a*b", 7]
[limits]
memory_mb = 0
max_queue = -1
`))
	for _, want := range []string{
		`w.toml:3: route: "example.com": a route pattern is host/path`,
		`w.toml:4: routes[0]: "a*b.com/*": host "a*b.com": only a leading '*' is allowed`,
		`w.toml:4: routes[1]: "x.com/a*b": path "/a*b": only a trailing '*' is allowed`,
		`w.toml:4: routes[2]: must be a pattern string or a table with pattern, not an integer`,
		`w.toml:6: limits.memory_mb: 0 is out of range 1-4096`,
		`w.toml:7: limits.max_queue: -1 is out of range`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors %v\nwant a line %s", err, want)
		}
	}
}

func less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func TestRoute_Within(t *testing.T) {
	for _, c := range []struct {
		route, grant string
		want         bool
	}{
		{"acme.example/*", "acme.example/*", true},
		{"acme.example/api/*", "acme.example/*", true},
		{"acme.example/api", "acme.example/*", true},
		{"shop.acme.example/*", "*.acme.example/*", true},
		{"*.shop.acme.example/x/*", "*.acme.example/*", true},
		{"*.example/*", "*.acme.example/*", false},
		{"acme.example/*", "acme.example/api/*", false},
		{"other.example/*", "acme.example/*", false},
		{"*/*", "acme.example/*", false},
		{"acme.example/a", "acme.example/a", true},
		{"acme.example/a*", "acme.example/a", false},
		{"evilacme.example/*", "*.acme.example/*", false},
	} {
		r, err := ParseRoute(c.route)
		if err != nil {
			t.Fatal(err)
		}
		g, err := ParseRoute(c.grant)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Within(g); got != c.want {
			t.Errorf("%s within %s: %v, want %v", c.route, c.grant, got, c.want)
		}
	}
}
