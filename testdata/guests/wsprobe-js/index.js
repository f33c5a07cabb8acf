// wsprobe-js is the WebSocket probe (testdata/guests/wsprobe) in
// JavaScript, on the Hibernation API as Workers has it and dohost's
// ctx.broadcast: the same paths, commands and answers, so that
// TestWS_Conformance holds the JavaScript runtime to what every SDK does.
// Where the Workers API has no such thing, the nearest: a socket's id is
// the host's (the runtime's ws._id: Workers names no socket, the test
// names them by the host's ids); a "trap" is an allocation past memory_mb,
// which ends the instance as a trap does; a send on a socket that is not
// accepted is refused by the runtime (a TypeError, "type" in "errors")
// before any host call. Not here: flood, storetrap and last (the Go
// probe's, for the host's own tests).
import { DurableObject } from "cloudflare:workers";

// code is the ABI code of a host call's error, "type" for a TypeError,
// or rethrows.
function code(e) {
  if (e && e.code !== undefined) return e.code;
  if (e instanceof TypeError) return "type";
  throw e;
}

// attempt is f's ABI code: 0 when it returns.
function attempt(f) {
  try {
    f();
    return 0;
  } catch (e) {
    return code(e);
  }
}

// exhaust allocates until the object's memory_mb: the runtime ends the
// instance, as a trap does in the other languages.
function exhaust() {
  const hold = [];
  for (;;) hold.push(new Uint8Array(1 << 20));
}

const text = (s, status = 200) => new Response(s, { status });

export class WSProbe extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.seen = 0;
  }

  list(tag) {
    let out = "list";
    for (const ws of this.ctx.getWebSockets(tag === "-" ? undefined : tag)) out += " " + ws._id + ":" + this.ctx.getTags(ws).join(",");
    return out;
  }

  attachment(ws) {
    const a = ws.deserializeAttachment();
    return a === null ? "" : a;
  }

  async fetch(request) {
    const url = new URL(request.url);
    const q = url.searchParams;
    if (request.headers.get("Upgrade") === "websocket") {
      const [client, server] = Object.values(new WebSocketPair());
      const tags = q.get("tags") ? q.get("tags").split(",") : [];
      try {
        this.ctx.acceptWebSocket(server, tags);
      } catch (e) {
        return text("err " + code(e), 400);
      }
      server.send("welcome " + server._id);
      if (q.get("fail")) throw new Error("the probe fails after accepting");
      return new Response(null, { status: 101, webSocket: client });
    }
    switch (url.pathname) {
      case "/accept":
        return text("err " + attempt(() => this.ctx.acceptWebSocket(new WebSocketPair()[1])));
      case "/list":
        return text(this.list(q.get("tag") || ""));
      case "/broadcast":
        return text("sent " + this.ctx.broadcast(q.get("msg") || "", { tag: q.get("tag") || "" }));
    }
    return text("no such path", 404);
  }

  async webSocketMessage(ws, message) {
    this.seen++;
    if (typeof message !== "string") {
      ws.send(message);
      return;
    }
    const sp = message.indexOf(" ");
    const cmd = sp < 0 ? message : message.slice(0, sp);
    const arg = sp < 0 ? "" : message.slice(sp + 1);
    let reply = "";
    switch (cmd) {
      case "whoami":
        reply = "you " + ws._id;
        break;
      case "echo":
        reply = arg;
        break;
      case "bcast": {
        const s = arg.indexOf(" ");
        const tag = s < 0 ? arg : arg.slice(0, s);
        reply = "sent " + this.ctx.broadcast(s < 0 ? "" : arg.slice(s + 1), { tag: tag === "-" ? "" : tag });
        break;
      }
      case "bcastx":
        reply = "sent " + this.ctx.broadcast(arg, { except: ws });
        break;
      case "list":
        reply = this.list(arg);
        break;
      case "attach":
        ws.serializeAttachment(arg);
        reply = "ok";
        break;
      case "getattach": {
        let target = ws;
        if (arg !== "") {
          for (const s of this.ctx.getWebSockets()) if (String(s._id) === arg) target = s;
        }
        reply = "attach " + this.attachment(target);
        break;
      }
      case "close": {
        const s = arg.indexOf(" ");
        ws.close(Number(s < 0 ? arg : arg.slice(0, s)), s < 0 ? "" : arg.slice(s + 1));
        return;
      }
      case "auto": {
        const s = arg.indexOf(" ");
        this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(arg.slice(0, s), arg.slice(s + 1)));
        reply = "ok";
        break;
      }
      case "autotime": {
        const t = this.ctx.getWebSocketAutoResponseTimestamp(ws);
        reply = t === null ? "autotime none" : "autotime " + t.getTime();
        break;
      }
      case "mem":
        reply = "mem " + this.seen;
        break;
      case "store":
        await this.ctx.storage.put("last", arg);
        reply = "stored " + arg;
        break;
      case "fail":
        ws.send("never");
        throw new Error("the probe fails on purpose");
      case "trap":
        ws.send("never");
        exhaust();
        break;
      case "errors": {
        const c1 = attempt(() => new WebSocketPair()[1].send("x"));
        const c2 = attempt(() => ws.close(1001, "reserved"));
        const c3 = attempt(() => ws.serializeAttachment("a".repeat(3000)));
        const c4 = attempt(() => this.ctx.acceptWebSocket(new WebSocketPair()[1]));
        reply = ["errors", c1, c2, c3, c4].join(" ");
        break;
      }
      case "big":
        try {
          ws.send("b".repeat(Number(arg)));
        } catch (e) {
          reply = "err " + code(e);
        }
        break;
      default:
        reply = "unknown " + cmd;
    }
    if (reply !== "") ws.send(reply);
  }

  async webSocketClose(ws, code, reason, wasClean) {
    this.ctx.broadcast(["closed", ws._id, code, wasClean ? 1 : 0, this.attachment(ws)].join(" "), { except: ws });
  }

  async webSocketError(ws, error) {
    this.ctx.broadcast(["error", ws._id, this.attachment(ws)].join(" "), { except: ws });
  }
}

export default {
  async fetch(request, env) {
    const room = new URL(request.url).searchParams.get("room") || "r";
    return env.WSPROBE.get(env.WSPROBE.idFromName(room)).fetch(request);
  },
};
