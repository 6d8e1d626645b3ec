/* Sigma conditions: `and`, `or`, `not`, parentheses, `N of pattern`, `all of pattern`,
 * `1 of them`, `all of them`. Precedence (highest first): not, and, or. Patterns take
 * `*` as a wildcard over search identifier names. Aggregations (`| count() ...`) are the
 * deprecated form of correlation rules and are refused with that reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/sigma.h"

#define MAX_COND_DEPTH 64

typedef struct parser {
    const char *s;
    size_t pos, len;
    const search_id *ids;
    size_t nids;
    char *err;
    size_t errcap;
    int failed;
    int depth;
} parser;

static void fail(parser *p, const char *msg)
{
    if (!p->failed)
        snprintf(p->err, p->errcap, "condition: %s (at offset %zu)", msg, p->pos);
    p->failed = 1;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static int is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '*' || c == '.' || c == '-';
}

/* Reads a word; returns its length (0 if none). */
static size_t peek_word(parser *p, const char **w)
{
    skip_ws(p);
    size_t i = p->pos;
    while (i < p->len && is_word_char(p->s[i]))
        i++;
    *w = p->s + p->pos;
    return i - p->pos;
}

static int word_is(const char *w, size_t n, const char *kw)
{
    return strlen(kw) == n && memcmp(w, kw, n) == 0;
}

static cond *node(uint8_t op)
{
    cond *c = calloc(1, sizeof *c);
    if (c)
        c->op = op;
    return c;
}

void sigma_cond_free(cond *c)
{
    if (!c)
        return;
    sigma_cond_free(c->a);
    sigma_cond_free(c->b);
    free(c->refs);
    free(c);
}

static int glob_name(const char *pat, size_t plen, const char *s)
{
    size_t n = strlen(s), pi = 0, si = 0, star = (size_t)-1, mark = 0;
    while (si < n) {
        if (pi < plen && pat[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (pi < plen && pat[pi] == s[si]) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return 0;
        }
    }
    while (pi < plen && pat[pi] == '*')
        pi++;
    return pi == plen;
}

static cond *parse_or(parser *p);

static cond *parse_primary(parser *p)
{
    if (++p->depth > MAX_COND_DEPTH) {
        fail(p, "nested too deeply");
        return NULL;
    }
    skip_ws(p);
    if (p->pos >= p->len) {
        fail(p, "unexpected end");
        return NULL;
    }
    if (p->s[p->pos] == '(') {
        p->pos++;
        cond *c = parse_or(p);
        skip_ws(p);
        if (!p->failed && (p->pos >= p->len || p->s[p->pos] != ')')) {
            fail(p, "missing ')'");
            sigma_cond_free(c);
            return NULL;
        }
        p->pos++;
        p->depth--;
        return c;
    }
    if (p->s[p->pos] == '|') {
        fail(p, "aggregation expressions ('| count() ...') are the deprecated form of "
                "correlation rules and are not supported; write a correlation rule");
        return NULL;
    }
    const char *w;
    size_t n = peek_word(p, &w);
    if (n == 0) {
        fail(p, "expected an identifier");
        return NULL;
    }
    if (word_is(w, n, "not")) {
        p->pos += n;
        cond *c = node(C_NOT);
        if (!c) {
            fail(p, "out of memory");
            return NULL;
        }
        c->a = parse_primary(p);
        p->depth--;
        if (!c->a) {
            sigma_cond_free(c);
            return NULL;
        }
        return c;
    }
    /* N of X / all of X / any of X */
    unsigned count = 0;
    int quant = 0;
    if (word_is(w, n, "all")) {
        quant = 1;
        count = 0;
    } else if (word_is(w, n, "any")) {
        quant = 1;
        count = 1;
    } else if (w[0] >= '0' && w[0] <= '9') {
        size_t i = 0;
        unsigned v = 0;
        while (i < n && w[i] >= '0' && w[i] <= '9' && v < 100000)
            v = v * 10 + (unsigned)(w[i++] - '0');
        if (i == n) {
            quant = 1;
            count = v;
            if (v == 0) {
                fail(p, "'0 of' selects nothing");
                return NULL;
            }
        }
    }
    if (quant) {
        size_t save = p->pos;
        p->pos += n;
        const char *w2;
        size_t n2 = peek_word(p, &w2);
        if (word_is(w2, n2, "of")) {
            p->pos += n2;
            const char *pat;
            size_t np = peek_word(p, &pat);
            if (np == 0) {
                fail(p, "'of' needs a pattern or 'them'");
                return NULL;
            }
            p->pos += np;
            cond *c = node(C_OF);
            if (!c || !(c->refs = calloc(p->nids ? p->nids : 1, sizeof *c->refs))) {
                sigma_cond_free(c);
                fail(p, "out of memory");
                return NULL;
            }
            int them = word_is(pat, np, "them");
            for (size_t i = 0; i < p->nids; i++) {
                /* "them" means every search identifier except those starting with '_'. */
                if (them ? p->ids[i].name[0] != '_' : glob_name(pat, np, p->ids[i].name))
                    c->refs[c->nrefs++] = (int)i;
            }
            if (c->nrefs == 0) {
                sigma_cond_free(c);
                fail(p, "pattern matches no search identifier");
                return NULL;
            }
            c->count = count;
            p->depth--;
            return c;
        }
        p->pos = save;
    }
    if (word_is(w, n, "and") || word_is(w, n, "or") || word_is(w, n, "of")) {
        fail(p, "operator where an identifier was expected");
        return NULL;
    }
    for (size_t i = 0; i < p->nids; i++) {
        if (strlen(p->ids[i].name) == n && memcmp(p->ids[i].name, w, n) == 0) {
            p->pos += n;
            cond *c = node(C_REF);
            if (!c) {
                fail(p, "out of memory");
                return NULL;
            }
            c->ref = (int)i;
            p->depth--;
            return c;
        }
    }
    char msg[160];
    snprintf(msg, sizeof msg, "unknown search identifier '%.*s'", (int)(n > 100 ? 100 : n), w);
    fail(p, msg);
    return NULL;
}

/* One precedence level: operands from `operand`, joined by the keyword `kw` into op. */
static cond *parse_binary(parser *p, cond *(*operand)(parser *), const char *kw, uint8_t op)
{
    cond *left = operand(p);
    while (left && !p->failed) {
        const char *w;
        size_t n = peek_word(p, &w);
        if (!word_is(w, n, kw))
            break;
        p->pos += n;
        cond *right = operand(p);
        if (!right) {
            sigma_cond_free(left);
            return NULL;
        }
        cond *c = node(op);
        if (!c) {
            sigma_cond_free(left);
            sigma_cond_free(right);
            fail(p, "out of memory");
            return NULL;
        }
        c->a = left;
        c->b = right;
        left = c;
    }
    return left;
}

static cond *parse_and(parser *p)
{
    return parse_binary(p, parse_primary, "and", C_AND);
}

static cond *parse_or(parser *p)
{
    return parse_binary(p, parse_and, "or", C_OR);
}

cond *sigma_cond_parse(const char *text, const search_id *ids, size_t nids, char *err,
                       size_t errcap)
{
    parser p = {
        .s = text, .len = strlen(text), .ids = ids, .nids = nids, .err = err, .errcap = errcap};
    cond *c = parse_or(&p);
    if (c && !p.failed) {
        skip_ws(&p);
        if (p.pos < p.len) {
            if (p.s[p.pos] == '|')
                fail(&p, "aggregation expressions ('| count() ...') are the deprecated form "
                         "of correlation rules and are not supported; write a correlation "
                         "rule");
            else
                fail(&p, "unexpected text after the condition");
        }
    }
    if (p.failed) {
        sigma_cond_free(c);
        return NULL;
    }
    return c;
}
