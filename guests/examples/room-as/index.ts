// room-as is the seed example in AssemblyScript, answering as the Go room
// does: the Worker reads ?roomId=, routes the request to the object of
// that name, and the object reads and writes the KV key last-room and
// counts its requests in memory.
//
//   make guests/examples/room-as/room-as.wasm

import * as dohost from "../../assemblyscript/dohost";
export {
  dohost_abi_v1, dohost_worker_fetch, dohost_classes, dohost_object_new, dohost_object_fetch, dohost_object_alarm,
} from "../../assemblyscript/dohost";

const kv = new dohost.KVNamespace("YOUR_KV_NAMESPACE");
const rooms = new dohost.DurableObjectNamespace("YOUR_DO_CLASS");
const lastRoom = dohost.bytes("last-room");

function failCall(): dohost.Response | null {
  dohost.fail(dohost.lastError()!.message);
  return null;
}

function fetch(req: dohost.Request): dohost.Response | null {
  const room = req.queryBytes("roomId");
  if (room == null || room.length == 0) {
    return dohost.Response.json(400, dohost.bytes('{"error":"missing roomId query parameter: try /?roomId=lobby"}'));
  }
  const id = rooms.idFromName(room);
  if (id == null) return failCall();
  const resp = rooms.fetch(id, req);
  return resp == null ? failCall() : resp;
}

// A room: its request count lives in memory only, and starts over when
// the object restarts.
class Room extends dohost.DurableObject {
  requests: i64 = 0;

  fetch(req: dohost.Request): dohost.Response | null {
    let room = req.queryBytes("roomId");
    if (room == null) room = new Uint8Array(0);
    const prev = kv.get(lastRoom);
    if (prev == null && dohost.lastError() != null) return failCall();
    if (!kv.put(lastRoom, room)) return failCall();
    this.requests++;
    const b = new dohost.Builder();
    b.str('{"room":').json(room).str(',"previousRoom":');
    if (prev != null) b.json(prev);
    else b.str("null");
    b.str(',"requests":').int(this.requests).str("}");
    return dohost.Response.json(200, b.bytes());
  }
}

dohost.handle(fetch);
dohost.registerClass("YourDurableObject", (info: dohost.ObjectInfo): dohost.DurableObject => new Room());
