/* bridge.c — __dohost: the host calls prelude.js builds the Workers API
 * from. Each function takes and returns plain values (strings, numbers,
 * arrays, ArrayBuffers); a failed host call throws an Error with the
 * host's message, its status as code and codeName. */
#include "runtime.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wasi/api.h>

#define FN(name) static JSValue name(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
#define UNUSED (void)this_val, (void)argc
#define STR(i, var)                                                                                                    \
	dohost_str var;                                                                                                    \
	if (!js_str(ctx, argv[i], &var)) {                                                                                 \
		return JS_EXCEPTION;                                                                                           \
	}
#define BUF(i, var)                                                                                                    \
	dohost_str var;                                                                                                    \
	if (!js_buf(ctx, argv[i], &var)) {                                                                                 \
		return JS_EXCEPTION;                                                                                           \
	}
#define STRS(i, n, var)                                                                                                \
	uint32_t n;                                                                                                        \
	dohost_str *var;                                                                                                   \
	if (!js_strs(ctx, argv[i], &n, &var)) {                                                                            \
		return JS_EXCEPTION;                                                                                           \
	}
#define CALL(expr)                                                                                                     \
	do {                                                                                                               \
		int code_ = (expr);                                                                                            \
		if (code_ != DOHOST_OK) {                                                                                      \
			return throw_host(ctx, code_);                                                                             \
		}                                                                                                              \
	} while (0)

static const char *const code_names[] = {"ok", "not found", "bad pointer", "bad encoding", "no such binding", "too large",
	"invalid argument", "call cycle", "object error", "bad state", "overloaded", "timeout", "internal error", "guest error"};

/* with_code throws e with the ABI's status as its code and codeName. */
static JSValue with_code(JSContext *ctx, JSValue e, int code) {
	JS_SetPropertyStr(ctx, e, "code", JS_NewInt32(ctx, code));
	const char *name = code >= 0 && code < (int)(sizeof code_names / sizeof *code_names) ? code_names[code] : "unknown";
	JS_SetPropertyStr(ctx, e, "codeName", JS_NewString(ctx, name));
	return JS_Throw(ctx, e);
}

JSValue throw_host(JSContext *ctx, int code) {
	JSValue e = JS_NewError(ctx);
	JS_SetPropertyStr(ctx, e, "message", new_string(ctx, dohost_error()));
	return with_code(ctx, e, code);
}

bool js_str(JSContext *ctx, JSValueConst v, dohost_str *out) {
	size_t n;
	const char *s = JS_ToCStringLen(ctx, &n, v);
	if (!s) {
		return false;
	}
	*out = dohost_copy((dohost_str){s, (uint32_t)n});
	JS_FreeCString(ctx, s);
	return true;
}

JSValue new_string(JSContext *ctx, dohost_str s) {
	s = utf8_repair(s);
	return JS_NewStringLen(ctx, s.ptr, s.len);
}

/* js_buf is the bytes of the ArrayBuffer v (a view of its memory, valid
 * until the interpreter runs again). */
static bool js_buf(JSContext *ctx, JSValueConst v, dohost_str *out) {
	size_t n;
	uint8_t *p = JS_GetArrayBuffer(ctx, &n, v); /* NULL: it threw */
	if (!p) {
		return false;
	}
	*out = (dohost_str){(const char *)p, (uint32_t)n};
	return true;
}

static JSValue new_buf(JSContext *ctx, dohost_str s) { return JS_NewArrayBufferCopy(ctx, (const uint8_t *)s.ptr, s.len); }

/* bytes_or_null is s as an ArrayBuffer if the call found it, else null. */
static JSValue bytes_or_null(JSContext *ctx, int code, dohost_str s) {
	if (code == DOHOST_NOT_FOUND) {
		return JS_NULL;
	}
	if (code != DOHOST_OK) {
		return throw_host(ctx, code);
	}
	return new_buf(ctx, s);
}

static int64_t js_int(JSContext *ctx, JSValueConst v) {
	int64_t n = 0;
	JS_ToInt64(ctx, &n, v);
	return n;
}

static uint32_t js_length(JSContext *ctx, JSValueConst v) {
	JSValue l = JS_GetPropertyStr(ctx, v, "length");
	uint32_t n = 0;
	JS_ToUint32(ctx, &n, l);
	JS_FreeValue(ctx, l);
	return n;
}

/* js_strs reads an array of strings. */
static bool js_strs(JSContext *ctx, JSValueConst v, uint32_t *n, dohost_str **out) {
	if (!JS_IsArray(ctx, v)) {
		JS_ThrowTypeError(ctx, "expected an array of strings");
		return false;
	}
	*n = js_length(ctx, v);
	*out = dohost_alloc(sizeof(dohost_str) * (*n + 1));
	for (uint32_t i = 0; i < *n; i++) {
		JSValue e = JS_GetPropertyUint32(ctx, v, i);
		bool ok = js_str(ctx, e, &(*out)[i]);
		JS_FreeValue(ctx, e);
		if (!ok) {
			return false;
		}
	}
	return true;
}

bool js_pairs(JSContext *ctx, JSValueConst v, uint32_t *n, dohost_header **out) {
	if (!JS_IsArray(ctx, v)) {
		JS_ThrowTypeError(ctx, "expected an array of [name, value] pairs");
		return false;
	}
	*n = js_length(ctx, v);
	*out = dohost_alloc(sizeof(dohost_header) * (*n + 1));
	for (uint32_t i = 0; i < *n; i++) {
		JSValue p = JS_GetPropertyUint32(ctx, v, i);
		JSValue k = JS_GetPropertyUint32(ctx, p, 0), x = JS_GetPropertyUint32(ctx, p, 1);
		bool ok = js_str(ctx, k, &(*out)[i].name) && js_str(ctx, x, &(*out)[i].value);
		JS_FreeValue(ctx, k), JS_FreeValue(ctx, x), JS_FreeValue(ctx, p);
		if (!ok) {
			return false;
		}
	}
	return true;
}

static JSValue pair(JSContext *ctx, JSValue a, JSValue b) {
	JSValue p = JS_NewArray(ctx);
	JS_SetPropertyUint32(ctx, p, 0, a);
	JS_SetPropertyUint32(ctx, p, 1, b);
	return p;
}

JSValue header_pairs(JSContext *ctx, uint32_t n, const dohost_header *hs) {
	JSValue a = JS_NewArray(ctx);
	for (uint32_t i = 0; i < n; i++) {
		JS_SetPropertyUint32(ctx, a, i, pair(ctx, new_string(ctx, hs[i].name), new_string(ctx, hs[i].value)));
	}
	return a;
}

/* ---- Text ---- */

FN(h_encode) {
	UNUSED;
	STR(0, s);
	return new_buf(ctx, s);
}

FN(h_decode) {
	UNUSED;
	BUF(0, b);
	if (JS_ToBool(ctx, argv[1]) && !utf8_valid(b)) {
		return JS_ThrowTypeError(ctx, "TextDecoder: the data is not valid UTF-8");
	}
	return new_string(ctx, b);
}

FN(h_random) {
	UNUSED;
	int64_t n = js_int(ctx, argv[0]);
	if (n < 0 || n > 65536) {
		return JS_ThrowRangeError(ctx, "random: at most 65536 bytes");
	}
	uint8_t *p = dohost_alloc((size_t)n + 1);
	if (n && __wasi_random_get(p, (size_t)n) != 0) {
		return JS_ThrowInternalError(ctx, "random: the host gave no random bytes");
	}
	return JS_NewArrayBufferCopy(ctx, p, (size_t)n);
}

/* latin1 is s (UTF-8 of code points up to U+00FF) as one byte a code
 * point, and back. */
FN(h_btoa) {
	UNUSED;
	STR(0, s);
	char *b = dohost_alloc(s.len + 1);
	uint32_t n = 0;
	for (uint32_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c >= 0xC0 && i + 1 < s.len) {
			b[n++] = (char)((c & 0x1F) << 6 | (s.ptr[++i] & 0x3F));
		} else {
			b[n++] = (char)c;
		}
	}
	dohost_str e = base64_encode((dohost_str){b, n});
	return JS_NewStringLen(ctx, e.ptr, e.len);
}

FN(h_atob) {
	UNUSED;
	STR(0, s);
	if (s.len % 4) {
		dohost_buf b = {0};
		dohost_buf_add(&b, s);
		dohost_buf_add(&b, (dohost_str){"====", 4 - s.len % 4});
		s = dohost_buf_str(&b);
	}
	dohost_str d;
	if (!base64_decode(s, &d)) {
		return JS_NULL;
	}
	dohost_buf b = {0};
	for (uint32_t i = 0; i < d.len; i++) {
		unsigned char c = (unsigned char)d.ptr[i];
		if (c < 0x80) {
			dohost_buf_add(&b, (dohost_str){(const char *)&d.ptr[i], 1});
		} else {
			char u[2] = {(char)(0xC0 | c >> 6), (char)(0x80 | (c & 0x3F))};
			dohost_buf_add(&b, (dohost_str){u, 2});
		}
	}
	dohost_str r = dohost_buf_str(&b);
	return JS_NewStringLen(ctx, r.ptr, r.len);
}

/* h_digest is the digest (by Web Crypto's name) of an ArrayBuffer. */
FN(h_digest) {
	UNUSED;
	STR(0, alg);
	BUF(1, data);
	int n = sha_size(alg);
	if (!n) {
		return JS_ThrowTypeError(ctx, "crypto.subtle: the algorithm %s is not supported by dohost's JavaScript runtime (SHA-1, SHA-256, SHA-384, SHA-512)", alg.ptr);
	}
	uint8_t out[64];
	sha_digest(alg, data, out);
	return JS_NewArrayBufferCopy(ctx, out, (size_t)n);
}

/* h_hmac is the HMAC of data with key, under a digest. */
FN(h_hmac) {
	UNUSED;
	STR(0, alg);
	BUF(1, key);
	BUF(2, data);
	int n = sha_size(alg);
	if (!n) {
		return JS_ThrowTypeError(ctx, "crypto.subtle: HMAC with %s is not supported by dohost's JavaScript runtime", alg.ptr);
	}
	uint8_t out[64];
	hmac(alg, key, data, out);
	return JS_NewArrayBufferCopy(ctx, out, (size_t)n);
}

/* h_monotonic_ms is the monotonic clock in milliseconds, with fractions. */
FN(h_monotonic_ms) {
	UNUSED, (void)argv;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return JS_NewFloat64(ctx, (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6);
}

FN(h_log) {
	UNUSED;
	STR(0, level);
	STR(1, msg);
	uint32_t l = DOHOST_LOG_INFO;
	if (dohost_str_eq(level, DOHOST_STR("error")) || dohost_str_eq(level, DOHOST_STR("warn"))) {
		l = DOHOST_LOG_ERROR;
	}
	dohost_log(l, msg);
	return JS_UNDEFINED;
}

FN(h_parse_query) {
	UNUSED;
	STR(0, q);
	JSValue out = JS_NewArray(ctx);
	uint32_t n = 0;
	for (uint32_t i = 0; i <= q.len;) {
		uint32_t j = i;
		while (j < q.len && q.ptr[j] != '&') {
			j++;
		}
		if (j > i) {
			dohost_str part = {q.ptr + i, j - i};
			const char *eq = memchr(part.ptr, '=', part.len);
			dohost_str k = part, v = {"", 0};
			if (eq) {
				k.len = (uint32_t)(eq - part.ptr);
				v = (dohost_str){eq + 1, part.len - k.len - 1};
			}
			dohost_str dk = form_decode(k), dv = form_decode(v);
			JS_SetPropertyUint32(ctx, out, n++, pair(ctx, JS_NewStringLen(ctx, dk.ptr, dk.len), JS_NewStringLen(ctx, dv.ptr, dv.len)));
		}
		i = j + 1;
	}
	return out;
}

FN(h_format_query) {
	UNUSED;
	uint32_t n;
	dohost_header *pairs;
	if (!js_pairs(ctx, argv[0], &n, &pairs)) {
		return JS_EXCEPTION;
	}
	dohost_buf b = {0};
	for (uint32_t i = 0; i < n; i++) {
		if (i) {
			dohost_buf_add(&b, DOHOST_STR("&"));
		}
		form_encode(&b, pairs[i].name);
		dohost_buf_add(&b, DOHOST_STR("="));
		form_encode(&b, pairs[i].value);
	}
	dohost_str s = dohost_buf_str(&b);
	return JS_NewStringLen(ctx, s.ptr, s.len);
}

FN(h_parse_url) {
	UNUSED;
	STR(0, ref);
	STR(1, base);
	url_result u;
	const char *err = url_parse(ref, base, &u);
	if (err) {
		return JS_NewString(ctx, err);
	}
	dohost_str parts[] = {u.protocol, u.username, u.password, u.hostname, u.port, u.pathname, u.search, u.hash};
	JSValue a = JS_NewArray(ctx);
	for (uint32_t i = 0; i < 8; i++) {
		JS_SetPropertyUint32(ctx, a, i, new_string(ctx, parts[i]));
	}
	return a;
}

FN(h_env_var) {
	UNUSED;
	STR(0, name);
	dohost_str v;
	int code = dohost_env_get(name, &v);
	if (code == DOHOST_NOT_FOUND) {
		return JS_NULL;
	}
	CALL(code);
	return new_string(ctx, v);
}

/* ---- Durable Object namespaces and stubs ---- */

static JSValue id_call(JSContext *ctx, int code, dohost_str id) {
	CALL(code);
	return JS_NewStringLen(ctx, id.ptr, id.len);
}

FN(h_id_from_name) {
	UNUSED;
	STR(0, ns);
	STR(1, name);
	dohost_str id;
	return id_call(ctx, dohost_id_from_name(ns, name, &id), id);
}

FN(h_new_unique_id) {
	UNUSED;
	STR(0, ns);
	dohost_str id;
	return id_call(ctx, dohost_new_unique_id(ns, &id), id);
}

/* h_id_from_string gives [hex, name or null]: an ID's name is the host's,
 * not in the string, so it comes back only if the host knows it. */
FN(h_id_from_string) {
	UNUSED;
	STR(0, ns);
	STR(1, s);
	dohost_str id;
	int code = dohost_id_from_string(ns, s, &id);
	if (code != DOHOST_OK) { /* a TypeError, as on Workers, with the host's code */
		JS_ThrowTypeError(ctx, "idFromString: %s", dohost_error().ptr);
		return with_code(ctx, JS_GetException(ctx), code);
	}
	return pair(ctx, JS_NewStringLen(ctx, id.ptr, id.len), JS_NULL);
}

FN(h_stub_fetch) {
	UNUSED;
	STR(0, ns);
	dohost_str id;
	if (JS_IsNull(argv[2]) || JS_IsUndefined(argv[2])) {
		STR(1, hex);
		CALL(dohost_id_from_string(ns, hex, &id));
	} else {
		STR(2, name);
		CALL(dohost_id_from_name(ns, name, &id));
	}
	id = dohost_copy(id);
	dohost_request req = {0};
	if (!js_str(ctx, argv[3], &req.method) || !js_str(ctx, argv[4], &req.url) ||
	    !js_pairs(ctx, argv[5], &req.n_headers, &req.headers) || !js_buf(ctx, argv[6], &req.body)) {
		return JS_EXCEPTION;
	}
	dohost_response resp = {0};
	CALL(dohost_stub_fetch(ns, id, &req, &resp));
	JSValue a = JS_NewArray(ctx);
	JS_SetPropertyUint32(ctx, a, 0, JS_NewUint32(ctx, resp.status));
	JS_SetPropertyUint32(ctx, a, 1, header_pairs(ctx, resp.n_headers, resp.headers));
	JS_SetPropertyUint32(ctx, a, 2, new_buf(ctx, resp.body));
	return a;
}

/* ---- KV ---- */

FN(h_kv_get) {
	UNUSED;
	STR(0, ns);
	STR(1, key);
	dohost_str v;
	int code = dohost_kv_get(ns, key, &v);
	return bytes_or_null(ctx, code, v);
}

FN(h_kv_metadata) {
	UNUSED;
	STR(0, ns);
	STR(1, key);
	dohost_kv_list_result r;
	CALL(dohost_kv_list(ns, key, DOHOST_STR(""), 1, &r));
	if (!r.n_keys || !dohost_str_eq(r.keys[0].name, key) || !r.keys[0].metadata.len) {
		return JS_NULL;
	}
	dohost_str m = dohost_copy(r.keys[0].metadata);
	return JS_ParseJSON(ctx, m.ptr, m.len, "metadata");
}

FN(h_kv_put) {
	UNUSED;
	STR(0, ns);
	STR(1, key);
	BUF(2, value);
	dohost_kv_put_options o = {0};
	int64_t exp = js_int(ctx, argv[3]), ttl = js_int(ctx, argv[4]);
	o.expiration = exp > 0 ? (uint64_t)exp : 0;
	o.expiration_ttl = ttl > 0 ? (uint64_t)ttl : 0;
	if (!JS_IsNull(argv[5]) && !JS_IsUndefined(argv[5]) && !js_str(ctx, argv[5], &o.metadata)) {
		return JS_EXCEPTION;
	}
	CALL(dohost_kv_put(ns, key, value, &o));
	return JS_UNDEFINED;
}

FN(h_kv_delete) {
	UNUSED;
	STR(0, ns);
	STR(1, key);
	CALL(dohost_kv_delete(ns, key));
	return JS_UNDEFINED;
}

/* json_valid reports whether s is JSON (the interpreter parses it). */
static bool json_valid(JSContext *ctx, dohost_str s) {
	dohost_str c = dohost_copy(s);
	JSValue v = JS_ParseJSON(ctx, c.ptr, c.len, "metadata");
	if (JS_IsException(v)) {
		JS_FreeValue(ctx, JS_GetException(ctx));
		return false;
	}
	JS_FreeValue(ctx, v);
	return true;
}

/* h_kv_list gives a page of keys as the JSON of Workers' list result. */
FN(h_kv_list) {
	UNUSED;
	STR(0, ns);
	STR(1, prefix);
	STR(2, cursor);
	int64_t limit = js_int(ctx, argv[3]);
	dohost_kv_list_result r;
	CALL(dohost_kv_list(ns, prefix, cursor, limit > 0 ? (uint32_t)limit : 0, &r));
	dohost_buf b = {0};
	dohost_buf_addc(&b, "{\"keys\":[");
	for (uint32_t i = 0; i < r.n_keys; i++) {
		dohost_kv_key *k = &r.keys[i];
		dohost_buf_addc(&b, i ? ",{\"name\":" : "{\"name\":");
		dohost_buf_json_str(&b, k->name);
		if (k->expiration) {
			dohost_buf_addc(&b, ",\"expiration\":");
			dohost_buf_int(&b, (int64_t)k->expiration);
		}
		if (k->metadata.len && json_valid(ctx, k->metadata)) {
			dohost_buf_addc(&b, ",\"metadata\":");
			dohost_buf_add(&b, k->metadata);
		}
		dohost_buf_addc(&b, "}");
	}
	dohost_buf_addc(&b, r.list_complete ? "],\"list_complete\":true" : "],\"list_complete\":false");
	if (r.cursor.len) {
		dohost_buf_addc(&b, ",\"cursor\":");
		dohost_buf_json_str(&b, r.cursor);
	}
	dohost_buf_addc(&b, "}");
	dohost_str s = dohost_buf_str(&b);
	return JS_NewStringLen(ctx, s.ptr, s.len);
}

/* ---- The object's storage ---- */

FN(h_st_get) {
	UNUSED;
	STR(0, key);
	dohost_str v;
	int code = dohost_storage_get(key, &v);
	return bytes_or_null(ctx, code, v);
}

/* h_st_get_multi reads keys (at most 128) in one host call: an array of
 * their values, null where a key is not stored. */
FN(h_st_get_multi) {
	UNUSED;
	STRS(0, n, keys);
	dohost_str *vals = dohost_alloc(sizeof(dohost_str) * (n + 1));
	bool *found = dohost_alloc(sizeof(bool) * (n + 1));
	CALL(dohost_storage_get_multi(n, keys, vals, found));
	JSValue out = JS_NewArray(ctx);
	for (uint32_t i = 0; i < n; i++) {
		JS_SetPropertyUint32(ctx, out, i, found[i] ? new_buf(ctx, vals[i]) : JS_NULL);
	}
	return out;
}

FN(h_st_put) {
	UNUSED;
	STR(0, key);
	BUF(1, value);
	CALL(dohost_storage_put(key, value));
	return JS_UNDEFINED;
}

FN(h_st_put_multi) {
	UNUSED;
	STRS(0, n, keys);
	dohost_str *vals = dohost_alloc(sizeof(dohost_str) * (n + 1));
	for (uint32_t i = 0; i < n; i++) {
		JSValue v = JS_GetPropertyUint32(ctx, argv[1], i);
		dohost_str b;
		bool ok = js_buf(ctx, v, &b);
		if (ok) {
			vals[i] = dohost_copy(b); /* the next read may run the interpreter */
		}
		JS_FreeValue(ctx, v);
		if (!ok) {
			return JS_EXCEPTION;
		}
	}
	CALL(dohost_storage_put_multi(n, keys, vals));
	return JS_UNDEFINED;
}

FN(h_st_delete) {
	UNUSED;
	STR(0, key);
	int code = dohost_storage_delete(key);
	if (code == DOHOST_NOT_FOUND) {
		return JS_FALSE;
	}
	CALL(code);
	return JS_TRUE;
}

FN(h_st_delete_multi) {
	UNUSED;
	STRS(0, n, keys);
	uint32_t deleted = 0;
	CALL(dohost_storage_delete_multi(n, keys, &deleted));
	return JS_NewUint32(ctx, deleted);
}

FN(h_st_delete_all) {
	UNUSED, (void)argv;
	CALL(dohost_storage_delete_all());
	return JS_UNDEFINED;
}

/* h_st_list gives [[key, ArrayBuffer]...] of a whole listing (page by
 * page from the host) or its first limit entries. */
FN(h_st_list) {
	UNUSED;
	dohost_list_options o = {0};
	dohost_str start, after, end;
	STR(3, prefix);
	if (!js_str(ctx, argv[0], &start) || !js_str(ctx, argv[1], &after) || !js_str(ctx, argv[2], &end)) {
		return JS_EXCEPTION;
	}
	o.prefix = prefix;
	o.reverse = JS_ToBool(ctx, argv[4]);
	int64_t limit = js_int(ctx, argv[5]);
	o.start = after.len ? after : start;
	o.start_after = after.len > 0;
	o.end = end;
	o.has_end = end.len > 0;
	JSValue out = JS_NewArray(ctx);
	uint32_t n = 0;
	for (;;) {
		o.limit = limit > 0 ? (uint32_t)(limit - n) : 0;
		dohost_storage_list_result r;
		int code = dohost_storage_list(&o, &r);
		if (code != DOHOST_OK) {
			JS_FreeValue(ctx, out);
			return throw_host(ctx, code);
		}
		for (uint32_t i = 0; i < r.n; i++) {
			JS_SetPropertyUint32(ctx, out, n++, pair(ctx, new_string(ctx, r.keys[i]), new_buf(ctx, r.values[i])));
		}
		if (!r.more || !r.n || (limit > 0 && n >= limit)) {
			break;
		}
		/* the next page starts after the last key of this one */
		dohost_str last = dohost_copy(r.keys[r.n - 1]);
		if (o.reverse) {
			o.end = last, o.has_end = true;
		} else {
			o.start = last, o.start_after = true;
		}
	}
	return out;
}

FN(h_st_get_alarm) {
	UNUSED, (void)argv;
	uint64_t ms;
	int code = dohost_alarm_get(&ms);
	if (code == DOHOST_NOT_FOUND) {
		return JS_NULL;
	}
	CALL(code);
	return JS_NewInt64(ctx, (int64_t)ms);
}

FN(h_st_set_alarm) {
	UNUSED;
	int64_t ms = js_int(ctx, argv[0]);
	CALL(dohost_alarm_set(ms > 0 ? (uint64_t)ms : 0));
	return JS_UNDEFINED;
}

FN(h_st_delete_alarm) {
	UNUSED, (void)argv;
	CALL(dohost_alarm_delete());
	return JS_UNDEFINED;
}

FN(h_txn_begin) {
	UNUSED, (void)argv;
	CALL(dohost_txn_begin());
	return JS_UNDEFINED;
}

FN(h_txn_end) {
	UNUSED;
	CALL(JS_ToBool(ctx, argv[0]) ? dohost_txn_commit() : dohost_txn_rollback());
	return JS_UNDEFINED;
}

/* ---- WebSockets (the object's, by id) ---- */

/* socket_tags maps a socket id to its tags (an array of strings), from
 * its accept or a listing: the host's ids are stable for a socket's life. */
static JSValue socket_tags;

static void remember_tags(JSContext *ctx, uint32_t id, JSValue tags) {
	if (JS_IsUndefined(socket_tags)) {
		socket_tags = JS_NewObject(ctx);
	}
	JS_SetPropertyUint32(ctx, socket_tags, id, tags);
}

void forget_socket(JSContext *ctx, uint32_t id) {
	if (!JS_IsUndefined(socket_tags)) {
		JSAtom a = JS_NewAtomUInt32(ctx, id);
		JS_DeleteProperty(ctx, socket_tags, a, 0);
		JS_FreeAtom(ctx, a);
	}
}

static JSValue no_object(JSContext *ctx, const char *what) {
	return JS_ThrowTypeError(ctx, "%s: only a Durable Object has WebSockets", what);
}

FN(h_ws_accept) {
	UNUSED;
	if (!in_object) {
		return no_object(ctx, "acceptWebSocket");
	}
	uint32_t n, id;
	dohost_str *tags;
	if (!js_strs(ctx, argv[0], &n, &tags)) {
		return JS_EXCEPTION;
	}
	CALL(dohost_ws_accept(n, tags, &id));
	remember_tags(ctx, id, JS_DupValue(ctx, argv[0]));
	return JS_NewUint32(ctx, id);
}

FN(h_ws_list) {
	UNUSED;
	if (!in_object) {
		return JS_NewArray(ctx);
	}
	STR(0, tag);
	uint32_t n;
	dohost_socket *l;
	CALL(dohost_ws_list(tag, &n, &l));
	JSValue ids = JS_NewArray(ctx);
	for (uint32_t i = 0; i < n; i++) {
		JSValue tags = JS_NewArray(ctx);
		for (uint32_t j = 0; j < l[i].n_tags; j++) {
			JS_SetPropertyUint32(ctx, tags, j, new_string(ctx, l[i].tags[j]));
		}
		remember_tags(ctx, l[i].socket, tags);
		JS_SetPropertyUint32(ctx, ids, i, JS_NewUint32(ctx, l[i].socket));
	}
	return ids;
}

static uint32_t socket_id(JSContext *ctx, JSValueConst v) {
	uint32_t id = 0;
	JS_ToUint32(ctx, &id, v);
	return id;
}

FN(h_ws_send) {
	UNUSED;
	uint32_t id = socket_id(ctx, argv[0]);
	if (JS_IsString(argv[1])) {
		STR(1, s);
		CALL(dohost_ws_send(id, DOHOST_WS_TEXT, s));
	} else {
		BUF(1, b);
		CALL(dohost_ws_send(id, DOHOST_WS_BINARY, b));
	}
	return JS_UNDEFINED;
}

/* h_ws_broadcast(tag, except, message) sends message (a string: text,
 * else binary) to every open socket with tag ("": all) but the socket
 * except (0: none), in one host call, and gives how many it reached. */
FN(h_ws_broadcast) {
	UNUSED;
	if (!in_object) {
		return no_object(ctx, "broadcast");
	}
	STR(0, tag);
	uint32_t except = socket_id(ctx, argv[1]), n;
	if (JS_IsString(argv[2])) {
		STR(2, s);
		CALL(dohost_ws_broadcast(tag, except, DOHOST_WS_TEXT, s, &n));
	} else {
		BUF(2, b);
		CALL(dohost_ws_broadcast(tag, except, DOHOST_WS_BINARY, b, &n));
	}
	return JS_NewUint32(ctx, n);
}

FN(h_ws_close) {
	UNUSED;
	STR(2, reason);
	CALL(dohost_ws_close(socket_id(ctx, argv[0]), socket_id(ctx, argv[1]), reason));
	return JS_UNDEFINED;
}

FN(h_ws_tags) {
	UNUSED;
	JSValue t = JS_IsUndefined(socket_tags) ? JS_UNDEFINED : JS_GetPropertyUint32(ctx, socket_tags, socket_id(ctx, argv[0]));
	return JS_IsUndefined(t) ? JS_NewArray(ctx) : t;
}

FN(h_ws_attachment) {
	UNUSED;
	dohost_str b;
	CALL(dohost_ws_attachment_get(socket_id(ctx, argv[0]), &b));
	return b.len ? new_buf(ctx, b) : JS_NULL;
}

FN(h_ws_set_attachment) {
	UNUSED;
	BUF(1, b);
	CALL(dohost_ws_attachment_set(socket_id(ctx, argv[0]), b));
	return JS_UNDEFINED;
}

FN(h_ws_auto_response) {
	UNUSED;
	if (!in_object) {
		return no_object(ctx, "setWebSocketAutoResponse");
	}
	STR(0, req);
	STR(1, resp);
	CALL(dohost_ws_auto_response(req, resp));
	return JS_UNDEFINED;
}

/* h_ws_auto_response_time gives the unix ms of the socket's last
 * auto-response, or null. */
FN(h_ws_auto_response_time) {
	UNUSED;
	uint64_t ms;
	int code = dohost_ws_auto_response_time(socket_id(ctx, argv[0]), &ms);
	if (code == DOHOST_NOT_FOUND) {
		return JS_NULL;
	}
	CALL(code);
	return JS_NewInt64(ctx, (int64_t)ms);
}

static const JSCFunctionListEntry host_functions[] = {
	JS_CFUNC_DEF("encode", 1, h_encode),
	JS_CFUNC_DEF("decode", 2, h_decode),
	JS_CFUNC_DEF("random", 1, h_random),
	JS_CFUNC_DEF("btoa", 1, h_btoa),
	JS_CFUNC_DEF("atob", 1, h_atob),
	JS_CFUNC_DEF("log", 2, h_log),
	JS_CFUNC_DEF("monotonicMs", 0, h_monotonic_ms),
	JS_CFUNC_DEF("digest", 2, h_digest),
	JS_CFUNC_DEF("hmac", 3, h_hmac),
	JS_CFUNC_DEF("parseQuery", 1, h_parse_query),
	JS_CFUNC_DEF("formatQuery", 1, h_format_query),
	JS_CFUNC_DEF("parseURL", 2, h_parse_url),
	JS_CFUNC_DEF("envVar", 1, h_env_var),
	JS_CFUNC_DEF("idFromName", 2, h_id_from_name),
	JS_CFUNC_DEF("newUniqueId", 1, h_new_unique_id),
	JS_CFUNC_DEF("idFromString", 2, h_id_from_string),
	JS_CFUNC_DEF("stubFetch", 7, h_stub_fetch),
	JS_CFUNC_DEF("kvGet", 2, h_kv_get),
	JS_CFUNC_DEF("kvMetadata", 2, h_kv_metadata),
	JS_CFUNC_DEF("kvPut", 6, h_kv_put),
	JS_CFUNC_DEF("kvDelete", 2, h_kv_delete),
	JS_CFUNC_DEF("kvList", 4, h_kv_list),
	JS_CFUNC_DEF("stGet", 1, h_st_get),
	JS_CFUNC_DEF("stGetMulti", 1, h_st_get_multi),
	JS_CFUNC_DEF("stPut", 2, h_st_put),
	JS_CFUNC_DEF("stPutMulti", 2, h_st_put_multi),
	JS_CFUNC_DEF("stDelete", 1, h_st_delete),
	JS_CFUNC_DEF("stDeleteMulti", 1, h_st_delete_multi),
	JS_CFUNC_DEF("stDeleteAll", 0, h_st_delete_all),
	JS_CFUNC_DEF("stList", 6, h_st_list),
	JS_CFUNC_DEF("stGetAlarm", 0, h_st_get_alarm),
	JS_CFUNC_DEF("stSetAlarm", 1, h_st_set_alarm),
	JS_CFUNC_DEF("stDeleteAlarm", 0, h_st_delete_alarm),
	JS_CFUNC_DEF("txnBegin", 0, h_txn_begin),
	JS_CFUNC_DEF("txnEnd", 1, h_txn_end),
	JS_CFUNC_DEF("wsAccept", 1, h_ws_accept),
	JS_CFUNC_DEF("wsList", 1, h_ws_list),
	JS_CFUNC_DEF("wsSend", 2, h_ws_send),
	JS_CFUNC_DEF("wsBroadcast", 3, h_ws_broadcast),
	JS_CFUNC_DEF("wsClose", 3, h_ws_close),
	JS_CFUNC_DEF("wsTags", 1, h_ws_tags),
	JS_CFUNC_DEF("wsAttachment", 1, h_ws_attachment),
	JS_CFUNC_DEF("wsSetAttachment", 2, h_ws_set_attachment),
	JS_CFUNC_DEF("wsAutoResponse", 2, h_ws_auto_response),
	JS_CFUNC_DEF("wsAutoResponseTime", 1, h_ws_auto_response_time),
};

JSValue host_object(JSContext *ctx) {
	socket_tags = JS_UNDEFINED;
	JSValue h = JS_NewObject(ctx);
	JS_SetPropertyFunctionList(ctx, h, host_functions, sizeof host_functions / sizeof *host_functions);
	return h;
}
