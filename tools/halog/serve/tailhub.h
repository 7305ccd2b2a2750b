/* The live tail of halog serve: one thread looks for new lines every tail_ms on its own read-only
 * connection, runs each distinct query of the open streams once over the new lines (the newest
 * tail_batch matches), and queues the result as a Server-Sent Event on every stream with that
 * query. Streams read their queue from their own connection thread. A stream that does not keep
 * up loses whole events, counted and told in the next one; the hub itself never waits for a
 * client, and its reads are short read transactions, so the writer is never held back. */
#ifndef SERVE_TAILHUB_H
#define SERVE_TAILHUB_H
#include <stddef.h>

struct serve;
struct tailhub;

#define TAIL_QUEUE_MAX (1u << 20) /* bytes queued for one stream before events are dropped */
#define TAIL_PING_MS 5000	  /* a comment is sent on a quiet stream this often */

/* Starts the hub thread for s (s->o gives the store and the limits). Returns the hub, or NULL
 * with a message in err. */
struct tailhub *tailhub_start(struct serve *s, char *err, size_t errsz);
/* Ends every stream (their reads return the end) and stops the thread. NULL is fine. */
void tailhub_stop(struct tailhub *h);
/* Frees the hub once every stream is released (after the HTTP daemon stopped). NULL is fine. */
void tailhub_free(struct tailhub *h);

#endif
