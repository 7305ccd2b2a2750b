/* What the log parser produces from one message: the syslog framing, the kind of body, and the
 * parsed fields. Strings are slices of the caller's buffer (or of the parser's scratch space):
 * nothing here is allocated per line and nothing is valid after the next parse call. */
#ifndef LOGREC_H
#define LOGREC_H
#include <stddef.h>
#include <stdint.h>

/* A borrowed byte slice; p is NULL when the field is absent ("-" in the log is absent too,
 * except where a field says otherwise). Not NUL-terminated. */
struct lr_str {
	const char *p;
	uint32_t len;
};

/* Kinds of message. Stored as integers: append only, never renumber. */
enum lr_kind {
	LR_UNPARSED = 0,   /* kept raw; reason says why */
	LR_HTTP = 1,       /* httplog, httpslog, clf, or a custom format with HTTP fields */
	LR_TCP = 2,        /* tcplog, or a custom format without HTTP fields */
	LR_CONNECT = 3,    /* "Connect from a:p to b:q (fe/MODE)" */
	LR_CONN_ERROR = 4, /* "ip:port [date] fe/bind: SSL handshake failure" and PROXY errors */
	LR_SERVER = 5,     /* "Server be/s is UP|DOWN…", "Backup Server …", maintenance */
	LR_CHECK = 6,      /* "Health check for server be/s succeeded|failed…" */
	LR_NOSRV = 7,      /* "backend X has no server available!" */
	LR_PROXY = 8,      /* proxy started / stopping / stopped / paused / resumed */
	LR_OTHER = 9,      /* a recognised framing whose body is some other HAProxy message */
	LR_KIND_MAX
};

/* Syslog framings. Append only. */
enum lr_framing {
	LR_FR_NONE = 0,     /* no header at all (raw) */
	LR_FR_RFC3164 = 1,  /* <PRI>Mmm dd hh:mm:ss [HOST] TAG[PID]: (also "local") */
	LR_FR_RFC5424 = 2,  /* <PRI>1 TS HOST APP PROCID MSGID SD */
	LR_FR_PRIORITY = 3, /* <PRI>MSG */
	LR_FR_SHORT = 4,    /* <LEVEL>MSG (0-7) -- indistinguishable from priority when PRI < 8 */
	LR_FR_TIMED = 5,    /* <LEVEL>ISO8601 MSG */
	LR_FR_ISO = 6,      /* ISO8601 MSG */
	LR_FR_FILE = 7,     /* relay file forms without PRI: "Mmm dd hh:mm:ss HOST TAG[PID]:" or ISO */
};

/* Parse outcome. */
enum lr_status {
	LR_OK = 0,      /* every field of the format was read */
	LR_PARTIAL = 1, /* a known kind, but truncated or with fields missing (see reason) */
	LR_BAD = 2,     /* not understood: kept raw with reason */
};

/* Flags on a traffic record. */
#define LR_F_SSL 0x0001        /* frontend had a '~' */
#define LR_F_LOGASAP 0x0002    /* '+' on Ta/Tt or bytes: the values are partial */
#define LR_F_REDISPATCH 0x0004 /* '+' on retries */
#define LR_F_TRUNCATED 0x0008  /* the line was cut (no closing quote / missing version) */
#define LR_F_BADREQ 0x0010     /* "<BADREQ>" or an empty request */
#define LR_F_SPECIAL_SRV 0x0020 /* server is <NOSRV>, <STATS>, <CACHE> … */
#define LR_F_NOT_ROUTED 0x0040  /* backend == frontend and server <NOSRV> */
#define LR_F_CLF 0x0080        /* parsed as clf */

/* Timer value meaning "-1 in the log: phase not reached" (stored as NULL). */
#define LR_TIMER_NONE INT32_MIN
/* Integer value meaning "absent" for counters, status and ports. */
#define LR_NONE INT64_MIN

struct logrec {
	/* --- framing --- */
	enum lr_framing framing;
	int pri;               /* 0..191, or -1 when there is no <PRI> */
	int64_t syslog_ms;     /* header timestamp as unix ms (UTC), or LR_NONE */
	struct lr_str host;    /* header HOST, absent when none or "-" */
	struct lr_str tag;     /* program / APP-NAME */
	int64_t pid;           /* PID / PROCID, or LR_NONE */
	struct lr_str sd;      /* RFC5424 structured data, absent when "-" */
	struct lr_str body;    /* the message after the header */

	/* --- outcome --- */
	enum lr_kind kind;
	enum lr_status status;
	const char *reason; /* static string; NULL when status == LR_OK */

	/* --- traffic (LR_HTTP, LR_TCP; some also for LR_CONNECT / LR_CONN_ERROR) --- */
	uint32_t flags;          /* LR_F_* */
	struct lr_str client_ip; /* "::1", "10.0.0.1", "unix", absent for "-" */
	int64_t client_port;     /* or LR_NONE */
	int64_t ts_ms;           /* body date (request date for httplog, accept date for tcplog) as
				    unix ms; naive dates are read in the local zone (TZ); or LR_NONE */
	struct lr_str frontend;  /* without the '~' */
	struct lr_str bind;      /* LR_CONN_ERROR: bind name or id after "fe/" */
	struct lr_str backend;
	struct lr_str server;    /* may be "<NOSRV>" etc. (LR_F_SPECIAL_SRV) */
	int32_t t_req;           /* TR (Tq on <=1.6); LR_TIMER_NONE for -1 or absent */
	int32_t t_wait;          /* Tw */
	int32_t t_connect;       /* Tc */
	int32_t t_resp;          /* Tr */
	int32_t t_active;        /* Ta (http) or Tt (tcp): the total */
	int64_t status_code;     /* HTTP status, or LR_NONE (tcp, or -1 in old logs) */
	int64_t bytes_read;      /* %B, bytes to the client; LR_NONE when absent */
	int64_t bytes_uploaded;  /* %U when the format has it; LR_NONE otherwise */
	struct lr_str cookie_req;  /* %CC, absent for "-" */
	struct lr_str cookie_resp; /* %CS */
	char term[5];            /* termination state, NUL-terminated: 2 chars (tcp) or 4 (http); "" if absent */
	int64_t actconn, feconn, beconn, srv_conn, retries; /* LR_NONE when absent */
	int64_t srv_queue, backend_queue;
	struct lr_str cap_req;   /* inside the {…} of %hr, without braces, still #XX-escaped */
	struct lr_str cap_resp;  /* inside the {…} of %hs */
	struct lr_str request;   /* the full request line without quotes (may be truncated) */
	struct lr_str method;
	struct lr_str uri;       /* as logged (absolute for H2) */
	struct lr_str path;      /* path part of uri (origin form), without the query */
	struct lr_str query;     /* after '?', without the '?' */
	struct lr_str version;   /* "HTTP/1.1", absent when truncated */
	struct lr_str ssl_sni, ssl_version, ssl_cipher; /* httpslog */
	struct lr_str ssl_errors;                        /* httpslog "fc_err/ssl_fc_err/…" block */
	struct lr_str unique_id;                         /* %ID when the format has it */
	struct lr_str dst_ip;    /* LR_CONNECT destination; %fi in custom formats */
	int64_t dst_port;
	struct lr_str mode;      /* LR_CONNECT "HTTP"/"TCP" */
	struct lr_str message;   /* LR_CONN_ERROR text; LR_OTHER/LR_PROXY whole text */

	/* --- events (LR_SERVER, LR_CHECK, LR_NOSRV, LR_PROXY) --- */
	struct lr_str ev_proxy;  /* backend / proxy name */
	struct lr_str ev_server; /* server name */
	struct lr_str ev_state;  /* "UP", "DOWN", "MAINT", "started", "stopped", "succeeded", "failed" … */
	struct lr_str ev_reason; /* "Layer4 connection problem" */
	struct lr_str ev_info;   /* "Connection refused" (unquoted) */
	int32_t ev_check_ms;     /* "check duration: 0ms", or LR_TIMER_NONE */
	int32_t ev_backup;       /* 1 for "Backup Server", 0 otherwise */
	int64_t ev_active_left, ev_backup_left; /* "0 active and 0 backup servers left", LR_NONE */
};

/* Sets every field to its absent value. */
void logrec_clear(struct logrec *r);

/* Names for enums, for reports and JSON ("http", "tcp", "server" …). */
const char *lr_kind_name(enum lr_kind k);
const char *lr_framing_name(enum lr_framing f);

#endif
