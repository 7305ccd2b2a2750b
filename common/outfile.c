/* Output files written whole or not at all (see outfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

static int same_file(const struct stat *a, const char *path)
{
	struct stat b;

	return stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

int outfile_check(const char *out, const struct outfile_input *inputs, size_t n, char *err,
		  size_t errsz)
{
	static const char *const companions[] = {"", "-wal", "-shm", "-journal", "-lock"};
	struct stat os;

	if (!strcmp(out, "-") || stat(out, &os) == -1)
		return 0; /* stdout, or a new file: it cannot be an input */
	for (size_t i = 0; i < n; i++) {
		const char *in = inputs[i].path;
		size_t k = inputs[i].store ? sizeof(companions) / sizeof(companions[0]) : 1;

		if (!in || !strcmp(in, "-"))
			continue;
		for (size_t j = 0; j < k; j++) {
			char *p = malloc(strlen(in) + 16);
			int same;

			if (!p)
				continue;
			snprintf(p, strlen(in) + 16, "%s%s", in, companions[j]);
			same = same_file(&os, p);
			free(p);
			if (same) {
				snprintf(err, errsz, "'%s' is %s '%s%s': refusing to overwrite it", out,
					 inputs[i].store ? "the store" : "the input", in,
					 companions[j]);
				return -1;
			}
		}
	}
	return 0;
}

int outfile_open(struct outfile *o, const char *path, char *err, size_t errsz)
{
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) + 1 : 0, tl = strlen(path) + 16;
	struct stat st;
	mode_t mode;
	int fd;

	memset(o, 0, sizeof(*o));
	o->path = strdup(path);
	if (o->path && stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a device, FIFO or socket (/dev/null, /dev/stdout, a pipe): written in place,
		 * never replaced by a rename */
		fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (fd == -1 || !(o->fp = fdopen(fd, "w"))) {
			snprintf(err, errsz, "cannot write '%s': %s", path, strerror(errno));
			if (fd != -1)
				close(fd);
			goto fail;
		}
		return 0;
	}
	o->tmp = malloc(tl);
	if (!o->path || !o->tmp) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	/* ".NAME.XXXXXX" in the target's folder: the same file system, so rename is atomic */
	snprintf(o->tmp, tl, "%.*s.%s.XXXXXX", (int)dl, path, path + dl);
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errsz, "cannot write '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (stat(path, &st) == 0) {
		mode = st.st_mode & 07777;
	} else {
		mode_t mask = umask(0);

		umask(mask);
		mode = 0666 & ~mask;
	}
	if (fchmod(fd, mode) == -1 || !(o->fp = fdopen(fd, "w"))) {
		snprintf(err, errsz, "cannot write '%s': %s", path, strerror(errno));
		close(fd);
		unlink(o->tmp);
		goto fail;
	}
	return 0;
fail:
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
	return -1;
}

int outfile_commit(struct outfile *o, char *err, size_t errsz)
{
	int bad = fflush(o->fp) != 0 || ferror(o->fp) ||
		  (o->tmp && fsync(fileno(o->fp)) == -1);
	int e = errno;

	if (fclose(o->fp) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	o->fp = NULL;
	if (!bad && o->tmp && rename(o->tmp, o->path) == -1) {
		bad = 1;
		e = errno;
	}
	if (bad) {
		snprintf(err, errsz, "cannot write '%s': %s", o->path, strerror(e));
		if (o->tmp)
			unlink(o->tmp);
	}
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
	return bad ? -1 : 0;
}

void outfile_abort(struct outfile *o)
{
	if (o->fp) {
		fclose(o->fp);
		if (o->tmp)
			unlink(o->tmp);
	}
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
}
