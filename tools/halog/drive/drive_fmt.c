/* The writers of `halog drive` (drive_fmt.h). Names from the log or the answers are made
 * terminal-safe in text, CSV and Markdown, and escaped in JSON. */
#include "drive/drive_fmt.h"

#include "lazylib.h"
#include <errno.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "parse.h"

static void add_status_list(struct strbuf *sb, const struct drive_stats *st)
{
	int first = 1;

	for (int code = 100; code < 600; code++) {
		if (!st->by_status[code])
			continue;
		strbuf_addf(sb, "%s%d: %ld", first ? "" : ", ", code, st->by_status[code]);
		first = 0;
	}
	for (size_t i = 0; i < st->nerrs; i++) {
		strbuf_addf(sb, "%sno answer (%s): %ld", first ? "" : ", ",
			    curl_easy_strerror((CURLcode)st->errs[i].code), st->errs[i].n);
		first = 0;
	}
}

static void vis(struct strbuf *sb, const char *s)
{
	text_add_visible(sb, s, strlen(s));
}

int drive_summary_line(struct strbuf *sb, const struct drive_out *o)
{
	const struct drive_stats *st = o->st;
	int64_t logged = o->logged;

	strbuf_addf(sb, "drive: sent %ld, ok %ld, failed %ld (", st->sent, st->ok, st->failed);
	add_status_list(sb, st);
	strbuf_addch(sb, ')');
	if (o->db) {
		strbuf_addf(sb, ", logged %lld of %ld", (long long)(logged < 0 ? 0 : logged),
			    st->sent);
		if (logged > st->sent)
			strbuf_addf(sb, " (%lld more from other clients)",
				    (long long)(logged - st->sent));
	}
	return strbuf_addf(sb, ", in %.2f s\n", (double)(st->end_ms - st->start_ms) / 1000.0);
}

static void ms_col(struct strbuf *sb, int32_t v)
{
	if (v < 0)
		strbuf_addf(sb, " %6s", "-");
	else
		strbuf_addf(sb, " %6d", v);
}

static void fmt_clock(int64_t ms, char *buf, size_t sz)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, sz, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ms % 1000));
}

static void verdict_line(struct strbuf *sb, const struct drive_verdict *v, double tol,
			 const char *what)
{
	strbuf_addf(sb, "balance %s", what);
	if (v->backend) {
		strbuf_addch(sb, ' ');
		vis(sb, v->backend);
	}
	if (v->gap) {
		const char *why = v->gap == DRIVE_GAP_UNLISTED ? "not in the inventory"
							       : "no traffic in this run";
		if (v->result < 0)
			strbuf_addf(sb, ": not checked (%s, allowed)\n", why);
		else
			strbuf_addf(sb, ": FAILED, %s\n", why);
		return;
	}
	if (v->result < 0) {
		strbuf_addstr(sb, ": not checked (no requests, or no weight to compare with)\n");
		return;
	}
	strbuf_addf(sb, ": %s, largest deviation %.1f points", v->result ? "ok" : "FAILED",
		    v->max_dev);
	if (v->worst) {
		strbuf_addstr(sb, " (");
		vis(sb, v->worst);
		strbuf_addch(sb, ')');
	}
	strbuf_addf(sb, ", tolerance %g\n", tol);
}

static void print_text(struct strbuf *sb, const struct drive_out *o)
{
	const struct drive_stats *st = o->st;
	const struct drive_xshare *xs = o->xs;
	const struct drive_verdict *xv = o->xv, *v = o->v;
	const struct drive_window *w = o->w;
	size_t nxs = o->nxs, nv = o->nv;

	drive_summary_line(sb, o);
	if (!o->quiet) {
		strbuf_addstr(sb, "answered by (X-Server):\n");
		for (size_t i = 0; i < st->nservers; i++) {
			const struct drive_server *s = &st->servers[i];
			size_t before = sb->len;

			strbuf_addstr(sb, "  ");
			vis(sb, s->name);
			while (sb->len - before < 22)
				strbuf_addch(sb, ' ');
			strbuf_addf(sb, " %7ld  %5.1f%%", s->n,
				    st->answered ? 100.0 * (double)s->n / (double)st->answered
						 : 0.0);
			if (s->ok != s->n)
				strbuf_addf(sb, "  (%ld not ok)", s->n - s->ok);
			strbuf_addch(sb, '\n');
		}
		if (!st->nservers)
			strbuf_addstr(sb, "  (nobody)\n");
		if (st->nlat)
			strbuf_addf(sb,
				    "client latency: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max "
				    "%.1f ms\n",
				    drive_percentile(st, 50) / 1000.0,
				    drive_percentile(st, 95) / 1000.0,
				    drive_percentile(st, 99) / 1000.0,
				    st->lat_us[st->nlat - 1] / 1000.0);
	}
	if (xv) {
		verdict_line(sb, xv, o->tol, "by X-Server");
		for (size_t i = 0; i < nxs && (!o->quiet || !xv->result); i++) {
			if (o->quiet && !xs[i].bad)
				continue;
			strbuf_addstr(sb, "  ");
			vis(sb, xs[i].name);
			strbuf_addf(sb,
				    ": %ld requests, %.1f%% (expected %.1f%%, %+.1f points)%s\n",
				    xs[i].n, xs[i].share, xs[i].expected, xs[i].deviation,
				    xs[i].bad ? "  OUT OF TOLERANCE" : "");
		}
	}
	if (w && !o->quiet) {
		char a[32], b[32];

		fmt_clock(st->start_ms, a, sizeof(a));
		fmt_clock(st->end_ms, b, sizeof(b));
		strbuf_addf(sb, "stored in %s for %s .. %s UTC (this run only):\n", o->db, a, b);
		strbuf_addf(sb, "  %-12s %-10s %6s %6s %6s %6s %5s %5s %5s %5s %6s %6s %6s\n",
			    "backend", "server", "reqs", "share", "expect", "2xx3xx", "4xx", "5xx",
			    "retry", "redis", "Ta p50", "p95", "max");
		for (size_t i = 0; i < w->n; i++) {
			const struct drive_row *r = &w->rows[i];
			size_t before = sb->len;

			strbuf_addstr(sb, "  ");
			vis(sb, r->backend);
			while (sb->len - before < 14)
				strbuf_addch(sb, ' ');
			strbuf_addch(sb, ' ');
			before = sb->len;
			vis(sb, r->server);
			while (sb->len - before < 10)
				strbuf_addch(sb, ' ');
			strbuf_addf(sb, " %6ld", r->n);
			if (r->special)
				strbuf_addf(sb, " %6s %6s", "-", "-");
			else if (!r->checked)
				strbuf_addf(sb, " %5.1f%% %6s", r->share, "-");
			else
				strbuf_addf(sb, " %5.1f%% %5.1f%%", r->share, r->expected);
			strbuf_addf(sb, " %6ld %5ld %5ld %5ld %5ld", r->ok, r->c4xx, r->c5xx,
				    r->retried, r->redisp);
			ms_col(sb, r->p50);
			ms_col(sb, r->p95);
			ms_col(sb, r->max);
			if (r->out)
				strbuf_addstr(sb, "  <- out of tolerance");
			strbuf_addch(sb, '\n');
		}
		if (!w->n)
			strbuf_addstr(sb, "  (no rows)\n");
	}
	for (size_t i = 0; i < nv; i++)
		verdict_line(sb, &v[i], o->tol, "by inventory for");
}

static void json_share(struct strbuf *sb, const struct drive_xshare *s)
{
	strbuf_addstr(sb, "{\"name\":");
	json_add_str(sb, s->name, strlen(s->name));
	strbuf_addf(sb, ",\"n\":%ld,\"share\":", s->n);
	json_add_double(sb, s->share, 2);
	strbuf_addstr(sb, ",\"expected\":");
	json_add_double(sb, s->expected, 2);
	strbuf_addstr(sb, ",\"deviation\":");
	json_add_double(sb, s->deviation, 2);
	strbuf_addf(sb, ",\"ok\":%s}", s->bad ? "false" : "true");
}

static void json_verdict(struct strbuf *sb, const struct drive_verdict *v)
{
	strbuf_addstr(sb, "{\"backend\":");
	if (v->backend)
		json_add_str(sb, v->backend, strlen(v->backend));
	else
		strbuf_addstr(sb, "null");
	strbuf_addf(sb, ",\"result\":\"%s\",\"max_deviation\":",
		    v->result < 0 ? "unchecked"
		    : v->result	  ? "ok"
				  : "failed");
	json_add_double(sb, v->max_dev, 2);
	strbuf_addstr(sb, ",\"worst\":");
	if (v->worst)
		json_add_str(sb, v->worst, strlen(v->worst));
	else
		strbuf_addstr(sb, "null");
	if (v->gap)
		strbuf_addstr(sb, v->gap == DRIVE_GAP_UNLISTED ? ",\"reason\":\"unlisted\""
							       : ",\"reason\":\"idle\"");
	strbuf_addch(sb, '}');
}

static void print_json(struct strbuf *sb, const struct drive_out *o)
{
	const struct drive_stats *st = o->st;
	const struct drive_xshare *xs = o->xs;
	const struct drive_verdict *xv = o->xv, *v = o->v;
	const struct drive_window *w = o->w;
	size_t nxs = o->nxs, nv = o->nv;
	int64_t logged = o->logged;
	int first = 1;

	strbuf_addstr(sb, "{\"url\":");
	json_add_str(sb, o->url, strlen(o->url));
	strbuf_addf(sb,
		    ",\"start_ms\":%lld,\"end_ms\":%lld,\"sent\":%ld,\"answered\":%ld,"
		    "\"ok\":%ld,\"failed\":%ld",
		    (long long)st->start_ms, (long long)st->end_ms, st->sent, st->answered, st->ok,
		    st->failed);
	if (o->db)
		strbuf_addf(sb, ",\"logged\":%lld", (long long)(logged < 0 ? 0 : logged));
	strbuf_addstr(sb, ",\"by_status\":{");
	for (int code = 100; code < 600; code++) {
		if (!st->by_status[code])
			continue;
		strbuf_addf(sb, "%s\"%d\":%ld", first ? "" : ",", code, st->by_status[code]);
		first = 0;
	}
	strbuf_addstr(sb, "},\"no_answer\":{");
	for (size_t i = 0; i < st->nerrs; i++) {
		const char *e = curl_easy_strerror((CURLcode)st->errs[i].code);

		if (i)
			strbuf_addch(sb, ',');
		json_add_str(sb, e, strlen(e));
		strbuf_addf(sb, ":%ld", st->errs[i].n);
	}
	strbuf_addstr(sb, "},\"servers\":[");
	for (size_t i = 0; i < st->nservers; i++) {
		strbuf_addf(sb, "%s{\"name\":", i ? "," : "");
		json_add_str(sb, st->servers[i].name, strlen(st->servers[i].name));
		strbuf_addf(sb, ",\"n\":%ld,\"ok\":%ld}", st->servers[i].n, st->servers[i].ok);
	}
	strbuf_addstr(sb, "]");
	if (st->nlat) {
		strbuf_addstr(sb, ",\"latency_ms\":{\"p50\":");
		json_add_double(sb, drive_percentile(st, 50) / 1000.0, 3);
		strbuf_addstr(sb, ",\"p95\":");
		json_add_double(sb, drive_percentile(st, 95) / 1000.0, 3);
		strbuf_addstr(sb, ",\"p99\":");
		json_add_double(sb, drive_percentile(st, 99) / 1000.0, 3);
		strbuf_addstr(sb, ",\"max\":");
		json_add_double(sb, st->lat_us[st->nlat - 1] / 1000.0, 3);
		strbuf_addch(sb, '}');
	}
	if (xv) {
		strbuf_addstr(sb, ",\"balance_by_x_server\":");
		json_verdict(sb, xv);
		strbuf_setlen(sb, sb->len - 1);
		strbuf_addstr(sb, ",\"members\":[");
		for (size_t i = 0; i < nxs; i++) {
			if (i)
				strbuf_addch(sb, ',');
			json_share(sb, &xs[i]);
		}
		strbuf_addstr(sb, "]}");
	}
	if (w) {
		strbuf_addstr(sb, ",\"stored\":[");
		for (size_t i = 0; i < w->n; i++) {
			const struct drive_row *r = &w->rows[i];

			strbuf_addf(sb, "%s{\"backend\":", i ? "," : "");
			json_add_str(sb, r->backend, strlen(r->backend));
			strbuf_addstr(sb, ",\"server\":");
			json_add_str(sb, r->server, strlen(r->server));
			strbuf_addf(sb,
				    ",\"requests\":%ld,\"ok\":%ld,\"4xx\":%ld,\"5xx\":%ld,"
				    "\"no_status\":%ld,\"retried\":%ld,\"redispatched\":%ld,"
				    "\"ta_p50\":%d,\"ta_p95\":%d,\"ta_p99\":%d,\"ta_max\":%d",
				    r->n, r->ok, r->c4xx, r->c5xx, r->noresp, r->retried, r->redisp,
				    r->p50, r->p95, r->p99, r->max);
			if (!r->special) {
				strbuf_addstr(sb, ",\"share\":");
				json_add_double(sb, r->share, 2);
			}
			if (r->checked) {
				strbuf_addstr(sb, ",\"expected\":");
				json_add_double(sb, r->expected, 2);
			}
			strbuf_addch(sb, '}');
		}
		strbuf_addstr(sb, "],\"balance\":[");
		for (size_t i = 0; i < nv; i++) {
			if (i)
				strbuf_addch(sb, ',');
			json_verdict(sb, &v[i]);
		}
		strbuf_addch(sb, ']');
	}
	strbuf_addstr(sb, "}\n");
}

/* A name in a table (a server name comes from a response header): in Markdown escaped so it
 * stays in its cell (md_add_cell); in CSV quoted and never a formula (csv_add_cell). */
static void cell(struct strbuf *sb, const char *s, int md)
{
	if (md)
		md_add_cell(sb, s, strlen(s));
	else
		csv_add_cell(sb, s, strlen(s));
}

/* CSV and Markdown: the stored rows of the window (or the X-Server tally without --db). */
static void print_table(struct strbuf *sb, const struct drive_out *o, int md)
{
	const struct drive_stats *st = o->st;
	const struct drive_verdict *v = o->v;
	const struct drive_window *w = o->w;
	size_t nv = o->nv;
	const char *sep = md ? " | " : ",";

	if (md) {
		strbuf_addstr(sb, "**");
		drive_summary_line(sb, o);
		strbuf_setlen(sb, sb->len - 1);
		strbuf_addstr(sb, "**\n\n");
	}
	if (!w) {
		strbuf_addf(sb, "%sserver%sanswers%sok%s\n", md ? "| " : "", sep, sep,
			    md ? " |" : "");
		if (md)
			strbuf_addstr(sb, "|---|---:|---:|\n");
		for (size_t i = 0; i < st->nservers; i++) {
			strbuf_addstr(sb, md ? "| " : "");
			cell(sb, st->servers[i].name, md);
			strbuf_addf(sb, "%s%ld%s%ld%s\n", sep, st->servers[i].n, sep,
				    st->servers[i].ok, md ? " |" : "");
		}
	} else {
		strbuf_addf(sb,
			    "%sbackend%sserver%srequests%sshare%sexpected%sok%s4xx%s5xx%sretried"
			    "%sredispatched%sta_p50%sta_p95%sta_max%s\n",
			    md ? "| " : "", sep, sep, sep, sep, sep, sep, sep, sep, sep, sep, sep,
			    sep, md ? " |" : "");
		if (md)
			strbuf_addstr(sb, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|-"
					  "--:|---:|\n");
		for (size_t i = 0; i < w->n; i++) {
			const struct drive_row *r = &w->rows[i];

			strbuf_addstr(sb, md ? "| " : "");
			cell(sb, r->backend, md);
			strbuf_addstr(sb, sep);
			cell(sb, r->server, md);
			strbuf_addf(sb, "%s%ld%s", sep, r->n, sep);
			if (r->special)
				strbuf_addf(sb, "%s", sep);
			else if (r->checked)
				strbuf_addf(sb, "%.1f%s%.1f", r->share, sep, r->expected);
			else
				strbuf_addf(sb, "%.1f%s", r->share, sep);
			strbuf_addf(sb, "%s%ld%s%ld%s%ld%s%ld%s%ld%s%d%s%d%s%d%s\n", sep, r->ok,
				    sep, r->c4xx, sep, r->c5xx, sep, r->retried, sep, r->redisp,
				    sep, r->p50, sep, r->p95, sep, r->max, md ? " |" : "");
		}
		if (md)
			for (size_t i = 0; i < nv; i++) {
				if (!i)
					strbuf_addch(sb, '\n');
				verdict_line(sb, &v[i], o->tol, "by inventory for");
			}
	}
}

int drive_write(FILE *fp, enum drive_format f, const struct drive_out *o)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = 0;

	switch (f) {
	case DRIVE_TEXT:
		print_text(&sb, o);
		break;
	case DRIVE_JSON:
		print_json(&sb, o);
		break;
	case DRIVE_CSV:
	case DRIVE_MARKDOWN:
		print_table(&sb, o, f == DRIVE_MARKDOWN);
		break;
	}
	if (sb.len && fwrite(sb.buf, 1, sb.len, fp) != sb.len)
		rc = -1;
	strbuf_release(&sb);
	return rc;
}
