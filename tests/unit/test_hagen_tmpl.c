/* Unit tests for hagen's template language: values, blocks, standalone lines, partials,
 * positioned errors and the line-to-origin map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "diag.h"
#include "tmpl.h"
#include "yamlnode.h"

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s.tmpl", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static struct yn_node *data(void)
{
	const char *y = "name: api\nempty: \"\"\nno: false\nitems:\n  - { n: a }\n  - { n: b "
			"}\nsub: { x: 1 }\nnl: \"a\\nbackend evil\"\n";
	struct yn_node *r;
	struct yn_error e;

	assert_int_equal(yn_load_buffer(y, strlen(y), NULL, &r, &e), 0);
	return r;
}

/* Renders template text against data(); returns the output (caller frees) or NULL on error. */
static char *run(const char *text, struct diag_list *dl, struct tmpl_out *keep)
{
	struct tmpl_set *ts = tmpl_set_new(dir);
	struct yn_node *d = data();
	struct tmpl_out out = {STRBUF_INIT, NULL, 0, 0};
	char *res = NULL;

	put("t", text);
	if (tmpl_render(ts, "t", d, &out, dl) == 0)
		res = strdup(out.text.buf);
	if (keep)
		*keep = out;
	else
		tmpl_out_release(&out);
	tmpl_set_free(ts);
	yn_free(d);
	return res;
}

static void test_values_and_blocks(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	char *s;

	(void)state;
	s = run("be_{{name}} {{ sub.x }}\n{{#if empty}}E{{else}}not-empty{{/if}} {{#unless "
		"no}}U{{/unless}}\n",
		&dl, NULL);
	assert_non_null(s);
	assert_string_equal(s, "be_api 1\nnot-empty U\n");
	free(s);
	/* standalone block lines vanish; inline ones keep their line */
	s = run("start\n{{#each items}}\n  - {{n}} of {{name}}\n{{/each}}\n{{! a comment }}\nend\n",
		&dl, NULL);
	assert_non_null(s);
	assert_string_equal(s, "start\n  - a of api\n  - b of api\nend\n");
	free(s);
	s = run("{{#each missing}}x{{else}}none{{/each}}|{{#each items}}{{.n}}{{/each}}\n", &dl,
		NULL);
	assert_null(s); /* {{.n}} is not a name: '.' only alone */
	diag_release(&dl);
}

static void test_partials(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	char *s;

	(void)state;
	put("p", "[{{n}}]");
	s = run("{{#each items}}{{> p}}{{/each}}\n", &dl, NULL);
	assert_non_null(s);
	assert_string_equal(s, "[a][b]\n");
	free(s);
	put("loop", "{{> loop}}");
	s = run("{{> loop}}", &dl, NULL);
	assert_null(s);
	assert_true(strstr(dl.items[dl.n - 1].msg, "more than 16 deep") != NULL);
	diag_release(&dl);
	/* a template missing from the directory falls back to the built-in one */
	{
		struct tmpl_set *ts = tmpl_set_new(dir);
		struct yn_node *d = yn_new_map(0, 0);
		struct tmpl_out out = {STRBUF_INIT, NULL, 0, 0};

		yn_map_set(d, "name", yn_new_scalar("x", 0, 0));
		yn_map_set(d, "origin", yn_new_scalar("f:1", 0, 0));
		yn_map_set(d, "users", yn_new_seq(0, 0));
		assert_int_equal(tmpl_render(ts, "userlist", d, &out, &dl), 0);
		assert_non_null(strstr(out.text.buf, "userlist x\n"));
		tmpl_out_release(&out);
		tmpl_set_free(ts);
		yn_free(d);
	}
}

static void test_errors(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;

	(void)state;
	assert_null(run("ok\n  {{nmae}}\n", &dl, NULL));
	assert_int_equal(dl.items[0].line, 2);
	assert_int_equal(dl.items[0].col, 3);
	assert_string_equal(dl.items[0].msg, "unknown variable 'nmae'");
	diag_release(&dl);
	assert_null(run("{{#if name}}\n{{#each items}}\n{{/if}}\n", &dl, NULL));
	assert_string_equal(dl.items[0].msg,
			    "'{{/if}}' closes '{{#each}}' opened at line 2, column 1");
	diag_release(&dl);
	assert_null(run("x {{name\n", &dl, NULL));
	assert_string_equal(dl.items[0].msg, "unclosed '{{' in template");
	diag_release(&dl);
	assert_null(run("{{#while x}}{{/while}}", &dl, NULL));
	diag_release(&dl);
	assert_null(run("{{items}}", &dl, NULL));
	assert_string_equal(dl.items[0].msg, "'items' is a list, not a value (use #each or #if)");
	diag_release(&dl);
	assert_null(run("{{#if name}}never closed", &dl, NULL));
	assert_string_equal(dl.items[0].msg, "'{{#if}}' is never closed");
	diag_release(&dl);
	assert_null(run("{{> ../etc/passwd}}", &dl, NULL));
	diag_release(&dl);
	/* a value with a line break would start a new directive in haproxy.cfg */
	assert_null(run("log {{nl}}\n", &dl, NULL));
	assert_int_equal(dl.items[0].col, 5);
	assert_string_equal(dl.items[0].msg, "the value of 'nl' contains a line break");
	diag_release(&dl);
}

static void test_origins(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct tmpl_out out;
	char *s;

	(void)state;
	s = run("head\nname {{name}}\n{{#each items}}\nitem\n{{/each}}\n", &dl, &out);
	assert_non_null(s);
	assert_int_equal(out.nlines, 4);
	assert_int_equal(out.lines[0].line, 1); /* no value: the context (the root map at 1:1) */
	assert_int_equal(out.lines[1].line, 1); /* the scalar 'api' at 1:7 */
	assert_int_equal(out.lines[1].col, 7);
	assert_int_equal(out.lines[2].line, 5); /* the each item's map */
	assert_int_equal(out.lines[3].line, 6);
	tmpl_out_release(&out);
	free(s);
}

static void test_truthy(void **state)
{
	struct yn_node *d = data();

	(void)state;
	assert_false(tmpl_truthy(NULL));
	assert_false(tmpl_truthy(yn_get(d, "empty")));
	assert_false(tmpl_truthy(yn_get(d, "no")));
	assert_true(tmpl_truthy(yn_get(d, "name")));
	assert_true(tmpl_truthy(yn_get(d, "items")));
	yn_free(d);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hagen-tmpl-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_and_blocks),
		cmocka_unit_test(test_partials),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_origins),
		cmocka_unit_test(test_truthy),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
