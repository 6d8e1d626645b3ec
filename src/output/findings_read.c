/* Reading findings back from their JSON lines (findings_read.h). */
#include "output/findings_read.h"

#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "core/escape.h"

#define MAX_TOKENS (1u << 20) /* per line (20 MiB of tokens): more is refused */

struct dh_findings_reader {
    jsmntok_t *tok;
    unsigned tokcap;
};

#define TOK(d) ((const jsmntok_t *)(d)->tok)

dh_findings_reader *dh_findings_reader_new(void)
{
    return calloc(1, sizeof(dh_findings_reader));
}

void dh_findings_reader_free(dh_findings_reader *r)
{
    if (!r)
        return;
    free(r->tok);
    free(r);
}

/* Whether the line nests no deeper than MAX_DEPTH. jsmn with parent links closes a bracket
 * by walking up from the last token, which is quadratic in the depth: a line of 100,000
 * nested brackets took 28 s. A finding nests 3 deep. */
#define MAX_DEPTH 64
static int depth_ok(const char *s, size_t n)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > MAX_DEPTH)
                return 0;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 1;
}

const char *dh_findings_reader_parse(dh_findings_reader *r, const char *line, size_t len,
                                     dh_jdoc *d)
{
    if (!depth_ok(line, len))
        return "JSON nested deeper than 64 levels";
    jsmn_parser p;
    jsmn_init(&p);
    int n = jsmn_parse(&p, line, len, NULL, 0); /* count first: tokens are then sized once */
    if (n == JSMN_ERROR_PART)
        return "not valid JSON (cut short)";
    if (n < 0)
        return "not valid JSON";
    if (n == 0)
        return "not a JSON object";
    if ((unsigned)n > MAX_TOKENS)
        return "more than 1048576 JSON values on one line";
    if ((unsigned)n > r->tokcap) {
        jsmntok_t *t = realloc(r->tok, (size_t)n * sizeof *t);
        if (!t)
            return "out of memory";
        r->tok = t, r->tokcap = (unsigned)n;
    }
    jsmn_init(&p);
    n = jsmn_parse(&p, line, len, r->tok, r->tokcap);
    if (n == JSMN_ERROR_PART)
        return "not valid JSON (cut short)";
    if (n <= 0)
        return "not valid JSON";
    if (r->tok[0].type != JSMN_OBJECT)
        return "not a JSON object";
    if ((size_t)r->tok[0].end != len)
        return "text after the JSON object";
    d->js = line, d->tok = r->tok, d->ntok = n;
    return NULL;
}

const char *dh_findings_reader_finding(dh_findings_reader *r, const char *line, size_t len,
                                       dh_jdoc *d)
{
    const char *why = dh_findings_reader_parse(r, line, len, d);
    if (why)
        return why;
    int id = dh_jdoc_get(d, 0, "id"), kind = dh_jdoc_get(d, 0, "kind");
    if (!dh_jdoc_is_string(d, id) || !dh_jdoc_is_string(d, kind))
        return "not a finding (no \"id\" and \"kind\" strings)";
    return NULL;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

int dh_findings_next_line(const char *buf, size_t len, size_t *pos, uint64_t *lineno, size_t *s,
                          size_t *e, size_t *start)
{
    if (*pos == 0 && len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        *pos = 3; /* a byte-order mark, as some editors save */
    while (*pos < len) {
        const char *nl = memchr(buf + *pos, '\n', len - *pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        *s = *pos, *e = end, *start = *pos;
        *pos = nl ? end + 1 : len;
        (*lineno)++;
        while (*s < *e && is_blank(buf[*s]))
            (*s)++;
        while (*e > *s && is_blank(buf[*e - 1]))
            (*e)--;
        if (*s < *e)
            return 1;
    }
    return 0;
}

/* Appends the JSON string body s[0..n) to b with its escapes resolved (jsmn has checked
 * them; a lone surrogate becomes U+FFFD). Raw bytes pass as they are; html_text checks
 * their UTF-8 and shows control characters. */
static void json_unescape(dh_buf *b, const char *s, size_t n)
{
    size_t at = b->len;
    if (dh_json_unescape(b, s, n))
        dh_buf_truncate(b,
                        at); /* cannot happen after jsmn's check, or the page's cap was reached */
}

/* The value of a key of object `obj`: a token index, or -1. Keys are compared as written
 * (a key spelled with \u escapes is not found, which only hides the attacker's own field). */
int dh_jdoc_get(const dh_jdoc *d, int obj, const char *key)
{
    if (obj < 0 || obj >= d->ntok || TOK(d)[obj].type != JSMN_OBJECT)
        return -1;
    size_t kl = strlen(key);
    int end = TOK(d)[obj].end;
    for (int i = obj + 1; i + 1 < d->ntok && TOK(d)[i].start < end; i++) {
        const jsmntok_t *t = &TOK(d)[i];
        if (t->parent != obj || t->type != JSMN_STRING || t->size != 1)
            continue;
        if ((size_t)(t->end - t->start) == kl && memcmp(d->js + t->start, key, kl) == 0)
            return i + 1;
    }
    return -1;
}

/* The element of array `arr` after `prev` (-1: the first), or -1. */
int dh_jdoc_next(const dh_jdoc *d, int arr, int prev)
{
    if (arr < 0 || arr >= d->ntok || TOK(d)[arr].type != JSMN_ARRAY)
        return -1;
    int end = TOK(d)[arr].end;
    for (int i = prev < 0 ? arr + 1 : prev + 1; i < d->ntok && TOK(d)[i].start < end; i++)
        if (TOK(d)[i].parent == arr)
            return i;
    return -1;
}

int dh_jdoc_len(const dh_jdoc *d, int arr)
{
    return arr >= 0 && TOK(d)[arr].type == JSMN_ARRAY ? TOK(d)[arr].size : 0;
}

/* Appends the text of token t to b: a string decoded, a number or true/false as written;
 * null, objects and arrays give nothing. */
void dh_jdoc_text(const dh_jdoc *d, int t, dh_buf *b)
{
    if (t < 0)
        return;
    const jsmntok_t *k = &TOK(d)[t];
    const char *s = d->js + k->start;
    size_t n = (size_t)(k->end - k->start);
    if (k->type == JSMN_STRING)
        json_unescape(b, s, n);
    else if (k->type == JSMN_PRIMITIVE && !(n == 4 && memcmp(s, "null", 4) == 0))
        dh_buf_append(b, s, n);
}

/* The text of token t in scratch buffer sc (reset first); valid until sc is used again. */
dh_jstr dh_jdoc_val(const dh_jdoc *d, int t, dh_buf *sc)
{
    dh_buf_reset(sc);
    dh_jdoc_text(d, t, sc);
    dh_jstr r = {sc->data ? sc->data : "", sc->len};
    return r;
}

int dh_jdoc_true(const dh_jdoc *d, int t)
{
    return t >= 0 && TOK(d)[t].type == JSMN_PRIMITIVE && TOK(d)[t].end - TOK(d)[t].start == 4 &&
           memcmp(d->js + TOK(d)[t].start, "true", 4) == 0;
}

int dh_jdoc_is_string(const dh_jdoc *d, int t)
{
    return t >= 0 && t < d->ntok && TOK(d)[t].type == JSMN_STRING;
}

int dh_jdoc_is_array(const dh_jdoc *d, int t)
{
    return t >= 0 && t < d->ntok && TOK(d)[t].type == JSMN_ARRAY;
}
