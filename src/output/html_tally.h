/* The HTML report (html.c), tallies: string -> counts, open addressing, at most MAX_TALLY keys each
 * (more are counted in dropped); composite keys of length-prefixed parts. Internal to
 * src/output/html*.c. */
#ifndef DH_OUTPUT_HTML_TALLY_H
#define DH_OUTPUT_HTML_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "output/findings_read.h"

#define MAX_KEY   1024   /* bytes of a string kept as a tally key (host, COM object) */
#define MAX_TALLY 100000 /* distinct keys per tally */

typedef struct titem {
    size_t key, klen;  /* in the tally's keys buffer */
    size_t note, nlen; /* a second string (a host's IP); nlen 0 if none */
    uint64_t c[2];     /* counts: active and suppressed findings (hosts: target, source) */
    uint32_t node;     /* graph node number + 1, 0 if none */
} titem;

typedef struct tally {
    dh_buf keys;
    titem *v;
    size_t n, vcap;
    uint32_t *slot; /* item index + 1; 0 empty */
    size_t nslot;
    uint64_t dropped; /* additions refused by MAX_TALLY */
} tally;

size_t html_cut_utf8(const char *s, size_t n, size_t max);
dh_jstr html_key_at(const char *k, size_t kn, int i);
void html_key_part(dh_buf *k, dh_jstr p);
titem *html_tally_find(const tally *t, const char *k, size_t kn);
void html_tally_free(tally *t);
titem *html_tally_get(tally *t, const char *k, size_t kn);
void html_tally_init(tally *t);
const char *html_tkey(const tally *t, const titem *it);

#endif
