/* Output files written whole or not at all. Every command that writes a file (hagen render -o,
 * halog report -o, ...) goes through here:
 *   - the output is refused when it is one of the command's inputs (the same file, whatever
 *     the path says: same device and inode) or a SQLite store it reads or writes, with the
 *     store's companions (-wal, -shm, -journal, -lock);
 *   - the bytes go to a temporary file in the target's folder, created exclusively
 *     (O_CREAT|O_EXCL, so a symlink planted at its name is never followed) with a random
 *     name, then renamed over the target once everything was written and flushed, so a
 *     failure leaves the old file as it was and a reader never sees half a file;
 *   - the new file keeps the old one's permission bits (a new one gets 0666 & ~umask).
 * A target that is a symlink is replaced by the new file (rename's rule), never written through.
 * A target that exists and is not a regular file (/dev/null, /dev/stdout, a FIFO) is written
 * in place: renaming over it would replace the device.
 * common/ never prints: errors come back as text in err. */
#ifndef COMMON_OUTFILE_H
#define COMMON_OUTFILE_H
#include <stddef.h>
#include <stdio.h>

struct outfile {
	char *path;  /* the target, as given */
	char *tmp;   /* the temporary file beside it (NULL: writing in place to a device) */
	FILE *fp;    /* write here */
};

/* The kinds of file a command names besides its output. */
struct outfile_input {
	const char *path; /* NULL entries are skipped */
	int store;	  /* a SQLite store: its -wal, -shm, -journal and -lock count too */
};

/* Refuses out when it is one of the n inputs (see above). "-" (stdout) is never refused.
 * Returns 0, or -1 with "'OUT' is the input 'IN' (…)" in err. */
int outfile_check(const char *out, const struct outfile_input *inputs, size_t n, char *err,
		  size_t errsz);

/* Creates the temporary file for path. Returns 0 (write to o->fp), or -1 with the reason in
 * err (nothing created). */
int outfile_open(struct outfile *o, const char *path, char *err, size_t errsz);

/* Flushes, syncs and closes the temporary file, then renames it over the target. Returns 0,
 * or -1 with the reason in err; either way o is released, and on -1 the target is as it was. */
int outfile_commit(struct outfile *o, char *err, size_t errsz);

/* Gives up: closes and removes the temporary file; the target is as it was. NULL fp is fine. */
void outfile_abort(struct outfile *o);

#endif
