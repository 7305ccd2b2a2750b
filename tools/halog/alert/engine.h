/* The alert engine that `halog listen` runs: an evaluator thread that evaluates every alert of
 * the store on its exact windows as they close, and the delivery thread (deliver.h). Both use
 * connections of their own, so neither ever waits for, or holds up, the listener's writer
 * beyond a short transaction.
 *
 * Windows are [k * every, (k + 1) * every) in receive time (unix ms), evaluated once the
 * listener has stored every line received before the window's end (the watermark). A window
 * counts the lines after the previous window's last line id up to the last id received
 * before its end, so every line falls in exactly one window. The next window and that line
 * cursor are kept in the store, in the same transaction that queues a firing window's
 * delivery: after a restart, evaluation resumes at the first window not evaluated, windows
 * while the listener was down included (they hold no lines). */
#ifndef HALOG_ALERT_ENGINE_H
#define HALOG_ALERT_ENGINE_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define ALERT_ENGINE_RELOAD_MS 2000  /* alerts added or removed are seen within this */
#define ALERT_ENGINE_CATCH_UP 100000 /* windows of one alert evaluated per pass, at most */

struct alert_engine;

/* Starts the engine on the store at db (created, so the schema exists), or on a clickhouse://
 * URL: the lines read from ClickHouse, the alerts and their state in the URL's state file
 * (store_state_open); a ClickHouse that cannot be read yet is tried again at every pass.
 * *watermark is read as "every line received before this unix ms time is stored" (in
 * ClickHouse: acknowledged); the caller keeps it current and it must outlive the engine.
 * Messages (alerts that fire, evaluation errors) go to stderr prefixed with prog. Returns the
 * engine, or NULL with a message in err. */
struct alert_engine *alert_engine_start(const char *db, const atomic_llong *watermark,
					const char *prog, char *err, size_t errsz);

/* Evaluates what the watermark allows one last time, stops both threads (attempts in flight
 * get up to grace_ms to finish; the rest stay pending in the store), and frees e. NULL is
 * fine. */
void alert_engine_stop(struct alert_engine *e, int64_t grace_ms);

#endif
