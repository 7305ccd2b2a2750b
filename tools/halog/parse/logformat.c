/* HAProxy log-format strings compiled into a token matcher (see logformat.h), and the field
 * readers shared with the fast paths of logparse.c. */
#include "parse/logformat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_PER_DAY 86400000LL

static int lf_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

int64_t lf_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int lf_month(const char *p)
{
	/* the three letters folded into one integer, compared against the table */
	unsigned k = ((unsigned)(unsigned char)p[0] << 16) | ((unsigned)(unsigned char)p[1] << 8) |
		     (unsigned char)p[2];

	switch (k) {
	case 0x4a616e:
		return 1; /* Jan */
	case 0x466562:
		return 2; /* Feb */
	case 0x4d6172:
		return 3; /* Mar */
	case 0x417072:
		return 4; /* Apr */
	case 0x4d6179:
		return 5; /* May */
	case 0x4a756e:
		return 6; /* Jun */
	case 0x4a756c:
		return 7; /* Jul */
	case 0x417567:
		return 8; /* Aug */
	case 0x536570:
		return 9; /* Sep */
	case 0x4f6374:
		return 10; /* Oct */
	case 0x4e6f76:
		return 11; /* Nov */
	case 0x446563:
		return 12; /* Dec */
	default:
		return 0;
	}
}

static int dig2(const char *p)
{
	if (!lf_is_digit(p[0]) || !lf_is_digit(p[1]))
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* The last "dd/Mon/yyyy:HH:MM" that lf_date read and its naive ms (before the zone): the lines
 * of a log come thousands in a row from one minute, so the calendar runs once a minute. Only a
 * memo of a pure function (a key that differs by one byte misses), so it is per thread and
 * invisible to callers, who may share a const parser. */
#define LF_MINUTE_LEN 17
static _Thread_local struct {
	char key[LF_MINUTE_LEN]; /* zeros at first: never a date's shape (key[2] is '/') */
	int64_t ms;		 /* ms of key's minute, local time taken as UTC */
} lf_minute;

/* The naive ms of the minute "dd/Mon/yyyy:HH:MM" at p (separators already checked), or -1
 * (never a minute's, a multiple of 60000). */
static int64_t minute_ms(const char *p)
{
	uint64_t a, b, ka, kb;
	int d, mon, y1, y2, h, mi;

	memcpy(&a, p, 8);
	memcpy(&b, p + 8, 8);
	memcpy(&ka, lf_minute.key, 8);
	memcpy(&kb, lf_minute.key + 8, 8);
	if (a == ka && b == kb && p[16] == lf_minute.key[16])
		return lf_minute.ms;
	d = dig2(p);
	mon = lf_month(p + 3);
	y1 = dig2(p + 7);
	y2 = dig2(p + 9);
	h = dig2(p + 12);
	mi = dig2(p + 15);
	if (d < 1 || d > 31 || !mon || y1 < 0 || y2 < 0 || h < 0 || h > 23 || mi < 0 || mi > 59)
		return -1;
	memcpy(lf_minute.key, p, LF_MINUTE_LEN);
	lf_minute.ms = lf_days_from_civil(y1 * 100 + y2, (unsigned)mon, (unsigned)d) * MS_PER_DAY +
		       (h * 3600 + mi * 60) * 1000LL;
	return lf_minute.ms;
}

const char *lf_date(const char *p, const char *e, int with_zone, int64_t tz_off_ms, int64_t *ms,
		    int *has_ms)
{
	int s, frac = 0;
	int64_t off = tz_off_ms, min_ms;

	/* dd/Mon/yyyy:HH:MM:SS */
	if (e - p < 20 || p[2] != '/' || p[6] != '/' || p[11] != ':' || p[14] != ':' ||
	    p[17] != ':')
		return NULL;
	s = dig2(p + 18);
	if (s < 0 || s > 60)
		return NULL;
	min_ms = minute_ms(p);
	if (min_ms == -1)
		return NULL;
	p += 20;
	*has_ms = 0;
	if (e - p >= 4 && p[0] == '.' && lf_is_digit(p[1]) && lf_is_digit(p[2]) &&
	    lf_is_digit(p[3])) {
		frac = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
		*has_ms = 1;
		p += 4;
	}
	if (with_zone && e - p >= 6 && p[0] == ' ' && (p[1] == '+' || p[1] == '-')) {
		int oh = dig2(p + 2), om = dig2(p + 4);

		if (oh >= 0 && om >= 0 && om < 60) {
			off = (oh * 60 + om) * 60000LL;
			if (p[1] == '-')
				off = -off;
			p += 6;
		}
	}
	*ms = min_ms + s * 1000LL + frac - off;
	return p;
}

void lf_split_addr(const char *p, size_t n, struct lr_str *ip, int64_t *port)
{
	const char *c = NULL;
	size_t i;

	ip->p = NULL;
	ip->len = 0;
	*port = LR_NONE;
	if (n == 0)
		return;
	for (i = n; i > 0; i--) {
		if (p[i - 1] == ':') {
			c = p + i - 1;
			break;
		}
	}
	if (c) {
		const char *q = c + 1, *e = p + n;
		int64_t v = 0;

		if (q < e && e - q <= 10) {
			while (q < e && lf_is_digit(*q))
				v = v * 10 + (*q++ - '0');
			if (q == e) {
				*port = v;
				n = (size_t)(c - p);
			}
		}
	}
	if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
		p++;
		n -= 2;
	}
	if (n == 0 || (n == 1 && p[0] == '-') || (n == 7 && !memcmp(p, "unknown", 7)))
		return;
	ip->p = p;
	ip->len = (uint32_t)n;
}

static int is_version(const char *p, size_t n)
{
	return n >= 6 && n <= 8 && !memcmp(p, "HTTP/", 5) && lf_is_digit(p[5]) &&
	       (n == 6 || (n == 8 && p[6] == '.' && lf_is_digit(p[7])));
}

static void split_uri(struct logrec *out);

void lf_split_request(struct logrec *out)
{
	const char *r = out->request.p, *e, *sp, *u, *ue, *q;

	if (!r)
		return;
	e = r + out->request.len;
	if (out->request.len == 0 || (out->request.len == 8 && !memcmp(r, "<BADREQ>", 8))) {
		out->flags |= LR_F_BADREQ;
		return;
	}
	sp = memchr(r, ' ', out->request.len);
	if (!sp) {
		/* a method alone: cut by the line length */
		out->method.p = r;
		out->method.len = out->request.len;
		out->flags |= LR_F_TRUNCATED;
		return;
	}
	out->method.p = r;
	out->method.len = (uint32_t)(sp - r);
	u = sp + 1;
	while (u < e && *u == ' ')
		u++;
	ue = e;
	while (ue > u && ue[-1] == ' ')
		ue--;
	/* the version is the last token when it looks like HTTP/x[.y] */
	q = memrchr(u, ' ', (size_t)(ue - u));
	q = q ? q + 1 : u;
	if (q > u && is_version(q, (size_t)(ue - q))) {
		out->version.p = q;
		out->version.len = (uint32_t)(ue - q);
		ue = q;
		while (ue > u && ue[-1] == ' ')
			ue--;
	} else {
		out->flags |= LR_F_TRUNCATED;
	}
	if (ue <= u)
		return;
	out->uri.p = u;
	out->uri.len = (uint32_t)(ue - u);
	split_uri(out);
}

/* Sets out->path and out->query from out->uri (origin form for absolute URIs; no path for
 * CONNECT's authority form). */
static void split_uri(struct logrec *out)
{
	const char *u = out->uri.p, *ue = u + out->uri.len, *q, *path;
	static const char slash[] = "/";

	if (!u || u == ue)
		return;
	if (out->method.len == 7 && !memcmp(out->method.p, "CONNECT", 7))
		return; /* authority form: no path */
	path = u;
	if (*u != '/' && *u != '*') {
		/* absolute form scheme://authority/path: reduce to the origin form */
		const char *s = u;

		while (s < ue && ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
				  lf_is_digit(*s) || *s == '+' || *s == '-' || *s == '.'))
			s++;
		if (ue - s >= 3 && s > u && s[0] == ':' && s[1] == '/' && s[2] == '/') {
			s += 3;
			while (s < ue && *s != '/' && *s != '?' && *s != '#')
				s++;
			path = s;
		}
	}
	q = path < ue ? memchr(path, '?', (size_t)(ue - path)) : NULL;
	if (!q)
		q = ue;
	if (q > path) {
		out->path.p = path;
		out->path.len = (uint32_t)(q - path);
	} else if (path != u) {
		out->path.p = slash; /* "http://host?x" or "http://host" */
		out->path.len = 1;
	} else {
		out->path.p = path;
		out->path.len = 0;
	}
	if (q < ue) {
		out->query.p = q + 1;
		out->query.len = (uint32_t)(ue - q - 1);
	}
}

void lf_server_flags(struct logrec *out)
{
	const struct lr_str *s = &out->server;

	if (s->p && s->len >= 3 && s->p[0] == '<' && s->p[s->len - 1] == '>') {
		out->flags |= LR_F_SPECIAL_SRV;
		if (s->len == 7 && !memcmp(s->p, "<NOSRV>", 7) && out->backend.p &&
		    out->frontend.p && out->backend.len == out->frontend.len &&
		    !memcmp(out->backend.p, out->frontend.p, out->frontend.len))
			out->flags |= LR_F_NOT_ROUTED;
	}
}

/* ---------------------------------------------------------------------------------------- */
/* The compiler: a format becomes a list of tokens (literal text, a gap of spaces, a variable),
 * each variable with the class that tells the matcher how far its value extends. */

enum lf_class {
	C_IP,	 /* an address; split from a following ':' at the last ':' of the word */
	C_NUM,	 /* integer, '+' or '-' prefix allowed, "-" alone is absent */
	C_DATE,	 /* dd/Mon/yyyy:HH:MM:SS[.mmm] */
	C_DATEZ, /* the same followed by " +hhmm" */
	C_STR,	 /* a word (or a quoted string with +Q) */
	C_CAP,	 /* an optional {…} block */
	C_CAPL,	 /* CLF capture list: quoted items, or one word */
	C_REQ,	 /* the request line: quoted, or three words */
};

/* What a variable fills. */
enum lf_field {
	F_NONE,
	F_CI,
	F_CP,
	F_FI,
	F_FP,
	F_DATE_ACC,
	F_DATE_REQ,
	F_TS,
	F_MS,
	F_F,
	F_FT,
	F_B,
	F_S,
	F_TR,
	F_TQ,
	F_TW,
	F_TC,
	F_TRESP,
	F_TA,
	F_TT,
	F_ST,
	F_BYTES,
	F_UP,
	F_CC,
	F_CS,
	F_TERM,
	F_AC,
	F_FC,
	F_BC,
	F_SC,
	F_RC,
	F_SQ,
	F_BQ,
	F_HR,
	F_HS,
	F_R,
	F_HM,
	F_HU,
	F_HP,
	F_HQ,
	F_HV,
	F_ID,
	F_SSLV,
	F_SSLC,
	F_SNI,
	F_SSLERR_START,
	F_SSLERR_END,
};

static const struct lf_var {
	const char *name;
	unsigned char cls;
	unsigned char field;
	unsigned char http; /* the format logs HTTP when it has one of these */
} lf_vars[] = {
	{"ci", C_IP, F_CI, 0},		{"cp", C_NUM, F_CP, 0},
	{"fi", C_IP, F_FI, 0},		{"fp", C_NUM, F_FP, 0},
	{"bi", C_IP, F_NONE, 0},	{"bp", C_NUM, F_NONE, 0},
	{"si", C_IP, F_NONE, 0},	{"sp", C_NUM, F_NONE, 0},
	{"t", C_DATE, F_DATE_ACC, 0},	{"tr", C_DATE, F_DATE_REQ, 0},
	{"T", C_DATEZ, F_DATE_ACC, 0},	{"trg", C_DATEZ, F_DATE_REQ, 0},
	{"Tl", C_DATEZ, F_DATE_ACC, 0}, {"trl", C_DATEZ, F_DATE_REQ, 0},
	{"Ts", C_NUM, F_TS, 0},		{"ms", C_NUM, F_MS, 0},
	{"f", C_STR, F_F, 0},		{"ft", C_STR, F_FT, 0},
	{"b", C_STR, F_B, 0},		{"s", C_STR, F_S, 0},
	{"TR", C_NUM, F_TR, 1},		{"Tq", C_NUM, F_TQ, 1},
	{"Tw", C_NUM, F_TW, 0},		{"Tc", C_NUM, F_TC, 0},
	{"Tr", C_NUM, F_TRESP, 1},	{"Ta", C_NUM, F_TA, 1},
	{"Tt", C_NUM, F_TT, 0},		{"Th", C_NUM, F_NONE, 0},
	{"Ti", C_NUM, F_NONE, 0},	{"Td", C_NUM, F_NONE, 0},
	{"Tu", C_NUM, F_NONE, 0},	{"ST", C_NUM, F_ST, 1},
	{"B", C_NUM, F_BYTES, 0},	{"U", C_NUM, F_UP, 0},
	{"CC", C_STR, F_CC, 1},		{"CS", C_STR, F_CS, 1},
	{"ts", C_STR, F_TERM, 0},	{"tsc", C_STR, F_TERM, 1},
	{"ac", C_NUM, F_AC, 0},		{"fc", C_NUM, F_FC, 0},
	{"bc", C_NUM, F_BC, 0},		{"sc", C_NUM, F_SC, 0},
	{"rc", C_NUM, F_RC, 0},		{"sq", C_NUM, F_SQ, 0},
	{"bq", C_NUM, F_BQ, 0},		{"hr", C_CAP, F_HR, 1},
	{"hs", C_CAP, F_HS, 1},		{"hrl", C_CAPL, F_HR, 1},
	{"hsl", C_CAPL, F_HS, 1},	{"r", C_REQ, F_R, 1},
	{"HM", C_STR, F_HM, 1},		{"HU", C_STR, F_HU, 1},
	{"HP", C_STR, F_HP, 1},		{"HPO", C_STR, F_HP, 1},
	{"HQ", C_STR, F_HQ, 1},		{"HV", C_STR, F_HV, 1},
	{"ID", C_STR, F_ID, 0},		{"lc", C_NUM, F_NONE, 0},
	{"rt", C_NUM, F_NONE, 0},	{"pid", C_NUM, F_NONE, 0},
	{"H", C_STR, F_NONE, 0},	{"sslv", C_STR, F_SSLV, 0},
	{"sslc", C_STR, F_SSLC, 0},	{"OG", C_STR, F_NONE, 0},
};

/* Sample fetches that fill a field; any other %[expr] is an opaque word. */
static const struct {
	const char *name;
	unsigned char field;
	unsigned char cls;
} lf_samples[] = {
	{"src", F_CI, C_IP},
	{"src_port", F_CP, C_NUM},
	{"dst", F_FI, C_IP},
	{"dst_port", F_FP, C_NUM},
	{"ssl_fc_sni", F_SNI, C_STR},
	{"ssl_fc_protocol", F_SSLV, C_STR},
	{"ssl_fc_cipher", F_SSLC, C_STR},
	{"unique-id", F_ID, C_STR},
	{"fe_name", F_F, C_STR},
	{"be_name", F_B, C_STR},
	{"srv_name", F_S, C_STR},
	{"status", F_ST, C_NUM},
	{"method", F_HM, C_STR},
	{"path", F_HP, C_STR},
	{"fc_err", F_SSLERR_START, C_STR},
	{"ssl_fc_is_resumed", F_SSLERR_END, C_STR},
};

enum lf_tok_type { T_LIT, T_SP, T_VAR };

struct lf_tok {
	unsigned char type;
	unsigned char cls;
	unsigned char field;
	unsigned char quoted; /* +Q */
	unsigned char hex;    /* +X */
	char stop;	      /* T_VAR: first byte of the literal that follows, or ' ';
				 T_LIT: its own first byte */
	uint32_t lit_off;     /* T_LIT: text in lits */
	uint32_t lit_len;
};

struct logformat {
	struct lf_tok *toks;
	size_t n;
	char *lits;
	int http;   /* kind of a matched line: LR_HTTP or LR_TCP */
	int has_ta; /* %Ta present: %Tt is not the total */
	int has_tr; /* %TR present: %Tq is not used for t_req */
	int nvars;
	uint32_t flags; /* LR_F_* set on every matched line (LR_F_CLF for the clf preset) */
};

static const char *const lf_presets[][2] = {
	{"httplog", "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc "
		    "%ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r"},
	{"httpslog",
	 "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc "
	 "%ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r "
	 "%[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed] "
	 "%[ssl_fc_sni]/%sslv/%sslc"},
	{"tcplog", "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq"},
	{"clf", "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc "
		"%Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl"},
};

#define LF_MAX_TOKENS 1024

static int is_alnum(int c)
{
	return lf_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

struct lf_build {
	struct logformat *lf;
	size_t alloc;
	size_t lits_len, lits_alloc;
	char *err;
	size_t errsz;
};

static int lf_err(struct lf_build *b, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int lf_err(struct lf_build *b, size_t col, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->errsz)
		snprintf(b->err, b->errsz, "column %zu: %s", col, msg);
	return -1;
}

static struct lf_tok *lf_push(struct lf_build *b, size_t col)
{
	struct logformat *lf = b->lf;

	if (lf->n == b->alloc) {
		size_t na = b->alloc ? b->alloc * 2 : 32;
		struct lf_tok *t;

		if (na > LF_MAX_TOKENS) {
			lf_err(b, col, "format too long (more than 1024 items)");
			return NULL;
		}
		t = realloc(lf->toks, na * sizeof(*t));
		if (!t) {
			lf_err(b, col, "out of memory");
			return NULL;
		}
		lf->toks = t;
		b->alloc = na;
	}
	memset(&lf->toks[lf->n], 0, sizeof(lf->toks[0]));
	return &lf->toks[lf->n++];
}

/* Appends one literal byte, merging with a literal token just before. */
static int lf_lit(struct lf_build *b, char c, size_t col)
{
	struct logformat *lf = b->lf;
	struct lf_tok *t;

	if (b->lits_len == b->lits_alloc) {
		size_t na = b->lits_alloc ? b->lits_alloc * 2 : 64;
		char *l = realloc(lf->lits, na);

		if (!l)
			return lf_err(b, col, "out of memory");
		lf->lits = l;
		b->lits_alloc = na;
	}
	if (c == ' ') {
		if (lf->n && lf->toks[lf->n - 1].type == T_SP)
			return 0;
		t = lf_push(b, col);
		if (!t)
			return -1;
		t->type = T_SP;
		return 0;
	}
	if (!lf->n || lf->toks[lf->n - 1].type != T_LIT) {
		t = lf_push(b, col);
		if (!t)
			return -1;
		t->type = T_LIT;
		t->lit_off = (uint32_t)b->lits_len;
	}
	lf->lits[b->lits_len++] = c;
	lf->toks[lf->n - 1].lit_len++;
	return 0;
}

/* Parses "{+Q,-X,…}" at f[i] (f[i] == '{'). Updates *q and *x. Returns the index after '}'. */
static long lf_flags(struct lf_build *b, const char *f, size_t i, int *q, int *x)
{
	size_t start = i;

	i++;
	while (f[i] && f[i] != '}') {
		size_t s = i;
		int on;

		if (f[i] != '+' && f[i] != '-')
			return lf_err(b, i + 1, "flags must start with '+' or '-', not '%.*s'", 1,
				      f + i);
		on = f[i] == '+';
		i++;
		while (f[i] && f[i] != '}' && f[i] != ',')
			i++;
		if (i - s == 2 && f[s + 1] == 'Q')
			*q = on;
		else if (i - s == 2 && f[s + 1] == 'X')
			*x = on;
		else if (i - s == 2 && (f[s + 1] == 'E' || f[s + 1] == 'M'))
			; /* escaping flags do not change the shape */
		else if ((i - s == 5 && !memcmp(f + s + 1, "json", 4)) ||
			 (i - s == 5 && !memcmp(f + s + 1, "cbor", 4)))
			return lf_err(b, s + 1, "the '%.*s' encoding is not supported",
				      (int)(i - s), f + s);
		else
			return lf_err(b, s + 1, "unknown flag '%.*s'", (int)(i - s), f + s);
		if (f[i] == ',')
			i++;
	}
	if (f[i] != '}')
		return lf_err(b, start + 1, "unterminated '%%{'");
	return (long)i + 1;
}

struct logformat *logformat_compile(const char *fmt, char *err, size_t errsz)
{
	struct lf_build b = {NULL, 0, 0, 0, err, errsz};
	int gq = 0, gx = 0; /* flags set by %{…}o for all that follows */
	const char *f = fmt;
	size_t i = 0;

	b.lf = calloc(1, sizeof(*b.lf));
	if (!b.lf) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	for (size_t k = 0; k < sizeof(lf_presets) / sizeof(lf_presets[0]); k++) {
		if (!strcmp(fmt, lf_presets[k][0])) {
			f = lf_presets[k][1];
			if (!strcmp(fmt, "clf"))
				b.lf->flags = LR_F_CLF;
		}
	}
	b.lf->http = LR_TCP;
	while (f[i]) {
		size_t col = i + 1;
		int q = gq, x = gx;
		long r;

		if (f[i] == '\\' && (f[i + 1] == '"' || f[i + 1] == '\\')) {
			if (lf_lit(&b, f[i + 1], col) < 0)
				goto fail;
			i += 2;
			continue;
		}
		if (f[i] == ' ' || f[i] == '\t') {
			if (lf_lit(&b, ' ', col) < 0)
				goto fail;
			i++;
			continue;
		}
		if (f[i] != '%') {
			if (lf_lit(&b, f[i], col) < 0)
				goto fail;
			i++;
			continue;
		}
		/* '%' */
		i++;
		if (f[i] == '%') {
			if (lf_lit(&b, '%', col) < 0)
				goto fail;
			i++;
			continue;
		}
		if (!f[i]) {
			lf_err(&b, col, "'%%' at the end of the format (write %%%% for a '%%')");
			goto fail;
		}
		if (f[i] == '{') {
			r = lf_flags(&b, f, i, &q, &x);
			if (r < 0)
				goto fail;
			i = (size_t)r;
			if (f[i] == 'o' && !is_alnum(f[i + 1])) {
				gq = q, gx = x;
				i++;
				continue;
			}
		}
		if (f[i] == '[') {
			size_t s = i + 1, e = s, nlen;
			struct lf_tok *t;

			while (f[e] && f[e] != ']')
				e++;
			if (!f[e]) {
				lf_err(&b, col,
				       "unterminated '%%[' (a sample expression ends with ']')");
				goto fail;
			}
			if (e == s) {
				lf_err(&b, col, "empty sample expression '%%[]'");
				goto fail;
			}
			t = lf_push(&b, col);
			if (!t)
				goto fail;
			t->type = T_VAR;
			t->cls = C_STR;
			t->field = F_NONE;
			t->quoted = (unsigned char)q;
			t->hex = (unsigned char)x;
			for (nlen = 0; s + nlen < e && f[s + nlen] != ',' && f[s + nlen] != '(';
			     nlen++)
				;
			for (size_t k = 0; k < sizeof(lf_samples) / sizeof(lf_samples[0]); k++) {
				if (strlen(lf_samples[k].name) == nlen &&
				    !memcmp(lf_samples[k].name, f + s, nlen)) {
					t->field = lf_samples[k].field;
					t->cls = lf_samples[k].cls;
				}
			}
			b.lf->nvars++;
			i = e + 1;
			continue;
		}
		{
			size_t s = i, n;
			const struct lf_var *v = NULL;
			struct lf_tok *t;

			while (is_alnum(f[i]))
				i++;
			n = i - s;
			if (n == 0) {
				lf_err(&b, col, "missing variable name after '%.*s'", 1, "%");
				goto fail;
			}
			for (size_t k = 0; k < sizeof(lf_vars) / sizeof(lf_vars[0]); k++)
				if (strlen(lf_vars[k].name) == n &&
				    !memcmp(lf_vars[k].name, f + s, n))
					v = &lf_vars[k];
			if (!v && n == 1 && f[s] == 'o') {
				lf_err(&b, col, "'%%o' needs flags, as in '%%{+Q}o'");
				goto fail;
			}
			if (!v) {
				lf_err(&b, col, "unknown variable '%%%.*s'", (int)n, f + s);
				goto fail;
			}
			t = lf_push(&b, col);
			if (!t)
				goto fail;
			t->type = T_VAR;
			t->cls = v->cls;
			t->field = v->field;
			t->quoted = (unsigned char)q;
			t->hex = (unsigned char)x;
			b.lf->nvars++;
			if (v->http)
				b.lf->http = LR_HTTP;
			if (v->field == F_TA)
				b.lf->has_ta = 1;
			if (v->field == F_TR)
				b.lf->has_tr = 1;
		}
	}
	if (b.lf->nvars == 0) {
		lf_err(&b, 1, "the format has no variable");
		goto fail;
	}
	/* each variable learns which byte ends it */
	for (size_t k = 0; k < b.lf->n; k++) {
		struct lf_tok *t = &b.lf->toks[k];

		t->stop = ' ';
		if (t->type == T_LIT)
			t->stop = b.lf->lits[t->lit_off];
		else if (t->type == T_VAR && k + 1 < b.lf->n && b.lf->toks[k + 1].type == T_LIT)
			t->stop = b.lf->lits[b.lf->toks[k + 1].lit_off];
	}
	return b.lf;
fail:
	logformat_free(b.lf);
	return NULL;
}

void logformat_free(struct logformat *lf)
{
	if (!lf)
		return;
	free(lf->toks);
	free(lf->lits);
	free(lf);
}

/* ---------------------------------------------------------------------------------------- */
/* The matcher */

static int hexval(int c)
{
	if (lf_is_digit(c))
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Integer value of [p, e): optional '+' (sets *plus) or '-', decimal or hex digits. */
static int lf_num(const char *p, const char *e, int hex, int64_t *v, int *plus)
{
	int neg = 0;
	int64_t x = 0;

	*plus = 0;
	if (p < e && *p == '+')
		*plus = 1, p++;
	else if (p < e && *p == '-')
		neg = 1, p++;
	if (p >= e || e - p > (hex ? 15 : 18))
		return -1;
	for (; p < e; p++) {
		int d = hex ? hexval(*p) : (lf_is_digit(*p) ? *p - '0' : -1);

		if (d < 0)
			return -1;
		x = x * (hex ? 16 : 10) + d;
	}
	*v = neg ? -x : x;
	return 0;
}

static int32_t lf_timer(int64_t v)
{
	if (v < 0)
		return LR_TIMER_NONE;
	return v > INT32_MAX ? INT32_MAX : (int32_t)v;
}

struct lf_state {
	int64_t acc_ms, req_ms, extra_ms;
	int date_has_ms;
	const char *sslerr;
};

static void lf_set(struct lr_str *s, const char *p, const char *e)
{
	s->p = p;
	s->len = (uint32_t)(e - p);
}

/* Stores a string value [p, e) into its field ("-" and "" are absent). */
static void lf_store_str(const struct lf_tok *t, const char *p, const char *e, struct logrec *out,
			 struct lf_state *st)
{
	struct lr_str *dst = NULL;

	if (t->field == F_SSLERR_START) {
		st->sslerr = p;
		return;
	}
	if (t->field == F_SSLERR_END) {
		if (st->sslerr)
			lf_set(&out->ssl_errors, st->sslerr, e);
		return;
	}
	if (e == p || (e - p == 1 && *p == '-'))
		return;
	switch (t->field) {
	case F_F:
		dst = &out->frontend;
		break;
	case F_FT:
		if (e[-1] == '~') {
			out->flags |= LR_F_SSL;
			e--;
		}
		dst = &out->frontend;
		break;
	case F_B:
		dst = &out->backend;
		break;
	case F_S:
		dst = &out->server;
		break;
	case F_CC:
		dst = &out->cookie_req;
		break;
	case F_CS:
		dst = &out->cookie_resp;
		break;
	case F_TERM: {
		size_t n = (size_t)(e - p) > 4 ? 4 : (size_t)(e - p);

		memcpy(out->term, p, n);
		out->term[n] = 0;
		return;
	}
	case F_HR:
		dst = &out->cap_req;
		break;
	case F_HS:
		dst = &out->cap_resp;
		break;
	case F_HM:
		dst = &out->method;
		break;
	case F_HU:
		dst = &out->uri;
		break;
	case F_HP:
		dst = &out->path;
		break;
	case F_HQ:
		if (*p == '?')
			p++;
		dst = &out->query;
		break;
	case F_HV:
		dst = &out->version;
		break;
	case F_ID:
		dst = &out->unique_id;
		break;
	case F_SSLV:
		dst = &out->ssl_version;
		break;
	case F_SSLC:
		dst = &out->ssl_cipher;
		break;
	case F_SNI:
		dst = &out->ssl_sni;
		break;
	case F_R:
		dst = &out->request;
		break;
	default:
		return;
	}
	lf_set(dst, p, e);
}

static void lf_store_num(const struct logformat *lf, const struct lf_tok *t, int64_t v, int plus,
			 struct logrec *out, struct lf_state *st)
{
	switch (t->field) {
	case F_CP:
		out->client_port = v;
		break;
	case F_FP:
		out->dst_port = v;
		break;
	case F_TS:
		if (v >= 0 && v < (INT64_MAX / 1000))
			st->acc_ms = v * 1000;
		break;
	case F_MS:
		if (v >= 0 && v < 1000)
			st->extra_ms = v;
		break;
	case F_TR:
		out->t_req = lf_timer(v);
		break;
	case F_TQ:
		if (!lf->has_tr)
			out->t_req = lf_timer(v);
		break;
	case F_TW:
		out->t_wait = lf_timer(v);
		break;
	case F_TC:
		out->t_connect = lf_timer(v);
		break;
	case F_TRESP:
		out->t_resp = lf_timer(v);
		break;
	case F_TA:
		out->t_active = lf_timer(v);
		if (plus)
			out->flags |= LR_F_LOGASAP;
		break;
	case F_TT:
		if (!lf->has_ta) {
			out->t_active = lf_timer(v);
			if (plus)
				out->flags |= LR_F_LOGASAP;
		}
		break;
	case F_ST:
		if (v >= 0)
			out->status_code = v;
		break;
	case F_BYTES:
		if (v >= 0)
			out->bytes_read = v;
		if (plus)
			out->flags |= LR_F_LOGASAP;
		break;
	case F_UP:
		if (v >= 0)
			out->bytes_uploaded = v;
		break;
	case F_AC:
		out->actconn = v;
		break;
	case F_FC:
		out->feconn = v;
		break;
	case F_BC:
		out->beconn = v;
		break;
	case F_SC:
		out->srv_conn = v;
		break;
	case F_RC:
		out->retries = v;
		if (plus)
			out->flags |= LR_F_REDISPATCH;
		break;
	case F_SQ:
		out->srv_queue = v;
		break;
	case F_BQ:
		out->backend_queue = v;
		break;
	default:
		break;
	}
}

/* Where an unbracketed address in [p, e) ends when a ':' and a port follow it: at the first
 * ':' followed by digits and then a byte that cannot continue an address (so "::1:80",
 * "2001:db8::5:443", "::ffff:10.0.0.1:1234" and "10.0.0.1:80_…" all split right). Falls back
 * to the last ':'. Returns the ':' or NULL when there is none. */
static const char *lf_addr_end(const char *p, const char *e)
{
	const char *last = NULL;

	for (const char *c = p; c < e; c++) {
		const char *d;

		if (*c != ':')
			continue;
		last = c;
		for (d = c + 1; d < e && lf_is_digit(*d); d++)
			;
		if (d > c + 1 && (d == e || !(hexval(*d) >= 0 || *d == ':' || *d == '.')))
			return c;
	}
	return last;
}

/* An address value (no port): brackets removed, "-" absent. */
static void lf_store_ip(const struct lf_tok *t, const char *p, const char *e, struct logrec *out)
{
	struct lr_str *ip = t->field == F_CI   ? &out->client_ip
			    : t->field == F_FI ? &out->dst_ip
					       : NULL;

	if (!ip)
		return;
	if (e - p >= 2 && *p == '[' && e[-1] == ']')
		p++, e--;
	if (e == p || (e - p == 1 && *p == '-') || (e - p == 7 && !memcmp(p, "unknown", 7)))
		return;
	lf_set(ip, p, e);
}

/* Position of the closing quote of a string opened at p ('"' or syslog-ng's '\"'); sets *vs
 * to the value start. Returns NULL when the string is not closed. */
static const char *lf_quoted(const char *p, const char *e, const char **vs)
{
	int esc = *p == '\\';
	const char *q;

	p += esc + 1;
	*vs = p;
	for (q = p; q < e; q++)
		if (*q == '"' && (!esc || (q > p && q[-1] == '\\')))
			return esc ? q - 1 : q;
	return NULL;
}

static int lf_at_quote(const char *p, const char *e)
{
	return p < e && (*p == '"' || (*p == '\\' && e - p >= 2 && p[1] == '"'));
}

/* End of an unquoted word at p: the first space or stop byte. */
static const char *lf_word(const char *p, const char *e, char stop)
{
	while (p < e && *p != ' ' && *p != stop)
		p++;
	return p;
}

int logformat_match(const struct logformat *lf, const char *p, const char *e, int64_t tz_off_ms,
		    struct logrec *out)
{
	struct lf_state st = {LR_NONE, LR_NONE, LR_NONE, 0, NULL};
	int matched = 0;
	size_t k;

	for (k = 0; k < lf->n; k++) {
		const struct lf_tok *t = &lf->toks[k];
		const char *ve, *vs;

		if (p >= e && t->type != T_SP) {
			/* a variable that may be absent does not make the line short */
			if (t->type == T_VAR && (t->cls == C_CAP || t->cls == C_CAPL))
				continue;
			/* ended between fields: not provably cut, so not this format (the
			 * built-in detection may still read it) */
			return 0;
		}
		switch (t->type) {
		case T_SP:
			while (p < e && *p == ' ')
				p++;
			continue;
		case T_LIT:
			/* most literals are one separator byte: skip memcmp for them */
			if ((size_t)(e - p) < t->lit_len ||
			    (t->lit_len == 1 ? *p != t->stop
					     : memcmp(p, lf->lits + t->lit_off, t->lit_len)))
				return 0;
			p += t->lit_len;
			continue;
		default:
			break;
		}
		matched++;
		switch (t->cls) {
		case C_IP:
			if (t->quoted && lf_at_quote(p, e)) {
				ve = lf_quoted(p, e, &vs);
				if (!ve)
					goto short_line;
				lf_store_ip(t, vs, ve, out);
				p = ve + 1 + (*p == '\\');
				break;
			}
			if (t->stop == ':' && !t->hex) {
				ve = lf_addr_end(p, lf_word(p, e, ' '));
				if (!ve)
					return 0;
			} else {
				ve = lf_word(p, e, t->stop);
				if (t->stop != ' ' && (ve == e || *ve != t->stop))
					return 0;
			}
			lf_store_ip(t, p, ve, out);
			p = ve;
			break;
		case C_NUM: {
			int64_t v;
			int plus;

			ve = lf_word(p, e, t->stop);
			if (t->quoted && ve - p >= 2 && *p == '"' && ve[-1] == '"') {
				if (ve - p > 2 && lf_num(p + 1, ve - 1, t->hex, &v, &plus) < 0)
					return 0;
				if (ve - p > 2)
					lf_store_num(lf, t, v, plus, out, &st);
			} else if (!(ve - p == 1 && *p == '-')) {
				if (lf_num(p, ve, t->hex, &v, &plus) < 0)
					return 0;
				lf_store_num(lf, t, v, plus, out, &st);
			}
			p = ve;
			break;
		}
		case C_DATE:
		case C_DATEZ: {
			int64_t ms;
			int has_ms;

			if (p < e && *p == t->stop && t->stop != ' ')
				break; /* an empty date: "[]" */
			ve = lf_date(p, e, t->cls == C_DATEZ, tz_off_ms, &ms, &has_ms);
			if (!ve)
				return 0;
			if (t->field == F_DATE_REQ) {
				st.req_ms = ms;
				st.date_has_ms = has_ms;
			} else if (st.acc_ms == LR_NONE) {
				st.acc_ms = ms;
				if (st.req_ms == LR_NONE)
					st.date_has_ms = has_ms;
			}
			p = ve;
			break;
		}
		case C_CAP:
			if (*p != '{')
				break; /* no captures of that kind */
			ve = memchr(p + 1, '}', (size_t)(e - p - 1));
			/* an empty block "{}" is kept as present and empty */
			lf_set(t->field == F_HR ? &out->cap_req : &out->cap_resp, p + 1,
			       ve ? ve : e);
			if (!ve) {
				p = e;
				goto short_line;
			}
			p = ve + 1;
			break;
		case C_CAPL:
			if (lf_at_quote(p, e)) {
				const char *first = p, *last = NULL;

				while (lf_at_quote(p, e)) {
					ve = lf_quoted(p, e, &vs);
					if (!ve)
						goto short_line;
					p = ve + 1 + (*first == '\\');
					last = ve;
					if (!(p + 1 < e && *p == ' ' && lf_at_quote(p + 1, e)))
						break;
					p++;
				}
				if (last && last > first + 1)
					lf_store_str(t, first + 1 + (*first == '\\'), last, out,
						     &st);
			} else {
				ve = lf_word(p, e, t->stop);
				lf_store_str(t, p, ve, out, &st);
				p = ve;
			}
			break;
		case C_REQ:
			if (lf_at_quote(p, e)) {
				ve = lf_quoted(p, e, &vs);
				if (!ve) {
					lf_set(&out->request, vs, e);
					out->flags |= LR_F_TRUNCATED;
					out->reason = "line cut in the request";
					p = e;
					goto short_line;
				}
				lf_set(&out->request, vs, ve);
				p = ve + 1 + (*p == '\\');
			} else {
				/* unquoted: METHOD URI VERSION */
				const char *s = p;

				for (int w = 0; w < 3 && p < e; w++) {
					if (w)
						while (p < e && *p == ' ')
							p++;
					p = lf_word(p, e, w == 2 ? t->stop : ' ');
				}
				lf_set(&out->request, s, p);
			}
			break;
		case C_STR:
		default:
			if (t->quoted && lf_at_quote(p, e)) {
				ve = lf_quoted(p, e, &vs);
				if (!ve) {
					lf_store_str(t, vs, e, out, &st);
					p = e;
					goto short_line;
				}
				lf_store_str(t, vs, ve, out, &st);
				p = ve + 1 + (*p == '\\');
			} else {
				ve = lf_word(p, e, t->stop);
				lf_store_str(t, p, ve, out, &st);
				p = ve;
			}
			break;
		}
	}
	/* anything left but spaces means another format */
	while (p < e && *p == ' ')
		p++;
	if (p < e)
		return 0;
	if (0) {
	short_line:
		/* an unclosed quote or brace: the line was cut; still this format if enough
		 * of it matched */
		if (matched < 3 || lf->nvars < 3)
			return 0;
		out->flags |= LR_F_TRUNCATED;
		out->status = LR_PARTIAL;
		if (!out->reason)
			out->reason = "line ends early";
	}
	out->kind = lf->http;
	out->flags |= lf->flags;
	if (st.req_ms != LR_NONE)
		out->ts_ms = st.req_ms;
	else if (st.acc_ms != LR_NONE)
		out->ts_ms = st.acc_ms;
	if (out->ts_ms != LR_NONE && !st.date_has_ms && st.extra_ms != LR_NONE)
		out->ts_ms += st.extra_ms;
	if (out->request.p) {
		lf_split_request(out);
		if ((out->flags & LR_F_TRUNCATED) && out->status == LR_OK) {
			out->status = LR_PARTIAL;
			out->reason = "request without version";
		}
	} else {
		if (out->method.p && out->method.len == 8 &&
		    !memcmp(out->method.p, "<BADREQ>", 8)) {
			out->flags |= LR_F_BADREQ;
			out->method.p = NULL;
			out->method.len = 0;
		}
		if (out->uri.p && !out->path.p)
			split_uri(out);
	}
	lf_server_flags(out);
	return 1;
}
