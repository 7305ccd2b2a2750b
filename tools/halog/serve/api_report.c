/* /api/report: `halog report` for a time window and a frontend or backend, as the HTML page of
 * `halog report --format html` (the same writer, with its table counts linked into the search of
 * the page) or as the JSON of `--format json`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "report/report.h"
#include "report/report_html.h"
#include "serve/sdata.h"
#include "serve/server.h"
#include "store/read.h"

#define REPORT_WAIT_MS 2000

static const char *const report_args[] = {"since", "until", "frontend", "backend", "format",
					  NULL};

int api_report(struct sreq *r, struct sresp *o)
{
	struct report_opts ro = {.since_ms = LR_NONE, .until_ms = LR_NONE, .check_balance = -1};
	static const struct report_html_opts hopts = {"/#search"};
	int64_t now = clock_wall_ms(), since, until;
	const char *format = sreq_arg(r, "format");
	struct report rep;
	struct store_reader *c;
	char err[512];
	int busy, html, built = 0;

	if (sreq_only_args(r, report_args, o) < 0 ||
	    sreq_time(r, "since", now, LR_NONE, &since, o) < 0 ||
	    sreq_time(r, "until", now, LR_NONE, &until, o) < 0)
		return 0;
	if (!format || !strcmp(format, "html"))
		html = 1;
	else if (!strcmp(format, "json"))
		html = 0;
	else
		return sresp_error(o, 400, "parameter 'format': 'html' or 'json'");
	if (since != LR_NONE && until != LR_NONE && until <= since)
		return sresp_error(o, 400, "'until' is not after 'since'");
	ro.since_ms = since;
	ro.until_ms = until;
	ro.frontend = sreq_arg(r, "frontend");
	ro.backend = sreq_arg(r, "backend");
	if (ro.frontend && !*ro.frontend)
		ro.frontend = NULL;
	if (ro.backend && !*ro.backend)
		ro.backend = NULL;
	c = sdata_get(r->srv->pool, REPORT_WAIT_MS, &busy, err, sizeof(err));
	if (!c)
		return sresp_error(o, busy ? 503 : 500, "%s", err);
	if (report_build(c, &ro, &rep, err, sizeof(err))) {
		if (store_reader_timed_out(c))
			sresp_error(o, 503,
				    "the report ran over its time limit (%lld ms): narrow the time "
				    "range",
				    (long long)r->srv->o->query_ms);
		else
			sresp_error(o, 500, "report: %s", err);
		goto out;
	}
	built = 1;
	if (html) {
		if (report_html_page(c, &rep, &hopts, &o->body, err, sizeof(err))) {
			sresp_error(o, store_reader_timed_out(c) ? 503 : 500, "report: %s", err);
			goto out;
		}
		o->ctype = "text/html; charset=utf-8";
		o->kind = SRESP_REPORT;
	} else {
		char *buf = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&buf, &len);
		int bad = !fp || report_write(&rep, REPORT_JSON, fp) != 0;

		if (fp && fclose(fp))
			bad = 1;
		if (bad || strbuf_add(&o->body, buf, len) < 0)
			sresp_error(o, 500, "report: %s", strerror(errno ? errno : ENOMEM));
		else
			sresp_json(o, 0);
		free(buf);
	}
out:
	if (built)
		report_release(&rep);
	sdata_put(r->srv->pool, c);
	return 0;
}
