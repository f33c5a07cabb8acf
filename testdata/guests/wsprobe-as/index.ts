// wsprobe-as is the WebSocket probe (testdata/guests/wsprobe) through the
// AssemblyScript SDK: the same commands, the same answers (all but flood,
// which is for the host's own tests).

import * as dohost from "../../../guests/assemblyscript/dohost";
export {
  dohost_abi_v1, dohost_worker_fetch, dohost_classes, dohost_object_new, dohost_object_fetch,
  dohost_object_ws_message, dohost_object_ws_close, dohost_object_ws_error,
} from "../../../guests/assemblyscript/dohost";

import { Request, Response, WebSocketMessage, bytes, text, storage, ws } from "../../../guests/assemblyscript/dohost";

const WSPROBE = new dohost.DurableObjectNamespace("WSPROBE");

function q(req: Request, name: string): string {
  const v = req.query(name);
  return v == null ? "" : v;
}

function failCall(): Response | null {
  dohost.fail(dohost.lastError()!.message);
  return null;
}

function code(ok: bool): i32 {
  return ok ? 0 : dohost.lastError()!.code;
}

function fetch(req: Request): Response | null {
  let room = q(req, "room");
  if (room.length == 0) room = "r";
  const id = WSPROBE.idFromName(bytes(room));
  if (id == null) return failCall();
  const resp = WSPROBE.fetch(id, req);
  return resp == null ? failCall() : resp;
}

// list is "list <id>:<tag>,<tag> …" of the open sockets with tag, or null.
function list(tag: string): string | null {
  const l = ws.list(tag == "-" ? "" : tag);
  if (l == null) return null;
  let out = "list";
  for (let i = 0; i < l.length; i++) {
    out += " " + l[i].id.toString() + ":" + l[i].tags.join(",");
  }
  return out;
}

function parseU32(s: string): u32 {
  let n: u32 = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + <u32>(c - 0x30);
  }
  return n;
}

// cut splits s at its first space.
function before(s: string): string {
  const i = s.indexOf(" ");
  return i < 0 ? s : s.substring(0, i);
}
function after(s: string): string {
  const i = s.indexOf(" ");
  return i < 0 ? "" : s.substring(i + 1);
}

class Probe extends dohost.DurableObject {
  seen: u32 = 0;

  fetch(req: Request): Response | null {
    if (ws.isUpgrade(req)) {
      const t = q(req, "tags");
      const tags: string[] = t.length == 0 ? [] : t.split(",");
      const s = ws.accept(tags);
      if (s == null) return Response.text(400, "err " + dohost.lastError()!.code.toString());
      if (!ws.sendText(s.id, "welcome " + s.id.toString())) return failCall();
      if (q(req, "fail").length > 0) {
        dohost.fail("the probe fails after accepting");
        return null;
      }
      return Response.upgrade();
    }
    const p = req.path;
    if (p == "/accept") return Response.text(200, "err " + code(ws.accept([]) != null).toString());
    if (p == "/list") {
      const l = list(q(req, "tag"));
      return l == null ? failCall() : Response.text(200, l);
    }
    if (p == "/broadcast") {
      const n = ws.broadcast(q(req, "tag"), 0, ws.TEXT, bytes(q(req, "msg")));
      return n < 0 ? failCall() : Response.text(200, "sent " + n.toString());
    }
    return Response.text(404, "no such path");
  }

  webSocketMessage(m: WebSocketMessage): bool {
    this.seen++;
    const me = m.socket;
    if (m.binary) return ws.send(me, ws.BINARY, m.data) || failed();
    const msg = m.text();
    const cmd = before(msg), arg = after(msg);
    let reply = "";
    if (cmd == "whoami") {
      reply = "you " + me.toString();
    } else if (cmd == "echo") {
      reply = arg;
    } else if (cmd == "bcast" || cmd == "bcastx") {
      let tag = "", body = arg;
      let except: u32 = 0;
      if (cmd == "bcast") {
        tag = before(arg);
        body = after(arg);
        if (tag == "-") tag = "";
      } else {
        except = me;
      }
      const n = ws.broadcast(tag, except, ws.TEXT, bytes(body));
      if (n < 0) return failed();
      reply = "sent " + n.toString();
    } else if (cmd == "list") {
      const l = list(arg);
      if (l == null) return failed();
      reply = l;
    } else if (cmd == "attach") {
      if (!ws.setAttachment(me, bytes(arg))) return failed();
      reply = "ok";
    } else if (cmd == "getattach") {
      const a = ws.attachment(arg.length == 0 ? me : parseU32(arg));
      if (a == null) return failed();
      reply = "attach " + text(a);
    } else if (cmd == "close") {
      return ws.close(me, parseU32(before(arg)), after(arg)) || failed();
    } else if (cmd == "auto") {
      if (!ws.setAutoResponse(before(arg), after(arg))) return failed();
      reply = "ok";
    } else if (cmd == "autotime") {
      const t = ws.autoResponseTime(me);
      if (t < 0 && dohost.lastError() != null) return failed();
      reply = t < 0 ? "autotime none" : "autotime " + t.toString();
    } else if (cmd == "mem") {
      reply = "mem " + this.seen.toString();
    } else if (cmd == "store") {
      if (!storage.put(bytes("last"), bytes(arg))) return failed();
      reply = "stored " + arg;
    } else if (cmd == "fail") {
      if (!ws.sendText(me, "never")) return failed();
      dohost.fail("the probe fails on purpose");
      return false;
    } else if (cmd == "trap") {
      if (!ws.sendText(me, "never")) return failed();
      unreachable();
    } else if (cmd == "errors") {
      const c1 = code(ws.sendText(0, "x"));
      const c2 = code(ws.close(me, 1001, "reserved"));
      const c3 = code(ws.setAttachment(me, new Uint8Array(3000)));
      const c4 = code(ws.accept([]) != null);
      reply = "errors " + c1.toString() + " " + c2.toString() + " " + c3.toString() + " " + c4.toString();
    } else if (cmd == "big") {
      if (ws.sendText(me, "b".repeat(<i32>parseU32(arg)))) return true;
      reply = "err " + dohost.lastError()!.code.toString();
    } else {
      reply = "unknown " + cmd;
    }
    return ws.sendText(me, reply) || failed();
  }

  webSocketClose(socket: u32, code: u32, reason: string, wasClean: bool): bool {
    const a = ws.attachment(socket);
    if (a == null) return failed();
    const msg = "closed " + socket.toString() + " " + code.toString() + " " + (wasClean ? "1" : "0") + " " + text(a);
    return ws.broadcast("", socket, ws.TEXT, bytes(msg)) >= 0 || failed();
  }

  webSocketError(socket: u32, message: string): bool {
    const a = ws.attachment(socket);
    if (a == null) return failed();
    return ws.broadcast("", socket, ws.TEXT, bytes("error " + socket.toString() + " " + text(a))) >= 0 || failed();
  }
}

// failed fails the handler with the host's message for the last call.
function failed(): bool {
  dohost.fail(dohost.lastError()!.message);
  return false;
}

dohost.handle(fetch);
dohost.registerClass("WSProbe", (info: dohost.ObjectInfo): dohost.DurableObject => new Probe());
