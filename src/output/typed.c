/* Checks and splits for typed fields (typed.h). */
#include "output/typed.h"

#include <arpa/inet.h>
#include <string.h>

int dh_typed_ip(dh_str s)
{
    char z[64];
    unsigned char addr[16];
    if (!s.ptr || s.len == 0 || s.len >= sizeof z || memchr(s.ptr, 0, s.len))
        return 0;
    memcpy(z, s.ptr, s.len);
    z[s.len] = 0;
    return inet_pton(AF_INET, z, addr) == 1 || inet_pton(AF_INET6, z, addr) == 1;
}

int dh_typed_uint(dh_str s, unsigned long long max, unsigned long long *out)
{
    size_t i = 0;
    unsigned base = 10;
    if (!s.ptr || !s.len)
        return 0;
    if (s.len > 2 && s.ptr[0] == '0' && (s.ptr[1] == 'x' || s.ptr[1] == 'X')) {
        base = 16;
        i = 2;
    }
    unsigned long long v = 0;
    for (; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return 0;
        if (v > (max - d) / base)
            return 0;
        v = v * base + d;
    }
    *out = v;
    return 1;
}

dh_str dh_typed_basename(dh_str p)
{
    if (!p.ptr)
        return p;
    size_t i = p.len;
    while (i > 0 && p.ptr[i - 1] != '\\' && p.ptr[i - 1] != '/')
        i--;
    return (dh_str){p.ptr + i, p.len - i};
}

void dh_typed_account(dh_str s, dh_str *domain, dh_str *name)
{
    const char *bs = s.len ? memchr(s.ptr, '\\', s.len) : NULL;
    if (!bs) {
        *domain = (dh_str){NULL, 0};
        *name = s;
        return;
    }
    *domain = (dh_str){s.ptr, (size_t)(bs - s.ptr)};
    *name = (dh_str){bs + 1, s.len - (size_t)(bs - s.ptr) - 1};
}

int dh_typed_absent(dh_str s)
{
    return !s.ptr || !s.len || (s.len == 1 && s.ptr[0] == '-');
}

dh_str dh_typed_field(const dh_event *ev, dh_field id)
{
    dh_str v = {NULL, 0};
    if (!dh_event_field(ev, id, &v) || dh_typed_absent(v))
        return (dh_str){NULL, 0};
    return v;
}

const char *dh_typed_logon_type(dh_str number)
{
    static const char *const names[] = {NULL,
                                        NULL,
                                        "Interactive",
                                        "Network",
                                        "Batch",
                                        "Service",
                                        NULL,
                                        "Unlock",
                                        "NetworkCleartext",
                                        "NewCredentials",
                                        "RemoteInteractive",
                                        "CachedInteractive"};
    unsigned long long n;
    return dh_typed_uint(number, 11, &n) && number.ptr[0] != '0' ? names[n] : NULL;
}
