/* UTF-8 text on a terminal: where characters begin and end, and how many columns they take,
 * without the C library's locale (tests and CI run with LC_ALL=C). */
#ifndef COMMON_UTF8_H
#define COMMON_UTF8_H
#include <stddef.h>
#include <stdint.h>

/* Decodes the character at s[0..len). Returns its length in bytes (1 to 4) with the code point
 * in *cp, or 0 when the bytes there are not valid UTF-8 (overlong, a surrogate, beyond
 * U+10FFFF, cut short). */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Columns cp takes on a terminal: 0 for combining marks and zero-width characters, 2 for East
 * Asian wide and fullwidth characters and emoji, 1 otherwise. */
int utf8_cp_width(uint32_t cp);

/* Columns s[0..len) takes; a byte that is not valid UTF-8 counts as one column. */
size_t utf8_width(const char *s, size_t len);

/* The length in bytes of the longest start of s[0..len) that takes at most cols columns and
 * ends on a character boundary (combining marks stay with their character); its columns go to
 * *width when width is not NULL. */
size_t utf8_fit(const char *s, size_t len, size_t cols, size_t *width);

#endif
