/* dohost.h — the C SDK for dohost guests (abi/ABI.md, version 1).
 *
 * A guest is a WASI reactor:
 *
 *   clang --target=wasm32-wasi -mexec-model=reactor -Oz -Wl,--strip-all \
 *       -I guests/c -o app.wasm app.c guests/c/dohost.c
 *
 * Register the handlers from a constructor function (it runs in
 * _initialize, before any request):
 *
 *   __attribute__((constructor)) static void setup(void) {
 *       dohost_handle(fetch);
 *       dohost_register_class(&room_class);
 *   }
 *
 * Conventions:
 * - Strings are dohost_str: a pointer and a length, UTF-8 or any bytes. Those
 *   the SDK makes are followed by a NUL (not counted in len), so ptr can be
 *   printed with %s.
 * - Memory the SDK gives (a request, a value, an error message) and memory
 *   from dohost_alloc lives until the handler returns: the SDK frees it all
 *   then, in one go. An object's state that must outlive a request is the
 *   guest's own (malloc, or static).
 * - Functions that call the host return a status code (enum dohost_status):
 *   DOHOST_OK, DOHOST_NOT_FOUND for an absent key, or an error; after an
 *   error dohost_error() is the host's message. Results come back through
 *   out parameters.
 * - A handler returns 0 (DOHOST_OK) or fails: return dohost_fail(msg), which
 *   the host logs with the request id, as a Workers handler that throws.
 * - Time: dohost_now_ms() (WASI's realtime clock), unix milliseconds, the
 *   unit of alarms.
 */
#ifndef DOHOST_H
#define DOHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dohost_abi.h"

/* ---- Strings and memory ---- */

/* dohost_str is len bytes at ptr. */
typedef struct {
	const char *ptr;
	uint32_t len;
} dohost_str;

/* DOHOST_STR makes a dohost_str of a string literal. */
#define DOHOST_STR(lit) ((dohost_str){(lit), sizeof(lit) - 1})

/* dohost_cstr makes a dohost_str of a NUL-terminated string. */
dohost_str dohost_cstr(const char *s);

/* dohost_str_eq reports whether a and b hold the same bytes. */
bool dohost_str_eq(dohost_str a, dohost_str b);

/* dohost_alloc returns n bytes (8-aligned) that live until the handler
 * returns; it traps if memory runs out. */
void *dohost_alloc(size_t n);

/* dohost_copy returns a copy of s in memory from dohost_alloc, with a NUL
 * after it. */
dohost_str dohost_copy(dohost_str s);

/* dohost_buf is a growing byte string in memory from dohost_alloc: for
 * response bodies, JSON, log lines. Start from (dohost_buf){0}. */
typedef struct {
	char *ptr;
	uint32_t len, cap;
} dohost_buf;

void dohost_buf_add(dohost_buf *b, dohost_str s);
void dohost_buf_addc(dohost_buf *b, const char *s);
void dohost_buf_int(dohost_buf *b, int64_t v);
/* dohost_buf_json_str appends s as a JSON string, quoted and escaped as
 * Go's encoding/json does (<, >, & as \u003c…, invalid UTF-8 as \ufffd). */
void dohost_buf_json_str(dohost_buf *b, dohost_str s);
/* dohost_buf_str returns the bytes so far, followed by a NUL. */
dohost_str dohost_buf_str(dohost_buf *b);

/* ---- Requests and responses ---- */

typedef struct {
	dohost_str name, value;
} dohost_header;

/* A request: what the Worker receives (an absolute URL; header names in
 * lower case, sorted, plus host and cf-connecting-ip: ABI.md §5) and what
 * a stub sends to an object. */
typedef struct {
	dohost_str method, url;
	uint32_t n_headers;
	dohost_header *headers;
	dohost_str body;
} dohost_request;

typedef struct {
	uint32_t status;
	uint32_t n_headers;
	dohost_header *headers;
	dohost_str body;
	uint32_t cap_headers; /* the SDK's */
} dohost_response;

/* dohost_header_get finds the first header named name (in any case). */
bool dohost_header_get(uint32_t n, const dohost_header *hs, dohost_str name, dohost_str *value);

/* dohost_url_path is url's path, without its query or fragment: after
 * "scheme://host" in an absolute URL, from the start in a relative one
 * (as the Rust and AssemblyScript SDKs' path). It is a view of url. */
dohost_str dohost_url_path(dohost_str url);

/* dohost_query_get finds the first value of the query parameter name in
 * url, decoded as Go's url.Values (+ is a space, %XX a byte; a pair with
 * a bad escape or a ';' is skipped). */
bool dohost_query_get(dohost_str url, dohost_str name, dohost_str *value);

/* dohost_response_header adds a header to r. */
void dohost_response_header(dohost_response *r, dohost_str name, dohost_str value);

/* dohost_response_json sets r to status with body json and
 * Content-Type: application/json; dohost_response_text to text/plain. */
void dohost_response_json(dohost_response *r, uint32_t status, dohost_str json);
void dohost_response_text(dohost_response *r, uint32_t status, dohost_str text);

/* ---- Handlers ---- */

/* dohost_fetch_fn is the Worker's fetch handler: it fills resp (status 200
 * and no headers or body to start with) and returns 0, or fails. */
typedef int (*dohost_fetch_fn)(const dohost_request *req, dohost_response *resp);

/* dohost_handle sets the Worker's fetch handler. */
void dohost_handle(dohost_fetch_fn fetch);

typedef struct {
	dohost_str class_name;
	dohost_str id;   /* 64 hex digits */
	bool has_name;   /* reached by name (ABI.md §3) */
	dohost_str name;
} dohost_object_info;

typedef struct {
	uint32_t retry_count; /* 0 for the first run */
} dohost_alarm_info;

/* The input of the WebSocket handlers (ABI.md §5). */
typedef struct dohost_ws_message {
	uint32_t socket;
	bool binary;
	dohost_str data;
} dohost_ws_message;

typedef struct dohost_ws_close_info {
	uint32_t socket;
	uint32_t code; /* the client's, or 1006 for a lost connection */
	dohost_str reason;
	bool was_clean;
} dohost_ws_close_info;

typedef struct dohost_ws_error_info {
	uint32_t socket;
	dohost_str message;
} dohost_ws_error_info;

/* dohost_class is a Durable Object class. construct makes the object's
 * state (the instance serves this one object for its life; info's strings
 * live until the constructor returns) and returns it, or NULL after
 * dohost_fail to fail. fetch serves a request; alarm (optional) runs the
 * object's alarm. */
typedef struct {
	const char *name;
	void *(*construct)(const dohost_object_info *info);
	int (*fetch)(void *self, const dohost_request *req, dohost_response *resp);
	int (*alarm)(void *self, const dohost_alarm_info *info);
	/* WebSockets (optional; ws_message is needed to accept one): a message
	 * from a client, a client that closed or was lost, a socket the host
	 * closed for an error. */
	int (*ws_message)(void *self, const struct dohost_ws_message *m);
	int (*ws_close)(void *self, const struct dohost_ws_close_info *c);
	int (*ws_error)(void *self, const struct dohost_ws_error_info *e);
} dohost_class;

/* dohost_register_class adds a class; c must outlive the instance. */
void dohost_register_class(const dohost_class *c);

/* dohost_fail sets the message of the failing handler and returns
 * DOHOST_GUEST_ERROR, for `return dohost_fail(...)`. */
int dohost_fail(dohost_str msg);

/* dohost_error is the host's message for the last call that failed. */
dohost_str dohost_error(void);

/* ---- Logging and time ---- */

enum { DOHOST_LOG_DEBUG = 0, DOHOST_LOG_INFO = 1, DOHOST_LOG_WARN = 2, DOHOST_LOG_ERROR = 3 };

/* dohost_log writes a line to the host's log, tagged with the worker, the
 * object and the request. */
int dohost_log(uint32_t level, dohost_str msg);

/* dohost_now_ms is the time in unix milliseconds. */
uint64_t dohost_now_ms(void);

/* ---- Vars and secrets ---- */

/* dohost_env_get sets *value to the worker's var ([vars]) or secret called
 * name and returns DOHOST_OK, or DOHOST_NOT_FOUND. A var that is not a
 * string in wrangler.toml comes as its JSON. The value lives until the next
 * host call, like every result. */
int dohost_env_get(dohost_str name, dohost_str *value);

/* ---- KV namespaces ---- */

int dohost_kv_get(dohost_str binding, dohost_str key, dohost_str *value);

typedef struct {
	uint64_t expiration;     /* unix seconds; 0: none */
	uint64_t expiration_ttl; /* seconds; 0: none */
	dohost_str metadata;     /* up to 1024 bytes; empty: none */
} dohost_kv_put_options;

/* dohost_kv_put sets key; opts may be NULL. */
int dohost_kv_put(dohost_str binding, dohost_str key, dohost_str value, const dohost_kv_put_options *opts);
int dohost_kv_delete(dohost_str binding, dohost_str key);

typedef struct {
	dohost_str name;
	uint64_t expiration;
	dohost_str metadata;
} dohost_kv_key;

typedef struct {
	uint32_t n_keys;
	dohost_kv_key *keys;
	bool list_complete;
	dohost_str cursor; /* pass it back for the next page */
} dohost_kv_list_result;

/* dohost_kv_list lists up to limit (0: 1000) keys starting with prefix,
 * after cursor (empty: from the start). */
int dohost_kv_list(dohost_str binding, dohost_str prefix, dohost_str cursor, uint32_t limit, dohost_kv_list_result *out);

/* ---- Durable Object namespaces and stubs ---- */

int dohost_id_from_name(dohost_str binding, dohost_str name, dohost_str *id);
int dohost_new_unique_id(dohost_str binding, dohost_str *id);
int dohost_id_from_string(dohost_str binding, dohost_str s, dohost_str *id);

/* dohost_stub_fetch sends req to the object id of the namespace binding
 * and returns its response. */
int dohost_stub_fetch(dohost_str binding, dohost_str id, const dohost_request *req, dohost_response *resp);

/* ---- Durable Object storage (in an object's handlers only) ---- */

int dohost_storage_get(dohost_str key, dohost_str *value);
/* dohost_storage_get_multi reads n keys (at most 128): values[i] and
 * found[i] for keys[i]. */
int dohost_storage_get_multi(uint32_t n, const dohost_str *keys, dohost_str *values, bool *found);
int dohost_storage_put(dohost_str key, dohost_str value);
/* dohost_storage_put_multi sets n keys, all or none. */
int dohost_storage_put_multi(uint32_t n, const dohost_str *keys, const dohost_str *values);
/* dohost_storage_delete: DOHOST_OK if the key existed, DOHOST_NOT_FOUND if not. */
int dohost_storage_delete(dohost_str key);
int dohost_storage_delete_multi(uint32_t n, const dohost_str *keys, uint32_t *deleted);
int dohost_storage_delete_all(void);

typedef struct {
	dohost_str start, end, prefix;
	bool reverse, keys_only, start_after, has_end;
	uint32_t limit; /* 0: no limit */
} dohost_list_options;

typedef struct {
	uint32_t n;
	dohost_str *keys, *values;
	bool more; /* the page ended before the listing: ABI.md §4 */
} dohost_storage_list_result;

/* dohost_storage_list returns one page of a listing. */
int dohost_storage_list(const dohost_list_options *o, dohost_storage_list_result *out);

int dohost_txn_begin(void);
int dohost_txn_commit(void);
int dohost_txn_rollback(void);

/* dohost_alarm_get: DOHOST_OK with the alarm's time, or DOHOST_NOT_FOUND. */
int dohost_alarm_get(uint64_t *ms);
int dohost_alarm_set(uint64_t ms);
int dohost_alarm_delete(void);

/* ---- WebSockets (in an object's handlers only; ABI.md §4) ----
 * Accept the socket of an upgrade request in the fetch handler and answer
 * status 101; the host then holds it, also while the object is evicted.
 * Frames sent by a handler leave once it returns 0 and its writes are
 * durable. */

enum { DOHOST_WS_TEXT = 1, DOHOST_WS_BINARY = 2 };

typedef struct {
	uint32_t socket;
	uint32_t n_tags;
	dohost_str *tags;
} dohost_socket;

/* dohost_is_websocket_upgrade: req asks for a WebSocket. */
bool dohost_is_websocket_upgrade(const dohost_request *req);
/* dohost_ws_accept accepts the request's WebSocket with up to 10 tags. */
int dohost_ws_accept(uint32_t n_tags, const dohost_str *tags, uint32_t *socket);
int dohost_ws_send(uint32_t socket, uint32_t kind, dohost_str data);
/* dohost_ws_broadcast sends to every open socket with tag (all: empty tag)
 * but except (0: none); *count (may be NULL) is how many. */
int dohost_ws_broadcast(dohost_str tag, uint32_t except, uint32_t kind, dohost_str data, uint32_t *count);
/* dohost_ws_close: code 1000 or 3000-4999, reason at most 123 bytes. */
int dohost_ws_close(uint32_t socket, uint32_t code, dohost_str reason);
/* dohost_ws_list lists the open sockets with tag (all: empty tag). */
int dohost_ws_list(dohost_str tag, uint32_t *n, dohost_socket **sockets);
int dohost_ws_attachment_get(uint32_t socket, dohost_str *data);
/* dohost_ws_attachment_set keeps up to 2048 bytes with the socket. */
int dohost_ws_attachment_set(uint32_t socket, dohost_str data);
/* dohost_ws_auto_response: the host answers a text message request with
 * response without running the object (empty request: none). */
int dohost_ws_auto_response(dohost_str request, dohost_str response);
/* dohost_ws_auto_response_time: DOHOST_OK with the time, in unix ms, of the
 * socket's last auto-response, or DOHOST_NOT_FOUND. */
int dohost_ws_auto_response_time(uint32_t socket, uint64_t *ms);

#endif
