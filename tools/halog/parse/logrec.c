/* The absent values of a parse record and the names of its enums (see logrec.h). */
#include "parse/logrec.h"

#include <string.h>

/* Every field absent; copied in one go because logrec_clear runs once per line. */
static const struct logrec logrec_empty = {
	.framing = LR_FR_NONE,
	.pri = -1,
	.syslog_ms = LR_NONE,
	.pid = LR_NONE,
	.kind = LR_UNPARSED,
	.status = LR_OK,
	.client_port = LR_NONE,
	.ts_ms = LR_NONE,
	.t_req = LR_TIMER_NONE,
	.t_wait = LR_TIMER_NONE,
	.t_connect = LR_TIMER_NONE,
	.t_resp = LR_TIMER_NONE,
	.t_active = LR_TIMER_NONE,
	.status_code = LR_NONE,
	.bytes_read = LR_NONE,
	.bytes_uploaded = LR_NONE,
	.actconn = LR_NONE,
	.feconn = LR_NONE,
	.beconn = LR_NONE,
	.srv_conn = LR_NONE,
	.retries = LR_NONE,
	.srv_queue = LR_NONE,
	.backend_queue = LR_NONE,
	.dst_port = LR_NONE,
	.ev_check_ms = LR_TIMER_NONE,
	.ev_backup = 0,
	.ev_active_left = LR_NONE,
	.ev_backup_left = LR_NONE,
};

void logrec_clear(struct logrec *r)
{
	memcpy(r, &logrec_empty, sizeof(*r));
}

const char *lr_kind_name(enum lr_kind k)
{
	static const char *const names[LR_KIND_MAX] = {
		[LR_UNPARSED] = "unparsed",
		[LR_HTTP] = "http",
		[LR_TCP] = "tcp",
		[LR_CONNECT] = "connect",
		[LR_CONN_ERROR] = "conn_error",
		[LR_SERVER] = "server",
		[LR_CHECK] = "check",
		[LR_NOSRV] = "nosrv",
		[LR_PROXY] = "proxy",
		[LR_OTHER] = "other",
	};

	if ((unsigned)k >= LR_KIND_MAX)
		return "unknown";
	return names[k];
}

const char *lr_framing_name(enum lr_framing f)
{
	switch (f) {
	case LR_FR_NONE:
		return "none";
	case LR_FR_RFC3164:
		return "rfc3164";
	case LR_FR_RFC5424:
		return "rfc5424";
	case LR_FR_PRIORITY:
		return "priority";
	case LR_FR_SHORT:
		return "short";
	case LR_FR_TIMED:
		return "timed";
	case LR_FR_ISO:
		return "iso";
	case LR_FR_FILE:
		return "file";
	}
	return "unknown";
}
