/* The block codec (see block.h and docs/storage.md): lines into raw bytes and column streams,
 * and back. */
#include "store/block.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "store/rollup.h"
#include "strkey.h"
#include "varint.h"

/* ---- streams ----
 * Per-line streams have fixed ids below BS_FIELD0; field f of the table below has id
 * BS_FIELD0 + f. Append only: ids are in stored blocks. */
enum {
	BS_RECV = 1,  /* zigzag varint: recv_ms - the previous line's (the first: - 0) */
	BS_TS = 2,    /* zigzag varint: ts_ms - the previous line's */
	BS_KIND = 3,  /* u8: kind | parse status << 4 | BLOCK_LINE_TRUNCATED << 6 */
	BS_FLAGS = 4, /* varint: logrec flags | framing << 24 */
	BS_MASK = 5,  /* varint: bit f set when field f is present */
	BS_LF = 6,    /* lines holding LFs: varint (index - previous such index), varint length */
	BS_DICT = 7,  /* the dictionary: varint length, bytes; entry i is the i-th */
	BS_FIELD0 = 16,
	BS_MAX = 128 /* the size of struct block_dec's stream arrays */
};

/* ---- the field table ----
 * How each parsed field is kept, grouped by type so that the loops below run without a switch:
 *   INT (int64, absent = LR_NONE) and TIMER (int32, absent = LR_TIMER_NONE; ev_backup: absent
 *   when 0): zigzag varints.
 *   NAME: the index of the value in the block's dictionary.
 *   STR: a slice of the raw line as two numbers, its start counted from an anchor and its end
 *   counted back from an anchor (or its length, for BA_LEN). Anchors are the line's start or end
 *   or the start or end of an earlier STR field (the line's start when that field is absent);
 *   chosen after HAProxy's line layout, they make both numbers nearly constant from line to
 *   line. A STR value that is not inside the raw line goes to the dictionary instead (the low
 *   bit of the first number says which).
 *   SPECIAL: pri, reason, source, term, syslog_ms (zigzag, from the line's ts) and ts_ms
 *   (presence only: it equals the line's ts).
 * The index of a field is its bit in BS_MASK and its stream id (BS_FIELD0 + index): stored in
 * blocks, so append only (a later field goes after BF_N with a loop of its own). */
enum banchor { BA_LSTART, BA_LEND, BA_FSTART, BA_FEND, BA_LEN };
struct bfield {
	size_t off;	/* in struct logrec */
	enum banchor s; /* start anchor */
	int sref;	/* its field, for BA_FSTART/BA_FEND */
	enum banchor e; /* end anchor, or BA_LEN */
	int eref;
};

enum {
	/* INT */
	BF_PID,
	BF_CLIENT_PORT,
	BF_STATUS,
	BF_BYTES,
	BF_BYTES_UP,
	BF_ACTCONN,
	BF_FECONN,
	BF_BECONN,
	BF_SRVCONN,
	BF_RETRIES,
	BF_SRVQ,
	BF_BEQ,
	BF_DST_PORT,
	BF_EV_ACTIVE,
	BF_EV_BACKUP_LEFT,
	/* TIMER */
	BF_TR,
	BF_TW,
	BF_TC,
	BF_TRESP,
	BF_TA,
	BF_EV_CHECK,
	BF_EV_BACKUP,
	/* NAME */
	BF_HOST,
	BF_TAG,
	BF_FRONTEND,
	BF_BIND,
	BF_BACKEND,
	BF_SERVER,
	BF_METHOD,
	BF_VERSION,
	BF_SSL_VERSION,
	BF_SSL_CIPHER,
	BF_MODE,
	BF_EV_PROXY,
	BF_EV_SERVER,
	BF_EV_STATE,
	BF_EV_REASON,
	/* STR, in anchor order */
	BF_SD,
	BF_BODY,
	BF_CLIENT_IP,
	BF_COOKIE_REQ,
	BF_COOKIE_RESP,
	BF_REQUEST,
	BF_CAP_RESP,
	BF_CAP_REQ,
	BF_URI,
	BF_PATH,
	BF_QUERY,
	BF_SSL_SNI,
	BF_SSL_ERRORS,
	BF_UNIQUE_ID,
	BF_DST_IP,
	BF_MESSAGE,
	BF_EV_INFO,
	/* SPECIAL */
	BF_PRI,
	BF_REASON,
	BF_SOURCE,
	BF_TERM,
	BF_SYSLOG_MS,
	BF_TS_MS,
	BF_N
};
#define BF_INT0 BF_PID
#define BF_TIMER0 BF_TR
#define BF_NAME0 BF_HOST
#define BF_STR0 BF_SD
#define BF_SPECIAL0 BF_PRI

#define O(x) offsetof(struct logrec, x)
#define PLAIN(x)                                                                                   \
	{                                                                                          \
		O(x), BA_LEN, -1, BA_LEN, -1                                                       \
	}
#define STR(x, s, sr, e, er)                                                                       \
	{                                                                                          \
		O(x), s, sr, e, er                                                                 \
	}
static const struct bfield bfields[BF_N] = {
	[BF_PID] = PLAIN(pid),
	[BF_CLIENT_PORT] = PLAIN(client_port),
	[BF_STATUS] = PLAIN(status_code),
	[BF_BYTES] = PLAIN(bytes_read),
	[BF_BYTES_UP] = PLAIN(bytes_uploaded),
	[BF_ACTCONN] = PLAIN(actconn),
	[BF_FECONN] = PLAIN(feconn),
	[BF_BECONN] = PLAIN(beconn),
	[BF_SRVCONN] = PLAIN(srv_conn),
	[BF_RETRIES] = PLAIN(retries),
	[BF_SRVQ] = PLAIN(srv_queue),
	[BF_BEQ] = PLAIN(backend_queue),
	[BF_DST_PORT] = PLAIN(dst_port),
	[BF_EV_ACTIVE] = PLAIN(ev_active_left),
	[BF_EV_BACKUP_LEFT] = PLAIN(ev_backup_left),
	[BF_TR] = PLAIN(t_req),
	[BF_TW] = PLAIN(t_wait),
	[BF_TC] = PLAIN(t_connect),
	[BF_TRESP] = PLAIN(t_resp),
	[BF_TA] = PLAIN(t_active),
	[BF_EV_CHECK] = PLAIN(ev_check_ms),
	[BF_EV_BACKUP] = PLAIN(ev_backup),
	[BF_HOST] = PLAIN(host),
	[BF_TAG] = PLAIN(tag),
	[BF_FRONTEND] = PLAIN(frontend),
	[BF_BIND] = PLAIN(bind),
	[BF_BACKEND] = PLAIN(backend),
	[BF_SERVER] = PLAIN(server),
	[BF_METHOD] = PLAIN(method),
	[BF_VERSION] = PLAIN(version),
	[BF_SSL_VERSION] = PLAIN(ssl_version),
	[BF_SSL_CIPHER] = PLAIN(ssl_cipher),
	[BF_MODE] = PLAIN(mode),
	[BF_EV_PROXY] = PLAIN(ev_proxy),
	[BF_EV_SERVER] = PLAIN(ev_server),
	[BF_EV_STATE] = PLAIN(ev_state),
	[BF_EV_REASON] = PLAIN(ev_reason),
	[BF_SD] = STR(sd, BA_LSTART, -1, BA_LEN, -1),
	[BF_BODY] = STR(body, BA_LSTART, -1, BA_LEND, -1),
	[BF_CLIENT_IP] = STR(client_ip, BA_FSTART, BF_BODY, BA_LEN, -1),
	[BF_COOKIE_REQ] = STR(cookie_req, BA_FEND, BF_CLIENT_IP, BA_LEN, -1),
	[BF_COOKIE_RESP] = STR(cookie_resp, BA_FEND, BF_COOKIE_REQ, BA_LEN, -1),
	[BF_REQUEST] = STR(request, BA_LEND, -1, BA_LEND, -1),
	[BF_CAP_RESP] = STR(cap_resp, BA_FSTART, BF_REQUEST, BA_FSTART, BF_REQUEST),
	[BF_CAP_REQ] = STR(cap_req, BA_FSTART, BF_CAP_RESP, BA_FSTART, BF_CAP_RESP),
	[BF_URI] = STR(uri, BA_FSTART, BF_REQUEST, BA_FEND, BF_REQUEST),
	[BF_PATH] = STR(path, BA_FSTART, BF_URI, BA_LEN, -1),
	[BF_QUERY] = STR(query, BA_FEND, BF_PATH, BA_FEND, BF_URI),
	[BF_SSL_SNI] = STR(ssl_sni, BA_FEND, BF_CLIENT_IP, BA_LEN, -1),
	[BF_SSL_ERRORS] = STR(ssl_errors, BA_FEND, BF_CLIENT_IP, BA_LEN, -1),
	[BF_UNIQUE_ID] = STR(unique_id, BA_FEND, BF_CLIENT_IP, BA_LEN, -1),
	[BF_DST_IP] = STR(dst_ip, BA_FEND, BF_CLIENT_IP, BA_LEN, -1),
	[BF_MESSAGE] = STR(message, BA_FSTART, BF_BODY, BA_LEND, -1),
	[BF_EV_INFO] = STR(ev_info, BA_FSTART, BF_BODY, BA_LEN, -1),
};
_Static_assert(BF_N <= 64, "BS_MASK holds 64 fields");
_Static_assert(BS_FIELD0 + BF_N <= BS_MAX, "stream ids");
_Static_assert(sizeof(((struct block_dec *)0)->s) / sizeof(void *) == BS_MAX, "block_dec.s");

/* ---- growable byte buffers ---- */
struct bbuf {
	unsigned char *p;
	size_t len, cap;
};

static int bb_grow(struct bbuf *b, size_t need)
{
	if (b->len + need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + need)
		cap *= 2;
	unsigned char *p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int bb_add(struct bbuf *b, const void *p, size_t n)
{
	if (bb_grow(b, n))
		return -1;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* A varint into b: callers reserve VARINT_MAX bytes first (bb_grow). */
static inline void put_uv(struct bbuf *b, uint64_t v)
{
	b->len += varint_put(b->p + b->len, v);
}

/* ---- the encoder ---- */
#define ENC_RECENT 16 /* names remembered per field (a power of 2) */
/* A line adds at most ENC_LINE_MAX bytes to each stream (two varints), the dictionary aside.
 * Room for ENC_ROOM_LINES such lines is made in every stream at once, so adding a line checks
 * one counter instead of every stream it writes (~260 instructions a line). */
#define ENC_LINE_MAX 24
#define ENC_ROOM_LINES 64
struct dict_slot {
	uint32_t hash; /* 0: empty */
	uint32_t id;
};

struct block_enc {
	struct bbuf raw;	/* lines, an LF after each */
	struct bbuf st[BS_MAX]; /* streams */
	struct bbuf out;	/* the serialised columns */
	/* the dictionary: entry i is dict bytes [doff[i], doff[i] + dlen[i]) */
	struct dict_slot *slots;
	size_t nslots;
	uint32_t *doff, *dlen;
	size_t ndict, adict;
	struct bbuf dbytes;
	/* the dictionary ids + 1 of the names each NAME field used lately (0: none), each in the
	 * slot its key picks (recent_slot): most fields take a handful of values, so a line's
	 * names are found here with one compare, without hashing */
	struct recent {
		uint64_t key; /* strkey8 of the name */
		uint32_t id1; /* dictionary id + 1; 0: none */
		uint32_t len;
	} recent[BF_N][ENC_RECENT];
	struct block_meta m;
	int64_t prev_recv, prev_ts;
	size_t prev_lf; /* index of the previous line holding LFs + 1 (0: none yet) */
	int broken;	/* an allocation failed: unusable until reset */
	unsigned room;	/* lines every stream has room for (ENC_LINE_MAX bytes each) */
	int raw_lent;	/* raw.p is the caller's (block_enc_new_raw) */
};

struct block_enc *block_enc_new(void)
{
	struct block_enc *e = calloc(1, sizeof(*e));
	if (e)
		block_enc_reset(e);
	return e;
}

struct block_enc *block_enc_new_raw(unsigned char *raw, size_t cap)
{
	struct block_enc *e = block_enc_new();
	if (e) {
		e->raw.p = raw;
		e->raw.cap = cap;
		e->raw_lent = 1;
	}
	return e;
}

/* The raw lines out of the caller's memory into e's own, with room for need more bytes.
 * Returns 0 or -1. */
static int raw_own(struct block_enc *e, size_t need)
{
	struct bbuf own = {NULL, 0, 0};
	if (bb_grow(&own, e->raw.len + need))
		return -1;
	if (e->raw.len)
		memcpy(own.p, e->raw.p, e->raw.len);
	own.len = e->raw.len;
	e->raw = own;
	e->raw_lent = 0;
	return 0;
}

void block_enc_free(struct block_enc *e)
{
	if (!e)
		return;
	if (!e->raw_lent)
		free(e->raw.p);
	for (int i = 0; i < BS_MAX; i++)
		free(e->st[i].p);
	free(e->out.p);
	free(e->slots);
	free(e->doff);
	free(e->dlen);
	free(e->dbytes.p);
	free(e);
}

void block_enc_reset(struct block_enc *e)
{
	e->raw.len = 0;
	for (int i = 0; i < BS_MAX; i++)
		e->st[i].len = 0;
	e->out.len = 0;
	if (e->slots)
		memset(e->slots, 0, e->nslots * sizeof(*e->slots));
	e->ndict = 0;
	e->dbytes.len = 0;
	memset(e->recent, 0, sizeof(e->recent));
	memset(&e->m, 0, sizeof(e->m));
	e->prev_recv = e->prev_ts = 0;
	e->prev_lf = 0;
	e->broken = 0;
	e->room = 0;
}

size_t block_enc_count(const struct block_enc *e)
{
	return (size_t)e->m.n;
}

int block_enc_fits(const struct block_enc *e, size_t len)
{
	if (!e->m.n)
		return 1;
	return e->m.n < BLOCK_MAX_LINES && e->raw.len + len + 1 <= BLOCK_MAX_RAW;
}

static uint32_t hash_bytes(const void *p, size_t n)
{
	uint32_t h = (uint32_t)hmap_hash(p, n);
	return h ? h : 1; /* 0 marks an empty slot */
}

static int dict_grow(struct block_enc *e)
{
	size_t ns = e->nslots ? e->nslots * 2 : 256;
	struct dict_slot *s = calloc(ns, sizeof(*s));
	if (!s)
		return -1;
	for (size_t i = 0; i < e->nslots; i++) {
		if (!e->slots[i].hash)
			continue;
		size_t j = e->slots[i].hash & (ns - 1);
		while (s[j].hash)
			j = (j + 1) & (ns - 1);
		s[j] = e->slots[i];
	}
	free(e->slots);
	e->slots = s;
	e->nslots = ns;
	return 0;
}

/* The dictionary id of the n bytes at p, added when new. Returns the id, or -1 (no memory). */
static int64_t dict_id(struct block_enc *e, const void *p, size_t n)
{
	if ((e->ndict + 1) * 2 > e->nslots && dict_grow(e))
		return -1;
	uint32_t h = hash_bytes(p, n);
	size_t i = h & (e->nslots - 1);
	for (;; i = (i + 1) & (e->nslots - 1)) {
		struct dict_slot *s = &e->slots[i];
		if (!s->hash)
			break;
		if (s->hash == h && e->dlen[s->id] == n &&
		    !memcmp(e->dbytes.p + e->doff[s->id], p, n))
			return s->id;
	}
	if (e->ndict == e->adict) {
		size_t na = e->adict ? e->adict * 2 : 64;
		uint32_t *o = realloc(e->doff, na * sizeof(*o));
		if (!o)
			return -1;
		e->doff = o;
		uint32_t *l = realloc(e->dlen, na * sizeof(*l));
		if (!l)
			return -1;
		e->dlen = l;
		e->adict = na;
	}
	if (e->dbytes.len + n > UINT32_MAX || bb_add(&e->dbytes, p, n) ||
	    bb_grow(&e->st[BS_DICT], 10 + n))
		return -1;
	uint32_t id = (uint32_t)e->ndict++;
	e->doff[id] = (uint32_t)(e->dbytes.len - n);
	e->dlen[id] = (uint32_t)n;
	e->slots[i].hash = h;
	e->slots[i].id = id;
	put_uv(&e->st[BS_DICT], n);
	memcpy(e->st[BS_DICT].p + e->st[BS_DICT].len, p, n);
	e->st[BS_DICT].len += n;
	return id;
}

/* A NAME value: the id its slot of the field's recent names holds when equal, else a lookup
 * (which then takes the slot). */
static int put_name(struct block_enc *e, int f, const char *p, size_t n)
{
	uint64_t key = strkey8(p, n);
	struct recent *rc =
		&e->recent[f][((key ^ n) * 0x9e3779b97f4a7c15u) >> 60 & (ENC_RECENT - 1)];
	int64_t id;
	if (rc->id1 && rc->key == key && rc->len == n &&
	    (n <= 8 || !memcmp(e->dbytes.p + e->doff[rc->id1 - 1] + 8, p + 8, n - 8))) {
		id = rc->id1 - 1;
	} else {
		if ((id = dict_id(e, p, n)) < 0)
			return -1;
		*rc = (struct recent){key, (uint32_t)id + 1, (uint32_t)n};
	}
	put_uv(&e->st[BS_FIELD0 + f], (uint64_t)id);
	return 0;
}

/* The position an anchor stands for, given the slices found so far on this line (start ss[f],
 * end se[f], -1 when field f is absent or not a slice). */
static inline int64_t anchor_at(enum banchor a, int ref, const int64_t *ss, const int64_t *se,
				int64_t linelen)
{
	switch (a) {
	case BA_LEND:
		return linelen;
	case BA_FSTART:
		return ss[ref] >= 0 ? ss[ref] : 0;
	case BA_FEND:
		return se[ref] >= 0 ? se[ref] : 0;
	case BA_LSTART:
	case BA_LEN:
		break;
	}
	return 0;
}

static inline struct bbuf *fstream(struct block_enc *e, int f)
{
	return &e->st[BS_FIELD0 + f];
}

int block_enc_add(struct block_enc *e, const struct block_line *ln, const struct logrec *r)
{
	if (e->broken)
		return -1;
	if (e->raw.len + ln->len + 1 > e->raw.cap && e->raw_lent && raw_own(e, ln->len + 1))
		goto nomem;
	if (bb_grow(&e->raw, ln->len + 1))
		goto nomem;
	if (!e->room) {
		for (int i = 1; i < BS_FIELD0 + BF_N; i++)
			if (bb_grow(&e->st[i], ENC_ROOM_LINES * ENC_LINE_MAX))
				goto nomem;
		e->room = ENC_ROOM_LINES;
	}
	e->room--;
	size_t idx = (size_t)e->m.n;
	if (ln->len)
		memcpy(e->raw.p + e->raw.len, ln->raw, ln->len);
	e->raw.len += ln->len;
	e->raw.p[e->raw.len++] = '\n';
	if (ln->len && !(ln->flags & BLOCK_LINE_NO_LF) && memchr(ln->raw, '\n', ln->len)) {
		put_uv(&e->st[BS_LF], idx + 1 - e->prev_lf);
		put_uv(&e->st[BS_LF], ln->len);
		e->prev_lf = idx + 1;
	}
	put_uv(&e->st[BS_RECV], zigzag(ln->recv_ms - e->prev_recv));
	put_uv(&e->st[BS_TS], zigzag(ln->ts_ms - e->prev_ts));
	e->prev_recv = ln->recv_ms;
	e->prev_ts = ln->ts_ms;
	e->st[BS_KIND].p[e->st[BS_KIND].len++] =
		(unsigned char)((r->kind & 15) | (r->status & 3) << 4 |
				(ln->flags & BLOCK_LINE_TRUNCATED) << 6);
	put_uv(&e->st[BS_FLAGS], (uint64_t)r->flags | (uint64_t)(r->framing & 255) << 24);

	uint64_t mask = 0;
	const char *rp = (const char *)r;
	/* The field loops are unrolled: bfields is constant, so each field's offset, anchors and
	 * stream become constants and the anchor switch goes away (a fifth of the encoder's
	 * instructions). */
#pragma GCC unroll 20
	for (int f = BF_INT0; f < BF_TIMER0; f++) {
		int64_t v;
		memcpy(&v, rp + bfields[f].off, sizeof(v));
		if (v == LR_NONE)
			continue;
		put_uv(fstream(e, f), zigzag(v));
		mask |= (uint64_t)1 << f;
	}
#pragma GCC unroll 20
	for (int f = BF_TIMER0; f < BF_NAME0; f++) {
		int32_t v;
		memcpy(&v, rp + bfields[f].off, sizeof(v));
		if (f == BF_EV_BACKUP ? v == 0 : v == LR_TIMER_NONE)
			continue;
		put_uv(fstream(e, f), zigzag(v));
		mask |= (uint64_t)1 << f;
	}
#pragma GCC unroll 20
	for (int f = BF_NAME0; f < BF_STR0; f++) {
		struct lr_str v;
		memcpy(&v, rp + bfields[f].off, sizeof(v));
		if (!v.p)
			continue;
		if (put_name(e, f, v.p, v.len))
			goto nomem;
		mask |= (uint64_t)1 << f;
	}
	int64_t ss[BF_N], se[BF_N];
	const char *raw = ln->raw;
#pragma GCC unroll 20
	for (int f = BF_STR0; f < BF_SPECIAL0; f++) {
		const struct bfield *fd = &bfields[f];
		struct lr_str v;
		memcpy(&v, rp + fd->off, sizeof(v));
		ss[f] = se[f] = -1;
		if (!v.p)
			continue;
		struct bbuf *o = fstream(e, f);
		mask |= (uint64_t)1 << f;
		uintptr_t a = (uintptr_t)v.p, b = (uintptr_t)raw;
		if (a < b || a - b > ln->len || v.len > ln->len - (a - b)) {
			/* not a slice of the raw line: kept in the dictionary */
			int64_t id = dict_id(e, v.p, v.len);
			if (id < 0)
				goto nomem;
			put_uv(o, (uint64_t)id << 1 | 1);
			continue;
		}
		int64_t start = (int64_t)(a - b), end = start + v.len;
		put_uv(o, zigzag(start - anchor_at(fd->s, fd->sref, ss, se, (int64_t)ln->len))
				  << 1);
		if (fd->e == BA_LEN)
			put_uv(o, v.len);
		else
			put_uv(o,
			       zigzag(anchor_at(fd->e, fd->eref, ss, se, (int64_t)ln->len) - end));
		ss[f] = start;
		se[f] = end;
	}
	if (r->pri >= 0) {
		put_uv(fstream(e, BF_PRI), (uint64_t)r->pri);
		mask |= (uint64_t)1 << BF_PRI;
	}
	if (r->reason) {
		if (put_name(e, BF_REASON, r->reason, strlen(r->reason)))
			goto nomem;
		mask |= (uint64_t)1 << BF_REASON;
	}
	if (ln->source) {
		if (put_name(e, BF_SOURCE, ln->source, strlen(ln->source)))
			goto nomem;
		mask |= (uint64_t)1 << BF_SOURCE;
	}
	if (r->term[0]) {
		if (put_name(e, BF_TERM, r->term, strnlen(r->term, sizeof(r->term))))
			goto nomem;
		mask |= (uint64_t)1 << BF_TERM;
	}
	if (r->syslog_ms != LR_NONE) {
		put_uv(fstream(e, BF_SYSLOG_MS), zigzag(r->syslog_ms - ln->ts_ms));
		mask |= (uint64_t)1 << BF_SYSLOG_MS;
	}
	if (r->ts_ms != LR_NONE)
		mask |= (uint64_t)1 << BF_TS_MS; /* equal to the line's ts: presence only */
	put_uv(&e->st[BS_MASK], mask);

	if (!e->m.n) {
		e->m.recv_min = e->m.recv_max = ln->recv_ms;
		e->m.ts_min = e->m.ts_max = ln->ts_ms;
	}
	if (ln->recv_ms < e->m.recv_min)
		e->m.recv_min = ln->recv_ms;
	if (ln->recv_ms > e->m.recv_max)
		e->m.recv_max = ln->recv_ms;
	if (ln->ts_ms < e->m.ts_min)
		e->m.ts_min = ln->ts_ms;
	if (ln->ts_ms > e->m.ts_max)
		e->m.ts_max = ln->ts_ms;
	e->m.n++;
	return 0;
nomem:
	e->broken = 1;
	return -1;
}

int block_enc_finish(struct block_enc *e, struct block_meta *meta, const void **raw,
		     const void **cols)
{
	if (e->broken)
		return -1;
	struct bbuf *o = &e->out;
	size_t ns = 0, total = 0;
	for (int i = 0; i < BS_MAX; i++) {
		if (e->st[i].len) {
			ns++;
			total += e->st[i].len;
		}
	}
	o->len = 0;
	if (bb_grow(o, 1 + 20 + ns * 20 + total))
		return -1;
	o->p[o->len++] = BLOCK_FORMAT;
	put_uv(o, (uint64_t)e->m.n);
	put_uv(o, ns);
	for (int i = 0; i < BS_MAX; i++) {
		if (e->st[i].len) {
			put_uv(o, (uint64_t)i);
			put_uv(o, e->st[i].len);
		}
	}
	for (int i = 0; i < BS_MAX; i++) {
		if (e->st[i].len) {
			memcpy(o->p + o->len, e->st[i].p, e->st[i].len);
			o->len += e->st[i].len;
		}
	}
	e->m.raw_len = (int64_t)e->raw.len;
	e->m.cols_len = (int64_t)o->len;
	*meta = e->m;
	*raw = e->raw.p ? (const void *)e->raw.p : (const void *)"";
	*cols = o->p;
	return 0;
}

/* ---- compression ---- */
struct block_zip {
	ZSTD_CCtx *c;
	ZSTD_DCtx *d;
	struct bbuf pack[2], unpack[2];
};

struct block_zip *block_zip_new(void)
{
	struct block_zip *z = calloc(1, sizeof(*z));
	if (!z)
		return NULL;
	z->c = ZSTD_createCCtx();
	z->d = ZSTD_createDCtx();
	if (!z->c || !z->d) {
		block_zip_free(z);
		return NULL;
	}
	return z;
}

void block_zip_free(struct block_zip *z)
{
	if (!z)
		return;
	ZSTD_freeCCtx(z->c);
	ZSTD_freeDCtx(z->d);
	free(z->pack[0].p);
	free(z->pack[1].p);
	free(z->unpack[0].p);
	free(z->unpack[1].p);
	free(z);
}

size_t block_zip_pack(struct block_zip *z, int slot, const void *p, size_t len, const void **out)
{
	struct bbuf *b = &z->pack[slot & 1];
	size_t bound = ZSTD_compressBound(len);
	b->len = 0;
	if (bb_grow(b, bound))
		return 0;
	size_t n = ZSTD_compressCCtx(z->c, b->p, bound, p, len, BLOCK_ZSTD_LEVEL);
	if (ZSTD_isError(n))
		return 0;
	*out = b->p;
	return n;
}

int block_zip_unpack(struct block_zip *z, int slot, const void *zp, size_t zlen, size_t len,
		     const void **out, char *err, size_t errsz)
{
	struct bbuf *b = &z->unpack[slot & 1];
	b->len = 0;
	if (bb_grow(b, len + 1)) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	size_t n = ZSTD_decompressDCtx(z->d, b->p, len, zp, zlen);
	if (ZSTD_isError(n) || n != len) {
		snprintf(err, errsz, "corrupt block: %s",
			 ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong length");
		return -1;
	}
	b->p[len] = 0;
	*out = b->p;
	return 0;
}

/* ---- the decoder ---- */
static int bad(char *err, size_t errsz, const char *what)
{
	snprintf(err, errsz, "corrupt block: %s", what);
	return -1;
}

int block_dec_open(struct block_dec *d, const void *cols, size_t cols_len, const void *raw,
		   size_t raw_len, char *err, size_t errsz)
{
	const unsigned char *p = cols, *end = p + cols_len;
	uint64_t n, ns;
	memset(d->s, 0, sizeof(d->s));
	memset(d->se, 0, sizeof(d->se));
	d->ndict = 0;
	d->next = 0;
	d->recv = d->ts = 0;
	if (p >= end || *p++ != BLOCK_FORMAT)
		return bad(err, errsz, "unknown format");
	if (varint_get(&p, end, &n) || varint_get(&p, end, &ns) || ns > BS_MAX || n > (1u << 30))
		return bad(err, errsz, "bad header");
	uint64_t ids[BS_MAX], lens[BS_MAX];
	for (uint64_t i = 0; i < ns; i++)
		if (varint_get(&p, end, &ids[i]) || varint_get(&p, end, &lens[i]))
			return bad(err, errsz, "bad stream table");
	for (uint64_t i = 0; i < ns; i++) {
		if (lens[i] > (uint64_t)(end - p))
			return bad(err, errsz, "stream past the end");
		if (ids[i] < BS_MAX) {
			d->s[ids[i]] = p;
			d->se[ids[i]] = p + lens[i];
		}
		p += lens[i];
	}
	d->n = (size_t)n;
	/* the dictionary, each entry NUL-terminated in dictbuf */
	const unsigned char *q = d->s[BS_DICT], *qe = d->se[BS_DICT];
	size_t need = q ? (size_t)(qe - q) + 1 : 1;
	if (need > d->dictcap) {
		char *nb = realloc(d->dictbuf, need);
		if (!nb)
			return bad(err, errsz, "out of memory");
		d->dictbuf = nb;
		d->dictcap = need;
	}
	size_t used = 0;
	while (q && q < qe) {
		uint64_t l;
		if (varint_get(&q, qe, &l) || l > (uint64_t)(qe - q))
			return bad(err, errsz, "bad dictionary");
		if (d->ndict == d->adict) {
			size_t na = d->adict ? d->adict * 2 : 64;
			struct lr_str *nd = realloc(d->dict, na * sizeof(*nd));
			if (!nd)
				return bad(err, errsz, "out of memory");
			d->dict = nd;
			d->adict = na;
		}
		memcpy(d->dictbuf + used, q, l);
		d->dict[d->ndict].p = d->dictbuf + used;
		d->dict[d->ndict].len = (uint32_t)l;
		d->ndict++;
		used += l;
		d->dictbuf[used++] = 0; /* the length varint took at least the byte this uses */
		q += l;
	}
	d->raw = raw;
	d->rawp = raw;
	d->raw_end = raw ? (const unsigned char *)raw + raw_len : NULL;
	d->have_raw = raw != NULL;
	d->fields = ~(uint64_t)0;
	d->lf_next = SIZE_MAX;
	if (d->s[BS_LF] && d->s[BS_LF] < d->se[BS_LF]) {
		uint64_t gap;
		if (varint_get(&d->s[BS_LF], d->se[BS_LF], &gap) || !gap)
			return bad(err, errsz, "bad LF list");
		d->lf_next = (size_t)gap - 1;
	}
	return 0;
}

void block_dec_only(struct block_dec *d, const size_t *offs, size_t n, int source)
{
	static const size_t special[] = {
		[BF_PRI - BF_SPECIAL0] = offsetof(struct logrec, pri),
		[BF_REASON - BF_SPECIAL0] = offsetof(struct logrec, reason),
		[BF_SOURCE - BF_SPECIAL0] = SIZE_MAX,
		[BF_TERM - BF_SPECIAL0] = offsetof(struct logrec, term),
		[BF_SYSLOG_MS - BF_SPECIAL0] = offsetof(struct logrec, syslog_ms),
		[BF_TS_MS - BF_SPECIAL0] = offsetof(struct logrec, ts_ms),
	};
	uint64_t m = 0;
	for (int f = 0; f < BF_N; f++) {
		size_t off = f < BF_SPECIAL0 ? bfields[f].off : special[f - BF_SPECIAL0];
		for (size_t i = 0; i < n; i++)
			if (offs[i] == off)
				m |= (uint64_t)1 << f;
		if (off == SIZE_MAX && source)
			m |= (uint64_t)1 << f;
	}
	/* a slice is found from its anchors: decode those too (anchors are earlier fields) */
	for (int f = BF_SPECIAL0 - 1; f >= BF_STR0; f--) {
		if (!(m >> f & 1))
			continue;
		if (bfields[f].s == BA_FSTART || bfields[f].s == BA_FEND)
			m |= (uint64_t)1 << bfields[f].sref;
		if (bfields[f].e == BA_FSTART || bfields[f].e == BA_FEND)
			m |= (uint64_t)1 << bfields[f].eref;
	}
	d->fields = m;
}

int block_dec_plain(const struct block_dec *d)
{
	return !d->s[BS_LF] || d->s[BS_LF] == d->se[BS_LF];
}

const char *block_dec_raw(const struct block_dec *d, size_t *len)
{
	*len = d->raw ? (size_t)(d->raw_end - d->raw) : 0;
	return (const char *)d->raw;
}

void block_dec_release(struct block_dec *d)
{
	free(d->dict);
	free(d->dictbuf);
	d->dict = NULL;
	d->dictbuf = NULL;
	d->ndict = d->adict = d->dictcap = 0;
}

static inline int next_uv(struct block_dec *d, int id, uint64_t *v)
{
	const unsigned char *p = d->s[id];
	if (p && p < d->se[id] && *p < 0x80) { /* one byte: most values */
		*v = *p;
		d->s[id] = p + 1;
		return 0;
	}
	return p ? varint_get(&d->s[id], d->se[id], v) : -1;
}

static int dict_at(const struct block_dec *d, uint64_t id, struct lr_str *out)
{
	if (id >= d->ndict)
		return -1;
	*out = d->dict[id];
	return 0;
}

int block_dec_next(struct block_dec *d, struct block_rec *out, char *err, size_t errsz)
{
	if (d->next >= d->n)
		return 0;
	size_t idx = d->next++;
	uint64_t v, mask;
	out->index = idx;
	/* the raw line: up to the next LF, or its stored length when it holds LFs */
	out->raw.p = NULL;
	out->raw.len = 0;
	size_t linelen = 0;
	if (idx == d->lf_next) {
		uint64_t l, gap;
		if (varint_get(&d->s[BS_LF], d->se[BS_LF], &l))
			return bad(err, errsz, "bad LF list");
		linelen = (size_t)l;
		d->lf_next = SIZE_MAX;
		if (d->s[BS_LF] < d->se[BS_LF]) {
			if (varint_get(&d->s[BS_LF], d->se[BS_LF], &gap) || !gap)
				return bad(err, errsz, "bad LF list");
			d->lf_next = idx + (size_t)gap;
		}
		if (d->have_raw && (size_t)(d->raw_end - d->rawp) < linelen + 1)
			return bad(err, errsz, "raw lines too short");
	} else if (d->have_raw) {
		const unsigned char *nl = memchr(d->rawp, '\n', (size_t)(d->raw_end - d->rawp));
		if (!nl)
			return bad(err, errsz, "raw lines too short");
		linelen = (size_t)(nl - d->rawp);
	}
	if (d->have_raw) {
		out->raw.p = (const char *)d->rawp;
		out->raw.len = (uint32_t)linelen;
		d->rawp += linelen + 1;
	}
	if (next_uv(d, BS_RECV, &v))
		return bad(err, errsz, "bad receive time");
	d->recv += unzigzag(v);
	if (next_uv(d, BS_TS, &v))
		return bad(err, errsz, "bad time");
	d->ts += unzigzag(v);
	out->recv_ms = d->recv;
	out->ts_ms = d->ts;
	if (!d->s[BS_KIND] || d->s[BS_KIND] >= d->se[BS_KIND])
		return bad(err, errsz, "bad kind");
	unsigned k = *d->s[BS_KIND]++;
	struct logrec *r = &out->rec;
	logrec_clear(r);
	r->kind = (enum lr_kind)(k & 15);
	r->status = (enum lr_status)((k >> 4) & 3);
	out->flags = (k >> 6) & BLOCK_LINE_TRUNCATED;
	if (r->kind >= LR_KIND_MAX || r->status > LR_BAD)
		return bad(err, errsz, "bad kind");
	if (next_uv(d, BS_FLAGS, &v))
		return bad(err, errsz, "bad flags");
	r->flags = (uint32_t)(v & 0xffffff);
	r->framing = (enum lr_framing)(v >> 24);
	if (next_uv(d, BS_MASK, &mask))
		return bad(err, errsz, "bad field mask");
	out->source.p = NULL;
	out->source.len = 0;

	char *rp = (char *)r;
	mask &= d->fields | ~(((uint64_t)1 << BF_N) - 1); /* unknown bits stay: refused below */
	for (int f = BF_INT0; f < BF_TIMER0; f++) {
		if (!(mask >> f & 1))
			continue;
		if (next_uv(d, BS_FIELD0 + f, &v))
			return bad(err, errsz, "bad number");
		int64_t x = unzigzag(v);
		memcpy(rp + bfields[f].off, &x, sizeof(x));
	}
	for (int f = BF_TIMER0; f < BF_NAME0; f++) {
		if (!(mask >> f & 1))
			continue;
		if (next_uv(d, BS_FIELD0 + f, &v))
			return bad(err, errsz, "bad number");
		int32_t x = (int32_t)unzigzag(v);
		memcpy(rp + bfields[f].off, &x, sizeof(x));
	}
	for (int f = BF_NAME0; f < BF_STR0; f++) {
		struct lr_str s;
		if (!(mask >> f & 1))
			continue;
		if (next_uv(d, BS_FIELD0 + f, &v) || dict_at(d, v, &s))
			return bad(err, errsz, "bad name");
		memcpy(rp + bfields[f].off, &s, sizeof(s));
	}
	int64_t ss[BF_N], se[BF_N];
	const char *line = out->raw.p;
	for (int f = BF_STR0; f < BF_SPECIAL0; f++) {
		const struct bfield *fd = &bfields[f];
		struct lr_str s;
		uint64_t w;
		ss[f] = se[f] = -1;
		if (!(mask >> f & 1))
			continue;
		if (next_uv(d, BS_FIELD0 + f, &v))
			return bad(err, errsz, "bad string");
		if (v & 1) {
			if (dict_at(d, v >> 1, &s))
				return bad(err, errsz, "bad string");
			memcpy(rp + fd->off, &s, sizeof(s));
			continue;
		}
		if (next_uv(d, BS_FIELD0 + f, &w))
			return bad(err, errsz, "bad string");
		if (!line)
			continue; /* columns only: slices of the raw line stay absent */
		int64_t start =
			anchor_at(fd->s, fd->sref, ss, se, (int64_t)linelen) + unzigzag(v >> 1);
		int64_t end = fd->e == BA_LEN
				      ? start + (int64_t)w
				      : anchor_at(fd->e, fd->eref, ss, se, (int64_t)linelen) -
						unzigzag(w);
		if (start < 0 || end < start || end > (int64_t)linelen)
			return bad(err, errsz, "string outside its line");
		ss[f] = start;
		se[f] = end;
		s.p = line + start;
		s.len = (uint32_t)(end - start);
		memcpy(rp + fd->off, &s, sizeof(s));
	}
	if (mask >> BF_PRI & 1) {
		if (next_uv(d, BS_FIELD0 + BF_PRI, &v) || v > 1023)
			return bad(err, errsz, "bad priority");
		r->pri = (int)v;
	}
	if (mask >> BF_REASON & 1) {
		struct lr_str s;
		if (next_uv(d, BS_FIELD0 + BF_REASON, &v) || dict_at(d, v, &s))
			return bad(err, errsz, "bad reason");
		r->reason = s.p; /* NUL-terminated in dictbuf */
	}
	if (mask >> BF_SOURCE & 1) {
		if (next_uv(d, BS_FIELD0 + BF_SOURCE, &v) || dict_at(d, v, &out->source))
			return bad(err, errsz, "bad source");
	}
	if (mask >> BF_TERM & 1) {
		struct lr_str s;
		if (next_uv(d, BS_FIELD0 + BF_TERM, &v) || dict_at(d, v, &s) ||
		    s.len >= sizeof(r->term))
			return bad(err, errsz, "bad termination state");
		memcpy(r->term, s.p, s.len);
		r->term[s.len] = 0;
	}
	if (mask >> BF_SYSLOG_MS & 1) {
		if (next_uv(d, BS_FIELD0 + BF_SYSLOG_MS, &v))
			return bad(err, errsz, "bad syslog time");
		r->syslog_ms = d->ts + unzigzag(v);
	}
	if (mask >> BF_TS_MS & 1)
		r->ts_ms = d->ts;
	if (mask >> BF_N)
		return bad(err, errsz, "unknown fields");
	return 1;
}
