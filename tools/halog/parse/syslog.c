/* Syslog framing: <PRI>, RFC3164 (with or without HOST), RFC5424 (with structured data), the
 * short/priority/timed/iso/raw forms of `log … format`, and the forms relays write to files. */
#include "parse/syslog.h"

#include <string.h>

#include "parse/logformat.h"

#define MS_PER_DAY 86400000LL

static int sy_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Two digits at p as a number, or -1. */
static int two_digits(const char *p)
{
	if (!sy_is_digit(p[0]) || !sy_is_digit(p[1]))
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* "hh:mm:ss" at p (8 bytes readable) to seconds of the day, or -1. */
static int read_hms(const char *p)
{
	int h = two_digits(p), m = two_digits(p + 3), s = two_digits(p + 6);

	if (h < 0 || m < 0 || s < 0 || p[2] != ':' || p[5] != ':' || h > 23 || m > 59 || s > 60)
		return -1;
	return h * 3600 + m * 60 + s;
}

/* RFC3164 "Mmm dd hh:mm:ss" (day space- or zero-padded, or one digit) followed by a space or
 * the end. Returns the end of the date, or NULL. */
static const char *read_bsd_date(const char *p, const char *e, struct syslog_noyear *ny)
{
	int mon, day, sod;

	if (e - p < 14 || p[3] != ' ')
		return NULL;
	mon = lf_month(p);
	if (!mon)
		return NULL;
	p += 4;
	if (p[0] == ' ' && sy_is_digit(p[1])) {
		day = p[1] - '0';
		p += 2;
	} else if (sy_is_digit(p[0]) && sy_is_digit(p[1])) {
		day = two_digits(p);
		p += 2;
	} else if (sy_is_digit(p[0]) && p[1] == ' ') {
		day = p[0] - '0';
		p += 1;
	} else {
		return NULL;
	}
	if (day < 1 || day > 31 || e - p < 9 || p[0] != ' ')
		return NULL;
	sod = read_hms(p + 1);
	if (sod < 0)
		return NULL;
	p += 9;
	if (p < e && *p != ' ')
		return NULL;
	ny->mon = mon;
	ny->mday = day;
	ny->sec_of_day = sod;
	return p;
}

/* ISO 8601 "YYYY-MM-DDThh:mm:ss[.frac][Z|±hh:mm]" followed by a space or the end. A time
 * without an offset is local (tz_off_ms). Returns the end, or NULL. */
static const char *read_iso_date(const char *p, const char *e, int64_t tz_off_ms, int64_t *ms)
{
	int y1, y2, mo, d, sod, frac = 0, fdig = 0;
	int64_t off = tz_off_ms;

	if (e - p < 19 || p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != ' '))
		return NULL;
	y1 = two_digits(p);
	y2 = two_digits(p + 2);
	mo = two_digits(p + 5);
	d = two_digits(p + 8);
	sod = read_hms(p + 11);
	if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || sod < 0)
		return NULL;
	p += 19;
	if (p < e && *p == '.') {
		p++;
		while (p < e && sy_is_digit(*p)) {
			if (fdig < 3) {
				frac = frac * 10 + (*p - '0');
				fdig++;
			}
			p++;
		}
		while (fdig < 3) {
			frac *= 10;
			fdig++;
		}
	}
	if (p < e && *p == 'Z') {
		off = 0;
		p++;
	} else if (p < e && (*p == '+' || *p == '-')) {
		int oh, om;

		if (e - p < 6 || p[3] != ':')
			return NULL;
		oh = two_digits(p + 1);
		om = two_digits(p + 4);
		if (oh < 0 || om < 0 || oh > 23 || om > 59)
			return NULL;
		off = (oh * 60 + om) * 60000LL;
		if (*p == '-')
			off = -off;
		p += 6;
	}
	if (p < e && *p != ' ')
		return NULL;
	*ms = lf_days_from_civil(y1 * 100 + y2, (unsigned)mo, (unsigned)d) * MS_PER_DAY +
	      sod * 1000LL + frac - off;
	return p;
}

/* A syslog tag token [p, e) ending with ':': "name:" or "name[pid]:". Fills tag and pid. */
static int read_tag(const char *p, const char *e, struct logrec *out)
{
	const char *q, *name_end;
	int64_t pid = LR_NONE;

	if (e - p < 2 || e[-1] != ':' || e - p > 64)
		return 0;
	name_end = e - 1;
	if (name_end[-1] == ']') {
		const char *lb = memchr(p, '[', (size_t)(name_end - p));

		if (!lb || lb == p || name_end - 1 - lb < 1 || name_end - 1 - lb > 10)
			return 0;
		pid = 0;
		for (q = lb + 1; q < name_end - 1; q++) {
			if (!sy_is_digit(*q))
				return 0;
			pid = pid * 10 + (*q - '0');
		}
		name_end = lb;
	}
	for (q = p; q < name_end; q++) {
		unsigned char c = (unsigned char)*q;

		if (c <= ' ' || c >= 0x7f || c == '[' || c == ']' || c == ':' || c == '"')
			return 0;
	}
	if (name_end == p)
		return 0;
	out->tag.p = p;
	out->tag.len = (uint32_t)(name_end - p);
	out->pid = pid;
	return 1;
}

static const char *skip_spaces(const char *p, const char *e)
{
	while (p < e && *p == ' ')
		p++;
	return p;
}

static const char *token_end(const char *p, const char *e)
{
	const char *s = memchr(p, ' ', (size_t)(e - p));

	return s ? s : e;
}

static void sy_set_str(struct lr_str *s, const char *p, const char *e)
{
	s->p = p;
	s->len = (uint32_t)(e - p);
}

/* After a date: optional "HOST " then "TAG[PID]: ". Returns the body start; sets *tagged. */
static const char *read_host_tag(const char *p, const char *e, struct logrec *out, int *tagged)
{
	const char *t1 = skip_spaces(p, e), *t1e, *t2, *t2e;

	*tagged = 0;
	if (t1 >= e)
		return t1;
	t1e = token_end(t1, e);
	if (read_tag(t1, t1e, out)) {
		*tagged = 1;
		return skip_spaces(t1e, e);
	}
	if (t1e >= e)
		return t1;
	t2 = skip_spaces(t1e, e);
	t2e = token_end(t2, e);
	if (t2 < e && read_tag(t2, t2e, out)) {
		if (!(t1e - t1 == 1 && *t1 == '-'))
			sy_set_str(&out->host, t1, t1e);
		*tagged = 1;
		return skip_spaces(t2e, e);
	}
	return t1;
}

/* RFC5424 structured data at p: "-", one or more "[…]" (quotes and \-escapes honoured), or
 * some other token (log-format-sd is free text). Returns its end. */
static const char *read_sd(const char *p, const char *e)
{
	if (p >= e)
		return p;
	if (*p != '[')
		return token_end(p, e);
	while (p < e && *p == '[') {
		int inq = 0;

		p++;
		while (p < e) {
			if (*p == '\\' && p + 1 < e) {
				p += 2;
				continue;
			}
			if (*p == '"')
				inq = !inq;
			else if (*p == ']' && !inq)
				break;
			p++;
		}
		if (p < e)
			p++; /* the ']' */
	}
	return p;
}

static const char *read_rfc5424(const char *p, const char *e, int64_t tz_off_ms, struct logrec *out)
{
	const char *t, *te;
	int64_t ms;

	/* TIMESTAMP */
	te = token_end(p, e);
	if (read_iso_date(p, te, tz_off_ms, &ms) == te)
		out->syslog_ms = ms;
	/* HOST */
	t = skip_spaces(te, e);
	te = token_end(t, e);
	if (te > t && !(te - t == 1 && *t == '-'))
		sy_set_str(&out->host, t, te);
	/* APP-NAME */
	t = skip_spaces(te, e);
	te = token_end(t, e);
	if (te > t && !(te - t == 1 && *t == '-'))
		sy_set_str(&out->tag, t, te);
	/* PROCID */
	t = skip_spaces(te, e);
	te = token_end(t, e);
	if (te > t && te - t <= 18) {
		int64_t v = 0;
		const char *q;

		for (q = t; q < te && sy_is_digit(*q); q++)
			v = v * 10 + (*q - '0');
		if (q == te)
			out->pid = v;
	}
	/* MSGID */
	t = skip_spaces(te, e);
	te = token_end(t, e);
	/* SD */
	t = skip_spaces(te, e);
	te = read_sd(t, e);
	if (te > t && !(te - t == 1 && *t == '-'))
		sy_set_str(&out->sd, t, te);
	/* MSG: one space, two for rsyslog's protocol-23 template */
	return skip_spaces(te, e);
}

int syslog_parse(const char *buf, size_t len, int64_t tz_off_ms, struct logrec *out,
		 struct syslog_noyear *ny)
{
	const char *p = buf, *e = buf + len, *q;
	int tagged;

	ny->mon = 0;
	if (p < e && *p == '<') {
		int v = 0, n = 0;

		q = p + 1;
		while (q < e && sy_is_digit(*q) && n < 3) {
			v = v * 10 + (*q - '0');
			q++;
			n++;
		}
		if (n > 0 && q < e && *q == '>' && v <= 191) {
			out->pri = v;
			p = q + 1;
		}
	}
	if (out->pri >= 0 && e - p >= 3 && p[0] == '1' && p[1] == ' ' &&
	    (sy_is_digit(p[2]) || p[2] == '-')) {
		out->framing = LR_FR_RFC5424;
		p = read_rfc5424(p + 2, e, tz_off_ms, out);
		sy_set_str(&out->body, p, e);
		return 1;
	}
	if ((q = read_bsd_date(p, e, ny))) {
		out->framing = out->pri >= 0 ? LR_FR_RFC3164 : LR_FR_FILE;
		p = read_host_tag(q, e, out, &tagged);
		sy_set_str(&out->body, p, e);
		return 1;
	}
	if ((q = read_iso_date(p, e, tz_off_ms, &out->syslog_ms))) {
		p = read_host_tag(q, e, out, &tagged);
		if (out->pri >= 0)
			out->framing = LR_FR_TIMED;
		else
			out->framing = tagged ? LR_FR_FILE : LR_FR_ISO;
		sy_set_str(&out->body, p, e);
		return 1;
	}
	if (out->pri >= 0) {
		out->framing = out->pri < 8 ? LR_FR_SHORT : LR_FR_PRIORITY;
		sy_set_str(&out->body, p, e);
		return 1;
	}
	/* A pipeline that kept only "tag[pid]: " */
	q = token_end(p, e);
	if (q - p > 3 && q[-2] == ']' && read_tag(p, q, out)) {
		sy_set_str(&out->body, skip_spaces(q, e), e);
		return 1;
	}
	sy_set_str(&out->body, p, e);
	return 0;
}

/* Year of a unix ms date (UTC). */
static int64_t year_of(int64_t ms)
{
	int64_t z = (ms >= 0 ? ms / MS_PER_DAY : (ms - MS_PER_DAY + 1) / MS_PER_DAY) + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;

	return yoe + era * 400 + (m <= 2);
}

/* The last year and day syslog_resolve_year computed: the reference's year, valid while the
 * local reference stays in [lo, hi) (that year's span), and the ms of mon/mday in it. The lines
 * of a log share both for hours, so the calendar runs once a day. Only a memo of pure
 * functions, so it is per thread and invisible to callers. */
static _Thread_local struct {
	int64_t lo, hi; /* [lo, hi): local ms of year y; empty at first */
	int64_t y;
	int mon, mday;	/* 0: day_ms not computed for y */
	int64_t day_ms; /* lf_days_from_civil(y, mon, mday) in ms */
} sy_year;

void syslog_resolve_year(const struct syslog_noyear *ny, int64_t ref_ms, int64_t tz_off_ms,
			 struct logrec *out)
{
	const int64_t half_year = 183 * MS_PER_DAY;
	int64_t y, ms, local = ref_ms + tz_off_ms;

	if (!ny->mon || ref_ms == LR_NONE)
		return;
	/* the date in the reference's year, moved by a year when that is closer */
	if (local < sy_year.lo || local >= sy_year.hi) {
		y = year_of(local);
		sy_year.y = y;
		sy_year.lo = lf_days_from_civil(y, 1, 1) * MS_PER_DAY;
		sy_year.hi = lf_days_from_civil(y + 1, 1, 1) * MS_PER_DAY;
		sy_year.mon = 0;
	}
	y = sy_year.y;
	if (sy_year.mon != ny->mon || sy_year.mday != ny->mday) {
		sy_year.day_ms =
			lf_days_from_civil(y, (unsigned)ny->mon, (unsigned)ny->mday) * MS_PER_DAY;
		sy_year.mon = ny->mon;
		sy_year.mday = ny->mday;
	}
	ms = sy_year.day_ms + ny->sec_of_day * 1000LL - tz_off_ms;
	if (ms - ref_ms > half_year)
		ms = lf_days_from_civil(y - 1, (unsigned)ny->mon, (unsigned)ny->mday) * MS_PER_DAY +
		     ny->sec_of_day * 1000LL - tz_off_ms;
	else if (ref_ms - ms > half_year)
		ms = lf_days_from_civil(y + 1, (unsigned)ny->mon, (unsigned)ny->mday) * MS_PER_DAY +
		     ny->sec_of_day * 1000LL - tz_off_ms;
	out->syslog_ms = ms;
}
