/* FILETIME <-> ISO-8601. The civil-date conversion is the days-from-civil algorithm
 * (proleptic Gregorian, era of 400 years), written here because gmtime_r costs a libc
 * call with locale and TZ checks per record and this runs once per event. */
#include "core/timefmt.h"

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void put2(char *o, unsigned v)
{
    o[0] = (char)('0' + v / 10 % 10);
    o[1] = (char)('0' + v % 10);
}

dh_status dh_time_put_fields(dh_buf *out, int64_t year, unsigned mon, unsigned day, unsigned hour,
                             unsigned min, unsigned sec, uint32_t frac, unsigned digits)
{
    char *o = dh_buf_reserve(out, 40);
    if (!o)
        return DH_ERR_NOMEM;
    char *s = o;
    if (year < 0 || year > 9999) {
        /* Out of the four-digit range: still unambiguous, never truncated. */
        dh_status st = dh_buf_put_i64(out, year);
        if (st)
            return st;
        o = dh_buf_reserve(out, 40);
        if (!o)
            return DH_ERR_NOMEM;
        s = o;
    } else {
        unsigned y = (unsigned)year;
        o[0] = (char)('0' + y / 1000);
        o[1] = (char)('0' + y / 100 % 10);
        o[2] = (char)('0' + y / 10 % 10);
        o[3] = (char)('0' + y % 10);
        o += 4;
    }
    *o++ = '-';
    put2(o, mon);
    o += 2;
    *o++ = '-';
    put2(o, day);
    o += 2;
    *o++ = 'T';
    put2(o, hour);
    o += 2;
    *o++ = ':';
    put2(o, min);
    o += 2;
    *o++ = ':';
    put2(o, sec);
    o += 2;
    if (digits) {
        *o++ = '.';
        for (unsigned i = digits; i-- > 0;) {
            o[i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        o += digits;
    }
    *o++ = 'Z';
    out->len += (size_t)(o - s);
    return DH_OK;
}

dh_status dh_time_put_iso(dh_buf *out, int64_t ft)
{
    /* FILETIME is unsigned: values past 2^63 are far-future dates, rendered as such. */
    uint64_t u = (uint64_t)ft;
    uint64_t secs = u / 10000000;
    uint32_t frac = (uint32_t)(u % 10000000);
    int64_t days = (int64_t)(secs / 86400);
    unsigned sod = (unsigned)(secs % 86400);
    /* 1601-01-01 is 134774 days before 1970-01-01. */
    int64_t y;
    unsigned m, d;
    civil_from_days(days - 134774, &y, &m, &d);
    return dh_time_put_fields(out, y, m, d, sod / 3600, sod / 60 % 60, sod % 60, frac, 7);
}

static int digits_at(const char *s, size_t len, size_t pos, size_t n, unsigned *v)
{
    if (pos + n > len)
        return -1;
    unsigned r = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[pos + i];
        if (c < '0' || c > '9')
            return -1;
        r = r * 10 + (unsigned)(c - '0');
    }
    *v = r;
    return 0;
}

int dh_time_parse_iso(const char *s, size_t len, int64_t *ft)
{
    unsigned y, mo, d, h, mi, se;
    if (digits_at(s, len, 0, 4, &y) || len < 19 || s[4] != '-' || digits_at(s, len, 5, 2, &mo) ||
        s[7] != '-' || digits_at(s, len, 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') ||
        digits_at(s, len, 11, 2, &h) || s[13] != ':' || digits_at(s, len, 14, 2, &mi) ||
        s[16] != ':' || digits_at(s, len, 17, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    size_t pos = 19;
    int64_t frac = 0;
    if (pos < len && s[pos] == '.') {
        pos++;
        unsigned nd = 0;
        while (pos < len && s[pos] >= '0' && s[pos] <= '9') {
            if (nd < 7) {
                frac = frac * 10 + (s[pos] - '0');
                nd++;
            }
            pos++;
        }
        if (nd == 0)
            return -1;
        for (; nd < 7; nd++)
            frac *= 10;
    }
    if (pos < len && s[pos] == 'Z')
        pos++;
    if (pos != len)
        return -1;
    int64_t days = days_from_civil(y, mo, d) + 134774;
    *ft = ((days * 86400 + h * 3600 + mi * 60 + se) * 10000000) + frac;
    return 0;
}

static int fraction(const char *s, size_t len, size_t *p, int need_digit, int64_t *ticks);

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29u : n[m - 1];
}

int dh_time_parse_user(const char *s, size_t len, int64_t *ft, int *date_only)
{
    unsigned y, mo, d, h = 0, mi = 0, se = 0;
    *date_only = 0;
    if (len < 10 || digits_at(s, len, 0, 4, &y) || s[4] != '-' || digits_at(s, len, 5, 2, &mo) ||
        s[7] != '-' || digits_at(s, len, 8, 2, &d) || mo < 1 || mo > 12 || d < 1 ||
        d > days_in_month(y, mo))
        return -1;
    size_t pos = 10;
    int64_t frac = 0, offset_s = 0;
    if (pos == len) {
        *date_only = 1;
    } else {
        if ((s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') ||
            digits_at(s, len, pos + 1, 2, &h) || pos + 3 >= len || s[pos + 3] != ':' ||
            digits_at(s, len, pos + 4, 2, &mi) || h > 23 || mi > 59)
            return -1;
        pos += 6;
        if (pos < len && s[pos] == ':') {
            if (digits_at(s, len, pos + 1, 2, &se) || se > 60)
                return -1;
            pos += 3;
            if (fraction(s, len, &pos, 1, &frac))
                return -1;
        }
        if (pos < len && (s[pos] == 'Z' || s[pos] == 'z')) {
            pos++;
        } else if (pos < len && (s[pos] == '+' || s[pos] == '-')) {
            unsigned oh, om = 0;
            int sign = s[pos] == '-' ? -1 : 1;
            if (digits_at(s, len, pos + 1, 2, &oh) || oh > 23)
                return -1;
            pos += 3;
            if (pos < len && s[pos] == ':')
                pos++;
            if (pos < len && (digits_at(s, len, pos, 2, &om) || om > 59))
                return -1;
            if (pos < len)
                pos += 2;
            offset_s = sign * (int64_t)(oh * 3600 + om * 60);
        }
        if (pos != len)
            return -1;
    }
    int64_t days = days_from_civil(y, mo, d) + 134774;
    *ft = ((days * 86400 + h * 3600 + mi * 60 + se - offset_s) * 10000000) + frac;
    return 0;
}

/* Digits at s[*pos], 1 to `max` of them; -1 if none. */
static int digits_var(const char *s, size_t len, size_t *pos, size_t max, unsigned *v)
{
    unsigned r = 0;
    size_t n = 0;
    while (*pos < len && n < max && s[*pos] >= '0' && s[*pos] <= '9') {
        r = r * 10 + (unsigned)(s[*pos] - '0');
        (*pos)++;
        n++;
    }
    *v = r;
    return n ? 0 : -1;
}

/* A fraction of a second at s[*p] ("." and digits, none there is 0) as 100 ns ticks;
 * digits past the seventh are read and dropped. -1 if `need_digit` and a "." has none. */
static int fraction(const char *s, size_t len, size_t *p, int need_digit, int64_t *ticks)
{
    int64_t frac = 0;
    if (*p < len && s[*p] == '.') {
        (*p)++;
        unsigned nd = 0;
        for (; *p < len && s[*p] >= '0' && s[*p] <= '9'; (*p)++)
            if (nd < 7) {
                frac = frac * 10 + (s[*p] - '0');
                nd++;
            }
        if (!nd && need_digit)
            return -1;
        for (; nd < 7; nd++)
            frac *= 10;
    }
    *ticks = frac;
    return 0;
}

int dh_time_parse_us(const char *s, size_t len, int64_t *ft)
{
    unsigned mo, d, y, h, mi, se;
    size_t p = 0;
    if (digits_var(s, len, &p, 2, &mo) || p >= len || s[p++] != '/' ||
        digits_var(s, len, &p, 2, &d) || p >= len || s[p++] != '/' ||
        digits_var(s, len, &p, 4, &y) || y < 1601 || p >= len || s[p++] != ',')
        return -1;
    while (p < len && s[p] == ' ')
        p++;
    if (digits_var(s, len, &p, 2, &h) || p >= len || s[p++] != ':' ||
        digits_var(s, len, &p, 2, &mi) || p >= len || s[p++] != ':' ||
        digits_var(s, len, &p, 2, &se))
        return -1;
    int64_t frac = 0;
    if (fraction(s, len, &p, 1, &frac))
        return -1;
    while (p < len && s[p] == ' ')
        p++;
    if (p + 2 != len || (s[p + 1] != 'M' && s[p + 1] != 'm'))
        return -1;
    int pm = s[p] == 'P' || s[p] == 'p';
    if (!pm && s[p] != 'A' && s[p] != 'a')
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 1 || h > 12 || mi > 59 || se > 60)
        return -1;
    h = h % 12 + (pm ? 12 : 0);
    int64_t days = days_from_civil(y, mo, d) + 134774;
    *ft = ((days * 86400 + h * 3600 + mi * 60 + se) * 10000000) + frac;
    return 0;
}

int dh_time_parse_epoch(const char *s, size_t len, int64_t *ft)
{
    size_t p = 0;
    uint64_t secs = 0;
    while (p < len && s[p] >= '0' && s[p] <= '9') {
        secs = secs * 10 + (uint64_t)(s[p] - '0');
        if (secs > 100000000000ULL) /* past the year 5100: and ticks would overflow */
            return -1;
        p++;
    }
    if (!p)
        return -1;
    int64_t frac = 0;
    if (fraction(s, len, &p, 0, &frac))
        return -1;
    if (p != len)
        return -1;
    *ft = (int64_t)secs * 10000000 + frac + DH_FILETIME_UNIX_EPOCH;
    return 0;
}
