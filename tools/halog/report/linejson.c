/* The JSON object of a stored line; see linejson.h. */
#include "report/linejson.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"

static const char *const parse_names[] = {"ok", "partial", "bad"};

int line_json_time(struct strbuf *sb, int64_t t)
{
	time_t secs = (time_t)(t >= 0 ? t / 1000 : (t - 999) / 1000);
	int ms = (int)(t - (int64_t)secs * 1000);
	struct tm tm;
	char when[40];

	if (!gmtime_r(&secs, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(when, sizeof(when), "?");
	return strbuf_addf(sb, "\"%s.%03dZ\"", when, ms);
}

static int add_str(struct strbuf *sb, const char *key, struct lr_str v)
{
	return json_add_member_str(sb, key, v.p, v.len);
}

static int add_text(struct strbuf *sb, const char *key, const char *v)
{
	return json_add_member_str(sb, key, v, v ? strlen(v) : 0);
}

int line_json(struct strbuf *sb, const struct store_line *l, unsigned flags)
{
	const struct logrec *r = &l->rec;
	const char *kind = lr_kind_name(r->kind);
	int full = flags & LINE_JSON_FULL;
	int conn = r->kind == LR_CONNECT || r->kind == LR_CONN_ERROR;
	int rc = 0;

	rc |= strbuf_addf(sb, "{\"id\":%lld,\"recv_ms\":%lld,\"time\":", (long long)l->pos.v,
			  (long long)l->recv_ms);
	rc |= line_json_time(sb, l->recv_ms);
	rc |= add_str(sb, "source", l->source);
	rc |= add_str(sb, "host", r->host);
	rc |= add_str(sb, "program", r->tag);
	rc |= json_add_member_i64(sb, "pid", r->pid, LR_NONE);
	rc |= strbuf_addstr(sb, ",\"kind\":");
	rc |= json_add_str(sb, kind, strlen(kind));
	if (full && (unsigned)r->status <= LR_BAD) {
		rc |= strbuf_addf(sb, ",\"parse\":\"%s\"", parse_names[r->status]);
		rc |= add_text(sb, "reason", r->reason);
	}
	if (r->kind == LR_HTTP || r->kind == LR_TCP) {
		rc |= add_str(sb, "frontend", r->frontend);
		rc |= add_str(sb, "backend", r->backend);
		rc |= add_str(sb, "server", r->server);
		rc |= json_add_member_i64(sb, "status", r->status_code, LR_NONE);
		rc |= add_text(sb, "term", r->term[0] ? r->term : NULL);
		rc |= add_str(sb, "client_ip", r->client_ip);
		if (full) {
			rc |= add_str(sb, "method", r->method);
			rc |= add_str(sb, "path", r->path);
		}
	} else {
		/* an event: what it is about (a connection's frontend and bind) */
		rc |= add_str(sb, "proxy", conn ? r->frontend : r->ev_proxy);
		rc |= add_str(sb, "event_server", conn ? r->bind : r->ev_server);
		rc |= add_str(sb, "state", r->ev_state);
	}
	rc |= add_str(sb, "raw", l->raw);
	if (full) {
		struct strbuf vis = STRBUF_INIT;

		if (text_add_visible(&vis, l->raw.p ? l->raw.p : "", l->raw.len) < 0)
			rc = -1;
		rc |= strbuf_addstr(sb, ",\"text\":");
		rc |= json_add_str(sb, vis.buf, vis.len);
		strbuf_release(&vis);
	}
	rc |= strbuf_addch(sb, '}');
	return rc ? -1 : 0;
}
