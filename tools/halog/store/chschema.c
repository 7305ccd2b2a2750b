/* halog's ClickHouse schema: the columns of `lines` (one table for the writer and the readers),
 * the RowBinary encoding of a row, and the statements of `halog clickhouse init`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/chschema.h"
#include "store/rollup.h"

/* How a column is typed in ClickHouse and where its value comes from. Absent values keep the
 * parser's sentinels (LR_NONE, LR_TIMER_NONE, -1 for pri), absent strings are ''. */
enum chc_type { CT_U8, CT_I16, CT_I32, CT_U32, CT_I64, CT_U64, CT_STR };
enum chc_src {
	CS_STR,	 /* struct lr_str at off */
	CS_I64,	 /* int64_t at off */
	CS_I32,	 /* int32_t at off */
	CS_INT,	 /* int or enum at off */
	CS_U32,	 /* uint32_t at off */
	CS_CSTR, /* const char * at off (reason) */
	CS_TERM, /* char[5] at off */
	CS_SP,	 /* a value of its own: off is an enum ch_special */
};
enum ch_special {
	SP_TS,	   /* logged time (ch_logged_ms) */
	SP_RECV,   /* receive time */
	SP_BATCH,  /* chrow_id.batch */
	SP_SEQ,	   /* chrow_id.seq */
	SP_SOURCE, /* store_msg.source */
	SP_RAW,	   /* store_msg.raw */
	SP_MFLAGS, /* STORE_MSG_* */
	SP_ERR,	   /* rollup_is_error (traffic), else 0 */
	SP_CLS,	   /* rollup_class_of the status (HTTP), else 255 */
	SP_TERMKEY, /* the termination state as rollup.c keys it, 0 when none */
	SP_HB0,	    /* hist_bucket of rollup timer 0..4 (traffic), -1 when none */
	SP_EMPTIES = SP_HB0 + RT_N, /* bit k: the k-th CS_STR column is present and empty */
	SP_FIELDS,		    /* the packed fields (schema 3) */
};

struct ch_col {
	const char *name;
	enum chc_type type;
	enum chc_src src;
	size_t off;
	int wide; /* only in the wide rows of schema 2: packed into `fields` since */
};

#define R(f) offsetof(struct logrec, f)
/* Append only: the order is the row's order in RowBinary. A row of schema 3 has the columns not
 * marked wide (1), in this order; a row of schema 2 had every column but `fields`. */
static const struct ch_col ch_cols[] = {
	{"ts_ms", CT_I64, CS_SP, SP_TS, 0},
	{"recv_ms", CT_I64, CS_SP, SP_RECV, 0},
	{"batch", CT_U64, CS_SP, SP_BATCH, 0},
	{"seq", CT_U32, CS_SP, SP_SEQ, 0},
	{"source", CT_STR, CS_SP, SP_SOURCE, 0},
	{"raw", CT_STR, CS_SP, SP_RAW, 0},
	{"mflags", CT_U8, CS_SP, SP_MFLAGS, 0},
	{"kind", CT_U8, CS_INT, R(kind), 0},
	{"status", CT_U8, CS_INT, R(status), 0},
	{"reason", CT_STR, CS_CSTR, R(reason), 1},
	{"framing", CT_U8, CS_INT, R(framing), 1},
	{"pri", CT_I16, CS_INT, R(pri), 1},
	{"syslog_ms", CT_I64, CS_I64, R(syslog_ms), 1},
	{"host", CT_STR, CS_STR, R(host), 1},
	{"tag", CT_STR, CS_STR, R(tag), 1},
	{"pid", CT_I64, CS_I64, R(pid), 1},
	{"sd", CT_STR, CS_STR, R(sd), 1},
	{"flags", CT_U32, CS_U32, R(flags), 0},
	{"client_ip", CT_STR, CS_STR, R(client_ip), 1},
	{"client_port", CT_I64, CS_I64, R(client_port), 1},
	{"rec_ts_ms", CT_I64, CS_I64, R(ts_ms), 1},
	{"frontend", CT_STR, CS_STR, R(frontend), 0},
	{"bind", CT_STR, CS_STR, R(bind), 1},
	{"backend", CT_STR, CS_STR, R(backend), 0},
	{"server", CT_STR, CS_STR, R(server), 0},
	{"t_req", CT_I32, CS_I32, R(t_req), 0},
	{"t_wait", CT_I32, CS_I32, R(t_wait), 0},
	{"t_connect", CT_I32, CS_I32, R(t_connect), 0},
	{"t_resp", CT_I32, CS_I32, R(t_resp), 0},
	{"t_active", CT_I32, CS_I32, R(t_active), 0},
	{"status_code", CT_I64, CS_I64, R(status_code), 0},
	{"bytes_read", CT_I64, CS_I64, R(bytes_read), 0},
	{"bytes_uploaded", CT_I64, CS_I64, R(bytes_uploaded), 0},
	{"cookie_req", CT_STR, CS_STR, R(cookie_req), 1},
	{"cookie_resp", CT_STR, CS_STR, R(cookie_resp), 1},
	{"term", CT_STR, CS_TERM, R(term), 1},
	{"actconn", CT_I64, CS_I64, R(actconn), 1},
	{"feconn", CT_I64, CS_I64, R(feconn), 1},
	{"beconn", CT_I64, CS_I64, R(beconn), 1},
	{"srv_conn", CT_I64, CS_I64, R(srv_conn), 1},
	{"retries", CT_I64, CS_I64, R(retries), 0},
	{"srv_queue", CT_I64, CS_I64, R(srv_queue), 1},
	{"backend_queue", CT_I64, CS_I64, R(backend_queue), 1},
	{"cap_req", CT_STR, CS_STR, R(cap_req), 1},
	{"cap_resp", CT_STR, CS_STR, R(cap_resp), 1},
	{"request", CT_STR, CS_STR, R(request), 1},
	{"method", CT_STR, CS_STR, R(method), 1},
	{"uri", CT_STR, CS_STR, R(uri), 0},
	{"path", CT_STR, CS_STR, R(path), 0},
	{"query", CT_STR, CS_STR, R(query), 1},
	{"version", CT_STR, CS_STR, R(version), 1},
	{"ssl_sni", CT_STR, CS_STR, R(ssl_sni), 1},
	{"ssl_version", CT_STR, CS_STR, R(ssl_version), 1},
	{"ssl_cipher", CT_STR, CS_STR, R(ssl_cipher), 1},
	{"ssl_errors", CT_STR, CS_STR, R(ssl_errors), 1},
	{"unique_id", CT_STR, CS_STR, R(unique_id), 1},
	{"dst_ip", CT_STR, CS_STR, R(dst_ip), 1},
	{"dst_port", CT_I64, CS_I64, R(dst_port), 1},
	{"mode", CT_STR, CS_STR, R(mode), 1},
	{"message", CT_STR, CS_STR, R(message), 1},
	{"ev_proxy", CT_STR, CS_STR, R(ev_proxy), 0},
	{"ev_server", CT_STR, CS_STR, R(ev_server), 0},
	{"ev_state", CT_STR, CS_STR, R(ev_state), 1},
	{"ev_reason", CT_STR, CS_STR, R(ev_reason), 1},
	{"ev_info", CT_STR, CS_STR, R(ev_info), 1},
	{"ev_check_ms", CT_I32, CS_I32, R(ev_check_ms), 1},
	{"ev_backup", CT_I32, CS_I32, R(ev_backup), 1},
	{"ev_active_left", CT_I64, CS_I64, R(ev_active_left), 1},
	{"ev_backup_left", CT_I64, CS_I64, R(ev_backup_left), 1},
	{"is_error", CT_U8, CS_SP, SP_ERR, 0},
	{"cls", CT_U8, CS_SP, SP_CLS, 0},
	{"term_key", CT_I32, CS_SP, SP_TERMKEY, 0},
	{"hb_tr", CT_I16, CS_SP, SP_HB0 + RT_TR, 0},
	{"hb_tw", CT_I16, CS_SP, SP_HB0 + RT_TW, 0},
	{"hb_tc", CT_I16, CS_SP, SP_HB0 + RT_TC, 0},
	{"hb_trs", CT_I16, CS_SP, SP_HB0 + RT_TR_RESP, 0},
	{"hb_ta", CT_I16, CS_SP, SP_HB0 + RT_TA, 0},
	/* last: its bits are known once the strings before it are written */
	{"empties", CT_U64, CS_SP, SP_EMPTIES, 1},
	/* schema 3: every field but the columns above not marked W, packed (docs/scaling.md) */
	{"fields", CT_STR, CS_SP, SP_FIELDS, 0},
};
#undef R
#define CH_NCOLS (sizeof(ch_cols) / sizeof(ch_cols[0]))

static const char *const ch_type_names[] = {
	[CT_U8] = "UInt8",   [CT_I16] = "Int16",   [CT_I32] = "Int32", [CT_U32] = "UInt32",
	[CT_I64] = "Int64", [CT_U64] = "UInt64", [CT_STR] = "String",
};

int64_t ch_logged_ms(const struct store_msg *m, const struct logrec *rec)
{
	int64_t ts = m->recv_ms;

	if (rec->ts_ms != LR_NONE)
		ts = rec->ts_ms;
	else if (rec->syslog_ms != LR_NONE)
		ts = rec->syslog_ms;
	/* DateTime holds 1970 to 2105: the partition of a date outside it would be wrong */
	if (ts < 0)
		ts = 0;
	if (ts > INT64_C(4294967295) * 1000)
		ts = INT64_C(4294967295) * 1000;
	return ts;
}

static int put_int(struct strbuf *out, uint64_t v, unsigned bytes)
{
	unsigned char b[8];

	for (unsigned i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return strbuf_add(out, b, bytes);
}

/* v as ClickHouse's VarUInt (LEB128) at b (10 bytes at most). Returns its length. */
static unsigned put_varint(unsigned char *b, uint64_t v)
{
	unsigned n = 0;

	do {
		b[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

static int put_str(struct strbuf *out, const char *p, size_t len)
{
	unsigned char b[10];

	if (strbuf_add(out, b, put_varint(b, len)) < 0)
		return -1;
	return len ? strbuf_add(out, p, len) : 0;
}

static int64_t special(enum ch_special sp, const struct chrow_id *id, const struct store_msg *m,
		       const struct logrec *rec)
{
	int traffic = rec->kind == LR_HTTP || rec->kind == LR_TCP;

	switch (sp) {
	case SP_TS:
		return id->ts_ms;
	case SP_RECV:
		return m->recv_ms;
	case SP_BATCH:
		return (int64_t)id->batch;
	case SP_SEQ:
		return id->seq;
	case SP_MFLAGS:
		return m->flags & STORE_MSG_TRUNCATED;
	case SP_ERR:
		return traffic && rollup_is_error(rec);
	case SP_CLS:
		return rec->kind == LR_HTTP ? rollup_class_of(rec->status_code) : 255;
	case SP_TERMKEY:
		if (!traffic || !rec->term[0])
			return 0;
		return ((int64_t)(unsigned char)rec->term[0] << 8) |
		       (unsigned char)(rec->term[1] ? rec->term[1] : '-');
	case SP_SOURCE:
	case SP_RAW:
		break;
	default: {
		int32_t v;

		if (!traffic)
			return -1;
		v = rollup_timer_of(rec, (enum rollup_timer)(sp - SP_HB0));
		return v == LR_TIMER_NONE || v < 0 ? -1 : (int64_t)hist_bucket(v);
	}
	}
	return 0;
}

static const unsigned ch_type_bytes[] = {
	[CT_U8] = 1, [CT_I16] = 2, [CT_I32] = 4, [CT_U32] = 4, [CT_I64] = 8, [CT_U64] = 8,
};

static struct ch_fmt ch_fmt_narrow_s, ch_fmt_wide_s;
const struct ch_fmt *const ch_fmt_narrow = &ch_fmt_narrow_s;
const struct ch_fmt *const ch_fmt_wide = &ch_fmt_wide_s;
const char *const ch_insert_columns = ch_fmt_narrow_s.cols;

/* The integer field of rec that column c holds (CS_I64, CS_I32, CS_INT, CS_U32). */
static int64_t rec_int(const struct ch_col *c, const struct logrec *rec)
{
	const char *base = (const char *)rec + c->off;

	switch (c->src) {
	case CS_I64: {
		int64_t x;

		memcpy(&x, base, sizeof(x));
		return x;
	}
	case CS_I32:
	case CS_INT: { /* an int or an enum is an int32_t here (checked below) */
		int32_t x;

		memcpy(&x, base, sizeof(x));
		return x;
	}
	case CS_U32: {
		uint32_t x;

		memcpy(&x, base, sizeof(x));
		return x;
	}
	default:
		return 0;
	}
}

/* Sets the integer field of rec that column c holds to v. */
static void rec_set_int(const struct ch_col *c, struct logrec *rec, int64_t v)
{
	char *base = (char *)rec + c->off;

	switch (c->src) {
	case CS_I64:
		memcpy(base, &v, sizeof(v));
		break;
	case CS_I32:
	case CS_INT:
	case CS_U32: { /* the same 4 bytes */
		uint32_t x = (uint32_t)v;

		memcpy(base, &x, sizeof(x));
		break;
	}
	default:
		break;
	}
}
_Static_assert(sizeof(int) == sizeof(int32_t), "CS_INT fields are read as int32_t");

/* Whether column c travels in `fields` (schema 3): every parsed string, as its place in raw,
 * and the value of every wide column. */
static int packed(const struct ch_col *c)
{
	return c->src == CS_STR || (c->wide && c->src != CS_SP);
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t u)
{
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* Whether column c holds a time, packed as its distance from the receive time. */
static int is_time(const struct ch_col *c)
{
	return c->src == CS_I64 &&
	       (c->off == offsetof(struct logrec, syslog_ms) || c->off == offsetof(struct logrec, ts_ms));
}

/* A packed number: 0 absent (LR_NONE, LR_TIMER_NONE), else 1 + the zigzag of v (of its
 * distance from recv_ms for a time), so that absent and small numbers take a byte. */
static uint64_t pack_int(const struct ch_col *c, int64_t v, int64_t recv_ms)
{
	if (v == LR_NONE || (c->src == CS_I32 && v == LR_TIMER_NONE))
		return 0;
	if (is_time(c))
		v = (int64_t)((uint64_t)v - (uint64_t)recv_ms);
	return 1 + zigzag(v);
}

static int64_t unpack_int(const struct ch_col *c, uint64_t u, int64_t recv_ms)
{
	int64_t v;

	if (!u)
		return c->src == CS_I32 ? LR_TIMER_NONE : LR_NONE;
	v = unzigzag(u - 1);
	return is_time(c) ? (int64_t)((uint64_t)v + (uint64_t)recv_ms) : v;
}

/* One string of `fields`: 0 absent; 1, its length, its bytes; or 2 + the zigzag of its
 * distance from the end of the string before it in raw (*cur), then its length. */
static int pack_str(struct strbuf *out, const char *p, size_t len, const struct store_msg *m,
		    size_t *cur)
{
	uintptr_t at = (uintptr_t)p, raw = (uintptr_t)m->raw;
	unsigned char b[20];
	unsigned n;

	if (!p)
		return strbuf_add(out, "", 1);
	if (m->raw && at >= raw && len <= m->len && at - raw <= m->len - len) {
		size_t off = (size_t)(at - raw);

		n = put_varint(b, 2 + zigzag((int64_t)off - (int64_t)*cur));
		n += put_varint(b + n, len);
		*cur = off + len;
		return strbuf_add(out, b, n);
	}
	n = put_varint(b, 1);
	n += put_varint(b + n, len);
	if (strbuf_add(out, b, n) < 0)
		return -1;
	return len ? strbuf_add(out, p, len) : 0;
}

/* Appends the `fields` value of rec: its length, CH_FIELDS_VERSION, then each packed column
 * (ch_cols order) as a string (pack_str) or a number (pack_int). */
static int pack_fields(struct strbuf *out, const struct store_msg *m, const struct logrec *rec)
{
	size_t at = out->len, cur = 0, plen;
	unsigned char b[10];
	unsigned n;

	if (strbuf_addch(out, CH_FIELDS_VERSION) < 0)
		return -1;
	for (size_t i = 0; i < CH_NCOLS; i++) {
		const struct ch_col *c = &ch_cols[i];
		const char *base = (const char *)rec + c->off;
		int rc;

		if (!packed(c))
			continue;
		if (c->src == CS_STR) {
			struct lr_str s;

			memcpy(&s, base, sizeof(s));
			rc = pack_str(out, s.p, s.p ? s.len : 0, m, &cur);
		} else if (c->src == CS_CSTR) {
			const char *s;

			memcpy(&s, base, sizeof(s));
			rc = pack_str(out, s, s ? strlen(s) : 0, m, &cur);
		} else if (c->src == CS_TERM) {
			size_t len = strnlen(base, sizeof(rec->term));

			rc = pack_str(out, len ? base : NULL, len, m, &cur);
		} else {
			n = put_varint(b, pack_int(c, rec_int(c, rec), m->recv_ms));
			rc = strbuf_add(out, b, n);
		}
		if (rc < 0)
			return -1;
	}
	/* the length goes first: the bytes move up by its size */
	plen = out->len - at;
	n = put_varint(b, plen);
	if (strbuf_grow(out, n) < 0)
		return -1;
	memmove(out->buf + at + n, out->buf + at, plen);
	memcpy(out->buf + at, b, n);
	out->len += n; /* room made above */
	out->buf[out->len] = '\0';
	return 0;
}

int chrow_encode_fmt(struct strbuf *out, const struct ch_fmt *fmt, const struct chrow_id *id,
		     const struct store_msg *m, const struct logrec *rec)
{
	size_t len0 = out->len;
	uint64_t empties = 0;
	unsigned nstr = 0;

	for (size_t i = 0; i < CH_NCOLS; i++) {
		const struct ch_col *c = &ch_cols[i];
		const char *base = (const char *)rec + c->off;
		int64_t v = 0;
		int rc;

		if (c->src == CS_STR) {
			struct lr_str s;

			memcpy(&s, base, sizeof(s));
			if (s.p && !s.len)
				empties |= UINT64_C(1) << nstr;
			nstr++;
			if (!fmt->has[i])
				continue;
			rc = put_str(out, s.p, s.p ? s.len : 0);
			goto next;
		}
		if (!fmt->has[i])
			continue;
		switch (c->src) {
		case CS_STR:
			break;
		case CS_CSTR: {
			const char *s;

			memcpy(&s, base, sizeof(s));
			rc = put_str(out, s, s ? strlen(s) : 0);
			goto next;
		}
		case CS_TERM:
			rc = put_str(out, base, strnlen(base, sizeof(rec->term)));
			goto next;
		case CS_SP:
			if (c->off == SP_SOURCE) {
				rc = put_str(out, m->source, m->source ? strlen(m->source) : 0);
				goto next;
			}
			if (c->off == SP_RAW) {
				rc = put_str(out, m->raw, m->len);
				goto next;
			}
			if (c->off == SP_FIELDS) {
				rc = pack_fields(out, m, rec);
				goto next;
			}
			v = c->off == SP_EMPTIES ? (int64_t)empties
						 : special((enum ch_special)c->off, id, m, rec);
			break;
		default:
			v = rec_int(c, rec);
			break;
		}
		rc = put_int(out, (uint64_t)v, ch_type_bytes[c->type]);
	next:
		if (rc < 0) {
			strbuf_setlen(out, len0);
			return -1;
		}
	}
	return 0;
}

int chrow_encode(struct strbuf *out, const struct chrow_id *id, const struct store_msg *m,
		 const struct logrec *rec)
{
	return chrow_encode_fmt(out, ch_fmt_narrow, id, m, rec);
}

static int get_int(const char **p, const char *end, unsigned bytes, int is_signed, int64_t *v)
{
	uint64_t u = 0;

	if ((size_t)(end - *p) < bytes)
		return -1;
	for (unsigned i = 0; i < bytes; i++)
		u |= (uint64_t)(unsigned char)(*p)[i] << (8 * i);
	*p += bytes;
	if (is_signed && bytes < 8 && (u >> (8 * bytes - 1)) & 1)
		u |= ~UINT64_C(0) << (8 * bytes);
	*v = (int64_t)u;
	return 0;
}

static int get_varint(const char **p, const char *end, uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	for (;;) {
		unsigned char b;

		if (*p >= end || shift > 63)
			return -1;
		b = (unsigned char)*(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return 0;
	}
}

static int get_str(const char **p, const char *end, struct lr_str *out)
{
	uint64_t len;

	if (get_varint(p, end, &len) < 0)
		return -1;
	if ((uint64_t)(end - *p) < len || len > UINT32_MAX)
		return -1;
	out->p = len ? *p : NULL;
	out->len = (uint32_t)len;
	*p += len;
	return 0;
}

/* Sets the string field of column c (CS_STR, CS_CSTR into reason, CS_TERM) to s. */
static void set_str(const struct ch_col *c, struct store_line *ln, struct lr_str s, char *reason,
		    size_t rsz)
{
	char *base = (char *)&ln->rec + c->off;

	switch (c->src) {
	case CS_STR:
		memcpy(base, &s, sizeof(s));
		break;
	case CS_CSTR:
		if (s.len) {
			size_t n = s.len < rsz - 1 ? s.len : rsz - 1;

			memcpy(reason, s.p, n);
			reason[n] = '\0';
			ln->rec.reason = reason;
		}
		break;
	case CS_TERM: {
		size_t n = s.len < sizeof(ln->rec.term) - 1 ? s.len : sizeof(ln->rec.term) - 1;

		if (n)
			memcpy(ln->rec.term, s.p, n);
		ln->rec.term[n] = '\0';
		break;
	}
	default:
		break;
	}
}

/* Reads a `fields` value f (pack_fields') into ln, whose raw is read. Returns 0, or -1 when
 * it is not one (cut short, an unknown version, a place outside raw). */
static int unpack_fields(struct lr_str f, struct store_line *ln, char *reason, size_t rsz)
{
	const char *p = f.p, *end = f.p + f.len;
	uint64_t cur = 0;

	if (!f.len || (unsigned char)*p++ != CH_FIELDS_VERSION)
		return -1;
	for (size_t i = 0; i < CH_NCOLS; i++) {
		const struct ch_col *c = &ch_cols[i];
		struct lr_str s = {NULL, 0};
		uint64_t a, len;

		if (!packed(c))
			continue;
		if (get_varint(&p, end, &a) < 0)
			return -1;
		if (c->src != CS_STR && c->src != CS_CSTR && c->src != CS_TERM) {
			rec_set_int(c, &ln->rec, unpack_int(c, a, ln->recv_ms));
			continue;
		}
		if (a == 1) {
			if (get_str(&p, end, &s) < 0)
				return -1;
			if (!s.p)
				s.p = "";
		} else if (a >= 2) {
			int64_t off = (int64_t)cur + unzigzag(a - 2);

			if (get_varint(&p, end, &len) < 0 || off < 0 || (uint64_t)off > ln->raw.len ||
			    len > ln->raw.len - (uint64_t)off)
				return -1;
			s.p = ln->raw.p + off;
			s.len = (uint32_t)len;
			cur = (uint64_t)off + len;
		}
		set_str(c, ln, s, reason, rsz);
	}
	return p == end ? 0 : -1;
}

int chrow_decode(const char **p, const char *end, const struct ch_fmt *fmt, struct store_line *ln,
		 struct chrow_id *id, char *reason, size_t rsz)
{
	static const int is_signed[] = {[CT_U8] = 0, [CT_I16] = 1, [CT_I32] = 1,
					[CT_U32] = 0, [CT_I64] = 1, [CT_U64] = 0};

	struct lr_str fields = {NULL, 0};
	uint64_t empties = 0;

	memset(ln, 0, sizeof(*ln));
	logrec_clear(&ln->rec);
	reason[0] = '\0';
	for (size_t i = 0; i < CH_NCOLS; i++) {
		const struct ch_col *c = &ch_cols[i];
		struct lr_str s = {NULL, 0};
		int64_t v = 0;

		if (!fmt->has[i])
			continue;
		if (c->type == CT_STR) {
			if (get_str(p, end, &s) < 0)
				return -1;
		} else if (get_int(p, end, ch_type_bytes[c->type], is_signed[c->type], &v) < 0) {
			return -1;
		}
		if (c->src != CS_SP) {
			if (c->type == CT_STR)
				set_str(c, ln, s, reason, rsz);
			else
				rec_set_int(c, &ln->rec, v);
			continue;
		}
		switch ((enum ch_special)c->off) {
		case SP_TS:
			ln->ts_ms = v;
			id->ts_ms = v;
			break;
		case SP_RECV:
			ln->recv_ms = v;
			break;
		case SP_BATCH:
			id->batch = (uint64_t)v;
			break;
		case SP_SEQ:
			id->seq = (uint32_t)v;
			break;
		case SP_SOURCE:
			ln->source = s;
			break;
		case SP_RAW:
			ln->raw = s;
			if (!ln->raw.p)
				ln->raw.p = "";
			break;
		case SP_MFLAGS:
			ln->flags = (unsigned)v;
			break;
		case SP_EMPTIES:
			empties = (uint64_t)v;
			break;
		case SP_FIELDS:
			fields = s;
			break;
		default: /* derived columns: the reader recomputes them when it needs them */
			break;
		}
	}
	/* a row of schema 2: an empty string that was there ("{}" of a capture) is not an absent
	 * one */
	for (size_t i = 0, k = 0; empties && i < CH_NCOLS; i++)
		if (ch_cols[i].src == CS_STR && (empties >> k++) & 1) {
			struct lr_str s = {"", 0};

			memcpy((char *)&ln->rec + ch_cols[i].off, &s, sizeof(s));
		}
	/* a row of schema 3 (an older row of a table init widened has none) */
	if (fields.len && unpack_fields(fields, ln, reason, rsz) < 0)
		return -1;
	ln->pos.v = (int64_t)(((uint64_t)ln->recv_ms << CH_POS_SHIFT) | id->seq);
	return 0;
}

int chrows_from_wide(const char *rows, size_t len, uint32_t nrows, struct strbuf *out,
		     uint32_t *offs)
{
	const char *p = rows, *end = rows + len;
	struct strbuf source = STRBUF_INIT;
	char reason[256];
	int ret = -1;

	for (uint32_t r = 0; r < nrows; r++) {
		struct store_line ln;
		struct chrow_id id;
		struct store_msg m;

		if (chrow_decode(&p, end, ch_fmt_wide, &ln, &id, reason, sizeof(reason)) < 0)
			goto out;
		strbuf_reset(&source);
		if (strbuf_add(&source, ln.source.p ? ln.source.p : "", ln.source.len) < 0)
			goto out;
		m.raw = ln.raw.p;
		m.len = ln.raw.len;
		m.recv_ms = ln.recv_ms;
		m.source = source.buf;
		m.flags = ln.flags;
		offs[r] = (uint32_t)out->len;
		if (chrow_encode(out, &id, &m, &ln.rec) < 0)
			goto out;
	}
	ret = p == end ? 0 : -1;
out:
	strbuf_release(&source);
	return ret;
}

/* The bytes of each column's values in RowBinary: fixed, or 0 for a String (a VarUInt length,
 * then the bytes); the columns of a row of schema 3 (ch_fmt_narrow), as indexes of ch_cols.
 * Filled with the formats. */
static unsigned char ch_col_width[CH_NCOLS];
static size_t ch_narrow_idx[CH_NCOLS], ch_narrow_n;

/* The length of the next value at p (up to end) of a column of width w, its length prefix
 * included; 0 when it is cut short. */
static inline size_t value_len(unsigned w, const char *p, const char *end)
{
	uint64_t len;
	unsigned shift = 7;
	size_t n = 1;

	if (w)
		return (size_t)(end - p) >= w ? w : 0;
	if (p >= end)
		return 0;
	len = (unsigned char)*p & 0x7f;
	while ((unsigned char)p[n - 1] & 0x80) {
		if (p + n >= end || shift > 56)
			return 0;
		len |= (uint64_t)((unsigned char)p[n++] & 0x7f) << shift;
		shift += 7;
	}
	return (uint64_t)(end - p) - n >= len ? n + (size_t)len : 0;
}

int chrows_native(const char *rows, size_t len, uint64_t nrows, struct strbuf *out)
{
	size_t colbytes[CH_NCOLS] = {0}, at[CH_NCOLS], total, n;
	const char *end = rows + len, *p = rows;
	unsigned char hdr[24];

	/* pass 1: each column's bytes */
	for (uint64_t r = 0; r < nrows; r++)
		for (size_t k = 0; k < ch_narrow_n; k++) {
			size_t v = value_len(ch_col_width[ch_narrow_idx[k]], p, end);

			if (!v)
				return -1;
			colbytes[k] += v;
			p += v;
		}
	if (p != end)
		return -1;
	/* the block's header, then each column's name, type and values */
	total = len + 64;
	for (size_t k = 0; k < ch_narrow_n; k++) {
		const struct ch_col *c = &ch_cols[ch_narrow_idx[k]];

		total += 2 + strlen(c->name) + strlen(ch_type_names[c->type]);
	}
	if (strbuf_grow(out, total) < 0)
		return -1;
	n = put_varint(hdr, ch_narrow_n);
	n += put_varint(hdr + n, nrows);
	strbuf_add(out, hdr, n);
	for (size_t k = 0; k < ch_narrow_n; k++) {
		const struct ch_col *c = &ch_cols[ch_narrow_idx[k]];
		const char *type = ch_type_names[c->type];

		put_str(out, c->name, strlen(c->name));
		put_str(out, type, strlen(type));
		at[k] = out->len;
		out->len += colbytes[k]; /* room made above; filled below */
	}
	out->buf[out->len] = '\0';
	/* pass 2: every value to its column (the rows were checked whole above) */
	for (p = rows; p < end;)
		for (size_t k = 0; k < ch_narrow_n; k++) {
			size_t v = value_len(ch_col_width[ch_narrow_idx[k]], p, end);

			memcpy(out->buf + at[k], p, v);
			at[k] += v;
			p += v;
		}
	return 0;
}

void ch_col_defs(const struct ch_fmt *fmt, struct strbuf *sql)
{
	for (size_t i = 0, n = 0; i < CH_NCOLS; i++)
		if (fmt->has[i])
			strbuf_addf(sql, "%s%s %s", n++ ? ", " : "", ch_cols[i].name,
				    ch_type_names[ch_cols[i].type]);
}

/* Fills f's list of names from f->has. */
static void fmt_names(struct ch_fmt *f)
{
	size_t n = 0;

	f->cols[0] = '\0';
	for (size_t i = 0; i < CH_NCOLS && n < sizeof(f->cols); i++)
		if (f->has[i])
			n += (size_t)snprintf(f->cols + n, sizeof(f->cols) - n, "%s%s",
					      n ? ", " : "", ch_cols[i].name);
}

/* Fills the formats once (the table is static: a constructor keeps callers simple). */
__attribute__((constructor)) static void ch_cols_init(void)
{
	size_t nstr = 0;

	if (CH_NCOLS > CH_MAXCOLS)
		abort();
	for (size_t i = 0; i < CH_NCOLS; i++) {
		nstr += ch_cols[i].src == CS_STR;
		ch_col_width[i] = (unsigned char)(ch_cols[i].type == CT_STR ? 0
									: ch_type_bytes[ch_cols[i].type]);
		ch_fmt_narrow_s.has[i] = !ch_cols[i].wide;
		ch_fmt_wide_s.has[i] = !(ch_cols[i].src == CS_SP && ch_cols[i].off == SP_FIELDS);
		if (!ch_cols[i].wide)
			ch_narrow_idx[ch_narrow_n++] = i;
	}
	if (nstr > 64) /* the bits of `empties` */
		abort();
	fmt_names(&ch_fmt_narrow_s);
	fmt_names(&ch_fmt_wide_s);
}

const char *ch_table(const struct ch_url *u, const char *t, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s.%s%s", u->db, t, u->cluster[0] ? "_all" : "");
	return buf;
}

/* ------------------------------------------------------------------------ init */

/* The rollup tables and their views; {db} is the database, {ttl} the TTL clause (or ""). Every
 * statement works on 18.16 and on current servers. Append only. */
#define TIMER_COLS(t)                                                                              \
	" tn_" t " AggregateFunction(sum, UInt64), tsum_" t " AggregateFunction(sum, Int64),"     \
	" tmax_" t " AggregateFunction(max, Int64),"                                              \
	" th_" t " AggregateFunction(sumMap, Array(Int16), Array(UInt64)),"
#define TIMER_SEL(t, col)                                                                          \
	" sumState(toUInt64(" col " >= 0)) AS tn_" t ","                                         \
	" sumState(toInt64(if(" col " >= 0, " col ", 0))) AS tsum_" t ","                       \
	" maxState(toInt64(" col ")) AS tmax_" t ","                                              \
	" sumMapState(arrayFilter(b -> b >= 0, [hb_" t "]),"                                       \
	" arrayMap(b -> toUInt64(1), arrayFilter(b -> b >= 0, [hb_" t "]))) AS th_" t ","

static const char *const ch_rollup_sql[] = {
	"CREATE TABLE IF NOT EXISTS {db}.traffic_1m (minute DateTime, frontend String,"
	" backend String, server String, kind UInt8,"
	" n_requests AggregateFunction(sum, UInt64), n_1xx AggregateFunction(sum, UInt64),"
	" n_2xx AggregateFunction(sum, UInt64), n_3xx AggregateFunction(sum, UInt64),"
	" n_4xx AggregateFunction(sum, UInt64), n_5xx AggregateFunction(sum, UInt64),"
	" n_other AggregateFunction(sum, UInt64), n_errors AggregateFunction(sum, UInt64),"
	" n_retries AggregateFunction(sum, UInt64), n_redispatches AggregateFunction(sum, UInt64),"
	" n_bytes_read AggregateFunction(sum, UInt64), n_bytes_up AggregateFunction(sum, UInt64),"
	" n_logasap AggregateFunction(sum, UInt64),"
	" codes AggregateFunction(sumMap, Array(Int64), Array(UInt64)),"
	" terms AggregateFunction(sumMap, Array(Int32), Array(UInt64)),"
	TIMER_COLS("tr") TIMER_COLS("tw") TIMER_COLS("tc") TIMER_COLS("trs")
	" tn_ta AggregateFunction(sum, UInt64), tsum_ta AggregateFunction(sum, Int64),"
	" tmax_ta AggregateFunction(max, Int64),"
	" th_ta AggregateFunction(sumMap, Array(Int16), Array(UInt64)))"
	" ENGINE = AggregatingMergeTree() PARTITION BY toDate(minute)"
	" ORDER BY (minute, frontend, backend, server, kind){ttl}",

	"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.traffic_1m_mv TO {db}.traffic_1m AS SELECT"
	" toDateTime(intDiv(ts_ms, 60000) * 60) AS minute, frontend, backend, server, kind,"
	" sumState(toUInt64(1)) AS n_requests, sumState(toUInt64(cls = 0)) AS n_1xx,"
	" sumState(toUInt64(cls = 1)) AS n_2xx, sumState(toUInt64(cls = 2)) AS n_3xx,"
	" sumState(toUInt64(cls = 3)) AS n_4xx, sumState(toUInt64(cls = 4)) AS n_5xx,"
	" sumState(toUInt64(cls = 5)) AS n_other, sumState(toUInt64(is_error)) AS n_errors,"
	" sumState(toUInt64(if(bitAnd(flags, 4) = 0 AND retries > 0, retries, 0))) AS n_retries,"
	" sumState(toUInt64(bitAnd(flags, 4) != 0)) AS n_redispatches,"
	" sumState(toUInt64(if(bytes_read > 0, bytes_read, 0))) AS n_bytes_read,"
	" sumState(toUInt64(if(bytes_uploaded > 0, bytes_uploaded, 0))) AS n_bytes_up,"
	" sumState(toUInt64(bitAnd(flags, 2) != 0)) AS n_logasap,"
	" sumMapState(arrayFilter(c -> c >= 0, [if(kind = 1, status_code, toInt64(-1))]),"
	" arrayMap(c -> toUInt64(1), arrayFilter(c -> c >= 0,"
	" [if(kind = 1, status_code, toInt64(-1))]))) AS codes,"
	" sumMapState(arrayFilter(k -> k != 0, [term_key]),"
	" arrayMap(k -> toUInt64(1), arrayFilter(k -> k != 0, [term_key]))) AS terms,"
	TIMER_SEL("tr", "t_req") TIMER_SEL("tw", "t_wait") TIMER_SEL("tc", "t_connect")
	TIMER_SEL("trs", "t_resp")
	" sumState(toUInt64(t_active >= 0)) AS tn_ta,"
	" sumState(toInt64(if(t_active >= 0, t_active, 0))) AS tsum_ta,"
	" maxState(toInt64(t_active)) AS tmax_ta,"
	" sumMapState(arrayFilter(b -> b >= 0, [hb_ta]),"
	" arrayMap(b -> toUInt64(1), arrayFilter(b -> b >= 0, [hb_ta]))) AS th_ta"
	" FROM {db}.lines WHERE kind IN (1, 2) GROUP BY minute, frontend, backend, server, kind",

	"CREATE TABLE IF NOT EXISTS {db}.lines_1m (minute DateTime, kind UInt8, status UInt8,"
	" n AggregateFunction(sum, UInt64), n_truncated AggregateFunction(sum, UInt64),"
	" first_ms AggregateFunction(min, Int64), last_ms AggregateFunction(max, Int64))"
	" ENGINE = AggregatingMergeTree() PARTITION BY toDate(minute)"
	" ORDER BY (minute, kind, status){ttl}",

	"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.lines_1m_mv TO {db}.lines_1m AS SELECT"
	" toDateTime(intDiv(ts_ms, 60000) * 60) AS minute, kind, status,"
	" sumState(toUInt64(1)) AS n, sumState(toUInt64(bitAnd(mflags, 1))) AS n_truncated,"
	" minState(ts_ms) AS first_ms, maxState(ts_ms) AS last_ms"
	" FROM {db}.lines GROUP BY minute, kind, status",

	"CREATE TABLE IF NOT EXISTS {db}.errpaths_1m (minute DateTime, frontend String,"
	" backend String, server String, status_code Int64, epath String,"
	" n AggregateFunction(sum, UInt64))"
	" ENGINE = AggregatingMergeTree() PARTITION BY toDate(minute)"
	" ORDER BY (minute, backend, status_code, epath, frontend, server){ttl}",

	"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.errpaths_1m_mv TO {db}.errpaths_1m AS SELECT"
	" toDateTime(intDiv(ts_ms, 60000) * 60) AS minute, frontend, backend, server,"
	" status_code, substring(if(path != '', path, uri), 1, 256) AS epath,"
	" sumState(toUInt64(1)) AS n FROM {db}.lines WHERE kind = 1 AND is_error = 1"
	" GROUP BY minute, frontend, backend, server, status_code, epath",

	/* a writer's counters as absolute values of its run (listener: the run's id); ver orders
	 * them, so a row written twice changes nothing */
	"CREATE TABLE IF NOT EXISTS {db}.counters (name String, listener String, value Int64,"
	" ver UInt64) ENGINE = ReplacingMergeTree(ver) ORDER BY (name, listener)",

	"CREATE TABLE IF NOT EXISTS {db}.halog_meta (name String, value String, at DateTime)"
	" ENGINE = ReplacingMergeTree(at) ORDER BY name",
};

/* The tables a cluster reads and writes through a Distributed table, and its sharding key:
 * a batch stays on one shard, so checking it before a retry asks one place. */
static const struct {
	const char *table, *key;
} ch_dist[] = {
	{"lines", "batch"},	 {"traffic_1m", "rand()"}, {"lines_1m", "rand()"},
	{"errpaths_1m", "rand()"}, {"counters", "rand()"},
};

/* Appends tmpl with {db} and {ttl} replaced. */
static void subst(struct strbuf *sql, const char *tmpl, const char *db, const char *ttl)
{
	while (*tmpl) {
		if (!strncmp(tmpl, "{db}", 4)) {
			strbuf_addstr(sql, db);
			tmpl += 4;
		} else if (!strncmp(tmpl, "{ttl}", 5)) {
			strbuf_addstr(sql, ttl);
			tmpl += 5;
		} else {
			strbuf_addch(sql, *tmpl++);
		}
	}
}

static int run(struct ch_conn *c, struct strbuf *sql, char *err, size_t errsz)
{
	return ch_exec(c, sql->buf, NULL, 0, 0, NULL, NULL, NULL, err, errsz);
}

/* The names of table's columns, one a line, into names. */
static int column_names(struct ch_conn *c, const char *table, struct strbuf *names, char *err,
			size_t errsz)
{
	struct strbuf sql = STRBUF_INIT;
	int ret;

	strbuf_addf(&sql,
		    "SELECT name FROM system.columns WHERE database = '%s' AND table = '%s'"
		    " FORMAT TabSeparated",
		    ch_conn_url(c)->db, table);
	ret = ch_exec(c, sql.buf, NULL, 0, 0, NULL, names, NULL, err, errsz);
	strbuf_release(&sql);
	return ret;
}

/* Whether the lines of names hold name. */
static int has_name(const char *names, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = names; *p;) {
		const char *nl = strchr(p, '\n');

		if (!strncmp(p, name, n) && (p[n] == '\n' || !p[n]))
			return 1;
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

int ch_read_fmt(struct ch_conn *c, const char *table, struct ch_fmt *fmt, struct strbuf *missing,
		char *err, size_t errsz)
{
	struct strbuf names = STRBUF_INIT;
	int ret = column_names(c, table, &names, err, errsz);

	int wide = 0;

	memset(fmt->has, 0, sizeof(fmt->has));
	for (size_t i = 0; ret == 0 && i < CH_NCOLS; i++) {
		fmt->has[i] = (unsigned char)has_name(names.buf, ch_cols[i].name);
		wide |= fmt->has[i] && ch_cols[i].wide;
		if (!fmt->has[i] && !ch_cols[i].wide)
			strbuf_addf(missing, "%s%s", missing->len ? ", " : "", ch_cols[i].name);
	}
	/* every row of a table of schema 3 has its strings in fields, and the derived columns
	 * are not read: neither need to travel */
	for (size_t i = 0; !wide && i < CH_NCOLS; i++)
		if (ch_cols[i].src == CS_STR ||
		    (ch_cols[i].src == CS_SP && ch_cols[i].off >= SP_ERR &&
		     ch_cols[i].off < SP_HB0 + RT_N))
			fmt->has[i] = 0;
	fmt_names(fmt);
	strbuf_release(&names);
	return ret;
}

/* Adds to table the columns of a row of schema 3 it lacks (a table of an older halog), at the
 * end: a wide table of schema 2 gets `fields`, and keeps its columns for its older rows. */
static int add_missing_columns(struct ch_conn *c, const char *table, struct strbuf *added,
			       char *err, size_t errsz)
{
	struct strbuf names = STRBUF_INIT, sql = STRBUF_INIT;
	int ret = column_names(c, table, &names, err, errsz);

	for (size_t i = 0; ret == 0 && i < CH_NCOLS; i++) {
		if (ch_cols[i].wide || has_name(names.buf, ch_cols[i].name))
			continue;
		strbuf_reset(&sql);
		strbuf_addf(&sql, "ALTER TABLE %s.%s ADD COLUMN %s %s", ch_conn_url(c)->db, table,
			    ch_cols[i].name, ch_type_names[ch_cols[i].type]);
		ret = run(c, &sql, err, errsz);
		if (ret == 0 && added)
			strbuf_addf(added, "%s%s.%s", added->len ? ", " : "", table, ch_cols[i].name);
	}
	strbuf_release(&names);
	strbuf_release(&sql);
	return ret;
}

int ch_init(struct ch_conn *c, int retention_days, struct strbuf *added, char *err, size_t errsz)
{
	const struct ch_url *u = ch_conn_url(c);
	struct strbuf sql = STRBUF_INIT, ttl = STRBUF_INIT;
	int version, ret = -1;

	if (ch_server_version(c, &version, err, errsz) < 0)
		goto out;
	/* table TTLs came with 19.6; on older servers the sink drops old partitions */
	if (retention_days > 0 && version >= 19006)
		strbuf_addf(&ttl, " TTL toDate(minute) + INTERVAL %d DAY", retention_days);
	strbuf_addf(&sql, "CREATE DATABASE IF NOT EXISTS %s", u->db);
	if (run(c, &sql, err, errsz) < 0)
		goto out;
	strbuf_reset(&sql);
	strbuf_addf(&sql, "CREATE TABLE IF NOT EXISTS %s.lines (", u->db);
	ch_col_defs(ch_fmt_narrow, &sql);
	strbuf_addf(&sql, ", day Date MATERIALIZED toDate(toDateTime(intDiv(ts_ms, 1000))))"
			  " ENGINE = MergeTree() PARTITION BY day ORDER BY (recv_ms, batch, seq)");
	if (retention_days > 0 && version >= 19006)
		strbuf_addf(&sql, " TTL day + INTERVAL %d DAY", retention_days);
	if (run(c, &sql, err, errsz) < 0)
		goto out;
	if (add_missing_columns(c, "lines", added, err, errsz) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(ch_rollup_sql) / sizeof(ch_rollup_sql[0]); i++) {
		strbuf_reset(&sql);
		subst(&sql, ch_rollup_sql[i], u->db, ttl.buf);
		if (run(c, &sql, err, errsz) < 0)
			goto out;
	}
	for (size_t i = 0; u->cluster[0] && i < sizeof(ch_dist) / sizeof(ch_dist[0]); i++) {
		strbuf_reset(&sql);
		if (!strcmp(ch_dist[i].table, "lines")) {
			/* its columns without `day`: 18.16 refuses an insert through a Distributed
			 * table that has the MATERIALIZED column */
			strbuf_addf(&sql, "CREATE TABLE IF NOT EXISTS %s.lines_all (", u->db);
			ch_col_defs(ch_fmt_narrow, &sql);
			strbuf_addch(&sql, ')');
		} else {
			strbuf_addf(&sql, "CREATE TABLE IF NOT EXISTS %s.%s_all AS %s.%s", u->db,
				    ch_dist[i].table, u->db, ch_dist[i].table);
		}
		strbuf_addf(&sql, " ENGINE = Distributed(%s, %s, %s, %s)", u->cluster, u->db,
			    ch_dist[i].table, ch_dist[i].key);
		if (run(c, &sql, err, errsz) < 0)
			goto out;
		if (!strcmp(ch_dist[i].table, "lines") &&
		    add_missing_columns(c, "lines_all", added, err, errsz) < 0)
			goto out;
	}
	strbuf_reset(&sql);
	strbuf_addf(&sql, "INSERT INTO %s.halog_meta (name, value, at) VALUES ('schema', '%d', now())",
		    u->db, CH_SCHEMA_VERSION);
	if (retention_days >= 0)
		strbuf_addf(&sql, ", ('retention_days', '%d', now())", retention_days);
	if (run(c, &sql, err, errsz) < 0)
		goto out;
	ret = 0;
out:
	strbuf_release(&sql);
	strbuf_release(&ttl);
	return ret;
}

int ch_prune(struct ch_conn *c, int64_t now_ms, int *dropped, char *err, size_t errsz)
{
	const struct ch_url *u = ch_conn_url(c);
	struct strbuf sql = STRBUF_INIT, out = STRBUF_INIT;
	long days = 0;
	int ret = -1;

	*dropped = 0;
	strbuf_addf(&sql,
		    "SELECT argMax(value, at) FROM %s.halog_meta WHERE name = 'retention_days'",
		    u->db);
	if (ch_exec(c, sql.buf, NULL, 0, 0, NULL, &out, NULL, err, errsz) < 0)
		goto out;
	days = strtol(out.buf, NULL, 10);
	if (days <= 0) {
		ret = 0;
		goto out;
	}
	strbuf_reset(&sql);
	strbuf_reset(&out);
	/* the partitions of a day-partitioned table are named YYYYMMDD */
	{
		time_t cut = (time_t)(now_ms / 1000 - days * 86400);
		struct tm tm;
		char day[16];

		gmtime_r(&cut, &tm);
		strftime(day, sizeof(day), "%Y%m%d", &tm);
		strbuf_addf(&sql,
			    "SELECT DISTINCT table, partition_id FROM system.parts WHERE"
			    " database = '%s' AND active AND table IN ('lines', 'traffic_1m',"
			    " 'lines_1m', 'errpaths_1m') AND partition_id < '%s' FORMAT TabSeparated",
			    u->db, day);
	}
	if (ch_exec(c, sql.buf, NULL, 0, 0, NULL, &out, NULL, err, errsz) < 0)
		goto out;
	for (char *line = out.buf, *nl; *line; line = nl + 1) {
		char *tab;

		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = '\0';
		tab = strchr(line, '\t');
		if (!tab || strlen(tab + 1) != 8)
			continue;
		*tab = '\0';
		strbuf_reset(&sql);
		strbuf_addf(&sql, "ALTER TABLE %s.%s DROP PARTITION ID '%s'", u->db, line, tab + 1);
		if (ch_exec(c, sql.buf, NULL, 0, 0, NULL, NULL, NULL, err, errsz) < 0)
			goto out;
		(*dropped)++;
	}
	ret = 0;
out:
	strbuf_release(&sql);
	strbuf_release(&out);
	return ret;
}
