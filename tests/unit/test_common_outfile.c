/* Unit tests for common/outfile: the output refused when it is an input or a store companion;
 * commit replaces the target whole with its old mode; abort leaves it; nothing is left behind;
 * a symlink at the target is replaced, not followed. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "outfile.h"

static char dir[64];

static void path(char *buf, size_t sz, const char *name)
{
	snprintf(buf, sz, "%s/%s", dir, name);
}

static void put(const char *name, const char *text)
{
	char p[128];
	FILE *fp;

	path(p, sizeof(p), name);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void get(const char *name, char *buf, size_t sz)
{
	char p[128];
	FILE *fp;
	size_t n;

	path(p, sizeof(p), name);
	fp = fopen(p, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sz - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
	closedir(d);
	return n;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/outfile-test.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_check(void **state)
{
	char db[128], wal[128], other[128], link[128], err[256];
	struct outfile_input in[] = {{db, 1}, {NULL, 0}};

	(void)state;
	path(db, sizeof(db), "s.db");
	path(wal, sizeof(wal), "s.db-wal");
	path(other, sizeof(other), "other.txt");
	path(link, sizeof(link), "link.db");
	put("s.db", "x");
	put("s.db-wal", "x");
	put("other.txt", "x");
	assert_int_equal(symlink(db, link), 0);
	assert_int_equal(outfile_check(db, in, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "refusing to overwrite it"));
	assert_int_equal(outfile_check(wal, in, 2, err, sizeof(err)), -1);
	assert_int_equal(outfile_check(link, in, 2, err, sizeof(err)), -1);
	assert_int_equal(outfile_check(other, in, 2, err, sizeof(err)), 0);
	assert_int_equal(outfile_check("-", in, 2, err, sizeof(err)), 0);
	in[0].store = 0; /* not a store: its -wal is just another file */
	assert_int_equal(outfile_check(wal, in, 2, err, sizeof(err)), 0);
}

static void test_commit_abort(void **state)
{
	char p[128], buf[64], err[256];
	struct outfile of;
	struct stat st;
	int before;

	(void)state;
	put("out.txt", "old");
	path(p, sizeof(p), "out.txt");
	assert_int_equal(chmod(p, 0640), 0);
	before = entries();
	assert_int_equal(outfile_open(&of, p, err, sizeof(err)), 0);
	fputs("half", of.fp);
	outfile_abort(&of);
	get("out.txt", buf, sizeof(buf));
	assert_string_equal(buf, "old");
	assert_int_equal(entries(), before);

	assert_int_equal(outfile_open(&of, p, err, sizeof(err)), 0);
	get("out.txt", buf, sizeof(buf));
	assert_string_equal(buf, "old"); /* untouched until the commit */
	fputs("new", of.fp);
	assert_int_equal(outfile_commit(&of, err, sizeof(err)), 0);
	get("out.txt", buf, sizeof(buf));
	assert_string_equal(buf, "new");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(entries(), before);
}

static void test_symlink_target(void **state)
{
	char p[128], victim[128], buf[64], err[256];
	struct outfile of;
	struct stat st;

	(void)state;
	put("victim.txt", "precious");
	path(victim, sizeof(victim), "victim.txt");
	path(p, sizeof(p), "l.txt");
	assert_int_equal(symlink(victim, p), 0);
	assert_int_equal(outfile_open(&of, p, err, sizeof(err)), 0);
	fputs("report", of.fp);
	assert_int_equal(outfile_commit(&of, err, sizeof(err)), 0);
	get("victim.txt", buf, sizeof(buf));
	assert_string_equal(buf, "precious");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

static void test_unwritable(void **state)
{
	char err[256];
	struct outfile of;

	(void)state;
	assert_int_equal(outfile_open(&of, "/nonexistent-dir/x.txt", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot write '/nonexistent-dir/x.txt'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_target, setup, teardown),
		cmocka_unit_test(test_unwritable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
