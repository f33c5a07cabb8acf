/* wsprobe-c is the WebSocket probe (testdata/guests/wsprobe) through the C
 * SDK: the same commands, the same answers (all but flood, which is for
 * the host's own tests). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dohost.h"

static const dohost_str WSPROBE = DOHOST_STR("WSPROBE");
static const dohost_str EMPTY = {"", 0};

static dohost_str query(const dohost_request *req, const char *name) {
	dohost_str v = EMPTY;
	dohost_query_get(req->url, dohost_cstr(name), &v);
	return v;
}

static int fetch(const dohost_request *req, dohost_response *resp) {
	dohost_str room = query(req, "room"), id;
	if (room.len == 0) {
		room = DOHOST_STR("r");
	}
	int code = dohost_id_from_name(WSPROBE, room, &id);
	if (code == DOHOST_OK) {
		code = dohost_stub_fetch(WSPROBE, id, req, resp);
	}
	return code == DOHOST_OK ? 0 : dohost_fail(dohost_error());
}

/* cut splits s at its first space: the part before, and after into rest. */
static dohost_str cut(dohost_str s, dohost_str *rest) {
	uint32_t i = 0;
	while (i < s.len && s.ptr[i] != ' ') {
		i++;
	}
	*rest = i < s.len ? (dohost_str){s.ptr + i + 1, s.len - i - 1} : EMPTY;
	return (dohost_str){s.ptr, i};
}

static bool is(dohost_str s, const char *lit) { return dohost_str_eq(s, dohost_cstr(lit)); }

static uint32_t atou(dohost_str s) {
	uint32_t n = 0;
	for (uint32_t i = 0; i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9'; i++) {
		n = n * 10 + (uint32_t)(s.ptr[i] - '0');
	}
	return n;
}

/* list writes "list <id>:<tag>,<tag> …" of the open sockets with tag. */
static int list(dohost_str tag, dohost_buf *b) {
	if (is(tag, "-")) {
		tag = EMPTY;
	}
	uint32_t n;
	dohost_socket *l;
	int code = dohost_ws_list(tag, &n, &l);
	if (code != DOHOST_OK) {
		return code;
	}
	dohost_buf_addc(b, "list");
	for (uint32_t i = 0; i < n; i++) {
		dohost_buf_addc(b, " ");
		dohost_buf_int(b, l[i].socket);
		dohost_buf_addc(b, ":");
		for (uint32_t j = 0; j < l[i].n_tags; j++) {
			if (j) {
				dohost_buf_addc(b, ",");
			}
			dohost_buf_add(b, l[i].tags[j]);
		}
	}
	return DOHOST_OK;
}

typedef struct {
	uint32_t seen;
} probe;

static void *probe_new(const dohost_object_info *info) {
	(void)info;
	probe *p = calloc(1, sizeof *p);
	return p;
}

static int probe_fetch(void *self, const dohost_request *req, dohost_response *resp) {
	(void)self;
	dohost_buf b = {0};
	if (dohost_is_websocket_upgrade(req)) {
		dohost_str tags[10];
		uint32_t n = 0;
		dohost_str t = query(req, "tags"), rest = t;
		while (rest.len > 0 && n < 10) {
			uint32_t i = 0;
			while (i < rest.len && rest.ptr[i] != ',') {
				i++;
			}
			tags[n++] = (dohost_str){rest.ptr, i};
			rest = i < rest.len ? (dohost_str){rest.ptr + i + 1, rest.len - i - 1} : EMPTY;
		}
		uint32_t socket;
		int code = dohost_ws_accept(n, tags, &socket);
		if (code != DOHOST_OK) {
			dohost_buf_addc(&b, "err ");
			dohost_buf_int(&b, code);
			dohost_response_text(resp, 400, dohost_buf_str(&b));
			return 0;
		}
		dohost_buf_addc(&b, "welcome ");
		dohost_buf_int(&b, socket);
		if (dohost_ws_send(socket, DOHOST_WS_TEXT, dohost_buf_str(&b)) != DOHOST_OK) {
			return dohost_fail(dohost_error());
		}
		if (query(req, "fail").len) {
			return dohost_fail(DOHOST_STR("the probe fails after accepting"));
		}
		resp->status = 101;
		return 0;
	}
	dohost_str p = dohost_url_path(req->url);
	if (is(p, "/accept")) {
		uint32_t socket;
		dohost_buf_addc(&b, "err ");
		dohost_buf_int(&b, dohost_ws_accept(0, NULL, &socket));
	} else if (is(p, "/list")) {
		if (list(query(req, "tag"), &b) != DOHOST_OK) {
			return dohost_fail(dohost_error());
		}
	} else if (is(p, "/broadcast")) {
		uint32_t n;
		if (dohost_ws_broadcast(query(req, "tag"), 0, DOHOST_WS_TEXT, query(req, "msg"), &n) != DOHOST_OK) {
			return dohost_fail(dohost_error());
		}
		dohost_buf_addc(&b, "sent ");
		dohost_buf_int(&b, n);
	} else {
		dohost_response_text(resp, 404, DOHOST_STR("no such path"));
		return 0;
	}
	dohost_response_text(resp, 200, dohost_buf_str(&b));
	return 0;
}

#define CHECK(call)                                                                                                    \
	do {                                                                                                               \
		if ((call) != DOHOST_OK) {                                                                                     \
			return dohost_fail(dohost_error());                                                                        \
		}                                                                                                              \
	} while (0)

static int probe_ws_message(void *self, const dohost_ws_message *m) {
	probe *p = self;
	p->seen++;
	uint32_t me = m->socket;
	if (m->binary) {
		CHECK(dohost_ws_send(me, DOHOST_WS_BINARY, m->data));
		return 0;
	}
	dohost_str arg, cmd = cut(m->data, &arg);
	dohost_buf b = {0};
	if (is(cmd, "whoami")) {
		dohost_buf_addc(&b, "you ");
		dohost_buf_int(&b, me);
	} else if (is(cmd, "echo")) {
		dohost_buf_add(&b, arg);
	} else if (is(cmd, "bcast") || is(cmd, "bcastx")) {
		dohost_str tag = EMPTY, text = arg;
		uint32_t except = 0;
		if (is(cmd, "bcast")) {
			tag = cut(arg, &text);
			if (is(tag, "-")) {
				tag = EMPTY;
			}
		} else {
			except = me;
		}
		uint32_t n;
		CHECK(dohost_ws_broadcast(tag, except, DOHOST_WS_TEXT, text, &n));
		dohost_buf_addc(&b, "sent ");
		dohost_buf_int(&b, n);
	} else if (is(cmd, "list")) {
		CHECK(list(arg, &b));
	} else if (is(cmd, "attach")) {
		CHECK(dohost_ws_attachment_set(me, arg));
		dohost_buf_addc(&b, "ok");
	} else if (is(cmd, "getattach")) {
		dohost_str a;
		CHECK(dohost_ws_attachment_get(arg.len ? atou(arg) : me, &a));
		dohost_buf_addc(&b, "attach ");
		dohost_buf_add(&b, a);
	} else if (is(cmd, "close")) {
		dohost_str reason, c = cut(arg, &reason);
		CHECK(dohost_ws_close(me, atou(c), reason));
		return 0;
	} else if (is(cmd, "auto")) {
		dohost_str resp, req = cut(arg, &resp);
		CHECK(dohost_ws_auto_response(req, resp));
		dohost_buf_addc(&b, "ok");
	} else if (is(cmd, "autotime")) {
		uint64_t ms;
		int code = dohost_ws_auto_response_time(me, &ms);
		if (code == DOHOST_NOT_FOUND) {
			dohost_buf_addc(&b, "autotime none");
		} else {
			CHECK(code);
			dohost_buf_addc(&b, "autotime ");
			dohost_buf_int(&b, (int64_t)ms);
		}
	} else if (is(cmd, "mem")) {
		dohost_buf_addc(&b, "mem ");
		dohost_buf_int(&b, p->seen);
	} else if (is(cmd, "store")) {
		CHECK(dohost_storage_put(DOHOST_STR("last"), arg));
		dohost_buf_addc(&b, "stored ");
		dohost_buf_add(&b, arg);
	} else if (is(cmd, "fail")) {
		CHECK(dohost_ws_send(me, DOHOST_WS_TEXT, DOHOST_STR("never")));
		return dohost_fail(DOHOST_STR("the probe fails on purpose"));
	} else if (is(cmd, "trap")) {
		CHECK(dohost_ws_send(me, DOHOST_WS_TEXT, DOHOST_STR("never")));
		__builtin_trap();
	} else if (is(cmd, "errors")) {
		static char big[3000];
		uint32_t socket;
		dohost_buf_addc(&b, "errors ");
		dohost_buf_int(&b, dohost_ws_send(0, DOHOST_WS_TEXT, DOHOST_STR("x")));
		dohost_buf_addc(&b, " ");
		dohost_buf_int(&b, dohost_ws_close(me, 1001, DOHOST_STR("reserved")));
		dohost_buf_addc(&b, " ");
		dohost_buf_int(&b, dohost_ws_attachment_set(me, (dohost_str){big, sizeof big}));
		dohost_buf_addc(&b, " ");
		dohost_buf_int(&b, dohost_ws_accept(0, NULL, &socket));
	} else if (is(cmd, "big")) {
		uint32_t n = atou(arg);
		char *s = dohost_alloc(n + 1);
		memset(s, 'b', n);
		int code = dohost_ws_send(me, DOHOST_WS_TEXT, (dohost_str){s, n});
		if (code == DOHOST_OK) {
			return 0;
		}
		dohost_buf_addc(&b, "err ");
		dohost_buf_int(&b, code);
	} else {
		dohost_buf_addc(&b, "unknown ");
		dohost_buf_add(&b, cmd);
	}
	CHECK(dohost_ws_send(me, DOHOST_WS_TEXT, dohost_buf_str(&b)));
	return 0;
}

static int probe_ws_close(void *self, const dohost_ws_close_info *c) {
	(void)self;
	dohost_str a;
	CHECK(dohost_ws_attachment_get(c->socket, &a));
	dohost_buf b = {0};
	dohost_buf_addc(&b, "closed ");
	dohost_buf_int(&b, c->socket);
	dohost_buf_addc(&b, " ");
	dohost_buf_int(&b, c->code);
	dohost_buf_addc(&b, c->was_clean ? " 1 " : " 0 ");
	dohost_buf_add(&b, a);
	CHECK(dohost_ws_broadcast(EMPTY, c->socket, DOHOST_WS_TEXT, dohost_buf_str(&b), NULL));
	return 0;
}

static int probe_ws_error(void *self, const dohost_ws_error_info *e) {
	(void)self;
	dohost_str a;
	CHECK(dohost_ws_attachment_get(e->socket, &a));
	dohost_buf b = {0};
	dohost_buf_addc(&b, "error ");
	dohost_buf_int(&b, e->socket);
	dohost_buf_addc(&b, " ");
	dohost_buf_add(&b, a);
	CHECK(dohost_ws_broadcast(EMPTY, e->socket, DOHOST_WS_TEXT, dohost_buf_str(&b), NULL));
	return 0;
}

static const dohost_class probe_class = {
	.name = "WSProbe",
	.construct = probe_new,
	.fetch = probe_fetch,
	.ws_message = probe_ws_message,
	.ws_close = probe_ws_close,
	.ws_error = probe_ws_error,
};

__attribute__((constructor)) static void init(void) {
	dohost_handle(fetch);
	dohost_register_class(&probe_class);
}
