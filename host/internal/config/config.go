// Package config reads a worker's wrangler.toml into validated settings.
//
// It accepts the file a Workers user already has: name, main (here, the
// guest's .wasm), account_id, kv_namespaces, [durable_objects] bindings,
// [[migrations]] and [limits] cpu_ms, plus a [dohost] section for this
// host's own settings. Keys that wrangler knows but dohost does not support
// yet are warnings; any other unknown key is an error. Every problem in the
// file is reported at once, each as "file:line: key: what is wrong".
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// DefaultAccount is the account of a worker whose file names none.
const DefaultAccount = "default"

// Config is one worker's validated configuration.
type Config struct {
	File      string // the file it was read from, as given
	Name      string
	Main      string // absolute path of the guest module, or of a JavaScript Worker's entry file
	AccountID string

	KVNamespaces   []KVNamespace
	DurableObjects []DurableObject
	Routes         []Route
	Migrations     []Migration
	// Vars are [vars]: a string as its bytes, any other value as its
	// JSON, as Workers gives a parsed value.
	Vars map[string][]byte
	// JSONVars names the vars that were not strings, given as JSON.
	JSONVars map[string]bool
	Limits   Limits
	Host     Host

	// Warnings are problems that do not stop the worker: keys wrangler
	// knows that dohost ignores.
	Warnings []Diagnostic
}

// KVNamespace is one kv_namespaces entry.
type KVNamespace struct {
	Binding string
	ID      string
}

// DurableObject is one [durable_objects] bindings entry.
type DurableObject struct {
	Name      string // the binding name the guest uses
	ClassName string
}

// Route is one route or routes entry: the requests the worker serves,
// as a wrangler pattern "host/path", where the host may start with "*"
// (any subdomain, or "*" alone: any host) and the path may end with "*"
// (any path with that prefix). A custom domain is a bare host.
type Route struct {
	Pattern      string
	Host         string // without "*"; empty with HostWildcard: any host
	HostWildcard bool   // the host is a suffix: "*example.com", "*.example.com", "*"
	Path         string // without "*"
	PathWildcard bool   // the path is a prefix
}

// Matches reports whether a request to host (without port) and path
// matches the route.
func (r Route) Matches(host, path string) bool {
	host = strings.ToLower(host)
	if r.HostWildcard {
		if !strings.HasSuffix(host, r.Host) {
			return false
		}
	} else if host != r.Host {
		return false
	}
	if r.PathWildcard {
		return strings.HasPrefix(path, r.Path)
	}
	return path == r.Path
}

// Specificity orders routes: when several match a request, the one with
// the greatest value wins. An exact host beats a wildcard, a longer host
// suffix a shorter one; then a longer path, then an exact path.
func (r Route) Specificity() [3]int {
	host := len(r.Host) + 1
	if !r.HostWildcard {
		host = 1 << 20
	}
	exact := 0
	if !r.PathWildcard {
		exact = 1
	}
	return [3]int{host, len(r.Path), exact}
}

// Within reports whether every request r matches, g matches too: a route
// a tenant declares must be within one the operator granted its account.
func (r Route) Within(g Route) bool {
	if g.HostWildcard {
		if !strings.HasSuffix(r.Host, g.Host) {
			return false
		}
	} else if r.HostWildcard || r.Host != g.Host {
		return false
	}
	if g.PathWildcard {
		return strings.HasPrefix(r.Path, g.Path)
	}
	return !r.PathWildcard && r.Path == g.Path
}

// ParseRoute parses a wrangler route pattern ("host/path", with a leading
// '*' in the host and a trailing '*' in the path allowed).
func ParseRoute(pattern string) (Route, error) { return parseRoute(pattern, false) }

// parseRoute parses a wrangler route pattern.
func parseRoute(pattern string, customDomain bool) (Route, error) {
	p := strings.TrimPrefix(strings.TrimPrefix(pattern, "https://"), "http://")
	r := Route{Pattern: pattern}
	host, path, hasPath := strings.Cut(p, "/")
	if customDomain {
		if hasPath && path != "" {
			return r, fmt.Errorf("a custom domain is a host name, without a path")
		}
		path, hasPath = "*", true
	}
	if !hasPath {
		return r, fmt.Errorf("a route pattern is host/path, e.g. \"example.com/*\" or \"*/api/*\"")
	}
	if h, ok := strings.CutPrefix(host, "*"); ok {
		r.HostWildcard, host = true, h
	}
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h // ports do not route
	}
	host = strings.ToLower(host)
	if strings.ContainsAny(host, "*/ ") || (host == "" && !r.HostWildcard) {
		return r, fmt.Errorf("host %q: only a leading '*' is allowed", host)
	}
	r.Host = host
	path = "/" + path
	if pp, ok := strings.CutSuffix(path, "*"); ok {
		r.PathWildcard, path = true, pp
	}
	if strings.Contains(path, "*") {
		return r, fmt.Errorf("path %q: only a trailing '*' is allowed", path)
	}
	r.Path = path
	return r, nil
}

// Migration is one [[migrations]] entry, applied once, in order, when a
// worker is deployed: renamed and transferred classes keep their objects'
// storage, deleted ones lose it; new classes need no action because
// namespaces are created on first use.
type Migration struct {
	Tag                string
	NewClasses         []string
	DeletedClasses     []string
	RenamedClasses     []Rename
	TransferredClasses []Transfer
}

// Rename is one renamed_classes entry.
type Rename struct{ From, To string }

// Transfer is one transferred_classes entry: class From of the worker
// FromScript (of the same account) becomes class To of this one.
type Transfer struct{ From, FromScript, To string }

// Limits bound what one request may use.
type Limits struct {
	// CPU is the time one request may run in guest code: Workers' cpu_ms.
	// dohost measures it as wall time inside the guest.
	CPU time.Duration
	// StorageKey and StorageValue bound the keys and values of Durable
	// Object storage, in bytes (storage_key_bytes, storage_value_bytes):
	// Cloudflare's 2 KiB and 128 KiB, which a worker may raise.
	StorageKey, StorageValue int
	// Memory caps each instance's linear memory, in bytes (memory_mb).
	Memory int64
	// RequestBody and ResponseBody cap the bodies of the requests the
	// worker receives and of the responses its handlers give, in bytes
	// (max_request_bytes, max_response_bytes).
	RequestBody, ResponseBody int64
	// Queue caps the requests waiting for one object (max_queue); past it
	// a request fails at once (OVERLOADED to a calling guest; 503 with
	// Retry-After at the HTTP front, after the host's refusal pause).
	Queue int
	// Writes caps the bytes one handler call may write (max_write_bytes):
	// its batch is held in memory until the call commits.
	Writes int64
	// WebSocketMessage caps a WebSocket message, received or sent
	// (websocket_message_bytes): 1 MiB, as on Cloudflare.
	WebSocketMessage int64
	// WebSocketsPerObject caps the open WebSockets of one object
	// (websockets_per_object): 32,768, as on Cloudflare.
	WebSocketsPerObject int
}

// Cloudflare's limits on Durable Object storage, the least a worker may set.
const (
	MinStorageKey   = 2 << 10
	MinStorageValue = 128 << 10
)

// DefaultLimits are the limits of a worker that sets none.
var DefaultLimits = Limits{
	CPU: 30 * time.Second, StorageKey: MinStorageKey, StorageValue: MinStorageValue,
	Memory: 128 << 20, RequestBody: 32 << 20, ResponseBody: 32 << 20, Queue: 1000,
	Writes: 64 << 20, WebSocketMessage: 1 << 20, WebSocketsPerObject: 32768,
}

// Host holds the [dohost] section: settings of this host, not of Workers.
type Host struct {
	// WorkerInstances caps the pooled instances that run the Worker's fetch
	// handler at once.
	WorkerInstances int
	// MaxWebSockets caps the WebSockets open on the host, all objects
	// together (max_websockets); 0: the host's default. Where several
	// configs set it, the least holds.
	MaxWebSockets int
}

// DefaultHost is the [dohost] section of a file that has none.
var DefaultHost = Host{WorkerInstances: 256}

// Diagnostic is one problem found in a file.
type Diagnostic struct {
	File    string
	Line    int    // 0 when unknown
	Key     string // dotted path, e.g. durable_objects.bindings[0].class_name
	Message string
	Warning bool
}

func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.File)
	if d.Line > 0 {
		fmt.Fprintf(&b, ":%d", d.Line)
	}
	b.WriteString(": ")
	if d.Warning {
		b.WriteString("warning: ")
	}
	if d.Key != "" {
		b.WriteString(d.Key)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// Error is every error found in one file, in file order.
type Error struct {
	Diagnostics []Diagnostic
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Diagnostics))
	for i, d := range e.Diagnostics {
		lines[i] = d.String()
	}
	if len(lines) == 1 {
		return "config: " + lines[0]
	}
	return fmt.Sprintf("config: %d problems:\n  %s", len(lines), strings.Join(lines, "\n  "))
}

// Load reads and validates the file at path. The error, if any, is an *Error
// holding every problem found; the warnings are in the Config.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(c.Main); err != nil {
		d := Diagnostic{File: path, Key: "main", Message: fmt.Sprintf("guest module %s: %v", c.Main, errors.Unwrap(err))}
		d.Line = locate(string(data))["main"]
		return nil, &Error{Diagnostics: []Diagnostic{d}}
	}
	return c, nil
}

// Parse validates data, read from file; main is resolved relative to the
// directory of file. It does not touch the filesystem.
func Parse(file string, data []byte) (*Config, error) {
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		d := Diagnostic{File: file, Message: err.Error()}
		var pe toml.ParseError
		if errors.As(err, &pe) {
			d.Line = pe.Position.Line
			d.Message = pe.Message
			d.Key = pe.LastKey
		}
		return nil, &Error{Diagnostics: []Diagnostic{d}}
	}
	ch := &checker{file: file, lines: locate(string(data))}
	c := ch.config(raw)
	var errs []Diagnostic
	for _, d := range ch.diags {
		if d.Warning {
			c.Warnings = append(c.Warnings, d)
		} else {
			errs = append(errs, d)
		}
	}
	if len(errs) > 0 {
		return nil, &Error{Diagnostics: errs}
	}
	return c, nil
}

// wranglerKeys are top-level keys wrangler knows that dohost does not act on.
var wranglerKeys = map[string]string{
	"workers_dev": "", "preview_urls": "",
	"r2_buckets": "", "d1_databases": "", "services": "", "triggers": "",
	"build": "", "env": "", "placement": "", "observability": "", "send_email": "",
	"queues": "", "analytics_engine_datasets": "", "ai": "", "browser": "", "hyperdrive": "",
	"vectorize": "", "tail_consumers": "", "node_compat": "", "minify": "", "keep_vars": "",
	"logpush": "", "upload_source_maps": "", "assets": "", "site": "", "rules": "",
	"no_bundle": "", "find_additional_modules": "", "base_dir": "", "preserve_file_names": "",
	"dev": "", "usage_model": "", "jsx_factory": "", "jsx_fragment": "", "tsconfig": "",
	"wasm_modules": "", "text_blobs": "", "data_blobs": "", "unsafe": "", "mtls_certificates": "",
	"dispatch_namespaces": "", "version_metadata": "", "workflows": "", "pipelines": "",
	"secrets_store_secrets": "", "images": "", "alias": "", "define": "", "legacy_env": "",
	"send_metrics": "", "logfwdr": "", "containers": "", "keep_names": "", "compliance_region": "",
	"python_modules": "", "cloudchamber": "", "worker_loaders": "", "ratelimits": "",
	"vpc_services": "", "unsafe_hello_world": "", "$schema": "",
}

var (
	identRe  = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)
	scriptRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9_-]{0,62}[a-z0-9])?$`)
)

type checker struct {
	file  string
	lines map[string]int
	diags []Diagnostic
}

func (ch *checker) add(key string, warn bool, format string, args ...any) {
	line := ch.lines[key]
	// Fall back to the nearest enclosing key that has a line.
	for k := key; line == 0 && k != ""; {
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
		line = ch.lines[k]
	}
	ch.diags = append(ch.diags, Diagnostic{File: ch.file, Line: line, Key: key, Message: fmt.Sprintf(format, args...), Warning: warn})
}

func (ch *checker) errorf(key, format string, args ...any) { ch.add(key, false, format, args...) }
func (ch *checker) warnf(key, format string, args ...any)  { ch.add(key, true, format, args...) }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// str returns m[k] as a string; a missing required key or a non-string is an error.
func (ch *checker) str(m map[string]any, base, k string, required bool) string {
	v, ok := m[k]
	if !ok {
		if required {
			ch.errorf(join(base, k), "is required")
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		ch.errorf(join(base, k), "must be a string, not %s", typeName(v))
		return ""
	}
	if s == "" && required {
		ch.errorf(join(base, k), "must not be empty")
	}
	return s
}

func (ch *checker) strs(m map[string]any, base, k string) []string {
	v, ok := m[k]
	if !ok {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		ch.errorf(join(base, k), "must be an array of strings, not %s", typeName(v))
		return nil
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			ch.errorf(fmt.Sprintf("%s[%d]", join(base, k), i), "must be a string, not %s", typeName(e))
			continue
		}
		out = append(out, s)
	}
	return out
}

func (ch *checker) integer(m map[string]any, base, k string, min, max int64) (int64, bool) {
	v, ok := m[k]
	if !ok {
		return 0, false
	}
	n, ok := v.(int64)
	if !ok {
		ch.errorf(join(base, k), "must be an integer, not %s", typeName(v))
		return 0, false
	}
	if n < min || n > max {
		ch.errorf(join(base, k), "%d is out of range %d-%d", n, min, max)
		return 0, false
	}
	return n, true
}

// tables returns m[k] as an array of tables.
func (ch *checker) tables(m map[string]any, base, k string) []map[string]any {
	v, ok := m[k]
	if !ok {
		return nil
	}
	switch arr := v.(type) {
	case []map[string]any:
		return arr
	case []any:
		out := make([]map[string]any, 0, len(arr))
		for i, e := range arr {
			t, ok := e.(map[string]any)
			if !ok {
				ch.errorf(fmt.Sprintf("%s[%d]", join(base, k), i), "must be a table, not %s", typeName(e))
				continue
			}
			out = append(out, t)
		}
		return out
	}
	ch.errorf(join(base, k), "must be an array of tables, not %s", typeName(v))
	return nil
}

func (ch *checker) table(m map[string]any, k string) map[string]any {
	v, ok := m[k]
	if !ok {
		return nil
	}
	t, ok := v.(map[string]any)
	if !ok {
		ch.errorf(k, "must be a table, not %s", typeName(v))
		return nil
	}
	return t
}

// only reports keys of t (at base) outside known; wrangler-known keys in
// warn are warnings.
func (ch *checker) only(t map[string]any, base string, known []string, warn map[string]string) {
	for _, k := range sortedKeys(t) {
		if contains(known, k) {
			continue
		}
		if why, ok := warn[k]; ok {
			if why == "" {
				why = "dohost does not support it yet; ignored"
			}
			ch.warnf(join(base, k), "%s", why)
			continue
		}
		ch.errorf(join(base, k), "unknown key")
	}
}

// checkMigrations holds the migrations to the bindings: tags are unique,
// and no binding names a class the migrations delete or rename away.
func (ch *checker) checkMigrations(c *Config) {
	gone := map[string]string{} // class → the migration that took it away
	tags := map[string]bool{}
	for i, m := range c.Migrations {
		base := fmt.Sprintf("migrations[%d]", i)
		if tags[m.Tag] && m.Tag != "" {
			ch.errorf(base+".tag", "tag %q is used by an earlier migration", m.Tag)
		}
		tags[m.Tag] = true
		for _, n := range m.NewClasses {
			delete(gone, n)
		}
		for _, r := range m.RenamedClasses {
			gone[r.From] = fmt.Sprintf("migration %q renames it to %s", m.Tag, r.To)
			delete(gone, r.To)
		}
		for _, t := range m.TransferredClasses {
			delete(gone, t.To)
		}
		for _, d := range m.DeletedClasses {
			gone[d] = fmt.Sprintf("migration %q deletes it", m.Tag)
		}
	}
	for i, b := range c.DurableObjects {
		if why, ok := gone[b.ClassName]; ok {
			ch.errorf(fmt.Sprintf("durable_objects.bindings[%d].class_name", i), "binding %s names class %s, but %s", b.Name, b.ClassName, why)
		}
	}
}

// Bindings returns the names of the config's bindings (KV namespaces and
// Durable Object namespaces): the names a var or a secret may not take.
func (c *Config) Bindings() map[string]bool {
	bound := map[string]bool{}
	for _, b := range c.KVNamespaces {
		bound[b.Binding] = true
	}
	for _, b := range c.DurableObjects {
		bound[b.Name] = true
	}
	return bound
}

// vars reads [vars]: each name an identifier that no binding has; a
// string is its bytes, any other value its JSON.
func (ch *checker) vars(c *Config, t map[string]any) {
	if len(t) == 0 {
		return
	}
	bound := c.Bindings()
	c.Vars = map[string][]byte{}
	for _, name := range sortedKeys(t) {
		key := "vars." + name
		switch {
		case !identRe.MatchString(name):
			ch.errorf(key, "%q is not a valid var name (letters, digits, _ and $, not first a digit)", name)
			continue
		case bound[name]:
			ch.errorf(key, "%s is also the name of a binding", name)
			continue
		}
		switch v := t[name].(type) {
		case string:
			c.Vars[name] = []byte(v)
		default:
			b, err := json.Marshal(v)
			if err != nil {
				ch.errorf(key, "cannot be given as JSON: %v", err)
				continue
			}
			c.Vars[name] = b
			if c.JSONVars == nil {
				c.JSONVars = map[string]bool{}
			}
			c.JSONVars[name] = true
		}
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// IsScript reports whether main names a Worker in JavaScript or
// TypeScript (an entry file the host bundles) rather than a module.
func IsScript(main string) bool {
	switch strings.ToLower(filepath.Ext(main)) {
	case ".js", ".mjs", ".ts", ".mts", ".jsx", ".tsx":
		return true
	}
	return false
}

func (ch *checker) config(raw map[string]any) *Config {
	c := &Config{File: ch.file, AccountID: DefaultAccount, Limits: DefaultLimits, Host: DefaultHost}
	// compatibility_date and compatibility_flags, which wrangler requires,
	// are accepted and mean nothing here: a guest's behaviour is fixed by
	// the ABI version its module declares.
	ch.only(raw, "", []string{"name", "main", "account_id", "compatibility_date", "compatibility_flags", "kv_namespaces", "durable_objects", "migrations", "limits", "dohost", "route", "routes", "vars"}, wranglerKeys)

	c.Name = ch.str(raw, "", "name", true)
	if c.Name != "" && !scriptRe.MatchString(c.Name) {
		ch.errorf("name", "%q is not a valid worker name: use lower-case letters, digits, '-' and '_', at most 64", c.Name)
	}
	if m := ch.str(raw, "", "main", true); m != "" {
		if !strings.HasSuffix(m, ".wasm") && !IsScript(m) {
			ch.errorf("main", "%q must be a WebAssembly module (.wasm) or a Worker in JavaScript or TypeScript (.js, .mjs, .ts, .mts, .jsx, .tsx)", m)
		}
		if !filepath.IsAbs(m) {
			m = filepath.Join(filepath.Dir(ch.file), m)
		}
		if abs, err := filepath.Abs(m); err == nil {
			m = abs
		}
		c.Main = m
	}
	if _, ok := raw["account_id"]; ok {
		c.AccountID = ch.str(raw, "", "account_id", false)
		if c.AccountID == "" {
			ch.errorf("account_id", "must not be empty")
		}
	}

	bindings := map[string]string{} // binding name → key that defined it
	addBinding := func(name, key string) {
		if name == "" {
			return
		}
		if !identRe.MatchString(name) {
			ch.errorf(key, "%q is not a valid binding name: use letters, digits and '_', not starting with a digit", name)
			return
		}
		if prev, ok := bindings[name]; ok {
			ch.errorf(key, "binding %q is already defined at %s", name, prev)
			return
		}
		bindings[name] = key
	}

	for i, t := range ch.tables(raw, "", "kv_namespaces") {
		base := fmt.Sprintf("kv_namespaces[%d]", i)
		ch.only(t, base, []string{"binding", "id"}, map[string]string{
			"preview_id": "dohost has no preview mode; ignored",
			"remote":     "dohost has no remote mode; ignored",
		})
		kv := KVNamespace{Binding: ch.str(t, base, "binding", true), ID: ch.str(t, base, "id", true)}
		addBinding(kv.Binding, base+".binding")
		c.KVNamespaces = append(c.KVNamespaces, kv)
	}

	if do := ch.table(raw, "durable_objects"); do != nil {
		ch.only(do, "durable_objects", []string{"bindings"}, nil)
		for i, t := range ch.tables(do, "durable_objects", "bindings") {
			base := fmt.Sprintf("durable_objects.bindings[%d]", i)
			ch.only(t, base, []string{"name", "class_name"}, map[string]string{
				"script_name": "bindings to another worker's classes are not supported yet; the class must be in this module",
				"environment": "",
			})
			b := DurableObject{Name: ch.str(t, base, "name", true), ClassName: ch.str(t, base, "class_name", true)}
			addBinding(b.Name, base+".name")
			if b.ClassName != "" && !identRe.MatchString(b.ClassName) {
				ch.errorf(base+".class_name", "%q is not a valid class name", b.ClassName)
			}
			c.DurableObjects = append(c.DurableObjects, b)
		}
	}

	for i, t := range ch.tables(raw, "", "migrations") {
		base := fmt.Sprintf("migrations[%d]", i)
		ch.only(t, base, []string{"tag", "new_classes", "new_sqlite_classes", "deleted_classes", "renamed_classes", "transferred_classes"}, nil)
		m := Migration{Tag: ch.str(t, base, "tag", true)}
		m.NewClasses = append(ch.strs(t, base, "new_classes"), ch.strs(t, base, "new_sqlite_classes")...)
		m.DeletedClasses = ch.strs(t, base, "deleted_classes")
		for j, r := range ch.tables(t, base, "renamed_classes") {
			rb := fmt.Sprintf("%s.renamed_classes[%d]", base, j)
			ch.only(r, rb, []string{"from", "to"}, nil)
			m.RenamedClasses = append(m.RenamedClasses, Rename{From: ch.str(r, rb, "from", true), To: ch.str(r, rb, "to", true)})
		}
		for j, r := range ch.tables(t, base, "transferred_classes") {
			rb := fmt.Sprintf("%s.transferred_classes[%d]", base, j)
			ch.only(r, rb, []string{"from", "from_script", "to"}, nil)
			m.TransferredClasses = append(m.TransferredClasses, Transfer{
				From: ch.str(r, rb, "from", true), FromScript: ch.str(r, rb, "from_script", true), To: ch.str(r, rb, "to", true),
			})
		}
		c.Migrations = append(c.Migrations, m)
	}
	ch.checkMigrations(c)
	ch.vars(c, ch.table(raw, "vars"))

	addRoute := func(key string, v any) {
		pattern, custom := "", false
		switch e := v.(type) {
		case string:
			pattern = e
		case map[string]any:
			ch.only(e, key, []string{"pattern", "custom_domain"}, map[string]string{"zone_name": "", "zone_id": ""})
			pattern = ch.str(e, key, "pattern", true)
			if cd, ok := e["custom_domain"]; ok {
				if custom, ok = cd.(bool); !ok {
					ch.errorf(key+".custom_domain", "must be a boolean, not %s", typeName(cd))
				}
			}
		default:
			ch.errorf(key, "must be a pattern string or a table with pattern, not %s", typeName(v))
			return
		}
		if pattern == "" {
			return
		}
		r, err := parseRoute(pattern, custom)
		if err != nil {
			ch.errorf(key, "%q: %v", pattern, err)
			return
		}
		c.Routes = append(c.Routes, r)
	}
	if v, ok := raw["route"]; ok {
		addRoute("route", v)
	}
	if v, ok := raw["routes"]; ok {
		if arr, ok := v.([]any); ok {
			for i, e := range arr {
				addRoute(fmt.Sprintf("routes[%d]", i), e)
			}
		} else if arr, ok := v.([]map[string]any); ok {
			for i, e := range arr {
				addRoute(fmt.Sprintf("routes[%d]", i), e)
			}
		} else {
			ch.errorf("routes", "must be an array of patterns, not %s", typeName(v))
		}
	}

	if l := ch.table(raw, "limits"); l != nil {
		ch.only(l, "limits", []string{"cpu_ms", "storage_key_bytes", "storage_value_bytes", "memory_mb",
			"max_request_bytes", "max_response_bytes", "max_queue", "max_write_bytes",
			"websocket_message_bytes", "websockets_per_object"}, map[string]string{"subrequests": ""})
		if ms, ok := ch.integer(l, "limits", "cpu_ms", 1, 15*60*1000); ok {
			c.Limits.CPU = time.Duration(ms) * time.Millisecond
		}
		if n, ok := ch.integer(l, "limits", "storage_key_bytes", MinStorageKey, 64<<10); ok {
			c.Limits.StorageKey = int(n)
		}
		if n, ok := ch.integer(l, "limits", "storage_value_bytes", MinStorageValue, 32<<20); ok {
			c.Limits.StorageValue = int(n)
		}
		if n, ok := ch.integer(l, "limits", "memory_mb", 1, 4096); ok {
			c.Limits.Memory = n << 20
		}
		if n, ok := ch.integer(l, "limits", "max_request_bytes", 0, 1<<30); ok {
			c.Limits.RequestBody = n
		}
		if n, ok := ch.integer(l, "limits", "max_response_bytes", 0, 1<<30); ok {
			c.Limits.ResponseBody = n
		}
		if n, ok := ch.integer(l, "limits", "max_queue", 0, 1<<20); ok {
			c.Limits.Queue = int(n)
		}
		if n, ok := ch.integer(l, "limits", "max_write_bytes", 1<<20, 1<<30); ok {
			c.Limits.Writes = n
		}
		if n, ok := ch.integer(l, "limits", "websocket_message_bytes", 125, 32<<20); ok {
			c.Limits.WebSocketMessage = n
		}
		if n, ok := ch.integer(l, "limits", "websockets_per_object", 1, 1<<20); ok {
			c.Limits.WebSocketsPerObject = int(n)
		}
	}

	if h := ch.table(raw, "dohost"); h != nil {
		ch.only(h, "dohost", []string{"worker_instances", "max_websockets"}, nil)
		if n, ok := ch.integer(h, "dohost", "worker_instances", 1, 1<<16); ok {
			c.Host.WorkerInstances = int(n)
		}
		if n, ok := ch.integer(h, "dohost", "max_websockets", 1, 1<<24); ok {
			c.Host.MaxWebSockets = int(n)
		}
	}
	sort.SliceStable(ch.diags, func(i, j int) bool { return ch.diags[i].Line < ch.diags[j].Line })
	return c
}
