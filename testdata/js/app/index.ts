// The JavaScript runtime's test app (host/js_test.go): a Worker and three
// Durable Object classes that exercise the Workers API one path at a time.
//
//	/obj/<op>?name=N   forward to object N of class Api (API), op below
//	/ctor/<op>?name=N  forward to object N of class CtorThrows (CTOR)
//	/worker/throw      the Worker's fetch throws
//	/worker/missing    the Worker calls an API the runtime lacks (fetch)
//	/worker/timers     timers: order, arguments, clearing, intervals,
//	                   scheduler.wait, a callback that throws, one left set
//	/worker/env        the Worker's vars (and a secret) as it sees them
//	/worker/web        the web APIs: URL, Headers, TextEncoder, crypto, atob…
//
// Object operations: count (an in-memory counter: the instance is kept
// after an exception), throw, reject (an async fetch that rejects), loop
// (runs forever), alloc (allocates forever), storage (the storage API), kv
// (the KV API), ids (the namespace API), alarm/set?in=MS (its alarm throws
// while the stored alarmfail is above zero), alarm/runs, txn?fail=1,
// pending (a promise that never settles), booted (what the constructor's
// blockConcurrencyWhile did, for objects named bcw…).
import { DurableObject } from "cloudflare:workers";
import { jsonOf } from "./util";

interface Env {
  KV: KVNamespace;
  API: DurableObjectNamespace;
  CTOR: DurableObjectNamespace;
  GREETING: string;
  LIMITS: { max: number };
  TOKEN: string;
}

// timers runs timers as a handler waits for them: a at 10 ms and b at 20
// (set in the other order), one cleared before it is due, an interval of
// 15 ms cleared at its third tick (45 ms), then scheduler.wait(10).
async function timers() {
  const order: string[] = [];
  const t0 = performance.now();
  setTimeout(() => order.push("b"), 20);
  setTimeout((x: string) => order.push(x), 10, "a");
  clearTimeout(setTimeout(() => order.push("cleared"), 5));
  let ticks = 0;
  await new Promise<void>((resolve) => {
    const iv = setInterval(() => {
      if (++ticks === 3) {
        clearInterval(iv);
        resolve();
      }
    }, 15);
  });
  await (globalThis as any).scheduler.wait(10);
  setTimeout(() => {
    throw new Error("a timer throws");
  }, 0);
  await (globalThis as any).scheduler.wait(1);
  setTimeout(() => order.push("never"), 60000); // still set when the handler settles
  return { order, ticks, waited: performance.now() - t0 >= 55 };
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const [, kind, ...rest] = url.pathname.split("/");
    const op = rest.join("/");
    const name = url.searchParams.get("name") || "default";
    switch (kind) {
      case "obj":
        return env.API.get(env.API.idFromName(name)).fetch("http://obj/" + op + url.search);
      case "ctor":
        return env.CTOR.getByName(name).fetch("http://obj/" + op);
      case "worker":
        break;
      default:
        return new Response("no route " + url.pathname, { status: 404 });
    }
    switch (op) {
      case "throw":
        throw new Error("the worker throws with a secret: " + url.searchParams.get("secret"));
      case "missing":
        await fetch("http://example.com/");
        return new Response("unreachable");
      case "timers":
        return jsonOf(await timers());
      case "env":
        ctx.waitUntil(Promise.resolve());
        return jsonOf({ greeting: env.GREETING, limits: env.LIMITS, token: env.TOKEN, keys: Object.keys(env).sort(), none: (env as any).NONE === undefined });
      case "web":
        return jsonOf(await web(request));
    }
    return new Response("no worker op " + op, { status: 404 });
  },
};

async function web(request: Request) {
  const u = new URL("/a/b?x=1&y=%20two+three&x=2#frag", "https://Example.COM:8443/base");
  u.searchParams.append("z", "é&=");
  const h = new Headers({ "X-One": "1" });
  h.append("x-one", "2");
  h.set("Content-Type", "text/plain");
  const enc = new TextEncoder().encode("héllo");
  const rnd = crypto.getRandomValues(new Uint8Array(16));
  const uuid = crypto.randomUUID();
  let subtle = "";
  try {
    (crypto.subtle as any).encrypt({ name: "AES-GCM" }, null, enc);
  } catch (e) {
    subtle = String(e);
  }
  const clone = structuredClone({ a: [1, { b: "c" }] });
  return {
    href: u.href, host: u.host, hostname: u.hostname, port: u.port, pathname: u.pathname, search: u.search, hash: u.hash,
    origin: u.origin, x: u.searchParams.getAll("x"), y: u.searchParams.get("y"),
    params: [...new URLSearchParams("a=1&b=2&a=3")].map(([k, v]) => k + v).join(","),
    headers: [...h].map(([k, v]) => k + ": " + v),
    encoded: Array.from(enc), decoded: new TextDecoder().decode(enc),
    randomBytes: rnd.length, randomNonZero: rnd.some((b) => b !== 0),
    uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuid),
    btoa: btoa("hello"), atob: atob("aGVsbG8="), clone,
    subtle, method: request.method, userAgent: request.headers.get("user-agent") !== null,
    urls: [
      ["../c/./d?q#f", "http://h.example/a/b/"],
      ["//other.example:81/x y", "https://h.example/"],
      ["?only", "http://h.example/p/q?old"],
      ["HTTP://UP.example/%7e/..", ""],
    ].map(([i, b]) => new URL(i, b || undefined).href),
    badUrls: ["nope", "http://bad host/", "http://h:port/"].map((i) => {
      try {
        return new URL(i).href;
      } catch (e) {
        return (e as Error).name;
      }
    }),
    bigint: (2n ** 70n).toString(),
    microtask: await new Promise((resolve) => queueMicrotask(() => resolve("ran"))),
    perf: typeof performance.now() === "number" && performance.now() >= 0 && performance.timeOrigin > 1.6e12,
    navigator: navigator.userAgent,
    crypto: await cryptoCases(),
    // ties round away from zero; 1.005 and 8.345 are just below theirs
    rounded: ([[1.25, 1], [2.5, 0], [-2.5, 0], [1.005, 2], [0.125, 2], [999.5, 0], [-0.5, 0], [2 ** -30, 29], [1.45, 1], [8.345, 2]] as const)
      .map(([x, n]) => x.toFixed(n))
      .concat([[2.5, 1], [0.000125, 2], [9.5, 1], [123.456, 4]].map(([x, n]) => x.toPrecision(n))),
    deep: deep(),
  };
}

// cryptoCases: digests and HMAC through crypto.subtle, as hex.
async function cryptoCases() {
  const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
  const text = (s: string) => new TextEncoder().encode(s);
  const out: Record<string, string | boolean> = {};
  for (const alg of ["SHA-1", "SHA-256", "sha-384", "SHA-512"]) {
    for (const [name, data] of [["hello", "hello"], ["long", "x".repeat(200)], ["empty", ""]]) {
      out[alg.toUpperCase() + "-" + name] = hex(await crypto.subtle.digest(alg, text(data)));
    }
  }
  const key = await crypto.subtle.importKey("raw", text("key"), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  const fox = text("The quick brown fox jumps over the lazy dog");
  const mac = await crypto.subtle.sign("HMAC", key, fox);
  out.hmac = hex(mac);
  out.verified = await crypto.subtle.verify("HMAC", key, mac, fox);
  out.forged = await crypto.subtle.verify("HMAC", key, mac, text("The quick brown fox jumps over the lazy cog"));
  const longKey = await crypto.subtle.importKey("raw", text("k".repeat(300)), { name: "HMAC", hash: { name: "SHA-512" } }, false, ["sign"]);
  out.hmacLongKey = hex(await crypto.subtle.sign("HMAC", longKey, text("data")));
  const sha1Key = await crypto.subtle.importKey("raw", text("key"), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  out.hmac1 = hex(await crypto.subtle.sign({ name: "HMAC" }, sha1Key, new Uint8Array(0)));
  try {
    await crypto.subtle.verify("HMAC", sha1Key, new ArrayBuffer(20), fox);
    out.wrongUse = "verified";
  } catch (e) {
    out.wrongUse = String(e);
  }
  return out;
}

// deep recurses until the interpreter refuses: an exception, not a crash.
function deep(): string {
  const f = (n: number): number => (n === 0 ? 0 : 1 + f(n - 1));
  try {
    return String(f(1e7));
  } catch (e) {
    return (e as Error).name + ": " + (e as Error).message;
  }
}

export class Api extends DurableObject<Env> {
  count = 0;
  booted: { waited: number; starts: number } | undefined;

  // Objects named bcw… start in blockConcurrencyWhile: a timer, then
  // storage; bcw-reject's callback throws after its timer.
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const name = ctx.id.name ?? "";
    if (name.startsWith("bcw")) {
      ctx.blockConcurrencyWhile(async () => {
        const t0 = performance.now();
        await scheduler.wait(30);
        if (name === "bcw-reject") throw new Error("blockConcurrencyWhile rejects on purpose");
        const starts = ((await ctx.storage.get<number>("starts")) ?? 0) + 1;
        await ctx.storage.put("starts", starts);
        this.booted = { waited: performance.now() - t0, starts };
      });
    }
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const op = url.pathname.slice(1);
    const q = url.searchParams;
    this.count++;
    const st = this.ctx.storage;
    switch (op) {
      case "count":
        return jsonOf(this.count);
      case "booted":
        return jsonOf(this.booted ?? null);
      case "throw":
        throw new TypeError("object throws on request " + this.count);
      case "reject":
        await Promise.resolve();
        return Promise.reject(new RangeError("object rejects on request " + this.count));
      case "pending":
        return new Promise(() => {});
      case "loop":
        for (;;) {}
      case "alloc": {
        const hold: Uint8Array[] = [];
        for (;;) hold.push(new Uint8Array(1 << 22));
      }
      case "info":
        return jsonOf({ id: this.ctx.id.toString(), name: this.ctx.id.name });
      case "storage": {
        await st.put("a", "one");
        await st.put({ b: { n: 2 }, c: [3], d: true });
        const got = await st.get(["a", "b", "missing"]);
        const listed = await st.list({ prefix: "" });
        const partial = await st.list({ start: "b", end: "d" });
        const reversed = await st.list({ reverse: true, limit: 2 });
        const deleted = await st.delete("a");
        const deletedAgain = await st.delete("a");
        const deletedMany = await st.delete(["b", "c", "zz"]);
        let noValue = "";
        try {
          await st.put("x", undefined);
        } catch (e) {
          noValue = String(e);
        }
        const left = [...(await st.list()).keys()];
        await st.deleteAll();
        return jsonOf({
          a: await st.get("b") === undefined ? "gone" : "there", got: [...got], listed: [...listed], partial: [...partial.keys()],
          reversed: [...reversed.keys()], deleted, deletedAgain, deletedMany, noValue, left, after: (await st.list()).size,
        });
      }
      case "txn": {
        let failed = "";
        try {
          await st.transaction(async (txn) => {
            await txn.put("t", "in-txn");
            if (q.get("fail")) throw new Error("the transaction fails on purpose");
          });
        } catch (e) {
          failed = String(e);
        }
        return jsonOf({ failed, t: (await st.get("t")) ?? null });
      }
      case "kv": {
        const kv = this.env.KV;
        await kv.put("k1", "v1");
        await kv.put("k2", JSON.stringify({ n: 2 }), { metadata: { tag: "two" }, expirationTtl: 3600 });
        const text = await kv.get("k1");
        const json = await kv.get("k2", { type: "json" });
        const buf = await kv.get("k1", "arrayBuffer");
        const meta = await kv.getWithMetadata("k2", "json");
        const list = await kv.list({ prefix: "k" });
        await kv.delete("k1");
        return jsonOf({
          text, json, bufLen: (buf as ArrayBuffer).byteLength, meta: { value: meta.value, metadata: meta.metadata },
          names: list.keys.map((k) => k.name), complete: list.list_complete, expires: list.keys[1].expiration! > Date.now() / 1000,
          listMeta: list.keys[1].metadata, gone: await kv.get("k1"),
        });
      }
      case "ids": {
        const ns = this.env.API;
        const a = ns.idFromName("x"), b = ns.idFromName("x"), u = ns.newUniqueId();
        const parsed = ns.idFromString(a.toString());
        let bad = "";
        try {
          ns.idFromString("nope");
        } catch (e) {
          bad = e instanceof TypeError ? "TypeError" : String(e);
        }
        const other = await ns.get(a).fetch("http://x/info");
        return jsonOf({
          same: a.equals(b), hexLen: a.toString().length, unique: !u.equals(a), parsedSame: parsed.equals(a),
          bad, otherInfo: await other.json(), me: this.ctx.id.name,
        });
      }
      case "alarm/set":
        await st.setAlarm(Date.now() + Number(q.get("in") || 0));
        return jsonOf({ at: (await st.getAlarm()) !== null });
      case "alarm/fail":
        await st.put("alarmfail", Number(q.get("n") || 0));
        return jsonOf("ok");
      case "alarm/runs":
        return jsonOf({ runs: (await st.get("alarmruns")) ?? 0, lastRetry: (await st.get("alarmretry")) ?? -1, alarm: await st.getAlarm() });
    }
    return new Response("no object op " + op, { status: 404 });
  }

  async alarm(info: { retryCount: number; isRetry: boolean }) {
    const st = this.ctx.storage;
    await st.put("alarmruns", ((await st.get<number>("alarmruns")) ?? 0) + 1);
    await st.put("alarmretry", info.retryCount);
    const f = (await st.get<number>("alarmfail")) ?? 0;
    if (f > 0) {
      await st.put("alarmfail", f - 1);
      throw new Error("the alarm throws on purpose (" + (f - 1) + " more)");
    }
  }
}

export class CtorThrows extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    throw new Error("the constructor throws");
  }
  async fetch(): Promise<Response> {
    return new Response("unreachable");
  }
}
