// probe-as is the probe test guest (testdata/guests/probe) through the
// AssemblyScript SDK: the same paths, the same answers, so that the host's
// tests run one table of checks on every language's build. It serves
// every path of the Go probe but those about Go itself (sandbox, chatty,
// log's stdout); panic is a failure here.

import * as dohost from "../../../guests/assemblyscript/dohost";
export {
  dohost_abi_v1, dohost_worker_fetch, dohost_classes, dohost_object_new, dohost_object_fetch, dohost_object_alarm,
} from "../../../guests/assemblyscript/dohost";

import { Builder, Request, Response, bytes, text, storage } from "../../../guests/assemblyscript/dohost";

const KV = new dohost.KVNamespace("KV");
const PROBE = new dohost.DurableObjectNamespace("PROBE");
const OTHER = new dohost.DurableObjectNamespace("OTHER");
const OK = '"ok"';

function json(status: i32, body: string): Response {
  return Response.json(status, bytes(body));
}

function jstr(b: Uint8Array): string {
  return text(new Builder().json(b).bytes());
}

const codeNames: string[] = [
  "ok", "not found", "bad pointer", "bad encoding", "no such binding", "too large", "invalid argument",
  "call cycle", "object error", "bad state", "overloaded", "timeout", "internal error", "guest error",
];

// errorResponse reports the last host call's error as the Go probe does:
// 502 with its code, the code's name and the host's message.
function errorResponse(): Response {
  const e = dohost.lastError()!;
  const name = e.code >= 0 && e.code < codeNames.length ? codeNames[e.code] : "?";
  return json(502, '{"code":' + e.code.toString() + ',"codeName":' + jstr(bytes(name)) + ',"message":' + jstr(bytes(e.message)) + "}");
}

// failCall fails the handler with the host's message for the last call.
function failCall(): Response | null {
  dohost.fail(dohost.lastError()!.message);
  return null;
}

function failWith(msg: string): Response | null {
  dohost.fail(msg);
  return null;
}

// path is the request's path without a leading /p segment.
function path(req: Request): string {
  const p = req.path;
  return p.startsWith("/p/") ? p.substring(2) : p;
}

function q(req: Request, name: string): string {
  const v = req.query(name);
  return v == null ? "" : v;
}

// atoi parses as Go's strconv.Atoi, 0 when it fails.
function atoi(s: string): i64 {
  let i = 0;
  let neg = false;
  if (s.length > 0 && (s.charCodeAt(0) == 0x2d || s.charCodeAt(0) == 0x2b)) {
    neg = s.charCodeAt(0) == 0x2d;
    i = 1;
  }
  if (i == s.length) return 0;
  let v: i64 = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return 0;
    v = v * 10 + (c - 0x30);
  }
  return neg ? -v : v;
}

function two(v: i64): string {
  return v < 10 ? "0" + v.toString() : v.toString();
}

function rfc3339(secs: u64): string {
  if (secs == 0) return '"0001-01-01T00:00:00Z"';
  const days = <i64>(secs / 86400), rem = <i64>(secs % 86400);
  const z = days + 719468, era = z / 146097, doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  const d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return '"' + y.toString() + "-" + two(m) + "-" + two(d) + "T" + two(rem / 3600) + ":" + two((rem / 60) % 60) + ":" + two(rem % 60) + 'Z"';
}

function base64(b: Uint8Array): string {
  const tab = bytes("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
  const out = new Builder();
  for (let i = 0; i < b.length; i += 3) {
    const v = (<u32>b[i] << 16) | (i + 1 < b.length ? <u32>b[i + 1] << 8 : 0) | (i + 2 < b.length ? <u32>b[i + 2] : 0);
    out.byte(tab[(v >> 18) & 63]).byte(tab[(v >> 12) & 63]);
    out.byte(i + 1 < b.length ? tab[(v >> 6) & 63] : 0x3d);
    out.byte(i + 2 < b.length ? tab[v & 63] : 0x3d);
  }
  return text(out.bytes());
}

function repeat(c: u8, n: i64): Uint8Array {
  const b = new Uint8Array(<i32>(n > 0 ? n : 0));
  b.fill(c);
  return b;
}

function kvList(req: Request): Response {
  const l = KV.list(q(req, "prefix"), q(req, "cursor"), <u32>atoi(q(req, "limit")));
  if (l == null) return errorResponse();
  const keys: string[] = [];
  for (let i = 0; i < l.keys.length; i++) {
    const k = l.keys[i];
    const meta = k.metadata.length == 0 ? "null" : '"' + base64(k.metadata) + '"';
    keys.push('{"Name":' + jstr(bytes(k.name)) + ',"Expiration":' + rfc3339(k.expiration) + ',"Metadata":' + meta + "}");
  }
  return json(200, '{"Keys":[' + keys.join(",") + '],"ListComplete":' + (l.listComplete ? "true" : "false") + ',"Cursor":' + jstr(bytes(l.cursor)) + "}");
}

// echo answers with the request as the handler sees it, as the Go probe
// does: method, URL, headers (lower-case names, sorted, each name's values
// in order: as the record has them) and body (base64).
function echo(req: Request): Response {
  const hs: string[] = [];
  for (let i = 0; i < req.headers.length; i++) hs.push("[" + jstr(bytes(req.headers[i].name)) + "," + jstr(bytes(req.headers[i].value)) + "]");
  return json(200, '{"body":"' + base64(req.body) + '","headers":[' + hs.join(",") + '],"method":' + jstr(bytes(req.method)) + ',"url":' + jstr(bytes(req.url)) + "}");
}

function fetch(req: Request): Response | null {
  const p = path(req);
  if (p == "/echo" || p.startsWith("/echo/")) return echo(req);
  if (p == "/worker/fail") return failWith("the probe worker fails with a secret: " + q(req, "secret"));
  if (p == "/worker/panic") return failWith("the probe worker panics with a secret: " + q(req, "secret"));
  if (p == "/worker/storage") {
    storage.get(bytes("k"));
    return dohost.lastError() != null ? errorResponse() : json(200, '"no error"');
  }
  if (p == "/stub/badheader") {
    const id = PROBE.idFromName(bytes("b"));
    if (id == null) return failCall();
    const r = new Request("GET", "http://probe/obj/count");
    r.headers.push(new dohost.Header("Bad Name", "x"));
    return PROBE.fetch(id, r) == null ? errorResponse() : json(200, '"no error"');
  }
  if (p == "/env") {
    const v = dohost.envVar(q(req, "name"));
    if (v != null) return json(200, jstr(bytes(v)));
    return dohost.lastError() == null ? json(404, "null") : failCall();
  }
  if (p == "/kv/get") {
    const v = KV.get(bytes(q(req, "key")));
    if (v != null) return json(200, jstr(v));
    return dohost.lastError() == null ? json(404, "null") : failCall();
  }
  if (p == "/kv/put") {
    const o = new dohost.PutOptions();
    o.expirationTtl = <u64>atoi(q(req, "ttl"));
    o.metadata = bytes(q(req, "meta"));
    return KV.put(bytes(q(req, "key")), bytes(q(req, "value")), o) ? json(200, OK) : errorResponse();
  }
  if (p == "/kv/putget") {
    if (!KV.put(bytes(q(req, "key")), bytes(q(req, "value")))) return failCall();
    const v = KV.get(bytes(q(req, "key")));
    if (v == null && dohost.lastError() != null) return failCall();
    return new Response(200, v == null ? new Uint8Array(0) : v);
  }
  if (p == "/kv/delete") return KV.delete(bytes(q(req, "key"))) ? json(200, OK) : errorResponse();
  if (p == "/kv/list") return kvList(req);
  if (p == "/kv/nobinding") {
    new dohost.KVNamespace("NOPE").get(bytes("x"));
    return dohost.lastError() != null ? errorResponse() : json(200, OK);
  }
  if (p == "/id/name" || p == "/id/unique" || p == "/id/parse") {
    const id = p == "/id/name" ? PROBE.idFromName(bytes(q(req, "name"))) : p == "/id/unique" ? PROBE.newUniqueId() : PROBE.idFromString(q(req, "id"));
    if (id != null) return json(200, jstr(bytes(id)));
    return p == "/id/parse" ? errorResponse() : failCall();
  }
  if (p.startsWith("/byid/")) {
    const id = PROBE.idFromString(q(req, "id"));
    if (id == null) return errorResponse();
    const resp = PROBE.fetch(id, new Request(req.method, "http://probe/obj/" + p.substring(6) + "?" + req.rawQuery));
    return resp != null ? resp : errorResponse();
  }
  if (p.startsWith("/obj/")) {
    const ns = q(req, "ns") == "other" ? OTHER : PROBE;
    const id = ns.idFromName(bytes(q(req, "name")));
    if (id == null) return failCall();
    const resp = ns.fetch(id, req);
    return resp != null ? resp : errorResponse();
  }
  return Response.text(404, "no route " + p);
}

function stored(key: string): i64 {
  const v = storage.get(bytes(key));
  return v == null ? 0 : atoi(text(v));
}

@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: u32): void;

class Probe extends dohost.DurableObject {
  count: i64 = 0;
  ctor: Uint8Array | null = null; // what the constructor read from storage
  ok: bool = true;
  constructor(public info: dohost.ObjectInfo) {
    super();
    // Read storage before the first request; count the starts.
    this.ctor = storage.get(bytes("starts"));
    if (this.ctor == null && dohost.lastError() != null) this.ok = false;
    const n = this.ctor == null ? 0 : atoi(text(this.ctor!));
    if (!storage.put(bytes("starts"), bytes((n + 1).toString()))) this.ok = false;
  }

  storageOp(op: string, req: Request): Response | null {
    let key = bytes(q(req, "key"));
    let value = bytes(q(req, "value"));
    if (atoi(q(req, "keysize")) > 0) key = repeat(0x6b, atoi(q(req, "keysize")));
    if (atoi(q(req, "size")) > 0) value = repeat(0x76, atoi(q(req, "size")));
    if (op == "st/get") {
      const v = storage.get(key);
      if (v == null && dohost.lastError() != null) return errorResponse();
      return json(200, '{"found":' + (v != null ? "true" : "false") + ',"value":' + jstr(v == null ? new Uint8Array(0) : v) + "}");
    }
    if (op == "st/put") return storage.put(key, value) ? json(200, OK) : errorResponse();
    if (op == "st/getmulti") {
      const names = q(req, "keys").split(",");
      const keys: Uint8Array[] = [];
      for (let i = 0; i < names.length; i++) keys.push(bytes(names[i]));
      const found: bool[] = [], values: Uint8Array[] = [];
      if (!storage.getMulti(keys, found, values)) return errorResponse();
      // The keys found, in key order as Go's map encoding has them, once each.
      const seen: string[] = [];
      const fields = new Map<string, string>();
      for (let i = 0; i < names.length; i++) {
        if (found[i] && !fields.has(names[i])) {
          fields.set(names[i], jstr(values[i]));
          seen.push(names[i]);
        }
      }
      seen.sort((a: string, b: string): i32 => (a < b ? -1 : a > b ? 1 : 0));
      const parts: string[] = [];
      for (let i = 0; i < seen.length; i++) parts.push(jstr(bytes(seen[i])) + ":" + fields.get(seen[i]));
      return json(200, "{" + parts.join(",") + "}");
    }
    if (op == "st/putmulti") {
      const n = atoi(q(req, "n"));
      const prefix = q(req, "prefix");
      const entries: dohost.Entry[] = [];
      for (let i: i64 = 0; i < n; i++) {
        let d = i.toString();
        while (d.length < 4) d = "0" + d;
        entries.push(new dohost.Entry(bytes(prefix + d), value));
      }
      return storage.putMulti(entries) ? json(200, OK) : errorResponse();
    }
    if (op == "st/delete") {
      const existed = storage.del(key);
      if (!existed && dohost.lastError() != null) return errorResponse();
      return json(200, existed ? "true" : "false");
    }
    if (op == "st/deletemulti") {
      const names = q(req, "keys").split(",");
      const keys: Uint8Array[] = [];
      for (let i = 0; i < names.length; i++) keys.push(bytes(names[i]));
      const n = storage.deleteMulti(keys);
      return n >= 0 ? json(200, n.toString()) : errorResponse();
    }
    if (op == "st/list" || op == "st/count") {
      const count = op == "st/count";
      const o = new dohost.ListOptions();
      o.prefix = bytes(q(req, "prefix"));
      o.start = bytes(q(req, "start"));
      if (q(req, "startAfter").length > 0) {
        o.start = bytes(q(req, "startAfter"));
        o.startAfter = true;
      }
      if (q(req, "end").length > 0) o.end = bytes(q(req, "end"));
      o.reverse = !count && q(req, "reverse").length > 0;
      o.keysOnly = count || q(req, "keysOnly").length > 0;
      o.limit = count ? 0 : <u32>atoi(q(req, "limit"));
      const es = storage.list(o);
      if (es == null) return errorResponse();
      if (count) return json(200, es.length.toString());
      const items: string[] = [];
      for (let i = 0; i < es.length; i++) items.push("[" + jstr(es[i].key) + "," + jstr(es[i].value) + "]");
      return json(200, "[" + items.join(",") + "]");
    }
    if (op == "st/deleteall") return storage.deleteAll() ? json(200, OK) : errorResponse();
    if (op == "st/txn") {
      if (!storage.txnBegin()) return errorResponse();
      if (!storage.put(key, value)) {
        const msg = dohost.lastError()!.message;
        storage.txnRollback();
        return json(409, jstr(bytes(msg)));
      }
      if (q(req, "fail").length > 0) {
        storage.txnRollback();
        return json(409, jstr(bytes("the transaction fails on purpose")));
      }
      return storage.txnCommit() ? json(200, OK) : errorResponse();
    }
    if (op == "st/nested") {
      if (!storage.txnBegin()) return errorResponse();
      storage.put(bytes("outer"), bytes("kept"));
      storage.txnBegin();
      storage.put(bytes("inner"), bytes("dropped"));
      storage.txnRollback(); // the inner transaction fails
      return storage.txnCommit() ? json(200, OK) : errorResponse();
    }
    if (op == "st/putexit") {
      if (!storage.put(key, bytes("written-before-exit"))) return failCall();
      proc_exit(5);
      unreachable();
    }
    if (op == "st/ctor") {
      const c = this.ctor;
      return json(200, '{"found":' + (c != null ? "true" : "false") + ',"read":' + jstr(c == null ? new Uint8Array(0) : c) + "}");
    }
    if (op == "alarm/set") return storage.setAlarm(dohost.nowMs() + <u64>atoi(q(req, "in"))) ? json(200, OK) : errorResponse();
    if (op == "alarm/get") {
      const t = storage.getAlarm();
      if (t < 0) return dohost.lastError() == null ? json(200, "null") : errorResponse();
      return json(200, t.toString());
    }
    if (op == "alarm/delete") return storage.deleteAlarm() ? json(200, OK) : errorResponse();
    if (op == "alarm/runs") return json(200, '{"lastRetry":' + stored("alarmretry").toString() + ',"runs":' + stored("alarmruns").toString() + "}");
    return Response.text(404, "no storage op " + op);
  }

  fetch(req: Request): Response | null {
    if (!this.ok) return failWith("the constructor's storage calls failed");
    this.count++;
    const p = path(req);
    const op = p.startsWith("/obj/") ? p.substring(5) : p;
    if (op.startsWith("st/") || op.startsWith("alarm/")) return this.storageOp(op, req);
    const name = this.info.hasName ? this.info.name : "";
    if (op == "echo" || op.startsWith("echo/")) return echo(req);
    if (op == "count") return json(200, this.count.toString());
    if (op == "info") {
      return json(200, '{"hasName":' + (this.info.hasName ? "true" : "false") + ',"id":' + jstr(bytes(this.info.id)) + ',"name":' + jstr(bytes(name)) + "}");
    }
    if (op == "panic" || op == "fail") return failWith("probe " + op + "s on request " + this.count.toString());
    if (op == "exit") {
      proc_exit(3);
      unreachable();
    }
    if (op == "writeexit") {
      if (!KV.put(bytes(q(req, "key")), bytes("written-before-exit"))) return failCall();
      proc_exit(4);
      unreachable();
    }
    if (op == "kvput") return KV.put(bytes(q(req, "key")), bytes(q(req, "value"))) ? json(200, OK) : failCall();
    if (op == "busy") {
      // Holds the object's turn for ms milliseconds, computing.
      const until = dohost.nowMs() + <u64>atoi(q(req, "ms"));
      while (dohost.nowMs() < until) {}
      return json(200, "\"busy\"");
    }
    if (op == "sleep") {
      // Waits ms milliseconds, holding the object's turn.
      dohost.sleepMs(<u32>atoi(q(req, "ms")));
      return json(200, "\"slept\"");
    }
    if (op == "call") {
      const chain = q(req, "chain");
      if (chain.length == 0) return json(200, "[" + jstr(bytes(name)) + "]");
      const comma = chain.indexOf(",");
      const next = comma < 0 ? chain : chain.substring(0, comma);
      const rest = comma < 0 ? "" : chain.substring(comma + 1);
      const id = PROBE.idFromName(bytes(next));
      if (id == null) return failCall();
      const resp = PROBE.fetch(id, new Request("GET", "http://probe/obj/call?chain=" + rest));
      return resp != null ? resp : errorResponse();
    }
    if (op == "log") {
      dohost.log(dohost.LOG_INFO, q(req, "msg"));
      return json(200, OK);
    }
    if (op == "headers") {
      // n headers of growing values, and one name given twice.
      const r = new Response(200, bytes("h"));
      const n = atoi(q(req, "n"));
      for (let i: i64 = 0; i < n; i++) {
        let d = i.toString();
        while (d.length < 3) d = "0" + d;
        r.withHeader("x-h-" + d, "v".repeat(<i32>(i % 50)));
      }
      return r.withHeader("x-rep", "1").withHeader("x-rep", "2");
    }
    if (op == "big") return new Response(200, repeat(0, atoi(q(req, "n"))));
    return Response.text(404, "no object op " + req.path);
  }

  // alarm counts its runs in storage, and fails while alarmfail is above
  // 0; while alarmrearm is, it re-arms for the time it ran for.
  alarm(info: dohost.AlarmInfo): bool {
    if (!storage.put(bytes("alarmruns"), bytes((stored("alarmruns") + 1).toString()))) return false;
    if (!storage.put(bytes("alarmretry"), bytes(info.retryCount.toString()))) return false;
    const f = stored("alarmfail");
    if (f > 0) {
      storage.put(bytes("alarmfail"), bytes((f - 1).toString()));
      dohost.fail("alarm fails on purpose (" + (f - 1).toString() + " more)");
      return false;
    }
    const r = stored("alarmrearm");
    if (r > 0) {
      const at = storage.getAlarm();
      if (at < 0) {
        dohost.fail("alarm/get in the alarm handler found no alarm");
        return false;
      }
      storage.put(bytes("alarmrearm"), bytes((r - 1).toString()));
      return storage.setAlarm(<u64>at);
    }
    return true;
  }
}

dohost.handle(fetch);
dohost.registerClass("Probe", (info: dohost.ObjectInfo): dohost.DurableObject => new Probe(info));
dohost.registerClass("Other", (info: dohost.ObjectInfo): dohost.DurableObject => new Probe(info));
