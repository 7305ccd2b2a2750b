/* --echo's output: lines written to a file descriptor (stdout) without ever waiting for it.
 * A reader that does not keep up (a full pipe, a paused terminal, Ctrl-S) costs echo lines,
 * counted, and never holds back the listener's storing or its stop. */
#ifndef LISTEN_ECHO_H
#define LISTEN_ECHO_H
#include <stddef.h>
#include <stdint.h>

#define ECHO_PENDING_MAX (256 * 1024) /* bytes waiting for the reader at most */

struct echo_out;

/* Prepares fd for writes that never block: a regular file is written as it is (a write to it
 * does not wait for a reader); a pipe, FIFO or terminal is reopened through /proc/self/fd with
 * O_NONBLOCK (its own open file, so the shell's stays as it was); a socket is sent with
 * MSG_DONTWAIT. Returns the output (free with echo_close), or NULL when out of memory. */
struct echo_out *echo_open(int fd);

/* Queues one whole line (line[0..len), its LF included) and writes what the reader takes now.
 * A line that does not fit in ECHO_PENDING_MAX is dropped whole and counted, so the output
 * never shows half a line. */
void echo_line(struct echo_out *e, const char *line, size_t len);

/* Writes what the reader takes now (call when idle). */
void echo_flush(struct echo_out *e);

/* Lines dropped so far; readable from any thread. */
uint64_t echo_dropped(const struct echo_out *e);

/* Tries once more to write what is pending, gives up the rest (counted), closes and frees.
 * Returns the lines dropped in all (0 for NULL). */
uint64_t echo_close(struct echo_out *e);

#endif
