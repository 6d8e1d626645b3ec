/* Unit tests for the EVTX writer (src/output/evtx_write.c): records of every value type
 * (scalars and arrays) on every channel dcomhunt writes (Security, System through a classic
 * event source, Sysmon, PowerShell, a UserData event), over many chunks, read back by the
 * decoder as exactly the text Windows renders (written out literally here); the file and
 * chunk headers and checksums; the dirty flag; records too large or malformed refused with
 * nothing written; text typed only when it is a type's canonical form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "dcomhunt/scan.h"
#include "input/evtx/evtx.h"
#include "output/evtx_schema.h"
#include "output/evtx_write.h"

/* One value of each type with the text the decoder (and Windows) gives it. */
typedef struct typed {
    const char *name;
    uint8_t type;
    const void *data;
    uint32_t len;
    const char *text[4]; /* an array gives one text per element */
} typed;

static const uint8_t guid_b[16] = {0x72, 0xbb, 0x5a, 0x36, 0x7f, 0xb1, 0xc8, 0x5c,
                                   0x00, 0x00, 0x00, 0x10, 0x82, 0xa5, 0x1e, 0x00};
static const uint8_t sid_b[] = {1,    5,    0,    0,    0,    0,    0,    5,    21,   0,
                                0,    0,    0xd2, 0x02, 0x96, 0x49, 0x13, 0xa1, 0xd0, 0xf3,
                                0x05, 0x0b, 0x3c, 0x87, 0xe8, 0x03, 0,    0};
static const uint8_t sid2_b[] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0, /* S-1-5-18 */
                                 1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 0x02, 0, 0};
static const uint8_t st_b[16] = {0xe5, 0x07, 3, 0, 2, 0, 9, 0, 13, 0, 5, 0, 59, 0, 0x7b, 0};
static const uint8_t ft_b[8] = {0x7a, 0x4a, 0x82, 0x35, 0x94, 0xff, 0xd4, 0x01};
static const uint8_t u64_b[8] = {0x28, 0x26, 0, 0, 0, 0, 0, 0};
static const uint8_t i64_b[8] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t h64_b[8] = {0xc6, 0xa3, 0x1e, 0, 0, 0, 0, 0};
static const uint8_t h32_b[4] = {0x96, 0x01, 0x12, 0};
static const uint8_t u32_b[4] = {0xf4, 0x0d, 0, 0};
static const uint8_t i32_b[4] = {0x85, 0xff, 0xff, 0xff};
static const uint8_t u16_b[2] = {0x87, 0x00};
static const uint8_t i16_b[2] = {0x00, 0x80};
static const uint8_t u8_b[1] = {0xff};
static const uint8_t i8_b[1] = {0x80};
static const uint8_t f32_b[4] = {0x00, 0x00, 0xc0, 0x3f};       /* 1.5 */
static const uint8_t f64_b[8] = {0, 0, 0, 0, 0, 0, 0x04, 0xc0}; /* -2.5 */
static const uint8_t bool_b[4] = {1, 0, 0, 0};
static const uint8_t bin_b[5] = {0x00, 0x4d, 0x5a, 0x90, 0xff};
static const uint8_t sz_b[8] = {0x48, 0x15, 0, 0, 0, 0, 0, 0};
static const uint8_t u16a_b[6] = {135, 0, 0x8b, 0x01, 0xbd, 0x01}; /* 135, 395, 445 */
static const uint8_t h64a_b[16] = {0xe7, 0x03, 0, 0, 0, 0, 0, 0, 0xe4, 0x03, 0, 0, 0, 0, 0, 0};
static const uint8_t guida_b[32] = {
    0x72, 0xbb, 0x5a, 0x36, 0x7f, 0xb1, 0xc8, 0x5c, 0,    0,    0,    0x10, 0x82, 0xa5, 0x1e, 0,
    0x5f, 0x38, 0x70, 0x57, 0x2a, 0xc2, 0xe0, 0x43, 0xbf, 0x4c, 0x06, 0xf5, 0x69, 0x8f, 0xfb, 0xd9};
static const char stra_b[] = "ISystemActivator\0RemoteCreateInstance\0";
static const char ansi_b[] = "caf\xe9";

static const typed types[] = {
    {"String",
     DH_EVTX_STRING,
     "C:\\Windows\\system32\\mmc.exe -Embedding \xc3\xa9\xe2\x82\xac",
     44,
     {"C:\\Windows\\system32\\mmc.exe -Embedding \xc3\xa9\xe2\x82\xac"}},
    {"Empty", DH_EVTX_STRING, "", 0, {""}},
    {"Ansi", DH_EVTX_ANSI, ansi_b, 4, {"caf\xc3\xa9"}},
    {"Int8", DH_EVTX_I8, i8_b, 1, {"-128"}},
    {"UInt8", DH_EVTX_U8, u8_b, 1, {"255"}},
    {"Int16", DH_EVTX_I16, i16_b, 2, {"-32768"}},
    {"UInt16", DH_EVTX_U16, u16_b, 2, {"135"}},
    {"Int32", DH_EVTX_I32, i32_b, 4, {"-123"}},
    {"UInt32", DH_EVTX_U32, u32_b, 4, {"3572"}},
    {"Int64", DH_EVTX_I64, i64_b, 8, {"-2"}},
    {"UInt64", DH_EVTX_U64, u64_b, 8, {"9768"}},
    {"Real32", DH_EVTX_F32, f32_b, 4, {"1.5"}},
    {"Real64", DH_EVTX_F64, f64_b, 8, {"-2.5"}},
    {"Bool", DH_EVTX_BOOL, bool_b, 4, {"true"}},
    {"Binary", DH_EVTX_BINARY, bin_b, 5, {"004D5A90FF"}},
    {"Guid", DH_EVTX_GUID, guid_b, 16, {"{365ABB72-B17F-5CC8-0000-001082A51E00}"}},
    {"SizeT", DH_EVTX_SIZET, sz_b, 8, {"0x1548"}},
    {"FileTime", DH_EVTX_FILETIME, ft_b, 8, {"2019-04-30T20:35:11.8560890Z"}},
    {"SysTime", DH_EVTX_SYSTEMTIME, st_b, 16, {"2021-03-09T13:05:59.123Z"}},
    {"Sid", DH_EVTX_SID, sid_b, sizeof sid_b, {"S-1-5-21-1234567890-4090536211-2268859141-1000"}},
    {"HexInt32", DH_EVTX_HEX32, h32_b, 4, {"0x120196"}},
    {"HexInt64", DH_EVTX_HEX64, h64_b, 8, {"0x1ea3c6"}},
    {"Ports", DH_EVTX_U16 | DH_EVTX_ARRAY, u16a_b, 6, {"135", "395", "445"}},
    {"LogonIds", DH_EVTX_HEX64 | DH_EVTX_ARRAY, h64a_b, 16, {"0x3e7", "0x3e4"}},
    {"Guids",
     DH_EVTX_GUID | DH_EVTX_ARRAY,
     guida_b,
     32,
     {"{365ABB72-B17F-5CC8-0000-001082A51E00}", "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"}},
    {"Sids", DH_EVTX_SID | DH_EVTX_ARRAY, sid2_b, sizeof sid2_b, {"S-1-5-18", "S-1-5-32-544"}},
    {"Strings",
     DH_EVTX_STRING | DH_EVTX_ARRAY,
     stra_b,
     sizeof stra_b - 1,
     {"ISystemActivator", "RemoteCreateInstance"}},
};
#define NTYPES (sizeof types / sizeof types[0])

/* The channels: a manifest provider on each, a classic source, and UserData. */
typedef struct chan {
    const char *provider, *guid, *source, *channel, *user_data, *ns;
} chan;
static const chan chans[] = {
    {"Microsoft-Windows-Security-Auditing", "{54849625-5478-4994-A5BA-3E3B0328C30D}", NULL,
     "Security", NULL, NULL},
    {"Microsoft-Windows-DistributedCOM", "{1B562E86-B7AA-4131-BADC-B6F3A001407E}", "DCOM", "System",
     NULL, NULL},
    {"Microsoft-Windows-Sysmon", "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}", NULL,
     "Microsoft-Windows-Sysmon/Operational", NULL, NULL},
    {"Microsoft-Windows-PowerShell", "{A0C1853B-5C40-4B15-8766-3CF1C58F985A}", NULL,
     "Microsoft-Windows-PowerShell/Operational", NULL, NULL},
    {"Microsoft-Windows-Eventlog", "{FC65DDD8-D6EF-4962-83D5-6E5CFE9CE148}", NULL, "Security",
     "LogFileCleared", "http://manifests.microsoft.com/win/2004/08/windows/eventlog"},
};
#define NCHANS   (sizeof chans / sizeof chans[0])
#define NRECORDS 1500 /* a few hundred bytes each: several chunks */

static void fill_record(dh_evtx_record *r, dh_evtx_item *items, size_t i)
{
    const chan *c = &chans[i % NCHANS];
    memset(r, 0, sizeof *r);
    r->provider = c->provider;
    r->provider_guid = c->guid;
    r->event_source = c->source;
    r->channel = c->channel;
    r->computer = i % 7 == 3 ? "SRV-FILES02.corp.example" : "WS-0412.corp.example";
    r->event_id = (uint16_t)(1000 + i % 50);
    r->qualifiers = c->source ? 0 : -1;
    r->version = 2;
    r->level = 4;
    r->task = 12544;
    r->keywords = 0x8020000000000000ULL;
    r->time = 132011337118560890LL + (int64_t)i * 10000000;
    r->process_id = 640;
    r->thread_id = (uint32_t)(700 + i);
    r->user_sid = i % 2 ? "S-1-5-18" : NULL;
    r->activity_id = i % 3 ? NULL : "{4AA5EAE3-4F33-0001-3A2B-A64A334FD601}";
    r->user_data = c->user_data;
    r->user_data_ns = c->ns;
    /* a rotating window of the types, so templates vary between records; for libevtx
     * (DH_EVTX_KEEP), no array of SIDs: libevtx 20181227 cannot read one */
    size_t n = 5 + i % (NTYPES - 4);
    int oracle = getenv("DH_EVTX_KEEP") != NULL;
    for (size_t k = 0; k < n; k++) {
        const typed *t = &types[(i + k) % NTYPES];
        if (oracle && t->type == (DH_EVTX_SID | DH_EVTX_ARRAY))
            t = &types[0];
        items[k].name = t->name;
        items[k].value = (dh_evtx_value){t->type, t->len, t->data};
    }
    r->items = items;
    r->nitems = n;
}

typedef struct readback {
    size_t n;
    int bad;
    int errors;
} readback;

static int eq(dh_str s, const char *t)
{
    return s.len == strlen(t) && !memcmp(s.ptr, t, s.len);
}

static dh_status check_event(void *wctx, const dh_event *ev, dh_buf *out)
{
    readback *rb = wctx;
    (void)out;
    size_t i = rb->n++;
    dh_evtx_record r;
    dh_evtx_item items[64];
    fill_record(&r, items, i);
    int ok = dh_event_record_id(ev) == i + 1 && dh_event_id(ev) == r.event_id &&
             dh_event_time(ev) == r.time && eq(dh_event_provider(ev), r.provider) &&
             eq(dh_event_channel(ev), r.channel) && eq(dh_event_host(ev), r.computer);
    size_t nd;
    const dh_kv *kv = dh_event_data(ev, &nd);
    size_t k = 0;
    for (size_t j = 0; j < r.nitems && ok; j++) {
        const typed *t = NULL;
        for (size_t m = 0; m < NTYPES; m++)
            if (!strcmp(types[m].name, r.items[j].name))
                t = &types[m];
        for (int e = 0; e < 4 && t->text[e] && ok; e++, k++)
            ok = k < nd && eq(kv[k].name, t->name) && eq(kv[k].value, t->text[e]);
    }
    if (!ok || k != nd) {
        if (rb->bad++ < 3) {
            fprintf(stderr, "record %zu read back differently:", i + 1);
            for (size_t j = 0; j < nd; j++)
                fprintf(stderr, " %.*s=%.*s", (int)kv[j].name.len, kv[j].name.ptr,
                        (int)kv[j].value.len, kv[j].value.ptr);
            fputc('\n', stderr);
        }
    }
    return DH_OK;
}

static dh_status no_emit(void *ctx, const char *b, size_t n)
{
    (void)ctx, (void)b, (void)n;
    return DH_OK;
}

static void count_error(void *ctx, const dh_error *e)
{
    readback *rb = ctx;
    fprintf(stderr, "scan: %s\n", e->message);
    rb->errors++;
}

static void *same_ctx(void *ctx)
{
    return ctx;
}

static char *temp_path(void)
{
    char *p = strdup("/tmp/dh_evtx_write_XXXXXX");
    int fd = mkstemp(p);
    assert_true(fd >= 0);
    close(fd);
    return p;
}

/* Decodes the file with the scanner; each event is checked by check_event. */
static dh_status read_back(const char *path, readback *rb)
{
    dh_scan_opts o;
    dh_scan_opts_init(&o);
    o.threads = 1;
    dh_scan_callbacks cb = {.ctx = rb,
                            .worker_new = same_ctx,
                            .on_event = check_event,
                            .emit = no_emit,
                            .on_error = count_error};
    dh_scan_stats stats;
    const char *paths[] = {path};
    dh_status st = dh_scan_run(paths, 1, &o, &cb, &stats);
    rb->errors += (int)stats.records_damaged + (int)stats.chunks_damaged;
    return st;
}

/* With DH_EVTX_KEEP=DIR the files written are kept there as NAME.evtx (the suite hands
 * them to libevtx's evtxexport: tests/integration/evtx_write_oracle.py); else removed. */
static void done_with(char *path, const char *name)
{
    const char *keep = getenv("DH_EVTX_KEEP");
    char dst[4096];
    if (keep && (size_t)snprintf(dst, sizeof dst, "%s/%s.evtx", keep, name) < sizeof dst) {
        assert_int_equal(rename(path, dst), 0);
    } else {
        unlink(path);
    }
    free(path);
}

static void test_every_type_every_channel(void **state)
{
    (void)state;
    char *path = temp_path();
    dh_evtx_writer *w;
    assert_int_equal(dh_evtx_writer_open(path, NULL, &w), DH_OK);
    for (size_t i = 0; i < NRECORDS; i++) {
        dh_evtx_record r;
        dh_evtx_item items[64];
        fill_record(&r, items, i);
        uint64_t id = 0;
        assert_int_equal(dh_evtx_writer_add(w, &r, &id), DH_OK);
        assert_int_equal(id, i + 1);
    }
    uint64_t chunks = dh_evtx_writer_chunks(w);
    assert_true(chunks >= 4);
    assert_int_equal(dh_evtx_writer_close(w), DH_OK);

    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(4096 + chunks * 65536);
    size_t len = fread(buf, 1, 4096 + chunks * 65536 + 1, f);
    fclose(f);
    assert_int_equal(len, 4096 + chunks * 65536);
    /* file header: signature, chunk numbers, next record id, version 3.1, CRC32 */
    assert_memory_equal(buf, "ElfFile\0", 8);
    assert_int_equal(rd64(buf + 16), chunks - 1);
    assert_int_equal(rd64(buf + 24), NRECORDS + 1);
    assert_int_equal(rd16(buf + 36), 1);
    assert_int_equal(rd16(buf + 38), 3);
    assert_int_equal(rd16(buf + 42), chunks);
    assert_int_equal(rd32(buf + 120), 0);
    assert_int_equal(rd32(buf + 124), (uint32_t)crc32(0, buf, 120));
    uint64_t expect_first = 1;
    for (uint64_t c = 0; c < chunks; c++) {
        const uint8_t *ch = buf + 4096 + c * 65536;
        assert_memory_equal(ch, "ElfChnk\0", 8);
        assert_int_equal(rd64(ch + 24), expect_first);
        uint32_t crc = (uint32_t)crc32(0, ch, 120);
        crc = (uint32_t)crc32(crc, ch + 128, 384);
        assert_int_equal(rd32(ch + 124), crc);
        uint32_t free_off = rd32(ch + 48);
        assert_int_equal(rd32(ch + 52), (uint32_t)crc32(0, ch + 512, free_off - 512));
        /* the string table's buckets hold names whose hash files them there */
        for (int b = 0; b < 64; b++) {
            uint32_t off = rd32(ch + 128 + 4 * b);
            while (off) {
                assert_true(off + 8 < 65536);
                assert_int_equal(rd16(ch + off + 4) % 64, b);
                off = rd32(ch + off);
            }
        }
        expect_first = rd64(ch + 32) + 1;
    }
    assert_int_equal(expect_first, NRECORDS + 1);
    free(buf);

    readback rb = {0, 0, 0};
    assert_int_equal(read_back(path, &rb), DH_OK);
    assert_int_equal(rb.n, NRECORDS);
    assert_int_equal(rb.bad, 0);
    assert_int_equal(rb.errors, 0);
    done_with(path, "every-type");
}

/* The dirty option: the header says dirty and lags a chunk behind; every record is still
 * read, and nothing is reported (the chunk count comes from the file size). */
static void test_dirty(void **state)
{
    (void)state;
    char *path = temp_path();
    dh_evtx_writer_opts o = {0, 1};
    dh_evtx_writer *w;
    assert_int_equal(dh_evtx_writer_open(path, &o, &w), DH_OK);
    for (size_t i = 0; i < NRECORDS; i++) {
        dh_evtx_record r;
        dh_evtx_item items[64];
        fill_record(&r, items, i);
        assert_int_equal(dh_evtx_writer_add(w, &r, NULL), DH_OK);
    }
    uint64_t chunks = dh_evtx_writer_chunks(w);
    assert_int_equal(dh_evtx_writer_close(w), DH_OK);
    uint8_t h[128];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(h, 1, sizeof h, f), sizeof h);
    fclose(f);
    assert_int_equal(rd32(h + 120), 1);
    assert_int_equal(rd16(h + 42), chunks - 1);
    assert_true(rd64(h + 24) < NRECORDS + 1);
    readback rb = {0, 0, 0};
    assert_int_equal(read_back(path, &rb), DH_OK);
    assert_int_equal(rb.n, NRECORDS);
    assert_int_equal(rb.bad, 0);
    done_with(path, "dirty");
}

/* What the writer refuses: a record too large for a chunk, values of the wrong size,
 * missing envelope; each leaves nothing behind, and the next record goes on. */
static void test_refusals(void **state)
{
    (void)state;
    dh_buf mem;
    dh_buf_init(&mem, 1u << 24);
    dh_evtx_writer *w;
    assert_int_equal(dh_evtx_writer_new_mem(&mem, NULL, &w), DH_OK);
    dh_evtx_record r;
    dh_evtx_item items[64];
    fill_record(&r, items, 0);
    char *big = malloc(70000);
    memset(big, 'A', 70000);
    dh_evtx_item bigitem = {"Big", {DH_EVTX_STRING, 40000, big}};
    dh_evtx_record rb = r;
    rb.items = &bigitem;
    rb.nitems = 1;
    assert_int_equal(dh_evtx_writer_add(w, &rb, NULL), DH_ERR_LIMIT);
    dh_evtx_item bad = {"Bad", {DH_EVTX_U32, 3, big}};
    rb.items = &bad;
    assert_int_equal(dh_evtx_writer_add(w, &rb, NULL), DH_ERR_ARG);
    dh_evtx_item binxml = {"X", {DH_EVTX_BINXML, 1, big}};
    rb.items = &binxml;
    assert_int_equal(dh_evtx_writer_add(w, &rb, NULL), DH_ERR_ARG);
    dh_evtx_item badsid = {"S", {DH_EVTX_SID, 9, sid_b}};
    rb.items = &badsid;
    assert_int_equal(dh_evtx_writer_add(w, &rb, NULL), DH_ERR_ARG);
    rb = r;
    rb.computer = NULL;
    assert_int_equal(dh_evtx_writer_add(w, &rb, NULL), DH_ERR_ARG);
    rb = r;
    rb.user_data = "Not a name";
    assert_int_equal(dh_evtx_writer_add(w, &rb, NULL), DH_ERR_ARG);
    rb = r;
    rb.provider_guid = "{not-a-guid}";
    assert_int_equal(dh_evtx_writer_add(w, &rb, NULL), DH_ERR_ARG);
    /* 60 KiB of values still fits one chunk; the next one goes to a new chunk */
    uint64_t id = 0;
    bigitem.value.len = 30000;
    rb = r;
    rb.items = &bigitem;
    rb.nitems = 1;
    assert_int_equal(dh_evtx_writer_add(w, &rb, &id), DH_OK);
    assert_int_equal(id, 1);
    assert_int_equal(dh_evtx_writer_add(w, &rb, &id), DH_OK);
    assert_int_equal(id, 2);
    assert_int_equal(dh_evtx_writer_chunks(w), 2);
    assert_int_equal(dh_evtx_writer_records(w), 2);
    assert_int_equal(dh_evtx_writer_close(w), DH_OK);
    assert_int_equal(mem.len, 4096 + 2 * 65536);
    free(big);
    dh_buf_free(&mem);
}

/* Text is typed only in its type's canonical form, so it reads back unchanged. */
static void test_value_parse(void **state)
{
    (void)state;
    uint8_t b[80];
    static const struct {
        uint8_t type;
        const char *text;
        int len; /* -1: not canonical */
    } cases[] = {
        {DH_EVTX_HEX64, "0x1ea3c6", 8},
        {DH_EVTX_HEX64, "0x0", 8},
        {DH_EVTX_HEX64, "0x00000000001ea3c6", -1},
        {DH_EVTX_HEX64, "0x1EA3C6", -1},
        {DH_EVTX_HEX32, "0x100000000", -1},
        {DH_EVTX_U32, "3572", 4},
        {DH_EVTX_U32, "03572", -1},
        {DH_EVTX_U32, "4294967296", -1},
        {DH_EVTX_U16, "65535", 2},
        {DH_EVTX_U16, "65536", -1},
        {DH_EVTX_I32, "-2147483648", 4},
        {DH_EVTX_I32, "2147483648", -1},
        {DH_EVTX_U64, "18446744073709551615", 8},
        {DH_EVTX_GUID, "{365ABB72-B17F-5CC8-0000-001082A51E00}", 16},
        {DH_EVTX_GUID, "{365abb72-b17f-5cc8-0000-001082a51e00}", -1},
        {DH_EVTX_SID, "S-1-5-18", 12},
        {DH_EVTX_SID, "S-1-5-21-1234567890-4090536211-2268859141-1000", 28},
        {DH_EVTX_SID, "S-1-5-", -1},
        {DH_EVTX_SID, "S-1-5-21-99999999999", -1},
        {DH_EVTX_BOOL, "true", 4},
        {DH_EVTX_BOOL, "True", -1},
        {DH_EVTX_FILETIME, "2019-04-30T20:35:11.8560890Z", 8},
        {DH_EVTX_FILETIME, "2019-04-30 20:35:11.856", -1},
        {DH_EVTX_SYSTEMTIME, "2021-03-09T13:05:59.123Z", 16},
        {DH_EVTX_BINARY, "004D5A", 3},
        {DH_EVTX_BINARY, "004d5a", -1},
        {DH_EVTX_F64, "-2.5", 8},
        {DH_EVTX_F64, "-2.50", -1},
        {DH_EVTX_F32, "1e300", -1}, /* beyond float: refused before any conversion */
        {DH_EVTX_F32, "-1e39", -1},
        {DH_EVTX_STRING, "anything at all", 15},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int len =
            dh_evtx_value_parse(cases[i].type, cases[i].text, strlen(cases[i].text), b, sizeof b);
        int want = cases[i].len;
        if (len != want)
            fprintf(stderr, "value_parse(0x%02x, \"%s\") = %d, want %d\n", cases[i].type,
                    cases[i].text, len, want);
        assert_int_equal(len, want);
    }
    assert_memory_equal(b, "anything at all", 15);
}

/* An event given as text (what dump --to evtx and simulate write) comes back as that text:
 * typed where the schema says and the text is canonical, a string where it is not. */
static void test_record_from_text(void **state)
{
    (void)state;
    dh_kv kv[] = {
        {{"ProcessId", 9}, {"3572", 4}},
        {{"LogonId", 7}, {"0x1ea3c6", 8}},
        {{"ProcessGuid", 11}, {"{365abb72-b17f-5cc8-0000-001082a51e00}", 38}},
        {{"Initiated", 9}, {"false", 5}},
        {{"Tag", 3}, {"a", 1}},
        {{"Tag", 3}, {"b", 1}},
    };
    dh_evtx_text_event e = {{"Microsoft-Windows-Sysmon", 24},
                            {"Microsoft-Windows-Sysmon/Operational", 36},
                            {"IEWIN7", 6},
                            1,
                            9832,
                            132011337118560890LL,
                            kv,
                            6,
                            1964,
                            1664,
                            "S-1-5-18",
                            NULL};
    dh_evtx_record r;
    dh_evtx_item items[16];
    dh_buf scratch;
    dh_buf_init(&scratch, 1 << 20);
    assert_int_equal(dh_evtx_record_from_text(&e, &r, items, 16, &scratch), DH_OK);
    assert_int_equal(r.nitems, 5);
    assert_int_equal(items[0].value.type, DH_EVTX_U32);
    assert_int_equal(items[1].value.type, DH_EVTX_HEX64);
    assert_int_equal(items[2].value.type, DH_EVTX_STRING); /* lower case: not canonical */
    assert_int_equal(items[4].value.type, DH_EVTX_STRING | DH_EVTX_ARRAY);
    assert_string_equal(r.provider_guid, "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}");
    assert_int_equal(r.task, 1);
    assert_int_equal(r.version, 5);
    assert_int_equal(r.record_id, 9832);
    dh_buf_free(&scratch);
    assert_int_equal(dh_evtx_record_from_text(&e, &r, items, 2, &scratch), DH_ERR_LIMIT);
    dh_buf_free(&scratch);
}

/* No record ends exactly at the chunk's end: libevtx skips such a last record (its chunk's
 * free-space offset equals the chunk size). Every string length around the boundary is
 * tried; the chunk holding the record must keep 8 bytes free, else the record moves on. */
static void test_chunk_end(void **state)
{
    (void)state;
    char *big = malloc(70000);
    memset(big, 'x', 70000);
    int straddled = 0;
    for (uint32_t len = 31000; len < 32800; len++) {
        dh_buf mem;
        dh_buf_init(&mem, 1u << 24);
        dh_evtx_writer *w;
        assert_int_equal(dh_evtx_writer_new_mem(&mem, NULL, &w), DH_OK);
        dh_evtx_record r;
        dh_evtx_item items[64];
        fill_record(&r, items, 3);
        assert_int_equal(dh_evtx_writer_add(w, &r, NULL), DH_OK);
        dh_evtx_item bi = {"Big", {DH_EVTX_STRING, len, big}};
        r.items = &bi;
        r.nitems = 1;
        dh_status st = dh_evtx_writer_add(w, &r, NULL);
        assert_true(st == DH_OK || st == DH_ERR_LIMIT); /* the longest fit in no chunk */
        straddled += st == DH_OK && dh_evtx_writer_chunks(w) == 2;
        assert_int_equal(dh_evtx_writer_close(w), DH_OK);
        const uint8_t *c = (const uint8_t *)mem.data + 4096;
        assert_true(rd32(c + 48) <= 65536 - 8);
        dh_buf_free(&mem);
    }
    assert_true(straddled > 0); /* the range did reach the boundary */
    free(big);
}

/* Every element of an array is a data item when read back, so the limit on items counts
 * elements: an array of more elements than that is refused (it was written, and the
 * decoder then refused the whole record for its 10,000 items), one of 1024 elements is
 * written and reads back as 1024 items, and a record of several arrays counts them all. */
static size_t items_read;
static dh_status count_items(void *ctx, const dh_event *ev)
{
    (void)ctx;
    size_t n;
    dh_event_data(ev, &n);
    items_read = n;
    return DH_OK;
}

static void test_array_items(void **state)
{
    (void)state;
    static uint8_t bytes[10000];
    char *strings = malloc(3000);
    for (size_t i = 0; i < 3000; i += 2)
        strings[i] = 'a', strings[i + 1] = 0;
    dh_buf mem;
    dh_buf_init(&mem, 1u << 24);
    dh_evtx_writer *w;
    assert_int_equal(dh_evtx_writer_new_mem(&mem, NULL, &w), DH_OK);
    dh_evtx_record r;
    dh_evtx_item items[64];
    fill_record(&r, items, 0);
    dh_evtx_item arr = {"Bytes", {DH_EVTX_I8 | DH_EVTX_ARRAY, 10000, bytes}};
    r.items = &arr;
    r.nitems = 1;
    assert_int_equal(dh_evtx_writer_add(w, &r, NULL), DH_ERR_LIMIT);
    arr.value.len = 1025;
    assert_int_equal(dh_evtx_writer_add(w, &r, NULL), DH_ERR_LIMIT);
    dh_evtx_item two[2] = {{"Words", {DH_EVTX_U16 | DH_EVTX_ARRAY, 1200, bytes}},
                           {"Strings", {DH_EVTX_STRING | DH_EVTX_ARRAY, 3000, strings}}};
    r.items = two; /* 600 + 1500 elements */
    r.nitems = 2;
    assert_int_equal(dh_evtx_writer_add(w, &r, NULL), DH_ERR_LIMIT);
    two[1].value.len = 848; /* 600 + 424 elements: exactly the limit */
    assert_int_equal(dh_evtx_writer_add(w, &r, NULL), DH_OK);
    r.items = &arr;
    r.nitems = 1;
    arr.value.len = 1024;
    assert_int_equal(dh_evtx_writer_add(w, &r, NULL), DH_OK);
    assert_int_equal(dh_evtx_writer_close(w), DH_OK);
    assert_int_equal(mem.len, 4096 + 65536);
    evtx_decoder *d = evtx_decoder_new(0);
    assert_non_null(d);
    evtx_chunk_result res;
    items_read = 0;
    evtx_decode_chunk(d, (const uint8_t *)mem.data + 4096, 65536, "mem.evtx", 0, 4096, count_items,
                      NULL, NULL, &res);
    assert_int_equal(res.records_bad, 0);
    assert_int_equal(res.damaged, 0);
    assert_int_equal(items_read, 1024); /* the last record's */
    evtx_decoder_free(d);
    dh_buf_free(&mem);
    free(strings);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type_every_channel),
        cmocka_unit_test(test_dirty),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_value_parse),
        cmocka_unit_test(test_record_from_text),
        cmocka_unit_test(test_chunk_end),
        cmocka_unit_test(test_array_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
