/* Unit tests for in-place YAML edits: block and flow maps, keys set, added and removed, and
 * everything else of the text (comments, blank lines, quoting) kept byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "strbuf.h"
#include "yamledit.h"
#include "yamlnode.h"

/* Applies one edit to the map at dotted path (".N" indexes a list) and returns the text. */
static char *edit(const char *text, const char *path, const char *key, const char *value)
{
	struct yn_node *root, *n;
	struct yn_error e;
	struct strbuf out = STRBUF_INIT;
	char err[200], step[64];

	assert_int_equal(yn_load_buffer(text, strlen(text), NULL, &root, &e), 0);
	n = root;
	for (const char *p = path; *p;) {
		size_t l = strcspn(p, ".");

		snprintf(step, sizeof(step), "%.*s", (int)l, p);
		n = (*step >= '0' && *step <= '9') ? yn_at(n, (size_t)(*step - '0')) : yn_get(n, step);
		p += l + (p[l] == '.');
	}
	assert_non_null(n);
	if (value)
		assert_int_equal(yamledit_set(text, strlen(text), n, key, value, &out, err,
					      sizeof(err)),
				 0);
	else
		assert_int_equal(yamledit_remove(text, strlen(text), n, key, &out, err, sizeof(err)),
				 0);
	yn_free(root);
	/* the result reads back */
	assert_int_equal(yn_load_buffer(out.buf, out.len, NULL, &root, &e), 0);
	yn_free(root);
	return strbuf_detach(&out, NULL);
}

static const char *doc = "# top\n"
			 "s:\n"
			 "  - { name: a, w: 1 }   # first\n"
			 "  - {name: b}\n"
			 "  - {}\n"
			 "  - name: c\n"
			 "    addr: \"x:1\"   # keep\n"
			 "\n"
			 "    # inner\n"
			 "    w: 2\n"
			 "  - name: d\n"
			 "    sub:\n"
			 "      k: v\n"
			 "end: true\n";

static void expect(char *got, const char *want)
{
	assert_string_equal(got, want);
	free(got);
}

static void test_set(void **state)
{
	char *r;

	(void)state;
	r = edit(doc, "s.0", "w", "5");
	assert_non_null(strstr(r, "  - { name: a, w: 5 }   # first\n"));
	free(r);
	r = edit(doc, "s.0", "drain", "true");
	assert_non_null(strstr(r, "  - { name: a, w: 1, drain: true }   # first\n"));
	free(r);
	r = edit(doc, "s.1", "w", "3");
	assert_non_null(strstr(r, "  - {name: b, w: 3}\n"));
	free(r);
	r = edit(doc, "s.2", "w", "3");
	assert_non_null(strstr(r, "  - { w: 3 }\n"));
	free(r);
	r = edit(doc, "s.3", "w", "7");
	assert_non_null(strstr(r, "\n    # inner\n    w: 7\n  - name: d\n"));
	free(r);
	r = edit(doc, "s.3", "addr", "\"y:2\"");
	assert_non_null(strstr(r, "    addr: \"y:2\"   # keep\n"));
	free(r);
	r = edit(doc, "s.4", "w", "1");
	assert_non_null(strstr(r, "  - name: d\n    sub:\n      k: v\n    w: 1\nend: true\n"));
	free(r);
}

static void test_remove(void **state)
{
	(void)state;
	expect(edit(doc, "s.0", "w", NULL), "# top\ns:\n  - { name: a }   # first\n"
					    "  - {name: b}\n  - {}\n  - name: c\n"
					    "    addr: \"x:1\"   # keep\n\n    # inner\n    w: 2\n"
					    "  - name: d\n    sub:\n      k: v\nend: true\n");
	expect(edit(doc, "s.3", "w", NULL), "# top\ns:\n  - { name: a, w: 1 }   # first\n"
					    "  - {name: b}\n  - {}\n  - name: c\n"
					    "    addr: \"x:1\"   # keep\n\n    # inner\n"
					    "  - name: d\n    sub:\n      k: v\nend: true\n");
	expect(edit(doc, "s.4", "sub", NULL), "# top\ns:\n  - { name: a, w: 1 }   # first\n"
					      "  - {name: b}\n  - {}\n  - name: c\n"
					      "    addr: \"x:1\"   # keep\n\n    # inner\n    w: 2\n"
					      "  - name: d\nend: true\n");
	/* absent: unchanged */
	expect(edit(doc, "s.1", "nope", NULL), doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_remove),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
