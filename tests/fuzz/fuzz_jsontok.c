/* Differential libFuzzer target for the JSON reader's two tokenizers (input/json/tokenize.h):
 * the fast single pass must give jsmn's tokens wherever it answers, and the reader must give
 * the same events through either. Each input is checked three ways:
 * - the whole input, and each of its lines, tokenized by both: where the fast pass answers,
 *   jsmn gives the same count and the same tokens (type, start, end, size, parent);
 * - the input decoded as JSON lines by a reader on the fast path and by one on jsmn alone
 *   (jsonl_reader_use_reference): the same events, field by field (envelope, provenance,
 *   kind, taxonomy fields, data and System properties in order), and the same errors;
 * - the same for the input read as a JSON array, and jsonl_array_cut (bit masks) cuts it
 *   where jsonl_array_cut_reference (a byte-by-byte scan) does.
 * A difference aborts (a crash for libFuzzer, a failure for the replay test). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "event/event_impl.h"
#include "input/json/jsonl.h"
#include "input/json/tokenize.h"

#define MAX_TOK 8192

static void put_str(dh_buf *b, dh_str s)
{
    char n[24];
    int k = snprintf(n, sizeof n, "%zu:", s.len);
    dh_buf_append(b, n, (size_t)k);
    dh_buf_append(b, s.ptr ? s.ptr : "", s.len);
    dh_buf_putc(b, '|');
}

static void put_u64(dh_buf *b, uint64_t v)
{
    char n[24];
    int k = snprintf(n, sizeof n, "%llu|", (unsigned long long)v);
    dh_buf_append(b, n, (size_t)k);
}

/* Every field of an event, in a form two events compare by. */
static dh_status on_event(void *ctx, const dh_event *ev)
{
    dh_buf *b = ctx;
    dh_buf_append(b, "E|", 2);
    put_u64(b, (uint64_t)ev->kind);
    put_u64(b, ev->event_id);
    put_u64(b, ev->record_id);
    put_u64(b, (uint64_t)ev->time);
    put_str(b, ev->host);
    put_str(b, ev->channel);
    put_str(b, ev->provider);
    put_str(b, ev->xml);
    put_u64(b, (uint64_t)ev->chunk);
    put_u64(b, ev->offset);
    put_u64(b, ev->present);
    for (int f = 0; f < DH_FIELD_COUNT; f++)
        if (ev->present & (1ULL << f))
            put_str(b, ev->fields[f]);
    put_u64(b, ev->ndata);
    for (size_t k = 0; k < ev->ndata; k++) {
        put_str(b, ev->data[k].name);
        put_str(b, ev->data[k].value);
    }
    put_u64(b, ev->nsys);
    for (size_t k = 0; k < ev->nsys; k++) {
        put_str(b, ev->sys[k].name);
        put_str(b, ev->sys[k].value);
    }
    return DH_OK;
}

static void on_error(void *ctx, uint64_t line, uint64_t offset, const char *why)
{
    dh_buf *b = ctx;
    dh_buf_append(b, "X|", 2);
    put_u64(b, line);
    put_u64(b, offset);
    put_str(b, (dh_str){why, strlen(why)});
}

static void same_tokens(const char *js, size_t n)
{
    static jsmntok_t *a, *b;
    if (!a)
        a = malloc(MAX_TOK * sizeof *a);
    if (!b)
        b = malloc(MAX_TOK * sizeof *b);
    if (!a || !b)
        return;
    int na = jsonl_tokenize_fast(js, n, a, MAX_TOK);
    if (na < 0)
        return; /* jsmn decides: nothing to compare */
    int nb = jsonl_tokenize_jsmn(js, n, b, MAX_TOK);
    if (na != nb) {
        fprintf(stderr, "fuzz_jsontok: fast pass %d tokens, jsmn %d\n", na, nb);
        abort();
    }
    for (int i = 0; i < na; i++)
        if (a[i].type != b[i].type || a[i].start != b[i].start || a[i].end != b[i].end ||
            a[i].size != b[i].size || a[i].parent != b[i].parent) {
            fprintf(stderr, "fuzz_jsontok: token %d differs\n", i);
            abort();
        }
    /* jsonl_tokenize is the fast pass where it answers */
    if (jsonl_tokenize(js, n, b, MAX_TOK) != na)
        abort();
}

static void decode_both(jsonl_reader *fast, jsonl_reader *ref, dh_buf *out_f, dh_buf *out_r,
                        const char *p, size_t size, int array)
{
    jsonl_reader *rd[2] = {fast, ref};
    dh_buf *out[2] = {out_f, out_r};
    for (int k = 0; k < 2; k++) {
        uint64_t events = 0, bad = 0;
        dh_buf_reset(out[k]);
        if (!array) {
            jsonl_decode(rd[k], p, size, "fuzz", 1, 0, on_event, out[k], on_error, out[k], &events,
                         &bad);
            continue;
        }
        const char *q = p;
        size_t left = size, off = 0;
        while (left) { /* cut as the scanner cuts a stream */
            size_t n = jsonl_array_cut(q, left, off == 0);
            if (n == 0 || n > left)
                n = left;
            jsonl_decode_array(rd[k], q, n, off == 0, "fuzz", 1, off, on_event, out[k], on_error,
                               out[k], &events, &bad);
            q += n;
            left -= n;
            off += n;
        }
    }
    if (out_f->len != out_r->len || (out_f->len && memcmp(out_f->data, out_r->data, out_f->len))) {
        fprintf(stderr, "fuzz_jsontok: events differ (%s): fast %zu bytes, jsmn %zu\n",
                array ? "array" : "lines", out_f->len, out_r->len);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static jsonl_reader *fast, *ref;
    static dh_buf out_f, out_r;
    if (!fast) {
        fast = jsonl_reader_new();
        ref = jsonl_reader_new();
        if (!fast || !ref)
            return 0;
        jsonl_reader_use_reference(ref, 1);
        dh_buf_init(&out_f, 1u << 28);
        dh_buf_init(&out_r, 1u << 28);
    }
    const char *p = (const char *)data;
    same_tokens(p, size);
    for (size_t s = 0; s < size;) {
        const char *nl = memchr(p + s, '\n', size - s);
        size_t e = nl ? (size_t)(nl - p) : size;
        same_tokens(p + s, e - s);
        s = e + 1;
    }
    /* the array cut's masks against its byte-by-byte scan, at the input's start and not */
    for (int at_start = 0; at_start < 2; at_start++)
        if (jsonl_array_cut(p, size, at_start) != jsonl_array_cut_reference(p, size, at_start)) {
            fprintf(stderr, "fuzz_jsontok: array cut differs (at_start %d)\n", at_start);
            abort();
        }
    decode_both(fast, ref, &out_f, &out_r, p, size, 0);
    decode_both(fast, ref, &out_f, &out_r, p, size, 1);
    return 0;
}
