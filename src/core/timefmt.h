/* Times: Windows FILETIME ticks (100 ns since 1601-01-01 UTC) to ISO-8601 UTC text. */
#ifndef DH_CORE_TIMEFMT_H
#define DH_CORE_TIMEFMT_H

#include <stdint.h>

#include "core/buf.h"

#define DH_FILETIME_UNIX_EPOCH 116444736000000000LL

/* "YYYY-MM-DDTHH:MM:SS.fffffffZ": all seven fractional digits a FILETIME holds. The
 * value is taken as unsigned, as FILETIME is; years past 9999 print in full. */
dh_status dh_time_put_iso(dh_buf *out, int64_t filetime);
/* Same from a broken-down time (SYSTEMTIME); `frac` has `digits` fractional digits. */
dh_status dh_time_put_fields(dh_buf *out, int64_t year, unsigned mon, unsigned day, unsigned hour,
                             unsigned min, unsigned sec, uint32_t frac, unsigned digits);
/* Parses "YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z]" into FILETIME ticks; 0 on success. */
int dh_time_parse_iso(const char *s, size_t len, int64_t *filetime);
/* A time as people write it on a command line (ISO 8601): "YYYY-MM-DD" (a date alone,
 * *date_only set), or "YYYY-MM-DD[T ]HH:MM[:SS[.f{1,9}]]" with "Z", an offset ("+02:00",
 * "-0530", "+02") or nothing (UTC); the result is UTC. 0 on success. */
int dh_time_parse_user(const char *s, size_t len, int64_t *filetime, int *date_only);
/* Parses "M/D/YYYY, h:mm:ss[.f{1,9}] AM|PM" (a Log Analytics / Sentinel CSV export's UTC
 * time) into FILETIME ticks; 0 on success. */
int dh_time_parse_us(const char *s, size_t len, int64_t *filetime);
/* Parses Unix seconds with an optional fraction ("1600000000.123456", Zeek's ts). */
int dh_time_parse_epoch(const char *s, size_t len, int64_t *filetime);

#endif
