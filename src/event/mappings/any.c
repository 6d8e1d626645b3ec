/* Which mapping serves an event read back from a format that can carry any source (event
 * XML, dcomhunt dump's JSON): Zeek's records (provider "Zeek"), Elastic Endpoint documents,
 * and the Windows table (Windows providers and Defender's tables) for the rest. So an event
 * written by dump --to and read again gets the kind and fields it had. */
#include <string.h>

#include "event/event_impl.h"
#include "event/mappings/mappings.h"

const char *dh_map_any_apply(dh_event *ev)
{
    dh_str p = ev->provider, c = ev->channel;
    /* The envelope the record says is its own: the mappings must not move it. */
    dh_str host = ev->host;
    uint64_t record_id = ev->record_id;
    int64_t time = ev->time;
    const char *why = NULL;
    if (p.len == 4 && !memcmp(p.ptr, "Zeek", 4)) {
        dh_str path = c.len > 5 ? (dh_str){c.ptr + 5, c.len - 5} : (dh_str){"", 0};
        why = dh_map_zeek_apply(ev, path);
        if (why == dh_map_zeek_not_used)
            why = NULL;
    } else if (p.len == 16 && !memcmp(p.ptr, "Elastic Endpoint", 16)) {
        why = dh_map_elastic_apply(ev);
    } else {
        dh_map_windows_apply(ev);
    }
    ev->provider = p;
    ev->channel = c;
    ev->host = host;
    ev->record_id = record_id;
    ev->time = time;
    return why;
}
