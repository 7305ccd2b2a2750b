/* LEB128 varints (7 bits a byte, low bits first) and zigzag for signed values: the encoding of
 * halog's histograms and store blocks. */
#ifndef VARINT_H
#define VARINT_H
#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX 10 /* bytes of the longest (a 64-bit value) */

/* Writes v at p (room for VARINT_MAX bytes). Returns the bytes written. */
static inline size_t varint_put(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

/* Reads one varint at *p (not past end) into *v and advances *p. Returns 0, or -1 when it is
 * cut short or longer than 64 bits (*p is then somewhere inside it). */
static inline int varint_get(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	uint64_t x = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return -1;
		unsigned char c = *(*p)++;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

/* Signed values as unsigned ones with small magnitudes first: 0, -1, 1, -2 … -> 0, 1, 2, 3 … */
static inline uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

#endif
