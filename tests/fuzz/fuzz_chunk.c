/* libFuzzer target for the EVTX chunk decoder: the input is one chunk (padded with zeros
 * or cut to 64 KiB). Each input is decoded twice on one decoder, first for events only and
 * then with XML rendering, because the two walks take different paths (template plans vs.
 * the full walk) and the template cache must survive a chunk it was partly built from.
 * Every event is read back field by field so that a bad pointer in the event surfaces
 * here rather than in a sink. Must never print, abort or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "input/evtx/evtx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every byte of a borrowed string so ASan sees out-of-bounds views. */
static unsigned touch(dh_str s)
{
    unsigned h = 0;
    for (size_t i = 0; i < s.len; i++)
        h = h * 31 + (unsigned char)s.ptr[i];
    return h;
}

static dh_status on_event(void *ctx, const dh_event *ev)
{
    unsigned *h = ctx;
    *h += touch(dh_event_host(ev)) + touch(dh_event_channel(ev)) + touch(dh_event_provider(ev)) +
          touch(dh_event_xml(ev));
    *h += dh_event_id(ev) + (unsigned)dh_event_record_id(ev) + (unsigned)dh_event_time(ev);
    size_t n = 0;
    const dh_kv *kv = dh_event_data(ev, &n);
    for (size_t i = 0; i < n; i++)
        *h += touch(kv[i].name) + touch(kv[i].value);
    for (int f = 0; f < DH_FIELD_COUNT; f++) {
        dh_str v;
        if (dh_event_field(ev, (dh_field)f, &v))
            *h += touch(v);
    }
    return DH_OK;
}

static void on_error(void *ctx, dh_status st, int64_t chunk, uint64_t offset, uint64_t record_id,
                     const char *msg)
{
    unsigned *h = ctx;
    (void)st;
    (void)chunk;
    (void)record_id;
    /* The message is static text: it must be a readable C string. */
    *h += (unsigned)offset + (unsigned)strlen(msg);
}

static uint8_t chunk[EVTX_CHUNK_SIZE];

static void decode(evtx_decoder *d, size_t len, unsigned *h)
{
    evtx_error_fn err = {on_error, h};
    evtx_chunk_result res;
    evtx_decode_chunk(d, chunk, len, "fuzz.evtx", 0, 4096, on_event, h, &err, &res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = size < EVTX_CHUNK_SIZE ? size : EVTX_CHUNK_SIZE;
    memcpy(chunk, data, n);
    memset(chunk + n, 0, EVTX_CHUNK_SIZE - n);
    unsigned h = 0;

    evtx_decoder *d = evtx_decoder_new(0);
    if (!d)
        return 0;
    /* The file reader hands a short last chunk over as it is; a full one padded too. */
    decode(d, n, &h);
    decode(d, EVTX_CHUNK_SIZE, &h);
    d->want_xml = 1; /* same decoder, warm template cache, now the XML walk */
    decode(d, EVTX_CHUNK_SIZE, &h);
    d->want_xml = 0;
    d->full_walk = 1;
    decode(d, n, &h);
    evtx_decoder_free(d);
    /* Keep h alive so the touches are not optimised away. */
    volatile unsigned sink = h;
    (void)sink;
    return 0;
}
