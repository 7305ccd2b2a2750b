/* The balance rule (balance.h): expected shares from weights, deviations and the verdict. */
#include "report/balance.h"

#include <math.h>
#include <string.h>

int balance_special(const char *name)
{
	return name[0] == '<' || !strcmp(name, "-");
}

void balance_check(struct balance_member *m, size_t n, int expect, double tolerance,
		   struct balance_verdict *v)
{
	int64_t prim_req = 0, backup_req = 0, total = 0;
	double wsum = 0;
	int slots_seen = 0;

	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		if (m[i].special)
			continue;
		total += m[i].requests;
		if (expect && m[i].listed && m[i].slot && m[i].requests)
			slots_seen++;
		if (expect && m[i].listed && m[i].backup)
			backup_req += m[i].requests;
		else
			prim_req += m[i].requests;
	}
	/* backups take traffic only when no primary does (then they share it by weight) */
	int use_backups = prim_req == 0 && backup_req > 0;
	for (size_t i = 0; i < n; i++) {
		struct balance_member *x = &m[i];
		double w = 1;
		x->share = total && !x->special ? 100.0 * (double)x->requests / (double)total : 0;
		x->deviation = 0;
		x->out = 0;
		if (x->special)
			continue;
		if (expect) {
			int backup = x->listed && x->backup;
			w = x->listed ? x->weight : 0;
			if (!x->listed || x->maint || backup != use_backups)
				w = 0;
			/* dns slots: only the resolved ones (those seen) serve, unless none was */
			if (x->listed && x->slot && slots_seen && !x->requests)
				w = 0;
		}
		x->expected = w; /* the weight, for now */
		wsum += w;
	}
	v->checked = wsum > 0 && total > 0;
	for (size_t i = 0; i < n; i++) {
		struct balance_member *x = &m[i];
		if (x->special || !v->checked) {
			x->expected = -1;
			continue;
		}
		x->expected = 100.0 * x->expected / wsum;
		x->deviation = x->share - x->expected;
		if (!v->worst || fabs(x->deviation) > v->max_deviation) {
			v->max_deviation = fabs(x->deviation);
			v->worst = x->name;
		}
		x->out = tolerance >= 0 && fabs(x->deviation) > tolerance;
	}
	v->failed = v->checked && tolerance >= 0 && v->max_deviation > tolerance;
}
