/* Command-line options from a table; see opt.h. Parsing, the usage line and --help all read the
 * same rows. */
#include "opt.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "exitcode.h"
#include "parse.h"
#include "strbuf.h"

#define OPT_WRAP 80	/* the usage line wraps before this column */
#define OPT_LEFT_MAX 24 /* a wider left column puts the help on the next line */
#define OPT_SHOW_MAX 60 /* bytes of a user value shown in a message */

/* s as a message may quote it: at most OPT_SHOW_MAX bytes, control bytes as \xNN. */
static const char *show(const char *s, char *buf, size_t sz)
{
	size_t o = 0;

	for (size_t i = 0; s[i] && o + 5 < sz; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i >= OPT_SHOW_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(buf + o, sz - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	buf[o] = '\0';
	return buf;
}

void opt_init(struct opt_parser *p, const struct opt_cmd *cmd, int argc, char **argv)
{
	memset(p, 0, sizeof(*p));
	p->cmd = cmd;
	p->argc = argc;
	p->argv = argv;
	p->i = 1;
	p->operands = argv + 1;
}

/* The k-th operand goes to argv[1 + k]: that slot is already read, since every operand is
 * one argument read. */
static int operand(struct opt_parser *p, const char *a)
{
	p->val = a;
	p->operands[p->noperands++] = (char *)a;
	return OPT_OPERAND;
}

static int fail(struct opt_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct opt_parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	return OPT_ERROR;
}

static int is_option(const struct opt *o)
{
	return o->type != OPT_DOC && (o->short_name || o->long_name);
}

/* "unknown option 'A'" with the closest known spelling, if any. */
static int unknown(struct opt_parser *p, const char *a, size_t len)
{
	const char *names[128];
	char store[128][40], b[80], word[80];
	size_t n = 0;
	const char *sug;

	snprintf(word, sizeof(word), "%.*s", (int)(len < 79 ? len : 79), a);
	for (const struct opt *o = p->cmd->opts; o->type != OPT_END && n + 2 < 128; o++) {
		if (!is_option(o))
			continue;
		if (o->long_name) {
			snprintf(store[n], sizeof(store[n]), "--%s", o->long_name);
			names[n] = store[n];
			n++;
		}
		if (o->short_name) {
			snprintf(store[n], sizeof(store[n]), "-%c", o->short_name);
			names[n] = store[n];
			n++;
		}
	}
	/* a one-letter option is only ever a typo of another one-letter option */
	sug = strlen(word) > 2 ? diag_suggest(word, names, n) : NULL;
	if (sug)
		return fail(p, "unknown option '%s' (did you mean '%s'?)", show(word, b, sizeof(b)),
			    sug);
	if (p->cmd->flags & OPT_CMD_WORDS)
		return fail(p,
			    "unknown option '%s' (use -- before an operand that starts with '-')",
			    show(word, b, sizeof(b)));
	return fail(p, "unknown option '%s'", show(word, b, sizeof(b)));
}

/* Checks p->val against the row's type and fills the typed result. Returns the id or OPT_ERROR. */
static int typed(struct opt_parser *p)
{
	const struct opt *o = p->opt;
	char b[80];

	if (!*p->val && !(o->flags & OPT_EMPTY_OK))
		return fail(p, "option '%s' needs a value", p->name);
	switch (o->type) {
	case OPT_INT:
		if (parse_int64(p->val, o->min, o->max, &p->num) < 0)
			return fail(p,
				    "bad value '%s' for '%s': expected a whole number from %lld to "
				    "%lld",
				    show(p->val, b, sizeof(b)), p->name, (long long)o->min,
				    (long long)o->max);
		break;
	case OPT_NUM: {
		char *end;

		errno = 0;
		p->dbl = strtod(p->val, &end);
		if (end == p->val || *end || errno || !isfinite(p->dbl) ||
		    p->dbl < (double)o->min || p->dbl > (double)o->max)
			return fail(p,
				    "bad value '%s' for '%s': expected a number from %lld to %lld",
				    show(p->val, b, sizeof(b)), p->name, (long long)o->min,
				    (long long)o->max);
		break;
	}
	case OPT_ENUM: {
		size_t n = 0;
		const char *sug;
		struct strbuf sb = STRBUF_INIT;

		for (; o->values[n]; n++)
			if (!strcmp(p->val, o->values[n])) {
				p->idx = n;
				return o->id;
			}
		sug = diag_suggest(p->val, o->values, n);
		if (sug)
			return fail(p, "bad value '%s' for '%s' (did you mean '%s'?)",
				    show(p->val, b, sizeof(b)), p->name, sug);
		for (size_t i = 0; i < n; i++)
			strbuf_addf(&sb, "%s%s", i ? ", " : "", o->values[i]);
		fail(p, "bad value '%s' for '%s': expected one of %s", show(p->val, b, sizeof(b)),
		     p->name, sb.buf);
		strbuf_release(&sb);
		return OPT_ERROR;
	}
	default:
		break;
	}
	return o->id;
}

/* Would "-xREST" (x a short option taking a value) be that option with the value REST? In a
 * command whose operands may start with '-', only when REST is a valid value ("-n20"), so
 * "-nginx" stays a negated word. */
static int attached_ok(struct opt_parser *p, const struct opt *o, const char *rest)
{
	struct opt_parser probe;

	if (!(p->cmd->flags & OPT_CMD_WORDS))
		return 1;
	if (o->type == OPT_STR)
		return 0;
	probe = *p;
	probe.opt = o;
	probe.val = rest;
	return typed(&probe) == o->id;
}

int opt_next(struct opt_parser *p)
{
	const char *a;

	p->opt = NULL;
	p->val = NULL;
	p->name[0] = '\0';
	p->err[0] = '\0';
	if (p->i >= p->argc)
		return OPT_DONE;
	a = p->argv[p->i++];
	if (!p->operands_only && !strcmp(a, "--")) {
		p->operands_only = 1;
		return opt_next(p);
	}
	if (p->operands_only || a[0] != '-' || a[1] == '\0')
		return operand(p, a);
	if (a[1] == '-') { /* --name, --name=value */
		const char *eq = strchr(a + 2, '=');
		size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		const struct opt *o;

		for (o = p->cmd->opts; o->type != OPT_END; o++)
			if (is_option(o) && o->long_name && strlen(o->long_name) == len &&
			    !strncmp(o->long_name, a + 2, len))
				break;
		if (o->type == OPT_END) {
			if (len == 4 && !strncmp(a + 2, "help", 4) && !eq)
				return OPT_HELP;
			return unknown(p, a, eq ? (size_t)(eq - a) : strlen(a));
		}
		p->opt = o;
		snprintf(p->name, sizeof(p->name), "--%s", o->long_name);
		if (o->type == OPT_FLAG) {
			if (eq)
				return fail(p, "option '%s' takes no value", p->name);
			return o->id;
		}
		if (eq)
			p->val = eq + 1;
		else if (p->i < p->argc)
			p->val = p->argv[p->i++];
		else
			return fail(p, "option '%s' needs a value", p->name);
		return typed(p);
	}
	/* -x, -xVALUE, -x VALUE */
	for (const struct opt *o = p->cmd->opts; o->type != OPT_END; o++) {
		if (!is_option(o) || o->short_name != a[1])
			continue;
		snprintf(p->name, sizeof(p->name), "-%c", o->short_name);
		if (o->type == OPT_FLAG) {
			if (a[2])
				break; /* "-fx": not this flag */
			p->opt = o;
			return o->id;
		}
		if (a[2]) {
			if (!attached_ok(p, o, a + 2))
				break;
			p->opt = o;
			p->val = a + 2;
			return typed(p);
		}
		p->opt = o;
		if (p->i >= p->argc)
			return fail(p, "option '%s' needs a value", p->name);
		p->val = p->argv[p->i++];
		return typed(p);
	}
	if (a[1] == 'h' && !a[2])
		return OPT_HELP;
	p->name[0] = '\0';
	if ((p->cmd->flags & OPT_CMD_WORDS) && a[2])
		return operand(p, a);
	return unknown(p, a, strlen(a));
}

/* ---- printing ---- */

/* The synopsis form of one option: "[-e ENV]", "[--db FILE]...". */
static void synopsis_item(const struct opt *o, struct strbuf *sb)
{
	strbuf_addch(sb, '[');
	if (o->short_name)
		strbuf_addf(sb, "-%c", o->short_name);
	else
		strbuf_addf(sb, "--%s", o->long_name);
	if (o->type != OPT_FLAG)
		strbuf_addf(sb, " %s", o->arg ? o->arg : "VALUE");
	strbuf_addch(sb, ']');
	if (o->flags & OPT_MANY)
		strbuf_addstr(sb, "...");
}

void opt_usage(const struct opt_cmd *cmd, FILE *fp, const char *lead)
{
	struct strbuf item = STRBUF_INIT;
	size_t indent, col;

	if (!lead)
		lead = "usage: ";
	fprintf(fp, "%s%s", lead, cmd->prog);
	indent = strlen(lead) + strlen(cmd->prog) + 1;
	col = indent - 1;
	for (const struct opt *o = cmd->opts;; o++) {
		int last = o->type == OPT_END;

		if (!last && (!is_option(o) || (o->flags & OPT_NO_USAGE)))
			continue;
		strbuf_reset(&item);
		if (last && !cmd->operands)
			break;
		if (last)
			strbuf_addstr(&item, cmd->operands);
		else
			synopsis_item(o, &item);
		if (col + 1 + item.len > OPT_WRAP && col > indent) {
			fprintf(fp, "\n%*s", (int)indent, "");
			col = indent;
		} else {
			fputc(' ', fp);
			col++;
		}
		fputs(item.buf, fp);
		col += item.len;
		if (last)
			break;
	}
	fputc('\n', fp);
	strbuf_release(&item);
}

/* The left column of one row: "-e, --env ENV", "--db FILE", "-n N". */
static void left_column(const struct opt *o, struct strbuf *sb)
{
	strbuf_reset(sb);
	if (o->type == OPT_DOC) {
		strbuf_addstr(sb, o->arg ? o->arg : "");
		return;
	}
	if (o->short_name)
		strbuf_addf(sb, "-%c", o->short_name);
	if (o->short_name && o->long_name)
		strbuf_addstr(sb, ", ");
	if (o->long_name)
		strbuf_addf(sb, "--%s", o->long_name);
	if (o->type != OPT_FLAG)
		strbuf_addf(sb, " %s", o->arg ? o->arg : "VALUE");
}

void opt_list(const struct opt *opts, FILE *fp)
{
	struct strbuf left = STRBUF_INIT;
	size_t width = 0;

	for (const struct opt *o = opts; o->type != OPT_END; o++) {
		left_column(o, &left);
		if (left.len <= OPT_LEFT_MAX && left.len > width)
			width = left.len;
	}
	for (const struct opt *o = opts; o->type != OPT_END; o++) {
		const char *h = o->help ? o->help : "";

		left_column(o, &left);
		fprintf(fp, "  %s", left.buf);
		if (left.len > width)
			fprintf(fp, "\n  %*s", (int)width, "");
		else
			fprintf(fp, "%*s", (int)(width - left.len), "");
		for (;;) {
			size_t n = strcspn(h, "\n");

			fprintf(fp, "  %.*s\n", (int)n, h);
			if (!h[n])
				break;
			h += n + 1;
			fprintf(fp, "  %*s", (int)width, "");
		}
	}
	strbuf_release(&left);
}

void opt_help(const struct opt_cmd *cmd, FILE *fp)
{
	opt_usage(cmd, fp, NULL);
	if (cmd->intro)
		fprintf(fp, "\n%s", cmd->intro);
	if (cmd->opts->type != OPT_END) {
		fputc('\n', fp);
		opt_list(cmd->opts, fp);
	}
	if (cmd->epilog)
		fprintf(fp, "\n%s", cmd->epilog);
}

int opt_finish(struct opt_parser *p, int r, FILE *out, FILE *err)
{
	if (r == OPT_HELP) {
		opt_help(p->cmd, out);
		return EXIT_CODE_OK;
	}
	fprintf(err, "%s: %s\n", p->cmd->prog, p->err);
	opt_usage(p->cmd, err, NULL);
	return EXIT_CODE_USAGE;
}

static int value_error(const struct opt_cmd *cmd, FILE *err, const char *name, const char *val,
		       const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static int value_error(const struct opt_cmd *cmd, FILE *err, const char *name, const char *val,
		       const char *fmt, va_list ap)
{
	char b[80];

	fprintf(err, "%s: bad value '%s' for '%s': ", cmd->prog, show(val ? val : "", b, sizeof(b)),
		name);
	vfprintf(err, fmt, ap);
	fputc('\n', err);
	opt_usage(cmd, err, NULL);
	return EXIT_CODE_USAGE;
}

int opt_bad_value(const struct opt_parser *p, FILE *err, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = value_error(p->cmd, err, p->name, p->val, fmt, ap);
	va_end(ap);
	return rc;
}

int opt_value_error(const struct opt_cmd *cmd, FILE *err, const char *name, const char *val,
		    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = value_error(cmd, err, name, val, fmt, ap);
	va_end(ap);
	return rc;
}

int opt_usage_error(const struct opt_cmd *cmd, FILE *err, const char *fmt, ...)
{
	va_list ap;

	fprintf(err, "%s: ", cmd->prog);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
	opt_usage(cmd, err, NULL);
	return EXIT_CODE_USAGE;
}
