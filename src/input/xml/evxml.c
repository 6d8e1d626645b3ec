/* Windows event XML with expat. Each <Event>...</Event> is parsed alone (a malformed event
 * is reported and skipped, the others are still read): the path of each element decides
 * where its text goes (System envelope, EventData Data[@Name], UserData leaves), as the
 * EVTX decoder's roles do. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, memrchr */
#endif
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "input/xml/evxml.h"
#include "input/reader.h"
#include "event/builder.h"
#include "event/mappings/mappings.h"

#define MAX_DEPTH 64
#define MAX_ITEMS 4096
#define MAX_SYS   24

enum { X_NONE, X_EVENT, X_SYSTEM, X_EVENTDATA, X_USERDATA, X_OTHER };

typedef struct item_off {
    uint32_t name, name_len, value, value_len;
} item_off;

struct evxml_reader {
    XML_Parser p;
    dh_buf arena;
    /* current event */
    int depth;
    int ctx[MAX_DEPTH]; /* section at each depth */
    int has_child[MAX_DEPTH];
    uint32_t text_start[MAX_DEPTH];
    uint32_t name_off[MAX_DEPTH], name_len[MAX_DEPTH];
    char elem[MAX_DEPTH][32]; /* System child names */
    item_off items[MAX_ITEMS];
    size_t nitems;
    uint32_t env[6][2]; /* provider, channel, computer, eventid, recid, time text */
    int64_t time;
    int too_many;
    dh_kv kv[MAX_ITEMS];
    char scratch[1 << 16]; /* values a mapping composes (Defender rows written as XML) */
    item_off sys[MAX_SYS]; /* System properties beyond the envelope */
    size_t nsys;
    dh_kv syskv[MAX_SYS];
};

static uint32_t put(evxml_reader *r, const char *s, size_t n)
{
    uint32_t off = (uint32_t)r->arena.len;
    if (dh_buf_append(&r->arena, s, n))
        r->too_many = 1;
    return off;
}

static void add_sys(evxml_reader *r, const char *name, const char *v, size_t vl)
{
    if (r->nsys >= MAX_SYS)
        return;
    uint32_t no = put(r, name, strlen(name));
    uint32_t vo = put(r, v, vl);
    r->sys[r->nsys++] = (item_off){no, (uint32_t)strlen(name), vo, (uint32_t)vl};
}

static const char *attr(const char **atts, const char *name)
{
    for (size_t i = 0; atts && atts[i]; i += 2)
        if (!strcmp(atts[i], name))
            return atts[i + 1];
    return NULL;
}

static void XMLCALL on_start(void *ud, const char *name, const char **atts)
{
    evxml_reader *r = ud;
    int d = r->depth;
    if (d >= MAX_DEPTH) {
        r->too_many = 1;
        return;
    }
    int parent = d ? r->ctx[d - 1] : X_NONE;
    if (d)
        r->has_child[d - 1] = 1;
    int c = X_OTHER;
    if (parent == X_NONE)
        c = !strcmp(name, "Event") ? X_EVENT : X_NONE;
    else if (parent == X_EVENT)
        c = !strcmp(name, "System")      ? X_SYSTEM
            : !strcmp(name, "EventData") ? X_EVENTDATA
            : !strcmp(name, "UserData")  ? X_USERDATA
                                         : X_OTHER;
    else if (parent == X_SYSTEM || parent == X_EVENTDATA || parent == X_USERDATA)
        c = parent;
    r->ctx[d] = c;
    r->has_child[d] = 0;
    r->text_start[d] = (uint32_t)r->arena.len;
    r->name_len[d] = 0;
    /* the name cut to the slot as snprintf would, without its cost (11% of the reader's
     * instructions: once per element) */
    size_t el = strlen(name);
    if (el >= sizeof r->elem[d])
        el = sizeof r->elem[d] - 1;
    memcpy(r->elem[d], name, el);
    r->elem[d][el] = 0;
    if (c == X_SYSTEM && parent == X_SYSTEM) {
        /* Attributes of System's children are System properties (Security/@UserID,
         * Execution/@ProcessID...), but for the provider's name and the time. */
        for (size_t i = 0; atts && atts[i]; i += 2)
            if (!(!strcmp(name, "Provider") && !strcmp(atts[i], "Name")) &&
                !(!strcmp(name, "TimeCreated") && !strcmp(atts[i], "SystemTime")) &&
                strncmp(atts[i], "xmlns", 5))
                add_sys(r, atts[i], atts[i + 1], strlen(atts[i + 1]));
        if (!strcmp(name, "Provider")) {
            const char *v = attr(atts, "Name");
            if (v) {
                r->env[0][0] = put(r, v, strlen(v));
                r->env[0][1] = (uint32_t)strlen(v);
            }
        } else if (!strcmp(name, "TimeCreated")) {
            const char *v = attr(atts, "SystemTime");
            int64_t t;
            if (v && !dh_time_parse_iso(v, strlen(v), &t))
                r->time = t;
        }
        r->text_start[d] = (uint32_t)r->arena.len; /* the element's text starts here */
    }
    if (c == X_EVENTDATA && parent == X_EVENTDATA) {
        const char *v = !strcmp(name, "Data") ? attr(atts, "Name") : NULL;
        const char *nm = v ? v : name;
        r->name_off[d] = put(r, nm, strlen(nm));
        r->name_len[d] = (uint32_t)strlen(nm);
        r->text_start[d] = (uint32_t)r->arena.len;
    } else if (c == X_USERDATA && d >= 2 && r->ctx[d - 2] == X_USERDATA) {
        r->name_off[d] = put(r, name, strlen(name));
        r->name_len[d] = (uint32_t)strlen(name);
        r->text_start[d] = (uint32_t)r->arena.len;
    }
    r->depth++;
}

static void XMLCALL on_text(void *ud, const char *s, int len)
{
    evxml_reader *r = ud;
    if (r->depth > 0 && r->ctx[r->depth - 1] != X_NONE && r->ctx[r->depth - 1] != X_OTHER)
        put(r, s, (size_t)len);
}

static void XMLCALL on_end(void *ud, const char *name)
{
    evxml_reader *r = ud;
    (void)name;
    if (r->depth == 0)
        return;
    int d = --r->depth;
    uint32_t off = r->text_start[d], len = (uint32_t)r->arena.len - r->text_start[d];
    if (r->ctx[d] == X_SYSTEM && d >= 1 && r->ctx[d - 1] == X_SYSTEM) {
        static const char *const keys[] = {"", "Channel", "Computer", "EventID", "EventRecordID"};
        int env = 0;
        for (int k = 1; k < 5; k++)
            if (!strcmp(r->elem[d], keys[k])) {
                r->env[k][0] = off;
                r->env[k][1] = len;
                env = 1;
            }
        if (!env && !r->has_child[d] && len && r->nsys < MAX_SYS) /* Level, Task, Keywords... */
            r->sys[r->nsys++] = (item_off){put(r, r->elem[d], strlen(r->elem[d])),
                                           (uint32_t)strlen(r->elem[d]), off, len};
    } else if (r->name_len[d] && !r->has_child[d]) {
        if (r->nitems >= MAX_ITEMS) {
            r->too_many = 1;
            return;
        }
        r->items[r->nitems++] = (item_off){r->name_off[d], r->name_len[d], off, len};
    }
}

evxml_reader *evxml_reader_new(void)
{
    evxml_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->p = XML_ParserCreate("UTF-8");
    if (!r->p) {
        free(r);
        return NULL;
    }
    dh_buf_init(&r->arena, 64u << 20);
    return r;
}

void evxml_reader_free(evxml_reader *r)
{
    if (!r)
        return;
    XML_ParserFree(r->p);
    dh_buf_free(&r->arena);
    free(r);
}

/* glibc's memmem: the byte loop this replaced stopped at every '<' of the markup (callgrind,
 * hunt -j1 of 23 MB of event XML: evxml_decode 156M instructions with it). */
static const char *find(const char *h, size_t n, const char *needle)
{
    return memmem(h, n, needle, strlen(needle));
}

/* The end of the last "</Event>" in buf, found from the end: the text producer cuts every
 * batch here, on the one thread that feeds the workers, and a forward scan of the whole
 * batch cost as much as the search of the decoder itself. */
size_t evxml_cut(const char *buf, size_t len)
{
    static const char tag[] = "</Event>";
    const size_t k = sizeof tag - 1;
    if (len < k)
        return 0;
    size_t n = len - k + 1; /* the places a tag may start: [0, len - k] */
    while (n) {
        const char *lt = memrchr(buf, '<', n);
        if (!lt)
            return 0;
        if (!memcmp(lt, tag, k))
            return (size_t)(lt - buf) + k;
        n = (size_t)(lt - buf);
    }
    return 0;
}

/* Parses one <Event>...</Event>; NULL on success. */
static const char *parse_one(evxml_reader *r, const char *s, size_t n, dh_event *ev)
{
    XML_ParserReset(r->p, "UTF-8");
    XML_SetUserData(r->p, r);
    XML_SetElementHandler(r->p, on_start, on_end);
    XML_SetCharacterDataHandler(r->p, on_text);
    r->arena.len = 0;
    r->depth = 0;
    r->nitems = 0;
    r->nsys = 0;
    r->time = 0;
    r->too_many = 0;
    memset(r->env, 0, sizeof r->env);
    if (XML_Parse(r->p, s, (int)n, 1) != XML_STATUS_OK)
        return XML_ErrorString(XML_GetErrorCode(r->p));
    if (r->too_many)
        return "event too large or nested too deeply";
    const char *a = r->arena.data ? r->arena.data : "";
    for (size_t i = 0; i < r->nitems; i++) {
        r->kv[i].name = (dh_str){a + r->items[i].name, r->items[i].name_len};
        r->kv[i].value = (dh_str){a + r->items[i].value, r->items[i].value_len};
    }
    char num[24];
    size_t l = r->env[3][1] < 23 ? r->env[3][1] : 23;
    memcpy(num, a + r->env[3][0], l);
    num[l] = 0;
    uint32_t event_id = (uint32_t)strtoul(num, NULL, 10);
    l = r->env[4][1] < 23 ? r->env[4][1] : 23;
    memcpy(num, a + r->env[4][0], l);
    num[l] = 0;
    dh_event_set_ids(ev, event_id, strtoull(num, NULL, 10));
    dh_event_set_provider(ev, (dh_str){a + r->env[0][0], r->env[0][1]});
    dh_event_set_channel(ev, (dh_str){a + r->env[1][0], r->env[1][1]});
    dh_event_set_host(ev, (dh_str){a + r->env[2][0], r->env[2][1]});
    dh_event_set_time(ev, r->time);
    dh_event_set_data(ev, r->kv, r->nitems);
    for (size_t i = 0; i < r->nsys; i++) {
        r->syskv[i].name = (dh_str){a + r->sys[i].name, r->sys[i].name_len};
        r->syskv[i].value = (dh_str){a + r->sys[i].value, r->sys[i].value_len};
    }
    dh_event_set_system(ev, r->syskv, r->nsys);
    dh_event_set_scratch(ev, r->scratch, sizeof r->scratch);
    return dh_map_any_apply(ev);
}

dh_status evxml_decode(evxml_reader *r, const char *buf, size_t len, const char *file,
                       uint64_t base_offset, evxml_event_fn on_event, void *ectx,
                       evxml_error_fn on_error, void *errctx, uint64_t *events, uint64_t *bad)
{
    size_t pos = 0;
    while (pos < len) {
        const char *start = find(buf + pos, len - pos, "<Event");
        if (!start)
            break;
        /* "<Event" must be the element itself, not <EventData> or <EventID>. */
        char after = (size_t)(start - buf) + 6 < len ? start[6] : 0;
        if (after != '>' && after != ' ' && after != '\n' && after != '\r' && after != '\t' &&
            after != '/') {
            pos = (size_t)(start - buf) + 6;
            continue;
        }
        const char *end = find(start, len - (size_t)(start - buf), "</Event>");
        size_t s0 = (size_t)(start - buf);
        size_t e0 = end ? (size_t)(end - buf) + 8 : len;
        dh_event ev;
        dh_event_begin(&ev, file);
        dh_event_set_origin(&ev, file, -1, base_offset + s0);
        const char *why = parse_one(r, buf + s0, e0 - s0, &ev);
        if (why) {
            (*bad)++;
            if (on_error)
                on_error(errctx, base_offset + s0, why);
        } else {
            (*events)++;
            dh_status st = on_event(ectx, &ev);
            if (st)
                return st;
        }
        pos = e0;
    }
    return DH_OK;
}

/* The event XML row of the reader table. */

/* An <Event> element near the start (after a declaration or a wrapper such as
 * <Events>). */
static dh_format evxml_sniff(const uint8_t *p, size_t n)
{
    if (!n || p[0] != '<')
        return DH_FORMAT_UNKNOWN;
    for (size_t k = 0; k + 7 <= n; k++)
        if (!memcmp(p + k, "<Event", 6) &&
            (p[k + 6] == '>' || p[k + 6] == ' ' || p[k + 6] == '\n' || p[k + 6] == '\r' ||
             p[k + 6] == '\t'))
            return DH_FORMAT_XML;
    return DH_FORMAT_UNKNOWN;
}

static size_t evxml_cut_row(const char *buf, size_t len, uint64_t offset)
{
    (void)offset;
    return evxml_cut(buf, len);
}

static void xml_error(void *sink, uint64_t offset, const char *why)
{
    const dh_reader_sink *k = sink;
    char msg[200];
    snprintf(msg, sizeof msg, "event XML: %s", why);
    k->on_error(k->ctx, DH_ERR_FORMAT, -1, offset, 0, msg);
}

static void *evxml_state_new(const dh_scan_opts *opts)
{
    (void)opts;
    return evxml_reader_new();
}

static void evxml_state_free(void *state)
{
    evxml_reader_free(state);
}

static dh_status evxml_decode_unit(void *state, const dh_reader_unit *u, const dh_reader_sink *sink,
                                   dh_reader_result *res)
{
    dh_status st =
        evxml_decode(state, u->buf, u->len, u->file, u->offset, sink->on_event, sink->ctx,
                     xml_error, (void *)sink, &res->records, &res->records_bad);
    res->damaged = res->records_bad ? 1 : 0;
    return st;
}

const dh_reader dh_reader_xml = {
    .name = "xml",
    .format = DH_FORMAT_XML,
    .sniff = evxml_sniff,
    .cut = evxml_cut_row,
    .record_end = DH_END_XML_ELEMENT,
    .state_new = evxml_state_new,
    .state_free = evxml_state_free,
    .decode = evxml_decode_unit,
};
