/* Unit tests for the haproxy.cfg reader (HAProxy's quoting and escaping, comments, conditional
 * blocks, sections) and for the canonical form hagen compare uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cfg.h"
#include "cfgnorm.h"
#include "diag.h"

static int parse(const char *text, struct cfg *cfg, struct diag_list *dl)
{
	return cfg_parse("t.cfg", text, strlen(text), cfg, dl);
}

static void test_words(void **state)
{
	struct cfg cfg;
	struct diag_list dl = DIAG_LIST_INIT;
	const struct cfg_line *l;

	(void)state;
	assert_int_equal(parse("frontend web\n"
			       "  log-format %{+Q}o\\ %t\\ %s # a comment\n"
			       "  http-request set-header X \"a b\" if { path_reg '^/a\\.b' }\n"
			       "  acl x url_reg ^http://[^/]*1wt\\.eu/\n"
			       "  http-request set-header Y \"${HOST}:$PORT\\$\"\r\n"
			       "  bind\t:80\t\tname  clear\n",
			       &cfg, &dl),
			 0);
	assert_int_equal(cfg.n, 2); /* the top (empty) and the frontend */
	assert_int_equal(cfg.s[1].kind, CFG_FRONTEND);
	assert_string_equal(cfg.s[1].name, "web");
	l = &cfg.s[1].lines[0];
	assert_int_equal(l->nw, 2);
	assert_string_equal(l->w[1], "%{+Q}o %t %s");
	assert_false(l->wflags[1] & CFG_W_PLAIN);
	assert_string_equal(l->raw + l->comment, "# a comment");
	l = &cfg.s[1].lines[1];
	assert_int_equal(l->nw, 9);
	assert_string_equal(l->w[3], "a b");
	assert_string_equal(l->w[7], "^/a\\.b"); /* nothing is interpreted in single quotes */
	/* an unknown escape keeps its backslash, as old regexes need */
	assert_string_equal(cfg.s[1].lines[2].w[3], "^http://[^/]*1wt\\.eu/");
	assert_true(cfg.s[1].lines[2].wflags[3] & CFG_W_PLAIN);
	l = &cfg.s[1].lines[3];
	assert_string_equal(l->w[3], "${HOST}:${PORT}$");
	assert_true(l->wflags[3] & CFG_W_ENV);
	l = &cfg.s[1].lines[4];
	assert_int_equal(l->nw, 4);
	assert_int_equal(l->lineno, 6);
	assert_int_equal(l->woff[3], strlen("bind\t:80\t\tname  "));
	cfg_release(&cfg);
	diag_release(&dl);
}

static void test_errors(void **state)
{
	struct cfg cfg;
	struct diag_list dl = DIAG_LIST_INIT;

	(void)state;
	assert_int_equal(parse("global\n  log \"x\n  .if 1\nfrontend f\n  bind 'a\n", &cfg, &dl), -1);
	assert_int_equal(dl.errors, 3);
	assert_int_equal(dl.items[0].line, 2);
	assert_string_equal(dl.items[0].msg, "unterminated double quote");
	assert_int_equal(dl.items[1].line, 5);
	assert_string_equal(dl.items[2].msg, "'.if' block never closed with '.endif'");
	assert_int_equal(dl.items[2].line, 3);
	diag_release(&dl);
	assert_int_equal(parse("global\n  log \"a\\x00b\"\n", &cfg, &dl), -1);
	assert_int_equal(dl.errors, 1);
	diag_release(&dl);
}

static void test_sections(void **state)
{
	struct cfg cfg;
	struct diag_list dl = DIAG_LIST_INIT;

	(void)state;
	assert_int_equal(parse("defaults d_http\n  mode http\n"
			       "backend be_api from d_http\n  server a 1.2.3.4:80\n"
			       "listen stats :8404\n"
			       "peers p\n  peer a 1.2.3.4:1\n",
			       &cfg, &dl),
			 0);
	assert_int_equal(cfg.n, 5);
	assert_int_equal(cfg.s[1].kind, CFG_DEFAULTS);
	assert_string_equal(cfg.s[1].name, "d_http");
	assert_string_equal(cfg.s[2].from, "d_http");
	assert_string_equal(cfgnorm_canon_name(&cfg.s[2]), "api");
	assert_ptr_equal(cfgnorm_defaults_of(&cfg, &cfg.s[2]), &cfg.s[1]);
	assert_int_equal(cfg.s[3].kind, CFG_LISTEN);
	assert_int_equal(cfg.s[4].kind, CFG_OTHER);
	cfg_release(&cfg);
}

static size_t diff_of(const char *a, const char *b)
{
	struct cfg ca, cb;
	struct cfgnorm na, nb;
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf out = STRBUF_INIT;
	size_t n;

	assert_int_equal(parse(a, &ca, &dl), 0);
	assert_int_equal(parse(b, &cb, &dl), 0);
	assert_int_equal(cfgnorm_build(&ca, &na), 0);
	assert_int_equal(cfgnorm_build(&cb, &nb), 0);
	n = cfgnorm_diff(&na, &nb, "a", "b", &out);
	strbuf_release(&out);
	cfgnorm_release(&na);
	cfgnorm_release(&nb);
	cfg_release(&ca);
	cfg_release(&cb);
	return n;
}

static void test_compare(void **state)
{
	const char *base = "defaults\n mode http\n timeout client 30s\n timeout connect 5s\n"
			   " timeout server 30s\n"
			   "frontend web\n bind :80\n acl api path_beg /api\n"
			   " use_backend api if api\n default_backend app\n"
			   "backend api\n server a 10.0.0.1:80 check\n"
			   "backend app\n default-server inter 2s\n server b 10.0.0.2:80 check\n";

	(void)state;
	/* ACL names, durations, defaults, prefixes and default parameters do not matter */
	assert_int_equal(diff_of(base, "defaults x\n mode http\n timeout client 30000\n"
				       " timeout connect 5000ms\n timeout server 30s\n"
				       "frontend fe_web from x\n bind *:80\n"
				       " use_backend be_api if { path_beg /api }\n"
				       " default_backend be_app\n"
				       "backend be_api from x\n server a 10.0.0.1:80 weight 1 check\n"
				       "backend be_app from x\n server b 10.0.0.2:80 check\n"),
			 0);
	/* the order of routing rules does */
	assert_int_not_equal(diff_of("frontend f\n bind :80\n use_backend a if { path /a }\n"
				     " use_backend b if { path_beg / }\n",
				     "frontend f\n bind :80\n use_backend b if { path_beg / }\n"
				     " use_backend a if { path /a }\n"),
			     0);
	/* a server weight does, and a listen equals a frontend plus a backend */
	assert_int_not_equal(diff_of("listen l\n bind :80\n server a 1.1.1.1:80 weight 2\n",
				     "listen l\n bind :80\n server a 1.1.1.1:80 weight 3\n"),
			     0);
	assert_int_equal(diff_of("listen l\n bind :80\n mode tcp\n server a 1.1.1.1:80\n",
				 "frontend fe_l\n mode tcp\n bind :80\n default_backend be_l\n"
				 "backend be_l\n mode tcp\n server a 1.1.1.1:80\n"),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
