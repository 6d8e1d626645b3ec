/* libFuzzer target for the JSON readers (NXLog Windows events, Defender rows, Event Hubs
 * batches, evtx_dump and dump JSON, Winlogbeat, Zeek): every line of the input is decoded
 * and normalized, and every event written as an ECS document (dump --to ecs meets whatever
 * the readers let through); then the input is read as a JSON array (and as pretty-printed
 * objects, the same cutting), cut into batches the way the scanner cuts a stream. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "input/json/jsonl.h"
#include "output/json.h"

static dh_status on_event(void *ctx, const dh_event *ev)
{
    static dh_buf ecs;
    if (!ecs.limit)
        dh_buf_init(&ecs, 1u << 22);
    size_t n;
    dh_event_data(ev, &n);
    *(size_t *)ctx += n;
    ecs.len = 0;
    dh_json_event_ecs(&ecs, ev);
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
    /* What the scanner asks of a JSON input's first object (is it an event at all?). */
    for (int how = JSONL_LINES; how <= JSONL_DOC; how++)
        jsonl_first_is_event((const char *)data, size, how);
    const char *p = (const char *)data;
    size_t left = size, off = 0;
    while (left) {
        size_t n = jsonl_array_cut(p, left, off == 0);
        if (n == 0 || n > left)
            n = left; /* as the scanner does at the end of the input */
        jsonl_decode_array(r, p, n, off == 0, "fuzz", 1, off, on_event, &items, NULL, NULL, &events,
                           &bad);
        p += n;
        left -= n;
        off += n;
    }
    return 0;
}
