/* libFuzzer target for the Zeek TSV reader: the header folded from the input, and the
 * input decoded with and without it (as a first batch and as a later one). */
#include <stdint.h>
#include <stdlib.h>

#include "input/zeek/zeek.h"

static dh_status on_event(void *ctx, const dh_event *ev)
{
    size_t n;
    dh_event_data(ev, &n);
    *(size_t *)ctx += n;
    return DH_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static zeek_reader *r;
    if (!r)
        r = zeek_reader_new();
    if (!r)
        return 0;
    const char *s = (const char *)data;
    size_t items = 0;
    uint64_t events = 0, bad = 0;
    zeek_decode(r, NULL, 0, s, size, "fuzz", 1, 0, on_event, &items, NULL, NULL, &events, &bad);
    dh_buf hdr;
    dh_buf_init(&hdr, 1u << 20);
    if (!zeek_header_update(&hdr, s, size))
        zeek_decode(r, hdr.data, hdr.len, s, size, "fuzz", 1, 0, on_event, &items, NULL, NULL,
                    &events, &bad);
    dh_buf_free(&hdr);
    return 0;
}
