/* The member-by-member JSON writer (jw.h): commas, nesting, empty members taken back. */
#include "output/jw.h"

#include "core/timefmt.h"
#include "output/json.h"

void dh_jw_init(dh_jw *w, dh_buf *b)
{
    w->b = b;
    w->st = DH_OK;
    w->depth = 0;
    w->members[0] = 0;
    w->mark[0] = b->len;
    w->st = dh_buf_putc(b, '{');
}

/* The comma and the key of a new member of the innermost container. */
static void member(dh_jw *w, const char *key)
{
    if (w->st)
        return;
    if (w->members[w->depth]++)
        w->st = dh_buf_putc(w->b, ',');
    if (key && !w->st) {
        w->st = dh_buf_putc(w->b, '"');
        if (!w->st)
            w->st = dh_buf_puts(w->b, key);
        if (!w->st)
            w->st = dh_buf_puts(w->b, "\":");
    }
}

static void open(dh_jw *w, const char *key, char c)
{
    if (w->st)
        return;
    if (w->depth + 1 >= DH_JW_DEPTH) {
        w->st = DH_ERR_LIMIT;
        return;
    }
    size_t at = w->b->len;
    member(w, key);
    w->depth++;
    w->members[w->depth] = 0;
    w->mark[w->depth] = at;
    w->close[w->depth] = c == '[' ? ']' : '}';
    if (!w->st)
        w->st = dh_buf_putc(w->b, c);
}

void dh_jw_object(dh_jw *w, const char *key)
{
    open(w, key, '{');
}

void dh_jw_array(dh_jw *w, const char *key)
{
    open(w, key, '[');
}

void dh_jw_end(dh_jw *w)
{
    if (w->st || w->depth == 0)
        return;
    int d = w->depth--;
    if (w->members[d] == 0) { /* taken back, with its comma and key */
        w->b->len = w->mark[d];
        w->members[w->depth]--;
        return;
    }
    w->st = dh_buf_putc(w->b, w->close[d]);
}

size_t dh_jw_count(const dh_jw *w)
{
    return w->members[w->depth];
}

dh_status dh_jw_finish(dh_jw *w)
{
    while (!w->st && w->depth > 0)
        dh_jw_end(w);
    if (!w->st)
        w->st = dh_buf_puts(w->b, "}\n");
    return w->st;
}

void dh_jw_str(dh_jw *w, const char *key, dh_str s)
{
    if (!s.len || !s.ptr)
        return;
    member(w, key);
    if (!w->st)
        w->st = dh_json_string(w->b, s.ptr, s.len);
}

void dh_jw_strz(dh_jw *w, const char *key, const char *s)
{
    if (s)
        dh_jw_str(w, key, (dh_str){s, strlen(s)});
}

void dh_jw_int(dh_jw *w, const char *key, long long v)
{
    member(w, key);
    if (!w->st)
        w->st = dh_buf_put_i64(w->b, v);
}

void dh_jw_uint(dh_jw *w, const char *key, unsigned long long v)
{
    member(w, key);
    if (!w->st)
        w->st = dh_buf_put_u64(w->b, v);
}

void dh_jw_member(dh_jw *w, dh_str key, dh_str value)
{
    member(w, NULL);
    if (!w->st)
        w->st = dh_json_string(w->b, key.ptr ? key.ptr : "", key.len);
    if (!w->st)
        w->st = dh_buf_putc(w->b, ':');
    if (!w->st)
        w->st = dh_json_string(w->b, value.ptr ? value.ptr : "", value.len);
}

void dh_jw_bool(dh_jw *w, const char *key, int v)
{
    member(w, key);
    if (!w->st)
        w->st = dh_buf_puts(w->b, v ? "true" : "false");
}

void dh_jw_time(dh_jw *w, const char *key, int64_t filetime)
{
    if (!filetime)
        return;
    member(w, key);
    if (!w->st)
        w->st = dh_buf_putc(w->b, '"');
    if (!w->st)
        w->st = dh_time_put_iso(w->b, filetime);
    if (!w->st)
        w->st = dh_buf_putc(w->b, '"');
}
