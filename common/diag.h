/* Input errors with a position, collected so a tool can report all of them in one run. */
#ifndef DIAG_H
#define DIAG_H
#include <stddef.h>
#include <stdio.h>

enum diag_level { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct diag {
	char *file;            /* owned; may be NULL when the input has no name */
	unsigned line, col;    /* 1-based; 0 when unknown (then omitted when printed) */
	enum diag_level level;
	char *msg;             /* owned; lowercase, no trailing period */
};

struct diag_list {
	struct diag *items; /* owned */
	size_t n, alloc;
	size_t errors;      /* how many items are DIAG_ERROR */
	size_t max;         /* stop recording after this many (0: no limit); n stays <= max */
	size_t dropped;     /* items not recorded because of max */
};

#define DIAG_LIST_INIT { NULL, 0, 0, 0, 0, 0 }

/* Records one diagnostic; file and the formatted message are copied. Out of memory is counted
 * in dropped, never fatal. */
void diag_add(struct diag_list *dl, enum diag_level level, const char *file, unsigned line,
	      unsigned col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Sorts by file, line, column (stable), so output order does not depend on check order. */
void diag_sort(struct diag_list *dl);
/* Prints each as "PROG: FILE:LINE:COL: error: MSG" (PROG omitted when NULL). */
void diag_print(const struct diag_list *dl, FILE *fp, const char *prog);
void diag_release(struct diag_list *dl);

/* Damerau-free Levenshtein distance, capped: returns cap+1 when the distance exceeds cap. */
size_t diag_distance(const char *a, const char *b, size_t cap);
/* The candidate closest to word (distance <= max(1, strlen(word)/3)), or NULL. */
const char *diag_suggest(const char *word, const char *const *candidates, size_t n);

#endif
