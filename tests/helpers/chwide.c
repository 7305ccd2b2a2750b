/* chwide: the lines of a file as rows of halog's ClickHouse schema 2 (the wide rows every halog
 * wrote before schema 3), to test that an older database and an older spool still read.
 * usage: chwide columns        the wide table's columns with their types
 *        chwide names          their names, as an INSERT lists them
 *        chwide rows FILE MS   one RowBinary row a line of FILE, received at MS, MS+1, …
 *        chwide spool FILE MS  the same rows as the one batch of a sink's spool file of that
 *                              halog (chsink.c: "HALOGCH1", then a "CHB1" record), on stdout
 * Linked with halog's modules (Makefile). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/logparse.h"
#include "store/chschema.h"

static void put(struct strbuf *sb, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		strbuf_addch(sb, (int)(unsigned char)(v >> (8 * i)));
}

static int rows(const char *path, const char *ms, int spool)
{
	struct strbuf all = STRBUF_INIT, offs = STRBUF_INIT, hdr = STRBUF_INIT;
	char err[256], source[4200], *line = NULL, *end;
	struct logparser *lp = logparser_new(NULL, err, sizeof(err));
	struct strbuf out = STRBUF_INIT;
	long long recv = strtoll(ms, &end, 10);
	size_t cap = 0;
	ssize_t n;
	uint32_t seq = 0;
	FILE *fp = fopen(path, "r");

	if (!fp || !lp || *end) {
		fprintf(stderr, "chwide: cannot read '%s'\n", path);
		return 1;
	}
	snprintf(source, sizeof(source), "file:%s", path);
	while ((n = getline(&line, &cap, fp)) > 0) {
		struct logrec rec;
		struct store_msg m;
		struct chrow_id id = {UINT64_C(0x5eed0002), seq++, 0};

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		m.raw = line;
		m.len = (size_t)n;
		m.recv_ms = recv++;
		m.source = source;
		m.flags = 0;
		logparse_message(lp, line, (size_t)n, &rec);
		id.ts_ms = ch_logged_ms(&m, &rec);
		strbuf_reset(&out);
		put(&offs, all.len, 4);
		if (chrow_encode_fmt(&out, ch_fmt_wide, &id, &m, &rec) < 0 ||
		    strbuf_add(&all, out.buf, out.len) < 0)
			return 1;
	}
	if (spool) {
		strbuf_add(&hdr, "HALOGCH1", 8);
		put(&hdr, 16, 8); /* the first record to send */
		put(&hdr, 0x31424843u, 4);
		put(&hdr, seq, 4);
		put(&hdr, UINT64_C(0x5eed0002), 8);
		put(&hdr, (uint64_t)(recv - seq), 8);
		put(&hdr, (uint64_t)(recv - 1), 8);
		put(&hdr, 0, 4); /* not attempted */
		put(&hdr, all.len, 4);
		put(&hdr, 0, 4); /* seq0 */
		fwrite(hdr.buf, 1, hdr.len, stdout);
		fwrite(offs.buf, 1, offs.len, stdout);
	}
	fwrite(all.buf, 1, all.len, stdout);
	strbuf_release(&all);
	strbuf_release(&offs);
	strbuf_release(&hdr);
	free(line);
	fclose(fp);
	strbuf_release(&out);
	logparser_free(lp);
	return 0;
}

int main(int argc, char **argv)
{
	struct strbuf sql = STRBUF_INIT;

	if (argc == 2 && !strcmp(argv[1], "columns")) {
		ch_col_defs(ch_fmt_wide, &sql);
		puts(sql.buf);
		strbuf_release(&sql);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "names")) {
		puts(ch_fmt_wide->cols);
		return 0;
	}
	if (argc == 4 && (!strcmp(argv[1], "rows") || !strcmp(argv[1], "spool")))
		return rows(argv[2], argv[3], !strcmp(argv[1], "spool"));
	fprintf(stderr, "usage: chwide columns | names | rows FILE MS | spool FILE MS\n");
	return 2;
}
