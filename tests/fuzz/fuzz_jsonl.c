/* libFuzzer target for the JSON-lines reader (NXLog Windows events, Defender rows, Event
 * Hubs batches): every line of the input is decoded and normalized. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "input/json/jsonl.h"

static dh_status on_event(void *ctx, const dh_event *ev)
{
    size_t n;
    dh_event_data(ev, &n);
    *(size_t *)ctx += n;
    return DH_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static jsonl_reader *r;
    if (!r)
        r = jsonl_reader_new();
    if (!r)
        return 0;
    size_t items = 0;
    uint64_t events = 0, bad = 0;
    jsonl_decode(r, (const char *)data, size, "fuzz", 1, 0, on_event, &items, NULL, NULL, &events,
                 &bad);
    return 0;
}
