// The Workers API of dohost's JavaScript runtime, over the host calls that
// bridge.c gives as __dohost. It runs once, before the Worker's bundle, at
// load: every object starts from a snapshot with it (and the bundle)
// evaluated.
(function (host) {
  "use strict";
  const g = globalThis;

  function bytes(v, what) {
    // A body or value as an ArrayBuffer of its own.
    if (v === undefined || v === null) return new ArrayBuffer(0);
    if (typeof v === "string") return host.encode(v);
    if (v instanceof ArrayBuffer) return v.slice(0);
    if (ArrayBuffer.isView(v)) return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength);
    if (v instanceof URLSearchParams) return host.encode(v.toString());
    throw new TypeError((what || "body") + ": dohost takes a string, an ArrayBuffer or a typed array, not " + Object.prototype.toString.call(v));
  }
  // promised runs f now (the host answers at once) and gives what it
  // returns, or what it throws, as a promise: the Workers API's calls
  // are asynchronous.
  function promised(f) {
    try { return Promise.resolve(f()); } catch (e) { return Promise.reject(e); }
  }
  function missing(name) {
    return function () { throw new TypeError(name + " is not supported by dohost's JavaScript runtime"); };
  }

  // Headers keeps its fields as the host does: a list of [name as given,
  // value] (plain loops, no iterators: they cost the interpreter most).
  class Headers {
    constructor(init) {
      this._l = [];
      if (init instanceof Headers) { for (let i = 0; i < init._l.length; i++) this._l.push([init._l[i][0], init._l[i][1]]); }
      else if (Array.isArray(init)) { for (let i = 0; i < init.length; i++) this.append(init[i][0], init[i][1]); }
      else if (init && typeof init === "object") { const ks = Object.keys(init); for (let i = 0; i < ks.length; i++) this.append(ks[i], init[ks[i]]); }
    }
    append(k, v) { this._l.push([String(k), String(v)]); }
    set(k, v) { this.delete(k); this._l.push([String(k), String(v)]); }
    get(k) {
      const l = String(k).toLowerCase();
      let out = null;
      for (let i = 0; i < this._l.length; i++) {
        if (this._l[i][0].toLowerCase() === l) out = out === null ? this._l[i][1] : out + ", " + this._l[i][1];
      }
      return out;
    }
    has(k) {
      const l = String(k).toLowerCase();
      for (let i = 0; i < this._l.length; i++) if (this._l[i][0].toLowerCase() === l) return true;
      return false;
    }
    delete(k) {
      const l = String(k).toLowerCase();
      this._l = this._l.filter((p) => p[0].toLowerCase() !== l);
    }
    // _entries is every name in lower case, sorted, with its values joined.
    _entries() {
      const names = [];
      for (let i = 0; i < this._l.length; i++) {
        const l = this._l[i][0].toLowerCase();
        if (names.indexOf(l) < 0) names.push(l);
      }
      names.sort();
      return names.map((l) => [l, this.get(l)]);
    }
    forEach(f, self) { const e = this._entries(); for (let i = 0; i < e.length; i++) f.call(self, e[i][1], e[i][0], this); }
    entries() { return this._entries()[Symbol.iterator](); }
    keys() { return this._entries().map((e) => e[0])[Symbol.iterator](); }
    values() { return this._entries().map((e) => e[1])[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    // _wire is every field as [name as given, value], for the host.
    _wire() { return this._l; }
  }

  class URLSearchParams {
    constructor(init) {
      this._l = [];
      if (typeof init === "string") this._l = host.parseQuery(init.charAt(0) === "?" ? init.slice(1) : init);
      else if (Array.isArray(init)) { for (let i = 0; i < init.length; i++) this._l.push([String(init[i][0]), String(init[i][1])]); }
      else if (init && typeof init === "object") { const ks = Object.keys(init); for (let i = 0; i < ks.length; i++) this._l.push([ks[i], String(init[ks[i]])]); }
      this._url = null;
    }
    _changed() { if (this._url) this._url._search = this._l.length ? "?" + this.toString() : ""; }
    get(k) { k = String(k); for (let i = 0; i < this._l.length; i++) if (this._l[i][0] === k) return this._l[i][1]; return null; }
    getAll(k) { return this._l.filter((p) => p[0] === k).map((p) => p[1]); }
    has(k) { return this.get(k) !== null; }
    set(k, v) {
      const i = this._l.findIndex((p) => p[0] === k);
      this._l = this._l.filter((p, j) => p[0] !== k || j === i);
      if (i < 0) this._l.push([k, String(v)]); else this._l[this._l.findIndex((p) => p[0] === k)][1] = String(v);
      this._changed();
    }
    append(k, v) { this._l.push([String(k), String(v)]); this._changed(); }
    delete(k) { this._l = this._l.filter((p) => p[0] !== k); this._changed(); }
    sort() { this._l.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); this._changed(); }
    forEach(f, self) { for (let i = 0; i < this._l.length; i++) f.call(self, this._l[i][1], this._l[i][0], this); }
    entries() { return this._l.map((p) => [p[0], p[1]])[Symbol.iterator](); }
    keys() { return this._l.map((p) => p[0])[Symbol.iterator](); }
    values() { return this._l.map((p) => p[1])[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    get size() { return this._l.length; }
    toString() { return host.formatQuery(this._l); }
  }

  class URL {
    constructor(url, base) {
      const p = host.parseURL(String(url), base === undefined ? "" : String(base));
      if (typeof p === "string") throw new TypeError("Invalid URL: " + p);
      this._protocol = p[0]; this._username = p[1]; this._password = p[2]; this._hostname = p[3];
      this._port = p[4]; this._pathname = p[5]; this._search = p[6]; this.hash = p[7];
      this._params = null;
    }
    get protocol() { return this._protocol; }
    get host() { return this._hostname + (this._port ? ":" + this._port : ""); }
    get hostname() { return this._hostname; }
    get port() { return this._port; }
    get pathname() { return this._pathname; }
    set pathname(v) { this._pathname = String(v).charAt(0) === "/" ? String(v) : "/" + v; }
    get search() { return this._search; }
    set search(v) { v = String(v); this._search = v === "" || v === "?" ? "" : v.charAt(0) === "?" ? v : "?" + v; this._params = null; }
    get username() { return this._username; }
    get password() { return this._password; }
    get origin() { return this._protocol + "//" + this.host; }
    get searchParams() {
      if (!this._params) { this._params = new URLSearchParams(this._search); this._params._url = this; }
      return this._params;
    }
    get href() {
      const auth = this._username ? this._username + (this._password ? ":" + this._password : "") + "@" : "";
      return this._protocol + "//" + auth + this.host + this._pathname + this._search + this.hash;
    }
    toString() { return this.href; }
    toJSON() { return this.href; }
  }

  // Body is what Request and Response share: a body read once.
  class Body {
    get headers() {
      if (this._h === undefined) this._h = new Headers(this._raw);
      return this._h;
    }
    set headers(h) { this._h = h; }
    _init(body, headers) {
      this.headers = headers instanceof Headers ? headers : new Headers(headers);
      if (body === undefined || body === null) { this._body = null; return; }
      if (typeof body === "string" && !this.headers.has("content-type")) this.headers.set("content-type", "text/plain;charset=UTF-8");
      if (body instanceof URLSearchParams && !this.headers.has("content-type")) this.headers.set("content-type", "application/x-www-form-urlencoded;charset=UTF-8");
      this._body = bytes(body);
    }
    get bodyUsed() { return !!this._used; }
    get body() { return this._body === null ? null : new Uint8Array(this._body); }
    _take() {
      if (this._used) throw new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
      this._used = true;
      return this._body === null ? new ArrayBuffer(0) : this._body;
    }
    arrayBuffer() { return promised(() => this._take()); }
    bytes() { return this.arrayBuffer().then((b) => new Uint8Array(b)); }
    text() { return this.arrayBuffer().then((b) => host.decode(b, false)); }
    json() { return this.text().then((t) => JSON.parse(t)); }
  }

  const normalMethods = { GET: 1, POST: 1, PUT: 1, DELETE: 1, HEAD: 1, OPTIONS: 1, PATCH: 1 };
  class Request extends Body {
    constructor(input, init) {
      super();
      init = init || {};
      if (input instanceof Request) {
        this.url = input.url; this.method = input.method;
        this._init(init.body !== undefined ? init.body : input._body, init.headers !== undefined ? init.headers : new Headers(input.headers));
      } else {
        this.url = new URL(String(input)).href;
        this.method = "GET";
        this._init(init.body, init.headers);
      }
      if (init.method !== undefined) {
        this.method = String(init.method);
        const up = this.method.toUpperCase();
        if (normalMethods[up]) this.method = up;
      }
      if ((this.method === "GET" || this.method === "HEAD") && this._body !== null && this._body.byteLength > 0) {
        throw new TypeError("Request with a GET or HEAD method cannot have a body.");
      }
      this.cf = {};
      this.signal = null;
    }
    clone() { return new Request(this); }
  }

  const statusText = { 200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently", 302: "Found", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 500: "Internal Server Error" };
  class Response extends Body {
    constructor(body, init) {
      super();
      init = init || {};
      this.status = init.status === undefined ? 200 : Number(init.status);
      if (!(this.status >= 200 && this.status <= 599) && !(this.status === 101 && init.webSocket)) throw new RangeError("Responses may only be constructed with status codes in the range 200 to 599, inclusive.");
      this.statusText = init.statusText !== undefined ? String(init.statusText) : statusText[this.status] || "";
      if (init.webSocket) {
        // The client end of a pair whose server end the object accepted.
        if (!(init.webSocket instanceof WebSocket) || !init.webSocket._pair || init.webSocket._pair._id < 0) {
          throw new TypeError("Response: webSocket must be the client end of a WebSocketPair whose server end was given to ctx.acceptWebSocket");
        }
        if (this.status !== 101) throw new RangeError("Response: a webSocket response has status 101");
        this.webSocket = init.webSocket;
      }
      this._init(body, init.headers);
    }
    get ok() { return this.status >= 200 && this.status <= 299; }
    clone() { return new Response(this._body, { status: this.status, statusText: this.statusText, headers: new Headers(this.headers) }); }
    static json(v, init) {
      init = Object.assign({}, init);
      const h = new Headers(init.headers);
      if (!h.has("content-type")) h.set("content-type", "application/json");
      init.headers = h;
      return new Response(JSON.stringify(v), init);
    }
    static redirect(url, status) {
      return new Response(null, { status: status || 302, headers: { location: new URL(String(url)).href } });
    }
  }

  class TextEncoder {
    get encoding() { return "utf-8"; }
    encode(s) { return new Uint8Array(host.encode(s === undefined ? "" : String(s))); }
  }
  class TextDecoder {
    constructor(label, opts) {
      label = label === undefined ? "utf-8" : String(label).toLowerCase();
      if (label !== "utf-8" && label !== "utf8") throw new RangeError("TextDecoder: dohost decodes utf-8 only, not " + label);
      this.fatal = !!(opts && opts.fatal);
    }
    get encoding() { return "utf-8"; }
    decode(v) { return v === undefined ? "" : host.decode(bytes(v, "TextDecoder.decode"), this.fatal); }
  }

  const console = {};
  for (const [name, level] of [["log", "info"], ["info", "info"], ["debug", "debug"], ["warn", "warn"], ["error", "error"], ["trace", "debug"]]) {
    console[name] = (...args) => host.log(level, args.map(show).join(" "));
  }
  function show(v) {
    if (typeof v === "string") return v;
    if (v instanceof Error) {
      // Its name and message, then its stack in the Worker's own files
      // (runtime.js's describe, once loaded).
      const api = g.__dohost_api;
      return api && api.describe ? api.describe(v) : String(v) + (v.stack ? "\n" + v.stack : "");
    }
    try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch (e) { return String(v); }
  }

  // crypto.subtle: SHA digests, and HMAC keys in raw form to sign and
  // verify with (what Workers code hashes and signs with); the rest of
  // Web Crypto throws a TypeError naming what is missing.
  function algName(a) { return String(typeof a === "string" ? a : a && a.name).toUpperCase(); }
  function hashOf(a) {
    const h = a && a.hash;
    if (h === undefined) throw new TypeError("crypto.subtle.importKey: an HMAC key needs its hash (for example { name: \"HMAC\", hash: \"SHA-256\" })");
    return algName(h);
  }
  class CryptoKey {
    constructor(algorithm, extractable, usages, raw) {
      this.type = "secret"; this.extractable = extractable; this.algorithm = algorithm; this.usages = usages; this._raw = raw;
    }
  }
  function hmacKey(key, use) {
    if (!(key instanceof CryptoKey) || key.algorithm.name !== "HMAC") throw new TypeError("crypto.subtle." + use + ": the key is not an HMAC CryptoKey from importKey");
    if (key.usages.indexOf(use) < 0) throw new TypeError("crypto.subtle." + use + ": the key's usages do not include \"" + use + "\"");
    return key;
  }
  const subtle = {
    digest(alg, data) { return promised(() => host.digest(algName(alg), bytes(data, "crypto.subtle.digest"))); },
    importKey(format, keyData, alg, extractable, usages) {
      return promised(() => {
        if (format !== "raw" || algName(alg) !== "HMAC") throw new TypeError("crypto.subtle.importKey: dohost's JavaScript runtime imports raw HMAC keys only, not " + format + " " + algName(alg));
        const hash = hashOf(alg);
        host.digest(hash, new ArrayBuffer(0)); // a hash it knows, or a TypeError now
        const raw = bytes(keyData, "crypto.subtle.importKey");
        return new CryptoKey({ name: "HMAC", hash: { name: hash }, length: raw.byteLength * 8 }, !!extractable, Array.from(usages || [], String), raw);
      });
    },
    exportKey(format, key) {
      return promised(() => {
        if (format !== "raw" || !(key instanceof CryptoKey)) throw new TypeError("crypto.subtle.exportKey: dohost's JavaScript runtime exports raw HMAC keys only");
        if (!key.extractable) throw new TypeError("crypto.subtle.exportKey: the key is not extractable");
        return key._raw.slice(0);
      });
    },
    sign(alg, key, data) {
      return promised(() => host.hmac(hmacKey(key, "sign").algorithm.hash.name, key._raw, bytes(data, "crypto.subtle.sign")));
    },
    verify(alg, key, signature, data) {
      return promised(() => {
        const mac = new Uint8Array(host.hmac(hmacKey(key, "verify").algorithm.hash.name, key._raw, bytes(data, "crypto.subtle.verify")));
        const sig = new Uint8Array(bytes(signature, "crypto.subtle.verify"));
        let diff = mac.length ^ sig.length;
        for (let i = 0; i < mac.length; i++) diff |= mac[i] ^ (sig[i] | 0);
        return diff === 0;
      });
    },
  };

  const crypto = {
    getRandomValues(a) {
      if (!ArrayBuffer.isView(a)) throw new TypeError("crypto.getRandomValues takes a typed array");
      if (a.byteLength > 65536) throw new RangeError("crypto.getRandomValues: at most 65536 bytes");
      new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(new Uint8Array(host.random(a.byteLength)));
      return a;
    },
    randomUUID() {
      const b = new Uint8Array(host.random(16));
      b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
      const h = [...b].map((x) => (x + 0x100).toString(16).slice(1)).join("");
      return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
    },
    subtle: new Proxy(subtle, { get: (t, k) => (k in t ? t[k] : missing("crypto.subtle." + String(k))) }),
  };

  function btoa(s) {
    s = String(s);
    if (/[^\u0000-\u00ff]/.test(s)) throw new TypeError("btoa: the string has characters outside Latin-1");
    return host.btoa(s);
  }
  function atob(s) {
    const r = host.atob(String(s).replace(/[\t\n\f\r ]/g, ""));
    if (r === null) throw new TypeError("atob: the string is not valid base64");
    return r;
  }
  function structuredClone(v) {
    if (v === undefined) return undefined;
    return JSON.parse(JSON.stringify(v));
  }

  // Storage values and KV values with type "json" are JSON text; a value
  // written by another language's guest that is not JSON reads as its
  // text.
  function encodeValue(v) {
    if (v === undefined) throw new TypeError("storage.put: a value is required (undefined cannot be stored)");
    const s = JSON.stringify(v);
    if (s === undefined) throw new TypeError("storage.put: the value cannot be stored: " + typeof v);
    return host.encode(s);
  }
  function decodeValue(b) {
    const s = host.decode(b, false);
    try { return JSON.parse(s); } catch (e) { return s; }
  }

  class DurableObjectId {
    constructor(ns, hex, name) { this._ns = ns; this._hex = hex; if (name !== undefined) this.name = name; }
    toString() { return this._hex; }
    equals(o) { return o instanceof DurableObjectId && o._hex === this._hex; }
  }
  function toRequest(input, init) {
    return input instanceof Request && init === undefined ? input : new Request(input, init);
  }
  // wireHeaders is a Request's or Response's headers as the host takes
  // them: as they came, if the handler never made them a Headers.
  function wireHeaders(r) { return r._h === undefined ? r._raw || [] : r._h._wire(); }
  function fromWire(w) {
    // w is [status, [[name, value]...], ArrayBuffer]
    const r = Object.create(Response.prototype);
    r.status = w[0];
    r.statusText = statusText[w[0]] || "";
    r._raw = w[1];
    r._body = w[2].byteLength ? w[2] : null;
    return r;
  }
  class DurableObjectStub {
    constructor(id) { this.id = id; this.name = id.name; }
    fetch(input, init) {
      return promised(() => {
        const r = toRequest(input, init);
        return fromWire(host.stubFetch(this.id._ns, this.id._hex, this.id.name === undefined ? null : this.id.name, r.method, r.url, wireHeaders(r), r._take()));
      });
    }
  }
  class DurableObjectNamespace {
    constructor(binding) { this._b = binding; }
    idFromName(name) { return new DurableObjectId(this._b, host.idFromName(this._b, String(name)), String(name)); }
    newUniqueId() { return new DurableObjectId(this._b, host.newUniqueId(this._b)); }
    idFromString(s) {
      const r = host.idFromString(this._b, String(s));
      return new DurableObjectId(this._b, r[0], r[1] === null ? undefined : r[1]);
    }
    get(id) {
      if (!(id instanceof DurableObjectId)) throw new TypeError("get: expects a DurableObjectId from idFromName, newUniqueId or idFromString");
      if (id._ns !== null && id._ns !== this._b) throw new TypeError("get: the ID belongs to namespace " + id._ns + ", not " + this._b);
      return new DurableObjectStub(id._ns === null ? new DurableObjectId(this._b, id._hex, id.name) : id);
    }
    getByName(name) { return this.get(this.idFromName(name)); }
    jurisdiction() { return this; }
  }

  function kvRead(b, type) {
    switch (type || "text") {
      case "text": return host.decode(b, false);
      case "json": return JSON.parse(host.decode(b, false));
      case "arrayBuffer": return b;
      case "stream": throw new TypeError("KV get: type \"stream\" is not supported by dohost's JavaScript runtime");
      default: throw new TypeError("KV get: unknown type " + type);
    }
  }
  class KVNamespace {
    constructor(binding) { this._b = binding; }
    get(key, opts) {
      return promised(() => {
        const type = typeof opts === "string" ? opts : opts && opts.type;
        if (Array.isArray(key)) {
          const m = new Map();
          for (const k of key) { const b = host.kvGet(this._b, String(k)); m.set(k, b === null ? null : kvRead(b, type)); }
          return m;
        }
        const b = host.kvGet(this._b, String(key));
        return b === null ? null : kvRead(b, type);
      });
    }
    getWithMetadata(key, opts) {
      return this.get(key, opts).then((value) => ({ value, metadata: value === null ? null : host.kvMetadata(this._b, String(key)), cacheStatus: null }));
    }
    put(key, value, opts) {
      return promised(() => {
        opts = opts || {};
        const meta = opts.metadata === undefined ? null : JSON.stringify(opts.metadata);
        host.kvPut(this._b, String(key), bytes(value, "KV put"), Number(opts.expiration || 0), Number(opts.expirationTtl || 0), meta);
      });
    }
    delete(key) { return promised(() => { host.kvDelete(this._b, String(key)); }); }
    list(opts) {
      return promised(() => {
        opts = opts || {};
        return JSON.parse(host.kvList(this._b, String(opts.prefix || ""), String(opts.cursor || ""), Number(opts.limit || 0)));
      });
    }
  }

  function listOptions(o) {
    o = o || {};
    return [String(o.start === undefined ? "" : o.start), String(o.startAfter === undefined ? "" : o.startAfter),
      String(o.end === undefined ? "" : o.end), String(o.prefix === undefined ? "" : o.prefix), !!o.reverse, Number(o.limit || 0)];
  }
  const MAX_KEYS = 128;
  function checkKeys(keys) {
    if (keys.length > MAX_KEYS) throw new RangeError("storage: at most " + MAX_KEYS + " keys in one call, not " + keys.length);
    return keys.map(String);
  }
  class DurableObjectStorage {
    get(k) {
      return promised(() => {
        if (Array.isArray(k)) {
          const m = new Map();
          const keys = checkKeys(k);
          if (keys.length === 0) return m;
          const vals = host.stGetMulti(keys); // one host call for all of them
          keys.forEach((key, i) => { if (vals[i] !== null) m.set(key, decodeValue(vals[i])); });
          return m;
        }
        const b = host.stGet(String(k));
        return b === null ? undefined : decodeValue(b);
      });
    }
    put(k, v) {
      const given = arguments.length;
      return promised(() => {
        if (k !== null && typeof k === "object") {
          // The host holds a call to its 128 entries (TOO_LARGE).
          const keys = Object.keys(k);
          host.stPutMulti(keys, keys.map((key) => encodeValue(k[key])));
        } else {
          if (given < 2) throw new TypeError("storage.put: a value is required");
          host.stPut(String(k), encodeValue(v));
        }
      });
    }
    delete(k) {
      return promised(() => Array.isArray(k) ? host.stDeleteMulti(checkKeys(k)) : host.stDelete(String(k)));
    }
    deleteAll() { return promised(() => { host.stDeleteAll(); }); }
    list(o) {
      return promised(() => {
        const m = new Map();
        for (const [k, b] of host.stList(...listOptions(o))) m.set(k, decodeValue(b));
        return m;
      });
    }
    getAlarm() { return promised(() => host.stGetAlarm()); }
    setAlarm(t) {
      return promised(() => {
        const ms = t instanceof Date ? t.getTime() : Number(t);
        if (!isFinite(ms)) throw new TypeError("setAlarm: expects a Date or milliseconds since the epoch");
        host.stSetAlarm(ms);
      });
    }
    deleteAlarm() { return promised(() => { host.stDeleteAlarm(); }); }
    // transaction runs f with this storage: its writes commit with the
    // request's, or none do if f throws.
    transaction(f) {
      let r;
      try { host.txnBegin(); } catch (e) { return Promise.reject(e); }
      try { r = f(this); } catch (e) { host.txnEnd(false); return Promise.reject(e); }
      return Promise.resolve(r).then((v) => { host.txnEnd(true); return v; }, (e) => { host.txnEnd(false); throw e; });
    }
    sync() { return Promise.resolve(); }
  }
  const storage = new DurableObjectStorage();

  // WebSockets, the Hibernation API's way: a WebSocketPair's server end
  // is given to ctx.acceptWebSocket, the client end to the 101 Response,
  // and the host calls the object's webSocketMessage and webSocketClose.
  const sockets = new Map(); // the host's socket id → its WebSocket
  class WebSocket {
    constructor() { this._id = -1; }
    get readyState() { return this._id < 0 ? 0 : 1; }
    send(m) {
      if (this._id < 0) throw new TypeError("WebSocket.send: the socket is not accepted (ctx.acceptWebSocket)");
      host.wsSend(this._id, typeof m === "string" ? m : bytes(m, "WebSocket.send"));
    }
    close(code, reason) {
      if (this._id < 0) throw new TypeError("WebSocket.close: the socket is not accepted");
      host.wsClose(this._id, code === undefined ? 1000 : Number(code), reason === undefined ? "" : String(reason));
    }
    serializeAttachment(v) { host.wsSetAttachment(this._id, encodeValue(v)); }
    deserializeAttachment() { const b = host.wsAttachment(this._id); return b === null ? null : decodeValue(b); }
    accept() { throw new TypeError("WebSocket.accept (WebSockets without hibernation) is not supported by dohost's JavaScript runtime: use ctx.acceptWebSocket"); }
    addEventListener() { throw new TypeError("WebSocket.addEventListener is not supported by dohost's JavaScript runtime: use the object's webSocketMessage and webSocketClose"); }
  }
  WebSocket.CONNECTING = 0; WebSocket.OPEN = 1; WebSocket.CLOSING = 2; WebSocket.CLOSED = 3;
  function socket(id) {
    let ws = sockets.get(id);
    if (!ws) { ws = new WebSocket(); ws._id = id; sockets.set(id, ws); }
    return ws;
  }
  class WebSocketPair {
    constructor() { this[0] = new WebSocket(); this[1] = new WebSocket(); this[0]._pair = this[1]; }
  }
  class WebSocketRequestResponsePair {
    constructor(request, response) { this.request = String(request); this.response = String(response); }
  }

  let blocking = null; // while a constructor runs: its blockConcurrencyWhile promises
  class DurableObjectState {
    constructor(hex, name) {
      this.id = new DurableObjectId(null, hex, name === null ? undefined : name);
      this.storage = storage;
    }
    // blockConcurrencyWhile runs f now; called from a constructor, the
    // object's first event waits until its promise settles (timers and
    // all: runtime.c settles it before the event), and a rejection fails
    // the constructor, so the next event constructs the object again.
    blockConcurrencyWhile(f) {
      const p = promised(f);
      if (blocking) blocking.push(p);
      return p;
    }
    waitUntil(p) { waitUntil(p); }
    acceptWebSocket(ws, tags) {
      if (!(ws instanceof WebSocket) || ws._id >= 0) throw new TypeError("acceptWebSocket: expects the server end of a new WebSocketPair");
      ws._id = host.wsAccept(tags === undefined ? [] : Array.from(tags, String));
      sockets.set(ws._id, ws);
    }
    getWebSockets(tag) { return host.wsList(tag === undefined ? "" : String(tag)).map(socket); }
    getTags(ws) { return host.wsTags(ws._id); }
    // getWebSocketAutoResponseTimestamp is when the host last answered
    // ws's auto-response request, or null.
    getWebSocketAutoResponseTimestamp(ws) {
      if (!(ws instanceof WebSocket) || ws._id < 0) throw new TypeError("getWebSocketAutoResponseTimestamp: expects an accepted WebSocket");
      const ms = host.wsAutoResponseTime(ws._id);
      return ms === null ? null : new Date(ms);
    }
    // broadcast is dohost's own (Workers has none): message, a string or
    // bytes, goes to every open socket of the object, or those with
    // options.tag, but options.except, in one host call; the host fans it
    // out. It returns how many sockets it reached. On Workers, loop over
    // getWebSockets(tag) instead.
    broadcast(message, options) {
      const o = options === undefined ? {} : options;
      if (o.except !== undefined && (!(o.except instanceof WebSocket) || o.except._id < 0)) throw new TypeError("broadcast: options.except must be an accepted WebSocket");
      return host.wsBroadcast(o.tag === undefined ? "" : String(o.tag), o.except === undefined ? 0 : o.except._id,
        typeof message === "string" ? message : bytes(message, "broadcast"));
    }
    setWebSocketAutoResponse(pair) {
      if (pair === undefined) host.wsAutoResponse("", "");
      else host.wsAutoResponse(pair.request, pair.response);
    }
  }
  // waitUntil lets p run on: the runtime runs every pending job before
  // the handler returns, so nothing waits here (and an object that calls
  // it on every request keeps nothing); a rejection is logged.
  function waitUntil(p) {
    Promise.resolve(p).catch((e) => host.log("error", "waitUntil: uncaught (in promise) " + show(e)));
  }
  class ExecutionContext {
    waitUntil(p) { waitUntil(p); }
    passThroughOnException() {}
  }

  class DurableObject {
    constructor(ctx, env) { this.ctx = ctx; this.env = env; }
  }
  class WorkerEntrypoint {
    constructor(ctx, env) { this.ctx = ctx; this.env = env; }
  }

  // env gives the bindings of the worker's wrangler.toml by name (the
  // host names them at build time: __dohost_bindings), and its vars and
  // secrets.
  function makeEnv(bindings) {
    const cache = new Map();
    return new Proxy({}, {
      get(t, k) {
        if (typeof k !== "string") return undefined;
        if (cache.has(k)) return cache.get(k);
        let v;
        switch (bindings[k]) {
          case "kv": v = new KVNamespace(k); break;
          case "do": v = new DurableObjectNamespace(k); break;
          case "json": v = JSON.parse(host.envVar(k)); break;
          default: v = host.envVar(k); if (v === null) return undefined; // a var or a secret
        }
        cache.set(k, v);
        return v;
      },
      has(t, k) { return typeof k === "string" && (k in bindings || host.envVar(k) !== null); },
      ownKeys() { return Object.keys(bindings); },
      getOwnPropertyDescriptor(t, k) {
        return k in bindings ? { value: this.get(t, k), enumerable: true, configurable: true } : undefined;
      },
    });
  }

  // queueMicrotask runs f with the promise jobs (before the handler
  // returns); an exception in it is logged, as an uncaught one.
  function queueMicrotask(f) {
    if (typeof f !== "function") throw new TypeError("queueMicrotask: the callback must be a function");
    Promise.resolve().then(f).catch((e) => host.log("error", "queueMicrotask: uncaught " + show(e)));
  }
  // performance.now is milliseconds since the runtime started, from the
  // monotonic clock (fractions of a millisecond).
  const performance = { now() { return host.monotonicMs(); }, timeOrigin: Date.now() - host.monotonicMs() };
  const navigator = { userAgent: "dohost" };

  // Timers run while an event's handler waits: when its promise is
  // pending and no job is left, the runtime sleeps until the earliest
  // timer is due (a WASI sleep: the object's turn is held, but the time
  // is not counted against cpu_ms) and runs it (runtime.c, settle). dohost
  // wakes no object for a timer: those still pending when the event's
  // handler has settled are cancelled.
  const timers = new Map(); // id → { at, fn, args, every (-1: once) }
  let lastTimer = 0;
  function addTimer(what, fn, ms, args, repeat) {
    if (typeof fn !== "function") throw new TypeError(what + ": the callback must be a function");
    ms = Number(ms);
    if (!(ms > 0)) ms = 0;
    const id = ++lastTimer;
    timers.set(id, { at: host.monotonicMs() + ms, fn, args, every: repeat ? ms : -1 });
    return id;
  }
  function setTimeout(fn, ms, ...args) { return addTimer("setTimeout", fn, ms, args, false); }
  function setInterval(fn, ms, ...args) { return addTimer("setInterval", fn, ms, args, true); }
  function clearTimeout(id) { timers.delete(Number(id)); }
  const scheduler = { wait(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); } };
  const timerAPI = {
    // nextTimer is how long until the earliest timer is due, in
    // milliseconds (0: now), or -1 when there is none.
    nextTimer() {
      let at = Infinity;
      for (const t of timers.values()) if (t.at < at) at = t.at;
      return at === Infinity ? -1 : Math.max(0, at - host.monotonicMs());
    },
    // runTimers runs the timers that are due, earliest first (the first
    // set first among equals); an interval is due again every ms after.
    // A callback that throws is logged, as an uncaught exception.
    runTimers() {
      const now = host.monotonicMs();
      const due = [];
      for (const [id, t] of timers) if (t.at <= now) due.push([id, t]);
      due.sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
      for (const [id, t] of due) {
        if (timers.get(id) !== t) continue; // cleared by one before it
        if (t.every < 0) timers.delete(id);
        else t.at = now + t.every;
        try {
          t.fn(...t.args);
        } catch (e) {
          host.log("error", "uncaught exception in a timer: " + show(e));
        }
      }
    },
    // clearTimers cancels every timer and says how many there were.
    clearTimers() {
      const n = timers.size;
      timers.clear();
      return n;
    },
  };

  Object.assign(g, {
    Headers, Request, Response, URL, URLSearchParams, TextEncoder, TextDecoder, console, crypto, btoa, atob, structuredClone,
    queueMicrotask, performance, navigator, CryptoKey,
    setTimeout, setInterval, clearTimeout, clearInterval: clearTimeout, scheduler, fetch: missing("fetch (outbound requests)"),
    WebSocket, WebSocketPair, WebSocketRequestResponsePair, caches: undefined,
  });
  // What runtime.c and the bundle's cloudflare:workers module reach.
  g.__dohost_api = {
    DurableObject, WorkerEntrypoint, DurableObjectState, ExecutionContext, makeEnv, fromWire, socket, ...timerAPI,
    // constructing and constructed bracket a constructor's call: the
    // second gives the promise of its blockConcurrencyWhile calls, all
    // of them, or undefined when it made none.
    constructing() { blocking = []; },
    constructed() {
      const ps = blocking || [];
      blocking = null;
      return ps.length === 0 ? undefined : Promise.all(ps);
    },
    // forgetSocket drops a closed socket's object.
    forgetSocket(id) { sockets.delete(id); },
    // request is a Request the host received: its URL is already
    // absolute and canonical, and its headers are made only if the
    // handler looks at them (building them costs more than the rest).
    request(method, url, headers, body) {
      const r = Object.create(Request.prototype);
      r.url = url;
      r.method = method;
      r._raw = headers;
      r._body = body.byteLength === 0 && (method === "GET" || method === "HEAD") ? null : body;
      r.cf = {};
      r.signal = null;
      return r;
    },
    // wire is a handler's Response as [status, headers, body] for the host.
    wire(r) {
      if (!(r instanceof Response)) throw new TypeError("the handler must return a Response, not " + (r === null ? "null" : typeof r));
      return [r.status, wireHeaders(r), r._body === null ? new ArrayBuffer(0) : r._body];
    },
  };
})(__dohost);
