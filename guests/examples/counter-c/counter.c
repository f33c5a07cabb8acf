/* counter-c is the counter example in C, answering as the Go counter
 * does. The Worker routes /?name=N to the object named N:
 *
 *   POST /?name=N               adds one and answers {"name": N, "value": v}
 *   GET  /?name=N               answers the same without changing it
 *   POST /?name=N&resetAfter=S  adds one and sets an alarm that resets the
 *                               counter to 0 after S seconds
 *
 *   make guests/examples/counter-c/counter-c.wasm
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dohost.h"

static const dohost_str counters = DOHOST_STR("COUNTERS");
static const dohost_str value_key = DOHOST_STR("value");

static int fail_call(void) { return dohost_fail(dohost_error()); }

static void json_error(dohost_response *resp, uint32_t status, const char *msg) {
	dohost_buf b = {0};
	dohost_buf_addc(&b, "{\"error\":");
	dohost_buf_json_str(&b, dohost_cstr(msg));
	dohost_buf_addc(&b, "}");
	dohost_response_json(resp, status, dohost_buf_str(&b));
}

static int fetch(const dohost_request *req, dohost_response *resp) {
	dohost_str name = {"", 0}, id;
	dohost_query_get(req->url, DOHOST_STR("name"), &name);
	if (name.len == 0) {
		json_error(resp, 400, "missing name query parameter: try POST /?name=visits");
		return 0;
	}
	if (dohost_id_from_name(counters, name, &id) != DOHOST_OK) {
		return fail_call();
	}
	return dohost_stub_fetch(counters, id, req, resp) == DOHOST_OK ? 0 : fail_call();
}

/* A counter's value lives only in storage; in memory it keeps its name. */
typedef struct {
	char *name;
	uint32_t name_len;
} counter;

static void *counter_new(const dohost_object_info *info) {
	counter *c = malloc(sizeof *c);
	c->name = malloc(info->name.len + 1);
	memcpy(c->name, info->name.ptr, info->name.len + 1);
	c->name_len = info->has_name ? info->name.len : 0;
	return c;
}

/* parse_int64 parses a decimal value as Go's strconv.ParseInt(s, 10, 64). */
static bool parse_int64(dohost_str s, int64_t *v) {
	uint32_t i = 0;
	bool neg = false;
	if (s.len && (s.ptr[0] == '-' || s.ptr[0] == '+')) {
		neg = s.ptr[0] == '-';
		i = 1;
	}
	if (i == s.len) {
		return false;
	}
	uint64_t u = 0;
	for (; i < s.len; i++) {
		if (s.ptr[i] < '0' || s.ptr[i] > '9' || u > (UINT64_MAX - 9) / 10) {
			return false;
		}
		u = u * 10 + (uint64_t)(s.ptr[i] - '0');
	}
	if (u > (uint64_t)INT64_MAX + neg) {
		return false;
	}
	*v = neg ? (int64_t)(0 - u) : (int64_t)u;
	return true;
}

/* parse_seconds parses a number of seconds, as Go's strconv.ParseFloat
 * does for decimal numbers (no spaces around it). */
static bool parse_seconds(dohost_str s, double *v) {
	if (s.len == 0 || s.ptr[0] == ' ' || (s.ptr[0] >= '\t' && s.ptr[0] <= '\r')) {
		return false;
	}
	for (uint32_t i = 0; i < s.len; i++) {
		if (s.ptr[i] == 'x' || s.ptr[i] == 'X') {
			return false; /* hexadecimal: not worth the difference */
		}
	}
	char *end;
	*v = strtod(s.ptr, &end);
	return end == s.ptr + s.len;
}

static int counter_fetch(void *self, const dohost_request *req, dohost_response *resp) {
	counter *c = self;
	dohost_str stored;
	int64_t v = 0;
	int code = dohost_storage_get(value_key, &stored);
	if (code == DOHOST_OK) {
		if (!parse_int64(stored, &v)) {
			return dohost_fail(DOHOST_STR("the stored value is not a number"));
		}
	} else if (code != DOHOST_NOT_FOUND) {
		return fail_call();
	}
	if (dohost_str_eq(req->method, DOHOST_STR("POST"))) {
		v++;
		dohost_buf b = {0};
		dohost_buf_int(&b, v);
		if (dohost_storage_put(value_key, dohost_buf_str(&b)) != DOHOST_OK) {
			return fail_call();
		}
		dohost_str after;
		if (dohost_query_get(req->url, DOHOST_STR("resetAfter"), &after) && after.len) {
			double secs;
			if (!parse_seconds(after, &secs) || secs < 0 || isnan(secs)) {
				json_error(resp, 400, "resetAfter must be a number of seconds");
				return 0;
			}
			if (dohost_alarm_set(dohost_now_ms() + (uint64_t)(secs * 1000)) != DOHOST_OK) {
				return fail_call();
			}
		}
	} else if (!dohost_str_eq(req->method, DOHOST_STR("GET")) && !dohost_str_eq(req->method, DOHOST_STR("HEAD"))) {
		json_error(resp, 405, "use GET or POST");
		dohost_response_header(resp, DOHOST_STR("Allow"), DOHOST_STR("GET, POST"));
		return 0;
	}
	dohost_buf b = {0};
	dohost_buf_addc(&b, "{\"name\":");
	dohost_buf_json_str(&b, (dohost_str){c->name, c->name_len});
	dohost_buf_addc(&b, ",\"value\":");
	dohost_buf_int(&b, v);
	dohost_buf_addc(&b, "}");
	dohost_response_json(resp, 200, dohost_buf_str(&b));
	return 0;
}

/* counter_alarm resets the counter. */
static int counter_alarm(void *self, const dohost_alarm_info *info) {
	(void)self, (void)info;
	return dohost_storage_put(value_key, DOHOST_STR("0")) == DOHOST_OK ? 0 : fail_call();
}

static const dohost_class counter_class = {.name = "Counter", .construct = counter_new, .fetch = counter_fetch, .alarm = counter_alarm};

__attribute__((constructor)) static void setup(void) {
	dohost_handle(fetch);
	dohost_register_class(&counter_class);
}
