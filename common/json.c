/* JSON and terminal-safe text escaping; see json.h. */
#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

int json_add_str(struct strbuf *sb, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	if (strbuf_addch(sb, '"') < 0)
		return -1;
	while (i < len) {
		unsigned c = p[i];
		size_t run = i;

		/* copy a run of plain ASCII in one go */
		while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i) {
			if (strbuf_add(sb, p + i, run - i) < 0)
				return -1;
			i = run;
			continue;
		}
		c = p[i];
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			if (strbuf_add(sb, e, 2) < 0)
				return -1;
			i++;
		} else if (c < 0x20) {
			const char *e = NULL;

			switch (c) {
			case '\n': e = "\\n"; break;
			case '\r': e = "\\r"; break;
			case '\t': e = "\\t"; break;
			default: break;
			}
			if ((e ? strbuf_addstr(sb, e) : strbuf_addf(sb, "\\u%04x", c)) < 0)
				return -1;
			i++;
		} else {
			uint32_t cp;
			size_t n = utf8_decode((const char *)p + i, len - i, &cp);

			if (n == 0) {
				if (strbuf_addstr(sb, "\\ufffd") < 0)
					return -1;
				i++;
			} else {
				if (strbuf_add(sb, p + i, n) < 0)
					return -1;
				i += n;
			}
		}
	}
	return strbuf_addch(sb, '"');
}

int json_add_key(struct strbuf *sb, const char *key)
{
	size_t n = 0;

	while (key[n])
		n++;
	if (json_add_str(sb, key, n) < 0)
		return -1;
	return strbuf_addch(sb, ':');
}

int json_add_member_str(struct strbuf *sb, const char *key, const char *value, size_t len)
{
	if (!value)
		return 0;
	if (strbuf_addch(sb, ',') < 0 || json_add_key(sb, key) < 0)
		return -1;
	return json_add_str(sb, value, len);
}

int json_add_member_i64(struct strbuf *sb, const char *key, int64_t v, int64_t absent)
{
	if (v == absent)
		return 0;
	if (strbuf_addch(sb, ',') < 0 || json_add_key(sb, key) < 0)
		return -1;
	return json_add_i64(sb, v);
}

int json_add_i64(struct strbuf *sb, int64_t v)
{
	return strbuf_addf(sb, "%" PRId64, v);
}

int json_add_double(struct strbuf *sb, double v, int decimals)
{
	if (v != v || v > 1e300 || v < -1e300)
		return strbuf_addstr(sb, "null");
	return strbuf_addf(sb, "%.*f", decimals, v);
}

int text_add_visible(struct strbuf *sb, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i];

		if (c >= 0x20 && c < 0x7f) {
			if (strbuf_addch(sb, (int)c) < 0)
				return -1;
			i++;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			if (strbuf_addstr(sb, c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t") < 0)
				return -1;
			i++;
		} else if (c >= 0x80) {
			uint32_t cp = 0;
			size_t n = utf8_decode((const char *)p + i, len - i, &cp);

			/* C1 controls (U+0080..U+009F) are terminal escapes too */
			if (n == 0 || cp < 0xa0) {
				if (strbuf_addf(sb, "\\x%02x", c) < 0)
					return -1;
				i++;
			} else {
				if (strbuf_add(sb, p + i, n) < 0)
					return -1;
				i += n;
			}
		} else {
			if (strbuf_addf(sb, "\\x%02x", c) < 0)
				return -1;
			i++;
		}
	}
	return 0;
}

int csv_add_cell(struct strbuf *sb, const char *s, size_t len)
{
	struct strbuf tmp = STRBUF_INIT;
	int rc = 0;

	if (len && s[0] && strchr("=+-@\t\r", s[0]))
		rc |= strbuf_addch(&tmp, '\'');
	rc |= text_add_visible(&tmp, s, len);
	if (!rc && tmp.len && strpbrk(tmp.buf, ",\"")) {
		rc |= strbuf_addch(sb, '"');
		for (size_t i = 0; i < tmp.len; i++) {
			if (tmp.buf[i] == '"')
				rc |= strbuf_addch(sb, '"');
			rc |= strbuf_addch(sb, tmp.buf[i]);
		}
		rc |= strbuf_addch(sb, '"');
	} else if (!rc) {
		rc |= strbuf_add(sb, tmp.buf, tmp.len);
	}
	strbuf_release(&tmp);
	return rc ? -1 : 0;
}

int md_add_cell(struct strbuf *sb, const char *s, size_t len)
{
	struct strbuf tmp = STRBUF_INIT;
	int rc = text_add_visible(&tmp, s, len);

	for (size_t i = 0; !rc && i < tmp.len; i++) {
		if (tmp.buf[i] && strchr("|\\`*<>[]", tmp.buf[i]))
			rc |= strbuf_addch(sb, '\\');
		rc |= strbuf_addch(sb, tmp.buf[i]);
	}
	strbuf_release(&tmp);
	return rc ? -1 : 0;
}
