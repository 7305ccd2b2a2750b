/* An 8-byte key of a short string: with its length it tells most names apart in one compare,
 * so small caches of recent names (the store's encoder and rollups) check it before the bytes. */
#ifndef STRKEY_H
#define STRKEY_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The first 8 bytes of the n at p, or for shorter strings two overlapping loads covering every
 * byte (zero-padded). Equal strings have equal keys; strings of the same length n <= 8 with
 * equal keys are equal; longer ones still need their bytes from 8 on compared. */
static inline uint64_t strkey8(const char *p, size_t n)
{
	uint64_t k = 0;
	uint32_t a, b;
	uint16_t c, d;
	if (n >= 8) {
		memcpy(&k, p, 8);
	} else if (n >= 4) {
		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		k = a | (uint64_t)b << 32;
	} else if (n >= 2) {
		memcpy(&c, p, 2);
		memcpy(&d, p + n - 2, 2);
		k = c | (uint64_t)d << 16;
	} else if (n == 1) {
		k = (unsigned char)p[0];
	}
	return k;
}

#endif
