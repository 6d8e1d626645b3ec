/* Microsoft Defender / Sentinel CSV exports, parsed with libcsv (Debian libcsv-dev).
 *
 * The producer cuts the stream into batches of whole records (quote parity: a newline ends
 * a record only outside quotes) and hands every batch the file's header record; here each
 * record is parsed alone by libcsv, so one malformed record is reported by its line and
 * the next is read. Column names are the tables' own (a Log Analytics export appends
 * " [UTC]" to time columns; that suffix is dropped), so the Defender mapping table applies
 * as it does to the JSON exports, and every column is kept as event data. */
#include "input/csv/mdecsv.h"

#include <csv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "event/builder.h"
#include "event/mappings/defender.h"
#include "event/mappings/mappings.h"
#include "input/reader.h"

#define MAX_COLUMNS 512
#define MAX_RECORD  (16u << 20)

enum {
    COL_TIME,
    COL_HOST,
    COL_REPORT,
    COL_ACTION,
    COL_TABLE,
    COL_EVENTID,
    COL_SOURCE,
    COL_CHANNEL,
    COL_EVSOURCE, /* Sentinel's Event table: Source */
    COL_PARAMS,   /* and ParameterXml */
    NSPECIAL
};

/* The columns the reader looks for, by role: Defender's names from the schema table
 * (event/mappings/defender.h), Sentinel's Event and SecurityEvent names here. The first
 * row naming a column wins; if_unset: only when an earlier name has not set the role
 * (Timestamp is preferred to TimeGenerated wherever it stands). */
typedef struct header_column {
    dh_defender_col defender; /* when name is NULL */
    const char *name;
    int special; /* COL_* */
    int if_unset;
} header_column;

static const header_column header_columns[] = {
    {DH_MDE_COL_Timestamp, NULL, COL_TIME, 0},
    {0, "TimeGenerated", COL_TIME, 1},
    {DH_MDE_COL_DeviceName, NULL, COL_HOST, 0},
    {0, "Computer", COL_HOST, 0},
    {0, "EventID", COL_EVENTID, 0},
    {0, "EventSourceName", COL_SOURCE, 0},
    {0, "Channel", COL_CHANNEL, 0},
    {0, "EventLog", COL_CHANNEL, 0},
    {0, "Source", COL_EVSOURCE, 0},
    {0, "ParameterXml", COL_PARAMS, 0},
    {DH_MDE_COL_ReportId, NULL, COL_REPORT, 0},
    {DH_MDE_COL_ActionType, NULL, COL_ACTION, 0},
    {DH_MDE_COL_Table, NULL, COL_TABLE, 0},
    {0, "Type", COL_TABLE, 0},
};

/* The row of header_columns that names[0, len) is, or NULL. */
static const header_column *header_column_named(const char *name, size_t len)
{
    for (size_t c = 0; c < sizeof header_columns / sizeof header_columns[0]; c++) {
        const header_column *h = &header_columns[c];
        const char *want = h->name ? h->name : dh_defender_name(h->defender);
        if (strlen(want) == len && !memcmp(want, name, len))
            return h;
    }
    return NULL;
}

/* " [UTC]", which a Log Analytics export appends to time columns: not part of the name. */
static size_t without_utc(const char *name, size_t len)
{
    return len > 6 && !memcmp(name + len - 6, " [UTC]", 6) ? len - 6 : len;
}

struct mdecsv_reader {
    struct csv_parser p;
    int p_ok;
    /* the header, parsed: names in hdrbuf at name_off/name_len */
    char *hdr_copy;
    size_t hdr_len;
    dh_buf hdrbuf;
    uint32_t name_off[MAX_COLUMNS], name_len[MAX_COLUMNS];
    size_t ncols;
    int special[NSPECIAL]; /* column index, or -1 */
    /* the record being parsed */
    dh_buf arena;
    uint32_t val_off[MAX_COLUMNS], val_len[MAX_COLUMNS];
    size_t nvals;
    int too_many;
    int in_header;
    dh_kv kv[MAX_COLUMNS + DH_SENTINEL_MAX_PARAMS];
    uint32_t par_off[DH_SENTINEL_MAX_PARAMS], par_len[DH_SENTINEL_MAX_PARAMS];
    unsigned par_idx[DH_SENTINEL_MAX_PARAMS];
    size_t npar;
    char scratch[1 << 16]; /* values the Defender mapping composes */
};

static int no_space(unsigned char c)
{
    (void)c;
    return 0; /* keep spaces around unquoted fields: they are part of the value */
}

static int parser_init(mdecsv_reader *r)
{
    if (r->p_ok)
        csv_free(&r->p);
    r->p_ok = csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI) == 0;
    if (r->p_ok) {
        csv_set_space_func(&r->p, no_space);
        /* libcsv grows a field's buffer by this much at a time (128 bytes by default): a
         * field of megabytes then costs thousands of reallocations and copies. */
        csv_set_blk_size(&r->p, 1u << 20);
    }
    return r->p_ok ? 0 : -1;
}

mdecsv_reader *mdecsv_reader_new(void)
{
    mdecsv_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    dh_buf_init(&r->arena, MAX_RECORD * 2);
    dh_buf_init(&r->hdrbuf, 1u << 20);
    if (parser_init(r)) {
        mdecsv_reader_free(r);
        return NULL;
    }
    return r;
}

void mdecsv_reader_free(mdecsv_reader *r)
{
    if (!r)
        return;
    if (r->p_ok)
        csv_free(&r->p);
    free(r->hdr_copy);
    dh_buf_free(&r->arena);
    dh_buf_free(&r->hdrbuf);
    free(r);
}

/* End of the record that starts at `from`: the index just past its line end (LF, CRLF or a
 * CR alone, outside quotes), or 0 if the buffer ends first. A quote opens quoting only at a
 * field's start (RFC 4180): the record's first byte, or after a comma (a comma outside
 * quotes is the only way to a field's start); a stray quote inside an unquoted field is a
 * character, so one bad record cannot swallow the records after it (libcsv then reports
 * it). Bytes are not looked at one by one: between quotes, the next quote; outside, the
 * next quote, LF or CR, each found with memchr (the LF and CR found are kept while they
 * lie ahead, so many quotes on a line cost one pass). A test of every byte cost 28
 * instructions a byte, a quarter of the CSV reader's instructions. */
static size_t record_end_q(const char *b, size_t n, size_t from, int *open_quote)
{
    if (open_quote)
        *open_quote = 0;
    /* the first LF / CR at or after i (n: none); SIZE_MAX: not looked for yet */
    size_t nl = SIZE_MAX, cr = SIZE_MAX;
    size_t i = from;
    while (i < n) {
        /* outside quotes */
        if (nl == SIZE_MAX || nl < i) {
            const char *p = memchr(b + i, '\n', n - i);
            nl = p ? (size_t)(p - b) : n;
        }
        if (cr == SIZE_MAX || cr < i) {
            const char *p = memchr(b + i, '\r', n - i);
            cr = p ? (size_t)(p - b) : n;
        }
        size_t lim = nl;
        if (cr < lim) {
            if (!memchr(b + i, '"', cr - i)) {
                /* CRLF, or a CR alone: an old Mac line end, which libcsv ends a row at too */
                if (cr + 1 == n)
                    return 0; /* the next byte tells */
                return b[cr + 1] != '\n' ? cr + 1 : cr + 2;
            }
            lim = cr;
        }
        const char *q = memchr(b + i, '"', lim - i);
        if (!q)
            return nl < n ? nl + 1 : 0;
        size_t at = (size_t)(q - b);
        i = at + 1;
        if (!(at == from || b[at - 1] == ','))
            continue; /* a stray quote inside an unquoted field: a character */
        /* between quotes */
        for (;;) {
            const char *e = memchr(b + i, '"', n - i);
            if (!e) {
                if (open_quote)
                    *open_quote = 1;
                return 0;
            }
            size_t k = (size_t)(e - b);
            if (k + 1 == n)
                return 0; /* a doubled quote or the closing one: the next byte tells */
            if (b[k + 1] != '"') {
                i = k + 1;
                break;
            }
            i = k + 2;
        }
    }
    return 0;
}

static size_t record_end(const char *b, size_t n, size_t from)
{
    return record_end_q(b, n, from, NULL);
}

size_t mdecsv_first(const char *buf, size_t len)
{
    return record_end(buf, len, 0);
}

size_t mdecsv_cut(const char *buf, size_t len)
{
    size_t pos = 0, cut = 0;
    for (;;) {
        size_t e = record_end(buf, len, pos);
        if (!e)
            return cut;
        cut = pos = e;
    }
}

static void on_field(void *s, size_t len, void *data)
{
    mdecsv_reader *r = data;
    dh_buf *b = r->in_header ? &r->hdrbuf : &r->arena;
    if (r->nvals >= MAX_COLUMNS) {
        r->too_many = 1;
        return;
    }
    size_t at = b->len;
    /* A quote before = + - or @ is how a CSV writer (dcomhunt's dump --to mde-csv, as
     * spreadsheet-safe exports do) keeps a value from being a formula: not part of it. */
    if (!r->in_header && s && len >= 2 && ((const char *)s)[0] == '\'' &&
        strchr("=+-@", ((const char *)s)[1])) {
        s = (char *)s + 1;
        len--;
    }
    if (dh_buf_append(b, s ? s : "", s ? len : 0)) {
        r->too_many = 1;
        return;
    }
    r->val_off[r->nvals] = (uint32_t)at;
    r->val_len[r->nvals] = (uint32_t)(b->len - at);
    r->nvals++;
}

static void on_row(int c, void *data)
{
    (void)c;
    (void)data;
}

/* The one parse error after which the record's end is not known (record_end_q's quotes and
 * libcsv's disagree): mdecsv_decode compares this pointer to resynchronise line by line. */
static const char stray_quote[] = "malformed CSV record (stray quote)";

/* Parses one record (without its line end) into val_off/val_len; NULL or why not. */
static const char *parse_record(mdecsv_reader *r, const char *s, size_t n)
{
    r->nvals = 0;
    r->too_many = 0;
    if (!r->p_ok && parser_init(r))
        return "out of memory";
    size_t used = csv_parse(&r->p, s, n, on_field, on_row, r);
    int bad = used != n;
    if (!bad && csv_fini(&r->p, on_field, on_row, r) != 0)
        bad = 1;
    if (bad) {
        const char *why = csv_error(&r->p) == CSV_EPARSE ? stray_quote : "CSV record too large";
        parser_init(r);
        return why;
    }
    return r->too_many ? "too many columns or record too large" : NULL;
}

static const char *load_header(mdecsv_reader *r, const char *hdr, size_t len)
{
    if (r->hdr_copy && r->hdr_len == len && !memcmp(r->hdr_copy, hdr, len))
        return r->ncols ? NULL : "no header";
    free(r->hdr_copy);
    r->hdr_copy = malloc(len ? len : 1);
    if (!r->hdr_copy)
        return "out of memory";
    memcpy(r->hdr_copy, hdr, len);
    r->hdr_len = len;
    r->ncols = 0;
    size_t s = 0, e = len;
    if (e - s >= 3 && (unsigned char)hdr[0] == 0xEF && (unsigned char)hdr[1] == 0xBB &&
        (unsigned char)hdr[2] == 0xBF)
        s = 3;
    while (e > s && (hdr[e - 1] == '\n' || hdr[e - 1] == '\r'))
        e--;
    r->hdrbuf.len = 0;
    r->in_header = 1;
    const char *why = parse_record(r, hdr + s, e - s);
    r->in_header = 0;
    if (why)
        return why;
    for (int k = 0; k < NSPECIAL; k++)
        r->special[k] = -1;
    for (size_t i = 0; i < r->nvals; i++) {
        const char *nm = r->hdrbuf.data + r->val_off[i];
        r->name_off[i] = r->val_off[i];
        r->name_len[i] = (uint32_t)without_utc(nm, r->val_len[i]);
        const header_column *h = header_column_named(nm, r->name_len[i]);
        if (h && (!h->if_unset || r->special[h->special] < 0))
            r->special[h->special] = (int)i;
    }
    r->ncols = r->nvals;
    if (r->special[COL_TIME] < 0 || r->special[COL_HOST] < 0)
        return "header names no time (Timestamp, TimeGenerated) and host (DeviceName, Computer) "
               "columns";
    return NULL;
}

static dh_str col(const mdecsv_reader *r, int k)
{
    int i = r->special[k];
    if (i < 0 || (size_t)i >= r->nvals)
        return (dh_str){"", 0};
    return (dh_str){r->arena.data + r->val_off[i], r->val_len[i]};
}

static void add_param(void *ctx, unsigned index, size_t off, size_t len)
{
    mdecsv_reader *r = ctx;
    if (r->npar >= DH_SENTINEL_MAX_PARAMS)
        return;
    r->par_idx[r->npar] = index;
    r->par_off[r->npar] = (uint32_t)off;
    r->par_len[r->npar] = (uint32_t)len;
    r->npar++;
}

/* One data record, s[0, n) without its line end. */
static const char *decode_record(mdecsv_reader *r, const char *s, size_t n, dh_event *ev)
{
    r->arena.len = 0;
    const char *why = parse_record(r, s, n);
    if (why)
        return why;
    if (r->nvals > r->ncols)
        return "more fields than the header names";
    /* Exports write every column: a short row is a cut one (a truncated file's last row). */
    if (r->nvals < r->ncols)
        return "fewer fields than the header names (a cut row)";
    r->npar = 0;
    int pc = r->special[COL_PARAMS];
    if (pc >= 0 && (size_t)pc < r->nvals && r->val_len[pc]) {
        /* Sentinel's Event table: the event data as <Param> values (param1...) */
        size_t xl = r->val_len[pc];
        char *xml = malloc(xl); /* the arena grows while it is read */
        if (!xml)
            return "out of memory";
        memcpy(xml, r->arena.data + r->val_off[pc], xl);
        int bad = dh_sentinel_params(xml, xl, &r->arena, add_param, r);
        free(xml);
        if (bad)
            return "ParameterXml not well-formed";
    }
    size_t nkv = 0;
    for (size_t i = 0; i < r->nvals; i++) {
        if (!r->val_len[i])
            continue; /* an empty column is not data (as null in the JSON export) */
        r->kv[nkv].name = (dh_str){r->hdrbuf.data + r->name_off[i], r->name_len[i]};
        r->kv[nkv].value = (dh_str){r->arena.data + r->val_off[i], r->val_len[i]};
        nkv++;
    }
    for (size_t i = 0; i < r->npar; i++) {
        const char *nm = dh_sentinel_param_name(r->par_idx[i]);
        r->kv[nkv].name = (dh_str){nm, strlen(nm)};
        r->kv[nkv].value = (dh_str){r->arena.data + r->par_off[i], r->par_len[i]};
        nkv++;
    }
    dh_str ts = col(r, COL_TIME);
    int64_t t = 0;
    if (ts.len && dh_time_parse_iso(ts.ptr, ts.len, &t) && dh_time_parse_us(ts.ptr, ts.len, &t))
        return "Timestamp is not a time";
    const char *table = dh_mde_table(col(r, COL_TABLE));
    dh_str eid = col(r, COL_EVENTID);
    uint32_t id = 0; /* Defender's tables have no event id */
    if (!table && eid.len) {
        /* Sentinel's SecurityEvent (or another Windows-event table): the Windows event,
         * its data under the names Windows gives them */
        for (size_t i = 0; i < eid.len && i < 10; i++) {
            if (eid.ptr[i] < '0' || eid.ptr[i] > '9')
                return "EventID is not a number";
            id = id * 10 + (uint32_t)(eid.ptr[i] - '0');
        }
        dh_str ch = col(r, COL_CHANNEL), src = col(r, COL_SOURCE);
        if (!src.len)
            src = dh_sentinel_provider(col(r, COL_EVSOURCE));
        if (!ch.len)
            ch = (dh_str){"Security", 8};
        if (!src.len && ch.len == 8 && !memcmp(ch.ptr, "Security", 8))
            src = (dh_str){"Microsoft-Windows-Security-Auditing", 35};
        dh_event_set_provider(ev, src);
        dh_event_set_channel(ev, ch);
    } else {
        if (!table)
            table = dh_mde_table_for_action(col(r, COL_ACTION));
        dh_str tab = {table, strlen(table)};
        dh_event_set_provider(ev, tab);
        dh_event_set_channel(ev, tab);
    }
    dh_str rid = col(r, COL_REPORT);
    uint64_t recno = 0;
    for (size_t i = 0; i < rid.len && rid.ptr[i] >= '0' && rid.ptr[i] <= '9'; i++)
        recno = recno * 10 + (uint64_t)(rid.ptr[i] - '0'); /* exact beyond a double */
    if (!rid.len) { /* no record id: one from the row's bytes, so copies of it are one */
        uint64_t h = 1469598103934665603ULL;
        for (size_t i = 0; i < n; i++)
            h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
        recno = h >> 1;
    }
    dh_event_set_time(ev, t);
    dh_event_set_host(ev, col(r, COL_HOST));
    dh_event_set_ids(ev, id, recno);
    dh_event_set_data(ev, r->kv, nkv);
    dh_event_set_scratch(ev, r->scratch, sizeof r->scratch);
    dh_map_windows_apply(ev);
    return NULL;
}

/* The first line end in b[0, n) (LF, or CR: a CRLF's CR, or an old Mac line end), or NULL. */
static const char *line_end_in(const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] == '\n' || b[i] == '\r')
            return b + i;
    return NULL;
}

dh_status mdecsv_decode(mdecsv_reader *r, const char *hdr, size_t hdrlen, const char *buf,
                        size_t len, const char *file, uint64_t first_line, uint64_t base_offset,
                        dh_reader_event_fn on_event, void *ectx, dh_reader_line_error_fn on_error,
                        void *errctx, uint64_t *events, uint64_t *bad)
{
    const char *hwhy = load_header(r, hdr, hdrlen);
    size_t pos = 0;
    uint64_t line = first_line;
    while (pos < len) {
        /* No end: the last record of the input, without a newline; or a quote that never
         * closes, which took every line after it (not worth parsing to know it is bad). */
        int open_quote;
        size_t end = record_end_q(buf, len, pos, &open_quote);
        open_quote = open_quote && line_end_in(buf + pos, len - pos) != NULL;
        if (!end)
            end = len;
        size_t s = pos, e = end;
        while (e > s && (buf[e - 1] == '\n' || buf[e - 1] == '\r'))
            e--;
        const char *why = NULL;
        dh_event ev;
        if (e > s) {
            if (hwhy) {
                why = hwhy;
            } else if (open_quote) {
                why = "malformed CSV record (a quote that never closes)";
            } else {
                dh_event_begin(&ev, file);
                dh_event_set_origin(&ev, file, -1, base_offset + s);
                why = decode_record(r, buf + s, e - s, &ev);
                if (!why) {
                    (*events)++;
                    dh_status st = on_event(ectx, &ev);
                    if (st)
                        return st;
                }
            }
            /* A malformed record that runs over several lines (a quote that never closes
             * takes the lines after it): only its first line is lost; the next line that
             * starts a well-formed record is read again as one. Only when the quoting is
             * broken: a well-formed record refused for its values (no time, a column too
             * many) is skipped whole, or the lines of a quoted field (a command line holding
             * a line end and a forged row) would be read as records. */
            int broken = open_quote || why == stray_quote;
            const char *nl = why && !hwhy && broken ? line_end_in(buf + s, e - s) : NULL;
            if (nl)
                end = (size_t)(nl - buf) + 1;
        }
        if (why) {
            (*bad)++;
            if (on_error)
                on_error(errctx, line, base_offset + s, why);
        }
        for (size_t i = pos; i < end; i++)
            line += buf[i] == '\n';
        pos = end;
    }
    return DH_OK;
}

/* The Defender CSV row of the reader table. */

/* A Defender / Sentinel CSV header: comma-separated names on the first line, among them
 * a time column (Timestamp, or TimeGenerated with or without " [UTC]") and DeviceName (a
 * Defender table) or Computer and EventID (Sentinel's SecurityEvent). */
static dh_format mdecsv_sniff(const uint8_t *p, size_t n)
{
    size_t end = 0; /* the first line: up to LF, or a CR alone (old Mac line ends) */
    while (end < n && p[end] != '\n' && !(p[end] == '\r' && end + 1 < n && p[end + 1] != '\n'))
        end++;
    int host = 0, time = 0, commas = 0, eventid = 0, computer = 0;
    size_t s = 0;
    for (size_t i = 0; i <= end; i++) {
        if (i < end && p[i] != ',')
            continue;
        size_t a = s, b = i;
        if (b > a && p[b - 1] == '\r')
            b--;
        if (b - a >= 2 && p[a] == '"' && p[b - 1] == '"') {
            a++;
            b--;
        }
        const char *name = (const char *)p + a;
        const header_column *h = header_column_named(name, b - a);
        if (!h) { /* " [UTC]" is dropped from time columns only, here */
            h = header_column_named(name, without_utc(name, b - a));
            if (h && h->special != COL_TIME)
                h = NULL;
        }
        if (h && h->special == COL_HOST)
            *(h->name ? &computer : &host) = 1; /* DeviceName, or Sentinel's Computer */
        else if (h && h->special == COL_EVENTID)
            eventid = 1;
        else if (h && h->special == COL_TIME)
            time = 1;
        commas += i < end;
        s = i + 1;
    }
    /* Sentinel's SecurityEvent: Computer and EventID */
    return (host || (computer && eventid)) && time && commas ? DH_FORMAT_MDE_CSV
                                                             : DH_FORMAT_UNKNOWN;
}

static size_t mdecsv_cut_row(const char *buf, size_t len, uint64_t offset)
{
    (void)offset;
    return mdecsv_cut(buf, len);
}

static void *mdecsv_state_new(const dh_scan_opts *opts)
{
    (void)opts;
    return mdecsv_reader_new();
}

static void mdecsv_state_free(void *state)
{
    mdecsv_reader_free(state);
}

static dh_status mdecsv_decode_unit(void *state, const dh_reader_unit *u,
                                    const dh_reader_sink *sink, dh_reader_result *res)
{
    dh_status st = mdecsv_decode(state, u->hdr, u->hdrlen, u->buf, u->len, u->file, u->line,
                                 u->offset, sink->on_event, sink->ctx, dh_reader_line_error,
                                 (void *)sink, &res->records, &res->records_bad);
    res->damaged = res->records_bad ? 1 : 0;
    return st;
}

const dh_reader dh_reader_mde_csv = {
    .name = "mde-csv",
    .format = DH_FORMAT_MDE_CSV,
    .sniff = mdecsv_sniff,
    .cut = mdecsv_cut_row,
    .header = mdecsv_first,
    .record_end = DH_END_CSV_RECORD,
    .state_new = mdecsv_state_new,
    .state_free = mdecsv_state_free,
    .decode = mdecsv_decode_unit,
};
