/* libFuzzer harness: the syslog framing + body parser, in auto mode and with the httplog preset.
 * Checks the contract too: every slice points inside the input, kinds and statuses in range. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/logparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct logparser *lp_auto, *lp_http;

static void check_slice(const struct lr_str *s, const char *buf, size_t len, const char *name)
{
	if (!s->p)
		return;
	/* an absolute URI without a path has the path "/", a constant */
	if (!strcmp(name, "path") && s->len == 1 && s->p[0] == '/')
		return;
	if (!(s->p >= buf && s->p + s->len <= buf + len)) {
		fprintf(stderr, "field %s points outside the input (offset %td, len %u, input %zu)\n",
			name, s->p - buf, s->len, len);
		abort();
	}
}

static void check(const struct logrec *r, const char *buf, size_t len)
{
	assert(r->kind < LR_KIND_MAX);
	assert(r->status == LR_OK || r->status == LR_PARTIAL || r->status == LR_BAD);
	assert(r->status == LR_OK || r->reason);
#define SLICE(f) check_slice(&r->f, buf, len, #f)
	SLICE(host), SLICE(tag), SLICE(sd), SLICE(body), SLICE(client_ip), SLICE(frontend);
	SLICE(bind), SLICE(backend), SLICE(server), SLICE(cookie_req), SLICE(cookie_resp);
	SLICE(cap_req), SLICE(cap_resp), SLICE(request), SLICE(method), SLICE(uri), SLICE(path);
	SLICE(query), SLICE(version), SLICE(ssl_sni), SLICE(ssl_version), SLICE(ssl_cipher);
	SLICE(ssl_errors), SLICE(unique_id), SLICE(dst_ip), SLICE(mode), SLICE(message);
	SLICE(ev_proxy), SLICE(ev_server), SLICE(ev_reason), SLICE(ev_info); /* ev_state is normalised */
#undef SLICE
	assert(strlen(r->term) <= 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct logrec rec;
	char err[256];
	/* a private copy, exactly size bytes, so ASan catches any read past the end */
	char *buf = malloc(size ? size : 1);

	if (!lp_auto) {
		lp_auto = logparser_new(NULL, err, sizeof(err));
		lp_http = logparser_new("httplog", err, sizeof(err));
		assert(lp_auto && lp_http);
	}
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	logparse_message(lp_auto, buf, size, &rec);
	check(&rec, buf, size);
	logparse_message(lp_http, buf, size, &rec);
	check(&rec, buf, size);
	free(buf);
	return 0;
}
