/* The byte variants of a Sigma value: see variants.h. */
#include "rules/variants.h"
#include "core/strdup.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int sigma_blist_push(blist *l, const char *p, size_t n)
{
    if (l->n >= MAX_VARIANTS)
        return -1;
    bytes *v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return -1;
    l->v = v;
    if (!(v[l->n].p = dh_strndup(p, n)))
        return -1;
    v[l->n].n = n;
    l->n++;
    return 0;
}

void sigma_blist_free(blist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].p);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int sigma_to_utf16(const bytes *in, int be, bytes *out)
{
    /* UTF-8 -> UTF-16; invalid sequences are taken byte by byte. */
    char *o = malloc(in->n * 4 + 2);
    if (!o)
        return -1;
    size_t k = 0;
    const unsigned char *s = (const unsigned char *)in->p;
    for (size_t i = 0; i < in->n;) {
        uint32_t cp = s[i];
        size_t l = 1;
        if (cp >= 0xC0 && cp < 0xE0 && i + 1 < in->n) {
            cp = ((cp & 0x1F) << 6) | (s[i + 1] & 0x3F);
            l = 2;
        } else if (cp >= 0xE0 && cp < 0xF0 && i + 2 < in->n) {
            cp = ((cp & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
            l = 3;
        } else if (cp >= 0xF0 && i + 3 < in->n) {
            cp = ((cp & 0x07) << 18) | ((s[i + 1] & 0x3F) << 12) | ((s[i + 2] & 0x3F) << 6) |
                 (s[i + 3] & 0x3F);
            l = 4;
        }
        i += l;
        uint16_t units[2];
        int nu = 1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            units[0] = (uint16_t)(0xD800 | (cp >> 10));
            units[1] = (uint16_t)(0xDC00 | (cp & 0x3FF));
            nu = 2;
        } else {
            units[0] = (uint16_t)cp;
        }
        for (int u = 0; u < nu; u++) {
            o[k++] = (char)(be ? units[u] >> 8 : units[u] & 0xFF);
            o[k++] = (char)(be ? units[u] & 0xFF : units[u] >> 8);
        }
    }
    out->p = o;
    out->n = k;
    return 0;
}

static char *b64(const unsigned char *s, size_t n, size_t *outlen)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc((n + 2) / 3 * 4 + 1);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        o[k++] = tbl[(v >> 18) & 63];
        o[k++] = tbl[(v >> 12) & 63];
        o[k++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        o[k++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    o[k] = 0;
    *outlen = k;
    return o;
}

/* base64offset: the three encodings of the value at each alignment, trimmed to the part
 * that does not depend on the surrounding bytes. */
int sigma_base64_variants(const bytes *in, int offset, blist *out)
{
    if (!offset) {
        size_t n;
        char *e = b64((const unsigned char *)in->p, in->n, &n);
        if (!e)
            return -1;
        int rc = sigma_blist_push(out, e, n);
        free(e);
        return rc;
    }
    static const size_t start[3] = {0, 2, 3};
    for (int i = 0; i < 3; i++) {
        unsigned char *buf = malloc(in->n + 3);
        if (!buf)
            return -1;
        memset(buf, ' ', (size_t)i);
        memcpy(buf + i, in->p, in->n);
        size_t n;
        char *e = b64(buf, in->n + (size_t)i, &n);
        free(buf);
        if (!e)
            return -1;
        size_t trim_end = ((in->n + (size_t)i) % 3 == 1)   ? 3
                          : ((in->n + (size_t)i) % 3 == 2) ? 2
                                                           : 0;
        size_t s0 = start[i], e0 = n >= trim_end ? n - trim_end : 0;
        int rc = e0 > s0 ? sigma_blist_push(out, e + s0, e0 - s0) : 0;
        free(e);
        if (rc)
            return -1;
    }
    return 0;
}

/* Sigma string escapes: '\' before '*', '?' or '\' makes it literal; an unescaped '*'
 * or '?' is a wildcard (written as GLOB_STAR / GLOB_ONE). Returns 1 if any wildcard. */
int sigma_unescape(const bytes *in, bytes *out, int wildcards)
{
    char *o = malloc(in->n + 1);
    if (!o)
        return -1;
    size_t k = 0;
    int wild = 0;
    for (size_t i = 0; i < in->n; i++) {
        char ch = in->p[i];
        if (wildcards && ch == '\\' && i + 1 < in->n &&
            (in->p[i + 1] == '*' || in->p[i + 1] == '?' || in->p[i + 1] == '\\')) {
            o[k++] = in->p[++i];
        } else if (wildcards && ch == '*') {
            o[k++] = GLOB_STAR;
            wild = 1;
        } else if (wildcards && ch == '?') {
            o[k++] = GLOB_ONE;
            wild = 1;
        } else {
            o[k++] = ch;
        }
    }
    o[k] = 0;
    out->p = o;
    out->n = k;
    return wild;
}
