/* Strict value parsers; see parse.h. */
#include "parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '+')
		return -1;
	if (*s == '-' && min >= 0)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int parse_duration_ms(const char *s, uint64_t *ms)
{
	uint64_t v = 0, mul;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	if (!strcmp(p, "") || !strcmp(p, "ms"))
		mul = 1;
	else if (!strcmp(p, "us")) {
		*ms = v / 1000 + (v % 1000 != 0);
		return 0;
	} else if (!strcmp(p, "s"))
		mul = 1000;
	else if (!strcmp(p, "m"))
		mul = 60 * 1000;
	else if (!strcmp(p, "h"))
		mul = 3600 * 1000;
	else if (!strcmp(p, "d"))
		mul = 86400 * 1000;
	else
		return -1;
	if (v > UINT64_MAX / mul)
		return -1;
	*ms = v * mul;
	return 0;
}

int parse_size(const char *s, uint64_t *bytes)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mul = UINT64_C(1) << 10;
		break;
	case 'm':
	case 'M':
		mul = UINT64_C(1) << 20;
		break;
	case 'g':
	case 'G':
		mul = UINT64_C(1) << 30;
		break;
	case 't':
	case 'T':
		mul = UINT64_C(1) << 40;
		break;
	default:
		return -1;
	}
	if (*p && p[1] && strcmp(p + 1, "B") && strcmp(p + 1, "iB"))
		return -1;
	if (v > UINT64_MAX / mul)
		return -1;
	*bytes = v * mul;
	return 0;
}

int parse_port(const char *s, unsigned *port)
{
	int64_t v;

	if (parse_int64(s, 1, 65535, &v) < 0 || *s == '0')
		return -1;
	*port = (unsigned)v;
	return 0;
}

int parse_is_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int parse_is_hostname(const char *s)
{
	size_t total = strlen(s), lab = 0;

	if (!total || total > 253)
		return 0;
	for (const char *p = s;; p++) {
		if (*p == '.' || !*p) {
			if (lab == 0 || lab > 63 || p[-1] == '-')
				return 0;
			if (!*p)
				return 1;
			lab = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return 0;
		if (lab == 0 && *p == '-')
			return 0;
		lab++;
	}
}

int parse_hostport(const char *s, char *host, size_t hostsz, unsigned *port, int *is_ipv6,
		   const char **why)
{
	const char *colon, *hs, *he;
	size_t hl;
	char tmp[256];

	*is_ipv6 = 0;
	if (!s || !*s) {
		*why = "empty address";
		return -1;
	}
	if (*s == '[') {
		he = strchr(s, ']');
		if (!he || he[1] != ':') {
			*why = "expected '[IPv6]:port'";
			return -1;
		}
		hs = s + 1;
		colon = he + 1;
		*is_ipv6 = 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			*why = "missing ':port'";
			return -1;
		}
		if (memchr(s, ':', (size_t)(colon - s))) {
			*why = "IPv6 addresses need brackets, as in '[::1]:8080'";
			return -1;
		}
		hs = s;
		he = colon;
	}
	hl = (size_t)(he - hs);
	if (hl >= sizeof(tmp) || hl >= hostsz) {
		*why = "host name too long";
		return -1;
	}
	memcpy(tmp, hs, hl);
	tmp[hl] = '\0';
	if (parse_port(colon + 1, port) < 0) {
		*why = "port must be a number from 1 to 65535";
		return -1;
	}
	if (*is_ipv6) {
		unsigned char b[16];

		if (inet_pton(AF_INET6, tmp, b) != 1) {
			*why = "not a valid IPv6 address";
			return -1;
		}
	} else if (hl && strcmp(tmp, "*") && !parse_is_ip(tmp) && !parse_is_hostname(tmp)) {
		*why = "not a valid IP address or host name";
		return -1;
	} else if (hl && !parse_is_ip(tmp)) {
		/* digits and dots only, but not a valid IPv4: say so rather than treat it as a name
		 */
		if (strspn(tmp, "0123456789.") == hl) {
			*why = "not a valid IPv4 address";
			return -1;
		}
	}
	memcpy(host, tmp, hl + 1);
	return 0;
}

int parse_cidr(const char *s, int *family, unsigned char addr[16], unsigned *prefix)
{
	char tmp[64];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;

	if (hl == 0 || hl >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, hl);
	tmp[hl] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, tmp, addr) == 1) {
		*family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, tmp, addr) == 1) {
		*family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	if (slash) {
		int64_t v;

		if (parse_int64(slash + 1, 0, max, &v) < 0)
			return -1;
		*prefix = (unsigned)v;
	} else {
		*prefix = max;
	}
	return 0;
}
