/* Rendering a compiled inventory through the templates, and finding where a line of the
 * rendered configuration came from. */
#ifndef HAGEN_RENDER_H
#define HAGEN_RENDER_H
#include <stddef.h>

#include "diag.h"
#include "inventory/inventory.h"
#include "tmpl.h"

#define RENDER_MAIN_TEMPLATE "haproxy.cfg"

/* Renders inv with the templates of tmpl_dir (NULL: only the built-in ones) into out (which the
 * caller initialises and releases). Template errors go to dl. Returns 0 or -1. */
int render_config(const struct inv *inv, const char *tmpl_dir, struct tmpl_out *out,
		  struct diag_list *dl);

/* Loads the inventory file with opts and renders it with the templates of tmpl_dir (NULL: the
 * built-in ones). Every problem goes to dl. Returns 0 with inv and out filled, -1 otherwise; the
 * caller releases both either way (out initialised by the caller). */
int render_inventory(const char *file, const struct inv_opts *opts, const char *tmpl_dir,
		     struct inv *inv, struct tmpl_out *out, struct diag_list *dl);

/* For line (1-based) of the rendered text: the inventory position it came from (*iline, *icol;
 * 0 when unknown) and the comment naming its section's inventory entry, e.g. "service api",
 * copied into entry (entrysz bytes; "" when none). Returns 0, or -1 when line is out of range. */
int render_origin(const struct tmpl_out *out, size_t line, unsigned *iline, unsigned *icol,
		  char *entry, size_t entrysz);

/* The line (1-based) of the section header "KIND NAME" ("backend be_api"), or 0. */
size_t render_find_section(const struct tmpl_out *out, const char *kind, const char *name);

#endif
