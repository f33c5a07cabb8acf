//! The Rust SDK for dohost guests (abi/ABI.md, version 1): a crate with no
//! dependencies, for `wasm32-wasi` (Debian's rustc 1.63 and
//! libstd-rust-dev-wasm32; no cargo needed).
//!
//! A guest names its Worker handler and its classes once, with [`export!`]:
//!
//! ```ignore
//! fn fetch(req: &dohost::Request) -> dohost::Result<dohost::Response> {
//!     let ns = dohost::Namespace::new("ROOMS");
//!     let id = ns.id_from_name(&req.query("roomId").unwrap_or_default())?;
//!     ns.fetch(&id, req)
//! }
//! struct Room { requests: i64 }
//! impl dohost::Object for Room {
//!     fn fetch(&mut self, req: &dohost::Request) -> dohost::Result<dohost::Response> { … }
//! }
//! fn new_room(_: &dohost::ObjectInfo) -> dohost::Result<Box<dyn dohost::Object>> {
//!     Ok(Box::new(Room { requests: 0 }))
//! }
//! dohost::export!(fetch: fetch, classes: ["Room" => new_room]);
//! ```
//!
//! Every call to the host returns a [`Result`]; an [`Error`] carries the
//! ABI's status code and the host's message. A handler that returns an
//! error fails as a Workers handler that throws: the client gets a 500
//! with a request id, the host's log the message. Keys and values are
//! bytes (`impl AsRef<[u8]>` in, `Vec<u8>` out).

pub mod abi;

use std::fmt;

/// An error of a host call: the ABI's status code and the host's message,
/// or a guest's own failure (code GUEST_ERROR).
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub code: i32,
    pub message: String,
}

impl Error {
    /// new makes a guest's own error: its handler fails with message.
    pub fn new(message: impl Into<String>) -> Error {
        Error { code: abi::code::GUEST_ERROR, message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "dohost: {}: {}", abi::code::name(self.code), self.message)
    }
}

impl std::error::Error for Error {}

/// Result is a host call's outcome.
pub type Result<T> = std::result::Result<T, Error>;

// ---- Host calls ----

const SCRATCH: usize = 16 << 10;
static mut SCRATCH_BUF: [u8; SCRATCH] = [0; SCRATCH];
static mut OUT_LEN: u32 = 0;

fn scratch() -> (*mut u8, u32, *mut u32) {
    // An instance runs one handler at a time, single-threaded.
    unsafe { (SCRATCH_BUF.as_mut_ptr(), SCRATCH as u32, &mut OUT_LEN as *mut u32) }
}

/// result returns the pending result, n bytes long: from the scratch buffer
/// when it fit there, else read again.
fn result(n: usize) -> Vec<u8> {
    if n <= SCRATCH {
        return unsafe { SCRATCH_BUF[..n].to_vec() };
    }
    let mut buf = vec![0u8; n];
    unsafe { abi::result_read(buf.as_mut_ptr(), n as u32) };
    buf
}

/// pending reads the pending result (a call's message, or data).
fn pending() -> Vec<u8> {
    let (p, cap, _) = scratch();
    let n = unsafe { abi::result_read(p, cap) };
    if n < 0 {
        return Vec::new();
    }
    result(n as usize)
}

/// output reads the output of the last call with the scratch out buffer.
fn output() -> Vec<u8> {
    result(unsafe { OUT_LEN } as usize)
}

fn error(code: i32, msg: Vec<u8>) -> Error {
    Error { code, message: String::from_utf8_lossy(&msg).into_owned() }
}

/// status turns a call without data into Ok(found) (NOT_FOUND is false).
fn status(code: i32) -> Result<bool> {
    match code {
        abi::code::OK => Ok(true),
        abi::code::NOT_FOUND => Ok(false),
        _ => Err(error(code, pending())),
    }
}

/// with_out turns a call with the scratch out buffer into its data.
fn with_out(code: i32) -> Result<Option<Vec<u8>>> {
    match code {
        abi::code::OK => Ok(Some(output())),
        abi::code::NOT_FOUND => Ok(None),
        _ => Err(error(code, output())),
    }
}

fn ptr(b: &[u8]) -> (*const u8, u32) {
    (b.as_ptr(), b.len() as u32)
}

// ---- Records (ABI.md §5) ----

fn put_u32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}
fn put_u64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}
fn put_bytes(b: &mut Vec<u8>, s: &[u8]) {
    put_u32(b, s.len() as u32);
    b.extend_from_slice(s);
}

struct Reader<'a> {
    b: &'a [u8],
    bad: bool,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Reader<'a> {
        Reader { b, bad: false }
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        if self.bad || self.b.len() < n {
            self.bad = true;
            return &[];
        }
        let (v, rest) = self.b.split_at(n);
        self.b = rest;
        v
    }
    fn u32(&mut self) -> u32 {
        let v = self.take(4);
        if v.len() == 4 {
            u32::from_le_bytes([v[0], v[1], v[2], v[3]])
        } else {
            0
        }
    }
    fn u64(&mut self) -> u64 {
        let v = self.take(8);
        let mut a = [0u8; 8];
        if v.len() == 8 {
            a.copy_from_slice(v);
        }
        u64::from_le_bytes(a)
    }
    fn bytes(&mut self) -> Vec<u8> {
        let n = self.u32() as usize;
        self.take(n).to_vec()
    }
    fn string(&mut self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }
    /// count reads a count of elements of at least min bytes each.
    fn count(&mut self, min: usize) -> usize {
        let n = self.u32() as usize;
        if n.saturating_mul(min) > self.b.len() {
            self.bad = true;
            return 0;
        }
        n
    }
    fn headers(&mut self) -> Vec<(String, String)> {
        let n = self.count(8);
        (0..n).map(|_| (self.string(), self.string())).collect()
    }
    fn end(&self, what: &str) -> Result<()> {
        if self.bad || !self.b.is_empty() {
            return Err(Error { code: abi::code::BAD_ENCODING, message: format!("malformed {} record", what) });
        }
        Ok(())
    }
}

fn put_headers(b: &mut Vec<u8>, hs: &[(String, String)]) {
    put_u32(b, hs.len() as u32);
    for (k, v) in hs {
        put_bytes(b, k.as_bytes());
        put_bytes(b, v.as_bytes());
    }
}

// ---- Requests and responses ----

/// A request: what the Worker receives (an absolute URL; header names in
/// lower case, sorted, plus host and cf-connecting-ip: ABI.md §5) and what
/// a stub sends to an object.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// new makes a request with no headers or body.
    pub fn new(method: &str, url: &str) -> Request {
        Request { method: method.to_string(), url: url.to_string(), ..Default::default() }
    }

    /// header is the first value of the header name, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// path is the URL's path.
    pub fn path(&self) -> &str {
        let rest = match self.url.find("://") {
            Some(i) => &self.url[i + 3..],
            None => self.url.as_str(),
        };
        let start = rest.find('/').unwrap_or(rest.len());
        let p = &rest[start..];
        let end = p.find(|c| c == '?' || c == '#').unwrap_or(p.len());
        &p[..end]
    }

    /// raw_query is the URL's query, without the "?" and any fragment.
    pub fn raw_query(&self) -> &str {
        let u = self.url.split('#').next().unwrap_or("");
        match u.find('?') {
            Some(i) => &u[i + 1..],
            None => "",
        }
    }

    /// query is the first value of the query parameter name, decoded as
    /// Go's url.Values (+ is a space, %XX a byte; a pair with a bad escape
    /// or a ';' is skipped).
    /// The value as UTF-8 (invalid bytes replaced): see query_bytes.
    pub fn query(&self, name: &str) -> Option<String> {
        self.query_bytes(name).map(|v| String::from_utf8_lossy(&v).into_owned())
    }

    /// query_bytes is query's value as the bytes it decodes to.
    pub fn query_bytes(&self, name: &str) -> Option<Vec<u8>> {
        for pair in self.raw_query().split('&') {
            if pair.is_empty() || pair.contains(';') {
                continue;
            }
            let (k, v) = match pair.find('=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, ""),
            };
            if let (Some(k), Some(v)) = (unescape(k), unescape(v)) {
                if k == name.as_bytes() {
                    return Some(v);
                }
            }
        }
        None
    }

    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + self.url.len() + self.body.len());
        put_bytes(&mut b, self.method.as_bytes());
        put_bytes(&mut b, self.url.as_bytes());
        put_headers(&mut b, &self.headers);
        put_bytes(&mut b, &self.body);
        b
    }

    fn decode(rec: &[u8]) -> Result<Request> {
        let mut r = Reader::new(rec);
        let req = Request { method: r.string(), url: r.string(), headers: r.headers(), body: r.bytes() };
        r.end("Request")?;
        Ok(req)
    }
}

fn unescape(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                if i + 2 >= b.len() {
                    return None;
                }
                let hex = |c: u8| (c as char).to_digit(16);
                out.push((hex(b[i + 1])? * 16 + hex(b[i + 2])?) as u8);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

/// A response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// new makes a response with no headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response { status, headers: Vec::new(), body: body.into() }
    }

    /// json makes a response of a JSON body (see [`json_string`]).
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response::new(status, body).with_header("Content-Type", "application/json")
    }

    /// text makes a text/plain response.
    pub fn text(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response::new(status, body).with_header("Content-Type", "text/plain; charset=utf-8")
    }

    /// with_header adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(32 + self.body.len());
        put_u32(&mut b, self.status as u32);
        put_headers(&mut b, &self.headers);
        put_bytes(&mut b, &self.body);
        b
    }

    fn decode(rec: &[u8]) -> Result<Response> {
        let mut r = Reader::new(rec);
        let resp = Response { status: r.u32() as u16, headers: r.headers(), body: r.bytes() };
        r.end("Response")?;
        Ok(resp)
    }
}

/// json_string appends s to out as a JSON string, quoted and escaped as Go's
/// encoding/json does (<, >, & as \u003c…, U+2028 and U+2029 escaped), so
/// that a guest's JSON matches a Go guest's byte for byte.
pub fn json_string(out: &mut String, s: &str) {
    out.push('"');
    escape_into(out, s);
    out.push('"');
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
}

/// json_bytes is json_string for bytes that may not be UTF-8: each byte
/// of an invalid sequence becomes \ufffd, as in Go.
pub fn json_bytes(out: &mut String, mut b: &[u8]) {
    out.push('"');
    loop {
        match std::str::from_utf8(b) {
            Ok(s) => {
                escape_into(out, s);
                break;
            }
            Err(e) => {
                let valid = e.valid_up_to();
                escape_into(out, std::str::from_utf8(&b[..valid]).unwrap_or(""));
                let bad = e.error_len().unwrap_or(b.len() - valid);
                for _ in 0..bad {
                    out.push_str("\\ufffd");
                }
                b = &b[valid + bad..];
            }
        }
    }
    out.push('"');
}

// ---- Logging and time ----

/// Log levels.
pub mod level {
    pub const DEBUG: u32 = 0;
    pub const INFO: u32 = 1;
    pub const WARN: u32 = 2;
    pub const ERROR: u32 = 3;
}

/// log writes a line to the host's log, tagged with the worker, the object and the request.
pub fn log(level: u32, msg: &str) {
    let (p, n) = ptr(msg.as_bytes());
    unsafe { abi::log(level, p, n) };
}

/// now_ms is the time in unix milliseconds (WASI's realtime clock).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

// ---- KV namespaces ----

/// A KV namespace binding of the worker's wrangler.toml.
#[derive(Debug, Clone, Copy)]
pub struct Kv {
    binding: &'static str,
}

/// Options of a KV put.
#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    /// unix seconds; 0: none
    pub expiration: u64,
    /// seconds; 0: none
    pub expiration_ttl: u64,
    /// up to 1024 bytes; empty: none
    pub metadata: Vec<u8>,
}

/// The worker's var (`[vars]`) or secret called `name`, or `None`. A var
/// that is not a string in wrangler.toml comes as its JSON. The same
/// names are the instance's environment variables (`std::env::var`).
pub fn var(name: &str) -> Result<Option<String>> {
    let (n, nl) = ptr(name.as_bytes());
    let (o, oc, ol) = scratch();
    Ok(with_out(unsafe { abi::env_get(n, nl, o, oc, ol) })?.map(|v| String::from_utf8_lossy(&v).into_owned()))
}

/// One key of a KV listing.
#[derive(Debug, Clone)]
pub struct ListKey {
    pub name: String,
    /// unix seconds; 0: none
    pub expiration: u64,
    pub metadata: Vec<u8>,
}

/// One page of a KV listing.
#[derive(Debug, Clone)]
pub struct ListResult {
    pub keys: Vec<ListKey>,
    pub list_complete: bool,
    /// pass it back for the next page
    pub cursor: String,
}

impl Kv {
    pub const fn new(binding: &'static str) -> Kv {
        Kv { binding }
    }

    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let (b, bl) = ptr(self.binding.as_bytes());
        let (k, kl) = ptr(key.as_ref());
        let (o, oc, ol) = scratch();
        with_out(unsafe { abi::kv_get(b, bl, k, kl, o, oc, ol) })
    }

    pub fn put(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        self.put_with(key, value, &PutOptions::default())
    }

    pub fn put_with(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>, o: &PutOptions) -> Result<()> {
        let mut opt = Vec::new();
        if o.expiration != 0 || o.expiration_ttl != 0 || !o.metadata.is_empty() {
            put_u64(&mut opt, o.expiration);
            put_u64(&mut opt, o.expiration_ttl);
            put_bytes(&mut opt, &o.metadata);
        }
        let (b, bl) = ptr(self.binding.as_bytes());
        let (k, kl) = ptr(key.as_ref());
        let (v, vl) = ptr(value.as_ref());
        let (p, pl) = ptr(&opt);
        status(unsafe { abi::kv_put(b, bl, k, kl, v, vl, p, pl) }).map(|_| ())
    }

    pub fn delete(&self, key: impl AsRef<[u8]>) -> Result<()> {
        let (b, bl) = ptr(self.binding.as_bytes());
        let (k, kl) = ptr(key.as_ref());
        status(unsafe { abi::kv_delete(b, bl, k, kl) }).map(|_| ())
    }

    /// list returns up to limit (0: 1000) keys that start with prefix, after
    /// cursor (empty: from the start).
    pub fn list(&self, prefix: &str, cursor: &str, limit: u32) -> Result<ListResult> {
        let (b, bl) = ptr(self.binding.as_bytes());
        let (p, pl) = ptr(prefix.as_bytes());
        let (c, cl) = ptr(cursor.as_bytes());
        let (o, oc, ol) = scratch();
        let rec = with_out(unsafe { abi::kv_list(b, bl, p, pl, c, cl, limit, o, oc, ol) })?.unwrap_or_default();
        let mut r = Reader::new(&rec);
        let n = r.count(16);
        let keys = (0..n).map(|_| ListKey { name: r.string(), expiration: r.u64(), metadata: r.bytes() }).collect();
        let res = ListResult { keys, list_complete: r.u32() != 0, cursor: r.string() };
        r.end("KVList")?;
        Ok(res)
    }
}

// ---- Durable Object namespaces and stubs ----

/// A Durable Object namespace binding of the worker's wrangler.toml.
#[derive(Debug, Clone, Copy)]
pub struct Namespace {
    binding: &'static str,
}

impl Namespace {
    pub const fn new(binding: &'static str) -> Namespace {
        Namespace { binding }
    }

    fn id_call(&self, f: impl FnOnce(*const u8, u32, *mut u8, u32, *mut u32) -> i32) -> Result<String> {
        let (b, bl) = ptr(self.binding.as_bytes());
        let (o, oc, ol) = scratch();
        let id = with_out(f(b, bl, o, oc, ol))?.unwrap_or_default();
        Ok(String::from_utf8_lossy(&id).into_owned())
    }

    /// id_from_name is the ID of the named object (always the same).
    pub fn id_from_name(&self, name: impl AsRef<[u8]>) -> Result<String> {
        let (n, nl) = ptr(name.as_ref());
        self.id_call(|b, bl, o, oc, ol| unsafe { abi::ns_id_from_name(b, bl, n, nl, o, oc, ol) })
    }

    /// new_unique_id is a new random ID.
    pub fn new_unique_id(&self) -> Result<String> {
        self.id_call(|b, bl, o, oc, ol| unsafe { abi::ns_new_unique_id(b, bl, o, oc, ol) })
    }

    /// id_from_string parses an ID of this namespace.
    pub fn id_from_string(&self, s: &str) -> Result<String> {
        let (n, nl) = ptr(s.as_bytes());
        self.id_call(|b, bl, o, oc, ol| unsafe { abi::ns_id_from_string(b, bl, n, nl, o, oc, ol) })
    }

    /// fetch sends req to the object id and returns its response.
    pub fn fetch(&self, id: &str, req: &Request) -> Result<Response> {
        let rec = req.encode();
        let (b, bl) = ptr(self.binding.as_bytes());
        let (i, il) = ptr(id.as_bytes());
        let (q, ql) = ptr(&rec);
        let (o, oc, ol) = scratch();
        let out = with_out(unsafe { abi::stub_fetch(b, bl, i, il, q, ql, o, oc, ol) })?.unwrap_or_default();
        Response::decode(&out)
    }
}

// ---- Durable Object storage (in an object's handlers only) ----

/// The storage of the object whose handler runs.
pub mod storage {
    use super::*;

    fn key_list<K: AsRef<[u8]>>(keys: &[K]) -> Vec<u8> {
        let mut b = Vec::new();
        put_u32(&mut b, keys.len() as u32);
        for k in keys {
            put_bytes(&mut b, k.as_ref());
        }
        b
    }

    pub fn get(key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let (k, kl) = ptr(key.as_ref());
        let (o, oc, ol) = scratch();
        with_out(unsafe { abi::storage_get(k, kl, o, oc, ol) })
    }

    /// get_multi reads up to 128 keys: the value of each, in order.
    pub fn get_multi<K: AsRef<[u8]>>(keys: &[K]) -> Result<Vec<Option<Vec<u8>>>> {
        let rec = key_list(keys);
        let (k, kl) = ptr(&rec);
        let (o, oc, ol) = scratch();
        let out = with_out(unsafe { abi::storage_get_multi(k, kl, o, oc, ol) })?.unwrap_or_default();
        let mut r = Reader::new(&out);
        let n = r.count(8);
        let vs = (0..n)
            .map(|_| {
                let found = r.u32() != 0;
                let v = r.bytes();
                if found {
                    Some(v)
                } else {
                    None
                }
            })
            .collect();
        r.end("ValueList")?;
        Ok(vs)
    }

    pub fn put(key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        let (k, kl) = ptr(key.as_ref());
        let (v, vl) = ptr(value.as_ref());
        status(unsafe { abi::storage_put(k, kl, v, vl) }).map(|_| ())
    }

    /// put_multi sets up to 128 keys, all or none.
    pub fn put_multi<K: AsRef<[u8]>, V: AsRef<[u8]>>(entries: &[(K, V)]) -> Result<()> {
        let mut b = Vec::new();
        put_u32(&mut b, entries.len() as u32);
        for (k, v) in entries {
            put_bytes(&mut b, k.as_ref());
            put_bytes(&mut b, v.as_ref());
        }
        let (e, el) = ptr(&b);
        status(unsafe { abi::storage_put_multi(e, el) }).map(|_| ())
    }

    /// delete reports whether the key existed.
    pub fn delete(key: impl AsRef<[u8]>) -> Result<bool> {
        let (k, kl) = ptr(key.as_ref());
        status(unsafe { abi::storage_delete(k, kl) })
    }

    /// delete_multi deletes up to 128 keys and says how many existed.
    pub fn delete_multi<K: AsRef<[u8]>>(keys: &[K]) -> Result<u32> {
        let rec = key_list(keys);
        let (k, kl) = ptr(&rec);
        let mut n = 0u32;
        status(unsafe { abi::storage_delete_multi(k, kl, &mut n) }).map(|_| n)
    }

    pub fn delete_all() -> Result<()> {
        status(unsafe { abi::storage_delete_all() }).map(|_| ())
    }

    /// Options of a listing: the keys k with start <= k < end (start < k
    /// with start_after) that begin with prefix, ascending, or descending
    /// with reverse; at most limit (0: all).
    #[derive(Debug, Clone, Default)]
    pub struct ListOptions {
        pub start: Vec<u8>,
        pub start_after: bool,
        pub end: Option<Vec<u8>>,
        pub prefix: Vec<u8>,
        pub reverse: bool,
        pub keys_only: bool,
        pub limit: u32,
    }

    /// list returns the listing's entries, reading as many pages as it takes.
    pub fn list(o: &ListOptions) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut o = o.clone();
        let mut all = Vec::new();
        loop {
            let want = if o.limit > 0 { o.limit - all.len() as u32 } else { 0 };
            let mut b = Vec::new();
            put_bytes(&mut b, &o.start);
            put_bytes(&mut b, o.end.as_deref().unwrap_or(&[]));
            put_bytes(&mut b, &o.prefix);
            let flags = o.reverse as u32 | (o.keys_only as u32) << 1 | (o.start_after as u32) << 2 | (o.end.is_some() as u32) << 3;
            put_u32(&mut b, flags);
            put_u32(&mut b, want);
            let (p, pl) = ptr(&b);
            let (out, oc, ol) = scratch();
            let rec = with_out(unsafe { abi::storage_list(p, pl, out, oc, ol) })?.unwrap_or_default();
            let mut r = Reader::new(&rec);
            let n = r.count(8);
            let page: Vec<(Vec<u8>, Vec<u8>)> = (0..n).map(|_| (r.bytes(), r.bytes())).collect();
            let more = r.u32() != 0;
            r.end("StorageList")?;
            let last = page.last().map(|(k, _)| k.clone());
            all.extend(page);
            match last {
                Some(k) if more && (o.limit == 0 || (all.len() as u32) < o.limit) => {
                    if o.reverse {
                        o.end = Some(k);
                    } else {
                        o.start = k;
                        o.start_after = true;
                    }
                }
                _ => return Ok(all),
            }
        }
    }

    /// transaction runs f in a transaction: its writes stand if it returns
    /// Ok, and are undone if it returns an error (which it returns).
    pub fn transaction<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
        status(unsafe { abi::txn_begin() })?;
        match f() {
            Ok(v) => status(unsafe { abi::txn_commit() }).map(|_| v),
            Err(e) => {
                let _ = status(unsafe { abi::txn_rollback() });
                Err(e)
            }
        }
    }

    /// get_alarm is the object's alarm, in unix milliseconds.
    pub fn get_alarm() -> Result<Option<u64>> {
        let mut t = 0u64;
        status(unsafe { abi::alarm_get(&mut t) }).map(|found| if found { Some(t) } else { None })
    }

    /// set_alarm sets the object's alarm to ms (unix milliseconds).
    pub fn set_alarm(ms: u64) -> Result<()> {
        status(unsafe { abi::alarm_set(&ms) }).map(|_| ())
    }

    pub fn delete_alarm() -> Result<()> {
        status(unsafe { abi::alarm_delete() }).map(|_| ())
    }
}

// ---- WebSockets (in an object's handlers only; ABI.md §4) ----

/// The WebSockets of the object whose handler runs. Accept the socket of
/// an upgrade request in `fetch` and answer [`Response::upgrade`]; the
/// host then holds it, also while the object is evicted, and calls the
/// object's `ws_message` (and `ws_close`, `ws_error`). Frames a handler
/// sends leave once it returns `Ok` and its writes are durable.
pub mod ws {
    use super::*;

    /// One of the object's sockets: its id and, from [`list`] and
    /// [`accept`], its tags.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Socket {
        pub id: u32,
        pub tags: Vec<String>,
    }

    /// A message from a client.
    #[derive(Debug, Clone)]
    pub struct Message {
        pub socket: u32,
        pub binary: bool,
        pub data: Vec<u8>,
    }

    /// is_upgrade reports whether req asks for a WebSocket.
    pub fn is_upgrade(req: &Request) -> bool {
        req.header("upgrade").map_or(false, |v| v.eq_ignore_ascii_case("websocket"))
    }

    /// accept accepts the request's WebSocket with up to 10 tags.
    pub fn accept(tags: &[&str]) -> Result<Socket> {
        let mut rec = Vec::new();
        put_u32(&mut rec, tags.len() as u32);
        for t in tags {
            put_bytes(&mut rec, t.as_bytes());
        }
        let (p, l) = ptr(&rec);
        let mut id = 0u32;
        status(unsafe { abi::ws_accept(p, l, &mut id) })?;
        Ok(Socket { id, tags: tags.iter().map(|t| t.to_string()).collect() })
    }

    fn kind(binary: bool) -> u32 {
        if binary {
            2
        } else {
            1
        }
    }

    /// send sends a message (text, or binary when binary is set).
    pub fn send(socket: u32, binary: bool, data: &[u8]) -> Result<()> {
        let (p, l) = ptr(data);
        status(unsafe { abi::ws_send(socket, kind(binary), p, l) }).map(|_| ())
    }

    /// broadcast sends one message to every open socket with tag (every
    /// one if tag is empty) but except (0: none), in one host call; it
    /// returns how many.
    pub fn broadcast(tag: &str, except: u32, binary: bool, data: &[u8]) -> Result<u32> {
        let (t, tl) = ptr(tag.as_bytes());
        let (p, l) = ptr(data);
        let mut n = 0u32;
        status(unsafe { abi::ws_broadcast(t, tl, except, kind(binary), p, l, &mut n) }).map(|_| n)
    }

    /// close closes the socket with code (1000, or 3000-4999) and reason.
    pub fn close(socket: u32, code: u32, reason: &str) -> Result<()> {
        let (p, l) = ptr(reason.as_bytes());
        status(unsafe { abi::ws_close(socket, code, p, l) }).map(|_| ())
    }

    /// list returns the open sockets with tag (all if tag is empty).
    pub fn list(tag: &str) -> Result<Vec<Socket>> {
        let (t, tl) = ptr(tag.as_bytes());
        let (o, oc, ol) = scratch();
        let out = with_out(unsafe { abi::ws_list(t, tl, o, oc, ol) })?.unwrap_or_default();
        let mut r = Reader::new(&out);
        let n = r.count(8);
        let l = (0..n)
            .map(|_| {
                let id = r.u32();
                let nt = r.count(4);
                Socket { id, tags: (0..nt).map(|_| r.string()).collect() }
            })
            .collect();
        r.end("SocketList")?;
        Ok(l)
    }

    /// attachment returns the socket's attachment (empty until set).
    pub fn attachment(socket: u32) -> Result<Vec<u8>> {
        let (o, oc, ol) = scratch();
        with_out(unsafe { abi::ws_attachment_get(socket, o, oc, ol) }).map(|v| v.unwrap_or_default())
    }

    /// set_attachment keeps up to 2048 bytes with the socket.
    pub fn set_attachment(socket: u32, data: &[u8]) -> Result<()> {
        let (p, l) = ptr(data);
        status(unsafe { abi::ws_attachment_set(socket, p, l) }).map(|_| ())
    }

    /// set_auto_response makes the host answer the text message request
    /// with response without running the object (empty request: none).
    pub fn set_auto_response(request: &str, response: &str) -> Result<()> {
        let (q, ql) = ptr(request.as_bytes());
        let (p, pl) = ptr(response.as_bytes());
        status(unsafe { abi::ws_auto_response(q, ql, p, pl) }).map(|_| ())
    }

    /// auto_response_time is when the host last auto-responded on the
    /// socket, in unix milliseconds.
    pub fn auto_response_time(socket: u32) -> Result<Option<u64>> {
        let mut t = 0u64;
        status(unsafe { abi::ws_auto_response_time(socket, &mut t) }).map(|found| if found { Some(t) } else { None })
    }
}

impl Response {
    /// upgrade is the answer to an upgrade request whose WebSocket the
    /// object accepted: 101 Switching Protocols.
    pub fn upgrade() -> Response {
        Response::new(101, Vec::new())
    }
}

// ---- Objects and handlers ----

/// What an object's constructor is told.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    pub class: String,
    /// 64 hex digits
    pub id: String,
    /// set when the object was reached by name (ABI.md §3)
    pub name: Option<String>,
}

/// What an alarm run is told.
#[derive(Debug, Clone, Copy)]
pub struct AlarmInfo {
    /// 0 for the first run
    pub retry_count: u32,
}

/// A Durable Object. An instance serves one object for its life.
pub trait Object {
    fn fetch(&mut self, req: &Request) -> Result<Response>;
    /// alarm runs when the object's alarm is due; an error has it retried.
    fn alarm(&mut self, _info: &AlarmInfo) -> Result<()> {
        Err(Error::new("the object's class has no alarm handler"))
    }
    /// ws_message runs for each message a client sends on one of the
    /// object's sockets; an error is logged and the socket stays open.
    fn ws_message(&mut self, _msg: &ws::Message) -> Result<()> {
        Err(Error::new("the object's class has no ws_message handler"))
    }
    /// ws_close runs when a client closed its socket (or was lost: 1006).
    fn ws_close(&mut self, _socket: u32, _code: u32, _reason: &str, _was_clean: bool) -> Result<()> {
        Ok(())
    }
    /// ws_error runs when the host closed a socket for an error.
    fn ws_error(&mut self, _socket: u32, _message: &str) -> Result<()> {
        Ok(())
    }
}

/// A class's constructor.
pub type Constructor = fn(&ObjectInfo) -> Result<Box<dyn Object>>;

/// The Worker's fetch handler.
pub type Fetch = fn(&Request) -> Result<Response>;

/// The runtime behind [`export!`]; not for direct use.
#[doc(hidden)]
pub mod rt {
    use super::*;

    static mut OBJECT: Option<Box<dyn Object>> = None;

    fn input(n: u32) -> Vec<u8> {
        let mut b = vec![0u8; n as usize];
        if n > 0 {
            unsafe { abi::result_read(b.as_mut_ptr(), n) };
        }
        b
    }

    fn fail(e: &Error) -> i32 {
        let msg = if e.code == abi::code::GUEST_ERROR { e.message.clone() } else { e.to_string() };
        let (p, n) = ptr(msg.as_bytes());
        unsafe { abi::fail(p, n) };
        abi::code::GUEST_ERROR
    }

    fn serve(n: u32, h: impl FnOnce(&Request) -> Result<Response>) -> i32 {
        let resp = match Request::decode(&input(n)).and_then(|req| h(&req)) {
            Ok(resp) => resp,
            Err(e) => return fail(&e),
        };
        let rec = resp.encode();
        let (p, l) = ptr(&rec);
        match status(unsafe { abi::respond(p, l) }) {
            Ok(_) => 0,
            Err(e) => fail(&Error::new(format!("respond: {}", e.message))),
        }
    }

    pub fn worker_fetch(n: u32, f: Fetch) -> i32 {
        serve(n, f)
    }

    pub fn classes(names: &[&str]) -> i32 {
        let list = names.join("\n");
        let (p, l) = ptr(list.as_bytes());
        unsafe { abi::respond(p, l) }
    }

    pub fn object_new(n: u32, classes: &[(&str, Constructor)]) -> i32 {
        let rec = input(n);
        let mut r = Reader::new(&rec);
        let class = r.string();
        let id = r.string();
        let has_name = r.u32() != 0;
        let name = r.string();
        if let Err(e) = r.end("ObjectInfo") {
            return fail(&e);
        }
        let info = ObjectInfo { class, id, name: if has_name { Some(name) } else { None } };
        let ctor = match classes.iter().find(|(c, _)| *c == info.class) {
            Some((_, ctor)) => ctor,
            None => return fail(&Error::new(format!("class {:?} is not in dohost::export!", info.class))),
        };
        match ctor(&info) {
            Ok(o) => {
                unsafe { OBJECT = Some(o) };
                0
            }
            Err(e) => fail(&e),
        }
    }

    fn object() -> Option<&'static mut Box<dyn Object>> {
        unsafe { OBJECT.as_mut() }
    }

    pub fn object_fetch(n: u32) -> i32 {
        match object() {
            Some(o) => serve(n, |req| o.fetch(req)),
            None => fail(&Error::new("object_fetch before object_new")),
        }
    }

    pub fn object_alarm(n: u32) -> i32 {
        let rec = input(n);
        let mut r = Reader::new(&rec);
        let info = AlarmInfo { retry_count: r.u32() };
        if let Err(e) = r.end("AlarmInfo") {
            return fail(&e);
        }
        match object() {
            Some(o) => match o.alarm(&info) {
                Ok(()) => 0,
                Err(e) => fail(&e),
            },
            None => fail(&Error::new("object_alarm before object_new")),
        }
    }

    fn settle(r: Result<()>) -> i32 {
        match r {
            Ok(()) => 0,
            Err(e) => fail(&e),
        }
    }

    pub fn object_ws_message(n: u32) -> i32 {
        let rec = input(n);
        let mut r = Reader::new(&rec);
        let socket = r.u32();
        let kind = r.u32();
        let data = r.bytes();
        if let Err(e) = r.end("WSMessage") {
            return fail(&e);
        }
        match object() {
            Some(o) => settle(o.ws_message(&ws::Message { socket, binary: kind == 2, data })),
            None => fail(&Error::new("object_ws_message before object_new")),
        }
    }

    pub fn object_ws_close(n: u32) -> i32 {
        let rec = input(n);
        let mut r = Reader::new(&rec);
        let (socket, code, reason, clean) = (r.u32(), r.u32(), r.string(), r.u32() != 0);
        if let Err(e) = r.end("WSClose") {
            return fail(&e);
        }
        match object() {
            Some(o) => settle(o.ws_close(socket, code, &reason, clean)),
            None => fail(&Error::new("object_ws_close before object_new")),
        }
    }

    pub fn object_ws_error(n: u32) -> i32 {
        let rec = input(n);
        let mut r = Reader::new(&rec);
        let (socket, message) = (r.u32(), r.string());
        if let Err(e) = r.end("WSError") {
            return fail(&e);
        }
        match object() {
            Some(o) => settle(o.ws_error(socket, &message)),
            None => fail(&Error::new("object_ws_error before object_new")),
        }
    }
}

/// export! names the guest's Worker handler and its classes, and makes
/// the module's exports (ABI.md §3):
///
/// ```ignore
/// dohost::export!(fetch: fetch, classes: ["Room" => new_room, "Other" => new_other]);
/// ```
#[macro_export]
macro_rules! export {
    (fetch: $fetch:path, classes: [$($name:literal => $ctor:path),* $(,)?]) => {
        #[no_mangle]
        pub extern "C" fn dohost_abi_v1() {}
        #[no_mangle]
        pub extern "C" fn dohost_worker_fetch(n: u32) -> i32 {
            $crate::rt::worker_fetch(n, $fetch)
        }
        #[no_mangle]
        pub extern "C" fn dohost_classes() -> i32 {
            $crate::rt::classes(&[$($name),*])
        }
        #[no_mangle]
        pub extern "C" fn dohost_object_new(n: u32) -> i32 {
            $crate::rt::object_new(n, &[$(($name, $ctor as $crate::Constructor)),*])
        }
        #[no_mangle]
        pub extern "C" fn dohost_object_fetch(n: u32) -> i32 {
            $crate::rt::object_fetch(n)
        }
        #[no_mangle]
        pub extern "C" fn dohost_object_alarm(n: u32) -> i32 {
            $crate::rt::object_alarm(n)
        }
        #[no_mangle]
        pub extern "C" fn dohost_object_ws_message(n: u32) -> i32 {
            $crate::rt::object_ws_message(n)
        }
        #[no_mangle]
        pub extern "C" fn dohost_object_ws_close(n: u32) -> i32 {
            $crate::rt::object_ws_close(n)
        }
        #[no_mangle]
        pub extern "C" fn dohost_object_ws_error(n: u32) -> i32 {
            $crate::rt::object_ws_error(n)
        }
    };
}
