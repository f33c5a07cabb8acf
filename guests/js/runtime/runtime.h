/* runtime.h — what the parts of dohost's JavaScript runtime share: the
 * interpreter (runtime.c), the host calls the Workers API is built on
 * (bridge.c) and the text formats (text.c). */
#ifndef DOHOST_JS_RUNTIME_H
#define DOHOST_JS_RUNTIME_H

#include "dohost.h"
#include "quickjs.h"

/* The runtime's one interpreter. */
extern JSRuntime *js_rt;
extern JSContext *js_ctx;

/* in_object reports whether this instance serves a Durable Object (not
 * the Worker): WebSockets are an object's. */
extern bool in_object;

/* host_object makes __dohost: the functions prelude.js builds the Workers
 * API from. */
JSValue host_object(JSContext *ctx);

/* forget_socket drops what the bridge keeps of a closed socket. */
void forget_socket(JSContext *ctx, uint32_t id);

/* throw_host throws the host's error for a failed call (status code):
 * an Error with code, codeName and the host's message. */
JSValue throw_host(JSContext *ctx, int code);

/* js_str is v as a string (ToString), in memory from dohost_alloc; false
 * with an exception pending if v has no string form. */
bool js_str(JSContext *ctx, JSValueConst v, dohost_str *out);

/* js_pairs reads an array of [name, value] string pairs as headers;
 * header_pairs makes one. */
bool js_pairs(JSContext *ctx, JSValueConst v, uint32_t *n, dohost_header **out);
JSValue header_pairs(JSContext *ctx, uint32_t n, const dohost_header *hs);

/* new_string is s as a JavaScript string, its invalid UTF-8 repaired. */
JSValue new_string(JSContext *ctx, dohost_str s);

/* Text formats (text.c). */
bool utf8_valid(dohost_str s);
dohost_str utf8_repair(dohost_str s);
dohost_str base64_encode(dohost_str s);
bool base64_decode(dohost_str s, dohost_str *out);
dohost_str form_decode(dohost_str s);
void form_encode(dohost_buf *b, dohost_str s);

/* SHA digests and HMAC (sha.c), by Web Crypto's names ("SHA-256"):
 * sha_size is the digest's size, 0 for a name it does not know; out must
 * hold it. */
int sha_size(dohost_str alg);
bool sha_digest(dohost_str alg, dohost_str data, uint8_t *out);
bool hmac(dohost_str alg, dohost_str key, dohost_str data, uint8_t *out);

/* url_result is a URL's parts as the URL class keeps them. */
typedef struct {
	dohost_str protocol, username, password, hostname, port, pathname, search, hash;
} url_result;

/* url_parse resolves ref against base (if not empty) as an absolute URL,
 * as Go's net/url does for http URLs; NULL, or what is wrong. */
const char *url_parse(dohost_str ref, dohost_str base, url_result *out);

#endif
