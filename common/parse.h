/* Small strict parsers for values people type: integers, durations, ports, addresses. */
#ifndef PARSE_H
#define PARSE_H
#include <stddef.h>
#include <stdint.h>

/* Whole-string decimal integer in [min, max]; no sign unless min < 0, no spaces, no trailing
 * bytes. Returns 0 and sets *out, or -1. */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* A duration as HAProxy writes it: digits followed by an optional unit us, ms, s, m, h or d
 * (no unit means ms). Sets *ms to the value in milliseconds (us rounded up). Rejects empty,
 * negative, fractional and overflowing values. Returns 0 or -1. */
int parse_duration_ms(const char *s, uint64_t *ms);

/* A size in bytes: digits and an optional unit K, M, G or T (powers of 1024, any case; "KB",
 * "KiB" … too). Rejects empty, negative, fractional and overflowing values. Returns 0 or -1. */
int parse_size(const char *s, uint64_t *bytes);

/* A TCP/UDP port "1".."65535". Returns 0 or -1. */
int parse_port(const char *s, unsigned *port);

/* An address to bind or connect to, split into host and port:
 *   ":8080" (host ""), "*:8080", "127.0.0.1:80", "[::1]:443", "::1:443" is rejected (ambiguous),
 *   "name:80" (a DNS name, letters digits - . _), "ipv6@::1" is not accepted here.
 * host receives at most hostsz-1 bytes without brackets; *is_ipv6 tells the literal kind.
 * Returns 0, or -1 with a short reason in *why (static string). */
int parse_hostport(const char *s, char *host, size_t hostsz, unsigned *port, int *is_ipv6,
		   const char **why);

/* True when s is a valid IPv4 or IPv6 literal (no brackets, no port). */
int parse_is_ip(const char *s);

/* True when s is a DNS host name: labels of [A-Za-z0-9_-], separated by dots, each 1..63 bytes,
 * not starting or ending with '-', total <= 253. */
int parse_is_hostname(const char *s);

/* A CIDR "10.0.0.0/8", "::1/128", or a bare address (full-length prefix). Fills family
 * (AF_INET or AF_INET6), the 16-byte network (v4 in the first 4 bytes) and the prefix length.
 * Returns 0 or -1. */
int parse_cidr(const char *s, int *family, unsigned char addr[16], unsigned *prefix);

#endif
