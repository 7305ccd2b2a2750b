/* `halog listen`: options into struct listen_opts, then listen_run(). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "listen/listen.h"
#include "store/store.h"
#include "parse.h"

#define LISTEN_MAX_BINDS 32
#define LISTEN_MAX_ALLOW 64

static const char listen_usage[] =
	"usage: halog listen [--db FILE] [--bind [udp://|tcp://]ADDR:PORT]... [--tcp "
	"ADDR:PORT]...\n"
	"                    [--allow CIDR]... [--echo] [--forward udp://HOST:PORT]\n"
	"                    [--log-format STR] [--batch N] [--batch-ms MS] [--rcvbuf BYTES]\n"
	"                    [--max-conns N] [--queue N] [--queue-bytes BYTES]\n"
	"\n"
	"  --db FILE        the SQLite store (default: $HALOG_DB, else ./halog.db; created\n"
	"                   with mode 0600)\n"
	"  --bind ADDR      where to listen: udp://127.0.0.1:5140, tcp://[::1]:5140; a bare\n"
	"                   ADDR:PORT is UDP; '*:PORT' is every IPv4 interface (repeatable;\n"
	"                   default: UDP and TCP on 127.0.0.1:5140)\n"
	"  --tcp ADDR       the same as --bind tcp://ADDR\n"
	"  --allow CIDR     accept only senders in these networks (repeatable; default: all)\n"
	"  --echo           print each message on stdout as it arrives (control bytes visible)\n"
	"  --forward URL    also send every message to another syslog receiver (udp://HOST:PORT)\n"
	"  --log-format STR the HAProxy log-format of custom traffic lines\n"
	"  --batch N        messages per transaction at most (default 5000)\n"
	"  --batch-ms MS    commit a batch at the latest MS ms after it began (default 200)\n"
	"  --rcvbuf BYTES   UDP receive buffer to ask the kernel for (default 256M; K, M, G "
	"allowed)\n"
	"  --max-conns N    open TCP connections at most (default 256)\n"
	"  --queue N        messages held between receiving and storing (default 65536);\n"
	"                   a SIGKILL loses at most this many (docs/reliability.md)\n"
	"  --queue-bytes B  bytes of messages held there (default 16M; 1M to 1G)\n"
	"\n"
	"SIGUSR1 prints the counters; SIGINT/SIGTERM store everything received, then exit 0.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("halog listen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	fputs(listen_usage, stderr);
	return HALOG_EXIT_USAGE;
}

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

/* Matches "--name VALUE" or "--name=VALUE"; advances *i past the value. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		*val = NULL;
		return 1;
	}
	*val = argv[++*i];
	return 1;
}

int cmd_listen(int argc, char **argv)
{
	static struct listen_addr binds[LISTEN_MAX_BINDS];
	static struct listen_cidr allow[LISTEN_MAX_ALLOW];
	static struct listen_addr fwd;
	struct listen_opts o;
	char whybuf[300];
	const char *why;

	memset(&o, 0, sizeof(o));
	o.db = store_default_path();
	o.binds = binds;
	o.allow = allow;
	o.batch = 5000;
	o.batch_ms = 200;
	o.rcvbuf = 256u << 20; /* absorbs a 1M-datagram burst at full loopback speed (docs) */
	o.max_conns = 256;
	o.queue_msgs = 65536;
	o.queue_bytes = 16u << 20;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		int64_t n;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(listen_usage, stdout);
			return HALOG_EXIT_OK;
		} else if (!strcmp(a, "--echo")) {
			o.echo = 1;
		} else if (opt_value(argc, argv, &i, "--db", &v)) {
			if (!v || !*v)
				return usage_error("%s needs a file name", a);
			o.db = v;
		} else if (opt_value(argc, argv, &i, "--bind", &v) ||
			   opt_value(argc, argv, &i, "--tcp", &v)) {
			int tcp = !strncmp(a, "--tcp", 5);

			if (!v)
				return usage_error("%s needs ADDR:PORT", a);
			if (o.nbinds >= LISTEN_MAX_BINDS)
				return usage_error("too many --bind (at most %s)", "32");
			if (tcp && strstr(v, "://"))
				return usage_error("--tcp takes ADDR:PORT, not a URL: '%s'", v);
			if (listen_parse_addr(v, tcp ? LISTEN_TCP : LISTEN_UDP, &binds[o.nbinds],
					      whybuf, sizeof(whybuf), &why) < 0) {
				fprintf(stderr, "halog listen: invalid address '%s': %s\n", v, why);
				return HALOG_EXIT_USAGE;
			}
			o.nbinds++;
		} else if (opt_value(argc, argv, &i, "--allow", &v)) {
			if (!v)
				return usage_error("%s needs a CIDR", a);
			if (o.nallow >= LISTEN_MAX_ALLOW)
				return usage_error("too many --allow (at most %s)", "64");
			if (listen_parse_cidr(v, &allow[o.nallow]) < 0)
				return usage_error(
					"invalid --allow '%s': expected an address or a network "
					"with zero host bits, e.g. 10.0.0.0/8 or fd00::/8",
					v);
			o.nallow++;
		} else if (opt_value(argc, argv, &i, "--forward", &v)) {
			if (!v)
				return usage_error("%s needs udp://HOST:PORT", a);
			if (strncmp(v, "udp://", 6))
				return usage_error("--forward takes udp://HOST:PORT, not '%s'", v);
			if (listen_parse_addr(v, LISTEN_UDP, &fwd, whybuf, sizeof(whybuf), &why) <
			    0) {
				fprintf(stderr, "halog listen: invalid --forward '%s': %s\n", v,
					why);
				return HALOG_EXIT_USAGE;
			}
			o.forward = &fwd;
		} else if (opt_value(argc, argv, &i, "--log-format", &v)) {
			if (!v)
				return usage_error("%s needs a format string", a);
			o.log_format = v;
		} else if (opt_value(argc, argv, &i, "--batch-ms", &v)) {
			if (!v || parse_int64(v, 1, 60000, &n) < 0)
				return usage_error("--batch-ms takes 1 to 60000, not '%s'",
						   v ? v : "");
			o.batch_ms = (unsigned)n;
		} else if (opt_value(argc, argv, &i, "--batch", &v)) {
			if (!v || parse_int64(v, 1, 1000000, &n) < 0)
				return usage_error("--batch takes 1 to 1000000, not '%s'",
						   v ? v : "");
			o.batch = (size_t)n;
		} else if (opt_value(argc, argv, &i, "--rcvbuf", &v)) {
			if (!v || parse_bytes(v, &o.rcvbuf) < 0)
				return usage_error(
					"--rcvbuf takes bytes up to 1G (e.g. 8M), not '%s'",
					v ? v : "");
		} else if (opt_value(argc, argv, &i, "--max-conns", &v)) {
			if (!v || parse_int64(v, 1, 65536, &n) < 0)
				return usage_error("--max-conns takes 1 to 65536, not '%s'",
						   v ? v : "");
			o.max_conns = (size_t)n;
		} else if (opt_value(argc, argv, &i, "--queue-bytes", &v)) {
			if (!v || parse_bytes(v, &o.queue_bytes) < 0 || o.queue_bytes < (1u << 20))
				return usage_error("--queue-bytes takes 1M to 1G, not '%s'",
						   v ? v : "");
		} else if (opt_value(argc, argv, &i, "--queue", &v)) {
			/* at least 64: the writer's batch is at most half the queue */
			if (!v || parse_int64(v, 64, 1 << 20, &n) < 0)
				return usage_error("--queue takes 64 to 1048576, not '%s'",
						   v ? v : "");
			o.queue_msgs = (size_t)n;
		} else {
			return usage_error("unknown option '%s'", a);
		}
	}
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
