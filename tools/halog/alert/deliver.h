/* Webhook delivery: a thread with its own store connection sends the outbox (store/state.h
 * alert_deliveries) with libcurl's multi interface, several at once, each with its alert's
 * timeout; an attempt that fails for a reason that may pass (no answer, a reset, HTTP 5xx,
 * 408, 425, 429) is retried with exponential backoff and jitter; every attempt is logged. It
 * never touches the listener's queue or connection, so a hanging webhook delays nothing but
 * its own deliveries. At least once: a delivery stays pending in the store until a 2xx
 * answer (or a refusal, or 24 h), so a restart sends it again with the same idempotency key. */
#ifndef HALOG_ALERT_DELIVER_H
#define HALOG_ALERT_DELIVER_H
#include <stddef.h>
#include <stdint.h>

#define DELIVER_PARALLEL 8		  /* attempts in flight at once */
#define DELIVER_BACKOFF_MS 1000		  /* the first retry comes after 0.5 to 1 s */
#define DELIVER_BACKOFF_MAX_MS 300000	  /* retries come at most 5 min apart */
#define DELIVER_GIVE_UP_MS (24 * 3600000) /* a delivery older than this is given up */

/* The delay before the next attempt after `failures` failed attempts (>= 1): base doubling
 * from DELIVER_BACKOFF_MS up to DELIVER_BACKOFF_MAX_MS, of which a random half (rnd, any
 * value) is taken off ("equal jitter"), so receivers are not hit in lockstep. */
int64_t deliver_backoff_ms(int64_t failures, uint32_t rnd);

/* What to do after an attempt that ended with curl code curl_rc (0: an answer came) and HTTP
 * status http_status. Returns 0 delivered, 1 retry later, 2 refused for good (a 4xx other
 * than 408, 425 and 429, or a 3xx: a redirect is not followed). */
int deliver_verdict(int curl_rc, long http_status);

struct deliverer;

/* Starts the delivery thread on its own connection to the store at db. Returns it, or NULL
 * with a message in err. */
struct deliverer *deliverer_start(const char *db, char *err, size_t errsz);
/* Something was queued: look at the outbox now rather than at the next poll. */
void deliverer_poke(struct deliverer *d);
/* Stops taking new deliveries, gives the attempts in flight up to grace_ms to finish, aborts
 * the rest (they stay pending in the store), and frees d. NULL is fine. */
void deliverer_stop(struct deliverer *d, int64_t grace_ms);

#endif
