/* The log parser: the framing (syslog.c), then the body, by hand-written fast paths for the
 * built-in formats and events, or by a compiled log-format (logformat.c). One pass, no
 * allocation, every read bounded by the end of the buffer. */
#include "parse/logparse.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse/logformat.h"
#include "parse/syslog.h"

struct logparser {
	int64_t tz_off_ms;    /* local time minus UTC, taken once at creation */
	struct logformat *lf; /* NULL: auto-detection */
	int64_t now_ms;	      /* 0: the clock */
};

struct logparser *logparser_new(const char *fmt, char *err, size_t errsz)
{
	struct logparser *lp = calloc(1, sizeof(*lp));
	time_t now = time(NULL);
	struct tm tm;

	if (!lp) {
		if (errsz)
			snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (localtime_r(&now, &tm))
		lp->tz_off_ms = (int64_t)tm.tm_gmtoff * 1000;
	if (fmt) {
		lp->lf = logformat_compile(fmt, err, errsz);
		if (!lp->lf) {
			free(lp);
			return NULL;
		}
	}
	return lp;
}

void logparser_set_now(struct logparser *lp, int64_t now_ms)
{
	lp->now_ms = now_ms;
}

void logparser_free(struct logparser *lp)
{
	if (!lp)
		return;
	logformat_free(lp->lf);
	free(lp);
}

/* ---------------------------------------------------------------------------------------- */

static inline int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline void set_str(struct lr_str *s, const char *p, const char *e)
{
	s->p = p;
	s->len = (uint32_t)(e - p);
}

/* A field that may be "-" (absent). */
static inline void set_opt(struct lr_str *s, const char *p, const char *e)
{
	if (e - p == 1 && *p == '-')
		return;
	set_str(s, p, e);
}

static inline const char *tok_end(const char *p, const char *e)
{
	while (p < e && *p != ' ')
		p++;
	return p;
}

/* tok_end for a token of more than a few bytes (names): memchr costs about as much as
 * five bytes of the loop, so short tokens ("-", the termination state) keep the loop. */
static inline const char *name_end(const char *p, const char *e)
{
	const char *s = p < e ? memchr(p, ' ', (size_t)(e - p)) : NULL;

	return s ? s : e;
}

static inline const char *skip_sp(const char *p, const char *e)
{
	while (p < e && *p == ' ')
		p++;
	return p;
}

static int starts(const char *p, const char *e, const char *lit, size_t n)
{
	return (size_t)(e - p) >= n && !memcmp(p, lit, n);
}
#define STARTS(p, e, lit) starts((p), (e), (lit), sizeof(lit) - 1)

/* One number at p (< e): an optional '+' (logasap/redispatch) or '-' sign, then 1 to 18
 * digits. Sets *v and *plus; returns the first byte after the digits (the caller says what
 * may follow), or NULL. One pass over the bytes: a "a/b/c" token is read as it is split. */
static inline const char *read_num_at(const char *p, const char *e, int64_t *v, int *plus)
{
	const char *s;
	uint64_t x = 0; /* unsigned: a long run of digits wraps harmlessly before it is refused */
	uint64_t neg = 0; /* all ones for '-': x is negated as (x ^ neg) - neg */

	*plus = 0;
	if (p < e && (*p == '+' || *p == '-')) {
		*plus = *p == '+';
		neg = -(uint64_t)(*p == '-');
		p++;
	}
	for (s = p; p < e && is_digit(*p); p++)
		x = x * 10 + (unsigned)(*p - '0');
	if ((size_t)(p - s) - 1 > 17) /* not 1 to 18 digits (0 wraps) */
		return NULL;
	*v = (int64_t)((x ^ neg) - neg);
	return p;
}

/* An integer as read_num_at reads it, and nothing else: the whole of [p, e). Returns 0 and
 * sets *v, *plus, or -1. Values beyond 18 digits are rejected. */
static int read_num(const char *p, const char *e, int64_t *v, int *plus)
{
	return read_num_at(p, e, v, plus) == e ? 0 : -1;
}

/* The token at p (up to the first ' ' or e) as "a/b/c…" of 1 to max numbers. Sets *te to the
 * token's end, whether it reads or not; returns how many numbers, or -1. */
static inline int read_slashed(const char *p, const char *e, int64_t *v, int *plus, int max,
			       const char **te)
{
	const char *s = p;

	for (int n = 0; n < max; n++) {
		p = read_num_at(p, e, &v[n], &plus[n]);
		if (!p)
			break;
		if (p == e || *p == ' ') {
			*te = p;
			return n + 1;
		}
		if (*p != '/')
			break;
		p++;
	}
	*te = tok_end(s, e);
	return -1;
}

static int32_t timer_of(int64_t v)
{
	if (v < 0)
		return LR_TIMER_NONE;
	return v > INT32_MAX ? INT32_MAX : (int32_t)v;
}

static void set_term(struct logrec *out, const char *p, const char *e)
{
	size_t n = (size_t)(e - p);

	if (n > 4)
		n = 4;
	memcpy(out->term, p, n);
	out->term[n] = 0;
}

/* The quoted request at *pp (opening '"', or syslog-ng's '\"'). Fills out->request; sets
 * LR_F_TRUNCATED when the closing quote is missing. Returns the position after it. */
static const char *read_request(const char *p, const char *e, struct logrec *out)
{
	int esc = 0;
	const char *q;

	if (*p == '\\') {
		esc = 1;
		p++;
	}
	p++; /* the quote */
	if (!esc) {
		q = memchr(p, '"', (size_t)(e - p));
		if (q) {
			set_str(&out->request, p, q);
			return q + 1;
		}
	} else {
		for (q = p; q < e; q++) {
			if (*q == '"' && q[-1] == '\\' && q - 1 >= p) {
				set_str(&out->request, p, q - 1);
				return q + 1;
			}
		}
	}
	set_str(&out->request, p, e);
	out->flags |= LR_F_TRUNCATED;
	return e;
}

static int at_quote(const char *p, const char *e)
{
	return p < e && (*p == '"' || (*p == '\\' && p + 1 < e && p[1] == '"'));
}

/* A field that does not read: cut short when it runs to the end of the line. */
#define FIELD_BAD(why)                                                                             \
	do {                                                                                       \
		if (te == e)                                                                       \
			goto cut;                                                                  \
		return partial(out, why);                                                          \
	} while (0)

static void partial(struct logrec *out, const char *why)
{
	out->status = LR_PARTIAL;
	if (!out->reason)
		out->reason = why;
}

static void bad(struct logrec *out, const char *why)
{
	out->kind = LR_UNPARSED;
	out->status = LR_BAD;
	out->reason = why;
}

/* True when [p, e) is n fields of hex digits separated by '/' (the httpslog error block). */
static int hex_slashed(const char *p, const char *e, int n)
{
	int parts = 1;

	if (p >= e)
		return 0;
	for (; p < e; p++) {
		if (*p == '/')
			parts++;
		else if (!is_digit(*p) && !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f'))
			return 0;
	}
	return parts == n;
}

/* "fc_err/ssl_fc_err/ssl_c_err/ssl_c_ca_err/resumed sni/version/cipher" after the request;
 * anything else there (a custom format's extra fields) is ignored. */
static void read_https_tail(const char *p, const char *e, struct logrec *out)
{
	const char *te, *t2, *t2e, *s1, *s2;

	p = skip_sp(p, e);
	if (p >= e)
		return;
	te = tok_end(p, e);
	if (!hex_slashed(p, te, 5))
		return;
	t2 = skip_sp(te, e);
	t2e = tok_end(t2, e);
	s1 = memchr(t2, '/', (size_t)(t2e - t2));
	if (!s1)
		return;
	s2 = memchr(s1 + 1, '/', (size_t)(t2e - s1 - 1));
	if (!s2)
		return;
	set_str(&out->ssl_errors, p, te);
	set_opt(&out->ssl_sni, t2, s1);
	set_opt(&out->ssl_version, s1 + 1, s2);
	set_opt(&out->ssl_cipher, s2 + 1, t2e);
}

/* The rest of an httplog line after the timers: status bytes CC CS term counters queues
 * {captures} "request" [httpslog tail]. */
static void read_http_rest(const char *p, const char *e, struct logrec *out)
{
	const char *te;
	int64_t v[5];
	int plus[5], n;

#define SKIP()                                                                                     \
	do {                                                                                       \
		p = skip_sp(p, e);                                                                 \
		if (p >= e)                                                                        \
			goto cut;                                                                  \
	} while (0)
#define NEXT()                                                                                     \
	do {                                                                                       \
		SKIP();                                                                            \
		te = tok_end(p, e);                                                                \
	} while (0)

	SKIP();
	if (read_slashed(p, e, v, plus, 1, &te) < 0)
		FIELD_BAD("bad status code");
	if (v[0] >= 0)
		out->status_code = v[0];
	p = te;
	SKIP();
	if (read_slashed(p, e, v, plus, 1, &te) < 0 || v[0] < 0)
		FIELD_BAD("bad byte count");
	out->bytes_read = v[0];
	if (plus[0])
		out->flags |= LR_F_LOGASAP;
	p = te;
	NEXT();
	set_opt(&out->cookie_req, p, te);
	p = te;
	NEXT();
	set_opt(&out->cookie_resp, p, te);
	p = te;
	NEXT();
	set_term(out, p, te);
	p = skip_sp(te, e);
	if (p >= e)
		goto cut;
	if (!at_quote(p, e)) {
		/* counters: ac/fc/bc/sc/rc (1.3.0: sc/pc/ac and queues; 1.1/1.2: sc/pc, no
		 * queues) */
		n = read_slashed(p, e, v, plus, 5, &te);
		if (n == 5) {
			out->actconn = v[0], out->feconn = v[1], out->beconn = v[2];
			out->srv_conn = v[3], out->retries = v[4];
			if (plus[4])
				out->flags |= LR_F_REDISPATCH;
		} else if (n == 3) {
			out->srv_conn = v[0], out->feconn = v[1], out->actconn = v[2];
		} else if (n == 2) {
			out->srv_conn = v[0], out->feconn = v[1];
		} else {
			FIELD_BAD("bad connection counters");
		}
		if (n != 2) {
			p = te;
			SKIP();
			if (read_slashed(p, e, v, plus, 2, &te) != 2)
				FIELD_BAD("bad queue counters");
			out->srv_queue = v[0], out->backend_queue = v[1];
		}
		p = skip_sp(te, e);
		for (int i = 0; i < 2 && p < e && *p == '{'; i++) {
			const char *c = memchr(p + 1, '}', (size_t)(e - p - 1));
			struct lr_str *cap = i == 0 ? &out->cap_req : &out->cap_resp;

			if (!c) {
				set_str(cap, p + 1, e);
				goto cut;
			}
			set_str(cap, p + 1, c);
			p = skip_sp(c + 1, e);
		}
		if (p >= e)
			goto cut;
		if (!at_quote(p, e))
			return partial(out, "no request line");
	}
	p = read_request(p, e, out);
	lf_split_request(out);
	if (out->flags & LR_F_TRUNCATED) {
		partial(out, p >= e && out->request.p + out->request.len == e
				     ? "line cut in the request"
				     : "request without version");
		return;
	}
	read_https_tail(p, e, out);
	return;
cut:
	out->flags |= LR_F_TRUNCATED;
	partial(out, "line ends early");
#undef NEXT
#undef SKIP
}

static void read_tcp_rest(const char *p, const char *e, struct logrec *out)
{
	const char *te;
	int64_t v[5];
	int plus[5], n;

	p = skip_sp(p, e);
	if (p >= e)
		goto cut;
	if (read_slashed(p, e, v, plus, 1, &te) < 0 || v[0] < 0)
		FIELD_BAD("bad byte count");
	out->bytes_read = v[0];
	if (plus[0])
		out->flags |= LR_F_LOGASAP;
	p = skip_sp(te, e);
	if (p >= e)
		goto cut;
	te = tok_end(p, e);
	set_term(out, p, te);
	p = skip_sp(te, e);
	if (p >= e)
		goto cut;
	n = read_slashed(p, e, v, plus, 5, &te);
	if (n == 5) {
		out->actconn = v[0], out->feconn = v[1], out->beconn = v[2];
		out->srv_conn = v[3], out->retries = v[4];
		if (plus[4])
			out->flags |= LR_F_REDISPATCH;
	} else {
		FIELD_BAD("bad connection counters");
	}
	p = skip_sp(te, e);
	if (p >= e)
		goto cut;
	if (read_slashed(p, e, v, plus, 2, &te) != 2)
		FIELD_BAD("bad queue counters");
	out->srv_queue = v[0], out->backend_queue = v[1];
	return;
cut:
	out->flags |= LR_F_TRUNCATED;
	partial(out, "line ends early");
}

/* "ip:port [date] …": httplog, httpslog, tcplog, and connection error lines. p is at the
 * client token, te its end, and te[0..1] is " [". */
static void read_traffic(const char *p, const char *te, const char *e, int64_t tz_off_ms,
			 struct logrec *out)
{
	const char *d, *de, *b, *be, *sl;
	int64_t v[5];
	int plus[5], n, has_ms;

	lf_split_addr(p, (size_t)(te - p), &out->client_ip, &out->client_port);
	d = te + 2;
	de = memchr(d, ']', (size_t)(e - d));
	if (!de)
		return bad(out, "no closing ']' after the date");
	if (de == d) {
		partial(out, "empty date");
	} else if (lf_date(d, de, 0, tz_off_ms, &out->ts_ms, &has_ms) != de) {
		return bad(out, "bad date");
	}
	/* frontend, or "fe/bind:" of a connection error line */
	p = skip_sp(de + 1, e);
	if (p >= e) {
		out->kind = LR_HTTP;
		out->flags |= LR_F_TRUNCATED;
		return partial(out, "line ends early");
	}
	te = name_end(p, e);
	if (te[-1] == ':' && (sl = memchr(p, '/', (size_t)(te - p)))) {
		out->kind = LR_CONN_ERROR;
		set_str(&out->frontend, p, sl);
		set_str(&out->bind, sl + 1, te - 1);
		p = skip_sp(te, e);
		set_str(&out->message, p, e);
		return;
	}
	if (te[-1] == '~') {
		out->flags |= LR_F_SSL;
		set_str(&out->frontend, p, te - 1);
	} else {
		set_str(&out->frontend, p, te);
	}
	/* backend/server (1.2: a bare server name) */
	b = skip_sp(te, e);
	if (b >= e)
		goto cut;
	be = name_end(b, e);
	sl = memchr(b, '/', (size_t)(be - b));
	if (sl) {
		set_str(&out->backend, b, sl);
		set_str(&out->server, sl + 1, be);
	} else {
		set_str(&out->server, b, be);
	}
	lf_server_flags(out);
	/* the timers; a custom format may have put a few tokens before them */
	p = be;
	for (int extra = 0;; extra++) {
		p = skip_sp(p, e);
		if (p >= e)
			goto cut;
		n = read_slashed(p, e, v, plus, 5, &te);
		if (n >= 3)
			break;
		if (te == e)
			goto cut;
		if (extra == 2 || *p == '"' || *p == '{')
			return bad(out, "no timers after backend/server");
		p = te;
	}
	if (n == 3) {
		out->kind = LR_TCP;
		out->t_wait = timer_of(v[0]);
		out->t_connect = timer_of(v[1]);
		out->t_active = timer_of(v[2]);
		if (plus[2])
			out->flags |= LR_F_LOGASAP;
		return read_tcp_rest(te, e, out);
	}
	out->kind = LR_HTTP;
	if (n == 5) {
		out->t_req = timer_of(v[0]);
		out->t_wait = timer_of(v[1]);
		out->t_connect = timer_of(v[2]);
		out->t_resp = timer_of(v[3]);
		out->t_active = timer_of(v[4]);
		if (plus[4])
			out->flags |= LR_F_LOGASAP;
	} else {
		/* 1.2: Tq/Tc/Tr/Tt */
		out->t_req = timer_of(v[0]);
		out->t_connect = timer_of(v[1]);
		out->t_resp = timer_of(v[2]);
		out->t_active = timer_of(v[3]);
		if (plus[3])
			out->flags |= LR_F_LOGASAP;
	}
	return read_http_rest(te, e, out);
cut:
	out->kind = LR_HTTP;
	out->flags |= LR_F_TRUNCATED;
	partial(out, "line ends early");
}

/* One "quoted" or bare clf field at *pp; "" and "-" are absent. Returns its end or NULL. */
static const char *clf_field(const char *p, const char *e, struct lr_str *s)
{
	p = skip_sp(p, e);
	if (p >= e)
		return NULL;
	if (*p == '"') {
		const char *q = memchr(p + 1, '"', (size_t)(e - p - 1));

		if (!q)
			return NULL;
		if (s)
			set_opt(s, p + 1, q);
		if (s && q == p + 1)
			s->p = NULL;
		return q + 1;
	}
	{
		const char *te = tok_end(p, e);

		if (s)
			set_opt(s, p, te);
		return te;
	}
}

/* A numeric clf field: 0, -1 when the line ends first, -2 when it is not a number. */
static int clf_num(const char **pp, const char *e, int64_t *v, int *plus)
{
	struct lr_str s = {NULL, 0};
	const char *q = clf_field(*pp, e, &s);

	if (!q)
		return -1;
	*pp = q;
	if (!s.p) {
		*v = LR_NONE;
		*plus = 0;
		return 0;
	}
	return read_num(s.p, s.p + s.len, v, plus) < 0 ? -2 : 0;
}

/* option httplog clf:
 * %{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc
 * %bc %sc %rc %sq %bq %CC %CS %hrl %hsl ; and tcplog clf ("TCP " request, 000 status). */
static void read_clf(const char *p, const char *te, const char *e, int64_t tz_off_ms,
		     struct logrec *out)
{
	const char *d, *de, *q;
	int64_t v, ms;
	int plus, has_ms, tcp;
	struct lr_str s;
	int32_t *timers[5];
	int nt, rc;

	out->flags |= LR_F_CLF;
	out->kind = LR_HTTP;
	set_opt(&out->client_ip, p, te);
	d = te + 6; /* " - - [" */
	de = memchr(d, ']', (size_t)(e - d));
	if (!de)
		return bad(out, "no closing ']' after the date");
	if (lf_date(d, de, 1, tz_off_ms, &out->ts_ms, &has_ms) != de)
		return bad(out, "bad date");
	p = skip_sp(de + 1, e);
	if (!at_quote(p, e))
		goto cut;
	p = read_request(p, e, out);
	if (out->flags & LR_F_TRUNCATED)
		goto cut_req;
	tcp = out->request.len == 4 && !memcmp(out->request.p, "TCP ", 4);
	if (tcp) {
		out->kind = LR_TCP;
		out->request.p = NULL;
		out->request.len = 0;
	} else {
		lf_split_request(out);
	}
	if ((rc = clf_num(&p, e, &v, &plus)) < 0)
		goto num_fail;
	if (!tcp && v != LR_NONE && v >= 0)
		out->status_code = v;
	if ((rc = clf_num(&p, e, &v, &plus)) < 0)
		goto num_fail;
	out->bytes_read = v;
	if (plus)
		out->flags |= LR_F_LOGASAP;
	if (!(p = clf_field(p, e, NULL)) || !(p = clf_field(p, e, NULL)))
		goto cut;
	if ((rc = clf_num(&p, e, &out->client_port, &plus)) < 0)
		goto num_fail;
	if ((rc = clf_num(&p, e, &ms, &plus)) < 0)
		goto num_fail;
	if (!has_ms && ms != LR_NONE && ms >= 0 && ms < 1000 && out->ts_ms != LR_NONE)
		out->ts_ms += ms;
	s.p = NULL;
	if (!(p = clf_field(p, e, &s)))
		goto cut;
	if (s.p && s.len && s.p[s.len - 1] == '~') {
		out->flags |= LR_F_SSL;
		s.len--;
	}
	out->frontend = s;
	if (!(p = clf_field(p, e, &out->backend)) || !(p = clf_field(p, e, &out->server)))
		goto cut;
	lf_server_flags(out);
	if (tcp) {
		/* %Th %Tw %Tc %Tt %U */
		if ((rc = clf_num(&p, e, &v, &plus)) < 0)
			goto num_fail;
		timers[0] = &out->t_wait, timers[1] = &out->t_connect, timers[2] = &out->t_active;
		nt = 3;
	} else {
		timers[0] = &out->t_req, timers[1] = &out->t_wait, timers[2] = &out->t_connect;
		timers[3] = &out->t_resp, timers[4] = &out->t_active;
		nt = 5;
	}
	for (int i = 0; i < nt; i++) {
		if ((rc = clf_num(&p, e, &v, &plus)) < 0)
			goto num_fail;
		*timers[i] = v == LR_NONE ? LR_TIMER_NONE : timer_of(v);
		if (plus && i == nt - 1)
			out->flags |= LR_F_LOGASAP;
	}
	if (tcp) {
		if ((rc = clf_num(&p, e, &out->bytes_uploaded, &plus)) < 0)
			goto num_fail;
	}
	s.p = NULL;
	if (!(p = clf_field(p, e, &s)))
		goto cut;
	if (s.p)
		set_term(out, s.p, s.p + (tcp && s.len == 4 ? 2 : s.len));
	{
		int64_t *cnt[7] = {&out->actconn,      &out->feconn,  &out->beconn,
				   &out->srv_conn,     &out->retries, &out->srv_queue,
				   &out->backend_queue};

		for (int i = 0; i < 7; i++) {
			if ((rc = clf_num(&p, e, cnt[i], &plus)) < 0)
				goto num_fail;
			if (plus && i == 4)
				out->flags |= LR_F_REDISPATCH;
		}
	}
	if (!(p = clf_field(p, e, &out->cookie_req)) || !(p = clf_field(p, e, &out->cookie_resp)))
		goto cut;
	/* %hrl %hsl: every remaining quoted item; kept together as the request captures */
	q = skip_sp(p, e);
	{
		const char *end = e;

		while (end > q && end[-1] == ' ')
			end--;
		if (end - q >= 2 && *q == '"' && end[-1] == '"') {
			q++;
			end--;
		}
		if (end > q)
			set_str(&out->cap_req, q, end);
	}
	return;
num_fail:
	if (rc == -2)
		return partial(out, "bad number in a clf field");
	goto cut;
cut_req:
	lf_split_request(out);
cut:
	out->flags |= LR_F_TRUNCATED;
	partial(out, "line ends early");
}

/* ---------------------------------------------------------------------------------------- */
/* Events */

static const char st_maint[] = "MAINT", st_drain[] = "DRAIN";

/* Finds lit in [p, e). */
static const char *find(const char *p, const char *e, const char *lit, size_t n)
{
	if (p > e)
		return NULL;
	while ((size_t)(e - p) >= n) {
		const char *q = memchr(p, lit[0], (size_t)(e - p) - n + 1);

		if (!q)
			return NULL;
		if (!memcmp(q, lit, n))
			return q;
		p = q + 1;
	}
	return NULL;
}
#define FIND(p, e, lit) find((p), (e), (lit), sizeof(lit) - 1)

static int64_t num_at(const char *p, const char *e, const char **endp)
{
	int64_t v = 0;
	const char *s = p;

	while (p < e && is_digit(*p) && p - s < 18)
		v = v * 10 + (*p++ - '0');
	*endp = p;
	return p > s ? v : LR_NONE;
}

/* ", reason: R", ", code: N", ", info: "I"", ", check duration: Nms" and
 * ". A active and B backup servers left|online" of server and check messages. */
static void read_check_info(const char *p, const char *e, struct logrec *out)
{
	const char *q, *r;

	if ((q = FIND(p, e, ", reason: "))) {
		q += 10;
		for (r = q; r < e && *r != ','; r++)
			if (*r == '.' && (r + 1 == e || r[1] == ' '))
				break;
		set_str(&out->ev_reason, q, r);
	}
	if ((q = FIND(p, e, ", info: \""))) {
		q += 9;
		r = FIND(q, e, "\", ");
		if (!r)
			r = FIND(q, e, "\".");
		if (!r) {
			r = memchr(q, '"', (size_t)(e - q));
			if (!r)
				r = e;
		}
		set_str(&out->ev_info, q, r);
		p = r;
	}
	if ((q = FIND(p, e, "check duration: "))) {
		int64_t v = num_at(q + 16, e, &r);

		if (v != LR_NONE)
			out->ev_check_ms = timer_of(v);
	}
	if ((q = FIND(p, e, " active and "))) {
		const char *s = q;

		while (s > p && is_digit(s[-1]))
			s--;
		out->ev_active_left = num_at(s, q, &r);
		out->ev_backup_left = num_at(q + 12, e, &r);
	}
}

/* "[Backup ]Server be/s is …" */
static int read_server(const char *p, const char *e, struct logrec *out)
{
	const char *n, *ne, *sl, *s, *w;

	if (STARTS(p, e, "Backup Server ")) {
		out->ev_backup = 1;
		n = p + 14;
	} else if (STARTS(p, e, "Server ")) {
		n = p + 7;
	} else {
		return 0;
	}
	ne = tok_end(n, e);
	sl = memchr(n, '/', (size_t)(ne - n));
	if (!sl || ne >= e)
		return 0;
	out->kind = LR_SERVER;
	set_str(&out->ev_proxy, n, sl);
	set_str(&out->ev_server, sl + 1, ne);
	s = ne + 1;
	/* the state phrase runs up to the first ',', '.', '(' */
	for (w = s; w < e && *w != ',' && *w != '(' && !(*w == '.' && (w + 1 == e || w[1] == ' '));
	     w++)
		;
	if (FIND(s, w, "maintenance")) {
		if (STARTS(s, w, "is ") && !STARTS(s, w, "is going") &&
		    !STARTS(s, w, "is leaving")) {
			const char *x = s + 3, *xe = tok_end(x, w);

			set_str(&out->ev_state, x, xe);
		} else {
			set_str(&out->ev_state, st_maint, st_maint + 5);
		}
	} else if (FIND(s, w, "drain")) {
		set_str(&out->ev_state, st_drain, st_drain + 5);
	} else if (STARTS(s, w, "is ")) {
		const char *x = s + 3, *xe = tok_end(x, w);

		set_str(&out->ev_state, x, xe);
	} else {
		set_str(&out->ev_state, s, tok_end(s, w));
	}
	if (!out->ev_state.len) {
		out->ev_state.p = NULL;
		out->status = LR_PARTIAL;
		out->reason = "no server state";
	}
	if (w < e && *w == '(') {
		const char *c = memchr(w, ')', (size_t)(e - w));

		if (c && !FIND(w, c, "leaving"))
			set_str(&out->ev_reason, w + 1, c);
	}
	read_check_info(w, e, out);
	return 1;
}

/* "Health|Agent check for [backup ]server be/s succeeded|failed, reason: …, status: x/y UP." */
static int read_check(const char *p, const char *e, struct logrec *out)
{
	const char *n, *ne, *sl, *w;

	if (STARTS(p, e, "Health check for "))
		n = p + 17;
	else if (STARTS(p, e, "Agent check for "))
		n = p + 16;
	else
		return 0;
	if (STARTS(n, e, "backup server ")) {
		out->ev_backup = 1;
		n += 14;
	} else if (STARTS(n, e, "server ")) {
		n += 7;
	} else {
		return 0;
	}
	ne = tok_end(n, e);
	sl = memchr(n, '/', (size_t)(ne - n));
	if (!sl || ne >= e)
		return 0;
	out->kind = LR_CHECK;
	set_str(&out->ev_proxy, n, sl);
	set_str(&out->ev_server, sl + 1, ne);
	for (w = ne + 1; w < e && *w != ',' && *w != '.'; w++)
		;
	set_str(&out->ev_state, ne + 1, w);
	read_check_info(w, e, out);
	return 1;
}

/* "backend X has no server available!" (also frontend/listen/proxy for the type word) */
static int read_nosrv(const char *p, const char *e, struct logrec *out)
{
	const char *n, *ne;

	n = tok_end(p, e);
	if (n >= e ||
	    !((n - p == 7 && !memcmp(p, "backend", 7)) || (n - p == 6 && !memcmp(p, "listen", 6)) ||
	      (n - p == 5 && !memcmp(p, "proxy", 5)) || (n - p == 8 && !memcmp(p, "frontend", 8))))
		return 0;
	n++;
	ne = tok_end(n, e);
	if (ne >= e || !STARTS(ne, e, " has no server available!"))
		return 0;
	out->kind = LR_NOSRV;
	set_str(&out->ev_proxy, n, ne);
	return 1;
}

/* Proxy X started. / Proxy X stopped (…). / Stopping frontend X in N ms. / Paused|Resumed
 * frontend X. */
static int read_proxy(const char *p, const char *e, struct logrec *out)
{
	const char *n, *ne, *st;

	if (STARTS(p, e, "Proxy ")) {
		n = p + 6;
		ne = tok_end(n, e);
		if (ne >= e)
			return 0;
		st = ne + 1;
		set_str(&out->ev_state, st, tok_end(st, e));
		if (out->ev_state.len && st[out->ev_state.len - 1] == '.')
			out->ev_state.len--;
		if (!(out->ev_state.len == 7 &&
		      (!memcmp(st, "started", 7) || !memcmp(st, "stopped", 7))))
			return out->ev_state.p = NULL, 0;
	} else if (STARTS(p, e, "Stopping ") || STARTS(p, e, "Paused ") ||
		   STARTS(p, e, "Resumed ")) {
		const char *t = tok_end(p, e);
		static const char stopping[] = "stopping", paused[] = "paused",
				  resumed[] = "resumed";
		const char *name = *p == 'S' ? stopping : *p == 'P' ? paused : resumed;

		n = tok_end(t + 1, e); /* skip the proxy type word */
		if (n >= e)
			return 0;
		n++;
		ne = tok_end(n, e);
		if (ne > n && ne[-1] == '.')
			ne--;
		set_str(&out->ev_state, name, name + strlen(name));
	} else {
		return 0;
	}
	out->kind = LR_PROXY;
	set_str(&out->ev_proxy, n, ne);
	set_str(&out->message, p, e);
	return 1;
}

/* "Connect from A:P to B:Q (fe/MODE)", "Connect from unknown source to listener N (fe/MODE)",
 * "Connect to unix:N (fe/MODE)". */
static int read_connect(const char *p, const char *e, struct logrec *out)
{
	const char *a, *ae, *par, *pe, *sl;

	if (!STARTS(p, e, "Connect "))
		return 0;
	par = NULL;
	for (pe = e; pe > p; pe--)
		if (pe[-1] == '(') {
			par = pe - 1;
			break;
		}
	if (!par || e[-1] != ')' || par == p)
		return 0;
	sl = memchr(par, '/', (size_t)(e - par));
	if (!sl)
		return 0;
	out->kind = LR_CONNECT;
	set_str(&out->frontend, par + 1, sl);
	set_str(&out->mode, sl + 1, e - 1);
	pe = par - 1; /* the space before '(' */
	/* "Connect from (fe/HTTP)": no room for an address before the '(' */
	if (pe < p + 13) {
		out->kind = LR_UNPARSED;
		return 0;
	}
	if (STARTS(p, e, "Connect from unknown source to listener ")) {
		a = p + 40;
		set_str(&out->bind, a, a > pe ? a : pe);
	} else if (STARTS(p, e, "Connect to ")) {
		a = p + 11;
		lf_split_addr(a, (size_t)(pe - a), &out->client_ip, &out->client_port);
	} else if (STARTS(p, e, "Connect from ")) {
		a = p + 13;
		ae = FIND(a, pe, " to ");
		if (!ae) {
			lf_split_addr(a, (size_t)(pe - a), &out->client_ip, &out->client_port);
			out->status = LR_PARTIAL;
			out->reason = "no destination";
			return 1;
		}
		lf_split_addr(a, (size_t)(ae - a), &out->client_ip, &out->client_port);
		a = ae + 4;
		if (STARTS(a, pe, "undetermined address:"))
			out->dst_port = num_at(a + 21, pe, &ae);
		else
			lf_split_addr(a, (size_t)(pe - a), &out->dst_ip, &out->dst_port);
	} else {
		out->kind = LR_UNPARSED;
		return 0;
	}
	return 1;
}

/* Auto-detection of the body. Returns 1 when it was recognised (out filled), 0 otherwise. */
static int parse_body_auto(const char *p, const char *e, int64_t tz_off_ms, struct logrec *out)
{
	const char *te;
	size_t n;

	if (p >= e)
		return 0;
	/* traffic lines and error lines: "client [date] …"; clf: "client - - [date] …" */
	n = e - p < 64 ? (size_t)(e - p) : 64;
	te = memchr(p, ' ', n);
	if (!te)
		te = p + n;
	if (e - te >= 2 && te[0] == ' ' && te > p) {
		if (te[1] == '[') {
			read_traffic(p, te, e, tz_off_ms, out);
			return 1;
		}
		if (e - te >= 6 && !memcmp(te, " - - [", 6)) {
			read_clf(p, te, e, tz_off_ms, out);
			return 1;
		}
	}
	switch (*p) {
	case 'S':
		return read_server(p, e, out) || read_proxy(p, e, out);
	case 'B':
		return read_server(p, e, out);
	case 'H':
	case 'A':
		return read_check(p, e, out);
	case 'b':
	case 'l':
	case 'f':
	case 'p':
		return read_nosrv(p, e, out);
	case 'P':
	case 'R':
		return read_proxy(p, e, out);
	case 'C':
		return read_connect(p, e, out);
	default:
		return 0;
	}
}

/* Strips trailing LF, CR and NULs. */
static size_t trim_len(const char *buf, size_t len)
{
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == '\0'))
		len--;
	return len;
}

void logparse_message(const struct logparser *lp, const char *buf, size_t len, struct logrec *out)
{
	struct syslog_noyear ny;
	int framed, ok = 0;
	const char *p, *e;
	int64_t tz = lp ? lp->tz_off_ms : 0;

	logrec_clear(out);
	if (!buf)
		len = 0;
	len = trim_len(buf, len);
	framed = syslog_parse(buf ? buf : "", len, tz, out, &ny);
	p = out->body.p;
	e = p + out->body.len;
	if (lp && lp->lf && p < e) {
		ok = logformat_match(lp->lf, p, e, tz, out);
		if (!ok) {
			struct logrec keep = *out;

			/* events and built-in lines still come on the same socket: keep the
			 * framing (the fields before kind), forget what the matcher set */
			logrec_clear(out);
			memcpy(out, &keep, offsetof(struct logrec, kind));
			ok = parse_body_auto(p, e, tz, out);
			if (!ok && !framed)
				bad(out, "does not match the log format");
		}
	} else {
		ok = parse_body_auto(p, e, tz, out);
	}
	if (!ok && out->kind == LR_UNPARSED && !out->reason) {
		if (framed && p < e) {
			out->kind = LR_OTHER;
			out->status = LR_OK;
			set_str(&out->message, p, e);
		} else {
			bad(out, p < e ? "unrecognised message" : "empty message");
		}
	}
	if (ny.mon) {
		int64_t ref = out->ts_ms;

		if (ref == LR_NONE)
			ref = lp && lp->now_ms ? lp->now_ms : (int64_t)time(NULL) * 1000;
		syslog_resolve_year(&ny, ref, tz, out);
	}
}
