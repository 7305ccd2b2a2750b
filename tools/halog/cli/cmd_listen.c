/* `halog listen`: options into struct listen_opts, then listen_run(). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "listen/forward.h"
#include "listen/listen.h"
#include "parse/logparse.h"
#include "store/chhttp.h"
#include "store/store.h"
#include "opt.h"
#include "parse.h"

#define LISTEN_MAX_BINDS 32
#define LISTEN_MAX_ALLOW 64

enum {
	O_DB = 1,
	O_BIND,
	O_TCP,
	O_ALLOW,
	O_ECHO,
	O_FORWARD,
	O_LOG_FORMAT,
	O_BATCH,
	O_BATCH_MS,
	O_RCVBUF,
	O_MAX_CONNS,
	O_IDLE_TIMEOUT,
	O_FRAME_TIMEOUT,
	O_QUEUE,
	O_QUEUE_BYTES,
	O_NO_ALERTS,
	O_RETAIN,
	O_MAX_SIZE,
	O_RETAIN_ROLLUPS,
	O_SINK,
};

static const struct opt listen_opts[] = {
	{.id = O_DB,
	 .long_name = "db",
	 .type = OPT_STR,
	 .arg = "FILE",
	 .help = "the SQLite store (default: $HALOG_DB, else ./halog.db; created\n"
		 "with mode 0600); 'none': no local store (needs --sink)"},
	{.id = O_SINK,
	 .long_name = "sink",
	 .type = OPT_STR,
	 .arg = "URL",
	 .help = "also insert every message into ClickHouse:\n"
		 "clickhouse://HOST:PORT/DB[?spool=FILE&memory=256M&spool_max=1G&batch=N]\n"
		 "(create its tables with 'halog clickhouse init'; docs/scaling.md)"},
	{.id = O_BIND,
	 .long_name = "bind",
	 .type = OPT_STR,
	 .arg = "ADDR",
	 .flags = OPT_MANY,
	 .help = "where to listen: udp://127.0.0.1:5140, tcp://[::1]:5140; a bare\n"
		 "ADDR:PORT is UDP; '*:PORT' is every IPv4 interface (repeatable;\n"
		 "default: UDP and TCP on 127.0.0.1:5140)"},
	{.id = O_TCP,
	 .long_name = "tcp",
	 .type = OPT_STR,
	 .arg = "ADDR",
	 .flags = OPT_MANY,
	 .help = "the same as --bind tcp://ADDR"},
	{.id = O_ALLOW,
	 .long_name = "allow",
	 .type = OPT_STR,
	 .arg = "CIDR",
	 .flags = OPT_MANY,
	 .help = "accept only senders in these networks (repeatable; default: all)"},
	{.id = O_ECHO,
	 .long_name = "echo",
	 .type = OPT_FLAG,
	 .help = "print each message on stdout as it arrives (control bytes visible)"},
	{.id = O_FORWARD,
	 .long_name = "forward",
	 .type = OPT_STR,
	 .arg = "URL",
	 .flags = OPT_MANY,
	 .help = "also send every message to another syslog receiver: udp://HOST:PORT,\n"
		 "tcp://HOST:PORT (octet counting) or tls://HOST:PORT[?ca=FILE&cert=FILE&\n"
		 "key=FILE&name=SNI] (RFC 5425); repeatable"},
	{.id = O_LOG_FORMAT,
	 .long_name = "log-format",
	 .type = OPT_STR,
	 .arg = "STR",
	 .help = "the HAProxy log-format of custom traffic lines"},
	{.id = O_BATCH,
	 .long_name = "batch",
	 .type = OPT_INT,
	 .arg = "N",
	 .min = 1,
	 .max = 1000000,
	 .help = "messages per transaction at most (default 5000)"},
	{.id = O_BATCH_MS,
	 .long_name = "batch-ms",
	 .type = OPT_INT,
	 .arg = "MS",
	 .min = 1,
	 .max = 60000,
	 .help = "commit a batch at the latest MS ms after it began (default 200)"},
	{.id = O_RCVBUF,
	 .long_name = "rcvbuf",
	 .type = OPT_STR,
	 .arg = "BYTES",
	 .help = "UDP receive buffer to ask the kernel for (default 256M; K, M, G allowed)"},
	{.id = O_MAX_CONNS,
	 .long_name = "max-conns",
	 .type = OPT_INT,
	 .arg = "N",
	 .min = 1,
	 .max = 65536,
	 .help = "open TCP connections at most (default 256; lowered to what the\n"
		 "open-file limit allows); when all are taken, the one silent\n"
		 "longest makes room"},
	{.id = O_IDLE_TIMEOUT,
	 .long_name = "idle-timeout",
	 .type = OPT_STR,
	 .arg = "DUR",
	 .help = "close a TCP connection silent this long (default 5m; 0: never)"},
	{.id = O_FRAME_TIMEOUT,
	 .long_name = "frame-timeout",
	 .type = OPT_STR,
	 .arg = "DUR",
	 .help = "store and close a TCP frame still incomplete after this long\n"
		 "(default 30s; 0: never)"},
	{.id = O_QUEUE,
	 .long_name = "queue",
	 .type = OPT_INT,
	 .arg = "N",
	 .min = 64, /* the writer's batch is at most half the queue */
	 .max = 1 << 20,
	 .help = "messages held between receiving and storing (default 65536);\n"
		 "a SIGKILL loses at most this many (docs/reliability.md)"},
	{.id = O_QUEUE_BYTES,
	 .long_name = "queue-bytes",
	 .type = OPT_STR,
	 .arg = "BYTES",
	 .help = "bytes of messages held there (default 16M; 1M to 1G)"},
	{.id = O_NO_ALERTS,
	 .long_name = "no-alerts",
	 .type = OPT_FLAG,
	 .help = "do not evaluate the store's alerts (halog alert) nor send webhooks"},
	RETENTION_OPTS(O_RETAIN, O_MAX_SIZE, O_RETAIN_ROLLUPS),
	{0},
};

static const struct opt_cmd listen_cmd = {
	.prog = "halog listen",
	.opts = listen_opts,
	.epilog =
		"SIGUSR1 prints the counters; SIGINT/SIGTERM store everything received, then exit "
		"0.\n",
};

/* "123", "32K", "32M", "1G" into bytes (at most 1 GiB). Returns 0 or -1. */
static int parse_bytes(const char *s, size_t *out)
{
	char num[32];
	size_t n = strlen(s);
	int64_t v, mult = 1;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'k':
	case 'K':
		mult = 1024;
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024;
		break;
	case 'g':
	case 'G':
		mult = 1024 * 1024 * 1024;
		break;
	default:
		break;
	}
	if (mult > 1)
		num[n - 1] = '\0';
	if (parse_int64(num, 0, (INT64_C(1) << 30) / mult, &v) < 0)
		return -1;
	*out = (size_t)(v * mult);
	return 0;
}

int cmd_listen(int argc, char **argv)
{
	static struct listen_addr binds[LISTEN_MAX_BINDS];
	static struct listen_cidr allow[LISTEN_MAX_ALLOW];
	static struct forward_target fwd[FORWARD_MAX];
	struct listen_opts o;
	char whybuf[300];
	const char *why;
	struct opt_parser p;
	int r;

	listen_opts_init(&o);
	o.db = store_default_path();
	o.binds = binds;
	o.allow = allow;

	opt_init(&p, &listen_cmd, argc, argv);
	while ((r = opt_next(&p)) != OPT_DONE) {
		const char *v = p.val;

		switch (r) {
		case O_ECHO:
			o.echo = 1;
			break;
		case O_DB:
			o.db = v;
			break;
		case O_BIND:
		case O_TCP:
			if (o.nbinds >= LISTEN_MAX_BINDS)
				return opt_usage_error(&listen_cmd, stderr,
						       "too many --bind and --tcp (at most %d)",
						       LISTEN_MAX_BINDS);
			if (r == O_TCP && strstr(v, "://"))
				return opt_bad_value(&p, stderr, "expected ADDR:PORT, not a URL");
			if (listen_parse_addr(v, r == O_TCP ? LISTEN_TCP : LISTEN_UDP,
					      &binds[o.nbinds], whybuf, sizeof(whybuf), &why) < 0)
				return opt_bad_value(&p, stderr, "%s", why);
			o.nbinds++;
			break;
		case O_ALLOW:
			if (o.nallow >= LISTEN_MAX_ALLOW)
				return opt_usage_error(&listen_cmd, stderr,
						       "too many --allow (at most %d)",
						       LISTEN_MAX_ALLOW);
			if (listen_parse_cidr(v, &allow[o.nallow]) < 0)
				return opt_bad_value(&p, stderr,
						     "expected an address or a network with zero "
						     "host bits, e.g. 10.0.0.0/8 or fd00::/8");
			o.nallow++;
			break;
		case O_FORWARD:
			if (o.nforward >= FORWARD_MAX)
				return opt_usage_error(&listen_cmd, stderr,
						       "too many --forward (at most %d)", FORWARD_MAX);
			if (forward_parse(v, &fwd[o.nforward], whybuf, sizeof(whybuf), &why) < 0)
				return opt_bad_value(&p, stderr, "%s", why);
			o.forward = fwd;
			o.nforward++;
			break;
		case O_RETAIN:
		case O_MAX_SIZE:
		case O_RETAIN_ROLLUPS:
			if (retention_option(p.name, v, &o.retain, &o.retain_mask, whybuf,
					     sizeof(whybuf)) < 0)
				return opt_bad_value(&p, stderr, "%s", whybuf);
			break;
		case O_LOG_FORMAT:
			o.log_format = v;
			break;
		case O_BATCH_MS:
			o.batch_ms = (unsigned)p.num;
			break;
		case O_BATCH:
			o.batch = (size_t)p.num;
			break;
		case O_RCVBUF:
			if (parse_bytes(v, &o.rcvbuf) < 0)
				return opt_bad_value(&p, stderr,
						     "expected bytes up to 1G (e.g. 8M)");
			break;
		case O_MAX_CONNS:
			o.max_conns = (size_t)p.num;
			break;
		case O_IDLE_TIMEOUT:
		case O_FRAME_TIMEOUT: {
			uint64_t ms = 0;

			if (strcmp(v, "0") && (parse_duration_ms(v, &ms) < 0 || ms == 0 ||
					       ms > 86400000))
				return opt_bad_value(&p, stderr,
						     "expected a duration up to 1d (e.g. 30s, 5m) "
						     "or 0");
			if (r == O_IDLE_TIMEOUT)
				o.idle_ms = (unsigned)ms;
			else
				o.frame_ms = (unsigned)ms;
			break;
		}
		case O_QUEUE:
			o.queue_msgs = (size_t)p.num;
			break;
		case O_QUEUE_BYTES:
			if (parse_bytes(v, &o.queue_bytes) < 0 || o.queue_bytes < (1u << 20))
				return opt_bad_value(&p, stderr, "expected bytes from 1M to 1G");
			break;
		case O_NO_ALERTS:
			o.no_alerts = 1;
			break;
		case O_SINK: {
			struct ch_url u;
			char shown[CH_SHOWN_MAX];

			if (ch_url_parse(v, &u, whybuf, sizeof(whybuf)) < 0)
				return opt_value_error(&listen_cmd, stderr, "--sink",
						       ch_url_redact(v, shown, sizeof(shown)), "%s",
						       whybuf);
			o.sink = v;
			break;
		}
		case OPT_OPERAND:
			return opt_usage_error(&listen_cmd, stderr, "unexpected argument '%s'", v);
		default:
			return opt_finish(&p, r, stdout, stderr);
		}
	}
	if (o.log_format) { /* compiled again by the listener: checked here, as a usage error */
		char err[256];
		struct logparser *lp = logparser_new(o.log_format, err, sizeof(err));

		if (!lp)
			return opt_value_error(&listen_cmd, stderr, "--log-format", o.log_format,
					       "%s", err);
		logparser_free(lp);
	}
	if (!strcmp(o.db, "none") && !o.sink)
		return opt_usage_error(&listen_cmd, stderr, "--db none needs --sink");
	if (o.nbinds == 0) {
		const char *def[] = {"udp://127.0.0.1:5140", "tcp://127.0.0.1:5140"};

		for (size_t k = 0; k < 2; k++)
			if (listen_parse_addr(def[k], LISTEN_UDP, &binds[o.nbinds++], whybuf,
					      sizeof(whybuf), &why) < 0)
				return HALOG_EXIT_ERR;
	}
	if (o.nallow == 0)
		for (size_t k = 0; k < o.nbinds; k++)
			if (!listen_is_loopback((const struct sockaddr *)&binds[k].ss))
				fprintf(stderr,
					"halog listen: warning: %s accepts messages from any host "
					"(add --allow CIDR)\n",
					binds[k].text);
	return listen_run(&o);
}
