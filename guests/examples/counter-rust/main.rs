//! counter-rust is the counter example in Rust, answering as the Go counter
//! does. The Worker routes /?name=N to the object named N:
//!
//!     POST /?name=N               adds one and answers {"name": N, "value": v}
//!     GET  /?name=N               answers the same without changing it
//!     POST /?name=N&resetAfter=S  adds one and sets an alarm that resets the
//!                                 counter to 0 after S seconds
//!
//!     make guests/examples/counter-rust/counter-rust.wasm

use dohost::{json_string, storage, AlarmInfo, Namespace, Object, ObjectInfo, Request, Response, Result};

const COUNTERS: Namespace = Namespace::new("COUNTERS");

fn json_error(status: u16, msg: &str) -> Response {
    let mut out = String::from("{\"error\":");
    json_string(&mut out, msg);
    out.push('}');
    Response::json(status, out)
}

fn fetch(req: &Request) -> Result<Response> {
    let name = req.query_bytes("name").unwrap_or_default();
    if name.is_empty() {
        return Ok(json_error(400, "missing name query parameter: try POST /?name=visits"));
    }
    let id = COUNTERS.id_from_name(&name)?;
    COUNTERS.fetch(&id, req)
}

/// A counter's value lives only in storage; in memory it keeps its name.
struct Counter {
    name: String,
}

/// parse_seconds parses a number of seconds as Go's strconv.ParseFloat
/// does for decimal numbers.
fn parse_seconds(s: &str) -> Option<f64> {
    if s.starts_with(|c: char| c.is_ascii_whitespace()) || s.contains(|c| c == 'x' || c == 'X' || c == '_') {
        return None;
    }
    s.parse::<f64>().ok()
}

impl Object for Counter {
    fn fetch(&mut self, req: &Request) -> Result<Response> {
        let mut v: i64 = match storage::get("value")? {
            Some(b) => String::from_utf8_lossy(&b).parse().map_err(|_| dohost::Error::new("the stored value is not a number"))?,
            None => 0,
        };
        match req.method.as_str() {
            "GET" | "HEAD" => {}
            "POST" => {
                v += 1;
                storage::put("value", v.to_string())?;
                if let Some(s) = req.query("resetAfter").filter(|s| !s.is_empty()) {
                    let secs = match parse_seconds(&s) {
                        Some(secs) if secs >= 0.0 => secs,
                        _ => return Ok(json_error(400, "resetAfter must be a number of seconds")),
                    };
                    storage::set_alarm(dohost::now_ms() + (secs * 1000.0) as u64)?;
                }
            }
            _ => return Ok(json_error(405, "use GET or POST").with_header("Allow", "GET, POST")),
        }
        let mut out = String::from("{\"name\":");
        json_string(&mut out, &self.name);
        out.push_str(&format!(",\"value\":{}}}", v));
        Ok(Response::json(200, out))
    }

    /// alarm resets the counter.
    fn alarm(&mut self, _: &AlarmInfo) -> Result<()> {
        storage::put("value", "0")
    }
}

fn new_counter(info: &ObjectInfo) -> Result<Box<dyn Object>> {
    Ok(Box::new(Counter { name: info.name.clone().unwrap_or_default() }))
}

dohost::export!(fetch: fetch, classes: ["Counter" => new_counter]);
