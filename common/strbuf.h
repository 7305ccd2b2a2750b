/* A growable, always NUL-terminated byte buffer (git's strbuf, kept small). */
#ifndef STRBUF_H
#define STRBUF_H
#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;    /* always NUL-terminated once initialised; "" before the first growth */
	size_t len;   /* bytes in use, not counting the NUL */
	size_t alloc; /* bytes allocated, 0 while buf points at the shared empty string */
};

#define STRBUF_INIT { strbuf_empty, 0, 0 }
extern char strbuf_empty[];

void strbuf_init(struct strbuf *sb);
/* Frees the contents and leaves sb empty and reusable. */
void strbuf_release(struct strbuf *sb);
/* Empties sb, keeping its allocation. */
void strbuf_reset(struct strbuf *sb);
/* Makes room for extra more bytes. Returns 0, or -1 when out of memory (sb unchanged). */
int strbuf_grow(struct strbuf *sb, size_t extra);
/* Appends; each returns 0, or -1 when out of memory (sb unchanged). */
int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, int c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends s percent-encoded for a URL's query or fragment: every byte but A-Z a-z 0-9 - _ . ~
 * becomes %XX (so '&', '=', '#', '+', space, controls and non-ASCII are all encoded). */
int strbuf_add_urlenc(struct strbuf *sb, const char *s);
/* Shortens sb to len bytes (len <= sb->len). */
void strbuf_setlen(struct strbuf *sb, size_t len);
/* Gives the buffer to the caller (who frees it with free()) and leaves sb empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

#endif
