// A Durable Object that keeps a counter in its durable storage, as
// guests/examples/counter does in Go. The Worker routes /?name=N to the
// object named N:
//
//	POST /?name=N               adds one and answers {"name": N, "value": v}
//	GET  /?name=N               answers the same without changing it
//	POST /?name=N&resetAfter=S  adds one and sets an alarm that resets the
//	                            counter to 0 after S seconds
//
// dohost commits the object's writes, synced to disk, before the response
// leaves: a value a client has seen survives a crash of the host.
import { DurableObject } from "cloudflare:workers";

// json answers v as JSON, escaped as the Go counter's encoder escapes it
// (<, >, &, the line separators and the replacement character that stands
// for bytes that were not UTF-8 as \u escapes), so that the two answer
// alike byte for byte.
function json(v, init) {
  const body = JSON.stringify(v).replace(/[<>&\u2028\u2029\ufffd]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  const headers = Object.assign({ "Content-Type": "application/json" }, init && init.headers);
  return new Response(body, Object.assign({}, init, { headers }));
}

export class Counter extends DurableObject {
  async fetch(request) {
    const name = this.ctx.id.name;
    let value = (await this.ctx.storage.get("value")) || 0;
    switch (request.method) {
      case "GET":
      case "HEAD":
        break;
      case "POST": {
        value++;
        await this.ctx.storage.put("value", value);
        const after = new URL(request.url).searchParams.get("resetAfter");
        if (after !== null) {
          // A number as Go's strconv.ParseFloat reads one: no spaces.
          const secs = after !== "" && after.trim() === after ? Number(after) : NaN;
          if (!(secs >= 0)) {
            return json({ error: "resetAfter must be a number of seconds" }, { status: 400 });
          }
          await this.ctx.storage.setAlarm(Date.now() + secs * 1000);
        }
        break;
      }
      default:
        return json({ error: "use GET or POST" }, { status: 405, headers: { Allow: "GET, POST" } });
    }
    return json({ name, value });
  }

  async alarm() {
    await this.ctx.storage.put("value", 0);
  }
}

export default {
  async fetch(request, env) {
    const name = new URL(request.url).searchParams.get("name");
    if (!name) {
      return json({ error: "missing name query parameter: try POST /?name=visits" }, { status: 400 });
    }
    const stub = env.COUNTERS.get(env.COUNTERS.idFromName(name));
    return stub.fetch(request);
  },
};
