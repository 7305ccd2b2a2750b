/* Private to the store layer (mk/layers.sh refuses it elsewhere; the store's own unit tests may
 * include it): the SQLite connection behind a struct store, for the SQLite read backend
 * (sqlite_read.c) and the query compiler (sqlite_query.c). */
#ifndef HALOG_STORE_SQLITE_H
#define HALOG_STORE_SQLITE_H

#include "store/store.h"

struct sqlite3;

/* The connection of st, with the writer thread idle (a write failure stays recorded for the next
 * store_add or store_commit). Borrowed: valid until store_close(st). */
struct sqlite3 *store_sqlite_db(struct store *st);

#endif
