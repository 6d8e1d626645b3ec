/* Unit tests for the EVTX chunk decoder (evtx_decode_chunk) and the scanner (dh_scan_run)
 * on a real file of the corpus: record counts, provenance, and what happens to a chunk
 * with one damaged record (the record is reported with its offset and skipped, the rest
 * decode). The corpus file is the Impacket dcomexec MMC20 Sysmon capture: one chunk,
 * nine records, 9832 the mmc.exe -Embedding activation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "input/evtx/evtx.h"

#define MMC_FILE                                                                                   \
    DH_CORPUS_DIR "/EVTX-ATTACK-SAMPLES/Lateral Movement/LM_impacket_docmexec_mmc_sysmon_01.evtx"
#define MMC_RECORDS 9

typedef struct seen {
    uint64_t recids[64];
    size_t n;
    int saw_mmc;
    int xml_ok;
    int lax; /* damaged input: do not check what the events say */
    struct {
        uint64_t offset, recid;
        int64_t chunk;
        dh_status st;
        char msg[128];
    } errs[16];
    size_t nerrs;
} seen;

static dh_status on_event(void *ctx, const dh_event *ev)
{
    seen *s = ctx;
    if (s->n < 64)
        s->recids[s->n] = dh_event_record_id(ev);
    s->n++;
    dh_str p = dh_event_provider(ev);
    if (s->lax)
        return DH_OK;
    assert_true(p.len == strlen("Microsoft-Windows-Sysmon") &&
                memcmp(p.ptr, "Microsoft-Windows-Sysmon", p.len) == 0);
    assert_int_equal(dh_event_chunk(ev), 0);
    assert_true(dh_event_offset(ev) >= 4096 + 512);
    dh_str img;
    if (dh_event_record_id(ev) == 9832) {
        assert_int_equal(dh_event_id(ev), 1);
        assert_true(dh_event_get(ev, "CommandLine", strlen("CommandLine"), &img));
        s->saw_mmc = img.len >= 10 && memcmp(img.ptr + img.len - 10, "-Embedding", 10) == 0;
    }
    dh_str x = dh_event_xml(ev);
    if (x.len > 7 && memcmp(x.ptr, "<Event", 6) == 0)
        s->xml_ok++;
    return DH_OK;
}

static void on_error(void *ctx, dh_status st, int64_t chunk, uint64_t offset, uint64_t recid,
                     const char *msg)
{
    seen *s = ctx;
    if (st == DH_ERR_CHECKSUM)
        return; /* warnings, counted elsewhere */
    if (s->nerrs < 16) {
        s->errs[s->nerrs].offset = offset;
        s->errs[s->nerrs].recid = recid;
        s->errs[s->nerrs].chunk = chunk;
        s->errs[s->nerrs].st = st;
        snprintf(s->errs[s->nerrs].msg, sizeof s->errs[0].msg, "%s", msg);
    }
    s->nerrs++;
}

static uint8_t *file_chunk(size_t *len)
{
    FILE *f = fopen(MMC_FILE, "rb");
    if (!f)
        fail_msg("cannot open %s", MMC_FILE);
    uint8_t *c = calloc(1, EVTX_CHUNK_SIZE);
    assert_non_null(c);
    assert_int_equal(fseek(f, 4096, SEEK_SET), 0);
    *len = fread(c, 1, EVTX_CHUNK_SIZE, f);
    fclose(f);
    assert_true(*len > 512);
    assert_memory_equal(c, "ElfChnk\0", 8);
    return c;
}

/* Offset of the k-th record of the chunk, walking the size fields. */
static uint32_t record_off(const uint8_t *c, int k)
{
    uint32_t pos = 512;
    for (int i = 0; i < k; i++)
        pos += rd32(c + pos + 4);
    assert_memory_equal(c + pos, "\x2a\x2a\0\0", 4);
    return pos;
}

static evtx_chunk_result decode(const uint8_t *c, size_t len, int xml, seen *s)
{
    evtx_decoder *d = evtx_decoder_new(xml);
    assert_non_null(d);
    evtx_error_fn err = {on_error, s};
    evtx_chunk_result res;
    assert_int_equal(evtx_decode_chunk(d, c, len, "t.evtx", 0, 4096, on_event, s, &err, &res),
                     DH_OK);
    evtx_decoder_free(d);
    return res;
}

static void chunk_intact(void **state)
{
    (void)state;
    size_t len;
    uint8_t *c = file_chunk(&len);
    for (int xml = 0; xml <= 1; xml++) {
        seen s = {0};
        evtx_chunk_result r = decode(c, len, xml, &s);
        assert_int_equal(r.records, MMC_RECORDS);
        assert_int_equal(r.records_bad, 0);
        assert_int_equal(r.damaged, 0);
        assert_int_equal(s.n, MMC_RECORDS);
        assert_int_equal(s.nerrs, 0);
        assert_true(s.saw_mmc);
        assert_int_equal(s.xml_ok, xml ? MMC_RECORDS : 0);
        /* Record ids ascend one by one. */
        for (size_t i = 1; i < s.n; i++)
            assert_int_equal(s.recids[i], s.recids[i - 1] + 1);
    }
    free(c);
}

static void chunk_bad_record_signature(void **state)
{
    (void)state;
    size_t len;
    uint8_t *c = file_chunk(&len);
    uint32_t off = record_off(c, 3);
    uint64_t lost = rd64(c + off + 8);
    c[off] = 0x2b;
    seen s = {0};
    evtx_chunk_result r = decode(c, len, 0, &s);
    assert_int_equal(r.records, MMC_RECORDS - 1);
    assert_int_equal(r.records_bad, 1);
    assert_true(r.damaged);
    assert_int_equal(s.nerrs, 1);
    assert_int_equal(s.errs[0].offset, 4096 + off);
    assert_int_equal(s.errs[0].chunk, 0);
    assert_int_equal(s.errs[0].st, DH_ERR_FORMAT);
    assert_non_null(strstr(s.errs[0].msg, "signature"));
    for (size_t i = 0; i < s.n; i++)
        assert_int_not_equal(s.recids[i], lost);
    free(c);
}

static void chunk_bad_record_size(void **state)
{
    (void)state;
    size_t len;
    uint8_t *c = file_chunk(&len);
    uint32_t off = record_off(c, 5);
    c[off + 4] ^= 0x40; /* the size no longer matches the copy at the record's end */
    seen s = {0};
    evtx_chunk_result r = decode(c, len, 1, &s);
    assert_int_equal(r.records, MMC_RECORDS - 1);
    assert_int_equal(r.records_bad, 1);
    assert_int_equal(s.nerrs, 1);
    assert_int_equal(s.errs[0].offset, 4096 + off);
    assert_int_equal(s.xml_ok, MMC_RECORDS - 1);
    free(c);
}

static void chunk_truncated(void **state)
{
    (void)state;
    size_t len;
    uint8_t *c = file_chunk(&len);
    uint32_t off = record_off(c, 7);
    seen s = {0};
    /* Cut in the middle of record 8 (index 7): seven decode; the cut chunk and the torn
     * record are both reported. */
    evtx_chunk_result r = decode(c, off + 40, 0, &s);
    assert_int_equal(r.records, 7);
    assert_true(r.damaged);
    assert_int_equal(s.nerrs, 2);
    assert_non_null(strstr(s.errs[0].msg, "truncated"));
    /* The file's size and the chunk's end, as file offsets like the error's own (the
     * chunk starts at file offset 4096 here), never as offsets inside the chunk. */
    char want[96];
    snprintf(want, sizeof want, "its records extend to offset %u, the file ends at offset %u",
             4096u + rd32(c + 48), 4096u + off + 40);
    if (!strstr(s.errs[0].msg, want))
        fail_msg("message [%s] does not say [%s]", s.errs[0].msg, want);
    assert_int_equal(s.errs[0].offset, 4096 + off + 40);
    assert_int_equal(s.errs[1].offset, 4096 + off);
    /* Cut inside the chunk header. */
    memset(&s, 0, sizeof s);
    r = decode(c, 300, 0, &s);
    assert_int_equal(r.records, 0);
    assert_true(r.damaged);
    assert_int_equal(s.nerrs, 1);
    assert_non_null(strstr(s.errs[0].msg, "header"));
    free(c);
}

static void chunk_signature_and_zeros(void **state)
{
    (void)state;
    size_t len;
    uint8_t *c = file_chunk(&len);
    c[0] = 'X';
    seen s = {0};
    evtx_chunk_result r = decode(c, len, 0, &s);
    assert_int_equal(r.records, 0);
    assert_true(r.damaged);
    assert_int_equal(s.nerrs, 1);
    assert_int_equal(s.errs[0].offset, 4096);
    assert_non_null(strstr(s.errs[0].msg, "chunk signature"));
    /* An all-zero chunk (preallocated, never written) is empty, not damage. */
    memset(c, 0, EVTX_CHUNK_SIZE);
    memset(&s, 0, sizeof s);
    r = decode(c, EVTX_CHUNK_SIZE, 0, &s);
    assert_int_equal(r.records, 0);
    assert_int_equal(r.damaged, 0);
    assert_true(r.empty);
    assert_int_equal(s.nerrs, 0);
    free(c);
}

static void chunk_decoder_reuse(void **state)
{
    (void)state;
    /* One decoder across a damaged chunk and then the intact one: the template cache must
     * not carry anything over that changes the intact chunk's result. */
    size_t len;
    uint8_t *c = file_chunk(&len);
    uint8_t *bad = malloc(EVTX_CHUNK_SIZE);
    assert_non_null(bad);
    memcpy(bad, c, EVTX_CHUNK_SIZE);
    uint32_t off = record_off(bad, 0);
    for (uint32_t i = off + 24; i < off + 24 + 64; i += 7)
        bad[i] ^= 0x5a;
    evtx_decoder *d = evtx_decoder_new(1);
    assert_non_null(d);
    evtx_error_fn err = {on_error, NULL};
    evtx_chunk_result r;
    seen s1 = {0}, s2 = {0};
    s1.lax = 1;
    err.ctx = &s1;
    assert_int_equal(evtx_decode_chunk(d, bad, len, "b.evtx", 0, 4096, on_event, &s1, &err, &r),
                     DH_OK);
    assert_true(r.records + r.records_bad >= 1);
    err.ctx = &s2;
    assert_int_equal(evtx_decode_chunk(d, c, len, "t.evtx", 0, 4096, on_event, &s2, &err, &r),
                     DH_OK);
    assert_int_equal(r.records, MMC_RECORDS);
    assert_int_equal(s2.nerrs, 0);
    evtx_decoder_free(d);
    evtx_decoder_free(NULL);
    free(bad);
    free(c);
}

/* ---- dh_scan_run ---- */

typedef struct scan_seen {
    uint64_t events, errors;
    dh_error last;
} scan_seen;

static dh_status scan_event(void *wctx, const dh_event *ev, dh_buf *out)
{
    (void)ev;
    (void)out;
    scan_seen *s = wctx;
    __atomic_add_fetch(&s->events, 1, __ATOMIC_RELAXED);
    return DH_OK;
}

static void *scan_worker(void *ctx)
{
    return ctx;
}

static void scan_error(void *ctx, const dh_error *e)
{
    scan_seen *s = ctx;
    s->errors++;
    s->last = *e;
}

static void scan_file_and_missing(void **state)
{
    (void)state;
    dh_scan_opts o;
    dh_scan_opts_init(&o);
    o.threads = 2;
    scan_seen s = {0};
    dh_scan_callbacks cb = {
        .ctx = &s, .worker_new = scan_worker, .on_event = scan_event, .on_error = scan_error};
    dh_scan_stats st;
    const char *paths[] = {MMC_FILE};
    assert_int_equal(dh_scan_run(paths, 1, &o, &cb, &st), DH_OK);
    assert_int_equal(st.records, MMC_RECORDS);
    assert_int_equal(s.events, MMC_RECORDS);
    assert_int_equal(st.records_damaged, 0);
    assert_int_equal(st.chunks_damaged, 0);
    assert_int_equal(st.files_read, 1);

    const char *two[] = {MMC_FILE, "/nonexistent/dcomhunt-test.evtx"};
    memset(&s, 0, sizeof s);
    assert_int_equal(dh_scan_run(two, 2, &o, &cb, &st), DH_ERR_FORMAT);
    assert_int_equal(st.records, MMC_RECORDS);
    assert_int_equal(st.files_skipped, 1);
    assert_true(s.errors >= 1);
    assert_string_equal(s.last.file, "/nonexistent/dcomhunt-test.evtx");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chunk_intact),
        cmocka_unit_test(chunk_bad_record_signature),
        cmocka_unit_test(chunk_bad_record_size),
        cmocka_unit_test(chunk_truncated),
        cmocka_unit_test(chunk_signature_and_zeros),
        cmocka_unit_test(chunk_decoder_reuse),
        cmocka_unit_test(scan_file_and_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
