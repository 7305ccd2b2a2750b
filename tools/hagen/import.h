/* hagen import: the inventory of an existing haproxy.cfg. Every line becomes a typed inventory
 * key when hagen renders exactly that line back (modulo the normalisation of cfgnorm.h), and an
 * `extra:` line of the right entry otherwise, kept verbatim and in order (proxy names follow
 * hagen's fe_/be_ naming). Constructs an inventory cannot hold (peers, cache, program and other
 * sections, conditional blocks across sections, names that clash) are refused with their
 * line. */
#ifndef HAGEN_IMPORT_H
#define HAGEN_IMPORT_H

#include "cfg.h"
#include "diag.h"
#include "strbuf.h"

struct import_opts {
	const char *target; /* "X.Y" written as the inventory's target, or NULL (hagen's default) */
};

/* Writes the inventory of cfg as YAML text to out. Notes ("kept as extra: ...", what had to be
 * approximated) and refusals go to dl with the configuration line. Returns 0 (out filled; dl may
 * hold notes and warnings), or -1 when the configuration is refused (dl holds the errors). */
int import_cfg(const struct cfg *cfg, const struct import_opts *opts, struct strbuf *out,
	       struct diag_list *dl);

#endif
