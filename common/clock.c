/* Monotonic and wall clocks, sleeps and monotonic condition deadlines (see clock.h). */
#include "clock.h"

static struct timespec now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts;
}

int64_t clock_mono_ns(void)
{
	struct timespec ts = now(CLOCK_MONOTONIC);

	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_mono_us(void)
{
	return clock_mono_ns() / 1000;
}

int64_t clock_mono_ms(void)
{
	return clock_mono_ns() / 1000000;
}

double clock_mono_s(void)
{
	struct timespec ts = now(CLOCK_MONOTONIC);

	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t clock_wall_ms(void)
{
	struct timespec ts = now(CLOCK_REALTIME);

	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int clock_sleep_us(int64_t us)
{
	struct timespec ts;

	if (us <= 0)
		return 0;
	ts.tv_sec = (time_t)(us / 1000000);
	ts.tv_nsec = (long)(us % 1000000) * 1000L;
	return nanosleep(&ts, NULL) == 0 ? 0 : -1;
}

int clock_sleep_ms(int64_t ms)
{
	return ms > 0 ? clock_sleep_us(ms * 1000) : 0;
}

int clock_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t a;
	int rc = pthread_condattr_init(&a);

	if (rc)
		return rc;
	rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	if (!rc)
		rc = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return rc;
}

void clock_cond_deadline(struct timespec *ts, int64_t ms)
{
	*ts = now(CLOCK_MONOTONIC);
	if (ms < 0)
		ms = 0;
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}
