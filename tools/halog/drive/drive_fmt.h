/* The writers of `halog drive`: what a run sent, what answered, what the store holds of it and
 * the balance verdicts (check.h), as text, JSON, CSV or Markdown. */
#ifndef HALOG_DRIVE_FMT_H
#define HALOG_DRIVE_FMT_H
#include <stdint.h>
#include <stdio.h>

#include "drive/check.h"
#include "drive/drive.h"
#include "strbuf.h"

enum drive_format { DRIVE_TEXT, DRIVE_JSON, DRIVE_CSV, DRIVE_MARKDOWN };

/* Everything a run concluded, borrowed by the writers. */
struct drive_out {
	const char *url;
	const char *db; /* the store as shown (ch_url_redact); NULL when not asked */
	double tol;	/* percentage points */
	int quiet;	/* text: only the summary line and the verdicts */
	const struct drive_stats *st;
	int64_t logged;		       /* the run's lines stored; < 0: unknown */
	const struct drive_xshare *xs; /* the X-Server tally against --weights */
	size_t nxs;
	const struct drive_verdict *xv; /* its verdict; NULL without --weights */
	const struct drive_window *w;	/* the stored window; NULL when not read */
	const struct drive_verdict *v;	/* by inventory, one per checked backend */
	size_t nv;
};

/* Writes o to fp in format f (CSV: the window's table only; its summary line is for stderr:
 * drive_summary_line). Returns 0, or -1 on a write error (errno set). */
int drive_write(FILE *fp, enum drive_format f, const struct drive_out *o);
/* Appends the one-line summary ("drive: sent N, ok …, in S s\n") to sb. Returns 0 or -1. */
int drive_summary_line(struct strbuf *sb, const struct drive_out *o);

#endif
