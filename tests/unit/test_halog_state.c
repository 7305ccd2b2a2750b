/* The store's state area (store/state.h): saved searches, alerts with their window state, the
 * delivery outbox and the alert log, and the upgrade of a version 1 store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include <zlib.h>

#include "store/read.h"
#include "store/state.h"
#include "store/store.h"

static char dir[256];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "%s/halog-state-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct store *open_new(const char *name)
{
	char p[512], err[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	struct store *st = store_open(p, STORE_CREATE, err, sizeof(err));
	assert_non_null(st);
	return st;
}

static void test_names(void **state)
{
	const char *why;
	assert_true(state_name_valid("api-5xx", &why));
	assert_true(state_name_valid("a.b_c-9", &why));
	assert_false(state_name_valid("", &why));
	assert_false(state_name_valid("-x", &why));
	assert_false(state_name_valid("a b", &why));
	assert_false(state_name_valid("a/b", &why));
	assert_false(state_name_valid("é", &why));
	char long_name[80];
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	assert_false(state_name_valid(long_name, &why));
	long_name[64] = '\0';
	assert_true(state_name_valid(long_name, &why));
}

static void test_saved(void **state)
{
	struct store *st = open_new("saved.db");
	struct store_saved sv, *all;
	size_t n;

	assert_int_equal(store_saved_put(st, "b", "status:5xx", 0, 1000), 0);
	assert_int_equal(store_saved_put(st, "a", "backend:api", 0, 1001), 0);
	assert_int_equal(store_saved_put(st, "b", "status:4xx", 0, 1002), 1); /* exists */
	assert_int_equal(store_saved_get(st, "b", &sv), 0);
	assert_string_equal(sv.query, "status:5xx");
	store_saved_release(&sv);
	assert_int_equal(store_saved_put(st, "b", "status:4xx", 1, 1003), 0); /* replace */
	assert_int_equal(store_saved_get(st, "b", &sv), 0);
	assert_string_equal(sv.query, "status:4xx");
	assert_int_equal(sv.created_ms, 1000);
	assert_int_equal(sv.updated_ms, 1003);
	store_saved_release(&sv);
	assert_int_equal(store_saved_get(st, "zz", &sv), 1);

	assert_int_equal(store_saved_list(st, &all, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(all[0].name, "a");
	assert_string_equal(all[1].name, "b");
	store_saved_free(all, n);

	/* an alert watching "b" keeps it */
	struct store_alert a;
	memset(&a, 0, sizeof(a));
	a.name = (char *)"watch-b";
	a.saved = (char *)"b";
	a.expr = (char *)"count > 0";
	a.every_ms = 60000;
	a.webhook = (char *)"http://127.0.0.1:1/";
	a.format = (char *)"json";
	a.timeout_ms = 1000;
	assert_int_equal(store_alert_add(st, &a), 0);
	assert_int_equal(store_saved_rm(st, "b"), 2);
	assert_string_equal(store_errmsg(st), "watch-b");
	a.name = (char *)"watch-nothing";
	a.saved = (char *)"nope";
	assert_int_equal(store_alert_add(st, &a), 2);
	assert_int_equal(store_alert_rm(st, "watch-b"), 0);
	assert_int_equal(store_saved_rm(st, "b"), 0);
	assert_int_equal(store_saved_rm(st, "b"), 1);
	store_close(st);
}

static struct store_alert_eval eval_of(const struct store_alert *a, int64_t from, int64_t to,
				       int fire, const char *key)
{
	struct store_alert_eval ev;
	memset(&ev, 0, sizeof(ev));
	ev.name = a->name;
	ev.id = a->id;
	ev.from_ms = from;
	ev.to_ms = to;
	ev.cursor_id = to / 1000;
	ev.value = 12;
	ev.status = fire ? "firing" : "ok";
	ev.fire = fire;
	ev.key = key;
	ev.webhook = a->webhook;
	ev.format = a->format;
	ev.timeout_ms = a->timeout_ms;
	ev.payload = "{\"x\":1}";
	ev.payload_len = 7;
	ev.detail = "count = 12 >= 10";
	ev.now_ms = to + 500;
	return ev;
}

static void test_alert_windows_and_outbox(void **state)
{
	struct store *st = open_new("alerts.db");
	struct store_alert a, got, *all;
	struct store_delivery *d;
	struct store_alert_log *lg;
	size_t n;
	int64_t next;

	memset(&a, 0, sizeof(a));
	a.name = (char *)"errs";
	a.query = (char *)"status:5xx";
	a.expr = (char *)"count >= 10";
	a.every_ms = 60000;
	a.webhook = (char *)"http://127.0.0.1:9/hook";
	a.format = (char *)"slack";
	a.cooldown_ms = 0;
	a.timeout_ms = 5000;
	a.created_ms = 100;
	a.next_ms = 60000;
	assert_int_equal(store_alert_add(st, &a), 0);
	assert_int_equal(store_alert_add(st, &a), 1); /* the name exists */
	assert_int_equal(store_alert_get(st, "errs", &got), 0);
	assert_int_equal(strlen(got.id), 32);
	assert_string_equal(got.status, "new");
	assert_int_equal(got.next_ms, 60000);
	assert_int_equal(got.last_fired_ms, STORE_ALERT_NONE);

	/* the window the alert expects moves it; a stale one is a no-op */
	struct store_alert_eval ev = eval_of(&got, 60000, 120000, 1, "k1");
	assert_int_equal(store_alert_record(st, &ev), 0);
	assert_int_equal(store_alert_record(st, &ev), 1);
	ev = eval_of(&got, 120000, 180000, 0, NULL);
	assert_int_equal(store_alert_record(st, &ev), 0);
	store_alert_release(&got);
	assert_int_equal(store_alert_get(st, "errs", &got), 0);
	assert_int_equal(got.next_ms, 180000);
	assert_int_equal(got.cursor_id, 180);
	assert_int_equal(got.last_fired_ms, 120000);
	assert_int_equal(got.last_eval_ms, 180000);
	assert_string_equal(got.status, "ok");

	/* one delivery queued, due at its creation */
	assert_int_equal(store_delivery_due(st, 0, 10, &d, &n, &next), 0);
	assert_int_equal(n, 0);
	assert_int_equal(next, 120500);
	assert_int_equal(store_delivery_due(st, 200000, 10, &d, &n, &next), 0);
	assert_int_equal(n, 1);
	assert_int_equal(next, INT64_MAX);
	assert_string_equal(d[0].key, "k1");
	assert_string_equal(d[0].payload, "{\"x\":1}");
	assert_string_equal(d[0].format, "slack");
	assert_int_equal(d[0].window_start, 60000);
	int64_t id = d[0].id;
	store_delivery_free(d, n);

	assert_int_equal(store_delivery_result(st, id, STORE_DELIVERY_PENDING, 300000, 500, 12,
					       "HTTP 500", 200000),
			 0);
	assert_int_equal(store_delivery_due(st, 200001, 10, &d, &n, &next), 0);
	assert_int_equal(n, 0);
	assert_int_equal(next, 300000);
	assert_int_equal(
		store_delivery_result(st, id, STORE_DELIVERY_DONE, 0, 200, 3, NULL, 300001), 0);
	assert_int_equal(
		store_delivery_result(st, id, STORE_DELIVERY_DONE, 0, 200, 3, NULL, 300002),
		1); /* no longer pending */
	assert_int_equal(store_delivery_list(st, "errs", 10, &d, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].state, STORE_DELIVERY_DONE);
	assert_int_equal(d[0].attempts, 2);
	assert_int_equal(d[0].last_status, 200);
	assert_int_equal(d[0].done_ms, 300001);
	store_delivery_free(d, n);

	assert_int_equal(store_alert_log_list(st, "errs", 10, &lg, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(lg[0].event, "fired");
	assert_string_equal(lg[0].key, "k1");
	assert_int_equal(lg[0].window_end, 120000);
	assert_string_equal(lg[1].event, "retry");
	assert_int_equal(lg[1].status, 500);
	assert_string_equal(lg[2].event, "delivered");
	store_alert_log_free(lg, n);
	assert_int_equal(store_alert_log_list(st, NULL, 1, &lg, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(lg[0].event, "delivered");
	store_alert_log_free(lg, n);

	/* removing the alert drops its pending deliveries; a re-added one has a new id */
	ev = eval_of(&got, 180000, 240000, 1, "k2");
	assert_int_equal(store_alert_record(st, &ev), 0);
	char *old_id = strdup(got.id);
	store_alert_release(&got);
	assert_int_equal(store_alert_rm(st, "errs"), 0);
	assert_int_equal(store_alert_rm(st, "errs"), 1);
	assert_int_equal(store_delivery_due(st, INT64_MAX - 1, 10, &d, &n, &next), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_alert_add(st, &a), 0);
	assert_int_equal(store_alert_list(st, &all, &n), 0);
	assert_int_equal(n, 1);
	assert_string_not_equal(all[0].id, old_id);
	store_alert_free(all, n);
	free(old_id);

	/* meta: settable keys, not the schema's */
	assert_int_equal(store_meta_set(st, "serve.url", "http://127.0.0.1:8080"), 0);
	char *v = store_meta_get(st, "serve.url");
	assert_string_equal(v, "http://127.0.0.1:8080");
	free(v);
	assert_int_equal(store_meta_set(st, "serve.url", NULL), 0);
	assert_null(store_meta_get(st, "serve.url"));
	assert_int_equal(store_meta_set(st, "schema_version", "9"), -1);
	store_close(st);
}

/* A version 1 store (before the state area and the blocks) upgrades in place and keeps its
 * lines. */
static void test_upgrade_v1(void **state)
{
	char p[512], err[256];
	snprintf(p, sizeof(p), "%s/v1.db", dir);
	/* a store halog c322e0f wrote (tests/cases/halog-upgrade/README.md): 66 lines */
	gzFile gz = gzopen("tests/cases/halog-upgrade/001-schema1/store.db.gz", "rb");
	FILE *out = fopen(p, "wb");
	char buf[65536];
	int n;
	assert_non_null(gz);
	assert_non_null(out);
	while ((n = gzread(gz, buf, sizeof(buf))) > 0)
		assert_int_equal(fwrite(buf, 1, (size_t)n, out), (size_t)n);
	assert_int_equal(n, 0);
	gzclose(gz);
	assert_int_equal(fclose(out), 0);
	struct store *st;
	/* a reader refuses it until a writer upgrades it */
	assert_null(store_open(p, STORE_READONLY, err, sizeof(err)));
	assert_non_null(strstr(err, "schema version 1"));
	st = store_open(p, 0, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
	assert_int_equal(store_saved_put(st, "x", "y", 0, 1), 0);
	store_close(st);
	/* its lines are all there */
	struct store_reader *rd = store_reader_open(p, err, sizeof(err));
	struct store_sel sel;
	int64_t lines = -1;
	assert_non_null(rd);
	store_sel_init(&sel);
	assert_int_equal(store_count(rd, &sel, &lines), 0);
	assert_int_equal(lines, 66);
	store_reader_close(rd);
	st = store_open(p, STORE_READONLY, err, sizeof(err));
	assert_non_null(st);
	struct store_saved sv;
	assert_int_equal(store_saved_get(st, "x", &sv), 0);
	store_saved_release(&sv);
	/* read-only: a write is an error, not a crash */
	assert_int_equal(store_saved_put(st, "z", "y", 0, 1), -1);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_saved),
		cmocka_unit_test(test_alert_windows_and_outbox),
		cmocka_unit_test(test_upgrade_v1),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
