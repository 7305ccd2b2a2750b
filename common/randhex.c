/* Random hex tokens; see randhex.h. */
#include "randhex.h"

#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

int randhex(char *buf, size_t nbytes)
{
	unsigned char b[64];
	size_t done = 0;

	while (done < nbytes) {
		size_t want = nbytes - done < sizeof(b) ? nbytes - done : sizeof(b);
		size_t got = 0;

		while (got < want) {
			ssize_t n = getrandom(b + got, want - got, 0);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			got += (size_t)n;
		}
		for (size_t i = 0; i < want; i++)
			snprintf(buf + 2 * (done + i), 3, "%02x", b[i]);
		done += want;
	}
	buf[2 * nbytes] = '\0';
	return 0;
}
