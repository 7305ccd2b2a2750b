/* --since/--until values; see timearg.h. */
#include "parse/timearg.h"

#include <string.h>
#include <time.h>

#include "parse/logformat.h"
#include "parse.h"

/* Reads n digits at *p into *out and advances *p. Returns 0 or -1. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int parse_date(const char *s, int64_t *ms)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	int64_t off = 0;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		return -1;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return -1;
			if (*p == '.') {
				int n = 0, scale = 100;

				p++;
				for (; *p >= '0' && *p <= '9'; p++, n++)
					if (n < 3) {
						frac += (*p - '0') * scale;
						scale /= 10;
					}
				if (!n)
					return -1;
			}
		}
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;

		if (digits(&p, 2, &oh))
			return -1;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	*ms = ((lf_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec) - off) * 1000 + frac;
	return 0;
}

int timearg_parse(const char *s, int64_t now_ms, int64_t *ms)
{
	size_t n = strlen(s);
	uint64_t dur;

	if (!n)
		return -1;
	if (s[0] == '@') {
		int64_t v;

		if (parse_int64(s + 1, 0, 253402300799LL, &v) < 0)
			return -1;
		*ms = v * 1000;
		return 0;
	}
	/* a duration needs its unit: "10" alone is neither a date nor clear */
	if (s[n - 1] >= 'a' && s[n - 1] <= 'z') {
		if (parse_duration_ms(s, &dur) < 0 || dur > (uint64_t)now_ms)
			return -1;
		*ms = now_ms - (int64_t)dur;
		return 0;
	}
	return parse_date(s, ms);
}
