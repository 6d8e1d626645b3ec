/* Integers written in decimal straight into reserved room, two digits per division: the
 * EVTX value text and the JSON event writer write several per event (a digit at a time, or
 * digits to a temporary and then a copy, they were a tenth of a Sysmon log's decode and 2%
 * of dump, callgrind 2026-12-07). Inline: both callers are per-value hot paths. */
#ifndef DH_CORE_DECIMAL_H
#define DH_CORE_DECIMAL_H

#include <stdint.h>
#include <string.h>

/* "00" to "99" (core/decimal.c) */
extern const char dh_digit_pairs[201];

/* v in decimal at o (room for 20 bytes); returns the end. The digit count first, then the
 * digits from the end straight into place: no temporary, and no copy of a variable length
 * (a memcpy call per number). */
static inline char *dh_put_u64(char *o, uint64_t v)
{
    size_t n = 1;
    for (uint64_t p = 10; n < 20 && v >= p; p *= 10)
        n++;
    char *e = o + n;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        e -= 2;
        memcpy(e, dh_digit_pairs + 2 * r, 2);
    }
    if (v >= 10) {
        e -= 2;
        memcpy(e, dh_digit_pairs + 2 * v, 2);
    } else {
        *--e = (char)('0' + v);
    }
    return o + n;
}

#endif
