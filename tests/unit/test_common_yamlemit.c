/* Unit tests for the YAML writer: every scalar reads back as itself, numbers stay numbers, the
 * layout follows the options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "strbuf.h"
#include "yamlemit.h"
#include "yamlnode.h"

static void roundtrip(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	struct yn_node *r;
	struct yn_error e;

	strbuf_addstr(&sb, "k: ");
	assert_int_equal(yaml_quote(s, &sb), 0);
	strbuf_addstr(&sb, "\nl: [");
	assert_int_equal(yaml_quote(s, &sb), 0);
	strbuf_addstr(&sb, "]\n");
	assert_int_equal(yn_load_buffer(sb.buf, sb.len, NULL, &r, &e), 0);
	assert_string_equal(yn_get(r, "k")->str, s);
	assert_int_not_equal(yn_get(r, "k")->style == YN_PLAIN && yn_is_null(yn_get(r, "k")), 1);
	assert_string_equal(yn_at(yn_get(r, "l"), 0)->str, s);
	yn_free(r);
	strbuf_release(&sb);
}

static void test_quote(void **state)
{
	static const char *const cases[] = {
		"plain",	"with space",	"a: b",	  "#x",	       "x #y",	    "-",
		"- x",		"true",		"no",	  "null",      "~",	    "007",
		"1.5",		"1e3",		"0x1f",	  "",	       " lead",	    "trail ",
		"it's",		"say \"hi\"",	"back\\slash", "tab\there", "nl\nx", ":8080",
		"127.0.0.1:80", "{a}",		"[b]",	  "c, d",      "%[src]",    "*.example",
		"&anchor",	"!tag",		"@x",	  "`x`",       "é ü",	    ".inf",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		roundtrip(cases[i]);
}

static void test_layout(void **state)
{
	const char *in = "a: { b: 1, c: [x, y] }\nlong: [aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbb, "
			 "cccccccccccccccccccc, dddddddddddddddddd]\nextra: [one]\n";
	static const char *const blocks[] = {"extra", NULL};
	struct yaml_emit_opts o = {40, NULL, 0, blocks, 1, 0};
	struct strbuf out = STRBUF_INIT;
	struct yn_node *r;
	struct yn_error e;

	(void)state;
	assert_int_equal(yn_load_buffer(in, strlen(in), NULL, &r, &e), 0);
	assert_int_equal(yaml_emit(r, &o, &out), 0);
	assert_string_equal(out.buf, "a: { b: 1, c: [x, y] }\n\n"
				     "long:\n  - aaaaaaaaaaaaaaaa\n  - bbbbbbbbbbbbbbbbbbbb\n"
				     "  - cccccccccccccccccccc\n  - dddddddddddddddddd\n\n"
				     "extra:\n  - one\n");
	yn_free(r);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
