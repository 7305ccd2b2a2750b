/* halog: a local log server for HAProxy. Subcommands come from the table below; each lives in
 * its own cmd_*.c file. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "lazylib.h"

static const struct halog_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "listen", cmd_listen, "receive HAProxy syslog over UDP/TCP and store every line" },
	{ "ingest", cmd_ingest, "read log files (plain or gzip) or stdin into the store" },
	{ "report", cmd_report, "per-backend/server distribution, errors and latency" },
	{ "tail", cmd_tail, "show the latest lines, and follow with -f" },
	{ "search", cmd_search, "search stored lines (Papertrail-style queries)" },
	{ "serve", cmd_serve, "the live tail, search and report in a browser, and a JSON API" },
	{ "drive", cmd_drive, "send N requests through a URL and verify the balance" },
	{ "parse", cmd_parse, "parse lines and print the fields (no store)" },
	{ "saved", cmd_saved, "saved searches: add, list, rm (run with search --saved)" },
	{ "alert", cmd_alert, "alerts to webhooks: add, list, rm, test, log (run by listen)" },
	{ "prune", cmd_prune, "apply the store's retention limits now (and set them)" },
	{ "export", cmd_export, "write stored lines to plain SQLite tables for SQL of your own" },
	{ "upgrade", cmd_upgrade, "bring a store written by an earlier halog to this one's schema" },
	{ "clickhouse", cmd_clickhouse, "halog's tables in ClickHouse: init, prune (docs/scaling.md)" },
};

static void usage(FILE *fp)
{
	fputs("usage: halog <command> [options]\n\ncommands:\n", fp);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(fp, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'halog <command> --help' shows a command's options.\n"
	      "exit codes: 0 ok, 1 runtime or input error, 2 usage error,\n"
	      "            3 balance check failed (report --check-balance, drive --tolerance)\n"
	      "serve needs libmicrohttpd.so.12; drive, alerts, listen --forward and ClickHouse\n"
	      "need libcurl.so.4: opened when used (exit 1 if missing; HALOG_LIBCURL and\n"
	      "HALOG_LIBMICROHTTPD name other files)\n",
	      fp);
}

int main(int argc, char **argv)
{
	const char *env;

	/* a file-size limit must fail the write (EFBIG: the store reports and retries), not kill us
	 */
	signal(SIGXFSZ, SIG_IGN);
	/* another file for a library opened at run time, e.g. libcurl-gnutls.so.4 */
	if ((env = getenv("HALOG_LIBCURL")) && *env)
		lazylib_use(LAZYLIB_CURL, env);
	if ((env = getenv("HALOG_LIBMICROHTTPD")) && *env)
		lazylib_use(LAZYLIB_MHD, env);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("halog %s\n", HAGEN_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "halog: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
