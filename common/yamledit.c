/* In-place YAML edits; see yamledit.h. */
#include "yamledit.h"

#include <stdio.h>
#include <string.h>

/* The byte offset of (line, col), both 1-based, col counted in characters as libyaml does; or
 * (size_t)-1. */
static size_t offset_of(const char *t, size_t len, unsigned line, unsigned col)
{
	size_t o = 0;

	if (!line || !col)
		return (size_t)-1;
	for (unsigned l = 1; l < line; l++) {
		const char *nl = memchr(t + o, '\n', len - o);

		if (!nl)
			return (size_t)-1;
		o = (size_t)(nl - t) + 1;
	}
	for (unsigned c = 1; c < col; c++) {
		if (o >= len || t[o] == '\n')
			return (size_t)-1;
		o++;
		while (o < len && ((unsigned char)t[o] & 0xc0) == 0x80)
			o++; /* the rest of a UTF-8 character */
	}
	return o;
}

/* Where the scalar written at o ends (exclusive): a quoted one at its closing quote, a plain one
 * before a comment, the end of the line, or (in flow context) a ',', ']' or '}'. */
static size_t scalar_end(const char *t, size_t len, size_t o, int flow)
{
	size_t e;

	if (o < len && (t[o] == '"' || t[o] == '\'')) {
		char q = t[o];

		for (e = o + 1; e < len; e++) {
			if (q == '"' && t[e] == '\\') {
				e++;
				continue;
			}
			if (t[e] == q) {
				if (q == '\'' && e + 1 < len && t[e + 1] == '\'') {
					e++;
					continue;
				}
				return e + 1;
			}
		}
		return len;
	}
	for (e = o; e < len && t[e] != '\n'; e++) {
		if (t[e] == '#' && e > o && (t[e - 1] == ' ' || t[e - 1] == '\t'))
			break;
		if (flow && (t[e] == ',' || t[e] == ']' || t[e] == '}'))
			break;
	}
	while (e > o && (t[e - 1] == ' ' || t[e - 1] == '\t' || t[e - 1] == '\r'))
		e--;
	return e;
}

/* The end of the flow collection opened at o (just past its closing bracket), or len. */
static size_t flow_end(const char *t, size_t len, size_t o)
{
	int depth = 0;

	for (size_t e = o; e < len; e++) {
		if (t[e] == '"' || t[e] == '\'') {
			e = scalar_end(t, len, e, 1) - 1;
			continue;
		}
		if (t[e] == '#' && e > o && (t[e - 1] == ' ' || t[e - 1] == '\t')) {
			while (e < len && t[e] != '\n')
				e++;
			continue;
		}
		if (t[e] == '{' || t[e] == '[')
			depth++;
		else if ((t[e] == '}' || t[e] == ']') && --depth == 0)
			return e + 1;
	}
	return len;
}

static size_t line_start(const char *t, size_t o)
{
	while (o > 0 && t[o - 1] != '\n')
		o--;
	return o;
}

static size_t line_end(const char *t, size_t len, size_t o)
{
	const char *nl = memchr(t + o, '\n', len - o);

	return nl ? (size_t)(nl - t) + 1 : len;
}

/* The end (exclusive, after its newline) of the block value of a pair whose key is at indent
 * ind and starts on the line at o: the lines below it that are more indented, blank or
 * comments (trailing blank and comment lines not included). */
static size_t block_entry_end(const char *t, size_t len, size_t o, size_t ind)
{
	size_t e = line_end(t, len, o), last = e;

	while (e < len) {
		size_t s = e, i = 0;

		while (s + i < len && t[s + i] == ' ')
			i++;
		if (s + i >= len || t[s + i] == '\n' || t[s + i] == '#') {
			e = line_end(t, len, s);
			continue;
		}
		if (i <= ind)
			break;
		e = line_end(t, len, s);
		last = e;
	}
	return last;
}

static int locate(const char *t, size_t len, const struct yn_node *map, size_t *at, int *flow,
		  char *err, size_t errsz)
{
	if (!map || map->kind != YN_MAP) {
		snprintf(err, errsz, "not a map");
		return -1;
	}
	*at = offset_of(t, len, map->line, map->col);
	if (*at == (size_t)-1) {
		snprintf(err, errsz, "the map's position %u:%u is not in the text", map->line,
			 map->col);
		return -1;
	}
	*flow = t[*at] == '{';
	return 0;
}

int yamledit_set(const char *text, size_t len, const struct yn_node *map, const char *key,
		 const char *value, struct strbuf *out, char *err, size_t errsz)
{
	const struct yn_pair *p = yn_get_pair(map, key);
	size_t at, o, e;
	int flow;

	strbuf_reset(out);
	if (locate(text, len, map, &at, &flow, err, errsz) < 0)
		return -1;
	if (p) {
		if (p->value->kind != YN_SCALAR) {
			snprintf(err, errsz, "'%s' is not a single value", key);
			return -1;
		}
		o = offset_of(text, len, p->value->line, p->value->col);
		if (o == (size_t)-1 || (p->value->line == p->key->line && yn_is_null(p->value) &&
					 !p->value->len)) {
			/* "key:" with nothing after it: the value goes after the colon */
			o = offset_of(text, len, p->key->line, p->key->col);
			if (o == (size_t)-1) {
				snprintf(err, errsz, "'%s' is not where its position says", key);
				return -1;
			}
			o = scalar_end(text, len, o, flow);
			while (o < len && text[o] != ':')
				o++;
			strbuf_add(out, text, o + 1);
			strbuf_addf(out, " %s", value);
			strbuf_add(out, text + o + 1, len - o - 1);
			return 0;
		}
		e = scalar_end(text, len, o, flow);
		strbuf_add(out, text, o);
		strbuf_addstr(out, value);
		strbuf_add(out, text + e, len - e);
		return 0;
	}
	if (flow) {
		/* before the closing brace, after the last entry */
		size_t close = flow_end(text, len, at) - 1, ins = close;
		int spaced = !map->n || text[at + 1] == ' '; /* "{ a: 1 }" or "{a: 1}" */

		while (ins > at + 1 && (text[ins - 1] == ' ' || text[ins - 1] == '\t'))
			ins--;
		strbuf_add(out, text, ins);
		strbuf_addf(out, "%s%s: %s%s", map->n ? ", " : spaced ? " " : "", key, value,
			    ins == close && spaced ? " " : "");
		strbuf_add(out, text + ins, len - ins);
		return 0;
	}
	/* a block map: a new line after the last entry, indented like the first key */
	{
		const struct yn_pair *last = &map->pairs[map->n - 1];
		size_t first = offset_of(text, len, map->pairs[0].key->line, map->pairs[0].key->col);
		size_t lk = offset_of(text, len, last->key->line, last->key->col);
		size_t ind = first - line_start(text, first), ins;

		if (first == (size_t)-1 || lk == (size_t)-1) {
			snprintf(err, errsz, "the map's keys are not where their positions say");
			return -1;
		}
		ins = block_entry_end(text, len, lk, lk - line_start(text, lk));
		strbuf_add(out, text, ins);
		if (ins && text[ins - 1] != '\n')
			strbuf_addch(out, '\n');
		for (size_t i = 0; i < ind; i++)
			strbuf_addch(out, ' ');
		strbuf_addf(out, "%s: %s\n", key, value);
		strbuf_add(out, text + ins, len - ins);
		return 0;
	}
}

int yamledit_remove(const char *text, size_t len, const struct yn_node *map, const char *key,
		    struct strbuf *out, char *err, size_t errsz)
{
	const struct yn_pair *p = yn_get_pair(map, key);
	size_t at, k, e, s;
	int flow;

	strbuf_reset(out);
	if (locate(text, len, map, &at, &flow, err, errsz) < 0)
		return -1;
	if (!p) {
		strbuf_add(out, text, len);
		return 0;
	}
	k = offset_of(text, len, p->key->line, p->key->col);
	if (k == (size_t)-1) {
		snprintf(err, errsz, "'%s' is not where its position says", key);
		return -1;
	}
	if (flow) {
		size_t v = offset_of(text, len, p->value->line, p->value->col);

		e = p->value->kind == YN_SCALAR ? scalar_end(text, len, v, 1) : flow_end(text, len, v);
		s = k;
		/* take the separating comma: the one before, or (first entry) the one after */
		{
			size_t b = s;

			while (b > at + 1 && (text[b - 1] == ' ' || text[b - 1] == '\t'))
				b--;
			if (text[b - 1] == ',') {
				s = b - 1;
			} else {
				while (e < len && (text[e] == ' ' || text[e] == '\t'))
					e++;
				if (e < len && text[e] == ',') {
					e++;
					while (e < len && (text[e] == ' ' || text[e] == '\t'))
						e++;
				}
			}
		}
		strbuf_add(out, text, s);
		strbuf_add(out, text + e, len - e);
		return 0;
	}
	s = line_start(text, k);
	if (k - s != strspn(text + s, " ")) {
		snprintf(err, errsz, "'%s' shares its line with another entry", key);
		return -1;
	}
	e = block_entry_end(text, len, k, k - s);
	strbuf_add(out, text, s);
	strbuf_add(out, text + e, len - e);
	return 0;
}
