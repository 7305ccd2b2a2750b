/* /api/saved: the saved searches of the store (store/state.h), the ones `halog saved` and
 * `halog search --saved NAME` use. Listing reads; saving and deleting are the API's only writes:
 * each is one short transaction, behind the same credentials as the rest and the CSRF token
 * (checked in server.c before these handlers run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "json.h"
#include "clock.h"
#include "query/query.h"
#include "serve/server.h"
#include "store/state.h"
#include "store/store.h"
#include "yamlnode.h"

/* The store opened for the state area (read-write: saving needs it). NULL after a 500 in o. */
static struct store *state_open(struct sreq *r, struct sresp *o)
{
	char err[512];
	struct store *st = store_state_open(r->srv->o->db, 0, err, sizeof(err));

	if (!st)
		sresp_error(o, 500, "%s", err);
	return st;
}

static int add_saved(struct strbuf *sb, const struct store_saved *s)
{
	int rc = strbuf_addstr(sb, "{\"name\":");

	rc |= json_add_str(sb, s->name, strlen(s->name));
	rc |= strbuf_addstr(sb, ",\"query\":");
	rc |= json_add_str(sb, s->query, strlen(s->query));
	rc |= strbuf_addf(sb, ",\"created_ms\":%lld,\"updated_ms\":%lld}", (long long)s->created_ms,
			  (long long)s->updated_ms);
	return rc ? -1 : 0;
}

static const char *const list_args[] = {NULL};

int api_saved_list(struct sreq *r, struct sresp *o)
{
	struct store_saved *all = NULL;
	struct store *st;
	size_t n = 0;
	int rc;

	if (sreq_only_args(r, list_args, o) < 0 || !(st = state_open(r, o)))
		return 0;
	if (store_saved_list(st, &all, &n) < 0) {
		sresp_error(o, 500, "saved searches: %s", store_errmsg(st));
		store_close(st);
		return 0;
	}
	rc = strbuf_addstr(&o->body, "{\"saved\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			rc |= strbuf_addch(&o->body, ',');
		rc |= add_saved(&o->body, &all[i]);
	}
	rc |= strbuf_addstr(&o->body, "]}\n");
	store_saved_free(all, n);
	store_close(st);
	return sresp_json(o, rc);
}

/* The request body {"name": "...", "query": "...", "replace": true|false} (JSON, read with the
 * YAML loader, of which JSON is a subset, under tight limits). Returns 0, or -1 with a 400. */
static int read_body(struct sreq *r, struct sresp *o, char **name, char **text, int *replace)
{
	struct yn_limits lim = {3, 16, SERVE_BODY_MAX, 1};
	struct yn_node *root = NULL;
	struct yn_error e;
	const char *ctype = sreq_header(r, "Content-Type");
	int rc = -1;

	*name = *text = NULL;
	*replace = 0;
	if (!ctype || strncmp(ctype, "application/json", 16)) {
		sresp_error(o, 415, "the body must be JSON (Content-Type: application/json)");
		return -1;
	}
	if (yn_load_buffer(r->body.buf, r->body.len, &lim, &root, &e) < 0) {
		/* the loader speaks of YAML, of which JSON is a part: say JSON */
		const char *m = strncmp(e.msg, "malformed YAML: ", 16) ? e.msg : e.msg + 16;

		sresp_error(o, 400, "body:%u:%u: not valid JSON: %s", e.line, e.col, m);
		return -1;
	}
	if (!root || root->kind != YN_MAP) {
		sresp_error(o, 400, "the body must be an object {\"name\": …, \"query\": …}");
		goto out;
	}
	for (size_t i = 0; i < root->n; i++) {
		const struct yn_pair *p = &root->pairs[i];
		const char *k = p->key->str;
		const struct yn_node *v = p->value;

		if (!strcmp(k, "replace")) {
			if (yn_bool(v, replace) < 0) {
				sresp_error(o, 400, "body:%u:%u: 'replace' must be true or false",
					    v->line, v->col);
				goto out;
			}
		} else if (!strcmp(k, "name") || !strcmp(k, "query")) {
			if (v->kind != YN_SCALAR || v->style != YN_DOUBLE_QUOTED || !yn_is_text(v)) {
				sresp_error(o, 400, "body:%u:%u: '%s' must be a string", v->line,
					    v->col, k);
				goto out;
			}
			if (!(*(k[0] == 'n' ? name : text) = strdup(v->str))) {
				sresp_error(o, 500, "out of memory");
				goto out;
			}
		} else {
			struct strbuf vis = STRBUF_INIT;

			text_add_visible(&vis, k, strlen(k));
			sresp_error(o, 400, "body:%u:%u: unknown member '%s' (name, query, replace)",
				    p->key->line, p->key->col, vis.buf);
			strbuf_release(&vis);
			goto out;
		}
	}
	if (!*name || !*text) {
		sresp_error(o, 400, "the body needs \"name\" and \"query\"");
		goto out;
	}
	rc = 0;
out:
	if (rc) {
		free(*name);
		free(*text);
		*name = *text = NULL;
	}
	yn_free(root);
	return rc;
}

static const char *const put_args[] = {NULL};

int api_saved_put(struct sreq *r, struct sresp *o)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct store_saved saved;
	struct store *st = NULL;
	struct query *q = NULL;
	char *name = NULL, *text = NULL;
	const char *why;
	int replace, rc;

	if (sreq_only_args(r, put_args, o) < 0 || read_body(r, o, &name, &text, &replace) < 0)
		return 0;
	if (!state_name_valid(name, &why)) {
		struct strbuf vis = STRBUF_INIT;

		text_add_visible(&vis, name, strlen(name));
		sresp_error(o, 400, "bad name '%s': %s", vis.buf, why);
		strbuf_release(&vis);
		goto out;
	}
	dl.max = 20;
	if (*text && !(q = query_parse(text, strlen(text), &dl))) {
		api_query_errors(o, &dl, text, 400);
		goto out;
	}
	if (!(st = state_open(r, o)))
		goto out;
	rc = store_saved_put(st, name, text, replace, clock_wall_ms());
	if (rc < 0) {
		sresp_error(o, 500, "cannot save: %s", store_errmsg(st));
		goto out;
	}
	if (rc == 1) {
		sresp_error(o, 409, "a saved search called '%s' exists (send \"replace\": true)",
			    name);
		goto out;
	}
	if (store_saved_get(st, name, &saved) != 0) {
		sresp_error(o, 500, "cannot read back '%s': %s", name, store_errmsg(st));
		goto out;
	}
	rc = strbuf_addstr(&o->body, "{\"saved\":");
	rc |= add_saved(&o->body, &saved);
	rc |= strbuf_addstr(&o->body, "}\n");
	store_saved_release(&saved);
	sresp_json(o, rc);
	o->status = rc ? 500 : 201;
out:
	query_free(q);
	diag_release(&dl);
	store_close(st);
	free(name);
	free(text);
	return 0;
}

static const char *const delete_args[] = {"name", NULL};

int api_saved_delete(struct sreq *r, struct sresp *o)
{
	const char *name = sreq_arg(r, "name");
	struct store *st;
	int rc;

	if (sreq_only_args(r, delete_args, o) < 0)
		return 0;
	if (!name || !*name)
		return sresp_error(o, 400, "parameter 'name' is required");
	if (!(st = state_open(r, o)))
		return 0;
	rc = store_saved_rm(st, name);
	if (rc < 0) {
		sresp_error(o, 500, "cannot delete: %s", store_errmsg(st));
	} else if (rc == 1 || rc == 2) {
		struct strbuf vis = STRBUF_INIT;

		text_add_visible(&vis, name, strlen(name));
		if (rc == 1)
			sresp_error(o, 404, "no saved search called '%s'", vis.buf);
		else
			sresp_error(o, 409, "'%s' is used by the alert '%s': remove the alert first",
				    vis.buf, store_errmsg(st));
		strbuf_release(&vis);
	} else {
		rc = strbuf_addstr(&o->body, "{\"deleted\":");
		rc |= json_add_str(&o->body, name, strlen(name));
		rc |= strbuf_addstr(&o->body, "}\n");
		sresp_json(o, rc);
	}
	store_close(st);
	return 0;
}
