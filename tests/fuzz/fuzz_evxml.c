/* libFuzzer target for the Windows event XML reader. */
#include <stdint.h>
#include <stdlib.h>

#include "input/xml/evxml.h"

static dh_status on_event(void *ctx, const dh_event *ev)
{
    size_t n;
    dh_event_data(ev, &n);
    *(size_t *)ctx += n;
    return DH_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static evxml_reader *r;
    if (!r)
        r = evxml_reader_new();
    if (!r)
        return 0;
    size_t items = 0;
    uint64_t events = 0, bad = 0;
    evxml_cut((const char *)data, size);
    evxml_decode(r, (const char *)data, size, "fuzz", 0, on_event, &items, NULL, NULL, &events,
                 &bad);
    return 0;
}
