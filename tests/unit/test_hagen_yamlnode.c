/* Unit tests for common/yamlnode: positions, styles, duplicates, merges, limits, hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "strbuf.h"
#include "yamlnode.h"

static struct yn_node *load(const char *s, struct yn_error *err)
{
	struct yn_node *root = NULL;

	if (yn_load_buffer(s, strlen(s), NULL, &root, err) < 0)
		return NULL;
	return root;
}

static void test_positions(void **state)
{
	struct yn_error err;
	struct yn_node *r = load("a: 1\nb:\n  c: \"1\"\n  d: [x, 'y']\n", &err);
	struct yn_pair *p;
	int64_t v;

	(void)state;
	assert_non_null(r);
	if (!r)
		return;
	assert_int_equal(r->kind, YN_MAP);
	p = yn_get_pair(yn_get(r, "b"), "c");
	assert_non_null(p);
	assert_int_equal(p->key->line, 3);
	assert_int_equal(p->key->col, 3);
	assert_int_equal(p->value->col, 6);
	assert_int_equal(p->value->style, YN_DOUBLE_QUOTED);
	assert_int_equal(yn_int64(p->value, 0, 10, &v), -1); /* quoted "1" is a string */
	assert_int_equal(yn_int64(yn_get(r, "a"), 0, 10, &v), 0);
	assert_int_equal(v, 1);
	assert_string_equal(yn_at(yn_path(r, "b.d"), 1)->str, "y");
	assert_int_equal(yn_path(r, "b.d")->n, 2);
	assert_null(yn_path(r, "b.zz"));
	assert_string_equal(yn_kind_name(yn_path(r, "b.d")), "list");
	yn_free(r);
}

static void test_scalars(void **state)
{
	struct yn_error err;
	struct yn_node *r = load("t: true\nf: False\nn: ~\ne:\nbig: 99999999999999999999\nneg: -5\n"
				 "s: !!str 12\nz: \"a\\0b\"\n",
				 &err);
	int b;
	int64_t v;

	(void)state;
	assert_non_null(r);
	assert_int_equal(yn_bool(yn_get(r, "t"), &b), 0);
	assert_true(b);
	assert_int_equal(yn_bool(yn_get(r, "f"), &b), 0);
	assert_false(b);
	assert_true(yn_is_null(yn_get(r, "n")));
	assert_true(yn_is_null(yn_get(r, "e")));
	assert_int_equal(yn_int64(yn_get(r, "big"), INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(yn_int64(yn_get(r, "neg"), -10, 10, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(yn_int64(yn_get(r, "neg"), 0, 10, &v), -1);
	assert_int_equal(yn_int64(yn_get(r, "s"), 0, 100, &v), -1);
	assert_false(yn_is_text(yn_get(r, "z")));
	assert_int_equal(yn_get(r, "z")->len, 3);
	yn_free(r);
}

static void test_duplicate(void **state)
{
	struct yn_error err;

	(void)state;
	assert_null(load("a: 1\nb: 2\na: 3\n", &err));
	assert_int_equal(err.line, 3);
	assert_int_equal(err.col, 1);
	assert_string_equal(err.msg, "duplicate key 'a' (first at line 1, column 1)");
}

static void test_duplicate_small(void **state)
{
	struct yn_error err;

	(void)state;
	/* two keys repeated in a small map: the smallest is named, as in a large one */
	assert_null(load("b: 1\na: 2\nb: 3\na: 4\n", &err));
	assert_int_equal(err.line, 4);
	assert_string_equal(err.msg, "duplicate key 'a' (first at line 2, column 1)");
	assert_null(load("{x: 1, y: 2, x: 3}\n", &err));
	assert_int_equal(err.col, 14);
}

static void test_merge(void **state)
{
	struct yn_error err;
	struct yn_node *r = load("base: &b {x: 1, y: 2}\nother: &o {z: 3}\n"
				 "m:\n  <<: [*b, *o]\n  y: 9\n",
				 &err);
	struct yn_node *m;
	struct yn_limits lim = {0, 0, 0, 1};
	struct yn_node *r2 = NULL;
	const char *s = "b: &b {x: 1}\nm: {<<: *b}\n";

	(void)state;
	assert_non_null(r);
	m = yn_get(r, "m");
	assert_int_equal(m->n, 3);
	assert_string_equal(yn_get(m, "y")->str, "9");
	assert_string_equal(yn_get(m, "x")->str, "1");
	assert_string_equal(yn_get(m, "z")->str, "3");
	assert_null(yn_get(m, "<<"));
	yn_free(r);
	/* an anchor on the merge value itself must stay usable afterwards */
	r = load("m: {<<: &a {k: v}}\nn: *a\n", &err);
	assert_non_null(r);
	assert_string_equal(yn_path(r, "n.k")->str, "v");
	yn_free(r);
	assert_int_equal(yn_load_buffer(s, strlen(s), &lim, &r2, &err), -1);
	assert_int_equal(err.line, 2);
	assert_null(load("m: {<<: 5}\n", &err));
}

static void test_malformed(void **state)
{
	struct yn_error err;

	(void)state;
	assert_null(load("a: [1, 2\nb: 3\n", &err));
	assert_true(err.line >= 1);
	assert_non_null(strstr(err.msg, "malformed YAML"));
	assert_null(load("a: b: c\n", &err));
	assert_int_equal(err.line, 1);
	assert_null(load("a: *nope\n", &err));
	assert_string_equal(err.msg, "undefined alias 'nope'");
	assert_null(load("a: 1\n---\nb: 2\n", &err));
	assert_int_equal(err.line, 2);
	assert_null(load("ok: 1\nbad: \xff\xfe\n", &err));
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "invalid input"));
	assert_null(load("? [a]\n: 1\n", &err));
}

static void test_depth(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct yn_error err;
	struct yn_node *r;

	(void)state;
	for (int i = 0; i < 100000; i++)
		strbuf_addch(&sb, '[');
	assert_int_equal(yn_load_buffer(sb.buf, sb.len, NULL, &r, &err), -1);
	assert_string_equal(err.msg, "nesting deeper than 64 levels");
	assert_int_equal(err.col, 65);
	strbuf_release(&sb);
	/* depth reached through an alias counts too */
	strbuf_addstr(&sb, "a: &a ");
	for (int i = 0; i < 40; i++)
		strbuf_addch(&sb, '[');
	for (int i = 0; i < 40; i++)
		strbuf_addch(&sb, ']');
	strbuf_addstr(&sb, "\nb: ");
	for (int i = 0; i < 40; i++)
		strbuf_addch(&sb, '[');
	strbuf_addstr(&sb, "*a");
	for (int i = 0; i < 40; i++)
		strbuf_addch(&sb, ']');
	strbuf_addch(&sb, '\n');
	assert_int_equal(yn_load_buffer(sb.buf, sb.len, NULL, &r, &err), -1);
	assert_non_null(strstr(err.msg, "through alias"));
	strbuf_release(&sb);
}

static void test_billion_laughs(void **state)
{
	const char *s = "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
			"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
			"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
			"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
			"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
			"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
			"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
			"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
			"i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
	struct yn_error err;
	struct yn_node *r;

	(void)state;
	assert_int_equal(yn_load_buffer(s, strlen(s), NULL, &r, &err), -1);
	assert_non_null(strstr(err.msg, "more than 200000 nodes"));
	assert_int_equal(err.line, 6);
}

static void test_many_keys(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct yn_error err;
	struct yn_node *r;

	(void)state;
	for (int i = 0; i < 50000; i++)
		strbuf_addf(&sb, "k%d: %d\n", i, i);
	strbuf_addstr(&sb, "k17: dup\n");
	assert_int_equal(yn_load_buffer(sb.buf, sb.len, NULL, &r, &err), -1);
	assert_int_equal(err.line, 50001);
	strbuf_release(&sb);
}

static void test_build(void **state)
{
	struct yn_node *m = yn_new_map(0, 0), *c;

	(void)state;
	assert_int_equal(yn_map_set(m, "a", yn_new_scalar("1", 1, 2)), 0);
	assert_int_equal(yn_map_set(m, "l", yn_new_seq(0, 0)), 0);
	assert_int_equal(yn_seq_push(yn_get(m, "l"), yn_new_scalar("x", 0, 0)), 0);
	assert_int_equal(yn_map_set(m, "a", yn_new_scalar("2", 3, 4)), 0);
	assert_int_equal(m->n, 2);
	c = yn_copy(m);
	assert_string_equal(yn_get(c, "a")->str, "2");
	assert_int_equal(yn_get(c, "a")->line, 3);
	assert_string_equal(yn_at(yn_get(c, "l"), 0)->str, "x");
	yn_free(m);
	yn_free(c);
}

/* 1 when a and b hold the same tree, positions, styles and tags included. */
static int same_tree(const struct yn_node *a, const struct yn_node *b)
{
	if (a->kind != b->kind || a->style != b->style || a->line != b->line || a->col != b->col ||
	    a->n != b->n || !a->tag != !b->tag || (a->tag && strcmp(a->tag, b->tag)))
		return 0;
	if (a->kind == YN_SCALAR)
		return a->len == b->len && !memcmp(a->str, b->str, a->len) && !a->str[a->len];
	for (size_t i = 0; i < a->n; i++)
		if (a->kind == YN_SEQ ? !same_tree(a->items[i], b->items[i])
				      : !same_tree(a->pairs[i].key, b->pairs[i].key) ||
						!same_tree(a->pairs[i].value, b->pairs[i].value))
			return 0;
	return 1;
}

static void test_arena(void **state)
{
	const char *doc = "base: &b {x: 1, y: !!str 2}\nlist: !mine [a, 'b', \"c\", *b]\n"
			  "m:\n  <<: [*b]\n  y: 9\n  big: |\n    text\n";
	struct yn_error err;
	struct yn_node *plain = load(doc, &err), *pooled, *m, *c;
	struct yn_arena *a = yn_arena_new(), *b = yn_arena_new();
	struct strbuf big = STRBUF_INIT;

	(void)state;
	assert_non_null(plain);
	assert_non_null(a);
	/* a document loaded in an arena is the same tree */
	assert_null(yn_arena_use(a));
	pooled = load(doc, &err);
	assert_non_null(pooled);
	assert_true(same_tree(plain, pooled));
	/* a copy, a node bigger than a block, and growing lists all come from it */
	c = yn_copy(plain);
	assert_true(same_tree(plain, c));
	for (int i = 0; i < 300000; i++)
		strbuf_addch(&big, 'z');
	assert_int_equal(yn_map_set(c, "big", yn_new_scalar(big.buf, 0, 0)), 0);
	assert_int_equal(yn_get(c, "big")->len, 300000);
	m = yn_new_seq(0, 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(yn_seq_push(m, yn_new_scalar("v", 0, 0)), 0);
	/* arenas nest: the one in effect before comes back */
	assert_ptr_equal(yn_arena_use(b), a);
	assert_int_equal(yn_seq_push(m, yn_new_scalar("from b", 0, 0)), 0);
	assert_ptr_equal(yn_arena_use(a), b);
	assert_ptr_equal(yn_arena_use(NULL), a);
	/* outside any arena: malloc'd nodes in an arena's tree are freed by yn_free, the array
	 * grown then too; the arena's own nodes are left to it (LeakSanitizer checks both) */
	for (int i = 0; i < 20; i++)
		assert_int_equal(yn_seq_push(m, yn_new_scalar("malloc'd", 0, 0)), 0);
	assert_int_equal(m->n, 1021);
	assert_string_equal(m->items[1000]->str, "from b");
	assert_string_equal(m->items[1020]->str, "malloc'd");
	assert_int_equal(yn_map_set(pooled, "y", yn_copy(plain)), 0);
	yn_free(m);
	yn_free(pooled); /* walks it, frees the malloc'd copy */
	/* a malloc'd tree holding an arena's nodes */
	assert_int_equal(yn_map_set(plain, "pooled", c), 0);
	yn_free(plain);
	yn_arena_free(b); /* "from b" lived there */
	yn_arena_free(a);
	yn_arena_free(NULL);
	strbuf_release(&big);
}

static void test_empty(void **state)
{
	struct yn_error err;
	struct yn_node *r = (struct yn_node *)1;

	(void)state;
	assert_int_equal(yn_load_buffer("", 0, NULL, &r, &err), 0);
	assert_null(r);
	assert_int_equal(yn_load_buffer("# only a comment\n", 17, NULL, &r, &err), 0);
	assert_null(r);
	assert_int_equal(yn_load_file("/nonexistent/x.yaml", NULL, &r, &err), -1);
	assert_int_equal(err.line, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),      cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_duplicate),      cmocka_unit_test(test_merge),
		cmocka_unit_test(test_malformed),      cmocka_unit_test(test_depth),
		cmocka_unit_test(test_billion_laughs), cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_build),	       cmocka_unit_test(test_empty),
		cmocka_unit_test(test_duplicate_small), cmocka_unit_test(test_arena),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
