/* Unit tests for the unified line diff: known outputs, and on random texts the property that
 * matters, that applying the hunks to the first text gives the second. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "linediff.h"
#include "strbuf.h"

static char *diff(const char *a, const char *b, size_t *changes)
{
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(linediff_unified(a, strlen(a), b, strlen(b), "a", "b", 3, &out, changes),
			 0);
	return strbuf_detach(&out, NULL);
}

static void test_known(void **state)
{
	size_t ch;
	char *d;

	(void)state;
	d = diff("x\ny\nz\n", "x\ny\nz\n", &ch);
	assert_string_equal(d, "");
	assert_int_equal(ch, 0);
	free(d);
	d = diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n", &ch);
	assert_string_equal(d, "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
	assert_int_equal(ch, 2);
	free(d);
	d = diff("", "new\n", &ch);
	assert_string_equal(d, "--- a\n+++ b\n@@ -0,0 +1 @@\n+new\n");
	free(d);
	d = diff("a\nb\n", "", &ch);
	assert_string_equal(d, "--- a\n+++ b\n@@ -1,2 +0,0 @@\n-a\n-b\n");
	free(d);
}

/* Applies unified diff d to text a; returns the result (caller frees). */
static char *apply(const char *a, const char *d)
{
	struct strbuf out = STRBUF_INIT;
	const char *p = strstr(d, "@@"), *ap = a;
	size_t aline = 0;

	while (p && !strncmp(p, "@@ -", 4)) {
		size_t as = strtoul(p + 4, NULL, 10), skip;

		/* "-0,0": insert before line 1; "-N,0": after line N; else start at line N */
		skip = strstr(p, ",0 ") && strstr(p, ",0 ") < strchr(p, '+') ? as : as - 1;
		for (; aline < skip; aline++) {
			const char *nl = strchr(ap, '\n');

			strbuf_add(&out, ap, (size_t)(nl - ap) + 1);
			ap = nl + 1;
		}
		p = strchr(p, '\n') + 1;
		while (*p && (*p == ' ' || *p == '-' || *p == '+')) {
			const char *nl = strchr(p, '\n');

			if (*p != '-')
				strbuf_add(&out, p + 1, (size_t)(nl - p));
			if (*p != '+') {
				ap = strchr(ap, '\n') + 1;
				aline++;
			}
			p = nl + 1;
		}
	}
	strbuf_addstr(&out, ap);
	return strbuf_detach(&out, NULL);
}

static void test_random(void **state)
{
	uint32_t seed = 12345;

	(void)state;
	for (int round = 0; round < 300; round++) {
		struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
		int na, nb;
		size_t ch;
		char *d, *r;

#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 8) % 1000u)
		na = (int)(RND() % 40);
		for (int i = 0; i < na; i++)
			strbuf_addf(&a, "l%u\n", RND() % 8);
		/* b: a with random deletions, insertions and changes */
		for (const char *p = a.buf; *p;) {
			const char *nl = strchr(p, '\n');
			unsigned c = RND() % 10;

			if (c == 0)
				strbuf_addf(&b, "new%u\n", RND() % 5);
			if (c != 1)
				strbuf_add(&b, p, (size_t)(nl - p) + 1);
			if (c == 2)
				strbuf_addf(&b, "x%u\n", RND() % 3);
			p = nl + 1;
		}
		nb = (int)(RND() % 3);
		for (int i = 0; i < nb; i++)
			strbuf_addstr(&b, "tail\n");
		d = diff(a.buf, b.buf, &ch);
		r = apply(a.buf, d);
		assert_string_equal(r, b.buf);
		free(d);
		free(r);
		strbuf_release(&a);
		strbuf_release(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
