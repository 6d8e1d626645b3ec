/* Zeek TSV logs. The format is Zeek's own (no Debian library reads it): '#' header lines,
 * then rows of fields split by the separator, with \xHH escapes in values, "-" for an
 * unset field and "(empty)" for an empty set or string. */
#include "input/zeek/zeek.h"

#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "event/builder.h"
#include "event/mappings/mappings.h"
#include "input/reader.h"

#define MAX_FIELDS 256
#define MAX_HEADER (64u << 10)

struct zeek_reader {
    char sep;
    char unset[32], empty[32], path[64];
    size_t unset_len, empty_len, path_len;
    dh_buf names; /* field names, unescaped */
    uint32_t name_off[MAX_FIELDS], name_len[MAX_FIELDS];
    size_t nfields;
    dh_buf arena;
    dh_kv kv[MAX_FIELDS];
    uint64_t unused; /* records of logs without connection endpoints */
};

uint64_t zeek_reader_unused(const zeek_reader *r)
{
    return r->unused;
}

zeek_reader *zeek_reader_new(void)
{
    zeek_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    dh_buf_init(&r->names, MAX_HEADER);
    dh_buf_init(&r->arena, 32u << 20);
    return r;
}

void zeek_reader_free(zeek_reader *r)
{
    if (!r)
        return;
    dh_buf_free(&r->names);
    dh_buf_free(&r->arena);
    free(r);
}

static int starts(const char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    return n >= k && !memcmp(s, lit, k);
}

int zeek_header_update(dh_buf *hdr, const char *buf, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        const char *q = memchr(buf + pos, '#', len - pos);
        if (!q)
            return 0;
        size_t at = (size_t)(q - buf);
        const char *nl = memchr(q, '\n', len - at);
        size_t end = nl ? (size_t)(nl - buf) : len;
        if (at == 0 || buf[at - 1] == '\n') {
            if (starts(q, end - at, "#separator"))
                hdr->len = 0;
            if (hdr->len + (end - at) + 1 > MAX_HEADER)
                return -1;
            if (dh_buf_append(hdr, q, end - at) || dh_buf_putc(hdr, '\n'))
                return -1;
        }
        pos = end + 1;
    }
    return 0;
}

/* Appends s[0, n) with its \xHH escapes decoded. */
static int unescape(dh_buf *b, const char *s, size_t n)
{
    size_t run = 0, i = 0;
    /* backslashes found with memchr: most values hold none (the byte loop was 15% of the
     * reader's instructions) */
    while (i + 3 < n) {
        const char *bs = memchr(s + i, '\\', n - 3 - i);
        if (!bs)
            break;
        i = (size_t)(bs - s);
        if (s[i + 1] != 'x' || dh_hexval(s[i + 2]) < 0 || dh_hexval(s[i + 3]) < 0) {
            i++;
            continue;
        }
        if (dh_buf_append(b, s + run, i - run) ||
            dh_buf_putc(b, (char)(dh_hexval(s[i + 2]) * 16 + dh_hexval(s[i + 3]))))
            return -1;
        i += 4;
        run = i;
    }
    return dh_buf_append(b, s + run, n - run) ? -1 : 0;
}

static void copy_small(char *dst, size_t cap, size_t *dlen, const char *s, size_t n)
{
    dh_buf tmp;
    dh_buf_init(&tmp, cap);
    *dlen = 0;
    if (!unescape(&tmp, s, n) && tmp.len < cap) {
        memcpy(dst, tmp.data ? tmp.data : "", tmp.len);
        *dlen = tmp.len;
    }
    dh_buf_free(&tmp);
}

/* A header line (without its newline); NULL or why it is not understood. */
static const char *header_line(zeek_reader *r, const char *s, size_t n)
{
    if (starts(s, n, "#separator ")) {
        char v[8];
        size_t vl;
        copy_small(v, sizeof v, &vl, s + 11, n - 11);
        if (vl != 1)
            return "#separator is not one character";
        r->sep = v[0];
        r->nfields = 0;
        r->path_len = 0;
        memcpy(r->unset, "-", 1);
        r->unset_len = 1;
        memcpy(r->empty, "(empty)", 7);
        r->empty_len = 7;
        return NULL;
    }
    const char *tab = memchr(s, r->sep, n);
    if (!tab)
        return NULL; /* "#close" without a value, comments */
    size_t kn = (size_t)(tab - s), vs = kn + 1;
    if (kn == 12 && starts(s, n, "#unset_field"))
        copy_small(r->unset, sizeof r->unset, &r->unset_len, s + vs, n - vs);
    else if (kn == 12 && starts(s, n, "#empty_field"))
        copy_small(r->empty, sizeof r->empty, &r->empty_len, s + vs, n - vs);
    else if (kn == 5 && starts(s, n, "#path"))
        copy_small(r->path, sizeof r->path, &r->path_len, s + vs, n - vs);
    else if (kn == 7 && starts(s, n, "#fields")) {
        dh_buf_reset(&r->names);
        r->nfields = 0;
        size_t p = vs;
        while (p <= n) {
            const char *e = memchr(s + p, r->sep, n - p);
            size_t end = e ? (size_t)(e - s) : n;
            if (r->nfields >= MAX_FIELDS)
                return "#fields names too many fields";
            size_t at = r->names.len;
            if (unescape(&r->names, s + p, end - p))
                return "#fields too long";
            r->name_off[r->nfields] = (uint32_t)at;
            r->name_len[r->nfields] = (uint32_t)(r->names.len - at);
            r->nfields++;
            p = end + 1;
        }
    }
    return NULL;
}

static void reset(zeek_reader *r)
{
    r->sep = '\t';
    r->nfields = 0;
    r->path_len = 0;
    memcpy(r->unset, "-", 1);
    r->unset_len = 1;
    memcpy(r->empty, "(empty)", 7);
    r->empty_len = 7;
}

/* One row (without its newline). */
static const char *row(zeek_reader *r, const char *s, size_t n, dh_event *ev)
{
    if (!r->nfields)
        return "row before a #fields header";
    r->arena.len = 0;
    uint32_t off[MAX_FIELDS], len[MAX_FIELDS];
    size_t nf = 0, p = 0;
    while (p <= n) {
        const char *e = memchr(s + p, r->sep, n - p);
        size_t end = e ? (size_t)(e - s) : n;
        if (nf >= r->nfields)
            return "row has more fields than #fields names";
        size_t at = r->arena.len;
        size_t vl = end - p;
        int skip = (vl == r->unset_len && !memcmp(s + p, r->unset, vl)) ||
                   (vl == r->empty_len && !memcmp(s + p, r->empty, vl));
        if (!skip && unescape(&r->arena, s + p, vl))
            return "row too long";
        off[nf] = (uint32_t)at;
        len[nf] = skip ? UINT32_MAX : (uint32_t)(r->arena.len - at);
        nf++;
        p = end + 1;
    }
    if (nf != r->nfields)
        return "row has fewer fields than #fields names";
    size_t nkv = 0;
    for (size_t i = 0; i < nf; i++) {
        if (len[i] == UINT32_MAX)
            continue;
        r->kv[nkv].name = (dh_str){r->names.data + r->name_off[i], r->name_len[i]};
        r->kv[nkv].value = (dh_str){r->arena.data + off[i], len[i]};
        nkv++;
    }
    dh_event_set_data(ev, r->kv, nkv);
    return dh_map_zeek_apply(ev, (dh_str){r->path, r->path_len});
}

dh_status zeek_decode(zeek_reader *r, const char *hdr, size_t hdrlen, const char *buf, size_t len,
                      const char *file, uint64_t first_line, uint64_t base_offset,
                      dh_reader_event_fn on_event, void *ectx, dh_reader_line_error_fn on_error,
                      void *errctx, uint64_t *events, uint64_t *bad)
{
    reset(r);
    for (size_t pos = 0; pos < hdrlen;) {
        const char *nl = memchr(hdr + pos, '\n', hdrlen - pos);
        size_t end = nl ? (size_t)(nl - hdr) : hdrlen;
        header_line(r, hdr + pos, end - pos);
        pos = end + 1;
    }
    uint64_t line = first_line;
    for (size_t pos = 0; pos < len; line++) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len, e = end;
        if (e > pos && buf[e - 1] == '\r')
            e--;
        const char *why = NULL;
        if (e > pos && buf[pos] == '#') {
            why = header_line(r, buf + pos, e - pos);
        } else if (e > pos) {
            dh_event ev;
            dh_event_begin(&ev, file);
            dh_event_set_origin(&ev, file, -1, base_offset + pos);
            why = row(r, buf + pos, e - pos, &ev);
            if (why == dh_map_zeek_not_used) {
                r->unused++;
                why = NULL;
            } else if (!why) {
                (*events)++;
                dh_status st = on_event(ectx, &ev);
                if (st)
                    return st;
            }
        }
        if (why) {
            (*bad)++;
            if (on_error)
                on_error(errctx, line, base_offset + pos, why);
        }
        pos = end + 1;
    }
    return DH_OK;
}

/* The Zeek TSV row of the reader table. */

static dh_format zeek_sniff(const uint8_t *p, size_t n)
{
    return n >= 11 && !memcmp(p, "#separator ", 11) ? DH_FORMAT_ZEEK_TSV : DH_FORMAT_UNKNOWN;
}

/* Every Zeek log is network sensor evidence. */
static int zeek_sensor(const uint8_t *head, size_t n)
{
    (void)head;
    (void)n;
    return 1;
}

static void *zeek_state_new(const dh_scan_opts *opts)
{
    (void)opts;
    return zeek_reader_new();
}

static void zeek_state_free(void *state)
{
    zeek_reader_free(state);
}

static dh_status zeek_decode_unit(void *state, const dh_reader_unit *u, const dh_reader_sink *sink,
                                  dh_reader_result *res)
{
    zeek_reader *r = state;
    uint64_t unused0 = zeek_reader_unused(r);
    dh_status st = zeek_decode(r, u->hdr, u->hdrlen, u->buf, u->len, u->file, u->line, u->offset,
                               sink->on_event, sink->ctx, dh_reader_line_error, (void *)sink,
                               &res->records, &res->records_bad);
    res->damaged = res->records_bad ? 1 : 0;
    res->unused = zeek_reader_unused(r) - unused0;
    return st;
}

const dh_reader dh_reader_zeek_tsv = {
    .name = "zeek-tsv",
    .format = DH_FORMAT_ZEEK_TSV,
    .sniff = zeek_sniff,
    .cut = dh_reader_cut_lines,
    .header_update = zeek_header_update,
    .record_end = DH_END_LINE,
    .sensor = zeek_sensor,
    .state_new = zeek_state_new,
    .state_free = zeek_state_free,
    .decode = zeek_decode_unit,
};
