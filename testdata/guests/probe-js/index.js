// probe-js is the probe test guest (testdata/guests/probe) in JavaScript:
// the same paths and answers, through the Workers API, so that the
// conformance suite (host/probe_test.go, storage_test.go) holds the
// JavaScript runtime to what every SDK does. Where the Workers API has no
// such thing, the nearest: a "panic" is a throw and a "fail" a rejected
// promise; "exit" (a trap) is an allocation past memory_mb, which ends the
// instance as a trap does; storage values are JSON text, so size=N makes a
// string that is N bytes as stored (N-2 characters and its quotes); a
// listing's keysOnly gives empty values. Not here: chatty, sandbox (no
// stdout, no system to reach in a Worker).
import { DurableObject } from "cloudflare:workers";

// json answers v as the Go probe's dohost.JSON does: encoding/json's text
// (<, >, &, U+2028 and U+2029 escaped).
function json(v, status = 200) {
  const s = JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  return new Response(s, { status, headers: { "content-type": "application/json" } });
}

// errorResponse reports a host call's error with its ABI code, as the Go
// probe does; anything else is a 500.
function errorResponse(e) {
  if (e && e.code !== undefined) return json({ code: e.code, codeName: e.codeName, message: e.message }, 502);
  return json({ message: String(e) }, 500);
}

// attempt answers f's result, or the error a host call threw.
async function attempt(f) {
  try {
    return await f();
  } catch (e) {
    return errorResponse(e);
  }
}

// probePath is the path without a leading "/p" segment (routing tests).
function probePath(url) {
  return url.pathname.startsWith("/p/") ? url.pathname.slice(2) : url.pathname;
}

function base64(buf) {
  // A byte a character, in pieces: growing one string a byte at a time
  // copies it each time in QuickJS.
  const b = new Uint8Array(buf);
  const parts = [];
  for (let i = 0; i < b.length; i += 8192) parts.push(String.fromCharCode.apply(null, b.subarray(i, i + 8192)));
  return btoa(parts.join(""));
}

// echo is the request as the handler sees it: method, URL, headers (as
// the Fetch API gives them: lower-case names, sorted, a name's values
// joined with ", ") and body (base64).
async function echo(request) {
  const headers = [];
  for (const [k, v] of request.headers) headers.push([k, v]);
  const body = base64(await request.arrayBuffer());
  return json({ body: body, headers, method: request.method, url: request.url });
}

// exhaust allocates until the object's memory_mb: the runtime ends the
// instance, as a trap (exit) does in the other languages.
function exhaust() {
  const hold = [];
  for (;;) hold.push(new Uint8Array(1 << 20));
}

// The zero time, as Go's encoding/json writes a zero time.Time.
const zeroTime = "0001-01-01T00:00:00Z";

function rfc3339(unixSeconds) {
  return new Date(unixSeconds * 1000).toISOString().replace(".000Z", "Z");
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = url.searchParams;
    const p = probePath(url);
    const kv = env.KV;
    if (p === "/worker/panic") throw new Error("the probe worker panics with a secret: " + q.get("secret"));
    if (p === "/worker/fail") return Promise.reject(new Error("the probe worker fails with a secret: " + q.get("secret")));
    if (p === "/echo" || p.startsWith("/echo/")) return echo(request);
    if (p === "/stub/badheader") {
      return attempt(async () => {
        await env.PROBE.getByName("b").fetch("http://probe/obj/count", { headers: { "Bad Name": "x" } });
        return json("no error");
      });
    }
    if (p === "/env") {
      const v = env[q.get("name")];
      if (v === undefined) return json(null, 404);
      return json(typeof v === "string" ? v : JSON.stringify(v));
    }
    if (p === "/kv/get") {
      const v = await kv.get(q.get("key"));
      return v === null ? json(null, 404) : json(v);
    }
    if (p === "/kv/put") {
      const o = {};
      if (q.get("ttl")) o.expirationTtl = Number(q.get("ttl"));
      if (q.get("meta")) o.metadata = q.get("meta");
      return attempt(async () => { await kv.put(q.get("key"), q.get("value"), o); return json("ok"); });
    }
    if (p === "/kv/putget") {
      await kv.put(q.get("key"), q.get("value"));
      return new Response(await kv.get(q.get("key")));
    }
    if (p === "/kv/delete") return attempt(async () => { await kv.delete(q.get("key")); return json("ok"); });
    if (p === "/kv/list") {
      return attempt(async () => {
        const r = await kv.list({ prefix: q.get("prefix") || "", cursor: q.get("cursor") || "", limit: Number(q.get("limit") || 0) });
        const keys = r.keys.map((k) => ({
          Name: k.name,
          Expiration: k.expiration ? rfc3339(k.expiration) : zeroTime,
          Metadata: k.metadata === undefined ? null : base64(new TextEncoder().encode(typeof k.metadata === "string" ? k.metadata : JSON.stringify(k.metadata))),
        }));
        return json({ Keys: keys, ListComplete: r.list_complete, Cursor: r.cursor || "" });
      });
    }
    if (p === "/kv/nobinding") return attempt(async () => { await env.KV_NOPE_UNBOUND.get("x"); return json("no error"); });
    if (p === "/id/name") return json(env.PROBE.idFromName(q.get("name")).toString());
    if (p === "/id/unique") return json(env.PROBE.newUniqueId().toString());
    if (p === "/id/parse") return attempt(() => json(env.PROBE.idFromString(q.get("id")).toString()));
    if (p.startsWith("/byid/")) {
      return attempt(async () => {
        const id = env.PROBE.idFromString(q.get("id"));
        return await env.PROBE.get(id).fetch("http://probe/obj/" + p.slice("/byid/".length) + url.search, { method: request.method });
      });
    }
    if (p.startsWith("/obj/")) {
      const ns = q.get("ns") === "other" ? env.OTHER : env.PROBE;
      return attempt(() => ns.get(ns.idFromName(q.get("name") || "")).fetch(request));
    }
    return new Response("no route " + url.pathname, { status: 404 });
  },
};

export class Probe extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.count = 0;
    // Read storage before the first request is let in; count the starts.
    ctx.blockConcurrencyWhile(async () => {
      const v = await ctx.storage.get("starts");
      this.ctor = { read: v === undefined ? "" : String(v), found: v !== undefined };
      await ctx.storage.put("starts", Number(v || 0) + 1);
    });
  }

  // alarm counts its runs in storage, and fails while alarmfail is above 0.
  async alarm(info) {
    const st = this.ctx.storage;
    const n = async (k) => Number((await st.get(k)) || 0);
    await st.put("alarmruns", (await n("alarmruns")) + 1);
    await st.put("alarmretry", info.retryCount);
    const f = await n("alarmfail");
    if (f > 0) {
      await st.put("alarmfail", f - 1);
      throw new Error("alarm fails on purpose (" + (f - 1) + " more)");
    }
    const r = await n("alarmrearm");
    if (r > 0) {
      // Re-arm for the very time this run is for.
      const at = await st.getAlarm();
      if (at === null) throw new Error("alarm/get in the alarm handler: none");
      await st.put("alarmrearm", r - 1);
      await st.setAlarm(at);
    }
  }

  async storageOp(op, q) {
    const st = this.ctx.storage;
    let key = q.get("key") || "";
    if (Number(q.get("keysize")) > 0) key = "k".repeat(Number(q.get("keysize")));
    let value = q.get("value") || "";
    if (Number(q.get("size")) > 0) value = "v".repeat(Number(q.get("size")) - 2);
    const ok = json("ok");
    switch (op) {
      case "st/get": {
        const v = await st.get(key);
        return json({ found: v !== undefined, value: v === undefined ? "" : String(v) });
      }
      case "st/put":
        await st.put(key, value);
        return ok;
      case "st/getmulti": {
        const m = await st.get((q.get("keys") || "").split(","));
        const out = {};
        for (const [k, v] of m) out[k] = String(v);
        return json(out);
      }
      case "st/putmulti": {
        const m = {};
        for (let i = 0; i < Number(q.get("n")); i++) m[(q.get("prefix") || "") + String(i).padStart(4, "0")] = value;
        await st.put(m);
        return ok;
      }
      case "st/delete":
        return json(await st.delete(key));
      case "st/deletemulti":
        return json(await st.delete((q.get("keys") || "").split(",")));
      case "st/list": {
        const o = { prefix: q.get("prefix") || undefined, reverse: !!q.get("reverse"), limit: Number(q.get("limit") || 0) || undefined };
        if (q.get("start")) o.start = q.get("start");
        if (q.get("startAfter")) o.startAfter = q.get("startAfter");
        if (q.get("end")) o.end = q.get("end");
        const keysOnly = !!q.get("keysOnly");
        const out = [];
        for (const [k, v] of await st.list(o)) out.push([k, keysOnly ? "" : String(v)]);
        return json(out);
      }
      case "st/count":
        return json((await st.list({ prefix: q.get("prefix") || undefined })).size);
      case "st/deleteall":
        await st.deleteAll();
        return ok;
      case "st/txn":
        try {
          await st.transaction(async (tx) => {
            await tx.put(key, value);
            if (q.get("fail")) throw new Error("the transaction fails on purpose");
          });
        } catch (e) {
          return json(e.message, 409);
        }
        return ok;
      case "st/nested":
        await st.transaction(async (tx) => {
          await tx.put("outer", "kept");
          let failed = false;
          await tx.transaction(async (inner) => {
            await inner.put("inner", "dropped");
            throw new Error("inner fails");
          }).catch(() => { failed = true; });
          if (!failed) throw new Error("inner transaction did not fail");
        });
        return ok;
      case "st/putexit":
        await st.put(key, "written-before-exit");
        exhaust();
        break;
      case "st/ctor":
        return json(this.ctor);
      case "alarm/set":
        await st.setAlarm(Date.now() + Number(q.get("in") || 0));
        return ok;
      case "alarm/get":
        return json(await st.getAlarm());
      case "alarm/delete":
        await st.deleteAlarm();
        return ok;
      case "alarm/runs":
        return json({ runs: Number((await st.get("alarmruns")) || 0), lastRetry: Number((await st.get("alarmretry")) || 0) });
    }
    return new Response("no storage op " + op, { status: 404 });
  }

  async fetch(request) {
    const url = new URL(request.url);
    const q = url.searchParams;
    this.count++;
    const op = probePath(url).slice("/obj/".length);
    if (op.startsWith("st/") || op.startsWith("alarm/")) return attempt(() => this.storageOp(op, q));
    if (op === "echo" || op.startsWith("echo/")) return echo(request);
    switch (op) {
      case "count":
        return json(this.count);
      case "info": {
        const name = this.ctx.id.name;
        return json({ hasName: name !== undefined, id: this.ctx.id.toString(), name: name === undefined ? "" : name });
      }
      case "panic":
        throw new Error("probe panics on request " + this.count);
      case "fail":
        return Promise.reject(new Error("probe fails on request " + this.count));
      case "exit":
        exhaust();
        break;
      case "writeexit":
        await this.env.KV.put(q.get("key"), "written-before-exit");
        exhaust();
        break;
      case "kvput":
        await this.env.KV.put(q.get("key"), q.get("value"));
        return json("ok");
      case "call": {
        const chain = (q.get("chain") || "").split(",").filter((s) => s !== "");
        if (chain.length === 0) return json([this.ctx.id.name]);
        return attempt(() => this.env.PROBE.getByName(chain[0]).fetch("http://probe/obj/call?chain=" + chain.slice(1).join(",")));
      }
      case "log":
        console.log(q.get("msg"));
        return json("ok");
      case "busy": {
        // Holds the object's turn for ms milliseconds, computing.
        const until = Date.now() + Number(q.get("ms") || 0);
        while (Date.now() < until) {}
        return json("busy");
      }
      case "sleep":
        // Waits ms milliseconds on a timer, holding the object's turn.
        await new Promise((resolve) => setTimeout(resolve, Number(q.get("ms") || 0)));
        return json("slept");
      case "big":
        // n zero bytes, no content type (as the Go probe's NewResponse).
        return new Response(new Uint8Array(Number(q.get("n") || 0)));
      case "headers": {
        // n headers of growing values, and one name given twice.
        const n = Number(q.get("n") || 0);
        const r = new Response(new TextEncoder().encode("h"));
        for (let i = 0; i < n; i++) r.headers.append("X-H-" + String(i).padStart(3, "0"), "v".repeat(i % 50));
        r.headers.append("X-Rep", "1");
        r.headers.append("X-Rep", "2");
        return r;
      }
    }
    return new Response("no object op " + url.pathname, { status: 404 });
  }
}

export class Other extends Probe {}
