/* Random tokens from the kernel (getrandom): ids and secrets that must not be guessed. */
#ifndef RANDHEX_H
#define RANDHEX_H
#include <stddef.h>

/* Writes nbytes random bytes as 2*nbytes lowercase hex digits and a NUL into buf (at least
 * 2*nbytes+1 bytes). Returns 0, or -1 when the kernel gives no randomness (errno set). */
int randhex(char *buf, size_t nbytes);

#endif
