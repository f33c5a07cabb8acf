// The seed example, Cloudflare's "Use KV from Durable Objects", as the Go
// room (guests/examples/room) serves it, in TypeScript: the Worker reads
// ?roomId=, routes the request to the object of that name, and the object
// reads and writes the KV key last-room and counts its requests in memory.
// It answers every request byte for byte as the Go room does.
import { DurableObject } from "cloudflare:workers";

interface Env {
  YOUR_KV_NAMESPACE: KVNamespace;
  YOUR_DO_CLASS: DurableObjectNamespace;
}

// queryParam reads a query parameter as Go's url.Values does, so that odd
// queries agree with the Go room: pairs with a ';' or a bad %-escape are
// left out, and the first value wins.
function queryParam(url: string, name: string): string {
  const q = new URL(url).search.slice(1);
  for (const pair of q.split("&")) {
    if (pair === "" || pair.includes(";")) continue;
    const i = pair.indexOf("=");
    const [k, v] = i < 0 ? [pair, ""] : [pair.slice(0, i), pair.slice(i + 1)];
    let key: string, value: string;
    try {
      key = decode(k);
      value = decode(v);
    } catch {
      continue;
    }
    if (key === name) return value;
  }
  return "";
}

function decode(s: string): string {
  if (/%(?![0-9a-fA-F]{2})/.test(s)) throw new URIError("bad escape");
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "+") bytes.push(0x20);
    else if (c === "%") {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else for (const b of new TextEncoder().encode(c)) bytes.push(b);
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

// json answers v as Go's encoder writes it: <, >, &, the line separators
// and the replacement character (which stands for bytes that were not
// UTF-8) escaped.
function json(status: number, v: unknown): Response {
  const body = JSON.stringify(v).replace(/[<>&\u2028\u2029\ufffd]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  return new Response(body, { status, headers: { "Content-Type": "application/json" } });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const roomId = queryParam(request.url, "roomId");
    if (roomId === "") {
      return json(400, { error: "missing roomId query parameter: try /?roomId=lobby" });
    }
    const stub = env.YOUR_DO_CLASS.get(env.YOUR_DO_CLASS.idFromName(roomId));
    return stub.fetch(request);
  },
};

// YourDurableObject is one room.
export class YourDurableObject extends DurableObject<Env> {
  private requests = 0; // in memory only: starts over when the object restarts

  async fetch(request: Request): Promise<Response> {
    const room = queryParam(request.url, "roomId");
    const previousRoom = await this.env.YOUR_KV_NAMESPACE.get("last-room");
    await this.env.YOUR_KV_NAMESPACE.put("last-room", room);
    this.requests++;
    return json(200, { room, previousRoom, requests: this.requests });
  }
}
