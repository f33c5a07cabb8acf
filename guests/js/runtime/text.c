/* text.c — the text formats the Workers API needs and QuickJS does not
 * have: UTF-8 repair, base64, application/x-www-form-urlencoded and URL
 * parsing. Each follows what the Go runtime did (Go's net/url,
 * encoding/base64, strings.ToValidUTF8), so that a Worker answers the same
 * on either. Results are in memory from dohost_alloc. */
#include "runtime.h"

#include <string.h>

/* utf8_seq is the length of the valid UTF-8 sequence at p (n bytes
 * left), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n) {
	unsigned c = p[0];
	if (c < 0x80) {
		return 1;
	}
	size_t len;
	unsigned min;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len) {
		return 0;
	}
	unsigned cp = c & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			return 0;
		}
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
		return 0;
	}
	return len;
}

bool utf8_valid(dohost_str s) {
	const unsigned char *p = (const unsigned char *)s.ptr;
	for (size_t i = 0; i < s.len;) {
		size_t k = utf8_seq(p + i, s.len - i);
		if (!k) {
			return false;
		}
		i += k;
	}
	return true;
}

dohost_str utf8_repair(dohost_str s) {
	if (utf8_valid(s)) {
		return s;
	}
	const unsigned char *p = (const unsigned char *)s.ptr;
	dohost_buf b = {0};
	bool bad = false; /* in a run of invalid bytes: one U+FFFD for it */
	for (size_t i = 0; i < s.len;) {
		size_t k = utf8_seq(p + i, s.len - i);
		if (!k) {
			if (!bad) {
				dohost_buf_add(&b, DOHOST_STR("\xEF\xBF\xBD"));
			}
			bad = true;
			i++;
			continue;
		}
		bad = false;
		dohost_buf_add(&b, (dohost_str){s.ptr + i, (uint32_t)k});
		i += k;
	}
	return dohost_buf_str(&b);
}

/* ---- base64 (RFC 4648, with padding) ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

dohost_str base64_encode(dohost_str s) {
	const unsigned char *p = (const unsigned char *)s.ptr;
	char *out = dohost_alloc((size_t)(s.len + 2) / 3 * 4 + 1);
	size_t o = 0, i = 0;
	for (; i + 2 < s.len; i += 3) {
		unsigned v = p[i] << 16 | p[i + 1] << 8 | p[i + 2];
		out[o++] = b64[v >> 18], out[o++] = b64[v >> 12 & 63], out[o++] = b64[v >> 6 & 63], out[o++] = b64[v & 63];
	}
	if (i < s.len) {
		unsigned v = p[i] << 16 | (i + 1 < s.len ? p[i + 1] << 8 : 0);
		out[o++] = b64[v >> 18], out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < s.len ? b64[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = 0;
	return (dohost_str){out, (uint32_t)o};
}

static int b64_value(char c) {
	const char *q = c ? strchr(b64, c) : NULL;
	return q ? (int)(q - b64) : -1;
}

bool base64_decode(dohost_str s, dohost_str *out) {
	if (s.len % 4) {
		return false;
	}
	char *d = dohost_alloc(s.len / 4 * 3 + 1);
	size_t o = 0;
	for (size_t i = 0; i < s.len; i += 4) {
		int v[4], pad = 0;
		for (int j = 0; j < 4; j++) {
			char c = s.ptr[i + j];
			if (c == '=' && i + 4 == s.len && j >= 2) {
				v[j] = 0, pad++;
				continue;
			}
			if (pad || (v[j] = b64_value(c)) < 0) {
				return false;
			}
		}
		unsigned x = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
		d[o++] = (char)(x >> 16);
		if (pad < 2) {
			d[o++] = (char)(x >> 8);
		}
		if (pad < 1) {
			d[o++] = (char)x;
		}
	}
	d[o] = 0;
	*out = (dohost_str){d, (uint32_t)o};
	return true;
}

/* ---- application/x-www-form-urlencoded ---- */

static int hexval(char c) {
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

dohost_str form_decode(dohost_str s) {
	if (!memchr(s.ptr, '%', s.len) && !memchr(s.ptr, '+', s.len)) {
		return s;
	}
	char *d = dohost_alloc(s.len + 1);
	size_t o = 0;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		if (c == '+') {
			d[o++] = ' ';
		} else if (c == '%' && i + 2 < s.len && hexval(s.ptr[i + 1]) >= 0 && hexval(s.ptr[i + 2]) >= 0) {
			d[o++] = (char)(hexval(s.ptr[i + 1]) << 4 | hexval(s.ptr[i + 2]));
			i += 2;
		} else {
			d[o++] = c;
		}
	}
	d[o] = 0;
	return utf8_repair((dohost_str){d, (uint32_t)o});
}

static const char hexdigits[] = "0123456789ABCDEF";

static void add_escaped(dohost_buf *b, unsigned char c) {
	char e[3] = {'%', hexdigits[c >> 4], hexdigits[c & 15]};
	dohost_buf_add(b, (dohost_str){e, 3});
}

void form_encode(dohost_buf *b, dohost_str s) {
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '*' || c == '-' || c == '.' || c == '_') {
			dohost_buf_add(b, (dohost_str){(const char *)&s.ptr[i], 1});
		} else if (c == ' ') {
			dohost_buf_add(b, DOHOST_STR("+"));
		} else {
			add_escaped(b, c);
		}
	}
}

/* ---- URLs (as Go's net/url parses http URLs) ---- */

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool unreserved(char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '.' || c == '~'; }

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

static dohost_str lowered(dohost_str s) {
	char *d = dohost_alloc(s.len + 1);
	for (uint32_t i = 0; i < s.len; i++) {
		d[i] = lower(s.ptr[i]);
	}
	d[s.len] = 0;
	return (dohost_str){d, s.len};
}

static dohost_str sub(dohost_str s, uint32_t from, uint32_t to) { return (dohost_str){s.ptr + from, to - from}; }

static int find(dohost_str s, char c) {
	const char *q = s.len ? memchr(s.ptr, c, s.len) : NULL;
	return q ? (int)(q - s.ptr) : -1;
}

static int find_last(dohost_str s, char c) {
	for (int i = (int)s.len - 1; i >= 0; i--) {
		if (s.ptr[i] == c) {
			return i;
		}
	}
	return -1;
}

/* escaped is s as a URL's path (fragment: frag) gives it: as it was if
 * every byte is one the part may hold or a %XX escape, else with each
 * byte that may not be there escaped (Go's EscapedPath, EscapedFragment).
 * Returns false on a '%' that starts no valid escape. */
static bool escaped(dohost_str s, bool frag, dohost_str *out) {
	bool valid = true;
	for (uint32_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		if (c == '%') {
			if (i + 2 >= s.len + 0 || hexval(s.ptr[i + 1]) < 0 || hexval(s.ptr[i + 2]) < 0) {
				return false;
			}
			i += 2;
		} else if (!(unreserved(c) || strchr("!$&'()*+,;=:@[]/", c) || (frag && c == '?'))) {
			valid = false;
		}
	}
	if (valid) {
		*out = s;
		return true;
	}
	dohost_buf b = {0};
	for (uint32_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		if (c == '%') { /* a valid escape: checked above */
			dohost_buf_add(&b, sub(s, i, i + 3));
			i += 2;
		} else if (unreserved(c) || strchr("$&+,/:;=@", c) || (frag && strchr("!()*?", c))) {
			dohost_buf_add(&b, sub(s, i, i + 1));
		} else {
			add_escaped(&b, (unsigned char)c);
		}
	}
	*out = dohost_buf_str(&b);
	return true;
}

typedef struct {
	dohost_str scheme, user, password, host, port, path, query, fragment;
	bool has_user, has_password, has_authority, has_query, has_fragment;
} url_parts;

/* parse_host checks an authority's host[:port]. */
static const char *parse_host(dohost_str hp, url_parts *u) {
	int colon = -1;
	if (hp.len && hp.ptr[0] == '[') {
		int close = find(hp, ']');
		if (close < 0) {
			return "missing ']' in host";
		}
		if ((uint32_t)close + 1 < hp.len) {
			if (hp.ptr[close + 1] != ':') {
				return "invalid port after host";
			}
			colon = close + 1;
		}
	} else {
		colon = find_last(hp, ':');
	}
	u->host = colon < 0 ? hp : sub(hp, 0, (uint32_t)colon);
	u->port = colon < 0 ? (dohost_str){"", 0} : sub(hp, (uint32_t)colon + 1, hp.len);
	for (uint32_t i = 0; i < u->port.len; i++) {
		if (!is_digit(u->port.ptr[i])) {
			return "invalid port";
		}
	}
	for (uint32_t i = 0; i < u->host.len; i++) {
		unsigned char c = (unsigned char)u->host.ptr[i];
		if (c < 0x21 || c == 0x7F || strchr("<>\"{}|\\^`#/?@", c)) {
			return "invalid character in host name";
		}
	}
	return NULL;
}

/* parse splits s into u as Go's url.Parse does; NULL or the problem. */
static const char *parse(dohost_str s, url_parts *u) {
	memset(u, 0, sizeof *u);
	for (uint32_t i = 0; i < s.len; i++) {
		if ((unsigned char)s.ptr[i] < 0x20 || s.ptr[i] == 0x7F) {
			return "invalid control character in URL";
		}
	}
	int hash = find(s, '#');
	if (hash >= 0) {
		u->has_fragment = true;
		u->fragment = sub(s, (uint32_t)hash + 1, s.len);
		s = sub(s, 0, (uint32_t)hash);
	}
	/* scheme: a letter, then letters, digits, '+', '-', '.', up to ':' */
	for (uint32_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		if (is_alpha(c) || (i > 0 && (is_digit(c) || c == '+' || c == '-' || c == '.'))) {
			continue;
		}
		if (c == ':') {
			if (i == 0) {
				return "missing protocol scheme";
			}
			u->scheme = lowered(sub(s, 0, i));
			s = sub(s, i + 1, s.len);
		}
		break;
	}
	int q = find(s, '?');
	if (q >= 0) {
		u->has_query = true;
		u->query = sub(s, (uint32_t)q + 1, s.len);
		s = sub(s, 0, (uint32_t)q);
	}
	if (s.len >= 2 && s.ptr[0] == '/' && s.ptr[1] == '/') {
		s = sub(s, 2, s.len);
		int slash = find(s, '/');
		dohost_str auth = slash < 0 ? s : sub(s, 0, (uint32_t)slash);
		s = slash < 0 ? (dohost_str){"", 0} : sub(s, (uint32_t)slash, s.len);
		u->has_authority = true;
		int at = find_last(auth, '@');
		if (at >= 0) {
			dohost_str ui = sub(auth, 0, (uint32_t)at);
			int colon = find(ui, ':');
			u->has_user = true;
			u->user = colon < 0 ? ui : sub(ui, 0, (uint32_t)colon);
			if (colon >= 0) {
				u->has_password = true;
				u->password = sub(ui, (uint32_t)colon + 1, ui.len);
			}
			auth = sub(auth, (uint32_t)at + 1, auth.len);
		}
		const char *err = parse_host(auth, u);
		if (err) {
			return err;
		}
		u->host = lowered(u->host);
	} else if (u->scheme.len && (!s.len || s.ptr[0] != '/')) {
		/* an opaque URL (mailto:x): no path of the kind parsed here */
		u->path = s;
		return NULL;
	}
	if (!escaped(s, false, &u->path)) {
		return "invalid URL escape in path";
	}
	if (u->has_fragment && !escaped(u->fragment, true, &u->fragment)) {
		return "invalid URL escape in fragment";
	}
	return NULL;
}

/* remove_dots resolves the "." and ".." segments of an absolute path
 * (RFC 3986 5.2.4). */
static dohost_str remove_dots(dohost_str p) {
	const char **segs = dohost_alloc(sizeof(char *) * (p.len + 1));
	uint32_t *lens = dohost_alloc(sizeof(uint32_t) * (p.len + 1));
	uint32_t n = 0;
	uint32_t i = p.len && p.ptr[0] == '/' ? 1 : 0;
	bool trailing = false;
	while (i <= p.len) {
		uint32_t j = i;
		while (j < p.len && p.ptr[j] != '/') {
			j++;
		}
		dohost_str seg = sub(p, i, j);
		trailing = false;
		if (dohost_str_eq(seg, DOHOST_STR("."))) {
			trailing = true;
		} else if (dohost_str_eq(seg, DOHOST_STR(".."))) {
			if (n) {
				n--;
			}
			trailing = true;
		} else {
			segs[n] = seg.ptr, lens[n] = seg.len, n++;
		}
		i = j + 1;
	}
	dohost_buf b = {0};
	for (uint32_t k = 0; k < n; k++) {
		dohost_buf_add(&b, DOHOST_STR("/"));
		dohost_buf_add(&b, (dohost_str){segs[k], lens[k]});
	}
	if (trailing || !n) {
		dohost_buf_add(&b, DOHOST_STR("/"));
	}
	return dohost_buf_str(&b);
}

static dohost_str str_or(dohost_str s, bool has, const char *prefix) {
	if (!has) {
		return (dohost_str){"", 0};
	}
	dohost_buf b = {0};
	dohost_buf_addc(&b, prefix);
	dohost_buf_add(&b, s);
	return dohost_buf_str(&b);
}

const char *url_parse(dohost_str ref, dohost_str base, url_result *out) {
	url_parts u, bu;
	const char *err = parse(ref, &u);
	if (err) {
		return err;
	}
	if (base.len) {
		if ((err = parse(base, &bu))) {
			return err;
		}
		if (!bu.scheme.len) {
			return "the base is not an absolute URL";
		}
		if (!u.scheme.len) { /* RFC 3986 5.2.2 */
			u.scheme = bu.scheme;
			if (!u.has_authority) {
				u.has_authority = bu.has_authority;
				u.user = bu.user, u.has_user = bu.has_user;
				u.password = bu.password, u.has_password = bu.has_password;
				u.host = bu.host, u.port = bu.port;
				if (!u.path.len) {
					u.path = bu.path;
					if (!u.has_query) {
						u.query = bu.query, u.has_query = bu.has_query;
					}
				} else if (u.path.ptr[0] != '/') {
					int slash = find_last(bu.path, '/');
					dohost_buf b = {0};
					dohost_buf_add(&b, slash < 0 ? DOHOST_STR("/") : sub(bu.path, 0, (uint32_t)slash + 1));
					dohost_buf_add(&b, u.path);
					u.path = dohost_buf_str(&b);
				}
			}
		}
	}
	if (!u.scheme.len) {
		return "not an absolute URL";
	}
	if (u.path.len && u.path.ptr[0] == '/') {
		u.path = remove_dots(u.path);
	}
	dohost_buf b = {0};
	dohost_buf_add(&b, u.scheme);
	dohost_buf_add(&b, DOHOST_STR(":"));
	out->protocol = dohost_buf_str(&b);
	out->username = u.user;
	out->password = u.password;
	out->hostname = u.host;
	if (u.host.len >= 2 && u.host.ptr[0] == '[') {
		out->hostname = sub(u.host, 1, u.host.len - 1);
	}
	out->port = u.port;
	out->pathname = u.path.len ? u.path : DOHOST_STR("/");
	out->search = str_or(u.query, u.has_query, "?");
	out->hash = str_or(u.fragment, u.has_fragment && u.fragment.len, "#");
	return NULL;
}
