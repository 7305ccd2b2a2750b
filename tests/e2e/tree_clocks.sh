#!/bin/sh
# The tree keeps its clock rule: every clock read and sleep goes through common/clock.h, so a
# deadline or timeout is always on the monotonic clock (a wall-clock step cannot stretch or cut
# it) and the wall clock is read in one place. Fails on a direct clock_gettime, gettimeofday,
# nanosleep, usleep or CLOCK_REALTIME anywhere else in the C sources.
set -u
. "$TOP/tests/lib.sh"
cd "$TOP" || exit 1
hits=$(grep -nE '\b(clock_gettime|gettimeofday|nanosleep|usleep)[[:space:]]*\(|CLOCK_REALTIME' \
	common/*.c common/*.h tools/hagen/*.[ch] tools/halog/*/*.[ch] samples/app/*.c \
	tests/helpers/*.c tests/unit/*.c 2>/dev/null |
	grep -v '^common/clock\.[ch]:' |
	grep -v 'CLOCK_PROCESS_CPUTIME_ID' |
	grep -v '^tests/unit/test_common_clock\.c:')
# parsebench reads the process CPU clock, which clock.h does not cover
hits=$(printf '%s\n' "$hits" | grep -v '^tests/helpers/parsebench\.c:.*clock_gettime(CLOCK_PROCESS_CPUTIME_ID' | grep . || true)
if [ -n "$hits" ]; then
	printf '%s\n' "$hits"
	fail "read clocks and sleep through common/clock.h"
fi
echo "ok: every clock read and sleep goes through common/clock.h"
