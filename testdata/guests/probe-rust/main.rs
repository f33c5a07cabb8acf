//! probe-rust is the probe test guest (testdata/guests/probe) through the
//! Rust SDK: the same paths, the same answers, so that the host's tests run
//! one table of checks on every language's build. It serves every path of
//! the Go probe but those about Go itself (sandbox, chatty); panic
//! is a failure here, as the host would see a Rust panic as a trap.

use dohost::{json_bytes, json_string, storage, AlarmInfo, Error, Kv, Namespace, Object, ObjectInfo, PutOptions, Request, Response, Result};

const KV: Kv = Kv::new("KV");
const PROBE: Namespace = Namespace::new("PROBE");
const OTHER: Namespace = Namespace::new("OTHER");

fn json(status: u16, body: String) -> Result<Response> {
    Ok(Response::json(status, body))
}

fn jstr(s: &[u8]) -> String {
    let mut out = String::new();
    json_bytes(&mut out, s);
    out
}

const OK: &str = "\"ok\"";

/// error_response reports a host call's error as the Go probe does: 502
/// with its code, the code's name and the host's message.
fn error_response(e: Error) -> Result<Response> {
    let names = [
        "ok", "not found", "bad pointer", "bad encoding", "no such binding", "too large", "invalid argument",
        "call cycle", "object error", "bad state", "overloaded", "timeout", "internal error", "guest error",
    ];
    let name = names.get(e.code as usize).copied().unwrap_or("?");
    let mut out = format!("{{\"code\":{},\"codeName\":", e.code);
    json_string(&mut out, name);
    out.push_str(",\"message\":");
    json_string(&mut out, &e.message);
    out.push('}');
    json(502, out)
}

/// or_error answers r's error with error_response.
fn or_error(r: Result<Response>) -> Result<Response> {
    r.or_else(error_response)
}

/// path is the request's path without a leading /p segment.
fn path(req: &Request) -> String {
    let p = req.path();
    match p.strip_prefix("/p/") {
        Some(rest) => format!("/{}", rest),
        None => p.to_string(),
    }
}

fn q(req: &Request, name: &str) -> String {
    req.query(name).unwrap_or_default()
}

/// atoi parses as Go's strconv.Atoi, 0 when it fails.
fn atoi(s: &str) -> i64 {
    s.parse().unwrap_or(0)
}

fn rfc3339(secs: u64) -> String {
    if secs == 0 {
        return "\"0001-01-01T00:00:00Z\"".to_string();
    }
    let (days, rem) = ((secs / 86400) as i64, secs % 86400);
    let z = days + 719468;
    let era = z / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z\"", y, m, d, rem / 3600, rem / 60 % 60, rem % 60)
}

fn base64(b: &[u8]) -> String {
    const TAB: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in b.chunks(3) {
        let v = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        out.push(TAB[(v >> 18 & 63) as usize] as char);
        out.push(TAB[(v >> 12 & 63) as usize] as char);
        out.push(if c.len() > 1 { TAB[(v >> 6 & 63) as usize] as char } else { '=' });
        out.push(if c.len() > 2 { TAB[(v & 63) as usize] as char } else { '=' });
    }
    out
}

fn kv_list(req: &Request) -> Result<Response> {
    let l = match KV.list(&q(req, "prefix"), &q(req, "cursor"), atoi(&q(req, "limit")) as u32) {
        Ok(l) => l,
        Err(e) => return error_response(e),
    };
    let keys: Vec<String> = l
        .keys
        .iter()
        .map(|k| {
            let meta = if k.metadata.is_empty() { "null".to_string() } else { format!("\"{}\"", base64(&k.metadata)) };
            format!("{{\"Name\":{},\"Expiration\":{},\"Metadata\":{}}}", jstr(k.name.as_bytes()), rfc3339(k.expiration), meta)
        })
        .collect();
    json(200, format!("{{\"Keys\":[{}],\"ListComplete\":{},\"Cursor\":{}}}", keys.join(","), l.list_complete, jstr(l.cursor.as_bytes())))
}

/// echo answers with the request as the handler sees it, as the Go probe
/// does: method, URL, headers (lower-case names, sorted, each name's values
/// in order: as the record has them) and body (base64).
fn echo(req: &Request) -> Result<Response> {
    let hs: Vec<String> = req.headers.iter().map(|(k, v)| format!("[{},{}]", jstr(k.as_bytes()), jstr(v.as_bytes()))).collect();
    json(200, format!("{{\"body\":\"{}\",\"headers\":[{}],\"method\":{},\"url\":{}}}", base64(&req.body), hs.join(","), jstr(req.method.as_bytes()), jstr(req.url.as_bytes())))
}

fn fetch(req: &Request) -> Result<Response> {
    let p = path(req);
    if p == "/echo" || p.starts_with("/echo/") {
        return echo(req);
    }
    match p.as_str() {
        "/worker/fail" => return Err(Error::new(format!("the probe worker fails with a secret: {}", q(req, "secret")))),
        "/worker/panic" => return Err(Error::new(format!("the probe worker panics with a secret: {}", q(req, "secret")))),
        "/worker/storage" => {
            return match storage::get("k") {
                Err(e) => error_response(e),
                Ok(_) => json(200, "\"no error\"".to_string()),
            }
        }
        "/stub/badheader" => {
            let id = PROBE.id_from_name("b")?;
            let mut r = Request::new("GET", "http://probe/obj/count");
            r.headers.push(("Bad Name".to_string(), "x".to_string()));
            return match PROBE.fetch(&id, &r) {
                Err(e) => error_response(e),
                Ok(_) => json(200, "\"no error\"".to_string()),
            };
        }
        "/env" => {
            return match dohost::var(&q(req, "name"))? {
                Some(v) => json(200, jstr(v.as_bytes())),
                None => json(404, "null".to_string()),
            }
        }
        "/kv/get" => {
            return match KV.get(q(req, "key"))? {
                Some(v) => json(200, jstr(&v)),
                None => json(404, "null".to_string()),
            }
        }
        "/kv/put" => {
            let o = PutOptions { expiration_ttl: atoi(&q(req, "ttl")) as u64, metadata: q(req, "meta").into_bytes(), ..Default::default() };
            return or_error(KV.put_with(q(req, "key"), q(req, "value"), &o).and_then(|_| json(200, OK.to_string())));
        }
        "/kv/putget" => {
            KV.put(q(req, "key"), q(req, "value"))?;
            return Ok(Response::new(200, KV.get(q(req, "key"))?.unwrap_or_default()));
        }
        "/kv/delete" => return or_error(KV.delete(q(req, "key")).and_then(|_| json(200, OK.to_string()))),
        "/kv/list" => return kv_list(req),
        "/kv/nobinding" => {
            return match Kv::new("NOPE").get("x") {
                Err(e) => error_response(e),
                Ok(_) => json(200, OK.to_string()),
            }
        }
        "/id/name" => return json(200, jstr(PROBE.id_from_name(q(req, "name"))?.as_bytes())),
        "/id/unique" => return json(200, jstr(PROBE.new_unique_id()?.as_bytes())),
        "/id/parse" => return or_error(PROBE.id_from_string(&q(req, "id")).and_then(|id| json(200, jstr(id.as_bytes())))),
        _ => {}
    }
    if let Some(op) = p.strip_prefix("/byid/") {
        let id = match PROBE.id_from_string(&q(req, "id")) {
            Ok(id) => id,
            Err(e) => return error_response(e),
        };
        let fwd = Request::new(&req.method, &format!("http://probe/obj/{}?{}", op, req.raw_query()));
        return or_error(PROBE.fetch(&id, &fwd));
    }
    if p.starts_with("/obj/") {
        let ns = if q(req, "ns") == "other" { OTHER } else { PROBE };
        let id = ns.id_from_name(q(req, "name"))?;
        return or_error(ns.fetch(&id, req));
    }
    Ok(Response::text(404, format!("no route {}", p)))
}

struct Probe {
    count: i64,
    id: String,
    name: Option<String>,
    ctor: Option<Vec<u8>>, // what the constructor read from storage
}

fn new_probe(info: &ObjectInfo) -> Result<Box<dyn Object>> {
    // Read storage before the first request; count the starts.
    let ctor = storage::get("starts")?;
    let n = atoi(&String::from_utf8_lossy(ctor.as_deref().unwrap_or(&[])));
    storage::put("starts", (n + 1).to_string())?;
    Ok(Box::new(Probe { count: 0, id: info.id.clone(), name: info.name.clone(), ctor }))
}

fn stored(key: &str) -> i64 {
    storage::get(key).ok().flatten().map(|v| atoi(&String::from_utf8_lossy(&v))).unwrap_or(0)
}

fn repeat(c: u8, n: i64) -> Vec<u8> {
    vec![c; n.max(0) as usize]
}

impl Probe {
    fn storage_op(&mut self, op: &str, req: &Request) -> Result<Response> {
        let mut key = q(req, "key").into_bytes();
        let mut value = q(req, "value").into_bytes();
        let n = atoi(&q(req, "keysize"));
        if n > 0 {
            key = repeat(b'k', n);
        }
        let n = atoi(&q(req, "size"));
        if n > 0 {
            value = repeat(b'v', n);
        }
        let ok = || json(200, OK.to_string());
        let r = match op {
            "st/get" => storage::get(&key).and_then(|v| json(200, format!("{{\"found\":{},\"value\":{}}}", v.is_some(), jstr(&v.unwrap_or_default())))),
            "st/put" => storage::put(&key, &value).and_then(|_| ok()),
            "st/getmulti" => {
                let keys: Vec<String> = q(req, "keys").split(',').map(String::from).collect();
                storage::get_multi(&keys).and_then(|vs| {
                    let mut found: Vec<(&String, Vec<u8>)> = keys.iter().zip(vs).filter_map(|(k, v)| v.map(|v| (k, v))).collect();
                    found.sort_by(|a, b| a.0.cmp(b.0));
                    found.dedup_by(|a, b| a.0 == b.0);
                    let fields: Vec<String> = found.iter().map(|(k, v)| format!("{}:{}", jstr(k.as_bytes()), jstr(v))).collect();
                    json(200, format!("{{{}}}", fields.join(",")))
                })
            }
            "st/putmulti" => {
                let prefix = q(req, "prefix");
                let entries: Vec<(String, Vec<u8>)> = (0..atoi(&q(req, "n"))).map(|i| (format!("{}{:04}", prefix, i), value.clone())).collect();
                storage::put_multi(&entries).and_then(|_| ok())
            }
            "st/delete" => storage::delete(&key).and_then(|existed| json(200, existed.to_string())),
            "st/deletemulti" => {
                let keys: Vec<String> = q(req, "keys").split(',').map(String::from).collect();
                storage::delete_multi(&keys).and_then(|n| json(200, n.to_string()))
            }
            "st/list" | "st/count" => {
                let count = op == "st/count";
                let mut o = storage::ListOptions { prefix: q(req, "prefix").into_bytes(), start: q(req, "start").into_bytes(), ..Default::default() };
                let after = q(req, "startAfter");
                if !after.is_empty() {
                    o.start = after.into_bytes();
                    o.start_after = true;
                }
                let end = q(req, "end");
                if !end.is_empty() {
                    o.end = Some(end.into_bytes());
                }
                o.reverse = !count && !q(req, "reverse").is_empty();
                o.keys_only = count || !q(req, "keysOnly").is_empty();
                o.limit = if count { 0 } else { atoi(&q(req, "limit")) as u32 };
                storage::list(&o).and_then(|es| {
                    if count {
                        return json(200, es.len().to_string());
                    }
                    let items: Vec<String> = es.iter().map(|(k, v)| format!("[{},{}]", jstr(k), jstr(v))).collect();
                    json(200, format!("[{}]", items.join(",")))
                })
            }
            "st/deleteall" => storage::delete_all().and_then(|_| ok()),
            "st/txn" => {
                let fail = !q(req, "fail").is_empty();
                let res = storage::transaction(|| {
                    storage::put(&key, &value)?;
                    if fail {
                        return Err(Error::new("the transaction fails on purpose"));
                    }
                    Ok(())
                });
                match res {
                    Ok(()) => ok(),
                    Err(e) => json(409, jstr(e.message.as_bytes())),
                }
            }
            "st/nested" => storage::transaction(|| {
                storage::put("outer", "kept")?;
                let inner = storage::transaction(|| -> Result<()> {
                    storage::put("inner", "dropped")?;
                    Err(Error::new("inner fails"))
                });
                if inner.is_ok() {
                    return Err(Error::new("inner transaction did not fail"));
                }
                Ok(())
            })
            .and_then(|_| ok()),
            "st/putexit" => {
                storage::put(&key, "written-before-exit")?;
                std::process::exit(5)
            }
            "st/ctor" => json(200, format!("{{\"found\":{},\"read\":{}}}", self.ctor.is_some(), jstr(self.ctor.as_deref().unwrap_or(&[])))),
            "alarm/set" => storage::set_alarm(dohost::now_ms() + atoi(&q(req, "in")) as u64).and_then(|_| ok()),
            "alarm/get" => storage::get_alarm().and_then(|t| json(200, t.map(|t| t.to_string()).unwrap_or_else(|| "null".to_string()))),
            "alarm/delete" => storage::delete_alarm().and_then(|_| ok()),
            "alarm/runs" => json(200, format!("{{\"lastRetry\":{},\"runs\":{}}}", stored("alarmretry"), stored("alarmruns"))),
            _ => Ok(Response::text(404, format!("no storage op {}", op))),
        };
        or_error(r)
    }
}

impl Object for Probe {
    fn fetch(&mut self, req: &Request) -> Result<Response> {
        self.count += 1;
        let p = path(req);
        let op = p.strip_prefix("/obj/").unwrap_or(&p).to_string();
        if op.starts_with("st/") || op.starts_with("alarm/") {
            return self.storage_op(&op, req);
        }
        let name = self.name.clone().unwrap_or_default();
        match op.as_str() {
            _ if op == "echo" || op.starts_with("echo/") => echo(req),
            "count" => json(200, self.count.to_string()),
            "info" => json(200, format!("{{\"hasName\":{},\"id\":{},\"name\":{}}}", self.name.is_some(), jstr(self.id.as_bytes()), jstr(name.as_bytes()))),
            "panic" | "fail" => Err(Error::new(format!("probe {}s on request {}", op, self.count))),
            "exit" => std::process::exit(3),
            "writeexit" => {
                KV.put(q(req, "key"), "written-before-exit")?;
                std::process::exit(4)
            }
            "kvput" => {
                KV.put(q(req, "key"), q(req, "value"))?;
                json(200, OK.to_string())
            }
            "busy" => {
                // Holds the object's turn for ms milliseconds, computing.
                let until = dohost::now_ms() + atoi(&q(req, "ms")) as u64;
                while dohost::now_ms() < until {}
                json(200, "\"busy\"".to_string())
            }
            "sleep" => {
                // Waits ms milliseconds, holding the object's turn (WASI's
                // poll_oneoff on a clock: not running time).
                std::thread::sleep(std::time::Duration::from_millis(atoi(&q(req, "ms")) as u64));
                json(200, "\"slept\"".to_string())
            }
            "call" => {
                let chain = q(req, "chain");
                if chain.is_empty() {
                    return json(200, format!("[{}]", jstr(name.as_bytes())));
                }
                let (next, rest) = match chain.find(',') {
                    Some(i) => (&chain[..i], &chain[i + 1..]),
                    None => (chain.as_str(), ""),
                };
                let id = PROBE.id_from_name(next)?;
                or_error(PROBE.fetch(&id, &Request::new("GET", &format!("http://probe/obj/call?chain={}", rest))))
            }
            "log" => {
                let msg = q(req, "msg");
                dohost::log(dohost::level::INFO, &msg);
                println!("stdout: {}", msg);
                json(200, OK.to_string())
            }
            "headers" => {
                // n headers of growing values, and one name given twice.
                let mut r = Response::new(200, "h");
                for i in 0..atoi(&q(req, "n")) {
                    r = r.with_header(&format!("x-h-{:03}", i), &"v".repeat((i % 50) as usize));
                }
                Ok(r.with_header("x-rep", "1").with_header("x-rep", "2"))
            }
            "big" => Ok(Response::new(200, repeat(0, atoi(&q(req, "n"))))),
            _ => Ok(Response::text(404, format!("no object op {}", req.path()))),
        }
    }

    /// alarm counts its runs in storage, and fails while alarmfail is
    /// above 0; while alarmrearm is, it re-arms for the time it ran for.
    fn alarm(&mut self, info: &AlarmInfo) -> Result<()> {
        storage::put("alarmruns", (stored("alarmruns") + 1).to_string())?;
        storage::put("alarmretry", info.retry_count.to_string())?;
        let f = stored("alarmfail");
        if f > 0 {
            let _ = storage::put("alarmfail", (f - 1).to_string());
            return Err(Error::new(format!("alarm fails on purpose ({} more)", f - 1)));
        }
        let r = stored("alarmrearm");
        if r > 0 {
            let at = storage::get_alarm()?.ok_or_else(|| Error::new("alarm/get in the alarm handler found no alarm"))?;
            let _ = storage::put("alarmrearm", (r - 1).to_string());
            return storage::set_alarm(at);
        }
        Ok(())
    }
}

dohost::export!(fetch: fetch, classes: ["Probe" => new_probe, "Other" => new_probe]);
