/* sqlceiling: the storage ceiling for the benchmark. It stores each log line the way halog's
 * store lays it out (one `lines` row with the raw bytes, one `requests` row with the traffic
 * fields), with a minimal field split instead of the real parser, prepared statements, and one
 * transaction per 10,000 lines: what SQLite alone costs for the same rows, with no rollups,
 * no name table and no validation.
 *
 * usage: sqlceiling --db FILE [--batch N] [--journal MODE] [--page-size N] [--raw-only]
 *                   [--compact] [--chunk N] [FILE|-]
 *   --journal MODE   journal_mode (default wal, as the store); e.g. truncate, off
 *   --page-size N    page size of the new file (default SQLite's, 4096)
 *   --raw-only       store only the lines rows (no requests rows)
 *   --compact        requests rows with names as integer ids and nothing the raw line already
 *                    holds except the path (15 columns instead of 30)
 *   --chunk N        raw lines stored N to a row (one blob, LF-separated, in table chunks)
 *                    instead of one lines row each; requests rows keep the line number
 * Prints "rows N" on stdout. Exit: 0 ok, 1 I/O or SQLite error, 2 usage. */
#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "strbuf.h"

#define SC_LINE_MAX 65536 /* longer lines are cut (HAProxy's own cap is 65535) */
#define SC_FIELDS 24      /* traffic fields split from a line */

/* The store's settings; --journal and --page-size change them to measure alternatives. */
static const char sc_pragmas[] = "PRAGMA synchronous=NORMAL;PRAGMA cache_size=-65536;"
				 "PRAGMA temp_store=MEMORY;PRAGMA wal_autocheckpoint=4096;";
static const char sc_schema[] =
	"CREATE TABLE lines(id INTEGER PRIMARY KEY, recv_ms INTEGER NOT NULL, ts_ms INTEGER,"
	" source TEXT, kind INTEGER NOT NULL, status INTEGER NOT NULL, reason TEXT, pri INTEGER,"
	" host TEXT, program TEXT, pid INTEGER, framing INTEGER, flags INTEGER NOT NULL DEFAULT 0,"
	" raw BLOB NOT NULL);"
	"CREATE TABLE requests(line_id INTEGER PRIMARY KEY, ts_ms INTEGER, mode TEXT,"
	" frontend TEXT, backend TEXT, server TEXT, status INTEGER, term TEXT, client_ip TEXT,"
	" client_port INTEGER, method TEXT, path TEXT, query TEXT, version TEXT, uri TEXT,"
	" t_req INTEGER, t_wait INTEGER, t_connect INTEGER, t_resp INTEGER, t_active INTEGER,"
	" bytes_read INTEGER, actconn INTEGER, feconn INTEGER, beconn INTEGER, srv_conn INTEGER,"
	" retries INTEGER, srv_queue INTEGER, backend_queue INTEGER, cap_req TEXT, cap_resp TEXT,"
	" flags INTEGER NOT NULL DEFAULT 0);";

static const char sc_ins_line[] =
	"INSERT INTO lines(recv_ms, ts_ms, source, kind, status, pri, host, program, pid, framing,"
	" raw) VALUES(?1, ?2, ?3, ?4, 0, ?5, ?6, ?7, ?8, 1, ?9)";
static const char sc_ins_req[] =
	"INSERT INTO requests(line_id, ts_ms, mode, frontend, backend, server, status, term,"
	" client_ip, client_port, method, path, query, version, uri, t_req, t_wait, t_connect,"
	" t_resp, t_active, bytes_read, actconn, feconn, beconn, srv_conn, retries, srv_queue,"
	" backend_queue, cap_req, cap_resp) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
	" ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28,"
	" ?29, ?30)";

static const char sc_schema_compact[] =
	"CREATE TABLE requests_c(line_id INTEGER PRIMARY KEY, ts_ms INTEGER, fe INTEGER,"
	" be INTEGER, srv INTEGER, status INTEGER, term INTEGER, t_req INTEGER, t_wait INTEGER,"
	" t_connect INTEGER, t_resp INTEGER, t_active INTEGER, bytes_read INTEGER, path TEXT,"
	" flags INTEGER NOT NULL DEFAULT 0);";
static const char sc_ins_compact[] =
	"INSERT INTO requests_c VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
	" 0)";

struct sc_tok {
	const char *p;
	size_t len;
};

/* The next space-delimited token; a token starting with '{' runs to the next '}', one
 * starting with '"' to the last '"' of the line. */
static int next_tok(const char **cur, const char *end, struct sc_tok *t)
{
	const char *s = *cur, *e;

	while (s < end && *s == ' ')
		s++;
	if (s >= end)
		return 0;
	if (*s == '{') {
		e = memchr(s, '}', (size_t)(end - s));
		e = e ? e + 1 : end;
	} else if (*s == '"') {
		e = end;
		while (e > s + 1 && e[-1] != '"')
			e--;
	} else {
		e = memchr(s, ' ', (size_t)(end - s));
		if (!e)
			e = end;
	}
	t->p = s;
	t->len = (size_t)(e - s);
	*cur = e;
	return 1;
}

static long long num(const char *p, const char *end, const char **stop)
{
	long long v = 0;
	int neg = 0;

	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	while (p < end && *p >= '0' && *p <= '9')
		v = v * 10 + (*p++ - '0');
	if (stop)
		*stop = p;
	return neg ? -v : v;
}

/* Binds the numbers of "a/b/c…" to columns col, col+1, …; -1 becomes NULL. */
static void bind_slashed(sqlite3_stmt *st, int col, int n, struct sc_tok t)
{
	const char *p = t.p, *end = t.p + t.len, *stop;
	int i;

	for (i = 0; i < n; i++) {
		long long v = num(p, end, &stop);

		if (v < 0 || stop == p)
			sqlite3_bind_null(st, col + i);
		else
			sqlite3_bind_int64(st, col + i, v);
		p = stop < end ? stop + 1 : end;
	}
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* "[dd/Mon/yyyy:HH:MM:SS.mmm]" as UTC unix ms, or -1. */
static int64_t body_ms(struct sc_tok t)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *p = t.p + 1, *m;
	int64_t days;

	if (t.len < 22 || t.p[0] != '[')
		return -1;
	m = strstr(months, (char[4]){ p[3], p[4], p[5], 0 });
	if (!m)
		return -1;
	days = days_from_civil(num(p + 7, p + 11, NULL), (unsigned)((m - months) / 3 + 1),
			       (unsigned)num(p, p + 2, NULL));
	return (((days * 24 + num(p + 12, p + 14, NULL)) * 60 + num(p + 15, p + 17, NULL)) * 60 +
		num(p + 18, p + 20, NULL)) * 1000 +
	       (p[20] == '.' && t.len >= 25 ? num(p + 21, p + 24, NULL) : 0);
}

static void bind_text(sqlite3_stmt *st, int col, const char *p, size_t len)
{
	sqlite3_bind_text(st, col, p, (int)len, SQLITE_STATIC);
}

/* Splits and binds one line; the lines row is inserted first for its id. */
static int sc_raw_only, sc_compact;
static int64_t sc_chunk;             /* --chunk N: lines per chunks row, 0 for lines rows */
static struct strbuf sc_chunk_buf = STRBUF_INIT;
static int64_t sc_chunk_lines;       /* lines in sc_chunk_buf */
static int64_t sc_line_no;           /* lines stored so far: the line id in chunk mode */
static sqlite3_stmt *sc_chunk_stmt;

static const char sc_schema_chunks[] =
	"CREATE TABLE chunks(id INTEGER PRIMARY KEY, first_line INTEGER, n INTEGER, raw BLOB);";

/* Stores the pending chunk, if any. Returns 0 or -1. */
static int flush_chunk(void)
{
	int rc;

	if (!sc_chunk_lines)
		return 0;
	sqlite3_bind_int64(sc_chunk_stmt, 1, sc_line_no - sc_chunk_lines + 1);
	sqlite3_bind_int64(sc_chunk_stmt, 2, sc_chunk_lines);
	sqlite3_bind_blob(sc_chunk_stmt, 3, sc_chunk_buf.buf, (int)sc_chunk_buf.len, SQLITE_STATIC);
	rc = sqlite3_step(sc_chunk_stmt) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(sc_chunk_stmt);
	strbuf_reset(&sc_chunk_buf);
	sc_chunk_lines = 0;
	return rc;
}

/* Names as small integers (what a names table gives the store); a linear table is enough for
 * the handful of proxies and servers of a benchmark file. */
#define SC_NAMES 1024
static struct {
	char name[64];
	size_t len;
} sc_names[SC_NAMES];
static size_t sc_nnames;

static int64_t name_id(const char *p, size_t len)
{
	size_t i;

	if (len >= sizeof(sc_names[0].name))
		len = sizeof(sc_names[0].name) - 1;
	for (i = 0; i < sc_nnames; i++)
		if (sc_names[i].len == len && memcmp(sc_names[i].name, p, len) == 0)
			return (int64_t)i;
	if (sc_nnames == SC_NAMES)
		return -1;
	memcpy(sc_names[sc_nnames].name, p, len);
	sc_names[sc_nnames].len = len;
	return (int64_t)sc_nnames++;
}

static int store_line(sqlite3 *db, sqlite3_stmt *sl, sqlite3_stmt *sr, const char *line,
		      size_t len, int64_t now_ms)
{
	const char *cur = line, *end = line + len, *body, *p, *lb;
	struct sc_tok t[SC_FIELDS];
	int n = 0, http, rc;

	/* header: "<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: " -> the body after "]: " */
	body = line;
	p = memchr(line, ']', len < 64 ? len : 64);
	if (p && p + 2 < end && p[1] == ':' && p[2] == ' ')
		body = p + 3;
	sqlite3_bind_int64(sl, 1, now_ms);
	sqlite3_bind_text(sl, 3, "file:bench", -1, SQLITE_STATIC);
	sqlite3_bind_int(sl, 5, line[0] == '<' ? (int)num(line + 1, end, NULL) : -1);
	sqlite3_bind_null(sl, 6);
	sqlite3_bind_text(sl, 7, "haproxy", -1, SQLITE_STATIC);
	lb = p ? memrchr(line, '[', (size_t)(p - line)) : NULL;
	sqlite3_bind_int64(sl, 8, lb ? num(lb + 1, p, NULL) : 0);
	sqlite3_bind_blob(sl, 9, line, (int)len, SQLITE_STATIC);

	cur = body;
	while (n < SC_FIELDS && next_tok(&cur, end, &t[n]))
		n++;
	http = n >= 14 && t[n - 1].p[0] == '"' && t[n - 1].len >= 2;
	sc_line_no++;
	if (sc_chunk) {
		if (strbuf_add(&sc_chunk_buf, line, len) < 0 || strbuf_addch(&sc_chunk_buf, '\n') < 0)
			return -1;
		if (++sc_chunk_lines == sc_chunk && flush_chunk() < 0)
			return -1;
	} else {
		sqlite3_bind_int64(sl, 2, n > 1 ? body_ms(t[1]) : 0);
		sqlite3_bind_int(sl, 4, n >= 10 ? (http ? 1 : 2) : 0);
		if (sqlite3_step(sl) != SQLITE_DONE)
			return -1;
		sqlite3_reset(sl);
	}
	if (n < 10 || sc_raw_only)
		return 0;

	if (sc_compact && http) {
		struct sc_tok *rq = &t[n - 1];
		const char *r = rq->p + 1, *rend = rq->p + rq->len - 1, *sp, *q;

		sqlite3_bind_int64(sr, 1, sc_chunk ? sc_line_no : sqlite3_last_insert_rowid(db));
		sqlite3_bind_int64(sr, 2, body_ms(t[1]));
		sqlite3_bind_int64(sr, 3, name_id(t[2].p, t[2].len));
		p = memchr(t[3].p, '/', t[3].len);
		sqlite3_bind_int64(sr, 4, name_id(t[3].p, p ? (size_t)(p - t[3].p) : t[3].len));
		sqlite3_bind_int64(sr, 5, p ? name_id(p + 1, t[3].len - (size_t)(p + 1 - t[3].p)) : -1);
		sqlite3_bind_int64(sr, 6, num(t[5].p, t[5].p + t[5].len, NULL));
		sqlite3_bind_int64(sr, 7, name_id(t[9].p, t[9].len));
		bind_slashed(sr, 8, 5, t[4]);
		sqlite3_bind_int64(sr, 13, num(t[6].p, t[6].p + t[6].len, NULL));
		sp = memchr(r, ' ', (size_t)(rend - r));
		if (sp) {
			q = memchr(sp + 1, ' ', (size_t)(rend - sp - 1));
			if (!q)
				q = rend;
			p = memchr(sp + 1, '?', (size_t)(q - sp - 1));
			bind_text(sr, 14, sp + 1, (size_t)((p ? p : q) - sp - 1));
		} else {
			sqlite3_bind_null(sr, 14);
		}
		rc = sqlite3_step(sr) == SQLITE_DONE ? 0 : -1;
		sqlite3_reset(sr);
		return rc;
	}

	/* client frontend be/srv timers status/bytes … */
	sqlite3_bind_int64(sr, 1, sc_chunk ? sc_line_no : sqlite3_last_insert_rowid(db));
	sqlite3_bind_int64(sr, 2, body_ms(t[1]));
	sqlite3_bind_text(sr, 3, http ? "http" : "tcp", -1, SQLITE_STATIC);
	p = memrchr(t[0].p, ':', t[0].len);
	bind_text(sr, 9, t[0].p, p ? (size_t)(p - t[0].p) : t[0].len);
	sqlite3_bind_int64(sr, 10, p ? num(p + 1, t[0].p + t[0].len, NULL) : 0);
	bind_text(sr, 4, t[2].p, t[2].len - (t[2].p[t[2].len - 1] == '~'));
	p = memchr(t[3].p, '/', t[3].len);
	bind_text(sr, 5, t[3].p, p ? (size_t)(p - t[3].p) : t[3].len);
	if (p)
		bind_text(sr, 6, p + 1, t[3].len - (size_t)(p + 1 - t[3].p));
	if (http) {
		/* TR/Tw/Tc/Tr/Ta status bytes CC CS term conns queues [{…} [{…}]] "req" */
		struct sc_tok *rq = &t[n - 1];
		const char *r = rq->p + 1, *rend = rq->p + rq->len - 1, *sp, *q, *ve;

		bind_slashed(sr, 16, 5, t[4]);
		sqlite3_bind_int64(sr, 7, num(t[5].p, t[5].p + t[5].len, NULL));
		sqlite3_bind_int64(sr, 21, num(t[6].p, t[6].p + t[6].len, NULL));
		bind_text(sr, 8, t[9].p, t[9].len);
		bind_slashed(sr, 22, 5, t[10]);
		bind_slashed(sr, 27, 2, t[11]);
		if (n >= 14 && t[12].p[0] == '{' && t[12].len >= 2)
			bind_text(sr, 29, t[12].p + 1, t[12].len - 2);
		if (n >= 15 && t[13].p[0] == '{' && t[13].len >= 2)
			bind_text(sr, 30, t[13].p + 1, t[13].len - 2);
		sp = memchr(r, ' ', (size_t)(rend - r));
		if (sp) {
			bind_text(sr, 11, r, (size_t)(sp - r));
			ve = memrchr(sp + 1, ' ', (size_t)(rend - sp - 1));
			if (!ve)
				ve = rend;
			else
				bind_text(sr, 14, ve + 1, (size_t)(rend - ve - 1));
			bind_text(sr, 15, sp + 1, (size_t)(ve - sp - 1));
			q = memchr(sp + 1, '?', (size_t)(ve - sp - 1));
			bind_text(sr, 12, sp + 1, (size_t)((q ? q : ve) - sp - 1));
			if (q)
				bind_text(sr, 13, q + 1, (size_t)(ve - q - 1));
		}
	} else {
		/* Tw/Tc/Tt bytes term conns queues */
		bind_slashed(sr, 17, 2, t[4]);
		p = memrchr(t[4].p, '/', t[4].len);
		if (p)
			sqlite3_bind_int64(sr, 20, num(p + 1, t[4].p + t[4].len, NULL));
		sqlite3_bind_int64(sr, 21, num(t[5].p, t[5].p + t[5].len, NULL));
		bind_text(sr, 8, t[6].p, t[6].len);
		bind_slashed(sr, 22, 5, t[7]);
		bind_slashed(sr, 27, 2, t[8]);
	}
	rc = sqlite3_step(sr) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(sr);
	sqlite3_clear_bindings(sr);
	return rc;
}

int main(int argc, char **argv)
{
	const char *dbpath = NULL, *in = "-";
	sqlite3 *db = NULL;
	sqlite3_stmt *sl = NULL, *sr = NULL;
	FILE *fp = stdin;
	char *line = NULL;
	size_t cap = 0, pending = 0;
	uint64_t rows = 0;
	int64_t batch = 10000, page = 0;
	const char *journal = "wal";
	char pragma[96];
	ssize_t got;
	int i, rc = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
			dbpath = argv[++i];
		} else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
			if (parse_int64(argv[++i], 1, 100000000, &batch) < 0) {
				fprintf(stderr, "sqlceiling: --batch wants a number >= 1\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--journal") == 0 && i + 1 < argc) {
			journal = argv[++i];
			if (strspn(journal, "abcdefghijklmnopqrstuvwxyz") != strlen(journal)) {
				fprintf(stderr, "sqlceiling: --journal wants a journal mode name\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--page-size") == 0 && i + 1 < argc) {
			if (parse_int64(argv[++i], 512, 65536, &page) < 0) {
				fprintf(stderr, "sqlceiling: --page-size wants 512..65536\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--raw-only") == 0) {
			sc_raw_only = 1;
		} else if (strcmp(argv[i], "--compact") == 0) {
			sc_compact = 1;
		} else if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc) {
			if (parse_int64(argv[++i], 1, 100000, &sc_chunk) < 0) {
				fprintf(stderr, "sqlceiling: --chunk wants 1..100000\n");
				return 2;
			}
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "usage: sqlceiling --db FILE [--batch N] [--journal MODE] "
					"[--page-size N] [--raw-only] [--compact] [--chunk N] [FILE|-]\n");
			return 2;
		} else {
			in = argv[i];
		}
	}
	if (!dbpath) {
		fprintf(stderr, "usage: sqlceiling --db FILE [--batch N] [--journal MODE] "
				"[--page-size N] [--raw-only] [--compact] [--chunk N] [FILE|-]\n");
		return 2;
	}
	if (strcmp(in, "-") != 0 && !(fp = fopen(in, "r"))) {
		fprintf(stderr, "sqlceiling: cannot open '%s': %s\n", in, strerror(errno));
		return 1;
	}
	if (unlink(dbpath) == -1 && errno != ENOENT) {
		fprintf(stderr, "sqlceiling: cannot remove '%s': %s\n", dbpath, strerror(errno));
		goto out;
	}
	if (page)
		snprintf(pragma, sizeof(pragma), "PRAGMA page_size=%lld;PRAGMA journal_mode=%s;",
			 (long long)page, journal);
	else
		snprintf(pragma, sizeof(pragma), "PRAGMA journal_mode=%s;", journal);
	if (sqlite3_open(dbpath, &db) != SQLITE_OK ||
	    sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, sc_pragmas, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, sc_schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, sc_schema_compact, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, sc_schema_chunks, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO chunks(first_line, n, raw) VALUES(?1, ?2, ?3)", -1,
			       &sc_chunk_stmt, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sc_ins_line, -1, &sl, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sc_compact ? sc_ins_compact : sc_ins_req, -1, &sr, NULL) !=
		    SQLITE_OK)
		goto dberr;
	while ((got = getline(&line, &cap, fp)) > 0) {
		size_t len = (size_t)got;

		if (line[len - 1] == '\n')
			len--;
		if (len > SC_LINE_MAX)
			len = SC_LINE_MAX;
		if (!pending && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			goto dberr;
		if (store_line(db, sl, sr, line, len, 1764547200000LL) < 0)
			goto dberr;
		rows++;
		if (++pending == (size_t)batch) {
			if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
				goto dberr;
			pending = 0;
		}
	}
	if (ferror(fp)) {
		fprintf(stderr, "sqlceiling: read error: %s\n", strerror(errno));
		goto out;
	}
	if (sc_chunk_lines) {
		if (!pending && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			goto dberr;
		if (flush_chunk() < 0)
			goto dberr;
		pending = 1;
	}
	if (pending && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto dberr;
	printf("rows %llu\n", (unsigned long long)rows);
	rc = 0;
	goto out;
dberr:
	fprintf(stderr, "sqlceiling: %s: %s\n", dbpath, db ? sqlite3_errmsg(db) : "cannot open");
out:
	sqlite3_finalize(sl);
	sqlite3_finalize(sr);
	sqlite3_finalize(sc_chunk_stmt);
	sqlite3_close(db);
	strbuf_release(&sc_chunk_buf);
	free(line);
	if (fp != stdin)
		fclose(fp);
	return rc;
}
