/* Clocks and sleeps in one place: a monotonic clock for every deadline, timeout and duration
 * (it never jumps when the wall clock is set), the wall clock only for timestamps people read
 * or store, and sleeps that a signal may cut short. */
#ifndef CLOCK_H
#define CLOCK_H
#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in ns, us, ms and seconds: for deadlines and durations only (the origin is
 * arbitrary). Never fails on Linux. */
int64_t clock_mono_ns(void);
int64_t clock_mono_us(void);
int64_t clock_mono_ms(void);
double clock_mono_s(void);

/* The wall clock (CLOCK_REALTIME) in unix ms: for timestamps, never for a deadline. */
int64_t clock_wall_ms(void);

/* Sleeps ms milliseconds, or us microseconds (nothing for 0 or less). Returns 0 after the
 * whole time, -1 when a signal cut it short (the caller decides whether to sleep again). */
int clock_sleep_ms(int64_t ms);
int clock_sleep_us(int64_t us);

/* Initialises c to time out on CLOCK_MONOTONIC (for clock_cond_deadline). Returns 0 or an
 * errno value, as pthread_cond_init does. */
int clock_cond_init(pthread_cond_t *c);

/* The absolute CLOCK_MONOTONIC time ms from now, for pthread_cond_timedwait on a condition
 * initialised with clock_cond_init. */
void clock_cond_deadline(struct timespec *ts, int64_t ms);

#endif
