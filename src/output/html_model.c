/* The HTML report's page model (html_model.h): writing and decoding a finding's record, and
 * the record of a finding's JSON line (the filler `report` uses). */
#include <string.h>

#include "core/escape.h"
#include "output/html_model.h"
#include "output/json.h"

const uint8_t html_list_width[HL_N] = {
    [HL_REASONS] = 1,    [HL_COMMANDS] = 1, [HL_CUTS] = 3,           [HL_UNDECIDED] = 1,
    [HL_RULE_NAMES] = 1, [HL_RULE_IDS] = 1, [HL_EVIDENCE] = HE_COLS, [HL_INVESTIGATE] = 1,
    [HL_RESPOND] = 1,    [HL_PIVOTS] = 3,
};

void html_rec_u32(dh_buf *b, uint32_t v)
{
    dh_buf_append(b, &v, sizeof v);
}

void html_rec_str(dh_buf *b, const char *p, size_t n)
{
    html_rec_u32(b, (uint32_t)n);
    if (n)
        dh_buf_append(b, p, n);
}

/* The value as the JSON lines reader gives it back: written by dh_json_string (what the
 * JSON lines writer does) and unescaped as the reader does, so both fillers print the same
 * bytes by construction. */
void html_rec_norm(dh_buf *b, dh_buf *scratch, const char *p, size_t n)
{
    dh_buf_reset(scratch);
    size_t at = b->len;
    html_rec_u32(b, 0);
    if (dh_json_string(scratch, p ? p : "", n) != DH_OK || scratch->len < 2)
        return;
    size_t start = b->len;
    if (dh_json_unescape(b, scratch->data + 1, scratch->len - 2)) {
        dh_buf_truncate(b, start);
        return;
    }
    uint32_t len = (uint32_t)(b->len - start);
    if (b->data)
        memcpy(b->data + at, &len, sizeof len);
}

/* Appends the text of token t as a record string. */
static void tok_str(dh_buf *b, const dh_jdoc *d, int t)
{
    size_t at = b->len;
    html_rec_u32(b, 0);
    size_t start = b->len;
    dh_jdoc_text(d, t, b);
    uint32_t len = (uint32_t)(b->len - start);
    if (b->data && b->len >= at + sizeof len)
        memcpy(b->data + at, &len, sizeof len);
}

/* A list member `arr` of the line: its length, then its first MAX_LIST items; an item of
 * width 1 is the element's text, wider ones the members `keys` of the element. */
static void tok_list(dh_buf *b, const dh_jdoc *d, int arr, const char *const *keys, int width)
{
    uint32_t total = (uint32_t)dh_jdoc_len(d, arr);
    uint32_t kept = total < MAX_LIST ? total : MAX_LIST;
    html_rec_u32(b, total);
    html_rec_u32(b, kept);
    uint32_t n = 0;
    for (int t = dh_jdoc_next(d, arr, -1); t >= 0 && n < kept; t = dh_jdoc_next(d, arr, t), n++) {
        if (!keys)
            tok_str(b, d, t);
        else
            for (int k = 0; k < width; k++)
                tok_str(b, d, dh_jdoc_get(d, t, keys[k]));
    }
    for (; n < kept; n++) /* cannot happen: an array has as many elements as its size */
        for (int k = 0; k < width; k++)
            html_rec_str(b, "", 0);
}

void html_rec_from_jdoc(dh_buf *b, const dh_jdoc *d)
{
    static const char *const cut_keys[] = {"value", "length", "kept"};
    static const char *const ev_keys[] = {"role",     "time", "host",      "channel",
                                          "event_id", "kind", "record_id", "file"};
    static const char *const piv_keys[] = {"language", "title", "query"};
    int src = dh_jdoc_get(d, 0, "source"), dst = dh_jdoc_get(d, 0, "target");
    int sb = dh_jdoc_get(d, 0, "suppressed_by"), drop = dh_jdoc_get(d, 0, "dropped");
    unsigned flags = (dh_jdoc_true(d, dh_jdoc_get(d, 0, "suppressed")) ? HF_SUPPRESSED : 0) |
                     (sb >= 0 ? HF_HAS_SB : 0) | (drop >= 0 ? HF_HAS_DROP : 0);
    html_rec_u32(b, flags);
    static const char *const top[] = {
        [HV_ID] = "id",
        [HV_KIND] = "kind",
        [HV_SEVERITY] = "severity",
        [HV_CONFIDENCE] = "confidence",
        [HV_TECHNIQUE] = "technique",
        [HV_COM] = "com_object",
        [HV_CLSID] = "clsid",
        [HV_USER] = "user",
        [HV_LOGON_ID] = "logon_id",
        [HV_FIRST] = "first_seen",
        [HV_LAST] = "last_seen",
    };
    for (int v = 0; v < HV_N; v++) {
        int t = -1;
        switch (v) {
        case HV_DST_HOST:
            t = dh_jdoc_get(d, dst, "host");
            break;
        case HV_DST_IP:
            t = dh_jdoc_get(d, dst, "ip");
            break;
        case HV_SRC_HOST:
            t = dh_jdoc_get(d, src, "host");
            break;
        case HV_SRC_IP:
            t = dh_jdoc_get(d, src, "ip");
            break;
        case HV_SB_REASON:
            t = dh_jdoc_get(d, sb, "reason");
            break;
        case HV_SB_FILTER:
            t = dh_jdoc_get(d, sb, "filter");
            break;
        case HV_SB_ID:
            t = dh_jdoc_get(d, sb, "id");
            break;
        case HV_SB_EXPIRES:
            t = dh_jdoc_get(d, sb, "expires");
            break;
        case HV_SB_ORIGIN:
            t = dh_jdoc_get(d, sb, "origin");
            break;
        case HV_DROP_COMMANDS:
            t = dh_jdoc_get(d, drop, "commands");
            break;
        case HV_DROP_EVIDENCE:
            t = dh_jdoc_get(d, drop, "evidence");
            break;
        case HV_DROP_RULES:
            t = dh_jdoc_get(d, drop, "rules");
            break;
        default:
            t = dh_jdoc_get(d, 0, top[v]);
            break;
        }
        tok_str(b, d, t);
    }
    tok_list(b, d, dh_jdoc_get(d, 0, "confidence_reasons"), NULL, 1);
    tok_list(b, d, dh_jdoc_get(d, 0, "commands"), NULL, 1);
    tok_list(b, d, dh_jdoc_get(d, 0, "truncated"), cut_keys, 3);
    tok_list(b, d, dh_jdoc_get(d, 0, "undecided_rules"), NULL, 1);
    tok_list(b, d, dh_jdoc_get(d, 0, "rule_names"), NULL, 1);
    tok_list(b, d, dh_jdoc_get(d, 0, "rule_ids"), NULL, 1);
    tok_list(b, d, dh_jdoc_get(d, 0, "evidence"), ev_keys, HE_COLS);
    tok_list(b, d, dh_jdoc_get(d, 0, "investigate"), NULL, 1);
    tok_list(b, d, dh_jdoc_get(d, 0, "respond"), NULL, 1);
    tok_list(b, d, dh_jdoc_get(d, 0, "pivots"), piv_keys, 3);
}

static int get_u32(const char **p, const char *end, uint32_t *v)
{
    if ((size_t)(end - *p) < sizeof *v)
        return -1;
    memcpy(v, *p, sizeof *v);
    *p += sizeof *v;
    return 0;
}

static int get_str(const char **p, const char *end, dh_jstr *s)
{
    uint32_t n;
    if (get_u32(p, end, &n) < 0 || (size_t)(end - *p) < n)
        return -1;
    s->p = *p, s->n = n;
    *p += n;
    return 0;
}

int html_rec_decode(const char *rec, size_t n, html_finding *f)
{
    const char *p = rec, *end = rec + n;
    uint32_t flags;
    if (get_u32(&p, end, &flags) < 0)
        return -1;
    f->flags = flags;
    for (int v = 0; v < HV_N; v++)
        if (get_str(&p, end, &f->v[v]) < 0)
            return -1;
    for (int l = 0; l < HL_N; l++) {
        html_list *L = &f->l[l];
        if (get_u32(&p, end, &L->total) < 0 || get_u32(&p, end, &L->kept) < 0)
            return -1;
        L->at = p;
        for (uint32_t i = 0; i < L->kept * html_list_width[l]; i++) {
            dh_jstr s;
            if (get_str(&p, end, &s) < 0)
                return -1;
        }
    }
    return p == end ? 0 : -1;
}

dh_jstr html_rec_next(const char **cur)
{
    uint32_t n;
    memcpy(&n, *cur, sizeof n);
    dh_jstr s = {*cur + sizeof n, n};
    *cur += sizeof n + n;
    return s;
}
