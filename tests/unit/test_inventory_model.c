/* Unit tests for lib/inventory's typed model and naming rule: what halog's balance check reads
 * (backends be_<service>, servers with weight, backup, maintenance, DNS slots), with overlays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "inventory/inventory.h"

static char path[64];

static int load(const char *yaml, const char *env, struct inv *inv, struct diag_list *dl)
{
	FILE *fp = fopen(path, "w");
	struct inv_opts o = {env, NULL};

	assert_non_null(fp);
	fputs(yaml, fp);
	fclose(fp);
	return inv_load(path, &o, inv, dl);
}

static const char *yaml =
	"entrypoints: { web: { bind: \":8080\" }, pg: { mode: tcp, bind: \":5432\" } }\n"
	"resolvers: { docker: { nameservers: [\"127.0.0.11:53\"] } }\n"
	"services:\n"
	"  api:\n"
	"    match: { path_prefix: /api }\n"
	"    servers:\n"
	"      - { name: a1, address: \"10.0.0.1:80\", weight: 3 }\n"
	"      - { name: a2, address: \"10.0.0.2:80\" }\n"
	"      - { name: a3, address: \"10.0.0.3:80\", maintenance: true, weight: 0 }\n"
	"      - { name: b1, address: \"10.0.0.4:80\", backup: true }\n"
	"  web:\n"
	"    discovery: { dns: { name: web, port: 80, slots: 3, prefix: w, resolvers: docker } }\n"
	"  pg:\n"
	"    mode: tcp\n"
	"    servers: [{ name: p1, address: \"db:5432\" }, { name: p2, address: \"db2:5432\", "
	"weight: 5, drain: true }]\n"
	"environments:\n"
	"  small: { services: { api: { servers: [{ name: a1, address: \"10.0.0.1:80\" }] } } }\n";

static void test_model(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct inv inv;
	const struct inv_backend *api, *web, *pg;

	(void)state;
	assert_int_equal(load(yaml, NULL, &inv, &dl), 0);
	assert_int_equal(dl.errors, 0);
	assert_int_equal(inv.nbackends, 3);
	assert_string_equal(inv.backends[0].name, "be_api"); /* inventory order */
	assert_string_equal(inv.backends[1].service, "web");
	api = inv_backend_find(&inv, "be_api");
	web = inv_backend_find(&inv, "be_web");
	pg = inv_backend_find(&inv, "be_pg");
	assert_non_null(api);
	assert_non_null(web);
	assert_non_null(pg);
	assert_null(inv_backend_find(&inv, "api"));
	assert_null(inv_backend_find(NULL, "be_api"));
	assert_int_equal(api->n, 4);
	assert_string_equal(api->servers[0].name, "a1");
	assert_int_equal(api->servers[0].weight, 3);
	assert_int_equal(api->servers[1].weight, 1); /* HAProxy's default */
	assert_int_equal(api->servers[2].maint, 1);
	assert_int_equal(api->servers[2].weight, 0);
	assert_int_equal(api->servers[3].backup, 1);
	assert_int_equal(api->slots, 0);
	assert_false(api->tcp);
	assert_int_equal(web->slots, 3);
	assert_int_equal(web->n, 3);
	assert_string_equal(web->servers[2].name, "w3");
	assert_int_equal(web->servers[2].slot, 3);
	assert_int_equal(web->servers[2].weight, 1);
	/* drain: hagen renders weight 0, so the balance expects no traffic */
	assert_int_equal(pg->n, 2);
	assert_int_equal(pg->servers[1].weight, 0);
	assert_true(pg->tcp);
	inv_release(&inv);
	diag_release(&dl);

	/* the overlay replaces the list */
	assert_int_equal(load(yaml, "small", &inv, &dl), 0);
	assert_int_equal(inv_backend_find(&inv, "be_api")->n, 1);
	inv_release(&inv);
	diag_release(&dl);
}

static void test_refused_like_hagen(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct inv inv;

	(void)state;
	/* the keys only the old halog reader took: refused, every one, with a position */
	assert_int_equal(load("entrypoints: { web: { bind: \":8080\" } }\n"
			      "services:\n"
			      "  api:\n"
			      "    servers:\n"
			      "      - { name: a1, address: \"10.0.0.1:80\", disabled: true }\n"
			      "      - { name: a2, address: \"10.0.0.2:80\", wieght: 2 }\n",
			      NULL, &inv, &dl),
			 -1);
	assert_int_equal(dl.errors, 2);
	diag_sort(&dl);
	assert_string_equal(dl.items[0].msg, "unknown key 'disabled' in a server");
	assert_int_equal(dl.items[0].line, 5);
	assert_string_equal(dl.items[1].msg,
			    "unknown key 'wieght' in a server (did you mean 'weight'?)");
	assert_int_equal(inv.nbackends, 0); /* released */
	assert_null(inv.backends);
	diag_release(&dl);
}

static void test_names(void **state)
{
	char buf[INV_PROXY_NAME_MAX];

	(void)state;
	assert_string_equal(inv_backend_name("api", buf, sizeof(buf)), "be_api");
	assert_string_equal(inv_frontend_name("web", buf, sizeof(buf)), "fe_web");
}

/* The version gates are columns of the keyword table: `hagen targets` (inv_rules) reads them. */
static void test_key_gates(void **state)
{
	const struct inv_key *k = inv_key_find("defaults", "error_log_format");
	int since = -1, until = -1, shown = 0;

	(void)state;
	assert_non_null(k);
	assert_int_equal(k->since, 205);
	assert_null(inv_key_find("defaults", "nope"));
	for (const struct inv_rule *r = inv_rules; r->what; r++) {
		if (strcmp(r->what, "error-log-format"))
			continue;
		assert_int_equal(r->since, 0); /* no copy of the key's number */
		inv_rule_targets(r, &since, &until);
		shown = 1;
	}
	assert_true(shown);
	assert_int_equal(since, k->since);
	assert_int_equal(until, k->until);
}

/* The code asks inv_target_accepts() about the rules it names: each is a row of inv_rules (a
 * missing row would accept every target), with the targets `hagen targets` prints. */
static void test_rule_gates(void **state)
{
	static const struct {
		const char *what;
		int last_no, first_yes, last_yes, first_no; /* 0: not checked */
	} t[] = {
		{INV_RULE_HTTPSLOG, 204, 205, 304, 0},
		{INV_RULE_ERROR_LOG_FORMAT, 204, 205, 304, 0},
		{INV_RULE_CLIENT_HS, 209, 300, 304, 0},
		{INV_RULE_ACCEPT_INVALID, 0, 204, 300, 301},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_non_null(inv_rule_find(t[i].what));
		if (t[i].last_no)
			assert_false(inv_target_accepts(t[i].last_no, t[i].what));
		assert_true(inv_target_accepts(t[i].first_yes, t[i].what));
		assert_true(inv_target_accepts(t[i].last_yes, t[i].what));
		if (t[i].first_no)
			assert_false(inv_target_accepts(t[i].first_no, t[i].what));
	}
	assert_null(inv_rule_find("no such rule"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),	   cmocka_unit_test(test_refused_like_hagen),
		cmocka_unit_test(test_names),	   cmocka_unit_test(test_key_gates),
		cmocka_unit_test(test_rule_gates),
	};
	int fd;
	int rc;

	snprintf(path, sizeof(path), "/tmp/test_inventory.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
