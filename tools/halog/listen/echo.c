/* --echo output that never blocks the listener (see echo.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "listen/echo.h"

enum echo_mode { ECHO_FILE, ECHO_NONBLOCK, ECHO_SOCKET, ECHO_RESTORE };

struct echo_out {
	int fd;		    /* where lines go */
	int own;	    /* fd was opened here: close it */
	int saved_flags;    /* ECHO_RESTORE: the file status flags to put back */
	enum echo_mode mode;
	char *buf;	    /* ECHO_PENDING_MAX bytes: whole lines not written yet */
	size_t off, len;    /* pending bytes are buf[off .. off+len) */
	size_t lines_pending; /* whole lines among them, for the count when given up */
	_Atomic uint64_t dropped;
};

struct echo_out *echo_open(int fd)
{
	struct echo_out *e = calloc(1, sizeof(*e));
	struct stat st;
	char path[64];

	if (!e || !(e->buf = malloc(ECHO_PENDING_MAX))) {
		free(e);
		return NULL;
	}
	e->fd = fd;
	e->mode = ECHO_FILE;
	if (fstat(fd, &st) == -1 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return e;
	if (S_ISSOCK(st.st_mode)) {
		e->mode = ECHO_SOCKET;
		return e;
	}
	/* a pipe, FIFO or terminal: an open file of our own, non-blocking */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	e->fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (e->fd != -1) {
		e->own = 1;
		e->mode = ECHO_NONBLOCK;
		return e;
	}
	/* no /proc: the shared open file goes non-blocking while we run */
	e->fd = fd;
	e->saved_flags = fcntl(fd, F_GETFL);
	if (e->saved_flags != -1 && fcntl(fd, F_SETFL, e->saved_flags | O_NONBLOCK) != -1)
		e->mode = ECHO_RESTORE;
	return e;
}

/* One write of what is pending; returns -1 when the reader takes nothing more now. */
static int write_some(struct echo_out *e)
{
	ssize_t n;

	if (e->mode == ECHO_SOCKET)
		n = send(e->fd, e->buf + e->off, e->len, MSG_DONTWAIT | MSG_NOSIGNAL);
	else
		n = write(e->fd, e->buf + e->off, e->len);
	if (n > 0) {
		/* count the whole lines that left */
		for (const char *p = e->buf + e->off, *end = p + n; p < end; p++)
			if (*p == '\n' && e->lines_pending)
				e->lines_pending--;
		e->off += (size_t)n;
		e->len -= (size_t)n;
		return 0;
	}
	if (n == -1 && errno == EINTR)
		return 0;
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
		/* the reader is gone (EPIPE) or the output failed: give up what waits */
		atomic_fetch_add(&e->dropped, e->lines_pending);
		e->off = e->len = e->lines_pending = 0;
	}
	return -1;
}

void echo_flush(struct echo_out *e)
{
	while (e->len && write_some(e) == 0)
		;
	if (!e->len)
		e->off = 0;
}

void echo_line(struct echo_out *e, const char *line, size_t len)
{
	echo_flush(e);
	if (e->off && e->off + e->len + len > ECHO_PENDING_MAX) {
		memmove(e->buf, e->buf + e->off, e->len);
		e->off = 0;
	}
	if (e->off + e->len + len > ECHO_PENDING_MAX) {
		atomic_fetch_add(&e->dropped, 1);
		return;
	}
	memcpy(e->buf + e->off + e->len, line, len);
	e->len += len;
	e->lines_pending++;
	echo_flush(e);
}

uint64_t echo_dropped(const struct echo_out *e)
{
	return e ? atomic_load(&e->dropped) : 0;
}

uint64_t echo_close(struct echo_out *e)
{
	uint64_t dropped;

	if (!e)
		return 0;
	echo_flush(e);
	dropped = atomic_fetch_add(&e->dropped, e->lines_pending) + e->lines_pending;
	if (e->own)
		close(e->fd);
	if (e->mode == ECHO_RESTORE)
		fcntl(e->fd, F_SETFL, e->saved_flags);
	free(e->buf);
	free(e);
	return dropped;
}
