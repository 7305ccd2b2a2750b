/* Unit tests for what hagen reads from a running HAProxy: the master's `show proc` (as HAProxy
 * 2.6 writes it) and the `show stat` CSV, found by column names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "runtime.h"

static void test_procs(void **state)
{
	const char *text =
		"#<PID>          <type>          <reloads>       <uptime>        <version>      \n"
		"15119           master          3 [failed: 1]   0d00h11m46s     2.6.12-1+deb12u4\n"
		"# workers\n"
		"4213            worker          1               0d00h00m07s     2.6.12-1+deb12u4\n"
		"# old workers\n"
		"4100            worker          2               0d00h01m00s     2.6.12-1+deb12u4\n"
		"# programs\n\n";
	struct rt_procs p;

	(void)state;
	assert_int_equal(rt_parse_procs(text, &p), 0);
	assert_int_equal(p.master, 15119);
	assert_int_equal(p.reloads, 3);
	assert_int_equal(p.failed, 1);
	assert_int_equal(p.nworkers, 1);
	assert_int_equal(p.workers[0], 4213);
	assert_int_equal(p.nold, 1);
	assert_int_equal(p.old[0], 4100);
	assert_int_equal(rt_parse_procs("Unknown command.\n", &p), -1);
}

static void test_stat(void **state)
{
	const char *text = "# pxname,svname,qcur,status,weight,check_status,addr\n"
			   "fe,FRONTEND,,OPEN,,,\n"
			   "be_web,web1,0,UP,3,L7OK,127.0.0.1:9001\n"
			   "be_web,web2,0,DOWN 1/2,1,L4CON,127.0.0.1:9002\n"
			   "be_web,BACKEND,0,UP,4,,\n";
	struct rt_stat st;
	const struct rt_row *r;

	(void)state;
	assert_int_equal(rt_parse_stat(text, strlen(text), &st), 0);
	assert_int_equal(st.n, 4);
	r = rt_stat_find(&st, "be_web", "web1");
	assert_non_null(r);
	assert_string_equal(r->status, "UP");
	assert_string_equal(r->check, "L7OK");
	assert_int_equal(r->weight, 3);
	assert_string_equal(r->addr, "127.0.0.1:9001");
	r = rt_stat_find(&st, "be_web", "web2");
	assert_string_equal(r->status, "DOWN 1/2");
	assert_int_equal(rt_stat_find(&st, "fe", "FRONTEND")->weight, -1);
	assert_null(rt_stat_find(&st, "be_api", "BACKEND"));
	rt_stat_release(&st);
	assert_int_equal(rt_parse_stat("No such command\n", 16, &st), -1);
	assert_int_equal(rt_parse_stat("# a,b\n", 6, &st), -1); /* no pxname column */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_procs),
		cmocka_unit_test(test_stat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
