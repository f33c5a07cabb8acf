/* probe-c is the probe test guest (testdata/guests/probe) through the C
 * SDK: the same paths, the same answers, so that the host's tests run one
 * table of checks on every language's build. It serves every path of the
 * Go probe but those that are about Go itself (panic is a failure here,
 * as a C guest has no panics; sandbox, chatty).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dohost.h"

static const dohost_str KV = DOHOST_STR("KV");
static const dohost_str PROBE = DOHOST_STR("PROBE");
static const dohost_str OTHER = DOHOST_STR("OTHER");
static const dohost_str EMPTY = {"", 0};

/* ---- JSON answers ---- */

static int json(dohost_response *resp, uint32_t status, dohost_buf *b) {
	dohost_response_json(resp, status, dohost_buf_str(b));
	return 0;
}

static int json_lit(dohost_response *resp, uint32_t status, const char *lit) {
	dohost_response_json(resp, status, dohost_cstr(lit));
	return 0;
}

static int json_string(dohost_response *resp, uint32_t status, dohost_str s) {
	dohost_buf b = {0};
	dohost_buf_json_str(&b, s);
	return json(resp, status, &b);
}

static int json_int(dohost_response *resp, uint32_t status, int64_t v) {
	dohost_buf b = {0};
	dohost_buf_int(&b, v);
	return json(resp, status, &b);
}

static const char *code_names[] = {
	"ok", "not found", "bad pointer", "bad encoding", "no such binding", "too large", "invalid argument",
	"call cycle", "object error", "bad state", "overloaded", "timeout", "internal error", "guest error",
};

/* error_response reports the last host call's error as the Go probe does:
 * 502 with its code, the code's name and the host's message. */
static int error_response(dohost_response *resp, int code) {
	dohost_buf b = {0};
	dohost_buf_addc(&b, "{\"code\":");
	dohost_buf_int(&b, code);
	dohost_buf_addc(&b, ",\"codeName\":");
	dohost_buf_json_str(&b, dohost_cstr(code >= 0 && code <= DOHOST_GUEST_ERROR ? code_names[code] : "?"));
	dohost_buf_addc(&b, ",\"message\":");
	dohost_buf_json_str(&b, dohost_error());
	dohost_buf_addc(&b, "}");
	return json(resp, 502, &b);
}

/* fail_call fails the handler with the host's message, as a Go handler
 * that returns the SDK's error. */
static int fail_call(void) { return dohost_fail(dohost_error()); }

static int text_404(dohost_response *resp, const char *what, dohost_str path) {
	dohost_buf b = {0};
	dohost_buf_addc(&b, what);
	dohost_buf_add(&b, path);
	dohost_response_text(resp, 404, dohost_buf_str(&b));
	return 0;
}

static void base64(dohost_buf *b, dohost_str s) {
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)s.ptr;
	for (uint32_t i = 0; i < s.len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < s.len ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < s.len ? p[i + 2] : 0);
		char out[4] = {tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < s.len ? tab[v >> 6 & 63] : '=', i + 2 < s.len ? tab[v & 63] : '='};
		dohost_buf_add(b, (dohost_str){out, 4});
	}
}

static void two(dohost_buf *b, int v) {
	char d[2] = {(char)('0' + v / 10), (char)('0' + v % 10)};
	dohost_buf_add(b, (dohost_str){d, 2});
}

/* rfc3339 writes unix seconds as Go's time.Time marshals in UTC; 0 is
 * Go's zero time. */
static void rfc3339(dohost_buf *b, uint64_t secs) {
	if (secs == 0) {
		dohost_buf_addc(b, "\"0001-01-01T00:00:00Z\"");
		return;
	}
	int64_t days = (int64_t)(secs / 86400), rem = (int64_t)(secs % 86400);
	/* civil_from_days (Howard Hinnant) */
	int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365, y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	dohost_buf_addc(b, "\"");
	dohost_buf_int(b, y);
	dohost_buf_addc(b, "-");
	two(b, (int)m);
	dohost_buf_addc(b, "-");
	two(b, (int)d);
	dohost_buf_addc(b, "T");
	two(b, (int)(rem / 3600));
	dohost_buf_addc(b, ":");
	two(b, (int)(rem / 60 % 60));
	dohost_buf_addc(b, ":");
	two(b, (int)(rem % 60));
	dohost_buf_addc(b, "Z\"");
}

/* ---- Requests ---- */

/* path is the URL's path, without a leading /p segment (which the routing
 * tests put in front of every path). */
static dohost_str path(dohost_str url) {
	dohost_str p = dohost_url_path(url);
	if (p.len >= 3 && memcmp(p.ptr, "/p/", 3) == 0) {
		p.ptr += 2, p.len -= 2;
	}
	return p;
}

static bool has_prefix(dohost_str s, const char *prefix, dohost_str *rest) {
	uint32_t n = (uint32_t)strlen(prefix);
	if (s.len < n || memcmp(s.ptr, prefix, n) != 0) {
		return false;
	}
	if (rest) {
		*rest = (dohost_str){s.ptr + n, s.len - n};
	}
	return true;
}

static bool is(dohost_str s, const char *lit) { return dohost_str_eq(s, dohost_cstr(lit)); }

/* q is the query parameter name of url, or empty. */
static dohost_str q(dohost_str url, const char *name) {
	dohost_str v = EMPTY;
	dohost_query_get(url, dohost_cstr(name), &v);
	return v;
}

/* atoi_str parses a decimal int as Go's strconv.Atoi, 0 when it fails. */
static int64_t atoi_str(dohost_str s) {
	int64_t v = 0;
	uint32_t i = s.len && (s.ptr[0] == '-' || s.ptr[0] == '+');
	if (i == s.len) {
		return 0;
	}
	for (uint32_t k = i; k < s.len; k++) {
		if (s.ptr[k] < '0' || s.ptr[k] > '9') {
			return 0;
		}
		v = v * 10 + (s.ptr[k] - '0');
	}
	return s.ptr[0] == '-' ? -v : v;
}

static dohost_str itoa_str(int64_t v) {
	dohost_buf b = {0};
	dohost_buf_int(&b, v);
	return dohost_buf_str(&b);
}

/* split splits s at commas, as Go's strings.Split. */
static uint32_t split(dohost_str s, dohost_str **out) {
	uint32_t n = 1;
	for (uint32_t i = 0; i < s.len; i++) {
		n += s.ptr[i] == ',';
	}
	dohost_str *parts = dohost_alloc(n * sizeof *parts);
	uint32_t k = 0, start = 0;
	for (uint32_t i = 0; i <= s.len; i++) {
		if (i == s.len || s.ptr[i] == ',') {
			parts[k++] = dohost_copy((dohost_str){s.ptr + start, i - start});
			start = i + 1;
		}
	}
	*out = parts;
	return n;
}

static dohost_str repeat(char c, int64_t n) {
	char *p = dohost_alloc((size_t)n + 1);
	memset(p, c, (size_t)n);
	p[n] = 0;
	return (dohost_str){p, (uint32_t)n};
}

/* forward sends a GET of url to the object id of ns. */
static int forward(dohost_str ns, dohost_str id, dohost_str method, dohost_str url, dohost_response *resp) {
	dohost_request req = {method, url, 0, NULL, EMPTY};
	int code = dohost_stub_fetch(ns, id, &req, resp);
	return code == DOHOST_OK ? 0 : error_response(resp, code);
}

/* echo answers with the request as the handler sees it, as the Go probe
 * does: method, URL, headers (lower-case names, sorted, each name's values
 * in order: as the record has them) and body (base64). */
static int echo(const dohost_request *req, dohost_response *resp) {
	dohost_buf b = {0};
	dohost_buf_addc(&b, "{\"body\":\"");
	base64(&b, req->body);
	dohost_buf_addc(&b, "\",\"headers\":[");
	for (uint32_t i = 0; i < req->n_headers; i++) {
		dohost_buf_addc(&b, i ? ",[" : "[");
		dohost_buf_json_str(&b, req->headers[i].name);
		dohost_buf_addc(&b, ",");
		dohost_buf_json_str(&b, req->headers[i].value);
		dohost_buf_addc(&b, "]");
	}
	dohost_buf_addc(&b, "],\"method\":");
	dohost_buf_json_str(&b, req->method);
	dohost_buf_addc(&b, ",\"url\":");
	dohost_buf_json_str(&b, req->url);
	dohost_buf_addc(&b, "}");
	return json(resp, 200, &b);
}

/* ---- The Worker ---- */

static int kv_list(dohost_str url, dohost_response *resp) {
	dohost_kv_list_result l;
	int code = dohost_kv_list(KV, q(url, "prefix"), q(url, "cursor"), (uint32_t)atoi_str(q(url, "limit")), &l);
	if (code != DOHOST_OK) {
		return error_response(resp, code);
	}
	dohost_buf b = {0};
	dohost_buf_addc(&b, "{\"Keys\":[");
	for (uint32_t i = 0; i < l.n_keys; i++) {
		dohost_buf_addc(&b, i ? ",{\"Name\":" : "{\"Name\":");
		dohost_buf_json_str(&b, l.keys[i].name);
		dohost_buf_addc(&b, ",\"Expiration\":");
		rfc3339(&b, l.keys[i].expiration);
		dohost_buf_addc(&b, ",\"Metadata\":");
		if (l.keys[i].metadata.len) {
			dohost_buf_addc(&b, "\"");
			base64(&b, l.keys[i].metadata);
			dohost_buf_addc(&b, "\"");
		} else {
			dohost_buf_addc(&b, "null");
		}
		dohost_buf_addc(&b, "}");
	}
	dohost_buf_addc(&b, l.list_complete ? "],\"ListComplete\":true,\"Cursor\":" : "],\"ListComplete\":false,\"Cursor\":");
	dohost_buf_json_str(&b, l.cursor);
	dohost_buf_addc(&b, "}");
	return json(resp, 200, &b);
}

static int fetch(const dohost_request *req, dohost_response *resp) {
	dohost_str url = req->url, p = path(url), rest, v, id;
	int code;
	if (is(p, "/worker/fail") || is(p, "/worker/panic")) {
		dohost_buf b = {0};
		dohost_buf_addc(&b, is(p, "/worker/fail") ? "the probe worker fails with a secret: " : "the probe worker panics with a secret: ");
		dohost_buf_add(&b, q(url, "secret"));
		return dohost_fail(dohost_buf_str(&b));
	}
	if (is(p, "/echo") || has_prefix(p, "/echo/", NULL)) {
		return echo(req, resp);
	}
	if (is(p, "/worker/storage")) {
		code = dohost_storage_get(DOHOST_STR("k"), &v);
		return code > DOHOST_NOT_FOUND ? error_response(resp, code) : json_lit(resp, 200, "\"no error\"");
	}
	if (is(p, "/stub/badheader")) {
		if (dohost_id_from_name(PROBE, DOHOST_STR("b"), &id) != DOHOST_OK) {
			return fail_call();
		}
		dohost_header h = {DOHOST_STR("Bad Name"), DOHOST_STR("x")};
		dohost_request r = {DOHOST_STR("GET"), DOHOST_STR("http://probe/obj/count"), 1, &h, EMPTY};
		dohost_response out;
		code = dohost_stub_fetch(PROBE, id, &r, &out);
		return code != DOHOST_OK ? error_response(resp, code) : json_lit(resp, 200, "\"no error\"");
	}
	if (is(p, "/env")) {
		code = dohost_env_get(q(url, "name"), &v);
		if (code == DOHOST_NOT_FOUND) {
			return json_lit(resp, 404, "null");
		}
		return code == DOHOST_OK ? json_string(resp, 200, v) : fail_call();
	}
	if (is(p, "/kv/get")) {
		code = dohost_kv_get(KV, q(url, "key"), &v);
		if (code == DOHOST_NOT_FOUND) {
			return json_lit(resp, 404, "null");
		}
		return code == DOHOST_OK ? json_string(resp, 200, v) : fail_call();
	}
	if (is(p, "/kv/put")) {
		dohost_kv_put_options o = {0, (uint64_t)atoi_str(q(url, "ttl")), q(url, "meta")};
		code = dohost_kv_put(KV, q(url, "key"), q(url, "value"), &o);
		return code == DOHOST_OK ? json_lit(resp, 200, "\"ok\"") : error_response(resp, code);
	}
	if (is(p, "/kv/putget")) {
		if (dohost_kv_put(KV, q(url, "key"), q(url, "value"), NULL) != DOHOST_OK ||
		    (code = dohost_kv_get(KV, q(url, "key"), &v)) > DOHOST_NOT_FOUND) {
			return fail_call();
		}
		resp->body = code == DOHOST_OK ? v : EMPTY;
		return 0;
	}
	if (is(p, "/kv/delete")) {
		code = dohost_kv_delete(KV, q(url, "key"));
		return code == DOHOST_OK ? json_lit(resp, 200, "\"ok\"") : error_response(resp, code);
	}
	if (is(p, "/kv/list")) {
		return kv_list(url, resp);
	}
	if (is(p, "/kv/nobinding")) {
		return error_response(resp, dohost_kv_get(DOHOST_STR("NOPE"), DOHOST_STR("x"), &v));
	}
	if (is(p, "/id/name") || is(p, "/id/unique") || is(p, "/id/parse")) {
		code = is(p, "/id/name")     ? dohost_id_from_name(PROBE, q(url, "name"), &id)
		       : is(p, "/id/unique") ? dohost_new_unique_id(PROBE, &id)
		                             : dohost_id_from_string(PROBE, q(url, "id"), &id);
		if (code != DOHOST_OK) {
			return is(p, "/id/parse") ? error_response(resp, code) : fail_call();
		}
		return json_string(resp, 200, id);
	}
	if (has_prefix(p, "/byid/", &rest)) {
		if ((code = dohost_id_from_string(PROBE, q(url, "id"), &id)) != DOHOST_OK) {
			return error_response(resp, code);
		}
		dohost_buf u = {0};
		dohost_buf_addc(&u, "http://probe/obj/");
		dohost_buf_add(&u, rest);
		/* "?" and the query, as Go's "?" + RawQuery. */
		uint32_t i = 0, end;
		while (i < url.len && url.ptr[i] != '?') {
			i++;
		}
		for (end = i; end < url.len && url.ptr[end] != '#'; end++) {
		}
		dohost_buf_addc(&u, "?");
		if (i < url.len) {
			dohost_buf_add(&u, (dohost_str){url.ptr + i + 1, end - i - 1});
		}
		return forward(PROBE, id, req->method, dohost_buf_str(&u), resp);
	}
	if (has_prefix(p, "/obj/", NULL)) {
		dohost_str ns = is(q(url, "ns"), "other") ? OTHER : PROBE;
		if (dohost_id_from_name(ns, q(url, "name"), &id) != DOHOST_OK) {
			return fail_call();
		}
		code = dohost_stub_fetch(ns, id, req, resp);
		return code == DOHOST_OK ? 0 : error_response(resp, code);
	}
	return text_404(resp, "no route ", p);
}

/* ---- The object ---- */

typedef struct {
	int64_t count;
	char *name;
	uint32_t name_len;
	bool has_name;
	char id[65];
	char *ctor; /* what the constructor read from storage */
	uint32_t ctor_len;
	bool ctor_found;
} probe;

static char *keep(dohost_str s) {
	char *p = malloc(s.len + 1);
	memcpy(p, s.ptr, s.len);
	p[s.len] = 0;
	return p;
}

static void *probe_new(const dohost_object_info *info) {
	probe *o = calloc(1, sizeof *o);
	o->name = keep(info->name);
	o->name_len = info->name.len;
	o->has_name = info->has_name;
	memcpy(o->id, info->id.ptr, info->id.len < 64 ? info->id.len : 64);
	/* Read storage before the first request; count the starts. */
	dohost_str v = EMPTY;
	int code = dohost_storage_get(DOHOST_STR("starts"), &v);
	if (code > DOHOST_NOT_FOUND) {
		dohost_fail(dohost_error());
		return NULL;
	}
	o->ctor_found = code == DOHOST_OK;
	o->ctor = keep(o->ctor_found ? v : EMPTY);
	o->ctor_len = o->ctor_found ? v.len : 0;
	if (dohost_storage_put(DOHOST_STR("starts"), itoa_str(atoi_str(v) + 1)) != DOHOST_OK) {
		dohost_fail(dohost_error());
		return NULL;
	}
	return o;
}

static int64_t stored_int(const char *key) {
	dohost_str v = EMPTY;
	dohost_storage_get(dohost_cstr(key), &v);
	return atoi_str(v);
}

/* probe_alarm counts its runs in storage, and fails while alarmfail is
 * above 0; while alarmrearm is, it re-arms for the time it ran for. */
static int probe_alarm(void *self, const dohost_alarm_info *info) {
	(void)self;
	int64_t n = stored_int("alarmruns");
	if (dohost_storage_put(DOHOST_STR("alarmruns"), itoa_str(n + 1)) != DOHOST_OK ||
	    dohost_storage_put(DOHOST_STR("alarmretry"), itoa_str(info->retry_count)) != DOHOST_OK) {
		return fail_call();
	}
	int64_t f = stored_int("alarmfail");
	if (f > 0) {
		dohost_storage_put(DOHOST_STR("alarmfail"), itoa_str(f - 1));
		dohost_buf b = {0};
		dohost_buf_addc(&b, "alarm fails on purpose (");
		dohost_buf_int(&b, f - 1);
		dohost_buf_addc(&b, " more)");
		return dohost_fail(dohost_buf_str(&b));
	}
	int64_t r = stored_int("alarmrearm");
	if (r > 0) {
		uint64_t at;
		if (dohost_alarm_get(&at) != DOHOST_OK) {
			return dohost_fail(DOHOST_STR("alarm/get in the alarm handler found no alarm"));
		}
		dohost_storage_put(DOHOST_STR("alarmrearm"), itoa_str(r - 1));
		return dohost_alarm_set(at) == DOHOST_OK ? 0 : fail_call();
	}
	return 0;
}

static int storage_op(probe *o, dohost_str op, dohost_str url, dohost_response *resp) {
	dohost_str key = q(url, "key"), value = q(url, "value"), v;
	int64_t n;
	int code;
	if ((n = atoi_str(q(url, "keysize"))) > 0) {
		key = repeat('k', n);
	}
	if ((n = atoi_str(q(url, "size"))) > 0) {
		value = repeat('v', n);
	}
	if (is(op, "st/get")) {
		code = dohost_storage_get(key, &v);
		if (code > DOHOST_NOT_FOUND) {
			return error_response(resp, code);
		}
		dohost_buf b = {0};
		dohost_buf_addc(&b, code == DOHOST_OK ? "{\"found\":true,\"value\":" : "{\"found\":false,\"value\":");
		dohost_buf_json_str(&b, code == DOHOST_OK ? v : EMPTY);
		dohost_buf_addc(&b, "}");
		return json(resp, 200, &b);
	}
	if (is(op, "st/put")) {
		code = dohost_storage_put(key, value);
		return code == DOHOST_OK ? json_lit(resp, 200, "\"ok\"") : error_response(resp, code);
	}
	if (is(op, "st/getmulti")) {
		dohost_str *keys;
		uint32_t k = split(q(url, "keys"), &keys);
		dohost_str *values = dohost_alloc(k * sizeof *values);
		bool *found = dohost_alloc(k);
		if ((code = dohost_storage_get_multi(k, keys, values, found)) != DOHOST_OK) {
			return error_response(resp, code);
		}
		/* A JSON object of the keys found, in key order as Go's map
		 * encoding has them, each key once. */
		dohost_buf b = {0};
		dohost_buf_addc(&b, "{");
		bool first = true;
		const dohost_str *last = NULL;
		for (;;) {
			const dohost_str *next = NULL;
			uint32_t at = 0;
			for (uint32_t i = 0; i < k; i++) {
				if (!found[i]) {
					continue;
				}
				bool after = !last || memcmp(keys[i].ptr, last->ptr, keys[i].len < last->len ? keys[i].len : last->len) > 0 ||
				             (memcmp(keys[i].ptr, last->ptr, keys[i].len < last->len ? keys[i].len : last->len) == 0 && keys[i].len > last->len);
				bool before = !next || memcmp(keys[i].ptr, next->ptr, keys[i].len < next->len ? keys[i].len : next->len) < 0 ||
				              (memcmp(keys[i].ptr, next->ptr, keys[i].len < next->len ? keys[i].len : next->len) == 0 && keys[i].len < next->len);
				if (after && before) {
					next = &keys[i], at = i;
				}
			}
			if (!next) {
				break;
			}
			dohost_buf_addc(&b, first ? "" : ",");
			first = false;
			dohost_buf_json_str(&b, keys[at]);
			dohost_buf_addc(&b, ":");
			dohost_buf_json_str(&b, values[at]);
			last = next;
		}
		dohost_buf_addc(&b, "}");
		return json(resp, 200, &b);
	}
	if (is(op, "st/putmulti")) {
		uint32_t k = (uint32_t)atoi_str(q(url, "n"));
		dohost_str *keys = dohost_alloc((k + 1) * sizeof *keys), *values = dohost_alloc((k + 1) * sizeof *values);
		dohost_str prefix = q(url, "prefix");
		for (uint32_t i = 0; i < k; i++) {
			dohost_buf b = {0};
			dohost_buf_add(&b, prefix);
			char d[4] = {(char)('0' + i / 1000 % 10), (char)('0' + i / 100 % 10), (char)('0' + i / 10 % 10), (char)('0' + i % 10)};
			dohost_buf_add(&b, (dohost_str){d, 4});
			keys[i] = dohost_buf_str(&b);
			values[i] = value;
		}
		code = dohost_storage_put_multi(k, keys, values);
		return code == DOHOST_OK ? json_lit(resp, 200, "\"ok\"") : error_response(resp, code);
	}
	if (is(op, "st/delete")) {
		code = dohost_storage_delete(key);
		if (code > DOHOST_NOT_FOUND) {
			return error_response(resp, code);
		}
		return json_lit(resp, 200, code == DOHOST_OK ? "true" : "false");
	}
	if (is(op, "st/deletemulti")) {
		dohost_str *keys;
		uint32_t k = split(q(url, "keys"), &keys), deleted;
		code = dohost_storage_delete_multi(k, keys, &deleted);
		return code == DOHOST_OK ? json_int(resp, 200, deleted) : error_response(resp, code);
	}
	if (is(op, "st/list") || is(op, "st/count")) {
		bool count = is(op, "st/count");
		dohost_list_options lo = {0};
		lo.prefix = q(url, "prefix");
		lo.start = q(url, "start");
		if (q(url, "startAfter").len) {
			lo.start = q(url, "startAfter");
			lo.start_after = true;
		}
		lo.end = q(url, "end");
		lo.has_end = lo.end.len > 0;
		lo.reverse = !count && q(url, "reverse").len > 0;
		lo.keys_only = count || q(url, "keysOnly").len > 0;
		int64_t limit = count ? 0 : atoi_str(q(url, "limit")), total = 0;
		dohost_buf b = {0};
		dohost_buf_addc(&b, "[");
		for (;;) {
			dohost_storage_list_result page;
			lo.limit = limit > 0 ? (uint32_t)(limit - total) : 0;
			if ((code = dohost_storage_list(&lo, &page)) != DOHOST_OK) {
				return error_response(resp, code);
			}
			for (uint32_t i = 0; i < page.n && !count; i++) {
				dohost_buf_addc(&b, total + i ? ",[" : "[");
				dohost_buf_json_str(&b, page.keys[i]);
				dohost_buf_addc(&b, ",");
				dohost_buf_json_str(&b, page.values[i]);
				dohost_buf_addc(&b, "]");
			}
			total += page.n;
			if (!page.more || page.n == 0 || (limit > 0 && total >= limit)) {
				break;
			}
			/* The next page starts after this one's last key. */
			if (lo.reverse) {
				lo.end = page.keys[page.n - 1];
				lo.has_end = true;
			} else {
				lo.start = page.keys[page.n - 1];
				lo.start_after = true;
			}
		}
		if (count) {
			return json_int(resp, 200, total);
		}
		dohost_buf_addc(&b, "]");
		return json(resp, 200, &b);
	}
	if (is(op, "st/deleteall")) {
		code = dohost_storage_delete_all();
		return code == DOHOST_OK ? json_lit(resp, 200, "\"ok\"") : error_response(resp, code);
	}
	if (is(op, "st/txn")) {
		if ((code = dohost_txn_begin()) != DOHOST_OK) {
			return error_response(resp, code);
		}
		if ((code = dohost_storage_put(key, value)) != DOHOST_OK || q(url, "fail").len) {
			dohost_txn_rollback();
			return json_string(resp, 409, code != DOHOST_OK ? dohost_error() : DOHOST_STR("the transaction fails on purpose"));
		}
		code = dohost_txn_commit();
		return code == DOHOST_OK ? json_lit(resp, 200, "\"ok\"") : error_response(resp, code);
	}
	if (is(op, "st/nested")) {
		if ((code = dohost_txn_begin()) != DOHOST_OK) {
			return error_response(resp, code);
		}
		dohost_storage_put(DOHOST_STR("outer"), DOHOST_STR("kept"));
		dohost_txn_begin();
		dohost_storage_put(DOHOST_STR("inner"), DOHOST_STR("dropped"));
		dohost_txn_rollback(); /* the inner transaction fails */
		code = dohost_txn_commit();
		return code == DOHOST_OK ? json_lit(resp, 200, "\"ok\"") : error_response(resp, code);
	}
	if (is(op, "st/putexit")) {
		if (dohost_storage_put(key, DOHOST_STR("written-before-exit")) != DOHOST_OK) {
			return fail_call();
		}
		exit(5);
	}
	if (is(op, "st/ctor")) {
		dohost_buf b = {0};
		dohost_buf_addc(&b, o->ctor_found ? "{\"found\":true,\"read\":" : "{\"found\":false,\"read\":");
		dohost_buf_json_str(&b, (dohost_str){o->ctor, o->ctor_len});
		dohost_buf_addc(&b, "}");
		return json(resp, 200, &b);
	}
	if (is(op, "alarm/set")) {
		code = dohost_alarm_set(dohost_now_ms() + (uint64_t)atoi_str(q(url, "in")));
		return code == DOHOST_OK ? json_lit(resp, 200, "\"ok\"") : error_response(resp, code);
	}
	if (is(op, "alarm/get")) {
		uint64_t at;
		code = dohost_alarm_get(&at);
		if (code == DOHOST_NOT_FOUND) {
			return json_lit(resp, 200, "null");
		}
		return code == DOHOST_OK ? json_int(resp, 200, (int64_t)at) : error_response(resp, code);
	}
	if (is(op, "alarm/delete")) {
		code = dohost_alarm_delete();
		return code == DOHOST_OK ? json_lit(resp, 200, "\"ok\"") : error_response(resp, code);
	}
	if (is(op, "alarm/runs")) {
		dohost_buf b = {0};
		dohost_buf_addc(&b, "{\"lastRetry\":");
		dohost_buf_int(&b, stored_int("alarmretry"));
		dohost_buf_addc(&b, ",\"runs\":");
		dohost_buf_int(&b, stored_int("alarmruns"));
		dohost_buf_addc(&b, "}");
		return json(resp, 200, &b);
	}
	return text_404(resp, "no storage op ", op);
}

static int probe_fetch(void *self, const dohost_request *req, dohost_response *resp) {
	probe *o = self;
	dohost_str url = req->url, op, v, id;
	o->count++;
	has_prefix(path(url), "/obj/", &op);
	if (has_prefix(op, "st/", NULL) || has_prefix(op, "alarm/", NULL)) {
		return storage_op(o, op, url, resp);
	}
	if (is(op, "echo") || has_prefix(op, "echo/", NULL)) {
		return echo(req, resp);
	}
	if (is(op, "count")) {
		return json_int(resp, 200, o->count);
	}
	if (is(op, "info")) {
		dohost_buf b = {0};
		dohost_buf_addc(&b, "{\"hasName\":");
		dohost_buf_addc(&b, o->has_name ? "true" : "false");
		dohost_buf_addc(&b, ",\"id\":");
		dohost_buf_json_str(&b, dohost_cstr(o->id));
		dohost_buf_addc(&b, ",\"name\":");
		dohost_buf_json_str(&b, o->has_name ? (dohost_str){o->name, o->name_len} : EMPTY);
		dohost_buf_addc(&b, "}");
		return json(resp, 200, &b);
	}
	if (is(op, "panic") || is(op, "fail")) {
		dohost_buf b = {0};
		dohost_buf_addc(&b, is(op, "panic") ? "probe panics on request " : "probe fails on request ");
		dohost_buf_int(&b, o->count);
		return dohost_fail(dohost_buf_str(&b));
	}
	if (is(op, "exit")) {
		exit(3);
	}
	if (is(op, "writeexit")) {
		if (dohost_kv_put(KV, q(url, "key"), DOHOST_STR("written-before-exit"), NULL) != DOHOST_OK) {
			return fail_call();
		}
		exit(4);
	}
	if (is(op, "kvput")) {
		return dohost_kv_put(KV, q(url, "key"), q(url, "value"), NULL) == DOHOST_OK ? json_lit(resp, 200, "\"ok\"") : fail_call();
	}
	if (is(op, "call")) {
		dohost_str chain = q(url, "chain");
		if (chain.len == 0) {
			dohost_buf b = {0};
			dohost_buf_addc(&b, "[");
			dohost_buf_json_str(&b, o->has_name ? (dohost_str){o->name, o->name_len} : EMPTY);
			dohost_buf_addc(&b, "]");
			return json(resp, 200, &b);
		}
		uint32_t comma = 0;
		while (comma < chain.len && chain.ptr[comma] != ',') {
			comma++;
		}
		if (dohost_id_from_name(PROBE, (dohost_str){chain.ptr, comma}, &id) != DOHOST_OK) {
			return fail_call();
		}
		dohost_buf u = {0};
		dohost_buf_addc(&u, "http://probe/obj/call?chain=");
		if (comma < chain.len) {
			dohost_buf_add(&u, (dohost_str){chain.ptr + comma + 1, chain.len - comma - 1});
		}
		return forward(PROBE, id, DOHOST_STR("GET"), dohost_buf_str(&u), resp);
	}
	if (is(op, "busy")) {
		/* Holds the object's turn for ms milliseconds, computing. */
		uint64_t until = dohost_now_ms() + (uint64_t)atoi_str(q(url, "ms"));
		while (dohost_now_ms() < until) {
		}
		return json_lit(resp, 200, "\"busy\"");
	}
	if (is(op, "sleep")) {
		/* Waits ms milliseconds, holding the object's turn: nanosleep is
		 * WASI's poll_oneoff on a clock, a wait the host does not count
		 * as running time. */
		int64_t ms = atoi_str(q(url, "ms"));
		struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
		return json_lit(resp, 200, "\"slept\"");
	}
	if (is(op, "log")) {
		v = q(url, "msg");
		dohost_log(DOHOST_LOG_INFO, v);
		printf("stdout: %s\n", v.ptr);
		fflush(stdout);
		return json_lit(resp, 200, "\"ok\"");
	}
	if (is(op, "headers")) {
		/* n headers of growing values, and one name given twice. */
		int64_t n = atoi_str(q(url, "n"));
		for (int64_t i = 0; i < n; i++) {
			char name[8] = {'x', '-', 'h', '-', (char)('0' + i / 100 % 10), (char)('0' + i / 10 % 10), (char)('0' + i % 10), 0};
			dohost_response_header(resp, dohost_copy((dohost_str){name, 7}), repeat('v', i % 50));
		}
		dohost_response_header(resp, DOHOST_STR("x-rep"), DOHOST_STR("1"));
		dohost_response_header(resp, DOHOST_STR("x-rep"), DOHOST_STR("2"));
		resp->body = DOHOST_STR("h");
		return 0;
	}
	if (is(op, "big")) {
		resp->body = repeat(0, atoi_str(q(url, "n")));
		return 0;
	}
	return text_404(resp, "no object op ", path(url));
}

static const dohost_class probe_class = {.name = "Probe", .construct = probe_new, .fetch = probe_fetch, .alarm = probe_alarm};
static const dohost_class other_class = {.name = "Other", .construct = probe_new, .fetch = probe_fetch, .alarm = probe_alarm};

__attribute__((constructor)) static void setup(void) {
	dohost_handle(fetch);
	dohost_register_class(&probe_class);
	dohost_register_class(&other_class);
}
