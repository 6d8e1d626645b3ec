/* The engine's error record: the first failure of a run, kept for dh_engine_error. Its own
 * file because both sides of the engine fail (the workers in worker.c, the calling thread
 * in engine.c), and neither should depend on the other for it. */
#include <stdio.h>
#include <string.h>

#include "engine/engine_impl.h"

void dh_engine_fail(dh_engine *e, dh_status st, const dh_event *ev, const char *message)
{
    pthread_mutex_lock(&e->mu);
    if (e->err.status == DH_OK) {
        memset(&e->err, 0, sizeof e->err);
        e->err.status = st;
        e->err.chunk = -1;
        snprintf(e->err.message, sizeof e->err.message, "%s: %s", message, dh_status_str(st));
        if (ev) {
            dh_str f = dh_event_file_str(ev);
            snprintf(e->err.file, sizeof e->err.file, "%.*s", (int)f.len, f.ptr ? f.ptr : "");
            e->err.chunk = dh_event_chunk(ev);
            e->err.offset = dh_event_offset(ev);
            e->err.record_id = dh_event_record_id(ev);
        }
    }
    pthread_mutex_unlock(&e->mu);
}
