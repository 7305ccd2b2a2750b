/* Unit tests for common/utf8: decoding (and refusing bad sequences), display widths, cutting
 * on character boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "utf8.h"

static void test_decode(void **state)
{
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(utf8_decode("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(utf8_decode("\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(utf8_decode("\xe3\x82\xb5", 3, &cp), 3);
	assert_int_equal(cp, 0x30b5);
	assert_int_equal(utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
	/* cut short, overlong, surrogate, beyond U+10FFFF, a lone continuation byte */
	assert_int_equal(utf8_decode("\xc3", 1, &cp), 0);
	assert_int_equal(utf8_decode("\xc0\x80", 2, &cp), 0);
	assert_int_equal(utf8_decode("\xe0\x80\x80", 3, &cp), 0);
	assert_int_equal(utf8_decode("\xed\xa0\x80", 3, &cp), 0);
	assert_int_equal(utf8_decode("\xf4\x90\x80\x80", 4, &cp), 0);
	assert_int_equal(utf8_decode("\x80", 1, &cp), 0);
}

static void test_width(void **state)
{
	(void)state;
	assert_int_equal(utf8_width("abc", 3), 3);
	assert_int_equal(utf8_width("caf\xc3\xa9", 5), 4);
	assert_int_equal(utf8_width("e\xcc\x81", 3), 1);	     /* e + combining acute */
	assert_int_equal(utf8_width("\xe3\x82\xb5\xe3\x83\xbc", 6), 4); /* two katakana */
	assert_int_equal(utf8_width("\xf0\x9f\x98\x80", 4), 2);	     /* an emoji */
	assert_int_equal(utf8_width("\xff\xfe", 2), 2);		     /* invalid: a column each */
}

static void test_fit(void **state)
{
	const char *cyr = "\xd1\x81\xd0\xb5\xd1\x80"; /* three Cyrillic letters, 6 bytes */
	const char *kana = "\xe3\x82\xb5\xe3\x83\xbc\xe3\x83\x90";
	size_t w;

	(void)state;
	/* never inside a character */
	assert_int_equal(utf8_fit(cyr, 6, 2, &w), 4);
	assert_int_equal(w, 2);
	/* a wide character that does not fit whole stays out */
	assert_int_equal(utf8_fit(kana, 9, 3, &w), 3);
	assert_int_equal(w, 2);
	/* a combining mark stays with its letter */
	assert_int_equal(utf8_fit("e\xcc\x81x", 4, 1, &w), 3);
	assert_int_equal(utf8_fit("abc", 3, 10, &w), 3);
	assert_int_equal(w, 3);
	assert_int_equal(utf8_fit("abc", 3, 0, &w), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
