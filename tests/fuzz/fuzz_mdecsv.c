/* libFuzzer target for the Defender CSV reader: the input's first record is the header,
 * the rest the batch (cut as the producer cuts it, then decoded whole). */
#include <stdint.h>
#include <stdlib.h>

#include "input/csv/mdecsv.h"

static dh_status on_event(void *ctx, const dh_event *ev)
{
    size_t n;
    dh_event_data(ev, &n);
    *(size_t *)ctx += n;
    return DH_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mdecsv_reader *r;
    if (!r)
        r = mdecsv_reader_new();
    if (!r)
        return 0;
    const char *s = (const char *)data;
    size_t h = mdecsv_first(s, size);
    size_t items = 0;
    uint64_t events = 0, bad = 0;
    mdecsv_cut(s + h, size - h);
    mdecsv_decode(r, s, h, s + h, size - h, "fuzz", 2, h, on_event, &items, NULL, NULL, &events,
                  &bad);
    return 0;
}
