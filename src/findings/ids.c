/* Finding ids (ids.h): FNV-1a 64 over the values that name a finding, as 16 hex digits. The
 * byte order of the numbers hashed is the one the ids were first made with (a record's id,
 * time and event id as they lie in memory; a correlation's first time byte by byte, low
 * byte first): changing it would move every id users keep. */
#include "findings/ids.h"

#include <stdio.h>
#include <string.h>

#define FNV0      1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t hash(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * FNV_PRIME;
    return h;
}

/* ASCII letters folded to lower case: one host or channel however a log spells it. */
static uint64_t hash_ci(dh_str s, uint64_t h)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];
        h = (h ^ (ch >= 'A' && ch <= 'Z' ? ch + 32u : ch)) * FNV_PRIME;
    }
    return h;
}

static void hex(char out[DH_ID_SIZE], uint64_t h)
{
    snprintf(out, DH_ID_SIZE, "%016llx", (unsigned long long)h);
}

dh_id_anchor dh_id_anchor_of(const dh_event *ev)
{
    return (dh_id_anchor){dh_event_host(ev), dh_event_channel(ev), dh_event_record_id(ev),
                          dh_event_time(ev), dh_event_id(ev)};
}

void dh_id_finding(char out[DH_ID_SIZE], const char *kind, const dh_id_anchor *a)
{
    uint64_t h = hash(kind, strlen(kind), FNV0);
    if (a) {
        h = hash_ci(a->host, h);
        h = hash_ci(a->channel, h);
        h = hash(&a->record_id, sizeof a->record_id, h);
        h = hash(&a->time, sizeof a->time, h);
        h = hash(&a->event_id, sizeof a->event_id, h);
    }
    hex(out, h);
}

void dh_id_correlation(char out[DH_ID_SIZE], const char *ref, const char *group, int64_t first)
{
    uint64_t h = hash("correlation", 11, FNV0);
    h = hash(ref, strlen(ref) + 1, h); /* with the NUL: ref and group do not run together */
    h = hash(group, strlen(group) + 1, h);
    for (size_t i = 0; i < 8; i++) {
        unsigned char b = (unsigned char)((uint64_t)first >> (8 * i));
        h = hash(&b, 1, h);
    }
    hex(out, h);
}
