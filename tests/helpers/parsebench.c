/* parsebench: times the log parser alone. Reads FILE into memory, then parses every line of it
 * N times and prints lines/s. usage: parsebench FILE [N] [--log-format STR] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Helpers link only libcommon, so the parser's modules are compiled in here. */
#include "clock.h"
#include "../../tools/halog/parse/logformat.c"
#include "../../tools/halog/parse/logparse.c"
#include "../../tools/halog/parse/logrec.c"
#include "../../tools/halog/parse/syslog.c"

/* CPU seconds of this process (clock.h has the monotonic clock). */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *path = NULL, *fmt = NULL;
	long rounds = 100;
	char *buf = NULL, err[256];
	size_t len = 0, alloc = 0, nlines = 0, unparsed = 0;
	struct logparser *lp;
	struct logrec rec;
	FILE *fp;
	double t0, c0, dt, dc;
	unsigned long long sum = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--log-format") && i + 1 < argc) {
			fmt = argv[++i];
		} else if (!path) {
			path = argv[i];
		} else {
			char *end;

			rounds = strtol(argv[i], &end, 10);
			if (*end || rounds < 1 || rounds > 1000000) {
				fprintf(stderr, "parsebench: bad round count '%s'\n", argv[i]);
				return 2;
			}
		}
	}
	if (!path) {
		fprintf(stderr, "usage: parsebench FILE [N] [--log-format STR]\n");
		return 2;
	}
	fp = fopen(path, "rb");
	if (!fp) {
		perror(path);
		return 1;
	}
	for (;;) {
		size_t n;

		if (alloc - len < 65536) {
			char *nb;

			if (alloc > (1u << 30)) {
				fprintf(stderr, "parsebench: %s: file too large\n", path);
				free(buf);
				fclose(fp);
				return 1;
			}
			alloc = alloc ? alloc * 2 : 1 << 20;
			nb = realloc(buf, alloc);
			if (!nb) {
				fprintf(stderr, "parsebench: out of memory\n");
				free(buf);
				fclose(fp);
				return 1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, alloc - len, fp);
		if (n == 0)
			break;
		len += n;
	}
	fclose(fp);
	lp = logparser_new(fmt, err, sizeof(err));
	if (!lp) {
		fprintf(stderr, "parsebench: --log-format: %s\n", err);
		free(buf);
		return 2;
	}
	t0 = clock_mono_s();
	c0 = cpu_s();
	for (long r = 0; r < rounds; r++) {
		const char *p = buf, *e = buf + len;

		while (p < e) {
			const char *nl = memchr(p, '\n', (size_t)(e - p));
			const char *end = nl ? nl : e;

			logparse_message(lp, p, (size_t)(end - p), &rec);
			sum += (unsigned long long)rec.kind +
			       rec.status; /* keep the work observable */
			if (r == 0) {
				nlines++;
				unparsed += rec.kind == LR_UNPARSED;
			}
			p = end + 1;
		}
	}
	dt = clock_mono_s() - t0;
	dc = cpu_s() - c0;
	/* CPU time is reported too: on a shared box the wall clock includes waiting for a core */
	printf("%zu lines x %ld rounds: wall %.3f s = %.0f lines/s (%.1f MB/s); cpu %.3f s = %.0f "
	       "lines/s (%zu unparsed per round, check %llu)\n",
	       nlines, rounds, dt, (double)nlines * (double)rounds / dt,
	       (double)len * (double)rounds / dt / 1e6, dc, (double)nlines * (double)rounds / dc,
	       unparsed, sum);
	logparser_free(lp);
	free(buf);
	return 0;
}
