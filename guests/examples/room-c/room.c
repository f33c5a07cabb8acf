/* room-c is the seed example in C, answering as the Go room does: the
 * Worker reads ?roomId=, routes the request to the object of that name,
 * and the object reads and writes the KV key last-room and counts its
 * requests in memory.
 *
 *   make guests/examples/room-c/room-c.wasm
 */
#include <stdlib.h>

#include "dohost.h"

static const dohost_str kv = DOHOST_STR("YOUR_KV_NAMESPACE");
static const dohost_str rooms = DOHOST_STR("YOUR_DO_CLASS");

/* fail_call fails the handler with the host's message for a call. */
static int fail_call(void) { return dohost_fail(dohost_error()); }

static int fetch(const dohost_request *req, dohost_response *resp) {
	dohost_str room = {"", 0}, id;
	dohost_query_get(req->url, DOHOST_STR("roomId"), &room);
	if (room.len == 0) {
		dohost_response_json(resp, 400, DOHOST_STR("{\"error\":\"missing roomId query parameter: try /?roomId=lobby\"}"));
		return 0;
	}
	if (dohost_id_from_name(rooms, room, &id) != DOHOST_OK) {
		return fail_call();
	}
	return dohost_stub_fetch(rooms, id, req, resp) == DOHOST_OK ? 0 : fail_call();
}

/* A room: its request count lives in memory only, and starts over when
 * the object restarts. */
typedef struct {
	int64_t requests;
} room;

static void *room_new(const dohost_object_info *info) {
	(void)info;
	return calloc(1, sizeof(room));
}

static int room_fetch(void *self, const dohost_request *req, dohost_response *resp) {
	room *r = self;
	dohost_str name = {"", 0}, prev;
	dohost_query_get(req->url, DOHOST_STR("roomId"), &name);
	int found = dohost_kv_get(kv, DOHOST_STR("last-room"), &prev);
	if (found != DOHOST_OK && found != DOHOST_NOT_FOUND) {
		return fail_call();
	}
	if (dohost_kv_put(kv, DOHOST_STR("last-room"), name, NULL) != DOHOST_OK) {
		return fail_call();
	}
	r->requests++;
	dohost_buf b = {0};
	dohost_buf_addc(&b, "{\"room\":");
	dohost_buf_json_str(&b, name);
	dohost_buf_addc(&b, ",\"previousRoom\":");
	if (found == DOHOST_OK) {
		dohost_buf_json_str(&b, prev);
	} else {
		dohost_buf_addc(&b, "null");
	}
	dohost_buf_addc(&b, ",\"requests\":");
	dohost_buf_int(&b, r->requests);
	dohost_buf_addc(&b, "}");
	dohost_response_json(resp, 200, dohost_buf_str(&b));
	return 0;
}

static const dohost_class room_class = {.name = "YourDurableObject", .construct = room_new, .fetch = room_fetch};

__attribute__((constructor)) static void setup(void) {
	dohost_handle(fetch);
	dohost_register_class(&room_class);
}
