// The chat example (guests/examples/chat) in JavaScript, on the
// Hibernation API as Workers has it: a client connects to
// ws://HOST/?room=R; every text message a client sends is stored (the last
// 50 are kept in the room's storage) and sent to every client of the room,
// the sender included; a client that joins first receives the stored
// messages, oldest first. "ping" is answered "pong" by the host without
// waking the room.
//
// GET /?room=R (without upgrading) answers the stored messages as JSON;
// PUT /kv?key=K stores the body in the KV namespace; POST
// /announce?room=R&key=K reads the KV key K once and sends its value to
// every client of the room.
import { DurableObject } from "cloudflare:workers";

const KEEP = 50;

// msgKey is the storage key of message n: keys sort in message order.
const msgKey = (n) => "msg:" + n.toString(16).padStart(16, "0");

export class ChatRoom extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    ctx.blockConcurrencyWhile(async () => {
      this.seq = (await ctx.storage.get("seq")) || 0;
    });
  }

  async history() {
    return [...(await this.ctx.storage.list({ prefix: "msg:" })).values()];
  }

  async fetch(request) {
    const url = new URL(request.url);
    if (request.headers.get("Upgrade") === "websocket") {
      const [client, server] = Object.values(new WebSocketPair());
      this.ctx.acceptWebSocket(server, ["chat"]);
      for (const m of await this.history()) server.send(m);
      return new Response(null, { status: 101, webSocket: client });
    }
    if (url.pathname === "/announce") {
      if (request.method !== "POST") return new Response("POST /announce?room=R&key=K\n", { status: 405 });
      const v = await this.env.ANNOUNCEMENTS.get(url.searchParams.get("key"));
      if (v === null) return new Response("no such key\n", { status: 404 });
      const sockets = this.ctx.getWebSockets();
      for (const ws of sockets) ws.send(v);
      return Response.json({ sent: sockets.length });
    }
    return Response.json({ messages: await this.history() });
  }

  async webSocketMessage(ws, message) {
    if (typeof message !== "string") {
      ws.close(4000, "text messages only");
      return;
    }
    const next = this.seq + 1;
    await this.ctx.storage.put({ [msgKey(next)]: message, seq: next });
    if (next > KEEP) await this.ctx.storage.delete(msgKey(next - KEEP));
    this.seq = next;
    for (const s of this.ctx.getWebSockets()) s.send(message);
  }

  async webSocketClose(ws, code, reason, wasClean) {}
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/kv") {
      if (request.method !== "PUT") return new Response("PUT /kv?key=K with the value as the body\n", { status: 405 });
      await env.ANNOUNCEMENTS.put(url.searchParams.get("key"), await request.arrayBuffer());
      return new Response("stored\n");
    }
    const room = url.searchParams.get("room");
    if (!room) return new Response("missing room query parameter: connect to ws://HOST/?room=lobby\n", { status: 400 });
    return env.ROOMS.get(env.ROOMS.idFromName(room)).fetch(request);
  },
};
