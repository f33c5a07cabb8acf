/* dohost.c — the C SDK for dohost guests: see dohost.h. */
#include "dohost.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- The handler's arena ---- */

/* Memory from dohost_alloc comes from chunks freed together when a
 * handler returns (reset); the first chunk is kept for the next one. */
typedef struct chunk {
	struct chunk *next;
	size_t cap, used;
	_Alignas(8) char data[];
} chunk;

static chunk *arena;
static dohost_str last_error = {"", 0}; /* in the arena: reset with it */

enum { CHUNK_SIZE = 16 << 10 };

void *dohost_alloc(size_t n) {
	n = (n + 7) & ~(size_t)7;
	if (!arena || arena->cap - arena->used < n) {
		size_t cap = n > CHUNK_SIZE ? n : CHUNK_SIZE;
		chunk *c = malloc(sizeof(chunk) + cap);
		if (!c) {
			__builtin_trap();
		}
		c->next = arena;
		c->cap = cap;
		c->used = 0;
		arena = c;
	}
	void *p = arena->data + arena->used;
	arena->used += n;
	return p;
}

static void reset(void) {
	while (arena && arena->next) {
		chunk *c = arena;
		arena = c->next;
		free(c);
	}
	if (arena) {
		arena->used = 0;
	}
	last_error = (dohost_str){"", 0};
}

/* ---- Strings ---- */

dohost_str dohost_cstr(const char *s) { return (dohost_str){s, (uint32_t)strlen(s)}; }

bool dohost_str_eq(dohost_str a, dohost_str b) {
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

dohost_str dohost_copy(dohost_str s) {
	char *p = dohost_alloc(s.len + 1);
	if (s.len) {
		memcpy(p, s.ptr, s.len);
	}
	p[s.len] = 0;
	return (dohost_str){p, s.len};
}

static void grow(dohost_buf *b, uint32_t n) {
	if (b->cap - b->len >= n + 1) {
		return;
	}
	uint32_t cap = b->cap ? b->cap : 64;
	while (cap - b->len < n + 1) {
		cap *= 2;
	}
	char *p = dohost_alloc(cap);
	if (b->len) {
		memcpy(p, b->ptr, b->len);
	}
	b->ptr = p;
	b->cap = cap;
}

void dohost_buf_add(dohost_buf *b, dohost_str s) {
	grow(b, s.len);
	if (s.len) {
		memcpy(b->ptr + b->len, s.ptr, s.len);
	}
	b->len += s.len;
}

void dohost_buf_addc(dohost_buf *b, const char *s) { dohost_buf_add(b, dohost_cstr(s)); }

static void add_byte(dohost_buf *b, char c) {
	grow(b, 1);
	b->ptr[b->len++] = c;
}

void dohost_buf_int(dohost_buf *b, int64_t v) {
	char d[24];
	int i = sizeof d;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0) {
		d[--i] = '-';
	}
	dohost_buf_add(b, (dohost_str){d + i, (uint32_t)(sizeof d - i)});
}

/* utf8_len is the length of the valid UTF-8 sequence at s[i], or 0. */
static int utf8_len(const unsigned char *s, uint32_t i, uint32_t n) {
	unsigned c = s[i];
	int len;
	unsigned min;
	if (c < 0x80) {
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		len = 2, min = 0x80, c &= 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3, min = 0x800, c &= 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	if (i + len > n) {
		return 0;
	}
	for (int k = 1; k < len; k++) {
		if ((s[i + k] & 0xC0) != 0x80) {
			return 0;
		}
		c = c << 6 | (s[i + k] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
		return 0;
	}
	return len;
}

void dohost_buf_json_str(dohost_buf *b, dohost_str s) {
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s.ptr;
	add_byte(b, '"');
	for (uint32_t i = 0; i < s.len;) {
		unsigned char c = p[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c < 0x80) {
			add_byte(b, (char)c);
			i++;
			continue;
		}
		if (c < 0x80) {
			add_byte(b, '\\');
			switch (c) {
			case '"': add_byte(b, '"'); break;
			case '\\': add_byte(b, '\\'); break;
			case '\n': add_byte(b, 'n'); break;
			case '\r': add_byte(b, 'r'); break;
			case '\t': add_byte(b, 't'); break;
			default:
				dohost_buf_addc(b, "u00");
				add_byte(b, hex[c >> 4]);
				add_byte(b, hex[c & 15]);
			}
			i++;
			continue;
		}
		int n = utf8_len(p, i, s.len);
		if (n == 0) {
			dohost_buf_addc(b, "\\ufffd");
			i++;
			continue;
		}
		if (n == 3 && p[i] == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
			dohost_buf_addc(b, p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
		} else {
			dohost_buf_add(b, (dohost_str){s.ptr + i, (uint32_t)n});
		}
		i += n;
	}
	add_byte(b, '"');
}

dohost_str dohost_buf_str(dohost_buf *b) {
	grow(b, 0);
	b->ptr[b->len] = 0;
	return (dohost_str){b->ptr, b->len};
}

/* ---- Records (ABI.md §5) ---- */

static void put_u32(dohost_buf *b, uint32_t v) { dohost_buf_add(b, (dohost_str){(const char *)&v, 4}); }
static void put_u64(dohost_buf *b, uint64_t v) { dohost_buf_add(b, (dohost_str){(const char *)&v, 8}); }
static void put_str(dohost_buf *b, dohost_str s) {
	put_u32(b, s.len);
	dohost_buf_add(b, s);
}

typedef struct {
	const char *p;
	uint32_t n;
	bool bad;
} reader;

/* take returns the next n bytes of the record, or NULL (and marks the
 * reader bad) when fewer remain. */
static const char *take(reader *r, uint32_t n) {
	if (r->bad || n > r->n) {
		r->bad = true;
		return NULL;
	}
	const char *p = r->p;
	r->p += n, r->n -= n;
	return p;
}

static uint32_t get_u32(reader *r) {
	uint32_t v = 0;
	const char *p = take(r, 4);
	if (p) {
		memcpy(&v, p, 4);
	}
	return v;
}

static uint64_t get_u64(reader *r) {
	uint64_t v = 0;
	const char *p = take(r, 8);
	if (p) {
		memcpy(&v, p, 8);
	}
	return v;
}

/* get_str returns a view of the record (which the SDK copied into the
 * arena with a NUL after it; a view is NUL-terminated only at its end). */
static dohost_str get_str(reader *r) {
	uint32_t n = get_u32(r);
	const char *p = take(r, n);
	return p ? (dohost_str){p, n} : (dohost_str){"", 0};
}

/* get_count reads a count of elements of at least min bytes each. */
static uint32_t get_count(reader *r, uint32_t min) {
	uint32_t n = get_u32(r);
	if (r->bad || (uint64_t)n * min > r->n) {
		r->bad = true;
		return 0;
	}
	return n;
}

/* get_cstr is get_str copied, with a NUL after it. */
static dohost_str get_cstr(reader *r) { return dohost_copy(get_str(r)); }

static dohost_header *get_headers(reader *r, uint32_t *n) {
	*n = get_count(r, 8);
	dohost_header *h = dohost_alloc((size_t)*n * sizeof *h + 1);
	for (uint32_t i = 0; i < *n; i++) {
		h[i].name = get_cstr(r);
		h[i].value = get_cstr(r);
	}
	return h;
}

static void put_headers(dohost_buf *b, uint32_t n, const dohost_header *h) {
	put_u32(b, n);
	for (uint32_t i = 0; i < n; i++) {
		put_str(b, h[i].name);
		put_str(b, h[i].value);
	}
}

static dohost_str encode_request(const dohost_request *req) {
	dohost_buf b = {0};
	put_str(&b, req->method);
	put_str(&b, req->url);
	put_headers(&b, req->n_headers, req->headers);
	put_str(&b, req->body);
	return (dohost_str){b.ptr, b.len};
}

static bool decode_request(dohost_str rec, dohost_request *req) {
	reader r = {rec.ptr, rec.len, false};
	req->method = get_cstr(&r);
	req->url = get_cstr(&r);
	req->headers = get_headers(&r, &req->n_headers);
	req->body = get_str(&r);
	return !r.bad && r.n == 0;
}

static dohost_str encode_response(const dohost_response *resp) {
	dohost_buf b = {0};
	put_u32(&b, resp->status);
	put_headers(&b, resp->n_headers, resp->headers);
	put_str(&b, resp->body);
	return (dohost_str){b.ptr, b.len};
}

static bool decode_response(dohost_str rec, dohost_response *resp) {
	reader r = {rec.ptr, rec.len, false};
	resp->status = get_u32(&r);
	resp->headers = get_headers(&r, &resp->n_headers);
	resp->cap_headers = resp->n_headers;
	resp->body = get_str(&r);
	return !r.bad && r.n == 0;
}

/* ---- Host calls ---- */

static char scratch[16 << 10];
static uint32_t out_len;

/* result returns the pending result, n bytes long, copied into the arena
 * (NUL after it): from scratch when it fit there, else read again. */
static dohost_str result(uint32_t n) {
	if (n <= sizeof scratch) {
		return dohost_copy((dohost_str){scratch, n});
	}
	char *p = dohost_alloc((size_t)n + 1);
	dohost_abi_result_read(p, n);
	p[n] = 0;
	return (dohost_str){p, n};
}

/* pending reads the pending result of a call without an out buffer. */
static dohost_str pending(void) {
	int32_t n = dohost_abi_result_read(scratch, sizeof scratch);
	return n < 0 ? (dohost_str){"", 0} : result((uint32_t)n);
}

/* output is the output of the last call with an out buffer (scratch): its
 * data, or its error message. */
static dohost_str output(void) { return result(out_len); }

/* done finishes a call: an error's message becomes dohost_error() (read
 * with msg, before any other host call). */
static int done(int32_t code, dohost_str (*msg)(void)) {
	if (code != DOHOST_OK && code != DOHOST_NOT_FOUND) {
		last_error = msg();
	}
	return code;
}

/* with_out finishes a call with an out buffer: OK's data goes to *data. */
static int with_out(int32_t code, dohost_str *data) {
	if (code == DOHOST_OK && data) {
		*data = output();
	}
	return done(code, output);
}

dohost_str dohost_error(void) { return last_error; }

#define S(s) (s).ptr, (s).len

int dohost_fail(dohost_str msg) {
	dohost_abi_fail(S(msg));
	return DOHOST_GUEST_ERROR;
}

int dohost_log(uint32_t level, dohost_str msg) { return done(dohost_abi_log(level, S(msg)), pending); }

uint64_t dohost_now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* KV */

int dohost_env_get(dohost_str name, dohost_str *value) {
	return with_out(dohost_abi_env_get(S(name), scratch, sizeof scratch, &out_len), value);
}

int dohost_kv_get(dohost_str binding, dohost_str key, dohost_str *value) {
	return with_out(dohost_abi_kv_get(S(binding), S(key), scratch, sizeof scratch, &out_len), value);
}

int dohost_kv_put(dohost_str binding, dohost_str key, dohost_str value, const dohost_kv_put_options *opts) {
	dohost_buf o = {0};
	if (opts && (opts->expiration || opts->expiration_ttl || opts->metadata.len)) {
		put_u64(&o, opts->expiration);
		put_u64(&o, opts->expiration_ttl);
		put_str(&o, opts->metadata);
	}
	return done(dohost_abi_kv_put(S(binding), S(key), S(value), o.ptr, o.len), pending);
}

int dohost_kv_delete(dohost_str binding, dohost_str key) {
	return done(dohost_abi_kv_delete(S(binding), S(key)), pending);
}

int dohost_kv_list(dohost_str binding, dohost_str prefix, dohost_str cursor, uint32_t limit, dohost_kv_list_result *out) {
	dohost_str rec;
	int code = with_out(dohost_abi_kv_list(S(binding), S(prefix), S(cursor), limit, scratch, sizeof scratch, &out_len), &rec);
	if (code != DOHOST_OK) {
		return code;
	}
	reader r = {rec.ptr, rec.len, false};
	out->n_keys = get_count(&r, 16);
	out->keys = dohost_alloc((size_t)out->n_keys * sizeof *out->keys + 1);
	for (uint32_t i = 0; i < out->n_keys; i++) {
		out->keys[i].name = get_cstr(&r);
		out->keys[i].expiration = get_u64(&r);
		out->keys[i].metadata = get_cstr(&r);
	}
	out->list_complete = get_u32(&r) != 0;
	out->cursor = get_cstr(&r);
	if (r.bad || r.n) {
		last_error = DOHOST_STR("dohost: kv_list: malformed KVList record");
		return DOHOST_BAD_ENCODING;
	}
	return code;
}

/* Namespaces and stubs */

int dohost_id_from_name(dohost_str binding, dohost_str name, dohost_str *id) {
	return with_out(dohost_abi_ns_id_from_name(S(binding), S(name), scratch, sizeof scratch, &out_len), id);
}

int dohost_new_unique_id(dohost_str binding, dohost_str *id) {
	return with_out(dohost_abi_ns_new_unique_id(S(binding), scratch, sizeof scratch, &out_len), id);
}

int dohost_id_from_string(dohost_str binding, dohost_str s, dohost_str *id) {
	return with_out(dohost_abi_ns_id_from_string(S(binding), S(s), scratch, sizeof scratch, &out_len), id);
}

int dohost_stub_fetch(dohost_str binding, dohost_str id, const dohost_request *req, dohost_response *resp) {
	dohost_str rec = encode_request(req), out;
	int code = with_out(dohost_abi_stub_fetch(S(binding), S(id), S(rec), scratch, sizeof scratch, &out_len), &out);
	if (code != DOHOST_OK) {
		return code;
	}
	if (!decode_response(out, resp)) {
		last_error = DOHOST_STR("dohost: stub_fetch: malformed Response record");
		return DOHOST_BAD_ENCODING;
	}
	return code;
}

/* Storage */

int dohost_storage_get(dohost_str key, dohost_str *value) {
	return with_out(dohost_abi_storage_get(S(key), scratch, sizeof scratch, &out_len), value);
}

static dohost_str key_list(uint32_t n, const dohost_str *keys) {
	dohost_buf b = {0};
	put_u32(&b, n);
	for (uint32_t i = 0; i < n; i++) {
		put_str(&b, keys[i]);
	}
	return (dohost_str){b.ptr, b.len};
}

int dohost_storage_get_multi(uint32_t n, const dohost_str *keys, dohost_str *values, bool *found) {
	dohost_str rec = key_list(n, keys), out;
	int code = with_out(dohost_abi_storage_get_multi(S(rec), scratch, sizeof scratch, &out_len), &out);
	if (code != DOHOST_OK) {
		return code;
	}
	reader r = {out.ptr, out.len, false};
	if (get_count(&r, 8) != n) {
		r.bad = true;
	}
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		found[i] = get_u32(&r) != 0;
		values[i] = get_cstr(&r);
	}
	if (r.bad || r.n) {
		last_error = DOHOST_STR("dohost: storage_get_multi: malformed ValueList record");
		return DOHOST_BAD_ENCODING;
	}
	return code;
}

int dohost_storage_put(dohost_str key, dohost_str value) {
	return done(dohost_abi_storage_put(S(key), S(value)), pending);
}

int dohost_storage_put_multi(uint32_t n, const dohost_str *keys, const dohost_str *values) {
	dohost_buf b = {0};
	put_u32(&b, n);
	for (uint32_t i = 0; i < n; i++) {
		put_str(&b, keys[i]);
		put_str(&b, values[i]);
	}
	return done(dohost_abi_storage_put_multi(b.ptr, b.len), pending);
}

int dohost_storage_delete(dohost_str key) { return done(dohost_abi_storage_delete(S(key)), pending); }

int dohost_storage_delete_multi(uint32_t n, const dohost_str *keys, uint32_t *deleted) {
	dohost_str rec = key_list(n, keys);
	uint32_t count = 0;
	int code = done(dohost_abi_storage_delete_multi(S(rec), &count), pending);
	if (deleted) {
		*deleted = code == DOHOST_OK ? count : 0;
	}
	return code;
}

int dohost_storage_delete_all(void) { return done(dohost_abi_storage_delete_all(), pending); }

int dohost_storage_list(const dohost_list_options *o, dohost_storage_list_result *out) {
	dohost_buf b = {0};
	put_str(&b, o->start);
	put_str(&b, o->end);
	put_str(&b, o->prefix);
	put_u32(&b, (o->reverse ? 1 : 0) | (o->keys_only ? 2 : 0) | (o->start_after ? 4 : 0) | (o->has_end ? 8 : 0));
	put_u32(&b, o->limit);
	dohost_str rec;
	int code = with_out(dohost_abi_storage_list(b.ptr, b.len, scratch, sizeof scratch, &out_len), &rec);
	if (code != DOHOST_OK) {
		return code;
	}
	reader r = {rec.ptr, rec.len, false};
	out->n = get_count(&r, 8);
	out->keys = dohost_alloc((size_t)out->n * sizeof(dohost_str) + 1);
	out->values = dohost_alloc((size_t)out->n * sizeof(dohost_str) + 1);
	for (uint32_t i = 0; i < out->n; i++) {
		out->keys[i] = get_cstr(&r);
		out->values[i] = get_cstr(&r);
	}
	out->more = get_u32(&r) != 0;
	if (r.bad || r.n) {
		last_error = DOHOST_STR("dohost: storage_list: malformed StorageList record");
		return DOHOST_BAD_ENCODING;
	}
	return code;
}

int dohost_txn_begin(void) { return done(dohost_abi_txn_begin(), pending); }
int dohost_txn_commit(void) { return done(dohost_abi_txn_commit(), pending); }
int dohost_txn_rollback(void) { return done(dohost_abi_txn_rollback(), pending); }

int dohost_alarm_get(uint64_t *ms) {
	uint64_t t = 0;
	int code = done(dohost_abi_alarm_get(&t), pending);
	*ms = code == DOHOST_OK ? t : 0;
	return code;
}

int dohost_alarm_set(uint64_t ms) { return done(dohost_abi_alarm_set(&ms), pending); }
int dohost_alarm_delete(void) { return done(dohost_abi_alarm_delete(), pending); }

/* WebSockets */

static dohost_str input(uint32_t n);
static const dohost_class *the_class;

bool dohost_is_websocket_upgrade(const dohost_request *req) {
	dohost_str v;
	if (!dohost_header_get(req->n_headers, req->headers, DOHOST_STR("upgrade"), &v) || v.len != 9) {
		return false;
	}
	for (uint32_t i = 0; i < 9; i++) {
		char c = v.ptr[i];
		if ((c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c) != "websocket"[i]) {
			return false;
		}
	}
	return true;
}

int dohost_ws_accept(uint32_t n_tags, const dohost_str *tags, uint32_t *socket) {
	if (the_class && !the_class->ws_message) {
		last_error = DOHOST_STR("dohost_ws_accept: the object's class has no ws_message handler");
		return DOHOST_BAD_STATE;
	}
	dohost_str rec = key_list(n_tags, tags);
	return done(dohost_abi_ws_accept(S(rec), socket), pending);
}

int dohost_ws_send(uint32_t socket, uint32_t kind, dohost_str data) {
	return done(dohost_abi_ws_send(socket, kind, S(data)), pending);
}

int dohost_ws_broadcast(dohost_str tag, uint32_t except, uint32_t kind, dohost_str data, uint32_t *count) {
	uint32_t n = 0;
	int code = done(dohost_abi_ws_broadcast(S(tag), except, kind, S(data), &n), pending);
	if (count) {
		*count = n;
	}
	return code;
}

int dohost_ws_close(uint32_t socket, uint32_t code, dohost_str reason) {
	return done(dohost_abi_ws_close(socket, code, S(reason)), pending);
}

int dohost_ws_list(dohost_str tag, uint32_t *n, dohost_socket **sockets) {
	dohost_str rec;
	int code = with_out(dohost_abi_ws_list(S(tag), scratch, sizeof scratch, &out_len), &rec);
	if (code != DOHOST_OK) {
		return code;
	}
	reader r = {rec.ptr, rec.len, false};
	uint32_t count = get_count(&r, 8);
	dohost_socket *l = dohost_alloc(sizeof *l * (count ? count : 1));
	for (uint32_t i = 0; i < count && !r.bad; i++) {
		l[i].socket = get_u32(&r);
		l[i].n_tags = get_count(&r, 4);
		l[i].tags = dohost_alloc(sizeof(dohost_str) * (l[i].n_tags ? l[i].n_tags : 1));
		for (uint32_t j = 0; j < l[i].n_tags; j++) {
			l[i].tags[j] = get_str(&r);
		}
	}
	if (r.bad || r.n) {
		last_error = DOHOST_STR("dohost_ws_list: malformed SocketList record");
		return DOHOST_BAD_ENCODING;
	}
	*n = count, *sockets = l;
	return DOHOST_OK;
}

int dohost_ws_attachment_get(uint32_t socket, dohost_str *data) {
	return with_out(dohost_abi_ws_attachment_get(socket, scratch, sizeof scratch, &out_len), data);
}

int dohost_ws_attachment_set(uint32_t socket, dohost_str data) {
	return done(dohost_abi_ws_attachment_set(socket, S(data)), pending);
}

int dohost_ws_auto_response(dohost_str request, dohost_str response) {
	return done(dohost_abi_ws_auto_response(S(request), S(response)), pending);
}

int dohost_ws_auto_response_time(uint32_t socket, uint64_t *ms) {
	uint64_t t = 0;
	int code = done(dohost_abi_ws_auto_response_time(socket, &t), pending);
	if (code == DOHOST_OK && ms) {
		*ms = t;
	}
	return code;
}

/* ---- Requests and responses ---- */

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

bool dohost_header_get(uint32_t n, const dohost_header *hs, dohost_str name, dohost_str *value) {
	for (uint32_t i = 0; i < n; i++) {
		if (hs[i].name.len != name.len) {
			continue;
		}
		uint32_t k = 0;
		while (k < name.len && lower(hs[i].name.ptr[k]) == lower(name.ptr[k])) {
			k++;
		}
		if (k == name.len) {
			*value = hs[i].value;
			return true;
		}
	}
	return false;
}

static int unhex(char c) {
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* unescape decodes a query component as Go's url.QueryUnescape. */
static bool unescape(dohost_str s, dohost_str *out) {
	char *p = dohost_alloc(s.len + 1);
	uint32_t n = 0;
	for (uint32_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= s.len) {
				return false;
			}
			int hi = unhex(s.ptr[i + 1]), lo = unhex(s.ptr[i + 2]);
			if (hi < 0 || lo < 0) {
				return false;
			}
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		p[n++] = c;
	}
	p[n] = 0;
	*out = (dohost_str){p, n};
	return true;
}

bool dohost_query_get(dohost_str url, dohost_str name, dohost_str *value) {
	uint32_t i = 0;
	while (i < url.len && url.ptr[i] != '?') {
		if (url.ptr[i] == '#') {
			return false;
		}
		i++;
	}
	if (i == url.len) {
		return false;
	}
	i++;
	uint32_t end = i;
	while (end < url.len && url.ptr[end] != '#') {
		end++;
	}
	while (i < end) {
		uint32_t j = i;
		bool semi = false;
		while (j < end && url.ptr[j] != '&') {
			semi |= url.ptr[j] == ';';
			j++;
		}
		dohost_str pair = {url.ptr + i, j - i};
		i = j + 1;
		if (pair.len == 0 || semi) {
			continue;
		}
		uint32_t eq = 0;
		while (eq < pair.len && pair.ptr[eq] != '=') {
			eq++;
		}
		dohost_str k, v;
		if (!unescape((dohost_str){pair.ptr, eq}, &k)) {
			continue;
		}
		dohost_str raw = eq < pair.len ? (dohost_str){pair.ptr + eq + 1, pair.len - eq - 1} : (dohost_str){"", 0};
		if (!unescape(raw, &v)) {
			continue;
		}
		if (dohost_str_eq(k, name)) {
			*value = v;
			return true;
		}
	}
	return false;
}

dohost_str dohost_url_path(dohost_str url) {
	uint32_t i = 0;
	for (uint32_t j = 0; j + 3 <= url.len; j++) {
		if (memcmp(url.ptr + j, "://", 3) == 0) {
			i = j + 3;
			break;
		}
	}
	while (i < url.len && url.ptr[i] != '/') {
		i++;
	}
	uint32_t end = i;
	while (end < url.len && url.ptr[end] != '?' && url.ptr[end] != '#') {
		end++;
	}
	return (dohost_str){url.ptr + i, end - i};
}

void dohost_response_header(dohost_response *r, dohost_str name, dohost_str value) {
	if (r->n_headers == r->cap_headers) {
		uint32_t cap = r->cap_headers ? 2 * r->cap_headers : 4;
		dohost_header *h = dohost_alloc(cap * sizeof *h);
		if (r->n_headers) {
			memcpy(h, r->headers, r->n_headers * sizeof *h);
		}
		r->headers = h;
		r->cap_headers = cap;
	}
	r->headers[r->n_headers++] = (dohost_header){name, value};
}

void dohost_response_json(dohost_response *r, uint32_t status, dohost_str json) {
	r->status = status;
	r->body = json;
	dohost_response_header(r, DOHOST_STR("Content-Type"), DOHOST_STR("application/json"));
}

void dohost_response_text(dohost_response *r, uint32_t status, dohost_str text) {
	r->status = status;
	r->body = text;
	dohost_response_header(r, DOHOST_STR("Content-Type"), DOHOST_STR("text/plain; charset=utf-8"));
}

/* ---- Handlers (the guest's exports, ABI.md §3) ---- */

static dohost_fetch_fn worker_fetch;

enum { MAX_CLASSES = 64 };
static const dohost_class *classes[MAX_CLASSES];
static uint32_t n_classes;

/* The object this instance serves, once constructed. */
static const dohost_class *the_class;
static void *the_object;

/* ws_event runs one WebSocket handler on the input record n long. */
static int ws_event(uint32_t n, int kind) {
	dohost_str rec = input(n);
	reader r = {rec.ptr, rec.len, false};
	uint32_t socket = get_u32(&r);
	int code = DOHOST_OK;
	if (kind == 0) {
		uint32_t k = get_u32(&r);
		dohost_ws_message m = {socket, k == DOHOST_WS_BINARY, get_str(&r)};
		if (r.bad || r.n || (k != DOHOST_WS_TEXT && k != DOHOST_WS_BINARY)) {
			code = dohost_fail(DOHOST_STR("dohost: malformed WSMessage record"));
		} else if (!the_class || !the_class->ws_message) {
			code = dohost_fail(DOHOST_STR("the object's class has no ws_message handler"));
		} else {
			code = the_class->ws_message(the_object, &m);
		}
	} else if (kind == 1) {
		dohost_ws_close_info c = {socket, get_u32(&r), get_str(&r), false};
		c.was_clean = get_u32(&r) != 0;
		if (r.bad || r.n) {
			code = dohost_fail(DOHOST_STR("dohost: malformed WSClose record"));
		} else if (the_class && the_class->ws_close) {
			code = the_class->ws_close(the_object, &c);
		}
	} else {
		dohost_ws_error_info e = {socket, get_str(&r)};
		if (r.bad || r.n) {
			code = dohost_fail(DOHOST_STR("dohost: malformed WSError record"));
		} else if (the_class && the_class->ws_error) {
			code = the_class->ws_error(the_object, &e);
		}
	}
	reset();
	return code;
}

void dohost_handle(dohost_fetch_fn fetch) { worker_fetch = fetch; }

void dohost_register_class(const dohost_class *c) {
	if (n_classes == MAX_CLASSES) {
		__builtin_trap();
	}
	classes[n_classes++] = c;
}

/* input reads the handler's input record. */
static dohost_str input(uint32_t n) {
	char *p = dohost_alloc((size_t)n + 1);
	if (n) {
		dohost_abi_result_read(p, n);
	}
	p[n] = 0;
	return (dohost_str){p, n};
}

static int serve(uint32_t n, const dohost_class *cls, void *self) {
	dohost_request req;
	if (!decode_request(input(n), &req)) {
		return dohost_fail(DOHOST_STR("dohost: malformed Request record"));
	}
	dohost_response resp = {200, 0, NULL, {"", 0}, 0};
	int code = cls ? cls->fetch(self, &req, &resp) : worker_fetch(&req, &resp);
	if (code != DOHOST_OK) {
		return code;
	}
	dohost_str rec = encode_response(&resp);
	if (dohost_abi_respond(S(rec)) != DOHOST_OK) {
		dohost_str msg = pending();
		dohost_buf b = {0};
		dohost_buf_addc(&b, "dohost: respond: ");
		dohost_buf_add(&b, msg);
		return dohost_fail(dohost_buf_str(&b));
	}
	return DOHOST_OK;
}

__attribute__((export_name("dohost_abi_v1"))) void dohost_export_abi_v1(void) {}

__attribute__((export_name("dohost_classes"))) int32_t dohost_export_classes(void) {
	dohost_buf b = {0};
	for (uint32_t i = 0; i < n_classes; i++) {
		if (i) {
			add_byte(&b, '\n');
		}
		dohost_buf_addc(&b, classes[i]->name);
	}
	int32_t code = dohost_abi_respond(b.ptr, b.len);
	reset();
	return code;
}

__attribute__((export_name("dohost_worker_fetch"))) int32_t dohost_export_worker_fetch(uint32_t n) {
	int code = worker_fetch ? serve(n, NULL, NULL)
	                        : dohost_fail(DOHOST_STR("the module has no fetch handler: call dohost_handle in a constructor function"));
	reset();
	return code;
}

__attribute__((export_name("dohost_object_new"))) int32_t dohost_export_object_new(uint32_t n) {
	reader r = {NULL, 0, false};
	dohost_str rec = input(n);
	r.p = rec.ptr, r.n = rec.len;
	dohost_object_info info;
	info.class_name = get_cstr(&r);
	info.id = get_cstr(&r);
	info.has_name = get_u32(&r) != 0;
	info.name = get_cstr(&r);
	int code = DOHOST_OK;
	if (r.bad || r.n) {
		code = dohost_fail(DOHOST_STR("dohost: malformed ObjectInfo record"));
	} else {
		const dohost_class *cls = NULL;
		for (uint32_t i = 0; i < n_classes && !cls; i++) {
			if (dohost_str_eq(dohost_cstr(classes[i]->name), info.class_name)) {
				cls = classes[i];
			}
		}
		if (!cls) {
			code = dohost_fail(DOHOST_STR("the class is not registered with dohost_register_class"));
		} else if (!(the_object = cls->construct(&info))) {
			code = DOHOST_GUEST_ERROR; /* construct called dohost_fail */
		} else {
			the_class = cls;
		}
	}
	reset();
	return code;
}

__attribute__((export_name("dohost_object_fetch"))) int32_t dohost_export_object_fetch(uint32_t n) {
	int code = the_class ? serve(n, the_class, the_object) : dohost_fail(DOHOST_STR("dohost: object_fetch before object_new"));
	reset();
	return code;
}

__attribute__((export_name("dohost_object_alarm"))) int32_t dohost_export_object_alarm(uint32_t n) {
	dohost_str rec = input(n);
	reader r = {rec.ptr, rec.len, false};
	dohost_alarm_info info = {get_u32(&r)};
	int code;
	if (r.bad || r.n) {
		code = dohost_fail(DOHOST_STR("dohost: malformed AlarmInfo record"));
	} else if (!the_class || !the_class->alarm) {
		code = dohost_fail(DOHOST_STR("the object's class has no alarm handler"));
	} else {
		code = the_class->alarm(the_object, &info);
	}
	reset();
	return code;
}

__attribute__((export_name("dohost_object_ws_message"))) int32_t dohost_export_object_ws_message(uint32_t n) {
	return ws_event(n, 0);
}

__attribute__((export_name("dohost_object_ws_close"))) int32_t dohost_export_object_ws_close(uint32_t n) {
	return ws_event(n, 1);
}

__attribute__((export_name("dohost_object_ws_error"))) int32_t dohost_export_object_ws_error(uint32_t n) {
	return ws_event(n, 2);
}
