/* libFuzzer target for the EVTX writer, checked through the decoder: the input is read as
 * a list of events (channel, host, event id, items of any value type and length, arrays,
 * UserData), the events are written to memory, the file is decoded chunk by chunk, and
 * every event the writer accepted must come back, in order, with its envelope and each
 * value rendered from the bytes the writer was given. A difference aborts (that is the
 * finding); the writer refusing an event (too large, malformed value) is allowed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf16.h"
#include "input/evtx/evtx.h"
#include "output/evtx_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENTS 64
#define MAX_ITEMS  24

typedef struct cursor {
    const uint8_t *p;
    size_t n;
} cursor;

static unsigned take(cursor *c)
{
    if (!c->n)
        return 0;
    c->n--;
    return *c->p++;
}

static const struct {
    const char *provider, *guid, *source, *channel, *user_data;
} chans[] = {
    {"Microsoft-Windows-Security-Auditing", "{54849625-5478-4994-A5BA-3E3B0328C30D}", NULL,
     "Security", NULL},
    {"Microsoft-Windows-DistributedCOM", "{1B562E86-B7AA-4131-BADC-B6F3A001407E}", "DCOM", "System",
     NULL},
    {"Microsoft-Windows-Sysmon", "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}", NULL,
     "Microsoft-Windows-Sysmon/Operational", NULL},
    {"Microsoft-Windows-PowerShell", NULL, NULL, "Microsoft-Windows-PowerShell/Operational", NULL},
    {"Microsoft-Windows-Eventlog", "{FC65DDD8-D6EF-4962-83D5-6E5CFE9CE148}", NULL, "Security",
     "LogFileCleared"},
};
static const char *const hosts[] = {"WS01", "SRV-FILES02.corp.example", "", "h\xc3\xa9te"};
static const char *const names[] = {"Image", "CommandLine", "LogonId", "param1", "Data_2", "x"};
static const uint8_t kinds[] = {DH_EVTX_NULL,
                                DH_EVTX_STRING,
                                DH_EVTX_ANSI,
                                DH_EVTX_I8,
                                DH_EVTX_U8,
                                DH_EVTX_I16,
                                DH_EVTX_U16,
                                DH_EVTX_I32,
                                DH_EVTX_U32,
                                DH_EVTX_I64,
                                DH_EVTX_U64,
                                DH_EVTX_F32,
                                DH_EVTX_F64,
                                DH_EVTX_BOOL,
                                DH_EVTX_BINARY,
                                DH_EVTX_GUID,
                                DH_EVTX_SIZET,
                                DH_EVTX_FILETIME,
                                DH_EVTX_SYSTEMTIME,
                                DH_EVTX_SID,
                                DH_EVTX_HEX32,
                                DH_EVTX_HEX64,
                                0x81,
                                0x82,
                                0x86,
                                0x88,
                                0x8f,
                                0x93,
                                0x95,
                                0x30 /* invalid */};

typedef struct event {
    dh_evtx_record r;
    dh_evtx_item items[MAX_ITEMS];
    uint64_t id;
    int accepted;
} event;

static event events[MAX_EVENTS];
static size_t nevents, next_seen;
static uint8_t tmp[65536 * 2];

/* A difference between what was written and what was read: say which, then abort. */
static void fail(const char *why, size_t which, size_t item)
{
    fprintf(stderr, "fuzz_evtx_write: event %zu item %zu: %s\n", which, item, why);
    abort();
}

static dh_str S(const char *s)
{
    return (dh_str){s, strlen(s)};
}

static int same(dh_str a, dh_str b)
{
    return a.len == b.len && (a.len == 0 || !memcmp(a.ptr, b.ptr, a.len));
}

/* The texts the decoder must give for value v: one per array element. */
static void expect_value(const dh_evtx_value *v, dh_buf *texts, size_t *offs, size_t *count)
{
    const uint8_t *p = v->data;
    size_t len = v->len;
    uint8_t base = v->type & 0x7f;
    *count = 0;
    if (base == DH_EVTX_STRING) {
        /* the writer stores UTF-16; build the same bytes */
        size_t o = 0;
        if (!(v->type & 0x80)) {
            o = dh_utf8_to_utf16le(tmp, sizeof tmp, (const char *)p, len);
        } else {
            size_t i = 0;
            while (i < len) {
                const uint8_t *z = memchr(p + i, 0, len - i);
                size_t e = z ? (size_t)(z - p) : len;
                o += dh_utf8_to_utf16le(tmp + o, sizeof tmp - o, (const char *)p + i, e - i);
                tmp[o++] = 0;
                tmp[o++] = 0;
                i = e + 1;
            }
        }
        p = tmp;
        len = o;
    }
    if (!(v->type & 0x80)) {
        offs[(*count)++] = texts->len;
        evtx_value_text(texts, v->type, p, len);
        offs[*count] = texts->len;
        return;
    }
    size_t n = evtx_array_count(v->type, p, len);
    for (size_t i = 0; i < n && *count < EVTX_MAX_ITEMS; i++) {
        const uint8_t *ip;
        size_t il;
        if (!evtx_array_item(v->type, p, len, i, &ip, &il))
            break;
        offs[(*count)++] = texts->len;
        evtx_value_text(texts, base, ip, il);
    }
    offs[*count] = texts->len;
}

static dh_status on_event(void *ctx, const dh_event *ev)
{
    (void)ctx;
    while (next_seen < nevents && !events[next_seen].accepted)
        next_seen++;
    if (next_seen >= nevents)
        fail("read back an event nobody wrote", next_seen, 0);
    const event *e = &events[next_seen++];
    const dh_evtx_record *r = &e->r;
    if (dh_event_record_id(ev) != e->id || dh_event_id(ev) != r->event_id ||
        dh_event_time(ev) != r->time || !same(dh_event_provider(ev), S(r->provider)) ||
        !same(dh_event_channel(ev), S(r->channel)) || !same(dh_event_host(ev), S(r->computer)))
        fail("envelope differs", next_seen - 1, 0);
    size_t nd;
    const dh_kv *kv = dh_event_data(ev, &nd);
    size_t k = 0;
    dh_buf texts;
    dh_buf_init(&texts, 1 << 22);
    for (size_t i = 0; i < r->nitems; i++) {
        static size_t offs[EVTX_MAX_ITEMS + 1];
        size_t count;
        texts.len = 0;
        expect_value(&r->items[i].value, &texts, offs, &count);
        if (count == 0) /* an empty array still makes one empty item */
            offs[count++] = 0, offs[1] = 0;
        for (size_t j = 0; j < count; j++, k++) {
            dh_str want = {texts.data ? texts.data + offs[j] : "", offs[j + 1] - offs[j]};
            if (k >= nd || !same(kv[k].name, S(r->items[i].name)) || !same(kv[k].value, want)) {
                if (k < nd)
                    fprintf(stderr, "type 0x%02x len %u: read \"%.*s\" want \"%.*s\"\n",
                            r->items[i].value.type, r->items[i].value.len, (int)kv[k].value.len,
                            kv[k].value.ptr, (int)want.len, want.ptr);
                fail("value differs", next_seen - 1, i);
            }
        }
    }
    dh_buf_free(&texts);
    if (k != nd)
        fail("more items read than written", next_seen - 1, k);
    return DH_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t store[MAX_EVENTS][MAX_ITEMS][300];
    cursor c = {data, size};
    dh_buf mem;
    dh_buf_init(&mem, 64u << 20);
    dh_evtx_writer_opts o = {0, 0};
    o.dirty = size % 2;
    dh_evtx_writer *w;
    if (dh_evtx_writer_new_mem(&mem, &o, &w))
        return 0;
    nevents = next_seen = 0;
    while (c.n && nevents < MAX_EVENTS) {
        event *e = &events[nevents];
        memset(e, 0, sizeof *e);
        unsigned ch = take(&c) % (sizeof chans / sizeof chans[0]);
        e->r.provider = chans[ch].provider;
        e->r.provider_guid = chans[ch].guid;
        e->r.event_source = chans[ch].source;
        e->r.channel = chans[ch].channel;
        e->r.user_data = chans[ch].user_data;
        e->r.computer = hosts[take(&c) % 4];
        e->r.event_id = (uint16_t)(take(&c) | (take(&c) << 8));
        e->r.qualifiers = e->r.event_source ? 0 : -1;
        e->r.time = (int64_t)take(&c) << 40;
        e->r.user_sid = take(&c) & 1 ? "S-1-5-21-1-2-3-500" : NULL;
        e->r.record_id = take(&c) == 0xff ? 1000 + nevents * 3 : 0;
        size_t n = take(&c) % MAX_ITEMS;
        for (size_t i = 0; i < n; i++) {
            dh_evtx_item *it = &e->items[i];
            it->name = names[take(&c) % (sizeof names / sizeof names[0])];
            uint8_t t = kinds[take(&c) % sizeof kinds];
            size_t len = take(&c);
            if (len > c.n)
                len = c.n;
            memcpy(store[nevents][i], c.p, len);
            c.p += len;
            c.n -= len;
            it->value = (dh_evtx_value){t, (uint32_t)len, store[nevents][i]};
            if (take(&c) == 0x7f)
                it->value.len = 40000; /* too large for a chunk */
            if (it->value.len > sizeof store[0][0] && it->value.type != DH_EVTX_NULL) {
                static uint8_t big[40000];
                it->value.data = big;
            }
        }
        e->r.items = e->items;
        e->r.nitems = n;
        e->accepted = dh_evtx_writer_add(w, &e->r, &e->id) == DH_OK;
        nevents++;
    }
    dh_status st = dh_evtx_writer_close(w);
    if (st)
        fail("the writer could not finish the file", nevents, 0);
    evtx_decoder *d = evtx_decoder_new(0);
    for (size_t off = EVTX_FILE_HEADER_SIZE; d && off + EVTX_CHUNK_SIZE <= mem.len;
         off += EVTX_CHUNK_SIZE) {
        evtx_chunk_result res;
        evtx_decode_chunk(d, (const uint8_t *)mem.data + off, EVTX_CHUNK_SIZE, "fuzz.evtx", 0, off,
                          on_event, NULL, NULL, &res);
        if (res.damaged || res.records_bad)
            fail("a chunk written does not decode", next_seen, 0);
    }
    evtx_decoder_free(d);
    while (next_seen < nevents && !events[next_seen].accepted)
        next_seen++;
    if (d && next_seen != nevents)
        fail("an event written was not read back", next_seen, 0);
    dh_buf_free(&mem);
    return 0;
}
