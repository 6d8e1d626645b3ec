/* The byte variants of a Sigma value (src/rules/ only): the lists the loader builds before
 * compiling needles: UTF-16 forms (utf16le/utf16be/wide), base64 and its three offsets
 * (base64offset), and Sigma's string escapes with wildcards. Pure functions of bytes: no
 * rule, no YAML, no error text. */
#ifndef DH_RULES_VARIANTS_H
#define DH_RULES_VARIANTS_H

#include <stddef.h>

#define MAX_VARIANTS 4096 /* alternatives of one value after windash/expand */
#define GLOB_STAR    '\x01'
#define GLOB_ONE     '\x02'

typedef struct bytes {
    char *p;
    size_t n;
} bytes;

typedef struct blist {
    bytes *v;
    size_t n;
} blist;

int sigma_blist_push(blist *l, const char *p, size_t n);
void sigma_blist_free(blist *l);
int sigma_to_utf16(const bytes *in, int be, bytes *out);
/* base64offset: the three encodings of the value at each alignment, trimmed to the part
 * that does not depend on the surrounding bytes. */
int sigma_base64_variants(const bytes *in, int offset, blist *out);
/* Sigma string escapes: '\' before '*', '?' or '\' makes it literal; an unescaped '*'
 * or '?' is a wildcard (written as GLOB_STAR / GLOB_ONE). Returns 1 if any wildcard. */
int sigma_unescape(const bytes *in, bytes *out, int wildcards);

#endif
