/* Upgrading a schema-1 store (one lines row and one requests row per line) to schema 3 (lines in
 * blocks): the data step of migration 2 -> 3, after its SQL created the blocks table. Private to
 * the store layer. */
#ifndef STORE_UPGRADE_H
#define STORE_UPGRADE_H
#include <stddef.h>

struct sqlite3;

/* 1 when db still holds schema-1 rows to move (its lines table exists), 0 when not, -1 on an
 * SQLite error (sqlite3_errmsg). */
int store_upgrade_pending(struct sqlite3 *db);

/* Moves every line of the lines, requests and events tables into blocks, keeping its id, its
 * bytes, its times and every field schema 1 kept, then drops lines and requests (events stays).
 * Works in transactions of 16 blocks, deleting the rows it moved, so the file does not double
 * and a killed upgrade goes on where it stopped the next time. Nothing to do: returns at once.
 * Returns 0, or -1 with a message in err (errsz bytes). */
int store_upgrade_v1(struct sqlite3 *db, char *err, size_t errsz);

#endif
