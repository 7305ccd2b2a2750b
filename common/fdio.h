/* Writing whole buffers to file descriptors. */
#ifndef FDIO_H
#define FDIO_H
#include <stddef.h>

/* Writes all len bytes of buf to fd, retrying short writes and EINTR. Returns 0, or -1 with
 * errno set by write(). */
int fd_write_all(int fd, const void *buf, size_t len);

#endif
