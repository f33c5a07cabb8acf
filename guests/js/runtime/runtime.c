/* runtime.c — dohost's JavaScript runtime: a guest, built with the C SDK,
 * that runs a Workers module with the QuickJS interpreter inside the same
 * WebAssembly sandbox as every other guest.
 *
 * The host bundles the Worker's src/index.js (or .ts) with esbuild and
 * appends the bundle to this module as the custom section "dohost.js"; it
 * gives an instance that section as the file /bundle.js while the module
 * initializes. Initializing evaluates the prelude (the Workers API,
 * prelude.js), this runtime's own glue (runtime.js) and the bundle, then
 * registers the bundle's default export as the Worker's fetch handler and
 * each exported class as a Durable Object class. The host snapshots the
 * instance after that, so every object starts with the bundle already
 * evaluated. */
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasi_compat.h"
#include "embedded.h" /* prelude_js, runtime_js: made by make from the .js files */

JSRuntime *js_rt;
JSContext *js_ctx;
bool in_object;

/* bundle_path is where an instance finds the Worker's bundle while the
 * module initializes. */
static const char bundle_path[] = "/bundle.js";

/* The parts of the prelude the runtime calls (__dohost_api), the
 * Worker's env and its fetch handler. */
static JSValue api, fn_wire, fn_request, fn_socket, fn_settle, fn_describe, fn_next_timer, fn_run_timers, fn_clear_timers, fn_constructing, fn_constructed, ctor_context, ctor_state, env;
static JSValue worker, worker_fetch;

/* load_error is why the Worker did not load: every request says so. */
static char *load_error;

/* has_bundle is set once the module found its Worker's bundle. */
static bool has_bundle;

/* heap_reserve is the room the snapshot's memory keeps for requests'
 * allocations: an instance whose memory never grows past the snapshot's
 * can be reset and reused for another object. Untouched, it costs an
 * instance nothing. */
enum { heap_reserve = 2 << 20 };

/* stack_limit is how deep JavaScript may recurse before a RangeError,
 * within the module's stack (-z stack-size in the Makefile). */
enum { stack_limit = 200 << 10 };

/* ---- Memory ---- */

/* out_of_memory is set when an allocation failed: the object reached its
 * memory_mb. QuickJS throws a catchable InternalError then, but the
 * instance keeps all the memory it grew to; as Workers resets an isolate
 * past its memory limit, the runtime ends the instance (a trap) and the
 * host starts the object afresh for its next event. */
static bool out_of_memory;



static void *rt_malloc(JSMallocState *s, size_t size) {
	void *p = malloc(size);
	if (!p) {
		out_of_memory = true;
		return NULL;
	}
	s->malloc_count++;
	s->malloc_size += malloc_usable_size(p);
	return p;
}

static void rt_free(JSMallocState *s, void *p) {
	if (p) {
		s->malloc_count--;
		s->malloc_size -= malloc_usable_size(p);
		free(p);
	}
}

static void *rt_realloc(JSMallocState *s, void *p, size_t size) {
	size_t old = p ? malloc_usable_size(p) : 0;
	void *q = realloc(p, size);
	if (!q && size) {
		out_of_memory = true;
		return NULL;
	}
	if (!p) {
		s->malloc_count++;
	}
	s->malloc_size += (q ? malloc_usable_size(q) : 0) - old;
	if (!q) {
		s->malloc_count--;
	}
	return q;
}

static size_t rt_usable_size(const void *p) { return malloc_usable_size((void *)p); }

static const JSMallocFunctions malloc_functions = {rt_malloc, rt_free, rt_realloc, rt_usable_size};

/* check_memory ends the instance if an allocation failed during the
 * handler, with why on stderr (the operator's log). */
static void check_memory(dohost_str why) {
	if (!out_of_memory) {
		return;
	}
	fprintf(stderr, "dohost's JavaScript runtime: out of memory (the worker's memory_mb): %.*s\n", (int)why.len, why.ptr);
	fflush(stderr);
	__builtin_trap();
}

static JSValue api_get(const char *name);

/* ---- Errors ---- */

/* describe_value is v as the log should show it: an exception's message
 * and its stack in the Worker's own files. */
static dohost_str describe_value(JSValueConst v) {
	JSValue d = JS_Call(js_ctx, fn_describe, JS_UNDEFINED, 1, (JSValue *)&v);
	dohost_str s = DOHOST_STR("(a value that cannot be described)");
	if (JS_IsException(d)) {
		JS_FreeValue(js_ctx, JS_GetException(js_ctx));
	} else {
		js_str(js_ctx, d, &s);
	}
	JS_FreeValue(js_ctx, d);
	return s;
}

/* describe_exception is the pending exception (taken), described. */
static dohost_str describe_exception(void) {
	JSValue e = JS_GetException(js_ctx);
	dohost_str s = describe_value(e);
	JS_FreeValue(js_ctx, e);
	return s;
}

/* fail ends a handler with "what: msg" as its error. */
static int fail(const char *what, dohost_str msg) {
	dohost_buf b = {0};
	dohost_buf_addc(&b, what);
	dohost_buf_addc(&b, ": ");
	dohost_buf_add(&b, msg);
	check_memory(dohost_buf_str(&b));
	return dohost_fail(dohost_buf_str(&b));
}

/* run_jobs runs the promise jobs pending: a handler's awaits. A job that
 * throws (a promise's own jobs never do: they reject) is dropped with its
 * exception, and the rest run. */
static void run_jobs(void) {
	JSContext *c;
	int r;
	while ((r = JS_ExecutePendingJob(js_rt, &c)) != 0) {
		if (r < 0) {
			JS_FreeValue(c, JS_GetException(c));
		}
	}
}

/* box_state is the state of a settle box: 0 pending, 1 fulfilled, 2
 * rejected. */
static int32_t box_state(JSValueConst box) {
	JSValue s = JS_GetPropertyStr(js_ctx, box, "s");
	int32_t state = 0;
	JS_ToInt32(js_ctx, &state, s);
	JS_FreeValue(js_ctx, s);
	return state;
}

/* api_call calls the runtime's function f with no arguments; an
 * exception in it (none is expected) is dropped. */
static JSValue api_call(JSValueConst f) {
	JSValue v = JS_Call(js_ctx, f, JS_UNDEFINED, 0, NULL);
	if (JS_IsException(v)) {
		JS_FreeValue(js_ctx, JS_GetException(js_ctx));
		return JS_UNDEFINED;
	}
	return v;
}

/* wait_timers runs the timers the box's promise waits for: while it is
 * pending and a timer is set, sleep until the earliest is due (a WASI
 * sleep, which the host does not count as running time), run those due
 * and the jobs they make. */
static void wait_timers(JSValueConst box) {
	while (box_state(box) == 0) {
		double ms = -1;
		JSValue next = api_call(fn_next_timer);
		JS_ToFloat64(js_ctx, &ms, next);
		JS_FreeValue(js_ctx, next);
		if (ms < 0) {
			return;
		}
		if (ms > 0) {
			long long ns = (long long)(ms * 1e6);
			struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
			nanosleep(&ts, NULL);
		}
		JS_FreeValue(js_ctx, api_call(fn_run_timers));
		run_jobs();
	}
}

/* settle is v (taken), or what the promise v was fulfilled with. Handlers
 * run to completion: the host answers nothing asynchronously, so once the
 * jobs have run and no timer is left, a promise still pending waits for
 * something that never comes (a fetch). Timers still set when it has
 * settled are cancelled: dohost wakes no object for a timer. */
static int settle(const char *what, JSValue v, JSValue *out) {
	JSValue box = JS_Call(js_ctx, fn_settle, JS_UNDEFINED, 1, &v);
	JS_FreeValue(js_ctx, v);
	if (JS_IsException(box)) {
		return fail(what, describe_exception());
	}
	run_jobs();
	wait_timers(box);
	JSValue cleared = api_call(fn_clear_timers);
	int32_t dropped = 0;
	JS_ToInt32(js_ctx, &dropped, cleared);
	JS_FreeValue(js_ctx, cleared);
	if (dropped > 0) {
		dohost_buf b = {0};
		dohost_buf_addc(&b, what);
		dohost_buf_addc(&b, ": ");
		dohost_buf_int(&b, dropped);
		dohost_buf_addc(&b, dropped == 1 ? " timer still set when the handler settled was cancelled" : " timers still set when the handler settled were cancelled");
		dohost_buf_addc(&b, " (dohost runs timers only while a handler waits for them)");
		dohost_log(DOHOST_LOG_WARN, dohost_buf_str(&b));
	}
	int32_t state = box_state(box);
	JSValue r = JS_GetPropertyStr(js_ctx, box, "v");
	JS_FreeValue(js_ctx, box);
	if (state == 1) {
		*out = r;
		return DOHOST_OK;
	}
	int code;
	if (state == 2) {
		dohost_buf b = {0};
		dohost_buf_addc(&b, "uncaught (in promise) ");
		dohost_buf_add(&b, describe_value(r));
		code = fail(what, dohost_buf_str(&b));
	} else {
		code = fail(what, DOHOST_STR("the handler's promise never settled: it waits for something dohost does not run (an outbound fetch?), and no timer is left"));
	}
	JS_FreeValue(js_ctx, r);
	return code;
}

/* call calls f with this and args and settles what it returns. */
static int call(const char *what, JSValueConst f, JSValueConst this, int argc, JSValueConst *argv, JSValue *out) {
	JSValue v = JS_Call(js_ctx, f, this, argc, (JSValue *)argv);
	if (JS_IsException(v)) {
		run_jobs();
		return fail(what, describe_exception());
	}
	return settle(what, v, out);
}

/* ---- Requests and responses ---- */

/* to_request is req as a JavaScript Request. */
static JSValue to_request(const dohost_request *req) {
	JSValue args[4] = {
		new_string(js_ctx, req->method),
		new_string(js_ctx, req->url),
		header_pairs(js_ctx, req->n_headers, req->headers),
		JS_NewArrayBufferCopy(js_ctx, (const uint8_t *)req->body.ptr, req->body.len),
	};
	JSValue r = JS_Call(js_ctx, fn_request, JS_UNDEFINED, 4, args);
	for (int i = 0; i < 4; i++) {
		JS_FreeValue(js_ctx, args[i]);
	}
	return r;
}

/* respond calls a fetch handler and turns what it returns (a Response, or
 * a promise of one) into the host's response. */
static int respond(const char *what, JSValueConst f, JSValueConst this, int argc, JSValueConst *argv, dohost_response *resp) {
	JSValue v;
	int code = call(what, f, this, argc, argv, &v);
	if (code != DOHOST_OK) {
		return code;
	}
	JSValue w = JS_Call(js_ctx, fn_wire, JS_UNDEFINED, 1, &v);
	JS_FreeValue(js_ctx, v);
	if (JS_IsException(w)) {
		return fail(what, describe_exception());
	}
	JSValue status = JS_GetPropertyUint32(js_ctx, w, 0);
	JSValue hs = JS_GetPropertyUint32(js_ctx, w, 1);
	JSValue body = JS_GetPropertyUint32(js_ctx, w, 2);
	JS_FreeValue(js_ctx, w);
	JS_ToUint32(js_ctx, &resp->status, status);
	uint32_t n;
	dohost_header *fields;
	code = DOHOST_OK;
	if (!js_pairs(js_ctx, hs, &n, &fields)) {
		code = fail(what, describe_exception());
	} else {
		for (uint32_t i = 0; i < n; i++) {
			dohost_response_header(resp, fields[i].name, fields[i].value);
		}
	}
	size_t blen;
	uint8_t *b = JS_GetArrayBuffer(js_ctx, &blen, body);
	if (code == DOHOST_OK && !b) {
		code = fail(what, describe_exception());
	} else if (b) {
		resp->body = dohost_copy((dohost_str){(const char *)b, (uint32_t)blen});
	} else {
		JS_FreeValue(js_ctx, JS_GetException(js_ctx)); /* failed already: drop this one */
	}
	JS_FreeValue(js_ctx, status), JS_FreeValue(js_ctx, hs), JS_FreeValue(js_ctx, body);
	check_memory(dohost_cstr(what));
	return code;
}

static int new_context(JSValue *out) {
	*out = JS_CallConstructor(js_ctx, ctor_context, 0, NULL);
	if (JS_IsException(*out)) {
		return fail("ExecutionContext", describe_exception());
	}
	return DOHOST_OK;
}

/* ---- The Worker ---- */

static int serve_worker(const dohost_request *req, dohost_response *resp) {
	if (load_error) {
		return dohost_fail(dohost_cstr(load_error));
	}
	if (JS_IsUndefined(worker_fetch)) {
		return dohost_fail(DOHOST_STR("the Worker's default export has no fetch handler"));
	}
	JSValue ctxv;
	int code = new_context(&ctxv);
	if (code != DOHOST_OK) {
		return code;
	}
	JSValue r = to_request(req);
	if (JS_IsException(r)) {
		JS_FreeValue(js_ctx, ctxv);
		return fail("request", describe_exception());
	}
	JSValueConst args[3] = {r, env, ctxv};
	code = respond("fetch", worker_fetch, worker, 3, args, resp);
	JS_FreeValue(js_ctx, r), JS_FreeValue(js_ctx, ctxv);
	return code;
}

/* register_worker makes the default export's fetch the Worker's handler:
 * an object with fetch(request, env, ctx), or a WorkerEntrypoint class. */
static const char *register_worker(JSValue def) {
	if (JS_IsConstructor(js_ctx, def)) {
		JSValue ctxv;
		if (new_context(&ctxv) != DOHOST_OK) {
			return "ExecutionContext failed";
		}
		JSValueConst args[2] = {ctxv, env};
		JSValue o = JS_CallConstructor(js_ctx, def, 2, args);
		JS_FreeValue(js_ctx, ctxv);
		JS_FreeValue(js_ctx, def);
		if (JS_IsException(o)) {
			dohost_buf b = {0};
			dohost_buf_addc(&b, "constructing the default export: ");
			dohost_buf_add(&b, describe_exception());
			return dohost_buf_str(&b).ptr;
		}
		def = o;
	}
	worker = def;
	JSValue f = JS_GetPropertyStr(js_ctx, def, "fetch");
	if (JS_IsFunction(js_ctx, f)) {
		worker_fetch = f;
	} else {
		JS_FreeValue(js_ctx, f);
	}
	return NULL;
}

/* ---- Durable Objects ---- */

/* object is one Durable Object: its JavaScript instance is made at its
 * first event, so that a constructor's exception fails that event with the
 * exception's message, as on Workers. */
typedef struct {
	const char *class_name;
	JSValue ctor, this;
	char *id;
	char *name; /* NULL: reached by unique ID */
} object;

static JSValue classes; /* class name → constructor */

static void *construct(const dohost_object_info *info) {
	in_object = true;
	object *o = calloc(1, sizeof *o);
	if (!o) {
		dohost_fail(DOHOST_STR("out of memory"));
		return NULL;
	}
	dohost_str cn = dohost_copy(info->class_name);
	o->ctor = JS_GetPropertyStr(js_ctx, classes, cn.ptr);
	o->class_name = strdup(cn.ptr);
	o->this = JS_UNDEFINED;
	o->id = strndup(info->id.ptr, info->id.len);
	o->name = info->has_name ? strndup(info->name.ptr, info->name.len) : NULL;
	return o;
}

static int instance(object *o, JSValue *this) {
	if (!JS_IsUndefined(o->this)) {
		*this = o->this;
		return DOHOST_OK;
	}
	JSValue args[2] = {JS_NewString(js_ctx, o->id), o->name ? new_string(js_ctx, dohost_cstr(o->name)) : JS_NULL};
	JSValue st = JS_CallConstructor(js_ctx, ctor_state, 2, args);
	JS_FreeValue(js_ctx, args[0]), JS_FreeValue(js_ctx, args[1]);
	if (JS_IsException(st)) {
		return fail("DurableObjectState", describe_exception());
	}
	JSValueConst cargs[2] = {st, env};
	JS_FreeValue(js_ctx, api_call(fn_constructing));
	JSValue t = JS_CallConstructor(js_ctx, o->ctor, 2, cargs);
	JS_FreeValue(js_ctx, st);
	dohost_buf b = {0};
	dohost_buf_addc(&b, "constructor of ");
	dohost_buf_addc(&b, o->class_name);
	if (JS_IsException(t)) {
		JSValue exc = JS_GetException(js_ctx);
		JS_FreeValue(js_ctx, api_call(fn_constructed));
		JS_Throw(js_ctx, exc);
		run_jobs();
		return fail(dohost_buf_str(&b).ptr, describe_exception());
	}
	/* The event waits for the constructor's blockConcurrencyWhile calls:
	 * their jobs and their timers; one that rejects (or waits for
	 * something that never comes) fails the constructor. */
	JSValue blocked = api_call(fn_constructed);
	if (JS_IsUndefined(blocked)) {
		run_jobs();
	} else {
		dohost_buf_addc(&b, ": blockConcurrencyWhile");
		JSValue done;
		int code = settle(dohost_buf_str(&b).ptr, blocked, &done);
		if (code != DOHOST_OK) {
			JS_FreeValue(js_ctx, t);
			return code;
		}
		JS_FreeValue(js_ctx, done);
	}
	o->this = t;
	*this = t;
	return DOHOST_OK;
}

/* method is the instance's method name (taken), or undefined. */
static JSValue method(JSValueConst this, const char *name) {
	JSValue f = JS_GetPropertyStr(js_ctx, this, name);
	if (!JS_IsFunction(js_ctx, f)) {
		JS_FreeValue(js_ctx, f);
		return JS_UNDEFINED;
	}
	return f;
}

/* what is "Class.handler", for errors. */
static const char *what(object *o, const char *handler) {
	dohost_buf b = {0};
	dohost_buf_addc(&b, o->class_name);
	dohost_buf_addc(&b, ".");
	dohost_buf_addc(&b, handler);
	return dohost_buf_str(&b).ptr;
}

static int no_method(object *o, const char *m) {
	dohost_buf b = {0};
	dohost_buf_addc(&b, "class ");
	dohost_buf_addc(&b, o->class_name);
	dohost_buf_addc(&b, " has no ");
	dohost_buf_addc(&b, m);
	dohost_buf_addc(&b, " method");
	return dohost_fail(dohost_buf_str(&b));
}

static int object_fetch(void *self, const dohost_request *req, dohost_response *resp) {
	object *o = self;
	JSValue this;
	int code = instance(o, &this);
	if (code != DOHOST_OK) {
		return code;
	}
	JSValue f = method(this, "fetch");
	if (JS_IsUndefined(f)) {
		return no_method(o, "fetch");
	}
	JSValue r = to_request(req);
	if (JS_IsException(r)) {
		JS_FreeValue(js_ctx, f);
		return fail("request", describe_exception());
	}
	code = respond(what(o, "fetch"), f, this, 1, (JSValueConst *)&r, resp);
	JS_FreeValue(js_ctx, r), JS_FreeValue(js_ctx, f);
	return code;
}

/* event calls the instance's handler m with args (taken) and settles it;
 * a class without the handler fails the event if required, else ignores
 * it. */
static int event(object *o, const char *m, bool required, int argc, JSValue *args) {
	JSValue this;
	int code = instance(o, &this);
	JSValue f = code == DOHOST_OK ? method(this, m) : JS_UNDEFINED;
	if (code == DOHOST_OK && JS_IsUndefined(f) && required) {
		code = no_method(o, m);
	}
	if (code == DOHOST_OK && !JS_IsUndefined(f)) {
		JSValue v;
		code = call(what(o, m), f, this, argc, args, &v);
		if (code == DOHOST_OK) {
			JS_FreeValue(js_ctx, v);
		}
	}
	JS_FreeValue(js_ctx, f);
	for (int i = 0; i < argc; i++) {
		JS_FreeValue(js_ctx, args[i]);
	}
	check_memory(dohost_cstr(what(o, m)));
	return code;
}

static int object_alarm(void *self, const dohost_alarm_info *info) {
	JSValue i = JS_NewObject(js_ctx);
	JS_SetPropertyStr(js_ctx, i, "retryCount", JS_NewUint32(js_ctx, info->retry_count));
	JS_SetPropertyStr(js_ctx, i, "isRetry", JS_NewBool(js_ctx, info->retry_count > 0));
	return event(self, "alarm", true, 1, &i);
}

static JSValue socket_value(uint32_t id) {
	JSValue v = JS_NewUint32(js_ctx, id);
	JSValue ws = JS_Call(js_ctx, fn_socket, JS_UNDEFINED, 1, &v);
	return ws;
}

static int ws_message(void *self, const dohost_ws_message *m) {
	JSValue args[2] = {socket_value(m->socket),
		m->binary ? JS_NewArrayBufferCopy(js_ctx, (const uint8_t *)m->data.ptr, m->data.len) : new_string(js_ctx, m->data)};
	return event(self, "webSocketMessage", true, 2, args);
}

/* closed drops what the runtime keeps of a socket the host has closed. */
static void closed(uint32_t id) {
	forget_socket(js_ctx, id);
	JSValue f = api_get("forgetSocket"), v = JS_NewUint32(js_ctx, id);
	JS_FreeValue(js_ctx, JS_Call(js_ctx, f, JS_UNDEFINED, 1, &v));
	JS_FreeValue(js_ctx, f);
}

static int ws_close(void *self, const dohost_ws_close_info *c) {
	JSValue args[4] = {socket_value(c->socket), JS_NewUint32(js_ctx, c->code), new_string(js_ctx, c->reason), JS_NewBool(js_ctx, c->was_clean)};
	int code = event(self, "webSocketClose", false, 4, args);
	closed(c->socket);
	return code;
}

static int ws_error(void *self, const dohost_ws_error_info *e) {
	JSValue err = JS_NewError(js_ctx);
	JS_SetPropertyStr(js_ctx, err, "message", new_string(js_ctx, e->message));
	JSValue args[2] = {socket_value(e->socket), err};
	int code = event(self, "webSocketError", false, 2, args);
	closed(e->socket);
	return code;
}

/* register_class makes the exported class name a Durable Object class. */
static void register_class(const char *name, JSValue ctor) {
	JS_SetPropertyStr(js_ctx, classes, name, ctor);
	dohost_class *c = calloc(1, sizeof *c);
	if (!c) {
		__builtin_trap();
	}
	c->name = strdup(name);
	c->construct = construct;
	c->fetch = object_fetch;
	c->alarm = object_alarm;
	c->ws_message = ws_message;
	c->ws_close = ws_close;
	c->ws_error = ws_error;
	dohost_register_class(c);
}

/* ---- Loading ---- */

/* eval evaluates src as the script file; NULL, or the exception. */
static const char *eval(const char *src, size_t n, const char *file) {
	JSValue v = JS_Eval(js_ctx, src, n, file, JS_EVAL_TYPE_GLOBAL);
	if (JS_IsException(v)) {
		dohost_buf b = {0};
		dohost_buf_addc(&b, file);
		dohost_buf_addc(&b, ": ");
		JSValue e = JS_GetException(js_ctx);
		dohost_str s;
		if (!JS_IsUndefined(fn_describe)) {
			s = describe_value(e);
		} else if (!js_str(js_ctx, e, &s)) {
			s = DOHOST_STR("an exception");
		}
		JS_FreeValue(js_ctx, e);
		dohost_buf_add(&b, s);
		return dohost_buf_str(&b).ptr;
	}
	JS_FreeValue(js_ctx, v);
	return NULL;
}

static JSValue api_get(const char *name) { return JS_GetPropertyStr(js_ctx, api, name); }

/* read_file reads path whole (malloc'd, NUL after it); NULL if it cannot. */
static char *read_file(const char *path, size_t *n) {
	FILE *f = fopen(path, "rb");
	if (!f) {
		return NULL;
	}
	size_t cap = 1 << 16, len = 0;
	char *p = malloc(cap);
	for (size_t k; p && (k = fread(p + len, 1, cap - len - 1, f)) > 0;) {
		len += k;
		if (cap - len < 2) {
			char *q = realloc(p, cap *= 2);
			if (!q) {
				free(p);
				p = NULL;
			}
			p = q;
		}
	}
	fclose(f);
	if (p) {
		p[len] = 0;
		*n = len;
	}
	return p;
}

/* source_map gives runtime.js the JSON of the bundle's inline source map
 * (its last line, as esbuild writes it). */
static void source_map(const char *src, size_t n) {
	static const char tag[] = "//# sourceMappingURL=data:application/json;base64,";
	const char *at = NULL;
	for (const char *p = src; (p = strstr(p, tag)); p++) {
		at = p;
	}
	if (!at) {
		return;
	}
	dohost_str b64 = {at + sizeof tag - 1, 0};
	while (b64.ptr + b64.len < src + n && b64.ptr[b64.len] > ' ') {
		b64.len++;
	}
	dohost_str json;
	if (base64_decode(b64, &json)) {
		JS_SetPropertyStr(js_ctx, api, "sourceMap", JS_NewStringLen(js_ctx, json.ptr, json.len));
	}
}

static const char *load(void) {
	const char *err;
	js_rt = JS_NewRuntime2(&malloc_functions, NULL);
	js_ctx = js_rt ? JS_NewContext(js_rt) : NULL;
	if (!js_ctx) {
		return "the interpreter could not start (out of memory)";
	}
	JS_SetMaxStackSize(js_rt, stack_limit);
	fn_describe = JS_UNDEFINED;
	worker = worker_fetch = JS_UNDEFINED;
	JSValue global = JS_GetGlobalObject(js_ctx);
	JS_SetPropertyStr(js_ctx, global, "__dohost", host_object(js_ctx));
	if ((err = eval(prelude_js, sizeof prelude_js - 1, "dohost:prelude.js"))) {
		return err;
	}
	api = JS_GetPropertyStr(js_ctx, global, "__dohost_api");
	if ((err = eval(runtime_js, sizeof runtime_js - 1, "dohost:runtime.js"))) {
		return err;
	}
	fn_wire = api_get("wire");
	fn_request = api_get("request");
	fn_socket = api_get("socket");
	fn_settle = api_get("settle");
	fn_next_timer = api_get("nextTimer");
	fn_run_timers = api_get("runTimers");
	fn_clear_timers = api_get("clearTimers");
	fn_constructing = api_get("constructing");
	fn_constructed = api_get("constructed");
	fn_describe = api_get("describe");
	ctor_context = api_get("ExecutionContext");
	ctor_state = api_get("DurableObjectState");
	classes = JS_NewObject(js_ctx);

	size_t n;
	char *src = read_file(bundle_path, &n);
	if (!src) {
		/* The runtime alone (compiled ahead, say): requests say so. */
		return "dohost's JavaScript runtime was started without a bundle (/bundle.js)";
	}
	has_bundle = true;
	source_map(src, n);
	err = eval(src, n, "bundle.js");
	free(src);
	if (err) {
		dohost_buf b = {0};
		dohost_buf_addc(&b, "loading the Worker: ");
		dohost_buf_addc(&b, err);
		return dohost_buf_str(&b).ptr;
	}
	JSValue mod = JS_GetPropertyStr(js_ctx, global, "__dohost_module");
	if (!JS_IsObject(mod)) {
		return "the bundle defines no module (__dohost_module): was it built by dohost?";
	}
	JSValue bindings = JS_GetPropertyStr(js_ctx, global, "__dohost_bindings");
	if (JS_IsUndefined(bindings)) {
		bindings = JS_NewObject(js_ctx);
	}
	JSValue make_env = api_get("makeEnv");
	env = JS_Call(js_ctx, make_env, JS_UNDEFINED, 1, &bindings);
	JS_FreeValue(js_ctx, make_env), JS_FreeValue(js_ctx, bindings);
	if (JS_IsException(env)) {
		dohost_buf b = {0};
		dohost_buf_addc(&b, "env: ");
		dohost_buf_add(&b, describe_exception());
		return dohost_buf_str(&b).ptr;
	}
	JSValue def = JS_GetPropertyStr(js_ctx, mod, "default");
	if (!JS_IsUndefined(def) && (err = register_worker(def))) {
		return err;
	}
	JSPropertyEnum *props;
	uint32_t np;
	if (JS_GetOwnPropertyNames(js_ctx, &props, &np, mod, JS_GPN_STRING_MASK | JS_GPN_ENUM_ONLY) == 0) {
		for (uint32_t i = 0; i < np; i++) {
			const char *name = JS_AtomToCString(js_ctx, props[i].atom);
			JSValue v = JS_GetProperty(js_ctx, mod, props[i].atom);
			if (name && strcmp(name, "default") != 0 && JS_IsConstructor(js_ctx, v)) {
				register_class(name, v);
			} else {
				JS_FreeValue(js_ctx, v);
			}
			JS_FreeCString(js_ctx, name);
			JS_FreeAtom(js_ctx, props[i].atom);
		}
		js_free(js_ctx, props);
	}
	JS_FreeValue(js_ctx, mod);
	JS_FreeValue(js_ctx, global);
	run_jobs();
	return NULL;
}

__attribute__((constructor)) static void init(void) {
	const char *err = load();
	if (err && has_bundle) {
		/* The Worker does not load: the module is refused with why (the
		 * host shows a failed initialization with its stderr). */
		fprintf(stderr, "%s\n", err);
		fflush(stderr);
		__builtin_trap();
	}
	if (err) {
		load_error = strdup(err);
	}
	dohost_handle(serve_worker);
	/* Collect what evaluating the bundle left behind before the host takes
	 * the snapshot, then grow the heap once (see heap_reserve). */
	if (js_rt) {
		JS_RunGC(js_rt);
	}
	free(malloc(heap_reserve));
}
