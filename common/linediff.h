/* The difference of two texts, line by line, as a unified diff (what `diff -u` prints), found
 * with Myers' O(ND) algorithm on what is left once the common head and tail are set aside. */
#ifndef LINEDIFF_H
#define LINEDIFF_H
#include <stddef.h>

#include "strbuf.h"

#define LINEDIFF_MAX_EDITS 4000 /* beyond this many changed lines, only a summary is written */

/* Appends to out the unified diff from a (alen bytes, named aname in the header) to b, with
 * context lines around each change; nothing when the texts are equal. *changes receives the
 * number of lines removed plus added. When more than LINEDIFF_MAX_EDITS lines change, out gets
 * one summary line instead of the hunks. Returns 0, or -1 when out of memory. */
int linediff_unified(const char *a, size_t alen, const char *b, size_t blen, const char *aname,
		     const char *bname, unsigned context, struct strbuf *out, size_t *changes);

#endif
