/* Owned copies of byte strings: what the rule loader, the COM objects table and the tune
 * command keep of the text they parse. */
#ifndef DH_CORE_STRDUP_H
#define DH_CORE_STRDUP_H

#include <stddef.h>

/* A NUL-terminated copy of s[0, n) in malloc'd memory (the caller frees it), or NULL when
 * out of memory. s may hold NULs: n bytes are copied whatever they are. */
char *dh_strndup(const char *s, size_t n);

#endif
