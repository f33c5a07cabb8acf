//! wsprobe-rust is the WebSocket probe (testdata/guests/wsprobe) through
//! the Rust SDK: the same commands, the same answers (all but flood, which
//! is for the host's own tests).

use dohost::{storage, ws, Error, Namespace, Object, ObjectInfo, Request, Response, Result};

const WSPROBE: Namespace = Namespace::new("WSPROBE");

fn fetch(req: &Request) -> Result<Response> {
    let room = req.query("room").filter(|r| !r.is_empty()).unwrap_or_else(|| "r".to_string());
    let id = WSPROBE.id_from_name(&room)?;
    WSPROBE.fetch(&id, req)
}

struct Probe {
    seen: u32,
}

fn new_probe(_: &ObjectInfo) -> Result<Box<dyn Object>> {
    Ok(Box::new(Probe { seen: 0 }))
}

fn code<T>(r: Result<T>) -> i32 {
    match r {
        Ok(_) => 0,
        Err(e) => e.code,
    }
}

fn list(tag: &str) -> Result<String> {
    let tag = if tag == "-" { "" } else { tag };
    let mut out = String::from("list");
    for s in ws::list(tag)? {
        out.push_str(&format!(" {}:{}", s.id, s.tags.join(",")));
    }
    Ok(out)
}

fn cut(s: &str) -> (&str, &str) {
    match s.find(' ') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    }
}

impl Object for Probe {
    fn fetch(&mut self, req: &Request) -> Result<Response> {
        if ws::is_upgrade(req) {
            let t = req.query("tags").unwrap_or_default();
            let tags: Vec<&str> = if t.is_empty() { Vec::new() } else { t.split(',').collect() };
            let s = match ws::accept(&tags) {
                Ok(s) => s,
                Err(e) => return Ok(Response::text(400, format!("err {}", e.code))),
            };
            ws::send(s.id, false, format!("welcome {}", s.id).as_bytes())?;
            if req.query("fail").map_or(false, |f| !f.is_empty()) {
                return Err(Error::new("the probe fails after accepting"));
            }
            return Ok(Response::upgrade());
        }
        match req.path() {
            "/accept" => Ok(Response::text(200, format!("err {}", code(ws::accept(&[]))))),
            "/list" => Ok(Response::text(200, list(&req.query("tag").unwrap_or_default())?)),
            "/broadcast" => {
                let n = ws::broadcast(&req.query("tag").unwrap_or_default(), 0, false, req.query("msg").unwrap_or_default().as_bytes())?;
                Ok(Response::text(200, format!("sent {}", n)))
            }
            _ => Ok(Response::text(404, "no such path")),
        }
    }

    fn ws_message(&mut self, m: &ws::Message) -> Result<()> {
        self.seen += 1;
        let me = m.socket;
        if m.binary {
            return ws::send(me, true, &m.data);
        }
        let text = String::from_utf8_lossy(&m.data).into_owned();
        let (cmd, arg) = cut(&text);
        let reply = match cmd {
            "whoami" => format!("you {}", me),
            "echo" => arg.to_string(),
            "bcast" | "bcastx" => {
                let (tag, text, except) = if cmd == "bcast" {
                    let (tag, text) = cut(arg);
                    (if tag == "-" { "" } else { tag }, text, 0)
                } else {
                    ("", arg, me)
                };
                format!("sent {}", ws::broadcast(tag, except, false, text.as_bytes())?)
            }
            "list" => list(arg)?,
            "attach" => {
                ws::set_attachment(me, arg.as_bytes())?;
                "ok".to_string()
            }
            "getattach" => {
                let id = if arg.is_empty() { me } else { arg.parse().unwrap_or(0) };
                format!("attach {}", String::from_utf8_lossy(&ws::attachment(id)?))
            }
            "close" => {
                let (c, reason) = cut(arg);
                return ws::close(me, c.parse().unwrap_or(0), reason);
            }
            "auto" => {
                let (q, p) = cut(arg);
                ws::set_auto_response(q, p)?;
                "ok".to_string()
            }
            "autotime" => match ws::auto_response_time(me)? {
                Some(t) => format!("autotime {}", t),
                None => "autotime none".to_string(),
            },
            "mem" => format!("mem {}", self.seen),
            "store" => {
                storage::put("last", arg)?;
                format!("stored {}", arg)
            }
            "fail" => {
                ws::send(me, false, b"never")?;
                return Err(Error::new("the probe fails on purpose"));
            }
            "trap" => {
                ws::send(me, false, b"never")?;
                std::process::abort();
            }
            "errors" => format!(
                "errors {} {} {} {}",
                code(ws::send(0, false, b"x")),
                code(ws::close(me, 1001, "reserved")),
                code(ws::set_attachment(me, &[0u8; 3000])),
                code(ws::accept(&[]))
            ),
            "big" => {
                let n: usize = arg.parse().unwrap_or(0);
                match ws::send(me, false, "b".repeat(n).as_bytes()) {
                    Ok(()) => return Ok(()),
                    Err(e) => format!("err {}", e.code),
                }
            }
            _ => format!("unknown {}", cmd),
        };
        ws::send(me, false, reply.as_bytes())
    }

    fn ws_close(&mut self, socket: u32, code: u32, _reason: &str, was_clean: bool) -> Result<()> {
        let a = ws::attachment(socket)?;
        let msg = format!("closed {} {} {} {}", socket, code, was_clean as u32, String::from_utf8_lossy(&a));
        ws::broadcast("", socket, false, msg.as_bytes()).map(|_| ())
    }

    fn ws_error(&mut self, socket: u32, _message: &str) -> Result<()> {
        let a = ws::attachment(socket)?;
        let msg = format!("error {} {}", socket, String::from_utf8_lossy(&a));
        ws::broadcast("", socket, false, msg.as_bytes()).map(|_| ())
    }
}

dohost::export!(fetch: fetch, classes: ["WSProbe" => new_probe]);
