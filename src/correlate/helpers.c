/* The correlator's small helpers (corr.h): field access, comparisons, hashing, the wire
 * record tests, shared by every module of src/correlate/ (finding ids are
 * findings/ids.c's). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "correlate/corr.h"

dh_str corr_field(const dh_event *ev, dh_field id)
{
    dh_str s = {"", 0};
    dh_event_field(ev, id, &s);
    /* an IPv4 address written as IPv6 (Security 4624's "::ffff:10.0.0.5") is that address:
     * Sysmon and Defender write it plain */
    if ((id == DH_FIELD_SOURCE_IP || id == DH_FIELD_DESTINATION_IP) && s.len > 7 &&
        !strncasecmp(s.ptr, "::ffff:", 7) && memchr(s.ptr + 7, '.', s.len - 7)) {
        s.ptr += 7;
        s.len -= 7;
    }
    return s;
}

int corr_ieq(dh_str a, dh_str b)
{
    return a.len == b.len && (a.len == 0 || strncasecmp(a.ptr, b.ptr, a.len) == 0);
}

/* Only positions whose first byte matches either case of the needle's first letter are
 * compared: calling strncasecmp at every position of a script block was 15% of the
 * instructions of `hunt -j1 --jsonl` on the corpus OTRF capture (cachegrind, 2026-12-07).
 * Those positions are found with memchr, one pointer per case kept ahead of the scan:
 * testing every byte was still 27% of the calling thread's instructions on a Winlogbeat
 * capture and a third of the correlator's serial time on a Defender one (callgrind,
 * 2026-12-07), as each command line is searched for nine hints (source.c). The positions
 * tried, in the same order, and the comparison are those of the byte loop. */
int corr_contains(dh_str h, const char *n)
{
    size_t nl = strlen(n);
    if (!nl)
        return 1;
    if (h.len < nl)
        return 0;
    unsigned char c = (unsigned char)n[0];
    unsigned char lo = c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
    unsigned char up = c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
    const char *last = h.ptr + (h.len - nl); /* the last position a match can start at */
    size_t span = h.len - nl + 1;
    const char *at_lo = memchr(h.ptr, lo, span);
    const char *at_up = up != lo ? memchr(h.ptr, up, span) : NULL;
    while (at_lo || at_up) {
        const char *at = !at_up || (at_lo && at_lo < at_up) ? at_lo : at_up;
        if (strncasecmp(at + 1, n + 1, nl - 1) == 0)
            return 1;
        size_t left = (size_t)(last - at);
        if (at == at_lo)
            at_lo = left ? memchr(at + 1, lo, left) : NULL;
        else
            at_up = left ? memchr(at + 1, up, left) : NULL;
    }
    return 0;
}

int corr_num(dh_str s, uint64_t *v)
{
    while (s.len && s.ptr[0] == ' ') {
        s.ptr++;
        s.len--;
    }
    if (!s.len)
        return 0;
    uint64_t r = 0;
    size_t i = 0;
    int hex = s.len > 2 && s.ptr[0] == '0' && (s.ptr[1] == 'x' || s.ptr[1] == 'X');
    if (hex)
        i = 2;
    if (i == s.len || s.len - i > (hex ? 16u : 20u))
        return 0;
    for (; i < s.len; i++) {
        char ch = s.ptr[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (hex && ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else if (hex && ch >= 'A' && ch <= 'F')
            d = (unsigned)(ch - 'A' + 10);
        else
            return 0;
        r = r * (hex ? 16 : 10) + d;
    }
    *v = r;
    return 1;
}

int corr_find(dh_str h, dh_str n)
{
    for (size_t i = 0; n.len && i + n.len <= h.len; i++)
        if (strncasecmp(h.ptr + i, n.ptr, n.len) == 0)
            return 1;
    return 0;
}

int corr_loopback(dh_str ip)
{
    return (ip.len >= 4 && !strncmp(ip.ptr, "127.", 4)) ||
           (ip.len == 3 && !strncmp(ip.ptr, "::1", 3)) || (ip.len == 1 && ip.ptr[0] == '-') ||
           ip.len == 0 ||
           (ip.len >= 7 && !strncasecmp(ip.ptr, "::ffff:127.", 11 < ip.len ? 11 : ip.len));
}

int corr_true(dh_str s)
{
    return s.len == 4 && !strncasecmp(s.ptr, "true", 4);
}

/* A host's name without its domain: Sysmon says WORKSTATION6.theshire.local where another
 * log of the same machine says WORKSTATION6; FQDN and bare name are one host. */
dh_str corr_bare_host(dh_str h)
{
    size_t n = 0;
    while (n < h.len && h.ptr[n] != '.')
        n++;
    /* an address is not cut at its dots */
    if (n < h.len && h.ptr[0] >= '0' && h.ptr[0] <= '9')
        return h;
    return (dh_str){h.ptr, n};
}

uint64_t corr_hash(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

uint64_t corr_hash_ci(dh_str s, uint64_t h)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];
        h = (h ^ (ch >= 'A' && ch <= 'Z' ? ch + 32u : ch)) * 1099511628211ULL;
    }
    return h;
}

/* Network sensor records (Zeek): they belong to no host's own telemetry. */
int corr_is_wire(const dh_event *ev)
{
    dh_str p = dh_event_provider(ev);
    return p.len == 4 && !memcmp(p.ptr, "Zeek", 4);
}

int corr_wire_activation(const dh_event *ev)
{
    static const char *const endpoints[] = {"ISystemActivator", "IRemoteSCMActivator",
                                            "IActivation", "IRemoteActivation",
                                            "000001a0-0000-0000-c000-000000000046"};
    dh_str e;
    if (dh_event_kind(ev) != DH_KIND_RPC_CALL || !dh_event_field(ev, DH_FIELD_RPC_ENDPOINT, &e))
        return 0;
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++)
        if (corr_ieq(e, (dh_str){endpoints[i], strlen(endpoints[i])}))
            return 1;
    return 0;
}

int corr_wire_automation(const dh_event *ev)
{
    dh_str e;
    if (dh_event_kind(ev) != DH_KIND_RPC_CALL || !dh_event_field(ev, DH_FIELD_RPC_ENDPOINT, &e))
        return 0;
    return corr_ieq(e, (dh_str){"IDispatch", 9}) ||
           corr_ieq(e, (dh_str){"00020400-0000-0000-c000-000000000046", 36});
}

dh_str corr_file_base(dh_str path)
{
    size_t s = 0;
    for (size_t i = 0; i < path.len; i++)
        if (path.ptr[i] == '\\' || path.ptr[i] == '/')
            s = i + 1;
    return (dh_str){path.ptr + s, path.len - s};
}

int corr_system_logon(uint64_t id)
{
    return id == 0 || id == 0x3e7 || id == 0x3e4 || id == 0x3e5;
}
