/* A finding's evidence records: the cap and the order (evidence.h). */
#include "findings/evidence.h"

#include <stdlib.h>
#include <string.h>

/* A role's weight in what a finding lists past its cap: what says what happened first. */
static int role_rank(const char *r)
{
    static const char *const minor[] = {"child", "session", "load", "file",
                                        "wire",  "service", "task", "detection"};
    for (size_t i = 0; i < sizeof minor / sizeof minor[0]; i++)
        if (!strcmp(r, minor[i]))
            return 1;
    return 0;
}

static int evidence_cmp(const void *pa, const void *pb)
{
    const dh_evidence *a = pa, *b = pb;
    int64_t ta = dh_event_time(a->ev), tb = dh_event_time(b->ev);
    if (ta != tb)
        return ta < tb ? -1 : 1;
    uint64_t ra = dh_event_record_id(a->ev), rb = dh_event_record_id(b->ev);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    return strcmp(a->role, b->role);
}

static int evidence_rank_cmp(const void *pa, const void *pb)
{
    const dh_evidence *a = pa, *b = pb;
    int x = role_rank(a->role), y = role_rank(b->role);
    if (x != y)
        return x - y;
    return evidence_cmp(pa, pb);
}

size_t dh_evidence_keep(dh_evidence *ev, size_t *n, size_t max)
{
    size_t dropped = 0;
    if (*n > max) {
        qsort(ev, *n, sizeof *ev, evidence_rank_cmp);
        dropped = *n - max;
        *n = max;
    }
    if (*n > 1)
        qsort(ev, *n, sizeof *ev, evidence_cmp);
    return dropped;
}
