// The AssemblyScript SDK for dohost guests (abi/ABI.md, version 1), shaped
// like the Workers API: KVNamespace, DurableObjectNamespace, a class per
// Durable Object, Request and Response.
//
// The entry file registers its handler and classes at the top level (it
// runs in _initialize) and re-exports the handlers:
//
//   import * as dohost from "../../assemblyscript/dohost";
//   export { dohost_abi_v1, dohost_worker_fetch, dohost_classes, dohost_object_new,
//            dohost_object_fetch, dohost_object_alarm } from "../../assemblyscript/dohost";
//   dohost.handle(fetch);
//   dohost.registerClass("Room", (info: dohost.ObjectInfo): dohost.DurableObject => new Room());
//
// AssemblyScript has no exceptions: a host call that fails returns null
// (or false), and lastError() says what failed, with the ABI's code and
// the host's message; NOT_FOUND is an answer, not an error. A handler
// fails by returning null after fail(message), as a Workers handler that
// throws. Keys, values and bodies are bytes (Uint8Array); bytes(s) makes
// them of a string. Build with `--exportStart _initialize --use abort=`.

import * as abi from "./abi";

export { abi };

// ---- Errors ----

/** A host call's failure: the ABI's status code and the host's message. */
export class HostError {
  constructor(public code: i32, public message: string) {}
}

let lastErr: HostError | null = null;

/** lastError is the failure of the last host call, or null if it succeeded. */
export function lastError(): HostError | null {
  return lastErr;
}

/** fail sets the message of a handler that fails (returns null). */
export function fail(message: string): void {
  const b = bytes(message);
  abi.fail(b.dataStart, b.length);
}

// ---- Bytes ----

/** bytes is s in UTF-8. */
export function bytes(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

/** text is b decoded from UTF-8. */
export function text(b: Uint8Array): string {
  return String.UTF8.decodeUnsafe(b.dataStart, b.length);
}

function equal(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  return memory.compare(a.dataStart, b.dataStart, a.length) == 0;
}

/** Builder grows a byte string: records, JSON, bodies. */
export class Builder {
  buf: Uint8Array = new Uint8Array(64);
  len: i32 = 0;

  private grow(n: i32): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    memory.copy(nb.dataStart, this.buf.dataStart, this.len);
    this.buf = nb;
  }
  byte(c: u8): Builder {
    this.grow(1);
    this.buf[this.len++] = c;
    return this;
  }
  add(b: Uint8Array): Builder {
    this.grow(b.length);
    memory.copy(this.buf.dataStart + this.len, b.dataStart, b.length);
    this.len += b.length;
    return this;
  }
  str(s: string): Builder {
    return this.add(bytes(s));
  }
  u32(v: u32): Builder {
    this.grow(4);
    store<u32>(this.buf.dataStart + this.len, v);
    this.len += 4;
    return this;
  }
  u64(v: u64): Builder {
    this.grow(8);
    store<u64>(this.buf.dataStart + this.len, v);
    this.len += 8;
    return this;
  }
  /** field appends a length-prefixed byte string. */
  field(b: Uint8Array): Builder {
    return this.u32(b.length).add(b);
  }
  int(v: i64): Builder {
    return this.str(v.toString());
  }
  /** json appends b as a JSON string, quoted and escaped as Go's
   * encoding/json does (<, > and & as \u003c…, each byte of invalid UTF-8
   * as \ufffd), so that answers match a Go guest's byte for byte. */
  json(b: Uint8Array): Builder {
    const hex = "0123456789abcdef";
    this.byte(0x22);
    for (let i = 0; i < b.length; ) {
      const c = b[i];
      if (c >= 0x20 && c != 0x22 && c != 0x5c && c != 0x3c && c != 0x3e && c != 0x26 && c < 0x80) {
        this.byte(c);
        i++;
        continue;
      }
      if (c < 0x80) {
        if (c == 0x22) this.str('\\"');
        else if (c == 0x5c) this.str("\\\\");
        else if (c == 0x0a) this.str("\\n");
        else if (c == 0x0d) this.str("\\r");
        else if (c == 0x09) this.str("\\t");
        else this.str("\\u00").byte(<u8>hex.charCodeAt(c >> 4)).byte(<u8>hex.charCodeAt(c & 15));
        i++;
        continue;
      }
      const n = utf8Len(b, i);
      if (n == 0) {
        this.str("\\ufffd");
        i++;
        continue;
      }
      if (n == 3 && c == 0xe2 && b[i + 1] == 0x80 && (b[i + 2] == 0xa8 || b[i + 2] == 0xa9)) {
        this.str(b[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
      } else {
        this.add(b.subarray(i, i + n));
      }
      i += n;
    }
    return this.byte(0x22);
  }
  jsonString(s: string): Builder {
    return this.json(bytes(s));
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** utf8Len is the length of the valid UTF-8 sequence at b[i], or 0. */
function utf8Len(b: Uint8Array, i: i32): i32 {
  let c = <u32>b[i];
  let n: i32, min: u32;
  if (c < 0x80) return 1;
  else if ((c & 0xe0) == 0xc0) { n = 2; min = 0x80; c &= 0x1f; }
  else if ((c & 0xf0) == 0xe0) { n = 3; min = 0x800; c &= 0x0f; }
  else if ((c & 0xf8) == 0xf0) { n = 4; min = 0x10000; c &= 0x07; }
  else return 0;
  if (i + n > b.length) return 0;
  for (let k = 1; k < n; k++) {
    const d = <u32>b[i + k];
    if ((d & 0xc0) != 0x80) return 0;
    c = (c << 6) | (d & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  return n;
}

/** Reader reads a record. */
class Reader {
  at: i32 = 0;
  bad: bool = false;
  constructor(public b: Uint8Array) {}
  u32(): u32 {
    if (this.bad || this.at + 4 > this.b.length) { this.bad = true; return 0; }
    const v = load<u32>(this.b.dataStart + this.at);
    this.at += 4;
    return v;
  }
  u64(): u64 {
    if (this.bad || this.at + 8 > this.b.length) { this.bad = true; return 0; }
    const v = load<u64>(this.b.dataStart + this.at);
    this.at += 8;
    return v;
  }
  field(): Uint8Array {
    const n = <i32>this.u32();
    if (this.bad || n < 0 || this.at + n > this.b.length) { this.bad = true; return new Uint8Array(0); }
    const v = this.b.slice(this.at, this.at + n);
    this.at += n;
    return v;
  }
  string(): string {
    return text(this.field());
  }
  count(min: i32): i32 {
    const n = <i32>this.u32();
    if (n < 0 || <i64>n * min > this.b.length - this.at) { this.bad = true; return 0; }
    return n;
  }
  done(what: string): bool {
    if (this.bad || this.at != this.b.length) {
      lastErr = new HostError(abi.BAD_ENCODING, "malformed " + what + " record");
      return false;
    }
    return true;
  }
}

// ---- Host calls ----

const SCRATCH = 16 << 10;
const scratch = new Uint8Array(SCRATCH);
const outLen = new Uint32Array(1);

/** result is the pending result, n bytes long: from scratch when it fit
 * there, else read again. */
function result(n: i32): Uint8Array {
  if (n <= SCRATCH) return scratch.slice(0, n);
  const b = new Uint8Array(n);
  abi.result_read(b.dataStart, n);
  return b;
}

/** pending reads the pending result: a message, or data. */
function pending(): Uint8Array {
  const n = abi.result_read(scratch.dataStart, SCRATCH);
  return n < 0 ? new Uint8Array(0) : result(n);
}

/** output reads the output of the last call with the scratch out buffer. */
function output(): Uint8Array {
  return result(<i32>outLen[0]);
}

/** status records a call without data: true for OK, false for NOT_FOUND
 * or an error (lastError says which). */
function status(code: i32): bool {
  lastErr = null;
  if (code == abi.OK) return true;
  if (code != abi.NOT_FOUND) lastErr = new HostError(code, text(pending()));
  return false;
}

/** withOut is a call's data: null for NOT_FOUND or an error. */
function withOut(code: i32): Uint8Array | null {
  lastErr = null;
  if (code == abi.OK) return output();
  if (code != abi.NOT_FOUND) lastErr = new HostError(code, text(output()));
  return null;
}

// ---- Requests and responses ----

/** A header: its name and value. */
export class Header {
  constructor(public name: string, public value: string) {}
}

function putHeaders(b: Builder, hs: Header[]): void {
  b.u32(hs.length);
  for (let i = 0; i < hs.length; i++) b.field(bytes(hs[i].name)).field(bytes(hs[i].value));
}

function getHeaders(r: Reader): Header[] {
  const n = r.count(8);
  const hs = new Array<Header>(n);
  for (let i = 0; i < n; i++) {
    const name = r.string();
    hs[i] = new Header(name, r.string());
  }
  return hs;
}

/** A request: what the Worker receives (an absolute URL; header names in
 * lower case, sorted, plus host and cf-connecting-ip) and what a stub
 * sends to an object. */
export class Request {
  headers: Header[] = [];
  body: Uint8Array = new Uint8Array(0);
  constructor(public method: string, public url: string) {}

  /** header is the first value of the header name (any case), or null. */
  header(name: string): string | null {
    const n = name.toLowerCase();
    for (let i = 0; i < this.headers.length; i++) {
      if (this.headers[i].name.toLowerCase() == n) return this.headers[i].value;
    }
    return null;
  }

  /** path is the URL's path. */
  get path(): string {
    let u = this.url;
    const s = u.indexOf("://");
    if (s >= 0) u = u.substring(s + 3);
    const p = u.indexOf("/");
    if (p < 0) return "";
    u = u.substring(p);
    let e = u.length;
    const q = u.indexOf("?"), h = u.indexOf("#");
    if (q >= 0) e = q;
    if (h >= 0 && h < e) e = h;
    return u.substring(0, e);
  }

  /** rawQuery is the URL's query, without the "?" and any fragment. */
  get rawQuery(): string {
    let u = this.url;
    const h = u.indexOf("#");
    if (h >= 0) u = u.substring(0, h);
    const q = u.indexOf("?");
    return q < 0 ? "" : u.substring(q + 1);
  }

  /** queryBytes is the first value of the query parameter name, decoded
   * as Go's url.Values (+ is a space, %XX a byte; a pair with a bad escape
   * or a ';' is skipped), or null. */
  queryBytes(name: string): Uint8Array | null {
    const want = bytes(name);
    const pairs = this.rawQuery.split("&");
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i];
      if (pair.length == 0 || pair.includes(";")) continue;
      const eq = pair.indexOf("=");
      const k = unescape(eq < 0 ? pair : pair.substring(0, eq));
      const v = unescape(eq < 0 ? "" : pair.substring(eq + 1));
      if (k != null && v != null && equal(k, want)) return v;
    }
    return null;
  }

  /** query is queryBytes as a string. */
  query(name: string): string | null {
    const v = this.queryBytes(name);
    return v == null ? null : text(v);
  }

  encode(): Uint8Array {
    const b = new Builder();
    b.field(bytes(this.method)).field(bytes(this.url));
    putHeaders(b, this.headers);
    b.field(this.body);
    return b.bytes();
  }

  static decode(rec: Uint8Array): Request | null {
    const r = new Reader(rec);
    const method = r.string();
    const req = new Request(method, r.string());
    req.headers = getHeaders(r);
    req.body = r.field();
    return r.done("Request") ? req : null;
  }
}

function hexval(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

function unescape(s: string): Uint8Array | null {
  const b = bytes(s);
  const out = new Builder();
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c == 0x2b) out.byte(0x20);
    else if (c == 0x25) {
      if (i + 2 >= b.length) return null;
      const hi = hexval(b[i + 1]), lo = hexval(b[i + 2]);
      if (hi < 0 || lo < 0) return null;
      out.byte(<u8>((hi << 4) | lo));
      i += 2;
    } else out.byte(c);
  }
  return out.bytes();
}

/** A response. */
export class Response {
  headers: Header[] = [];
  constructor(public status: i32, public body: Uint8Array = new Uint8Array(0)) {}

  /** json is a response with a JSON body. */
  static json(status: i32, body: Uint8Array): Response {
    return new Response(status, body).withHeader("Content-Type", "application/json");
  }
  /** upgrade answers an upgrade request whose WebSocket the object
   * accepted: 101 Switching Protocols. */
  static upgrade(): Response {
    return new Response(101);
  }
  /** text is a text/plain response. */
  static text(status: i32, body: string): Response {
    return new Response(status, bytes(body)).withHeader("Content-Type", "text/plain; charset=utf-8");
  }
  withHeader(name: string, value: string): Response {
    this.headers.push(new Header(name, value));
    return this;
  }

  encode(): Uint8Array {
    const b = new Builder();
    b.u32(this.status);
    putHeaders(b, this.headers);
    b.field(this.body);
    return b.bytes();
  }

  static decode(rec: Uint8Array): Response | null {
    const r = new Reader(rec);
    const resp = new Response(r.u32());
    resp.headers = getHeaders(r);
    resp.body = r.field();
    return r.done("Response") ? resp : null;
  }
}

// ---- Logging and time ----

export const LOG_DEBUG: u32 = 0, LOG_INFO: u32 = 1, LOG_WARN: u32 = 2, LOG_ERROR: u32 = 3;

/** log writes a line to the host's log, tagged with the worker, the object and the request. */
export function log(level: u32, message: string): void {
  const b = bytes(message);
  abi.log(level, b.dataStart, b.length);
}

@external("wasi_snapshot_preview1", "clock_time_get")
declare function clock_time_get(id: u32, precision: u64, out: usize): u16;

/** nowMs is the time in unix milliseconds (WASI's realtime clock). */
export function nowMs(): u64 {
  const t = new Uint64Array(1);
  clock_time_get(0, 1000, t.dataStart);
  return t[0] / 1000000;
}

@external("wasi_snapshot_preview1", "poll_oneoff")
declare function poll_oneoff(subs: usize, events: usize, n: u32, nevents: usize): u16;

/** sleepMs waits ms milliseconds (WASI's poll_oneoff on the monotonic
 * clock). The object's turn is held meanwhile, but the time does not count
 * against cpu_ms; a call's sleeps end it once they pass its limit again
 * (ABI.md §6). */
export function sleepMs(ms: u32): void {
  if (ms == 0) return;
  // One subscription (48 bytes): userdata u64, tag u8 (0: clock), then
  // the clock's id u32 at 16, timeout u64 at 24, precision u64 at 32,
  // flags u16 at 40 (0: relative). One event back (32 bytes).
  const sub = new Uint8Array(48);
  const p = sub.dataStart;
  store<u32>(p + 16, 1); // monotonic
  store<u64>(p + 24, <u64>ms * 1000000);
  store<u64>(p + 32, 1000);
  const ev = new Uint8Array(32);
  const n = new Uint32Array(1);
  poll_oneoff(p, ev.dataStart, 1, n.dataStart);
}

// ---- Vars and secrets ----

/** envVar is the worker's var ([vars]) or secret called name, or null (none,
 * or an error: lastError). A var that is not a string in wrangler.toml comes
 * as its JSON. */
export function envVar(name: string): string | null {
  const n = bytes(name);
  const v = withOut(abi.env_get(n.dataStart, n.length, scratch.dataStart, SCRATCH, outLen.dataStart));
  return v == null ? null : text(v);
}

// ---- KV namespaces ----

/** Options of a KV put. */
export class PutOptions {
  expiration: u64 = 0; // unix seconds; 0: none
  expirationTtl: u64 = 0; // seconds; 0: none
  metadata: Uint8Array = new Uint8Array(0);
}

/** One key of a KV listing. */
export class ListKey {
  constructor(public name: string, public expiration: u64, public metadata: Uint8Array) {}
}

/** One page of a KV listing. */
export class ListResult {
  keys: ListKey[] = [];
  listComplete: bool = false;
  cursor: string = ""; // pass it back for the next page
}

/** A KV namespace binding of the worker's wrangler.toml. */
export class KVNamespace {
  private b: Uint8Array;
  constructor(binding: string) {
    this.b = bytes(binding);
  }

  /** get is the key's value, or null (NOT_FOUND, or an error: lastError). */
  get(key: Uint8Array): Uint8Array | null {
    return withOut(abi.kv_get(this.b.dataStart, this.b.length, key.dataStart, key.length, scratch.dataStart, SCRATCH, outLen.dataStart));
  }

  put(key: Uint8Array, value: Uint8Array, o: PutOptions | null = null): bool {
    const opt = new Builder();
    if (o != null && (o.expiration != 0 || o.expirationTtl != 0 || o.metadata.length != 0)) {
      opt.u64(o.expiration).u64(o.expirationTtl).field(o.metadata);
    }
    return status(abi.kv_put(this.b.dataStart, this.b.length, key.dataStart, key.length, value.dataStart, value.length, opt.buf.dataStart, opt.len));
  }

  delete(key: Uint8Array): bool {
    return status(abi.kv_delete(this.b.dataStart, this.b.length, key.dataStart, key.length));
  }

  /** list is up to limit (0: 1000) keys that start with prefix, after
   * cursor (empty: from the start); null on error. */
  list(prefix: string, cursor: string, limit: u32): ListResult | null {
    const p = bytes(prefix), c = bytes(cursor);
    const rec = withOut(abi.kv_list(this.b.dataStart, this.b.length, p.dataStart, p.length, c.dataStart, c.length, limit, scratch.dataStart, SCRATCH, outLen.dataStart));
    if (rec == null) return null;
    const r = new Reader(rec);
    const res = new ListResult();
    const n = r.count(16);
    for (let i = 0; i < n; i++) {
      const name = r.string();
      const exp = r.u64();
      res.keys.push(new ListKey(name, exp, r.field()));
    }
    res.listComplete = r.u32() != 0;
    res.cursor = r.string();
    return r.done("KVList") ? res : null;
  }
}

// ---- Durable Object namespaces and stubs ----

/** A Durable Object namespace binding of the worker's wrangler.toml. IDs
 * are strings of 64 hex digits. */
export class DurableObjectNamespace {
  private b: Uint8Array;
  constructor(binding: string) {
    this.b = bytes(binding);
  }

  /** idFromName is the ID of the named object, or null on error. */
  idFromName(name: Uint8Array): string | null {
    const id = withOut(abi.ns_id_from_name(this.b.dataStart, this.b.length, name.dataStart, name.length, scratch.dataStart, SCRATCH, outLen.dataStart));
    return id == null ? null : text(id);
  }

  newUniqueId(): string | null {
    const id = withOut(abi.ns_new_unique_id(this.b.dataStart, this.b.length, scratch.dataStart, SCRATCH, outLen.dataStart));
    return id == null ? null : text(id);
  }

  idFromString(s: string): string | null {
    const v = bytes(s);
    const id = withOut(abi.ns_id_from_string(this.b.dataStart, this.b.length, v.dataStart, v.length, scratch.dataStart, SCRATCH, outLen.dataStart));
    return id == null ? null : text(id);
  }

  /** fetch sends req to the object id; null on error (lastError). */
  fetch(id: string, req: Request): Response | null {
    const i = bytes(id), rec = req.encode();
    const out = withOut(abi.stub_fetch(this.b.dataStart, this.b.length, i.dataStart, i.length, rec.dataStart, rec.length, scratch.dataStart, SCRATCH, outLen.dataStart));
    return out == null ? null : Response.decode(out);
  }
}

// ---- Durable Object storage (in an object's handlers only) ----

/** Options of a listing: the keys k with start <= k < end (start < k with
 * startAfter) that begin with prefix, ascending, or descending with
 * reverse; at most limit (0: all). */
export class ListOptions {
  start: Uint8Array = new Uint8Array(0);
  startAfter: bool = false;
  end: Uint8Array | null = null;
  prefix: Uint8Array = new Uint8Array(0);
  reverse: bool = false;
  keysOnly: bool = false;
  limit: u32 = 0;
}

/** An entry of a listing. */
export class Entry {
  constructor(public key: Uint8Array, public value: Uint8Array) {}
}

function keyList(keys: Uint8Array[]): Uint8Array {
  const b = new Builder();
  b.u32(keys.length);
  for (let i = 0; i < keys.length; i++) b.field(keys[i]);
  return b.bytes();
}

/** The storage of the object whose handler runs. */
export namespace storage {
  /** get is the key's value, or null (NOT_FOUND, or an error: lastError). */
  export function get(key: Uint8Array): Uint8Array | null {
    return withOut(abi.storage_get(key.dataStart, key.length, scratch.dataStart, SCRATCH, outLen.dataStart));
  }

  /** getMulti reads up to 128 keys: found[i] and values[i] for keys[i];
   * false on error. */
  export function getMulti(keys: Uint8Array[], found: bool[], values: Uint8Array[]): bool {
    const rec = keyList(keys);
    const out = withOut(abi.storage_get_multi(rec.dataStart, rec.length, scratch.dataStart, SCRATCH, outLen.dataStart));
    if (out == null) return false;
    const r = new Reader(out);
    const n = r.count(8);
    for (let i = 0; i < n; i++) {
      found.push(r.u32() != 0);
      values.push(r.field());
    }
    return r.done("ValueList");
  }

  export function put(key: Uint8Array, value: Uint8Array): bool {
    return status(abi.storage_put(key.dataStart, key.length, value.dataStart, value.length));
  }

  /** putMulti sets up to 128 keys, all or none. */
  export function putMulti(entries: Entry[]): bool {
    const b = new Builder();
    b.u32(entries.length);
    for (let i = 0; i < entries.length; i++) b.field(entries[i].key).field(entries[i].value);
    return status(abi.storage_put_multi(b.buf.dataStart, b.len));
  }

  /** delete is true if the key existed (false if not, or on error). */
  export function del(key: Uint8Array): bool {
    return status(abi.storage_delete(key.dataStart, key.length));
  }

  /** deleteMulti deletes up to 128 keys: how many existed, or -1 on error. */
  export function deleteMulti(keys: Uint8Array[]): i64 {
    const rec = keyList(keys);
    const n = new Uint32Array(1);
    return status(abi.storage_delete_multi(rec.dataStart, rec.length, n.dataStart)) ? <i64>n[0] : -1;
  }

  export function deleteAll(): bool {
    return status(abi.storage_delete_all());
  }

  /** list is the listing's entries, every page of it; null on error. */
  export function list(o: ListOptions): Entry[] | null {
    const all: Entry[] = [];
    let start = o.start, startAfter = o.startAfter, end = o.end;
    for (;;) {
      const b = new Builder();
      b.field(start).field(end == null ? new Uint8Array(0) : end).field(o.prefix);
      b.u32((o.reverse ? 1 : 0) | (o.keysOnly ? 2 : 0) | (startAfter ? 4 : 0) | (end != null ? 8 : 0));
      b.u32(o.limit > 0 ? o.limit - <u32>all.length : 0);
      const rec = withOut(abi.storage_list(b.buf.dataStart, b.len, scratch.dataStart, SCRATCH, outLen.dataStart));
      if (rec == null) return null;
      const r = new Reader(rec);
      const n = r.count(8);
      for (let i = 0; i < n; i++) {
        const k = r.field();
        all.push(new Entry(k, r.field()));
      }
      const more = r.u32() != 0;
      if (!r.done("StorageList")) return null;
      if (!more || n == 0 || (o.limit > 0 && <u32>all.length >= o.limit)) return all;
      const last = all[all.length - 1].key;
      if (o.reverse) end = last;
      else { start = last; startAfter = true; }
    }
    return all; // not reached: the loop returns
  }

  export function txnBegin(): bool { return status(abi.txn_begin()); }
  export function txnCommit(): bool { return status(abi.txn_commit()); }
  export function txnRollback(): bool { return status(abi.txn_rollback()); }

  /** getAlarm is the alarm's time in unix milliseconds, or -1 when none is
   * set (or on error). */
  export function getAlarm(): i64 {
    const t = new Uint64Array(1);
    return status(abi.alarm_get(t.dataStart)) ? <i64>t[0] : -1;
  }

  export function setAlarm(ms: u64): bool {
    const t = new Uint64Array(1);
    t[0] = ms;
    return status(abi.alarm_set(t.dataStart));
  }

  export function deleteAlarm(): bool { return status(abi.alarm_delete()); }
}

// ---- WebSockets (in an object's handlers only; ABI.md §4) ----

/** One of the object's sockets: its id and (from ws.list and ws.accept)
 * its tags. */
export class WebSocket {
  constructor(public id: u32, public tags: string[] = []) {}
}

/** A message from a client. */
export class WebSocketMessage {
  constructor(public socket: u32, public binary: bool, public data: Uint8Array) {}
  text(): string { return text(this.data); }
}

/** The WebSockets of the object whose handler runs. Accept the socket of an
 * upgrade request in fetch and answer Response.upgrade(); the host then
 * holds it, also while the object is evicted, and calls the object's
 * webSocketMessage (and webSocketClose, webSocketError); re-export
 * dohost_object_ws_message (and _close, _error) from the entry file.
 * Frames a handler sends leave once it succeeds and its writes are
 * durable. */
export namespace ws {
  export const TEXT: u32 = 1, BINARY: u32 = 2;

  /** isUpgrade: req asks for a WebSocket. */
  export function isUpgrade(req: Request): bool {
    const v = req.header("upgrade");
    return v != null && v.toLowerCase() == "websocket";
  }

  /** accept accepts the request's WebSocket with up to 10 tags; null on
   * error (lastError). */
  export function accept(tags: string[]): WebSocket | null {
    const b = new Builder();
    b.u32(tags.length);
    for (let i = 0; i < tags.length; i++) b.field(bytes(tags[i]));
    const id = new Uint32Array(1);
    return status(abi.ws_accept(b.buf.dataStart, b.len, id.dataStart)) ? new WebSocket(id[0], tags) : null;
  }

  /** send sends a message of kind TEXT or BINARY. */
  export function send(socket: u32, kind: u32, data: Uint8Array): bool {
    return status(abi.ws_send(socket, kind, data.dataStart, data.length));
  }

  /** sendText sends a text message. */
  export function sendText(socket: u32, message: string): bool {
    return send(socket, TEXT, bytes(message));
  }

  /** broadcast sends one message to every open socket with tag (every one
   * if tag is empty) but except (0: none), in one host call: how many, or
   * -1 on error. */
  export function broadcast(tag: string, except: u32, kind: u32, data: Uint8Array): i64 {
    const t = bytes(tag);
    const n = new Uint32Array(1);
    return status(abi.ws_broadcast(t.dataStart, t.length, except, kind, data.dataStart, data.length, n.dataStart)) ? <i64>n[0] : -1;
  }

  /** close closes the socket with code (1000, or 3000-4999) and reason. */
  export function close(socket: u32, code: u32, reason: string): bool {
    const r = bytes(reason);
    return status(abi.ws_close(socket, code, r.dataStart, r.length));
  }

  /** list is the open sockets with tag (all if tag is empty); null on error. */
  export function list(tag: string): WebSocket[] | null {
    const t = bytes(tag);
    const out = withOut(abi.ws_list(t.dataStart, t.length, scratch.dataStart, SCRATCH, outLen.dataStart));
    if (out == null) return null;
    const r = new Reader(out);
    const n = r.count(8);
    const l: WebSocket[] = [];
    for (let i = 0; i < n; i++) {
      const s = new WebSocket(r.u32());
      const nt = r.count(4);
      for (let j = 0; j < nt; j++) s.tags.push(r.string());
      l.push(s);
    }
    return r.done("SocketList") ? l : null;
  }

  /** attachment is the socket's attachment (empty until set); null on error. */
  export function attachment(socket: u32): Uint8Array | null {
    return withOut(abi.ws_attachment_get(socket, scratch.dataStart, SCRATCH, outLen.dataStart));
  }

  /** setAttachment keeps up to 2048 bytes with the socket. */
  export function setAttachment(socket: u32, data: Uint8Array): bool {
    return status(abi.ws_attachment_set(socket, data.dataStart, data.length));
  }

  /** setAutoResponse makes the host answer the text message request with
   * response without running the object (empty request: none). */
  export function setAutoResponse(request: string, response: string): bool {
    const q = bytes(request), p = bytes(response);
    return status(abi.ws_auto_response(q.dataStart, q.length, p.dataStart, p.length));
  }

  /** autoResponseTime is when the host last auto-responded on the socket,
   * in unix milliseconds; -1 if never (or on error: lastError). */
  export function autoResponseTime(socket: u32): i64 {
    const t = new Uint64Array(1);
    return status(abi.ws_auto_response_time(socket, t.dataStart)) ? <i64>t[0] : -1;
  }
}

// ---- Objects and handlers ----

/** What an object's constructor is told. */
export class ObjectInfo {
  constructor(public className: string, public id: string, public hasName: bool, public name: string) {}
}

/** What an alarm run is told. */
export class AlarmInfo {
  constructor(public retryCount: u32) {}
}

/** A Durable Object; an instance serves one object for its life. fetch
 * returns a response, or null after fail() to fail. */
export abstract class DurableObject {
  abstract fetch(req: Request): Response | null;
  /** alarm runs when the alarm is due; false (after fail()) retries it. */
  alarm(info: AlarmInfo): bool {
    fail("the object's class has no alarm method");
    return false;
  }
  /** webSocketMessage runs for each message a client sends; false (after
   * fail()) is logged and the socket stays open. */
  webSocketMessage(msg: WebSocketMessage): bool {
    fail("the object's class has no webSocketMessage method");
    return false;
  }
  /** webSocketClose runs when a client closed its socket (or was lost: 1006). */
  webSocketClose(socket: u32, code: u32, reason: string, wasClean: bool): bool {
    return true;
  }
  /** webSocketError runs when the host closed a socket for an error. */
  webSocketError(socket: u32, message: string): bool {
    return true;
  }
}

let workerFetch: ((req: Request) => Response | null) | null = null;
const classNames: string[] = [];
const constructors: ((info: ObjectInfo) => DurableObject)[] = [];
let theObject: DurableObject | null = null;

/** handle sets the Worker's fetch handler. */
export function handle(f: (req: Request) => Response | null): void {
  workerFetch = f;
}

/** registerClass adds a class and its constructor. */
export function registerClass(name: string, ctor: (info: ObjectInfo) => DurableObject): void {
  classNames.push(name);
  constructors.push(ctor);
}

function input(n: u32): Uint8Array {
  const b = new Uint8Array(n);
  if (n > 0) abi.result_read(b.dataStart, n);
  return b;
}

function respond(resp: Response | null): i32 {
  if (resp == null) return abi.GUEST_ERROR;
  const rec = resp.encode();
  if (!status(abi.respond(rec.dataStart, rec.length))) {
    fail("respond: " + lastErr!.message);
    return abi.GUEST_ERROR;
  }
  return 0;
}

export function dohost_abi_v1(): void {}

export function dohost_classes(): i32 {
  const list = bytes(classNames.join("\n"));
  return abi.respond(list.dataStart, list.length);
}

export function dohost_worker_fetch(n: u32): i32 {
  const req = Request.decode(input(n));
  if (req == null) { fail("malformed Request record"); return abi.GUEST_ERROR; }
  if (workerFetch == null) { fail("the module has no fetch handler: call dohost.handle"); return abi.GUEST_ERROR; }
  const f = workerFetch!;
  return respond(f(req));
}

export function dohost_object_new(n: u32): i32 {
  const r = new Reader(input(n));
  const cls = r.string(), id = r.string();
  const hasName = r.u32() != 0;
  const name = r.string();
  if (!r.done("ObjectInfo")) { fail("malformed ObjectInfo record"); return abi.GUEST_ERROR; }
  const i = classNames.indexOf(cls);
  if (i < 0) { fail("class " + cls + " is not registered with dohost.registerClass"); return abi.GUEST_ERROR; }
  theObject = constructors[i](new ObjectInfo(cls, id, hasName, name));
  return 0;
}

export function dohost_object_fetch(n: u32): i32 {
  const req = Request.decode(input(n));
  if (req == null) { fail("malformed Request record"); return abi.GUEST_ERROR; }
  if (theObject == null) { fail("object_fetch before object_new"); return abi.GUEST_ERROR; }
  return respond(theObject!.fetch(req));
}

export function dohost_object_alarm(n: u32): i32 {
  const r = new Reader(input(n));
  const info = new AlarmInfo(r.u32());
  if (!r.done("AlarmInfo")) { fail("malformed AlarmInfo record"); return abi.GUEST_ERROR; }
  if (theObject == null) { fail("object_alarm before object_new"); return abi.GUEST_ERROR; }
  return theObject!.alarm(info) ? 0 : abi.GUEST_ERROR;
}

export function dohost_object_ws_message(n: u32): i32 {
  const r = new Reader(input(n));
  const socket = r.u32(), kind = r.u32();
  const data = r.field();
  if (!r.done("WSMessage")) { fail("malformed WSMessage record"); return abi.GUEST_ERROR; }
  if (theObject == null) { fail("object_ws_message before object_new"); return abi.GUEST_ERROR; }
  return theObject!.webSocketMessage(new WebSocketMessage(socket, kind == ws.BINARY, data)) ? 0 : abi.GUEST_ERROR;
}

export function dohost_object_ws_close(n: u32): i32 {
  const r = new Reader(input(n));
  const socket = r.u32(), code = r.u32();
  const reason = r.string();
  const clean = r.u32() != 0;
  if (!r.done("WSClose")) { fail("malformed WSClose record"); return abi.GUEST_ERROR; }
  if (theObject == null) { fail("object_ws_close before object_new"); return abi.GUEST_ERROR; }
  return theObject!.webSocketClose(socket, code, reason, clean) ? 0 : abi.GUEST_ERROR;
}

export function dohost_object_ws_error(n: u32): i32 {
  const r = new Reader(input(n));
  const socket = r.u32();
  const message = r.string();
  if (!r.done("WSError")) { fail("malformed WSError record"); return abi.GUEST_ERROR; }
  if (theObject == null) { fail("object_ws_error before object_new"); return abi.GUEST_ERROR; }
  return theObject!.webSocketError(socket, message) ? 0 : abi.GUEST_ERROR;
}
