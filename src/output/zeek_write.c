/* Zeek TSV writing (zeek_write.h). Hand-written: Zeek's log format has no library outside
 * Zeek itself; it is a few header lines and tab-separated rows. */
#include "output/zeek_write.h"

#include <stdio.h>
#include <string.h>

#include "core/timefmt.h"

/* "YYYY-MM-DD-HH-MM-SS", as #open and #close write it. */
static dh_status stamp(dh_buf *out, int64_t ft)
{
    char iso[40];
    dh_buf b = {.data = iso, .len = 0, .cap = sizeof iso, .limit = sizeof iso};
    dh_status st = dh_time_put_iso(&b, ft);
    if (st || b.len < 19)
        return st ? st : DH_ERR_FORMAT;
    char s[20];
    memcpy(s, iso, 19);
    s[10] = '-';
    s[13] = '-';
    s[16] = '-';
    s[19] = 0;
    return dh_buf_append(out, s, 19);
}

dh_status dh_zeek_header(dh_buf *out, const char *path, const char *const *fields,
                         const char *const *types, size_t n, int64_t open_time)
{
    dh_status st = dh_buf_puts(out, "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n"
                                    "#unset_field\t-\n#path\t");
    if (!st)
        st = dh_buf_puts(out, path);
    if (!st)
        st = dh_buf_puts(out, "\n#open\t");
    if (!st)
        st = stamp(out, open_time);
    if (!st)
        st = dh_buf_puts(out, "\n#fields");
    for (size_t i = 0; i < n && !st; i++) {
        st = dh_buf_putc(out, '\t');
        if (!st)
            st = dh_buf_puts(out, fields[i]);
    }
    if (!st)
        st = dh_buf_puts(out, "\n#types");
    for (size_t i = 0; i < n && !st; i++) {
        st = dh_buf_putc(out, '\t');
        if (!st)
            st = dh_buf_puts(out, types[i]);
    }
    return st ? st : dh_buf_putc(out, '\n');
}

dh_status dh_zeek_row(dh_buf *out, const char *const *values, const size_t *lens, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    dh_status st = DH_OK;
    for (size_t i = 0; i < n && !st; i++) {
        if (i)
            st = dh_buf_putc(out, '\t');
        const char *v = values[i];
        size_t len = v ? (lens ? lens[i] : strlen(v)) : 0;
        if (!v || !len) {
            st = dh_buf_putc(out, '-');
            continue;
        }
        for (size_t k = 0; k < len && !st; k++) {
            unsigned char c = (unsigned char)v[k];
            if (c < 0x20 || c == 0x7f || c == '\\') {
                char e[4] = {'\\', 'x', hexd[c >> 4], hexd[c & 15]};
                st = dh_buf_append(out, e, 4);
            } else {
                st = dh_buf_putc(out, (char)c);
            }
        }
    }
    return st ? st : dh_buf_putc(out, '\n');
}

dh_status dh_zeek_close(dh_buf *out, int64_t close_time)
{
    dh_status st = dh_buf_puts(out, "#close\t");
    if (!st)
        st = stamp(out, close_time);
    return st ? st : dh_buf_putc(out, '\n');
}

dh_status dh_zeek_time(dh_buf *out, int64_t ft)
{
    int64_t u = ft - DH_FILETIME_UNIX_EPOCH;
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%lld.%06lld", (long long)(u / 10000000),
                     (long long)(u % 10000000 / 10));
    return n > 0 ? dh_buf_append(out, tmp, (size_t)n) : DH_ERR_FORMAT;
}
