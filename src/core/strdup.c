/* Owned copies of byte strings. See strdup.h. */
#include "core/strdup.h"

#include <stdlib.h>
#include <string.h>

char *dh_strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}
