/* rounding.c — the rounding modes QuickJS's number formatting asks of
 * printf, which wasm cannot set.
 *
 * JavaScript rounds toFixed and toPrecision half away from zero; QuickJS
 * gets that from printf by formatting under fesetround(FE_UPWARD) and
 * (FE_DOWNWARD): a tie is exact when both agree. WebAssembly has one
 * rounding mode, so wasi-libc's fesetround refuses the others and every
 * tie would round to even ((2.5).toFixed(0) "2", not "3"). wasi_compat.h
 * routes QuickJS's fesetround and snprintf here: the mode is remembered,
 * and under a directed mode the number is formatted exactly (a double's
 * decimal expansion is finite) and rounded in decimal. */
#include "wasi_compat.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int mode = FE_TONEAREST;

int dohost_fesetround(int m) {
	mode = m;
	return 0;
}

/* exact_digits are enough fraction digits for any double's whole decimal
 * expansion (at most 1074 after the point, 767 significant). */
enum { exact_digits = 1100 };

/* bump adds one at the last digit of the digits in s[0:n] (skipping a
 * '.'); false if it carried out of the first digit (all were 9s). */
static bool bump(char *s, size_t n) {
	for (size_t i = n; i-- > 0;) {
		if (s[i] == '.') {
			continue;
		}
		if (s[i] != '9') {
			s[i]++;
			return true;
		}
		s[i] = '0';
	}
	return false;
}

/* directed formats d with "%.*f" (e false) or "%+.*e" (e true) at prec,
 * rounded toward +infinity (up) or -infinity. */
static int directed(char *buf, size_t size, bool e, int prec, double d, bool up) {
	size_t cap = (size_t)prec + exact_digits + 400;
	char *l = malloc(cap), *out = malloc(cap);
	if (!l || !out) {
		free(l), free(out);
		return snprintf(buf, size, e ? "%+.*e" : "%.*f", prec, d);
	}
	snprintf(l, cap, e ? "%+.*e" : "%.*f", prec + exact_digits, d);
	bool neg = l[0] == '-';
	char *start = l + (l[0] == '-' || l[0] == '+'); /* first digit */
	char *point = strchr(start, '.');
	char *end = e ? strchr(start, 'e') : start + strlen(start);
	/* keep: the digits up to prec after the point (the point too if any) */
	size_t keep = (size_t)(point - start) + (prec > 0 ? 1 + (size_t)prec : 0);
	bool exact = true;
	for (char *p = start + keep; p < end; p++) {
		if (*p >= '1' && *p <= '9') {
			exact = false;
		}
	}
	/* away from zero: up for a positive number, down for a negative one */
	bool away = !exact && (up != neg);
	size_t o = 0;
	if (start > l) {
		out[o++] = l[0];
	}
	memcpy(out + o, start, keep);
	int exp = e ? atoi(end + 1) : 0;
	if (away && !bump(out + o, keep)) {
		if (e) { /* 9.99e+N → 1.00e+N+1 */
			out[o] = '1';
			exp++;
		} else { /* 99.9 → 100.0 */
			memmove(out + o + 1, out + o, keep);
			out[o] = '1';
			keep++;
		}
	}
	o += keep;
	out[o] = 0;
	int n;
	if (e) {
		n = snprintf(buf, size, "%se%+03d", out, exp);
	} else {
		n = snprintf(buf, size, "%s", out);
	}
	free(l), free(out);
	return n;
}

int dohost_snprintf(char *buf, size_t size, const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	int n;
	size_t fl = strlen(fmt);
	bool fixed = fl >= 4 && strcmp(fmt + fl - 4, "%.*f") == 0;
	bool exp = fl >= 5 && strcmp(fmt + fl - 5, "%+.*e") == 0;
	if (mode == FE_TONEAREST || (!fixed && !exp)) {
		n = vsnprintf(buf, size, fmt, ap);
	} else {
		int prec = va_arg(ap, int);
		double d = va_arg(ap, double);
		n = directed(buf, size, exp, prec, d, mode == FE_UPWARD);
	}
	va_end(ap);
	return n;
}
