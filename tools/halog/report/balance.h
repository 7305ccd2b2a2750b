/* The balance rule, in one place: the servers of one backend with the requests each served and
 * what is expected of them (weights, backup, maintenance, dns slots) give each server's share,
 * expected share and deviation, and the backend's verdict. `halog report --check-balance` and
 * `halog drive --tolerance` (by inventory, and by --weights on the X-Server tally) all call
 * balance_check; where the expectations come from (an inventory, --weights) is the callers'. */
#ifndef HALOG_REPORT_BALANCE_H
#define HALOG_REPORT_BALANCE_H
#include <stddef.h>
#include <stdint.h>

struct balance_member {
	const char *name; /* borrowed */
	int64_t requests; /* served in the window */
	int special;	  /* <NOSRV>, <STATS>, <CACHE>…, or none: outside the balance */
	int listed;	  /* the expectations name it (when there are expectations) */
	double weight;	  /* listed: its weight; 0 takes no traffic */
	int backup;	  /* listed: a backup, serving only when no primary does */
	int maint;	  /* listed: in maintenance, serving nothing */
	int slot;	  /* listed: a dns discovery slot, serving once resolved */
	/* filled by balance_check */
	double share;	  /* % of the requests to real servers; 0 for a special member */
	double expected;  /* % its weight gives; -1 when special or when nothing was checked */
	double deviation; /* share - expected, percentage points; 0 when not checked */
	int out;	  /* checked, a tolerance given, and |deviation| beyond it */
};

struct balance_verdict {
	int checked;	      /* there was traffic to real servers and a weight to expect it */
	double max_deviation; /* the largest |deviation|, percentage points */
	const char *worst;    /* the first member (in the caller's order) with it, or NULL */
	int failed;	      /* checked, tolerance >= 0 and max_deviation > tolerance */
};

/* Checks the n members of one backend. expect: the members carry expectations (listed and the
 * rest); 0: every real member is expected to take an equal share (what --check-balance does
 * without an inventory). The rule, with expectations:
 *   - unlisted members are expected to serve nothing; so are members in maintenance;
 *   - backups share the traffic (by weight) only when no primary served any, and then the
 *     primaries are expected to serve nothing;
 *   - when some dns slot served, the slots that served nothing are unresolved: expected none;
 *   - expected share = weight / sum of the expected weights.
 * Nothing is checked (expected -1) when no request reached a real server or no weight is
 * expected. tolerance < 0: no verdict (failed and out stay 0). */
void balance_check(struct balance_member *m, size_t n, int expect, double tolerance,
		   struct balance_verdict *v);

/* Whether a server name is outside the balance: HAProxy's <NOSRV>, <STATS>, <CACHE>… and the
 * absent name "-". */
int balance_special(const char *name);

#endif
