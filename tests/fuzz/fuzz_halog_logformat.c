/* libFuzzer harness: the log-format string compiler. The first line of the input is the format,
 * the rest a message parsed with it when the format compiles. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/logparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t flen = nl ? (size_t)(nl - data) : size;
	char *fmt, *msg;
	size_t mlen = nl ? size - flen - 1 : 0;
	char err[256];
	struct logparser *lp;
	struct logrec rec;

	if (flen > 4096)
		return 0;
	fmt = malloc(flen + 1);
	msg = malloc(mlen ? mlen : 1);
	if (!fmt || !msg)
		goto out;
	memcpy(fmt, data, flen);
	fmt[flen] = '\0';
	if (mlen)
		memcpy(msg, nl + 1, mlen);
	lp = logparser_new(fmt, err, sizeof(err));
	if (!lp) {
		assert(err[0]);
	} else {
		logparse_message(lp, msg, mlen, &rec);
		assert(rec.kind < LR_KIND_MAX);
		logparser_free(lp);
	}
out:
	free(fmt);
	free(msg);
	return 0;
}
