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
};

struct ch_col {
	const char *name;
	enum chc_type type;
	enum chc_src src;
	size_t off;
};

#define R(f) offsetof(struct logrec, f)
/* Append only: the order is the row's order in RowBinary. */
static const struct ch_col ch_cols[] = {
	{"ts_ms", CT_I64, CS_SP, SP_TS},
	{"recv_ms", CT_I64, CS_SP, SP_RECV},
	{"batch", CT_U64, CS_SP, SP_BATCH},
	{"seq", CT_U32, CS_SP, SP_SEQ},
	{"source", CT_STR, CS_SP, SP_SOURCE},
	{"raw", CT_STR, CS_SP, SP_RAW},
	{"mflags", CT_U8, CS_SP, SP_MFLAGS},
	{"kind", CT_U8, CS_INT, R(kind)},
	{"status", CT_U8, CS_INT, R(status)},
	{"reason", CT_STR, CS_CSTR, R(reason)},
	{"framing", CT_U8, CS_INT, R(framing)},
	{"pri", CT_I16, CS_INT, R(pri)},
	{"syslog_ms", CT_I64, CS_I64, R(syslog_ms)},
	{"host", CT_STR, CS_STR, R(host)},
	{"tag", CT_STR, CS_STR, R(tag)},
	{"pid", CT_I64, CS_I64, R(pid)},
	{"sd", CT_STR, CS_STR, R(sd)},
	{"flags", CT_U32, CS_U32, R(flags)},
	{"client_ip", CT_STR, CS_STR, R(client_ip)},
	{"client_port", CT_I64, CS_I64, R(client_port)},
	{"rec_ts_ms", CT_I64, CS_I64, R(ts_ms)},
	{"frontend", CT_STR, CS_STR, R(frontend)},
	{"bind", CT_STR, CS_STR, R(bind)},
	{"backend", CT_STR, CS_STR, R(backend)},
	{"server", CT_STR, CS_STR, R(server)},
	{"t_req", CT_I32, CS_I32, R(t_req)},
	{"t_wait", CT_I32, CS_I32, R(t_wait)},
	{"t_connect", CT_I32, CS_I32, R(t_connect)},
	{"t_resp", CT_I32, CS_I32, R(t_resp)},
	{"t_active", CT_I32, CS_I32, R(t_active)},
	{"status_code", CT_I64, CS_I64, R(status_code)},
	{"bytes_read", CT_I64, CS_I64, R(bytes_read)},
	{"bytes_uploaded", CT_I64, CS_I64, R(bytes_uploaded)},
	{"cookie_req", CT_STR, CS_STR, R(cookie_req)},
	{"cookie_resp", CT_STR, CS_STR, R(cookie_resp)},
	{"term", CT_STR, CS_TERM, R(term)},
	{"actconn", CT_I64, CS_I64, R(actconn)},
	{"feconn", CT_I64, CS_I64, R(feconn)},
	{"beconn", CT_I64, CS_I64, R(beconn)},
	{"srv_conn", CT_I64, CS_I64, R(srv_conn)},
	{"retries", CT_I64, CS_I64, R(retries)},
	{"srv_queue", CT_I64, CS_I64, R(srv_queue)},
	{"backend_queue", CT_I64, CS_I64, R(backend_queue)},
	{"cap_req", CT_STR, CS_STR, R(cap_req)},
	{"cap_resp", CT_STR, CS_STR, R(cap_resp)},
	{"request", CT_STR, CS_STR, R(request)},
	{"method", CT_STR, CS_STR, R(method)},
	{"uri", CT_STR, CS_STR, R(uri)},
	{"path", CT_STR, CS_STR, R(path)},
	{"query", CT_STR, CS_STR, R(query)},
	{"version", CT_STR, CS_STR, R(version)},
	{"ssl_sni", CT_STR, CS_STR, R(ssl_sni)},
	{"ssl_version", CT_STR, CS_STR, R(ssl_version)},
	{"ssl_cipher", CT_STR, CS_STR, R(ssl_cipher)},
	{"ssl_errors", CT_STR, CS_STR, R(ssl_errors)},
	{"unique_id", CT_STR, CS_STR, R(unique_id)},
	{"dst_ip", CT_STR, CS_STR, R(dst_ip)},
	{"dst_port", CT_I64, CS_I64, R(dst_port)},
	{"mode", CT_STR, CS_STR, R(mode)},
	{"message", CT_STR, CS_STR, R(message)},
	{"ev_proxy", CT_STR, CS_STR, R(ev_proxy)},
	{"ev_server", CT_STR, CS_STR, R(ev_server)},
	{"ev_state", CT_STR, CS_STR, R(ev_state)},
	{"ev_reason", CT_STR, CS_STR, R(ev_reason)},
	{"ev_info", CT_STR, CS_STR, R(ev_info)},
	{"ev_check_ms", CT_I32, CS_I32, R(ev_check_ms)},
	{"ev_backup", CT_I32, CS_I32, R(ev_backup)},
	{"ev_active_left", CT_I64, CS_I64, R(ev_active_left)},
	{"ev_backup_left", CT_I64, CS_I64, R(ev_backup_left)},
	{"is_error", CT_U8, CS_SP, SP_ERR},
	{"cls", CT_U8, CS_SP, SP_CLS},
	{"term_key", CT_I32, CS_SP, SP_TERMKEY},
	{"hb_tr", CT_I16, CS_SP, SP_HB0 + RT_TR},
	{"hb_tw", CT_I16, CS_SP, SP_HB0 + RT_TW},
	{"hb_tc", CT_I16, CS_SP, SP_HB0 + RT_TC},
	{"hb_trs", CT_I16, CS_SP, SP_HB0 + RT_TR_RESP},
	{"hb_ta", CT_I16, CS_SP, SP_HB0 + RT_TA},
	/* last: its bits are known once the strings before it are written */
	{"empties", CT_U64, CS_SP, SP_EMPTIES},
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

int chrow_encode(struct strbuf *out, const struct chrow_id *id, const struct store_msg *m,
		 const struct logrec *rec)
{
	size_t len0 = out->len;
	uint64_t empties = 0;
	unsigned nstr = 0;

	for (size_t i = 0; i < CH_NCOLS; i++) {
		const struct ch_col *c = &ch_cols[i];
		const char *base = (const char *)rec + c->off;
		int64_t v = 0;
		int rc;

		switch (c->src) {
		case CS_STR: {
			struct lr_str s;

			memcpy(&s, base, sizeof(s));
			if (s.p && !s.len)
				empties |= UINT64_C(1) << nstr;
			nstr++;
			rc = put_str(out, s.p, s.p ? s.len : 0);
			goto next;
		}
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
			v = c->off == SP_EMPTIES ? (int64_t)empties
						 : special((enum ch_special)c->off, id, m, rec);
			break;
		case CS_I64:
			memcpy(&v, base, sizeof(int64_t));
			break;
		case CS_I32: {
			int32_t x;

			memcpy(&x, base, sizeof(x));
			v = x;
			break;
		}
		case CS_INT: {
			int x;

			memcpy(&x, base, sizeof(x));
			v = x;
			break;
		}
		case CS_U32: {
			uint32_t x;

			memcpy(&x, base, sizeof(x));
			v = x;
			break;
		}
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

static int get_str(const char **p, const char *end, struct lr_str *out)
{
	uint64_t len = 0;
	unsigned shift = 0;

	for (;;) {
		unsigned char b;

		if (*p >= end || shift > 56)
			return -1;
		b = (unsigned char)*(*p)++;
		len |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	if ((uint64_t)(end - *p) < len || len > UINT32_MAX)
		return -1;
	out->p = len ? *p : NULL;
	out->len = (uint32_t)len;
	*p += len;
	return 0;
}

int chrow_decode(const char **p, const char *end, struct store_line *ln, struct chrow_id *id,
		 char *reason, size_t rsz)
{
	static const int is_signed[] = {[CT_U8] = 0, [CT_I16] = 1, [CT_I32] = 1,
					[CT_U32] = 0, [CT_I64] = 1, [CT_U64] = 0};

	uint64_t empties = 0;

	memset(ln, 0, sizeof(*ln));
	logrec_clear(&ln->rec);
	reason[0] = '\0';
	for (size_t i = 0; i < CH_NCOLS; i++) {
		const struct ch_col *c = &ch_cols[i];
		char *base = (char *)&ln->rec + c->off;
		struct lr_str s;
		int64_t v = 0;

		if (c->type == CT_STR) {
			if (get_str(p, end, &s) < 0)
				return -1;
		} else if (get_int(p, end, ch_type_bytes[c->type], is_signed[c->type], &v) < 0) {
			return -1;
		}
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
		case CS_I64:
			memcpy(base, &v, sizeof(v));
			break;
		case CS_I32: {
			int32_t x = (int32_t)v;

			memcpy(base, &x, sizeof(x));
			break;
		}
		case CS_INT: {
			int x = (int)v;

			memcpy(base, &x, sizeof(x));
			break;
		}
		case CS_U32: {
			uint32_t x = (uint32_t)v;

			memcpy(base, &x, sizeof(x));
			break;
		}
		case CS_SP:
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
			default: /* derived columns: the reader recomputes them when it needs them */
				break;
			}
			break;
		}
	}
	/* an empty string that was there ("{}" of a capture) is not an absent one */
	for (size_t i = 0, k = 0; empties && i < CH_NCOLS; i++)
		if (ch_cols[i].src == CS_STR && (empties >> k++) & 1) {
			struct lr_str s = {"", 0};

			memcpy((char *)&ln->rec + ch_cols[i].off, &s, sizeof(s));
		}
	ln->pos.v = (int64_t)(((uint64_t)ln->recv_ms << CH_POS_SHIFT) | id->seq);
	return 0;
}

/* The bytes of each column's values in RowBinary: fixed, or 0 for a String (a VarUInt length,
 * then the bytes). Filled with ch_insert_columns. */
static unsigned char ch_col_width[CH_NCOLS];

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
		for (size_t i = 0; i < CH_NCOLS; i++) {
			size_t k = value_len(ch_col_width[i], p, end);

			if (!k)
				return -1;
			colbytes[i] += k;
			p += k;
		}
	if (p != end)
		return -1;
	/* the block's header, then each column's name, type and values */
	total = len + 64;
	for (size_t i = 0; i < CH_NCOLS; i++)
		total += 2 + strlen(ch_cols[i].name) + strlen(ch_type_names[ch_cols[i].type]);
	if (strbuf_grow(out, total) < 0)
		return -1;
	n = put_varint(hdr, CH_NCOLS);
	n += put_varint(hdr + n, nrows);
	strbuf_add(out, hdr, n);
	for (size_t i = 0; i < CH_NCOLS; i++) {
		const char *type = ch_type_names[ch_cols[i].type];

		put_str(out, ch_cols[i].name, strlen(ch_cols[i].name));
		put_str(out, type, strlen(type));
		at[i] = out->len;
		out->len += colbytes[i]; /* room made above; filled below */
	}
	out->buf[out->len] = '\0';
	/* pass 2: every value to its column (the rows were checked whole above) */
	for (p = rows; p < end;)
		for (size_t i = 0; i < CH_NCOLS; i++) {
			size_t k = value_len(ch_col_width[i], p, end);

			memcpy(out->buf + at[i], p, k);
			at[i] += k;
			p += k;
		}
	return 0;
}

static char ch_insert_cols_buf[2048];
const char *const ch_insert_columns = ch_insert_cols_buf;

/* Fills ch_insert_cols_buf once (the table is static: a constructor keeps callers simple). */
__attribute__((constructor)) static void ch_cols_init(void)
{
	size_t n = 0, nstr = 0;

	for (size_t i = 0; i < CH_NCOLS; i++) {
		nstr += ch_cols[i].src == CS_STR;
		ch_col_width[i] = (unsigned char)(ch_cols[i].type == CT_STR ? 0
									: ch_type_bytes[ch_cols[i].type]);
	}
	if (nstr > 64) /* the bits of `empties` */
		abort();
	for (size_t i = 0; i < CH_NCOLS && n < sizeof(ch_insert_cols_buf); i++)
		n += (size_t)snprintf(ch_insert_cols_buf + n, sizeof(ch_insert_cols_buf) - n,
				      "%s%s", i ? ", " : "", ch_cols[i].name);
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

int ch_missing_columns(struct ch_conn *c, const char *table, struct strbuf *missing, char *err,
		       size_t errsz)
{
	struct strbuf names = STRBUF_INIT;
	int ret = column_names(c, table, &names, err, errsz);

	for (size_t i = 0; ret == 0 && i < CH_NCOLS; i++)
		if (!has_name(names.buf, ch_cols[i].name))
			strbuf_addf(missing, "%s%s", missing->len ? ", " : "", ch_cols[i].name);
	strbuf_release(&names);
	return ret;
}

/* Adds to table the columns of ch_cols it lacks (a table of an older halog), at the end. */
static int add_missing_columns(struct ch_conn *c, const char *table, char *err, size_t errsz)
{
	struct strbuf names = STRBUF_INIT, sql = STRBUF_INIT;
	int ret = column_names(c, table, &names, err, errsz);

	for (size_t i = 0; ret == 0 && i < CH_NCOLS; i++) {
		if (has_name(names.buf, ch_cols[i].name))
			continue;
		strbuf_reset(&sql);
		strbuf_addf(&sql, "ALTER TABLE %s.%s ADD COLUMN %s %s", ch_conn_url(c)->db, table,
			    ch_cols[i].name, ch_type_names[ch_cols[i].type]);
		ret = run(c, &sql, err, errsz);
	}
	strbuf_release(&names);
	strbuf_release(&sql);
	return ret;
}

int ch_init(struct ch_conn *c, int retention_days, char *err, size_t errsz)
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
	for (size_t i = 0; i < CH_NCOLS; i++)
		strbuf_addf(&sql, "%s %s, ", ch_cols[i].name, ch_type_names[ch_cols[i].type]);
	strbuf_addf(&sql, "day Date MATERIALIZED toDate(toDateTime(intDiv(ts_ms, 1000))))"
			  " ENGINE = MergeTree() PARTITION BY day ORDER BY (recv_ms, batch, seq)");
	if (retention_days > 0 && version >= 19006)
		strbuf_addf(&sql, " TTL day + INTERVAL %d DAY", retention_days);
	if (run(c, &sql, err, errsz) < 0)
		goto out;
	if (add_missing_columns(c, "lines", err, errsz) < 0)
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
			for (size_t k = 0; k < CH_NCOLS; k++)
				strbuf_addf(&sql, "%s%s %s", k ? ", " : "", ch_cols[k].name,
					    ch_type_names[ch_cols[k].type]);
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
		    add_missing_columns(c, "lines_all", err, errsz) < 0)
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
