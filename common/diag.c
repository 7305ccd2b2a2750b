/* Positioned diagnostics; see diag.h. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void diag_add(struct diag_list *dl, enum diag_level level, const char *file, unsigned line,
	      unsigned col, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	struct diag *d;
	va_list ap;

	if (level == DIAG_ERROR)
		dl->errors++;
	if (dl->max && dl->n >= dl->max) {
		dl->dropped++;
		return;
	}
	if (dl->n == dl->alloc) {
		size_t na = dl->alloc ? dl->alloc * 2 : 16;
		struct diag *p = realloc(dl->items, na * sizeof(*p));

		if (!p) {
			dl->dropped++;
			return;
		}
		dl->items = p;
		dl->alloc = na;
	}
	va_start(ap, fmt);
	if (strbuf_vaddf(&sb, fmt, ap) < 0) {
		va_end(ap);
		strbuf_release(&sb);
		dl->dropped++;
		return;
	}
	va_end(ap);
	d = &dl->items[dl->n];
	d->file = file ? strdup(file) : NULL;
	d->line = line;
	d->col = col;
	d->level = level;
	d->msg = strbuf_detach(&sb, NULL);
	if (!d->msg || (file && !d->file)) {
		free(d->file);
		free(d->msg);
		dl->dropped++;
		return;
	}
	dl->n++;
}

static int diag_cmp(const struct diag *a, const struct diag *b)
{
	int c = strcmp(a->file ? a->file : "", b->file ? b->file : "");

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return 0;
}

void diag_sort(struct diag_list *dl)
{
	/* insertion sort: stable, and lists are short */
	for (size_t i = 1; i < dl->n; i++) {
		struct diag t = dl->items[i];
		size_t j = i;

		while (j > 0 && diag_cmp(&dl->items[j - 1], &t) > 0) {
			dl->items[j] = dl->items[j - 1];
			j--;
		}
		dl->items[j] = t;
	}
}

static const char *level_name(enum diag_level l)
{
	switch (l) {
	case DIAG_ERROR:
		return "error";
	case DIAG_WARNING:
		return "warning";
	case DIAG_NOTE:
		return "note";
	}
	return "error";
}

void diag_print(const struct diag_list *dl, FILE *fp, const char *prog)
{
	for (size_t i = 0; i < dl->n; i++) {
		const struct diag *d = &dl->items[i];

		if (prog)
			fprintf(fp, "%s: ", prog);
		if (d->file) {
			fputs(d->file, fp);
			if (d->line) {
				fprintf(fp, ":%u", d->line);
				if (d->col)
					fprintf(fp, ":%u", d->col);
			}
			fputs(": ", fp);
		}
		fprintf(fp, "%s: %s\n", level_name(d->level), d->msg);
	}
	if (dl->dropped)
		fprintf(fp, "%s%s%zu more diagnostics not shown\n", prog ? prog : "", prog ? ": " : "",
			dl->dropped);
}

void diag_release(struct diag_list *dl)
{
	for (size_t i = 0; i < dl->n; i++) {
		free(dl->items[i].file);
		free(dl->items[i].msg);
	}
	free(dl->items);
	memset(dl, 0, sizeof(*dl));
}

size_t diag_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[65];

	if (lb > 64 || la > 64)
		return cap + 1;
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0], best;

		row[0] = i;
		best = row[0];
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t v = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;

			row[j] = sub < v ? sub : v;
			prev = cur;
			if (row[j] < best)
				best = row[j];
		}
		if (best > cap)
			return cap + 1;
	}
	return row[lb] > cap ? cap + 1 : row[lb];
}

const char *diag_suggest(const char *word, const char *const *candidates, size_t n)
{
	size_t cap = strlen(word) / 3, best = (size_t)-1;
	const char *pick = NULL;

	if (cap < 1)
		cap = 1;
	for (size_t i = 0; i < n; i++) {
		size_t d = diag_distance(word, candidates[i], cap);

		if (d <= cap && d < best) {
			best = d;
			pick = candidates[i];
		}
	}
	return pick;
}
