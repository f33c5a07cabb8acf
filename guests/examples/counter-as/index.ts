// counter-as is the counter example in AssemblyScript, answering as the Go
// counter does. The Worker routes /?name=N to the object named N:
//
//   POST /?name=N               adds one and answers {"name": N, "value": v}
//   GET  /?name=N               answers the same without changing it
//   POST /?name=N&resetAfter=S  adds one and sets an alarm that resets the
//                               counter to 0 after S seconds
//
//   make guests/examples/counter-as/counter-as.wasm

import * as dohost from "../../assemblyscript/dohost";
export {
  dohost_abi_v1, dohost_worker_fetch, dohost_classes, dohost_object_new, dohost_object_fetch, dohost_object_alarm,
} from "../../assemblyscript/dohost";

const counters = new dohost.DurableObjectNamespace("COUNTERS");
const valueKey = dohost.bytes("value");

function failCall(): dohost.Response | null {
  dohost.fail(dohost.lastError()!.message);
  return null;
}

function jsonError(status: i32, msg: string): dohost.Response {
  return dohost.Response.json(status, new dohost.Builder().str('{"error":').jsonString(msg).str("}").bytes());
}

function fetch(req: dohost.Request): dohost.Response | null {
  const name = req.queryBytes("name");
  if (name == null || name.length == 0) {
    return jsonError(400, "missing name query parameter: try POST /?name=visits");
  }
  const id = counters.idFromName(name);
  if (id == null) return failCall();
  const resp = counters.fetch(id, req);
  return resp == null ? failCall() : resp;
}

// isDecimal reports whether s is a decimal number as Go's strconv.ParseFloat
// reads one, or one of its words for infinity and NaN.
function isDecimal(s: string): bool {
  const w = s.toLowerCase();
  const body = w.startsWith("+") || w.startsWith("-") ? w.substring(1) : w;
  if (body == "inf" || body == "infinity" || body == "nan") return true;
  let i = 0, digits = 0;
  while (i < body.length && body.charCodeAt(i) >= 0x30 && body.charCodeAt(i) <= 0x39) { i++; digits++; }
  if (i < body.length && body.charCodeAt(i) == 0x2e) {
    i++;
    while (i < body.length && body.charCodeAt(i) >= 0x30 && body.charCodeAt(i) <= 0x39) { i++; digits++; }
  }
  if (digits == 0) return false;
  if (i < body.length && body.charCodeAt(i) == 0x65) {
    i++;
    if (i < body.length && (body.charCodeAt(i) == 0x2b || body.charCodeAt(i) == 0x2d)) i++;
    let exp = 0;
    while (i < body.length && body.charCodeAt(i) >= 0x30 && body.charCodeAt(i) <= 0x39) { i++; exp++; }
    if (exp == 0) return false;
  }
  return i == body.length;
}

// A counter's value lives only in storage; in memory it keeps its name.
class Counter extends dohost.DurableObject {
  constructor(public name: Uint8Array) {
    super();
  }

  fetch(req: dohost.Request): dohost.Response | null {
    let v: i64 = 0;
    const stored = dohost.storage.get(valueKey);
    if (stored == null && dohost.lastError() != null) return failCall();
    if (stored != null) v = I64.parseInt(dohost.text(stored), 10);
    if (req.method == "POST") {
      v++;
      if (!dohost.storage.put(valueKey, dohost.bytes(v.toString()))) return failCall();
      const after = req.query("resetAfter");
      if (after != null && after.length > 0) {
        const secs = isDecimal(after) ? F64.parseFloat(after) : -1;
        if (!(secs >= 0)) return jsonError(400, "resetAfter must be a number of seconds");
        if (!dohost.storage.setAlarm(dohost.nowMs() + <u64>(secs * 1000))) return failCall();
      }
    } else if (req.method != "GET" && req.method != "HEAD") {
      return jsonError(405, "use GET or POST").withHeader("Allow", "GET, POST");
    }
    const b = new dohost.Builder();
    b.str('{"name":').json(this.name).str(',"value":').int(v).str("}");
    return dohost.Response.json(200, b.bytes());
  }

  // alarm resets the counter.
  alarm(info: dohost.AlarmInfo): bool {
    if (dohost.storage.put(valueKey, dohost.bytes("0"))) return true;
    dohost.fail(dohost.lastError()!.message);
    return false;
  }
}

dohost.handle(fetch);
dohost.registerClass("Counter", (info: dohost.ObjectInfo): dohost.DurableObject =>
  new Counter(info.hasName ? dohost.bytes(info.name) : new Uint8Array(0)));
