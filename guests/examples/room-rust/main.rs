//! room-rust is the seed example in Rust, answering as the Go room does:
//! the Worker reads ?roomId=, routes the request to the object of that
//! name, and the object reads and writes the KV key last-room and counts
//! its requests in memory.
//!
//!     make guests/examples/room-rust/room-rust.wasm

use dohost::{json_bytes, Kv, Namespace, Object, ObjectInfo, Request, Response, Result};

const KV: Kv = Kv::new("YOUR_KV_NAMESPACE");
const ROOMS: Namespace = Namespace::new("YOUR_DO_CLASS");

fn fetch(req: &Request) -> Result<Response> {
    let room = req.query_bytes("roomId").unwrap_or_default();
    if room.is_empty() {
        return Ok(Response::json(400, r#"{"error":"missing roomId query parameter: try /?roomId=lobby"}"#));
    }
    let id = ROOMS.id_from_name(&room)?;
    ROOMS.fetch(&id, req)
}

/// A room: its request count lives in memory only, and starts over when
/// the object restarts.
struct Room {
    requests: i64,
}

impl Object for Room {
    fn fetch(&mut self, req: &Request) -> Result<Response> {
        let room = req.query_bytes("roomId").unwrap_or_default();
        let prev = KV.get("last-room")?;
        KV.put("last-room", &room)?;
        self.requests += 1;
        let mut out = String::from("{\"room\":");
        json_bytes(&mut out, &room);
        out.push_str(",\"previousRoom\":");
        match prev {
            Some(p) => json_bytes(&mut out, &p),
            None => out.push_str("null"),
        }
        out.push_str(&format!(",\"requests\":{}}}", self.requests));
        Ok(Response::json(200, out))
    }
}

fn new_room(_: &ObjectInfo) -> Result<Box<dyn Object>> {
    Ok(Box::new(Room { requests: 0 }))
}

dohost::export!(fetch: fetch, classes: ["YourDurableObject" => new_room]);
