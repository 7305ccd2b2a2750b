/* halog ingest --follow (follow.h): look at the file every FOLLOW_POLL_MS, store the complete
 * lines past the committed position, and commit them with the new position. Rotations:
 *   - by rename: the path names another file (inode or device changed, or the path is gone and
 *     back): the old file is read to its end (a last line without LF is a line too), then the
 *     new one from its start;
 *   - by copy-truncate: the file is shorter than the position: read again from its start.
 * The position counts the bytes up to the last LF stored, so a line the writer has not ended
 * yet is read again, whole, at the next look. */
#include "listen/follow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "store/read.h"
#include "store/store.h"

#define FOLLOW_CHUNK (1024 * 1024)
/* After a rename, the old file is read until the writer has moved to the new one: the new file
 * has bytes, or it exists and the old one did not grow for this long. */
#define FOLLOW_SWITCH_IDLE_MS 2000

enum { C_OFFSET, C_INODE, C_DEVICE, C_N };
static const char *const cnames[C_N] = {"offset:", "inode:", "device:"};

struct follower {
	const char *path;
	struct ingest_sink sink;
	struct ingest_stats *stats;
	int fd;
	int64_t ident[C_N];  /* position, inode and device of the file read now */
	int64_t saved[C_N];  /* what the store's counters hold (committed) */
	int have_saved;	     /* the store had counters for path */
	int skipping;	     /* past the cap of a line: drop bytes up to its LF */
	char *buf;	     /* FOLLOW_CHUNK bytes */
	char name[C_N][4200];
};

static int on_counter(void *arg, const char *name, int64_t value)
{
	struct follower *f = arg;
	for (int i = 0; i < C_N; i++)
		if (!strcmp(name, f->name[i])) {
			f->saved[i] = value;
			f->have_saved = 1;
		}
	return 0;
}

/* Opens path into f->fd with its inode and device; position 0. Returns 0, 1 when the path does
 * not exist (yet), or -1 with a message. */
static int open_file(struct follower *f, char *err, size_t errsz)
{
	struct stat sb;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errsz, "cannot open '%s': %s", f->path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb)) {
		snprintf(err, errsz, "cannot stat '%s': %s", f->path, strerror(errno));
		close(fd);
		return -1;
	}
	f->fd = fd;
	f->ident[C_OFFSET] = 0;
	f->ident[C_INODE] = (int64_t)sb.st_ino;
	f->ident[C_DEVICE] = (int64_t)sb.st_dev;
	f->skipping = 0;
	return 0;
}

/* Stores the complete lines of the open file past the position (and, when last, a final line
 * without LF). Returns the lines stored, or -1 with a message. */
static int64_t drain(struct follower *f, int last, char *err, size_t errsz)
{
	int64_t stored = 0;
	for (;;) {
		ssize_t n = pread(f->fd, f->buf, FOLLOW_CHUNK, (off_t)f->ident[C_OFFSET]);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errsz, "cannot read '%s': %s", f->path, strerror(errno));
			return -1;
		}
		if (n == 0)
			return stored;
		int64_t recv = clock_wall_ms();
		const char *p = f->buf, *end = f->buf + n;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = (size_t)((nl ? nl : end) - p);
			if (!nl && !last && !f->skipping && len < INGEST_MAX_LINE &&
			    n == FOLLOW_CHUNK && p != f->buf)
				break; /* a line cut by the chunk: read it whole next time */
			if (!nl && !last && !f->skipping && len < INGEST_MAX_LINE)
				return stored; /* not ended yet: the next look reads it again */
			if (f->skipping) {
				/* the rest of an over-long line */
			} else if (len > INGEST_MAX_LINE || (!nl && len == INGEST_MAX_LINE)) {
				if (ingest_sink_line(&f->sink, p, INGEST_MAX_LINE, 1, recv, err,
						     errsz))
					return -1;
				stored++;
				if (!nl) {
					f->skipping = 1;
					f->ident[C_OFFSET] += (int64_t)len;
					p = end;
					break;
				}
			} else if (len || nl) {
				if (ingest_sink_line(&f->sink, p, len, 0, recv, err, errsz))
					return -1;
				stored++;
			}
			if (nl)
				f->skipping = 0;
			f->ident[C_OFFSET] += (int64_t)len + (nl ? 1 : 0);
			p = nl ? nl + 1 : end;
		}
		if (p == f->buf)
			return stored; /* nothing whole in a full chunk: cannot happen (cap < chunk) */
	}
}

/* Commits the lines of the open batch with the position. Returns 0 or -1. */
static int save(struct follower *f, char *err, size_t errsz)
{
	for (int i = 0; i < C_N; i++)
		if (f->ident[i] != f->saved[i] &&
		    store_counter_add(f->sink.st, f->name[i], f->ident[i] - f->saved[i])) {
			snprintf(err, errsz, "cannot store the position: %s",
				 store_errmsg(f->sink.st));
			store_rollback(f->sink.st);
			return -1;
		}
	if (ingest_sink_commit(&f->sink, f->stats, err, errsz))
		return -1;
	memcpy(f->saved, f->ident, sizeof(f->saved));
	return 0;
}

/* What happened to the path since the last look: 0 nothing, 1 it names another file now (or
 * none), 2 the file is shorter than the position (truncated). -1 on error. */
static int looked(struct follower *f, char *err, size_t errsz)
{
	struct stat sb, fb;
	if (stat(f->path, &sb)) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errsz, "cannot stat '%s': %s", f->path, strerror(errno));
		return -1;
	}
	if ((int64_t)sb.st_ino != f->ident[C_INODE] || (int64_t)sb.st_dev != f->ident[C_DEVICE])
		return 1;
	if (fstat(f->fd, &fb)) {
		snprintf(err, errsz, "cannot stat '%s': %s", f->path, strerror(errno));
		return -1;
	}
	return (int64_t)fb.st_size < f->ident[C_OFFSET] ? 2 : 0;
}

/* Whether the writer of a renamed file writes the new file at the path now: it has bytes, or it
 * exists and the old file did not grow since grew_ms for FOLLOW_SWITCH_IDLE_MS. */
static int writer_moved(const struct follower *f, int64_t grew_ms)
{
	struct stat sb;
	if (stat(f->path, &sb))
		return 0;
	return sb.st_size > 0 || clock_mono_ms() - grew_ms >= FOLLOW_SWITCH_IDLE_MS;
}

/* At start, the path names another file than the one the position is of: rotated by rename
 * while nobody followed it. When PATH.1 (logrotate's name for it) is that file, its lines past
 * the position are stored first. Then the new file is read from its start. Returns 0 or -1. */
static int rotated_while_away(struct follower *f, char *err, size_t errsz)
{
	char old[4200];
	struct stat sb;
	struct follower g = *f;
	snprintf(old, sizeof(old), "%s.1", f->path);
	if (stat(old, &sb) || (int64_t)sb.st_ino != f->saved[C_INODE] ||
	    (int64_t)sb.st_dev != f->saved[C_DEVICE] || (int64_t)sb.st_size < f->saved[C_OFFSET])
		return 0;
	g.path = old;
	if (open_file(&g, err, errsz))
		return 0;
	g.ident[C_OFFSET] = f->saved[C_OFFSET];
	int64_t n = drain(&g, 1, err, errsz);
	close(g.fd);
	return n < 0 ? -1 : 0;
}

int ingest_follow(struct store *st, struct store_reader *rd, struct logparser *lp,
		  const char *path, const struct follow_opts *fo, struct ingest_stats *stats,
		  char *err, size_t errsz)
{
	struct follower f;
	int64_t t0 = clock_mono_ms(), grew_ms = t0;
	int rc, ret = -1;
	memset(&f, 0, sizeof(f));
	f.path = path;
	f.fd = -1;
	f.stats = stats;
	f.sink.st = st;
	f.sink.lp = lp;
	f.sink.source = NULL;
	f.sink.last_ts = LR_NONE;
	for (int i = 0; i < C_N; i++)
		snprintf(f.name[i], sizeof(f.name[i]), "%s%s%s", FOLLOW_COUNTER_PREFIX, cnames[i],
			 path);
	char source[4200];
	snprintf(source, sizeof(source), "file:%s", path);
	f.sink.source = source;
	if (!(f.buf = malloc(FOLLOW_CHUNK))) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (store_counters(rd, on_counter, &f)) {
		snprintf(err, errsz, "cannot read the position: %s", store_reader_errmsg(rd));
		goto out;
	}
	/* where to start: the committed position when it is still the same file and not shorter */
	if ((rc = open_file(&f, err, errsz)) < 0)
		goto out;
	if (rc == 0) {
		struct stat sb;
		if (fstat(f.fd, &sb)) {
			snprintf(err, errsz, "cannot stat '%s': %s", path, strerror(errno));
			goto out;
		}
		if (f.have_saved && f.saved[C_INODE] == f.ident[C_INODE] &&
		    f.saved[C_DEVICE] == f.ident[C_DEVICE] && f.saved[C_OFFSET] <= sb.st_size)
			f.ident[C_OFFSET] = f.saved[C_OFFSET];
		else if (!f.have_saved && fo->from_end)
			f.ident[C_OFFSET] = (int64_t)sb.st_size;
		else if (f.have_saved && rotated_while_away(&f, err, errsz) < 0)
			goto out;
	}
	for (;;) {
		int64_t n = 0;
		int changed = 0;
		if (f.fd >= 0) {
			if ((n = drain(&f, 0, err, errsz)) < 0)
				goto out;
			if ((changed = looked(&f, err, errsz)) < 0)
				goto out;
			if (n)
				grew_ms = clock_mono_ms();
			if (changed == 1 && writer_moved(&f, grew_ms)) {
				/* renamed away and the writer writes the new file now: the rest of
				 * the old one (a last line without LF too), then the new file from
				 * its start */
				int64_t m = drain(&f, 1, err, errsz);
				if (m < 0)
					goto out;
				n += m;
				close(f.fd);
				f.fd = -1;
				grew_ms = clock_mono_ms();
			} else if (changed == 1) {
				changed = 0; /* the old file still: the daemon may write to it */
			} else if (changed == 2) {
				f.ident[C_OFFSET] = 0;
				f.skipping = 0;
			}
		}
		if (f.fd < 0) {
			if ((rc = open_file(&f, err, errsz)) < 0)
				goto out;
			if (rc == 0) {
				int64_t m = drain(&f, 0, err, errsz);
				if (m < 0)
					goto out;
				n += m;
			}
		}
		if ((n || changed || (f.fd >= 0 && memcmp(f.ident, f.saved, sizeof(f.saved)))) &&
		    save(&f, err, errsz))
			goto out;
		if ((fo->stop && *fo->stop) ||
		    (fo->max_lines && (int64_t)stats->lines >= fo->max_lines) ||
		    (fo->timeout_ms && clock_mono_ms() - t0 >= fo->timeout_ms))
			break;
		if (!n && !changed)
			clock_sleep_ms(FOLLOW_POLL_MS);
	}
	ret = 0;
out:
	if (f.fd >= 0)
		close(f.fd);
	free(f.buf);
	return ret;
}
