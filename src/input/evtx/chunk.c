/* One EVTX chunk: header checks, the record walk, and the hand-off of each decoded record
 * as a normalized dh_event. A damaged record is reported and skipped; the walk resyncs on
 * the next record signature so one bad record costs only itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "input/evtx/binxml.h"
#include "input/evtx/evtx.h"
#include "input/evtx/template.h"
#include "event/builder.h"
#include "event/mappings/mappings.h"

#define MAX_CACHED_TEMPLATES 4096

evtx_decoder *evtx_decoder_new(int want_xml)
{
    evtx_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->want_xml = want_xml;
    dh_buf_init(&d->arena, EVTX_ARENA_LIMIT);
    dh_buf_init(&d->xml, EVTX_ARENA_LIMIT);
    return d;
}

static void free_scratch(evtx_decoder *d)
{
    while (d->scratch) {
        evtx_template *n = d->scratch->next;
        evtx_template_free(d->scratch);
        d->scratch = n;
    }
}

void evtx_decoder_free(evtx_decoder *d)
{
    if (!d)
        return;
    evtx_template_cache_clear(d);
    free_scratch(d);
    dh_buf_free(&d->arena);
    dh_buf_free(&d->xml);
    free(d->items);
    free(d->kvs);
    for (int i = 0; i < EVTX_MAX_TPL_DEPTH; i++)
        free(d->levels[i].v);
    free(d);
}

/* memcmp against itself shifted by one byte: libc's vectorised compare, ~10x a byte loop
 * on the preallocated (all-zero) chunks that end most logs. */
static int all_zero(const uint8_t *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static uint64_t parse_u64(const char *s, size_t n, int *ok)
{
    uint64_t v = 0;
    *ok = n > 0 && n <= 20;
    for (size_t i = 0; i < n && *ok; i++) {
        if (s[i] < '0' || s[i] > '9')
            *ok = 0;
        else
            v = v * 10 + (uint64_t)(s[i] - '0');
    }
    return v;
}

static void set_field(dh_event *ev, int id, dh_str v)
{
    if (!(ev->present & (1ULL << id)))
        dh_event_set_field(ev, (dh_field)id, v);
}

/* Turns the walked record into ev: envelope, data items, taxonomy fields. */
static const char *finalize(evtx_decoder *d, uint64_t header_recid, int64_t written)
{
    dh_event *ev = &d->ev;
    const char *a = d->arena.data ? d->arena.data : ""; /* no text converted at all */
    dh_event_set_time(ev, d->time_set ? d->time : written);
    dh_event_set_provider(ev, (dh_str){a + d->provider_off, d->provider_len});
    dh_event_set_channel(ev, (dh_str){a + d->channel_off, d->channel_len});
    dh_event_set_host(ev, (dh_str){a + d->computer_off, d->computer_len});
    int ok, rok;
    uint64_t id = parse_u64(a + d->eventid_off, d->eventid_len, &ok);
    uint64_t rid = parse_u64(a + d->recid_off, d->recid_len, &rok);
    dh_event_set_ids(ev, ok && id <= UINT32_MAX ? (uint32_t)id : 0, rok ? rid : header_recid);
    dh_event_set_xml(ev, d->want_xml ? (dh_str){d->xml.data, d->xml.len} : (dh_str){"", 0});

    if (d->kvs_cap < d->nitems) {
        dh_kv *n = realloc(d->kvs, d->nitems * sizeof *n);
        if (!n)
            return "out of memory";
        d->kvs = n;
        d->kvs_cap = d->nitems;
    }
    for (size_t i = 0; i < d->nitems; i++) {
        const evtx_item *it = &d->items[i];
        d->kvs[i].name = it->name_static ? (dh_str){it->name_static, it->name_len}
                                         : (dh_str){a + it->name_off, it->name_len};
        d->kvs[i].value = (dh_str){a + it->value_off, it->value_len};
    }
    dh_event_set_data(ev, d->kvs, d->nitems);
    for (unsigned i = 0; i < d->nsys; i++) {
        d->syskv[i].name = (dh_str){d->sys[i].name, d->sys[i].name_len};
        d->syskv[i].value = (dh_str){a + d->sys[i].value_off, d->sys[i].value_len};
    }
    dh_event_set_system(ev, d->syskv, d->nsys);
    dh_event_clear_fields(ev);
    dh_event_set_kind(ev, DH_KIND_OTHER);

    /* The mapping row of the last (provider, event id) again: logs come in runs of one
     * provider, and the table walk was 3% of stats (callgrind, 2026-12-07). */
    const dh_map_row *row;
    if (d->map_valid && d->map_event_id == ev->event_id &&
        d->map_provider_len == ev->provider.len &&
        memcmp(d->map_provider, ev->provider.ptr, ev->provider.len) == 0) {
        row = d->map_row;
    } else {
        row = dh_map_windows_find(ev->provider, ev->event_id);
        d->map_valid = ev->provider.len <= sizeof d->map_provider;
        if (d->map_valid) {
            memcpy(d->map_provider, ev->provider.ptr, ev->provider.len);
            d->map_provider_len = (uint32_t)ev->provider.len;
            d->map_event_id = ev->event_id;
            d->map_row = row;
        }
    }
    if (!row)
        return NULL;
    for (size_t i = 0; i < d->nitems; i++) {
        const evtx_item *it = &d->items[i];
        int8_t ids[DH_MAP_MAX_TARGETS];
        int n;
        evtx_template *t = (evtx_template *)it->tpl; /* the decoder owns its cache */
        if (t && it->name_op != UINT32_MAX) {
            if (t->cache_row != row) {
                if (!t->cache_fields) {
                    t->cache_fields = malloc(t->nops * sizeof *t->cache_fields);
                    if (!t->cache_fields)
                        return "out of memory";
                }
                for (uint32_t k = 0; k < t->nops; k++)
                    t->cache_fields[k][0] = -2;
                t->cache_row = row;
            }
            int8_t *c = t->cache_fields[it->name_op];
            if (c[0] == -2) {
                c[0] = (int8_t)dh_map_row_fields(row, d->kvs[i].name, ids);
                memcpy(c + 1, ids, DH_MAP_MAX_TARGETS);
            }
            n = c[0];
            memcpy(ids, c + 1, DH_MAP_MAX_TARGETS);
        } else {
            n = dh_map_row_fields(row, d->kvs[i].name, ids);
        }
        for (int k = 0; k < n; k++)
            set_field(ev, ids[k], d->kvs[i].value);
    }
    dh_event_set_kind(ev, dh_map_refine_kind(row, ev));
    if (row->fix)
        row->fix(ev);
    return NULL;
}

static void report(evtx_decoder *d, const evtx_error_fn *err, dh_status st, uint32_t off,
                   uint64_t recid, const char *msg)
{
    if (err && err->fn)
        err->fn(err->ctx, st, d->chunk_index, d->chunk_file_off + off, recid, msg);
}

/* Is there a plausible record at pos? */
static int record_at(const uint8_t *c, uint32_t pos, uint32_t len)
{
    if (len - pos < 28 || memcmp(c + pos, "\x2a\x2a\x00\x00", 4) != 0)
        return 0;
    uint32_t size = rd32(c + pos + 4);
    return size >= 28 && size <= len - pos && rd32(c + pos + size - 4) == size;
}

/* Is the record at pos torn: a signature and a plausible size, but from some 4 KiB page
 * boundary inside it to its end nothing but zeros (its size is not repeated at the end)?
 * That is how a log copied from a volume shadow copy or a crashed system looks when the
 * record's last pages were never written. Returns the chunk offset of that boundary (the
 * first page boundary from which everything is zero), or 0. file_off: the chunk's offset
 * in the file, since pages are aligned in the file. */
static uint32_t torn_at(const uint8_t *c, uint32_t pos, uint32_t len, uint64_t file_off)
{
    if (len - pos < 28 || memcmp(c + pos, "\x2a\x2a\x00\x00", 4) != 0)
        return 0;
    uint32_t size = rd32(c + pos + 4);
    if (size < 28 || size > len - pos || rd32(c + pos + size - 4) == size)
        return 0;
    uint32_t end = pos + size;
    uint32_t page = (uint32_t)((4096 - (file_off + pos + 1) % 4096) % 4096) + pos + 1;
    /* page: the first page boundary after the record's first byte. */
    for (; page < end; page += 4096)
        if (page >= pos + 24 && all_zero(c + page, end - page))
            return page;
    return 0;
}

/* The next offset after pos where a plausible record starts, or len. Byte by byte: a torn
 * record can leave the next one at any offset. */
static uint32_t resync(const uint8_t *c, uint32_t pos, uint32_t len)
{
    uint32_t next = pos + 1;
    while (next < len) {
        const uint8_t *hit = memchr(c + next, 0x2a, len - next);
        if (!hit)
            return len;
        next = (uint32_t)(hit - c);
        if (record_at(c, next, len))
            return next;
        next++;
    }
    return len;
}

int evtx_slot_kind(const uint8_t *p, size_t len)
{
    if (len >= 8 && memcmp(p, "ElfChnk\0", 8) == 0)
        return EVTX_SLOT_CHUNK;
    if (all_zero(p, len))
        return EVTX_SLOT_EMPTY;
    uint32_t n = len < EVTX_CHUNK_SIZE ? (uint32_t)len : EVTX_CHUNK_SIZE;
    return record_at(p, 0, n) || resync(p, 0, n) < n ? EVTX_SLOT_RECORDS : EVTX_SLOT_JUNK;
}

/* Records first..last were never written: only zeros from pos to file offset `to`. */
static void report_lost(evtx_decoder *d, const evtx_error_fn *err, evtx_chunk_result *res,
                        uint32_t pos, uint64_t first, uint64_t last, uint64_t to, const char *where)
{
    char msg[240];
    res->damaged = 1;
    if (last >= first && last - first < (1u << 16))
        res->records_bad += last - first + 1;
    if (last < first || last - first > (1u << 20))
        snprintf(msg, sizeof msg, "only zeros from here to offset %llu (pages never written)",
                 (unsigned long long)to);
    else
        snprintf(msg, sizeof msg,
                 "records %llu to %llu lost: %s (offset %llu) only zeros (pages never written)",
                 (unsigned long long)first, (unsigned long long)last, where,
                 (unsigned long long)to);
    report(d, err, DH_ERR_FORMAT, pos, 0, msg);
}

/* One chunk: header checks, string and template tables, then the records in order, each
 * with its recovery (torn, zeroed, damaged). long because: the per-record loop keeps
 * the chunk's position, record bounds and recovery state in locals, and it is the hot path
 * of every EVTX read; left whole rather than risk its speed without a measurement. */
dh_status evtx_decode_chunk(evtx_decoder *d, const uint8_t *buf, size_t len, const char *file,
                            int64_t chunk_index, uint64_t file_off, evtx_event_fn on_event,
                            void *ev_ctx, const evtx_error_fn *err, evtx_chunk_result *res)
{
    memset(res, 0, sizeof *res);
    d->chunk = buf;
    d->chunk_len = len;
    d->file = file;
    d->chunk_index = chunk_index;
    d->chunk_file_off = file_off;
    d->nchunk_tpls = 0;
    if (d->ncached > MAX_CACHED_TEMPLATES)
        evtx_template_cache_clear(d);

    switch (evtx_slot_kind(buf, len)) {
    case EVTX_SLOT_EMPTY:
        res->empty = 1;
        return DH_OK;
    case EVTX_SLOT_JUNK:
        res->junk = 1;
        return DH_OK;
    case EVTX_SLOT_RECORDS:
        res->damaged = 1;
        report(d, err, DH_ERR_FORMAT, 0, 0,
               "chunk signature missing (records follow), chunk skipped");
        return DH_OK;
    }
    if (len < EVTX_CHUNK_HEADER_SIZE) {
        res->damaged = 1;
        report(d, err, DH_ERR_FORMAT, 0, 0, "chunk truncated inside its header, chunk skipped");
        return DH_OK;
    }
    /* Only the 512-byte header is checksummed on the way: the records' CRC would cost
     * ~30% of the decode time (64 KiB per chunk); it is checked when a record fails, to
     * say whether the chunk was altered. */
    uint32_t crc = (uint32_t)crc32(0, buf, 120);
    crc = (uint32_t)crc32(crc, buf + 128, 384);
    if (crc != rd32(buf + 124)) {
        /* A warning, not damage: a log not closed cleanly leaves stale header checksums,
         * and every record is still checked on its own. */
        report(d, err, DH_ERR_CHECKSUM, 124, 0,
               "warning: chunk header checksum mismatch; records decoded anyway");
    }
    uint32_t clen = (uint32_t)len;
    uint32_t free_off = rd32(buf + 48);
    if (free_off > clen && clen < EVTX_CHUNK_SIZE && free_off <= EVTX_CHUNK_SIZE) {
        /* The file ends inside this chunk's records: what is past the end is lost. */
        res->damaged = 1;
        /* Both as file offsets, like the message's own offset: the chunk's free-space
         * mark and its length here are chunk-relative, and said as such they read as a
         * file size that is wrong (issue 17). */
        char msg[160];
        snprintf(msg, sizeof msg,
                 "chunk truncated by the end of the file: its records extend to offset %llu, "
                 "the file ends at offset %llu",
                 (unsigned long long)(file_off + free_off), (unsigned long long)(file_off + clen));
        report(d, err, DH_ERR_FORMAT, clen, 0, msg);
    }
    if (free_off < EVTX_CHUNK_HEADER_SIZE || free_off > clen)
        free_off = clen;

    uint32_t pos = EVTX_CHUNK_HEADER_SIZE;
    uint64_t last_id = 0;
    int have_last = 0;
    int data_crc_checked = 0;
    while (pos < clen) {
        if (pos >= free_off) {
            /* Past the header's free-space mark: a log that was not closed cleanly can
             * hold records the header does not count yet; take only the next in line. */
            if (!record_at(buf, pos, clen) || !have_last || rd64(buf + pos + 8) != last_id + 1)
                break;
        }
        uint32_t tear = record_at(buf, pos, clen) ? 0 : torn_at(buf, pos, clen, file_off);
        if (!tear && !record_at(buf, pos, clen)) {
            uint64_t hdr_last = rd64(buf + 32);
            if (all_zero(buf + pos, (free_off > pos ? free_off : clen) - pos)) {
                /* The header may count records here whose pages were never written. */
                if (pos < free_off && have_last && hdr_last > last_id)
                    report_lost(d, err, res, pos, last_id + 1, hdr_last, file_off + free_off,
                                "the chunk header lists them, but up to its free-space mark");
                break;
            }
            uint32_t next = resync(buf, pos, clen);
            res->damaged = 1;
            uint32_t z = pos;
            while (z < next && !buf[z])
                z++;
            /* Zeros over at least a whole page (what is left of a record cut by them may
             * follow), then records again: pages in the middle never written. */
            if (z > pos && (z == next || file_off + z >= (file_off + pos + 4095) / 4096 * 4096) &&
                next < clen && have_last && rd64(buf + next + 8) > last_id) {
                report_lost(d, err, res, pos, last_id + 1, rd64(buf + next + 8) - 1,
                            file_off + next, "up to the next record");
            } else {
                res->records_bad++;
                report(d, err, DH_ERR_FORMAT, pos, 0,
                       "bad record signature or size, resyncing on the next record");
            }
            pos = next;
            continue;
        }
        uint32_t size = rd32(buf + pos + 4);
        uint64_t recid = rd64(buf + pos + 8);
        int64_t written = (int64_t)rd64(buf + pos + 16);

        d->arena.len = 0;
        d->xml.len = 0;
        d->nitems = 0;
        d->depth = 0;
        d->tpl_depth = 0;
        d->ops_walked = 0;
        d->time_set = 0;
        d->attr_open = 0;
        d->attr_skip = 0;
        d->provider_off = d->provider_len = d->channel_off = d->channel_len = 0;
        d->computer_off = d->computer_len = d->eventid_off = d->eventid_len = 0;
        d->recid_off = d->recid_len = 0;
        d->tear = tear;
        d->values_total = d->values_lost = 0;
        d->nsys = 0;
        dh_event_begin(&d->ev, file);
        dh_event_set_origin(&d->ev, file, chunk_index, file_off + pos);

        const char *why = evtx_decode_record_xml(d, pos + 24, pos + size - 4);
        if (!why)
            why = finalize(d, recid, written);
        if (why) {
            free_scratch(d);
            res->damaged = 1;
            res->records_bad++;
            if (!data_crc_checked) {
                data_crc_checked = 1;
                uint32_t dcrc = (uint32_t)crc32(0, buf + 512, free_off - 512);
                if (dcrc != rd32(buf + 52))
                    report(d, err, DH_ERR_CHECKSUM, 52, 0,
                           "chunk records checksum mismatch: the chunk was altered or torn");
            }
            if (tear) {
                char msg[200];
                snprintf(msg, sizeof msg,
                         "record torn: zeros from offset %llu (a 4 KiB page never written) "
                         "to its end, %s; skipped",
                         (unsigned long long)(file_off + tear), why);
                report(d, err, DH_ERR_FORMAT, pos, recid, msg);
            } else {
                report(d, err, DH_ERR_FORMAT, pos, recid, why);
            }
        } else {
            res->records++;
            if (tear) {
                /* Kept: what was written before the tear; what was not is left out. */
                res->damaged = 1;
                char msg[200];
                snprintf(msg, sizeof msg,
                         "record torn: zeros from offset %llu (a 4 KiB page never written) "
                         "to its end; %u of its %u values lost and left out, the rest kept",
                         (unsigned long long)(file_off + tear), d->values_lost, d->values_total);
                report(d, err, DH_ERR_FORMAT, pos, recid, msg);
            }
            /* Names and values of bare elements and nested BinXML live in the scratch
             * templates: they are freed only once the event has been handed on. */
            dh_status st = on_event(ev_ctx, &d->ev);
            free_scratch(d);
            if (st != DH_OK)
                return st;
        }
        last_id = recid;
        have_last = 1;
        pos += size;
    }
    return DH_OK;
}
