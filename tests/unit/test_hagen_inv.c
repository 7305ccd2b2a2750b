/* Unit tests for hagen's inventory module: targets, validation messages with positions, many
 * errors in one run, environment overlays, secrets, and the line-to-origin map of a render. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "diag.h"
#include "inventory/inventory.h"
#include "check.h"
#include "render.h"
#include "tmpl.h"

static char path[64];

static int load(const char *yaml, const char *env, const char *target, struct inv *inv,
		struct diag_list *dl)
{
	FILE *fp = fopen(path, "w");
	struct inv_opts o = {env, target};

	assert_non_null(fp);
	fputs(yaml, fp);
	fclose(fp);
	return inv_load(path, &o, inv, dl);
}

static const char *base =
	"entrypoints:\n  web: { bind: \":8080\" }\n"
	"services:\n  app:\n    servers: [{ name: a, address: \"127.0.0.1:9001\" }]\n";

static void test_targets(void **state)
{
	int t;

	(void)state;
	assert_int_equal(inv_parse_target("2.4", &t), 0);
	assert_int_equal(t, 204);
	assert_int_equal(inv_parse_target("3.3", &t), 0);
	assert_int_equal(t, 303);
	assert_int_equal(inv_parse_target("2.3", &t), -1);
	assert_int_equal(inv_parse_target("3.4", &t), 0);
	assert_int_equal(t, 304);
	assert_int_equal(inv_parse_target("3.5", &t), -1);
	assert_int_equal(inv_nearest_target(305, &t), -1); /* a 3.5 binary renders for 3.4 */
	assert_int_equal(t, 304);
	assert_int_equal(inv_nearest_target(206, &t), 0);
	assert_int_equal(t, 206);
	assert_string_equal(inv_targets_text(),
			    "2.4, 2.5, 2.6, 2.7, 2.8, 2.9, 3.0, 3.1, 3.2, 3.3, 3.4");
	assert_int_equal(inv_parse_target("2.06", &t), -1);
	assert_int_equal(inv_parse_target("2", &t), -1);
	assert_int_equal(inv_parse_target("", &t), -1);
	assert_int_equal(inv_parse_target("x.y", &t), -1);
}

static void test_ok_and_secrets(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct inv inv;
	const char *y =
		"userlists:\n  u: { users: [{ name: a, password_env: ZED }, { name: b, "
		"password_env: ALPHA }] }\n"
		"entrypoints:\n  web: { bind: \":8080\" }\n"
		"services:\n  app:\n    servers: [{ name: a, address: \"127.0.0.1:9001\" }]\n";

	(void)state;
	assert_int_equal(load(y, NULL, NULL, &inv, &dl), 0);
	assert_int_equal(dl.errors, 0);
	assert_int_equal(inv.target, 206);
	assert_int_equal(inv.nsecret_envs, 2);
	assert_string_equal(inv.secret_envs[0], "ALPHA");
	assert_string_equal(inv.secret_envs[1], "ZED");
	inv_release(&inv);
	diag_release(&dl);
}

static void test_all_errors_in_one_run(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct inv inv;
	const char *y = "global: { maxconn: x }\n"
			"entrypoints:\n  web: { bind: \":8080\", bnd: 1 }\n"
			"services:\n  app:\n    balance: roundrobbin\n"
			"    servers: [{ name: a, address: \"127.0.0.1:99999\" }]\n";

	(void)state;
	assert_int_equal(load(y, NULL, NULL, &inv, &dl), -1);
	assert_int_equal(dl.errors, 4);
	diag_sort(&dl);
	assert_int_equal(dl.items[0].line, 1);
	assert_int_equal(dl.items[0].col, 20);
	assert_int_equal(dl.items[1].line, 3);
	assert_string_equal(dl.items[1].msg,
			    "unknown key 'bnd' in entrypoint 'web' (did you mean 'bind'?)");
	assert_string_equal(dl.items[2].msg,
			    "bad balance 'roundrobbin' (did you mean 'roundrobin'?)");
	assert_int_equal(dl.items[3].line, 7);
	assert_null(inv.view);
	diag_release(&dl);
}

static void test_env_and_target(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct inv inv;
	struct strbuf y = STRBUF_INIT;

	(void)state;
	strbuf_addf(&y,
		    "%starget: \"2.8\"\nenvironments:\n  prod: { global: { maxconn: 7 }, target: "
		    "\"3.1\" }\n",
		    base);
	assert_int_equal(load(y.buf, "prod", NULL, &inv, &dl), 0);
	assert_int_equal(inv.target, 301);
	assert_string_equal(yn_path(inv.view, "global.maxconn")->str, "7");
	inv_release(&inv);
	assert_int_equal(load(y.buf, NULL, "2.4", &inv, &dl), 0); /* --target wins over the file */
	assert_int_equal(inv.target, 204);
	inv_release(&inv);
	assert_int_equal(load(y.buf, "dev", NULL, &inv, &dl), -1);
	assert_string_equal(dl.items[dl.n - 1].msg, "unknown environment 'dev' (defined: prod)");
	strbuf_release(&y);
	diag_release(&dl);
}

static void test_origin_map(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct inv inv;
	struct tmpl_out out = {STRBUF_INIT, NULL, 0, 0};
	size_t l;
	unsigned il, ic;
	char entry[64];

	(void)state;
	assert_int_equal(load(base, NULL, NULL, &inv, &dl), 0);
	assert_int_equal(render_config(&inv, NULL, &out, &dl), 0);
	l = render_find_section(&out, "backend", "be_app");
	assert_true(l > 0);
	assert_int_equal(render_origin(&out, l + 1, &il, &ic, entry, sizeof(entry)), 0);
	assert_string_equal(entry, "service app");
	assert_int_equal(il, 5); /* the server line comes from inventory line 5 */
	assert_int_equal(render_origin(&out, out.nlines + 1, &il, &ic, entry, sizeof(entry)), -1);
	tmpl_out_release(&out);
	inv_release(&inv);
	diag_release(&dl);
}

/* hagen check maps each haproxy message to a section: on a large config (tens of thousands of
 * lines) that must be one pass over the text, not a scan from the top for every line (which
 * took 5 s per message at 35,000 lines) */
static void test_find_section_linear(void **state)
{
	const size_t nlines = 30000;
	struct tmpl_out out = {STRBUF_INIT, NULL, 0, 0};
	double secs;

	(void)state;
	for (size_t i = 0; i < nlines - 1; i++)
		assert_int_equal(
			strbuf_addf(&out.text, "    server s%zu 127.0.0.1:9000 check\n", i), 0);
	assert_int_equal(strbuf_addstr(&out.text, "backend be_last\n"), 0);
	out.nlines = nlines;
	secs = clock_mono_s();
	assert_int_equal(render_find_section(&out, "backend", "be_missing"), 0);
	assert_int_equal(render_find_section(&out, "backend", "be_last"), nlines);
	secs = clock_mono_s() - secs;
	assert_true(secs < 1.0); /* a few ms in one pass; about 5 s when quadratic */
	tmpl_out_release(&out);
}

/* haproxy's messages, without haproxy: "[file:N]" and "backend 'be_x'" are both mapped */
static void test_check_mapping(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct inv inv;
	struct tmpl_out out = {STRBUF_INIT, NULL, 0, 0};
	struct strbuf msg = STRBUF_INIT;
	size_t l;

	(void)state;
	assert_int_equal(load(base, NULL, NULL, &inv, &dl), 0);
	assert_int_equal(render_config(&inv, NULL, &out, &dl), 0);
	l = render_find_section(&out, "backend", "be_app");
	strbuf_addf(&msg,
		    "[NOTICE]   (1) : haproxy version is 2.6.12\n"
		    "[ALERT]    (1) : config : parsing [/tmp/x.cfg:%zu] : unknown keyword 'x' in "
		    "'backend' section\n"
		    "[WARNING]  (1) : config : backend 'be_app' has no server available!\n"
		    "[ALERT]    (1) : config : Fatal errors found in configuration.\n",
		    l + 1);
	check_map_output(msg.buf, msg.len, "/tmp/x.cfg", &inv, &out, &dl);
	assert_int_equal(dl.n, 2);
	assert_int_equal(dl.items[0].level, DIAG_ERROR);
	assert_int_equal(dl.items[0].line, 5);
	assert_non_null(strstr(dl.items[0].msg, "haproxy: unknown keyword 'x' in 'backend' section "
						"(service app, haproxy.cfg line"));
	assert_int_equal(dl.items[1].level, DIAG_WARNING);
	assert_int_equal(dl.items[1].line, 4); /* the section header: service app's key */
	strbuf_release(&msg);
	tmpl_out_release(&out);
	inv_release(&inv);
	diag_release(&dl);
}

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/hagen-inv-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_ok_and_secrets),
		cmocka_unit_test(test_all_errors_in_one_run),
		cmocka_unit_test(test_env_and_target),
		cmocka_unit_test(test_origin_map),
		cmocka_unit_test(test_check_mapping),
		cmocka_unit_test(test_find_section_linear),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
