//go:build ignore

// gen writes the hostile guests' WAT sources and wrangler.toml files:
//
//	go run gen.go && make guests
//
// Most share one skeleton: a Worker that forwards every request to the
// object named by the last two characters of its URL, and an object class,
// Hostile, whose GET answers "new" or "had" (whether its storage already
// held its key, which it then writes) and whose POST misbehaves.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

type hostile struct {
	name, about string
	limits      string // [limits] lines
	imports     string // extra imports
	misbehave   string // the body of $misbehave
	extra       string // extra module fields
	raw         string // a whole module instead of the skeleton
	toml        string // top-level wrangler.toml lines (bindings)
	host        string // [dohost] lines
}

var cases = []hostile{
	{name: "loop", about: "POST runs an endless loop; cpu_ms = 200 stops it",
		limits: "cpu_ms = 200", misbehave: `(loop $forever (br $forever))`},
	{name: "membomb", about: "POST grows memory 1 MiB at a time, touching every page, until the 32 MiB limit refuses, then traps as most languages do on out-of-memory",
		limits: "memory_mb = 32",
		misbehave: `(local $old i32)
    (loop $more
      (local.set $old (memory.grow (i32.const 16)))
      (if (i32.ne (local.get $old) (i32.const -1))
        (then
          (memory.fill (i32.mul (local.get $old) (i32.const 65536)) (i32.const 0xAB) (i32.const 1048576))
          (br $more))))
    unreachable`},
	{name: "unreachable", about: "POST executes unreachable", misbehave: `unreachable`},
	{name: "recursion", about: "POST recurses without end",
		misbehave: `(call $deep (i32.const 0))`,
		extra:     `(func $deep (param i32) (call $deep (i32.add (local.get 0) (i32.const 1))))`},
	{name: "oob", about: "POST reads memory far out of bounds", misbehave: `(drop (i32.load (i32.const 0x7ffffff0)))`},
	{name: "garbage", about: "POST answers with bytes that are not a Response record, then with status 999, and returns as if it had answered",
		misbehave: `(drop (call $respond (i32.const 16) (i32.const 5)))
    (drop (call $respond (i32.const 240) (i32.const 12)))`,
		extra: `(data (i32.const 240) "\e7\03\00\00\00\00\00\00\00\00\00\00")`},
	{name: "badptr", about: "POST calls every host function with pointers and lengths outside its memory, and answers with the status codes it got back (one i32 each)",
		imports:   badptrImports(),
		misbehave: badptrBody()},
	{name: "ctorcalls", about: "_initialize calls host functions (outside any request: BAD_STATE); the constructor writes storage (allowed); GET /a answers with the two status codes (two i32)",
		raw: ctorcallsModule()},
	{name: "badimport", about: "imports functions the ABI does not have: refused at load", raw: `(module
  (import "dohost" "launch_missiles" (func (param i32) (result i32)))
  (import "env" "abort" (func))
  (memory (export "memory") 1)
  (func (export "dohost_abi_v1"))
  (func (export "dohost_worker_fetch") (param i32) (result i32) (i32.const 0)))`},
	{name: "noexports", about: "exports nothing: refused at load", raw: `(module (memory 1))`},
	{name: "kvflood", about: "POST writes a 25 MiB value to one KV key again and again, ignoring errors, until cpu_ms stops it: its write batch must stay within max_write_bytes",
		limits: "cpu_ms = 4000\nmemory_mb = 64\nmax_write_bytes = 33554432", toml: kvBinding,
		imports: `  (import "dohost" "kv_put" (func $kv_put (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
`,
		misbehave: `(drop (memory.grow (i32.const 448)))
    (loop $again
      (drop (call $kv_put (i32.const 48) (i32.const 2) (i32.const 32) (i32.const 1)
        (i32.const 0x100000) (i32.const 26214400) (i32.const 0) (i32.const 0)))
      (br $again))`,
		extra: `(data (i32.const 48) "KV")`},
	{name: "storageflood", about: "POST writes a 128 KiB value to one storage key again and again, ignoring errors, until cpu_ms stops it: its write batch must stay within max_write_bytes",
		limits: "cpu_ms = 5000\nmax_write_bytes = 8388608",
		misbehave: `(loop $again
      (drop (call $storage_put (i32.const 32) (i32.const 1) (i32.const 0x10000) (i32.const 131072)))
      (br $again))`},
	{name: "bigfill", about: "POST fills and copies 255 MiB with single memory.fill and memory.copy instructions, 32 of each in straight-line code (no loop and no call: nothing the fuel meter counts); cpu_ms = 200 stops it in the middle, because the host does large fills and copies a piece at a time, checking the clock between pieces; run to its end, it would return without a response",
		limits: "cpu_ms = 200\nmemory_mb = 256",
		misbehave: `(drop (memory.grow (i32.const 4092)))
` + strings.Repeat(`    (memory.fill (i32.const 0x100000) (i32.const 0xAB) (i32.const 0xFF00000))
    (memory.copy (i32.const 0x100000) (i32.const 0x8000000) (i32.const 0x7F00000))
`, 32) + `    ;; (and no response: nothing after the fills checks the clock)
   `},
	{name: "logflood", about: "POST writes 64 MiB without a newline to stdout, eight times: the log must hold at most a line of it",
		limits: "memory_mb = 128",
		imports: `  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
`,
		misbehave: `(local $i i32)
    (drop (memory.grow (i32.const 1040)))
    (memory.fill (i32.const 0x100000) (i32.const 0x78) (i32.const 67108864))
    (i32.store (i32.const 208) (i32.const 0x100000))
    (i32.store (i32.const 212) (i32.const 67108864))
    (loop $again
      (drop (call $fd_write (i32.const 1) (i32.const 208) (i32.const 1) (i32.const 216)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 8))))
    (drop (call $respond (i32.const 64) (i32.const 15)))`},
	{name: "kvgetloop", about: "POST writes a 25 MiB KV value, then reads it back again and again: host-call time counts against cpu_ms = 100, so the call is stopped there",
		limits: "cpu_ms = 100\nmemory_mb = 64", toml: kvBinding,
		imports: `  (import "dohost" "kv_put" (func $kv_put (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "kv_get" (func $kv_get (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
`,
		misbehave: `(drop (memory.grow (i32.const 448)))
    (drop (call $kv_put (i32.const 48) (i32.const 2) (i32.const 32) (i32.const 1)
      (i32.const 0x100000) (i32.const 26214400) (i32.const 0) (i32.const 0)))
    (loop $again
      (drop (call $kv_get (i32.const 48) (i32.const 2) (i32.const 32) (i32.const 1)
        (i32.const 0x100000) (i32.const 26214400) (i32.const 200)))
      (br $again))`,
		extra: `(data (i32.const 48) "KV")`},
	{name: "chain", about: "POST makes a new unique ID and sends the object a POST, which does the same: a chain without end of objects each waiting on the next, which the caps of live objects and of chained calls must stop",
		imports: `  (import "dohost" "ns_new_unique_id" (func $ns_new_unique_id (param i32 i32 i32 i32 i32) (result i32)))
`,
		misbehave: `(drop (call $ns_new_unique_id (i32.const 0) (i32.const 2) (i32.const 128) (i32.const 64) (i32.const 200)))
    (drop (call $stub_fetch (i32.const 0) (i32.const 2) (i32.const 128) (i32.const 64)
      (i32.const 256) (i32.const 21) (i32.const 131072) (i32.const 65536) (i32.const 200)))`,
		extra: `(data (i32.const 256) "\04\00\00\00POST\01\00\00\00x\00\00\00\00\00\00\00\00")`},
	{name: "tablebomb", about: "POST grows a table of funcrefs by a million elements at a time, ten times or until a grow fails: 8 MiB of host memory each, which the account's memory budget must bound",
		limits: "memory_mb = 1",
		misbehave: `(local $i i32)
    (block $done
      (loop $more
        (br_if $done (i32.eq (table.grow $t (ref.null func) (i32.const 1048576)) (i32.const -1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $more (i32.lt_u (local.get $i) (i32.const 10)))))
    (drop (call $respond (i32.const 64) (i32.const 15)))`,
		extra: `(table $t 0 funcref)`},
	{name: "memhog", about: "POST grows its memory 1 MiB at a time, touching every page, until a grow fails (memory_mb = 64), and keeps it: many such objects together must stay within the account's memory budget",
		limits: "memory_mb = 64",
		misbehave: `(local $old i32)
    (loop $more
      (local.set $old (memory.grow (i32.const 16)))
      (if (i32.ne (local.get $old) (i32.const -1))
        (then
          (memory.fill (i32.mul (local.get $old) (i32.const 65536)) (i32.const 0xAB) (i32.const 1048576))
          (br $more))))
    (drop (call $respond (i32.const 64) (i32.const 15)))`},
	{name: "alarmspin", about: "POST sets the object's alarm for now; the alarm handler loops without end (cpu_ms = 60000): many such objects must not hold the alarm handlers of other accounts",
		limits: "cpu_ms = 60000",
		imports: `  (import "dohost" "alarm_set" (func $alarm_set (param i32) (result i32)))
`,
		misbehave: `(drop (call $alarm_set (i32.const 208)))
    (drop (call $respond (i32.const 64) (i32.const 15)))`,
		extra: `(func (export "dohost_object_alarm") (param i32) (result i32) (loop $forever (br $forever)) (i32.const 0))`},
	{name: "alarmrearm", about: "POST sets the object's alarm for now; the alarm handler sets it for now again, every run: many such objects must run no more than their account's rate of alarms",
		imports: `  (import "dohost" "alarm_set" (func $alarm_set (param i32) (result i32)))
`,
		misbehave: `(drop (call $alarm_set (i32.const 208)))
    (drop (call $respond (i32.const 64) (i32.const 15)))`,
		extra: `(func (export "dohost_object_alarm") (param i32) (result i32) (drop (call $alarm_set (i32.const 208))) (i32.const 0))`},
	{name: "initloop", about: "_initialize loops without end: this worker fails to load, and a host with other workers serves them, answering 503 for this one",
		raw: `(module
  (memory (export "memory") 1)
  (func (export "_initialize") (loop $forever (br $forever)))
  (func (export "dohost_abi_v1"))
  (func (export "dohost_worker_fetch") (param i32) (result i32) (i32.const 13)))`},
	{name: "workerloop", about: "the Worker's POST loops without end (cpu_ms = 500 stops it); with 2 worker_instances and max_queue 2, a third waiting request is refused without waiting for an instance, and the loops end within twice cpu_ms however many requests wait",
		limits: "cpu_ms = 500\nmax_queue = 2", host: "worker_instances = 2", raw: workerloopModule},
}

// workerloopModule answers GET with "ok" and loops on POST, in the Worker.
const workerloopModule = `(module
  (import "dohost" "result_read" (func $result_read (param i32 i32) (result i32)))
  (import "dohost" "respond" (func $respond (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "\c8\00\00\00\00\00\00\00\02\00\00\00ok")
  (func (export "dohost_abi_v1"))
  (func (export "dohost_classes") (result i32)
    (drop (call $respond (i32.const 16) (i32.const 7)))
    (i32.const 0))
  (data (i32.const 16) "Hostile")
  (func (export "dohost_object_new") (param i32) (result i32) (i32.const 0))
  (func (export "dohost_object_fetch") (param i32) (result i32) (i32.const 13))
  (func (export "dohost_worker_fetch") (param $len i32) (result i32)
    (if (i32.gt_u (local.get $len) (i32.const 60000)) (then (return (i32.const 13))))
    (drop (call $result_read (i32.const 1024) (local.get $len)))
    (if (i32.eq (i32.load (i32.const 1024)) (i32.const 4)) ;; POST
      (then (loop $forever (br $forever))))
    (drop (call $respond (i32.const 64) (i32.const 14)))
    (i32.const 0)))`

const kvBinding = `kv_namespaces = [{ binding = "KV", id = "hostile-kv" }]`

func main() {
	for _, h := range cases {
		dir := h.name
		if err := os.MkdirAll(dir, 0o755); err != nil {
			panic(err)
		}
		src := h.raw
		if src == "" {
			src = skeleton(h)
		}
		head := fmt.Sprintf(";; testdata/hostile/%s: %s.\n;; Generated by gen.go; rebuild the .wasm with: make guests\n", h.name, h.about)
		write(filepath.Join(dir, "guest.wat"), head+src+"\n")
		top := ""
		if h.toml != "" {
			top = h.toml + "\n"
		}
		toml := fmt.Sprintf(`# A hostile guest: %s.
# Serve it by hand: dohost serve --config testdata/hostile/%s/wrangler.toml
name = "hostile-%s"
main = "guest.wasm"
`+top+`
[durable_objects]
bindings = [{ name = "NS", class_name = "Hostile" }]
`, h.about, h.name, h.name)
		if h.limits != "" {
			toml += "\n[limits]\n" + h.limits + "\n"
		}
		if h.host != "" {
			toml += "\n[dohost]\n" + h.host + "\n"
		}
		write(filepath.Join(dir, "wrangler.toml"), toml)
	}
	for _, b := range byteCases {
		os.MkdirAll(b.name, 0o755)
		write(filepath.Join(b.name, "guest.wasm"), b.bytes)
		write(filepath.Join(b.name, "wrangler.toml"), fmt.Sprintf(`# A hostile guest: %s; refused at load.
# Serve it by hand: dohost serve --config testdata/hostile/%s/wrangler.toml
name = "hostile-%s"
main = "guest.wasm"
`, b.about, b.name, b.name))
	}
}

// byteCases are hostile guests given as bytes rather than WAT: modules no
// assembler writes. Most were found by FuzzPrepare; a module's bytes must
// never take the host down.
var byteCases = []struct{ name, about, bytes string }{
	{"notwasm", "main is not WebAssembly", "this is a text file, not a WebAssembly module\n"},
	// The meter refuses their code, and wazero's validator, which was
	// then asked what is wrong, panicked on them (index out of range).
	{"validatorpanic", "bytes on which wazero's validator panics", validatorPanic},
	// A code section whose count of function bodies (861 million) the
	// meter once made room for before it checked it against the
	// section's 7 bytes: 41 GB, and the host died out of memory.
	{"hugecount", "a count of function bodies far over the bytes that hold them",
		"\x00asm\x01\x00\x00\x00\n\a\x9a\x9a\xe8\x9a\x03\x9a0"},
	// The same count in an element section: the meter refused it, and
	// handed the module to wazero to say why, whose decoder then made
	// room for the count.
	{"elemcount", "a count of element segments far over the bytes that hold them",
		"\x00asm\x01\x00\x00\x00\t\a\x9a\x9a\xe8\x9a\x03\x9a0"},
	// Two code sections, the first claiming 861 million bodies: the meter
	// read the second and copied the first as it was into the module it
	// gave wazero, whose decoder made room for them (62 GB).
	{"twocode", "two code sections, the first with a count far over its bytes",
		"\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00" +
			"\x0a\x07\x9a\x9a\xe8\x9a\x03\x9a\x30\x0a\x04\x01\x02\x00\x0b"},
}

// validatorPanic is testdata/hostile/validatorpanic/guest.wasm.
const validatorPanic = "\x00asm\x01\x00\x00\x00\x01$\a`\x02\x7f\x7f\x01\x7f`\x01\x7f\x01\x7f`\x00\x00`\x03\x7f\x7f\x7f\x01\x7f`\x00\x01\x7f`\x00\x01~`\x01\x7f\x02\x7f\x7f\x02\r\x01\x03000\x0500000\x00\x01\x03\x17\x16\x02\x00\x00\x00\x01\x00\x01\x03\x02\x01\x04\x05\x02\x04\x01\x06\x01\x01\x01\x02\x020\x04\x04\x01p\x000\x05\x03\x01\x000\x06\x10\x03\x7f\x01A0\v~\x01B0\vp\x00\xd2\x02\v\t\f\x02\x00A0\v\x0200\x03\x00\x010\n\xf2\x02\x16\t\x00A0A0A0\x00\v\a\x00A0A0x\v\a\x00A0A0x\v\a\x00A0A0x\v#\x010\x7f\x02@A02\x010\x00A0xA0A0C0000A0\x10\x160000000\v3\x010c\x030000000000000000000000000000000000000000000000\v\x1c\x0000000000000000000000000000\v\v\x00000000000\v\b\x00000000\v \x010c\x03000000000000000000000000000\v\x04\x0000\v\x04\x0000\v\t\x000000000\v\x05\x00000\v\a\x0000000\v\x12\x000000000000000000\v\a\x0000000\v2\x00000000000000000000000000000000000000000000000000\v\x15\x000000000000000000000\v\x03\x000\v\a\x0000000\v\x11\x00000000000000000\v\v\x16\x02\x00A0\v\x0500000\x00A\xe80\v\x0500000"

func write(path, s string) {
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		panic(err)
	}
}

// Memory layout of the skeleton: 0 "NS", 16 "Hostile", 32 "k", 64 and 96
// the "new" and "had" responses, 128 an object ID, 200 an out length,
// 4096 the request, 131072 the output of host calls.
func skeleton(h hostile) string {
	return `(module
  (import "dohost" "result_read" (func $result_read (param i32 i32) (result i32)))
  (import "dohost" "respond" (func $respond (param i32 i32) (result i32)))
  (import "dohost" "fail" (func $fail (param i32 i32) (result i32)))
  (import "dohost" "ns_id_from_name" (func $ns_id_from_name (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "stub_fetch" (func $stub_fetch (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "storage_get" (func $storage_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "storage_put" (func $storage_put (param i32 i32 i32 i32) (result i32)))
` + h.imports + `  (memory (export "memory") 4)
  (data (i32.const 0) "NS")
  (data (i32.const 16) "Hostile")
  (data (i32.const 32) "k")
  (data (i32.const 64) "\c8\00\00\00\00\00\00\00\03\00\00\00new")
  (data (i32.const 96) "\c8\00\00\00\00\00\00\00\03\00\00\00had")
  (func (export "dohost_abi_v1"))
  (func (export "dohost_classes") (result i32)
    (drop (call $respond (i32.const 16) (i32.const 7)))
    (i32.const 0))
  ;; The Worker: forward to the object named by the URL's last two
  ;; characters, and pass its error on as this handler's failure.
  (func (export "dohost_worker_fetch") (param $len i32) (result i32) (local $url i32)
    (if (i32.gt_u (local.get $len) (i32.const 65536)) (then (return (i32.const 13))))
    (drop (call $result_read (i32.const 4096) (local.get $len)))
    (local.set $url (i32.add (i32.const 4100) (i32.load (i32.const 4096))))
    (if (call $ns_id_from_name (i32.const 0) (i32.const 2)
          (i32.add (local.get $url) (i32.add (i32.const 2) (i32.load (local.get $url)))) (i32.const 2)
          (i32.const 128) (i32.const 64) (i32.const 200))
      (then (return (i32.const 13))))
    (if (call $stub_fetch (i32.const 0) (i32.const 2) (i32.const 128) (i32.const 64)
          (i32.const 4096) (local.get $len) (i32.const 131072) (i32.const 65536) (i32.const 200))
      (then
        (drop (call $fail (i32.const 131072) (i32.load (i32.const 200))))
        (return (i32.const 13))))
    (drop (call $respond (i32.const 131072) (i32.load (i32.const 200))))
    (i32.const 0))
  (func (export "dohost_object_new") (param i32) (result i32) (i32.const 0))
  ;; The object: POST misbehaves; GET answers whether its key was there, and writes it.
  (func (export "dohost_object_fetch") (param $len i32) (result i32)
    (if (i32.gt_u (local.get $len) (i32.const 65536)) (then (return (i32.const 13))))
    (drop (call $result_read (i32.const 4096) (local.get $len)))
    (if (i32.eq (i32.load (i32.const 4096)) (i32.const 4)) ;; a 4-letter method: POST
      (then (call $misbehave) (return (i32.const 0))))
    (if (i32.eqz (call $storage_get (i32.const 32) (i32.const 1) (i32.const 131072) (i32.const 64) (i32.const 200)))
      (then (drop (call $respond (i32.const 96) (i32.const 15))))
      (else (drop (call $respond (i32.const 64) (i32.const 15)))))
    (drop (call $storage_put (i32.const 32) (i32.const 1) (i32.const 32) (i32.const 1)))
    (i32.const 0))
  (func $misbehave
    ` + h.misbehave + `)
  ` + h.extra + `
)`
}

// The host functions badptr calls: name and number of i32 parameters.
var hostFuncs = []struct {
	name string
	n    int
}{
	{"log", 3}, {"kv_get", 7}, {"kv_put", 8}, {"kv_delete", 4}, {"kv_list", 10},
	{"ns_new_unique_id", 5}, {"ns_id_from_string", 7},
	{"storage_get_multi", 5}, {"storage_put_multi", 2}, {"storage_delete", 2},
	{"storage_delete_multi", 3}, {"storage_list", 5}, {"alarm_get", 1}, {"alarm_set", 1},
}

func badptrImports() string {
	var b strings.Builder
	for _, f := range hostFuncs {
		fmt.Fprintf(&b, "  (import \"dohost\" %q (func $%s (param%s) (result i32)))\n", f.name, f.name, strings.Repeat(" i32", f.n))
	}
	return b.String()
}

// badptrBody calls each host function with pointers and lengths outside
// its memory, storing each status code from offset 8204, and answers
// with them.
func badptrBody() string {
	type fn struct {
		name string
		n    int
	}
	all := []fn{{"result_read", 2}, {"respond", 2}, {"fail", 2}, {"ns_id_from_name", 7}, {"stub_fetch", 9},
		{"storage_get", 5}, {"storage_put", 4}}
	for _, f := range hostFuncs {
		all = append(all, fn{f.name, f.n})
	}
	var b strings.Builder
	b.WriteString("(local $at i32)\n    (local.set $at (i32.const 8204))\n")
	// Variant one: every argument 0x7fffff00, far past the end of memory.
	// Variant two: pointers at 0x10000, inside memory (and away from what
	// the skeleton keeps), every length 4 GiB; functions that take a
	// pointer without a length, which would be valid, are left out.
	for _, variant := range []string{"0x7fffff00", "0x10000"} {
		for _, f := range all {
			if variant == "0x10000" && (f.n == 1 || f.name == "result_read") {
				continue
			}
			b.WriteString("    (i32.store (local.get $at) (call $" + f.name)
			for i := 0; i < f.n; i++ {
				switch {
				case f.name == "log" && i == 0:
					b.WriteString(" (i32.const 1)") // a valid level
				case variant == "0x10000" && i%2 == 1:
					b.WriteString(" (i32.const -1)") // a length of 4 GiB
				default:
					b.WriteString(" (i32.const " + variant + ")")
				}
			}
			b.WriteString("))\n    (local.set $at (i32.add (local.get $at) (i32.const 4)))\n")
		}
	}
	// The response: status 200, no headers, body = the codes.
	b.WriteString(`    (i32.store (i32.const 8192) (i32.const 200))
    (i32.store (i32.const 8196) (i32.const 0))
    (i32.store (i32.const 8200) (i32.sub (local.get $at) (i32.const 8204)))
    (drop (call $respond (i32.const 8192) (i32.sub (local.get $at) (i32.const 8192))))`)
	return b.String()
}

func ctorcallsModule() string {
	return `(module
  (import "dohost" "result_read" (func $result_read (param i32 i32) (result i32)))
  (import "dohost" "respond" (func $respond (param i32 i32) (result i32)))
  (import "dohost" "storage_put" (func $storage_put (param i32 i32 i32 i32) (result i32)))
  (import "dohost" "ns_id_from_name" (func $id_from_name (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "dohost" "stub_fetch" (func $stub_fetch (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 4)
  (data (i32.const 0) "NS")
  (data (i32.const 16) "Hostile")
  (data (i32.const 32) "k")
  ;; 48: response header (status 200, no headers, an 8-byte body: the codes at 60 and 64)
  (data (i32.const 48) "\c8\00\00\00\00\00\00\00\08\00\00\00")
  (func (export "_initialize")
    (i32.store (i32.const 60) (call $storage_put (i32.const 32) (i32.const 1) (i32.const 32) (i32.const 1))))
  (func (export "dohost_abi_v1"))
  (func (export "dohost_classes") (result i32)
    (drop (call $respond (i32.const 16) (i32.const 7)))
    (i32.const 0))
  (func (export "dohost_worker_fetch") (param $len i32) (result i32)
    (if (i32.gt_u (local.get $len) (i32.const 65536)) (then (return (i32.const 13))))
    (drop (call $result_read (i32.const 4096) (local.get $len)))
    (if (call $id_from_name (i32.const 0) (i32.const 2) (i32.const 32) (i32.const 1) (i32.const 128) (i32.const 64) (i32.const 200))
      (then (return (i32.const 13))))
    (if (call $stub_fetch (i32.const 0) (i32.const 2) (i32.const 128) (i32.const 64)
          (i32.const 4096) (local.get $len) (i32.const 131072) (i32.const 65536) (i32.const 200))
      (then (return (i32.const 13))))
    (drop (call $respond (i32.const 131072) (i32.load (i32.const 200))))
    (i32.const 0))
  (func (export "dohost_object_new") (param i32) (result i32)
    (i32.store (i32.const 64) (call $storage_put (i32.const 32) (i32.const 1) (i32.const 32) (i32.const 1)))
    (i32.const 0))
  (func (export "dohost_object_fetch") (param i32) (result i32)
    (drop (call $respond (i32.const 48) (i32.const 20)))
    (i32.const 0))
)`
}
