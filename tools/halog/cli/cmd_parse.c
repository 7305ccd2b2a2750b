/* `halog parse`: runs the log parser over lines of files or stdin and prints what it found,
 * as key=value lines or JSON lines. Nothing is stored; this is the parser's test bench. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "json.h"
#include "parse/logparse.h"
#include "opt.h"
#include "strbuf.h"

#define PARSE_LINE_MAX (16u << 20) /* longer lines are cut here (the rest is skipped) */

enum { O_LOG_FORMAT = 1, O_JSON, O_NOW };

static const struct opt parse_opts[] = {
	{.id = O_LOG_FORMAT,
	 .long_name = "log-format",
	 .type = OPT_STR,
	 .arg = "STR",
	 .help = "the HAProxy log-format of the traffic lines, or a preset name:\n"
		 "httplog, httpslog, tcplog, clf (default: auto-detection)"},
	{.id = O_JSON,
	 .long_name = "json",
	 .type = OPT_FLAG,
	 .help = "one JSON object per line, keys in a fixed order"},
	{.id = O_NOW,
	 .long_name = "now",
	 .type = OPT_INT,
	 .arg = "MS",
	 .min = 1,
	 .max = 253402300799999, /* 9999-12-31T23:59:59.999Z */
	 .help = "the current time (unix ms) used to choose the year of syslog\n"
		 "dates on lines without a body date (default: the clock)"},
	{0},
};

static const struct opt_cmd parse_cmd = {
	.prog = "halog parse",
	.operands = "[FILE...|-]",
	.intro = "Parses each line (one syslog message) and prints its kind, status, reason and "
		 "every\n"
		 "field found. Without FILE, reads stdin.\n",
	.opts = parse_opts,
	.epilog = "exit: 0 every line was read (parsed or not), 1 I/O error, 2 usage error\n",
};

struct out_ctx {
	struct strbuf sb;
	int json;
	int first;
	const char *file; /* NULL unless several inputs */
	unsigned long line;
};

static void key(struct out_ctx *o, const char *k)
{
	if (o->json) {
		if (!o->first)
			strbuf_addch(&o->sb, ',');
		json_add_key(&o->sb, k);
	} else {
		if (!o->first)
			strbuf_addch(&o->sb, ' ');
		strbuf_addstr(&o->sb, k);
		strbuf_addch(&o->sb, '=');
	}
	o->first = 0;
}

/* A key=value value, unambiguous (docs/halog-parse.md): bare when it is not empty and every
 * byte is printable (UTF-8 included) and none is a space, a double quote, a backslash or '=';
 * otherwise between double quotes, where backslash-quote is a quote, two backslashes are one,
 * backslash n, r, t are LF, CR and tab, and backslash xHH any other byte that is not
 * printable. A reader splits a line at the spaces outside quotes, and every value reads back
 * to its bytes. */
static void kv_value(struct strbuf *sb, const char *p, size_t n)
{
	size_t start = sb->len, i;

	text_add_visible(sb, p, n);
	if (n && sb->len - start == n && !memchr(p, ' ', n) && !memchr(p, '"', n) &&
	    !memchr(p, '\\', n) && !memchr(p, '=', n))
		return; /* printable as it is */
	strbuf_setlen(sb, start);
	strbuf_addch(sb, '"');
	for (i = 0; i < n;) {
		size_t j = i;

		while (j < n && p[j] != '"' && p[j] != '\\')
			j++;
		text_add_visible(sb, p + i, j - i);
		if (j < n) {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, p[j]);
			j++;
		}
		i = j;
	}
	strbuf_addch(sb, '"');
}

static void put_str(struct out_ctx *o, const char *k, const char *p, size_t n)
{
	key(o, k);
	if (o->json) {
		json_add_str(&o->sb, p, n);
		return;
	}
	kv_value(&o->sb, p, n);
}

static void put_cstr(struct out_ctx *o, const char *k, const char *s)
{
	put_str(o, k, s, strlen(s));
}

static void put_lr(struct out_ctx *o, const char *k, const struct lr_str *s)
{
	if (s->p)
		put_str(o, k, s->p, s->len);
}

static void put_i64(struct out_ctx *o, const char *k, int64_t v)
{
	if (v == LR_NONE)
		return;
	key(o, k);
	strbuf_addf(&o->sb, "%" PRId64, v);
}

static void put_timer(struct out_ctx *o, const char *k, int32_t v)
{
	if (v == LR_TIMER_NONE)
		return;
	key(o, k);
	strbuf_addf(&o->sb, "%" PRId32, v);
}

static void put_flags(struct out_ctx *o, uint32_t f)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{LR_F_SSL, "ssl"},
		{LR_F_LOGASAP, "logasap"},
		{LR_F_REDISPATCH, "redispatch"},
		{LR_F_TRUNCATED, "truncated"},
		{LR_F_BADREQ, "badreq"},
		{LR_F_SPECIAL_SRV, "special_srv"},
		{LR_F_NOT_ROUTED, "not_routed"},
		{LR_F_CLF, "clf"},
	};
	int n = 0;

	if (!f)
		return;
	key(o, "flags");
	strbuf_addstr(&o->sb, o->json ? "[" : "");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(f & names[i].bit))
			continue;
		if (n++)
			strbuf_addch(&o->sb, ',');
		if (o->json)
			json_add_str(&o->sb, names[i].name, strlen(names[i].name));
		else
			strbuf_addstr(&o->sb, names[i].name);
	}
	if (o->json)
		strbuf_addch(&o->sb, ']');
}

static const char *status_name(enum lr_status s)
{
	switch (s) {
	case LR_OK:
		return "ok";
	case LR_PARTIAL:
		return "partial";
	case LR_BAD:
		return "bad";
	}
	return "unknown";
}

static void print_rec(struct out_ctx *o, const struct logrec *r)
{
	strbuf_reset(&o->sb);
	o->first = 1;
	if (o->json)
		strbuf_addch(&o->sb, '{');
	if (o->file)
		put_cstr(o, "file", o->file);
	key(o, "line");
	strbuf_addf(&o->sb, "%lu", o->line);
	put_cstr(o, "kind", lr_kind_name(r->kind));
	put_cstr(o, "status", status_name(r->status));
	if (r->reason)
		put_cstr(o, "reason", r->reason);
	put_cstr(o, "framing", lr_framing_name(r->framing));
	if (r->pri >= 0)
		put_i64(o, "pri", r->pri);
	put_i64(o, "syslog_ms", r->syslog_ms);
	put_lr(o, "host", &r->host);
	put_lr(o, "tag", &r->tag);
	put_i64(o, "pid", r->pid);
	put_lr(o, "sd", &r->sd);
	put_lr(o, "body", &r->body);
	put_flags(o, r->flags);
	put_lr(o, "client_ip", &r->client_ip);
	put_i64(o, "client_port", r->client_port);
	put_i64(o, "ts_ms", r->ts_ms);
	put_lr(o, "frontend", &r->frontend);
	put_lr(o, "bind", &r->bind);
	put_lr(o, "backend", &r->backend);
	put_lr(o, "server", &r->server);
	put_timer(o, "t_req", r->t_req);
	put_timer(o, "t_wait", r->t_wait);
	put_timer(o, "t_connect", r->t_connect);
	put_timer(o, "t_resp", r->t_resp);
	put_timer(o, "t_active", r->t_active);
	put_i64(o, "status_code", r->status_code);
	put_i64(o, "bytes_read", r->bytes_read);
	put_i64(o, "bytes_uploaded", r->bytes_uploaded);
	put_lr(o, "cookie_req", &r->cookie_req);
	put_lr(o, "cookie_resp", &r->cookie_resp);
	if (r->term[0])
		put_cstr(o, "term", r->term);
	put_i64(o, "actconn", r->actconn);
	put_i64(o, "feconn", r->feconn);
	put_i64(o, "beconn", r->beconn);
	put_i64(o, "srv_conn", r->srv_conn);
	put_i64(o, "retries", r->retries);
	put_i64(o, "srv_queue", r->srv_queue);
	put_i64(o, "backend_queue", r->backend_queue);
	put_lr(o, "cap_req", &r->cap_req);
	put_lr(o, "cap_resp", &r->cap_resp);
	put_lr(o, "request", &r->request);
	put_lr(o, "method", &r->method);
	put_lr(o, "uri", &r->uri);
	put_lr(o, "path", &r->path);
	put_lr(o, "query", &r->query);
	put_lr(o, "version", &r->version);
	put_lr(o, "ssl_sni", &r->ssl_sni);
	put_lr(o, "ssl_version", &r->ssl_version);
	put_lr(o, "ssl_cipher", &r->ssl_cipher);
	put_lr(o, "ssl_errors", &r->ssl_errors);
	put_lr(o, "unique_id", &r->unique_id);
	put_lr(o, "dst_ip", &r->dst_ip);
	put_i64(o, "dst_port", r->dst_port);
	put_lr(o, "mode", &r->mode);
	put_lr(o, "message", &r->message);
	put_lr(o, "ev_proxy", &r->ev_proxy);
	put_lr(o, "ev_server", &r->ev_server);
	put_lr(o, "ev_state", &r->ev_state);
	put_lr(o, "ev_reason", &r->ev_reason);
	put_lr(o, "ev_info", &r->ev_info);
	put_timer(o, "ev_check_ms", r->ev_check_ms);
	if (r->ev_backup)
		put_i64(o, "ev_backup", r->ev_backup);
	put_i64(o, "ev_active_left", r->ev_active_left);
	put_i64(o, "ev_backup_left", r->ev_backup_left);
	if (o->json)
		strbuf_addch(&o->sb, '}');
	strbuf_addch(&o->sb, '\n');
	fwrite(o->sb.buf, 1, o->sb.len, stdout);
}

/* Reads fp line by line (lines may hold NULs; a line longer than PARSE_LINE_MAX is cut there)
 * and prints each. Returns 0, or -1 on a read error (errno set). */
static int parse_stream(const struct logparser *lp, FILE *fp, struct out_ctx *o)
{
	struct strbuf line = STRBUF_INIT;
	char chunk[65536];
	size_t n;
	int over = 0, rc = 0;
	struct logrec rec;

	o->line = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		const char *p = chunk, *e = chunk + n;

		while (p < e) {
			const char *nl = memchr(p, '\n', (size_t)(e - p));
			const char *end = nl ? nl : e;
			size_t take = (size_t)(end - p);

			if (!over) {
				if (line.len + take > PARSE_LINE_MAX) {
					take = PARSE_LINE_MAX - line.len;
					over = 1;
				}
				if (strbuf_add(&line, p, take) < 0) {
					errno = ENOMEM;
					rc = -1;
					goto out;
				}
			}
			if (!nl)
				break;
			o->line++;
			logparse_message(lp, line.buf, line.len, &rec);
			print_rec(o, &rec);
			strbuf_reset(&line);
			over = 0;
			p = nl + 1;
		}
	}
	if (ferror(fp)) {
		rc = -1;
		goto out;
	}
	if (line.len > 0) {
		o->line++;
		logparse_message(lp, line.buf, line.len, &rec);
		print_rec(o, &rec);
	}
out:
	strbuf_release(&line);
	return rc;
}

int cmd_parse(int argc, char **argv)
{
	const char *fmt = NULL;
	struct out_ctx o = {STRBUF_INIT, 0, 1, NULL, 0};
	struct logparser *lp;
	char err[256];
	int r, nfiles, rc = HALOG_EXIT_OK;
	struct opt_parser p;
	int64_t now_ms = 0;

	opt_init(&p, &parse_cmd, argc, argv);
	while ((r = opt_next(&p)) != OPT_DONE) {
		switch (r) {
		case O_LOG_FORMAT:
			fmt = p.val;
			break;
		case O_JSON:
			o.json = 1;
			break;
		case O_NOW:
			now_ms = p.num;
			break;
		case OPT_OPERAND:
			break;
		default:
			return opt_finish(&p, r, stdout, stderr);
		}
	}
	err[0] = 0;
	lp = logparser_new(fmt, err, sizeof(err));
	if (!lp) {
		return opt_value_error(&parse_cmd, stderr, "--log-format", fmt, "%s", err);
	}
	if (now_ms)
		logparser_set_now(lp, now_ms);
	nfiles = p.noperands;
	if (nfiles == 0) {
		if (parse_stream(lp, stdin, &o) < 0) {
			fprintf(stderr, "halog parse: stdin: %s\n", strerror(errno));
			rc = HALOG_EXIT_ERR;
		}
	}
	for (int i = 0; i < nfiles; i++) {
		const char *path = p.operands[i];
		int is_stdin = !strcmp(path, "-");
		FILE *fp = is_stdin ? stdin : fopen(path, "rb");

		if (!fp) {
			fprintf(stderr, "halog parse: %s: %s\n", path, strerror(errno));
			rc = HALOG_EXIT_ERR;
			continue;
		}
		o.file = nfiles > 1 ? path : NULL;
		if (parse_stream(lp, fp, &o) < 0) {
			fprintf(stderr, "halog parse: %s: %s\n", path, strerror(errno));
			rc = HALOG_EXIT_ERR;
		}
		if (!is_stdin)
			fclose(fp);
	}
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "halog parse: stdout: %s\n", strerror(errno));
		rc = HALOG_EXIT_ERR;
	}
	strbuf_release(&o.sb);
	logparser_free(lp);
	return rc;
}
