/* Matching compiled rules against events, and the ruleset's index and accessors.
 *
 * A dh_matcher holds what a thread needs to match (a PCRE2 match block, match context and
 * JIT stack); the rules are only read. Comparisons fold ASCII case against needles
 * lowered at compile time.
 *
 * Regular expressions run under a match limit (a rule's pattern must not cost seconds per
 * event: `(a+)+$` on a long run of a's), and a limit hit is neither a match nor a miss:
 * the condition is evaluated in three values (yes, no, undecided; Kleene's logic, so that
 * `selection and not filter` stays undecided when the filter's pattern is), and a rule
 * that comes out undecided is reported as matched and marked (dh_matcher_undecided), so
 * that padding a value cannot hide an event (docs/rules.md). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/buf.h"
#include "rules/sigma.h"

#define GLOB_STAR '\x01'
#define GLOB_ONE  '\x02'

/* Three-valued results. */
enum { NO = 0, YES = 1, UNDECIDED = 2 };

/* The match limit: about a millisecond of a JIT-compiled pattern that backtracks without
 * end (a 10,000,000 default took 35 ms for `(a+)+b|evil` on 30 a's), far above what the
 * pack's patterns and SigmaHQ's take on a 32,767-character command line. Without JIT the
 * limit applies per start position, so it is shared out over the subject's length. */
#define RE_MATCH_LIMIT   100000u
#define RE_DEPTH_LIMIT   10000u
#define RE_NOJIT_BUDGET  2000000u
#define RE_JIT_STACK_MAX (512u << 10)

struct dh_matcher {
    const dh_ruleset *rs;
    pcre2_match_data *md;
    pcre2_match_context *mc;
    pcre2_jit_stack *js;
    int undecided; /* while fn runs: the rule came out undecided */
    /* Regular-expression engine failures that are not a limit (out of memory, an internal
     * error): each leaves its test undecided, as a limit does, so nothing is hidden, and is
     * counted here so the caller reports it (dh_matcher_regex_errors) rather than taking
     * it for a miss or a limit. */
    uint64_t re_errors;
    int re_first_error; /* pcre2's code of the first */
};

dh_status dh_matcher_new(const dh_ruleset *rs, dh_matcher **out)
{
    if (!rs || !out)
        return DH_ERR_ARG;
    dh_matcher *m = calloc(1, sizeof *m);
    if (!m)
        return DH_ERR_NOMEM;
    m->rs = rs;
    m->md = pcre2_match_data_create(1, NULL);
    m->mc = pcre2_match_context_create(NULL);
    if (!m->md || !m->mc) {
        dh_matcher_free(m);
        return DH_ERR_NOMEM;
    }
    pcre2_set_match_limit(m->mc, RE_MATCH_LIMIT);
    pcre2_set_depth_limit(m->mc, RE_DEPTH_LIMIT);
    /* a stack of its own per thread: the default 32 KiB on the machine stack is shared */
    m->js = pcre2_jit_stack_create(32u << 10, RE_JIT_STACK_MAX, NULL);
    if (m->js)
        pcre2_jit_stack_assign(m->mc, NULL, m->js);
    *out = m;
    return DH_OK;
}

void dh_matcher_free(dh_matcher *m)
{
    if (!m)
        return;
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mc);
    pcre2_jit_stack_free(m->js);
    free(m);
}

int dh_matcher_undecided(const dh_matcher *m)
{
    return m->undecided;
}

static int and3(int a, int b)
{
    return a == NO || b == NO ? NO : a == YES && b == YES ? YES : UNDECIDED;
}

static int or3(int a, int b)
{
    return a == YES || b == YES ? YES : a == NO && b == NO ? NO : UNDECIDED;
}

static int re_match(dh_matcher *m, const needle *nd, dh_str v)
{
    if (!nd->jit) {
        uint32_t per = RE_NOJIT_BUDGET / (uint32_t)(v.len < RE_NOJIT_BUDGET ? v.len + 1 : 1);
        pcre2_set_match_limit(m->mc, per < 1000 ? 1000 : per);
    }
    int rc = pcre2_match(nd->re, (PCRE2_SPTR)v.ptr, v.len, 0, 0, m->md, m->mc);
    if (!nd->jit)
        pcre2_set_match_limit(m->mc, RE_MATCH_LIMIT);
    int out = sigma_re_outcome(rc);
    if (out == SIGMA_RE_ERROR) {
        if (!m->re_errors++)
            m->re_first_error = rc;
        return UNDECIDED;
    }
    return out;
}

int sigma_re_outcome(int rc)
{
    if (rc >= 0)
        return YES;
    switch (rc) {
    case PCRE2_ERROR_NOMATCH:
        return NO;
    case PCRE2_ERROR_MATCHLIMIT: /* the limits a pattern's cost can reach: undecided */
    case PCRE2_ERROR_DEPTHLIMIT:
    case PCRE2_ERROR_HEAPLIMIT:
    case PCRE2_ERROR_JIT_STACKLIMIT:
        return UNDECIDED;
    default: /* the engine failed: neither a miss nor a limit */
        return SIGMA_RE_ERROR;
    }
}

uint64_t dh_matcher_regex_errors(const dh_matcher *m, char *msg, size_t cap)
{
    if (msg && cap) {
        msg[0] = 0;
        if (m->re_errors && pcre2_get_error_message(m->re_first_error, (PCRE2_UCHAR *)msg, cap) < 0)
            snprintf(msg, cap, "PCRE2 error %d", m->re_first_error);
    }
    return m->re_errors;
}

static int ci_eq(const char *a, const char *lowered, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sigma_lower[(unsigned char)a[i]] != (unsigned char)lowered[i])
            return 0;
    return 1;
}

/* The ASCII upper case of a lowered needle byte (the byte itself when not a letter). */
static unsigned char upper_of(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c;
}

static int ci_contains(const char *h, size_t hn, const char *n, size_t nn)
{
    if (nn == 0)
        return 1;
    if (nn > hn)
        return 0;
    unsigned char f = (unsigned char)n[0];
    unsigned char fu = upper_of(f);
    size_t last = hn - nn; /* the last start position */
    size_t i = 0;
#ifdef __SSE2__
    /* Sixteen start positions per step, a candidate where the first two bytes both match
     * (either case): byte by byte, the first-byte scan over command lines was a seventh of
     * hunt's instructions on the corpus chunks (callgrind, 2026-12-07). The second load
     * reads h[i + 1, i + 17), inside h because nn >= 2 and i + 15 <= last. */
    if (nn >= 2) {
        unsigned char s2 = (unsigned char)n[1], s2u = upper_of(s2);
        const __m128i vf = _mm_set1_epi8((char)f), vfu = _mm_set1_epi8((char)fu);
        const __m128i vs = _mm_set1_epi8((char)s2), vsu = _mm_set1_epi8((char)s2u);
        for (; i + 15 <= last; i += 16) {
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(h + i));
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(h + i + 1));
            __m128i m1 = _mm_or_si128(_mm_cmpeq_epi8(a, vf), _mm_cmpeq_epi8(a, vfu));
            __m128i m2 = _mm_or_si128(_mm_cmpeq_epi8(b, vs), _mm_cmpeq_epi8(b, vsu));
            unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(m1, m2));
            while (mask) {
                unsigned bit = (unsigned)__builtin_ctz(mask);
                if (ci_eq(h + i + bit + 2, n + 2, nn - 2))
                    return 1;
                mask &= mask - 1;
            }
        }
    }
#endif
    for (; i <= last; i++) {
        unsigned char c = (unsigned char)h[i];
        if ((c == f || c == fu) && ci_eq(h + i + 1, n + 1, nn - 1))
            return 1;
    }
    return 0;
}

static int cs_contains(const char *h, size_t hn, const char *n, size_t nn)
{
    if (nn == 0)
        return 1;
    for (size_t i = 0; i + nn <= hn; i++)
        if (h[i] == n[0] && memcmp(h + i, n, nn) == 0)
            return 1;
    return 0;
}

/* Glob with '*' and '?' markers; iterative with one backtrack point (linear-ish). */
static int glob(const char *p, size_t pn, const char *s, size_t sn, int cased)
{
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
    while (si < sn) {
        if (pi < pn && p[pi] == GLOB_STAR) {
            star = pi++;
            mark = si;
            continue;
        }
        if (pi < pn) {
            unsigned char pc = (unsigned char)p[pi];
            unsigned char sc = (unsigned char)s[si];
            if (!cased)
                sc = sigma_lower[sc];
            if (pc == (unsigned char)GLOB_ONE) {
                /* '?' is one character: skip a whole UTF-8 sequence. */
                si++;
                while (si < sn && ((unsigned char)s[si] & 0xC0) == 0x80)
                    si++;
                pi++;
                continue;
            }
            if (pc == sc) {
                pi++;
                si++;
                continue;
            }
        }
        if (star == (size_t)-1)
            return 0;
        pi = star + 1;
        si = ++mark;
    }
    while (pi < pn && p[pi] == GLOB_STAR)
        pi++;
    return pi == pn;
}

static int parse_num(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    if (n > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X'))
        *out = (double)strtoull(buf, &end, 16);
    else
        *out = strtod(buf, &end);
    return *end ? -1 : 0;
}

static int cidr_match(const needle *nd, const char *s, size_t n)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    uint8_t a[16];
    const char *v = buf;
    if (nd->family == 4) {
        if (!strncasecmp(v, "::ffff:", 7))
            v += 7;
        if (inet_pton(AF_INET, v, a) != 1)
            return 0;
    } else if (inet_pton(AF_INET6, v, a) != 1) {
        return 0;
    }
    unsigned bits = nd->prefix;
    for (unsigned i = 0; bits; i++) {
        unsigned take = bits >= 8 ? 8 : bits;
        uint8_t mask = (uint8_t)(0xFF << (8 - take));
        if ((a[i] & mask) != (nd->addr[i] & mask))
            return 0;
        bits -= take;
    }
    return 1;
}

/* Does a data name with spaces ("Threat Name", as Windows Defender's Operational log
 * writes its event data) equal a rule's field name without them ("ThreatName", as Sigma
 * rules write every field)? Case-insensitive, as all field names. */
static int name_eq_but_spaces(dh_str name, const char *f, size_t flen)
{
    /* The first byte decides most names without a scan for a space: every data name of
     * every event is offered to each by-name field of each rule. */
    if (name.len && flen && name.ptr[0] != ' ' &&
        sigma_lower[(unsigned char)name.ptr[0]] != sigma_lower[(unsigned char)f[0]])
        return 0;
    if (!memchr(name.ptr, ' ', name.len))
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < name.len; i++) {
        if (name.ptr[i] == ' ')
            continue;
        if (k >= flen ||
            sigma_lower[(unsigned char)name.ptr[i]] != sigma_lower[(unsigned char)f[k]])
            return 0;
        k++;
    }
    return k == flen;
}

/* Can data name `name` be field f, by name or with spaces (name_eq_but_spaces)? A quick
 * no on the length and the first byte, before any comparison call: every data name of
 * the event is offered to each by-name field of each rule (a tenth of hunt's matching,
 * callgrind 2026-12-07). */
static inline int name_may_be(dh_str name, const field_ref *f)
{
    if (name.len < f->len)
        return 0;
    if (!f->len || !name.len || name.ptr[0] == ' ')
        return 1;
    return sigma_lower[(unsigned char)name.ptr[0]] == sigma_lower[(unsigned char)f->name[0]];
}

int sigma_field_value(const field_ref *f, const dh_event *ev, char *num, dh_str *out)
{
    switch (f->id) {
    case FIELD_EVENT_ID:
        *out = (dh_str){num, (size_t)snprintf(num, 24, "%u", dh_event_id(ev))};
        return 1;
    case FIELD_RECORD_ID:
        *out = (dh_str){
            num, (size_t)snprintf(num, 24, "%llu", (unsigned long long)dh_event_record_id(ev))};
        return 1;
    case FIELD_CHANNEL:
        *out = dh_event_channel(ev);
        return 1;
    case FIELD_PROVIDER:
        *out = dh_event_provider(ev);
        return 1;
    case FIELD_COMPUTER:
        *out = dh_event_host(ev);
        return 1;
    case FIELD_KEYWORDS:
        return 0;
    default:
        if (f->id >= 0 && dh_event_field(ev, (dh_field)f->id, out))
            return 1;
        size_t n;
        const dh_kv *kv = dh_event_data(ev, &n);
        for (size_t i = 0; i < n; i++)
            if (!name_may_be(kv[i].name, f))
                continue;
            else if ((kv[i].name.len == f->len && !strncasecmp(kv[i].name.ptr, f->name, f->len)) ||
                     (kv[i].name.len > f->len && name_eq_but_spaces(kv[i].name, f->name, f->len))) {
                *out = kv[i].value;
                return 1;
            }
        /* Not in the event data: a System property (Level, Keywords, UserID...). */
        return dh_event_system_get(ev, f->name, f->len, out);
    }
}

/* Visits the values of a field: YES at the first value fn says YES to, else UNDECIDED if
 * fn said so of one, else NO. */
typedef int (*value_fn)(dh_matcher *m, const needle *nd, const dh_event *ev, dh_str v);

static int each_value(dh_matcher *m, const field_ref *f, const dh_event *ev, const needle *nd,
                      value_fn fn, int *present)
{
    int any = NO;
    dh_str v;
    char num[24];
    *present = 0;
    switch (f->id) {
    case FIELD_EVENT_ID: {
        int k = snprintf(num, sizeof num, "%u", dh_event_id(ev));
        *present = 1;
        return fn(m, nd, ev, (dh_str){num, (size_t)k});
    }
    case FIELD_RECORD_ID: {
        int k = snprintf(num, sizeof num, "%llu", (unsigned long long)dh_event_record_id(ev));
        *present = 1;
        return fn(m, nd, ev, (dh_str){num, (size_t)k});
    }
    case FIELD_CHANNEL:
        *present = 1;
        return fn(m, nd, ev, dh_event_channel(ev));
    case FIELD_PROVIDER:
        *present = 1;
        return fn(m, nd, ev, dh_event_provider(ev));
    case FIELD_COMPUTER:
        *present = 1;
        return fn(m, nd, ev, dh_event_host(ev));
    case FIELD_KEYWORDS: {
        size_t n;
        const dh_kv *kv = dh_event_data(ev, &n);
        *present = n > 0;
        for (size_t i = 0; i < n && any != YES; i++)
            any = or3(any, fn(m, nd, ev, kv[i].value));
        return any;
    }
    default:
        if (f->id >= 0 && dh_event_field(ev, (dh_field)f->id, &v)) {
            *present = 1;
            return fn(m, nd, ev, v);
        }
        {
            size_t n;
            const dh_kv *kv = dh_event_data(ev, &n);
            for (size_t i = 0; i < n && any != YES; i++) {
                if (!name_may_be(kv[i].name, f))
                    continue;
                if ((kv[i].name.len != f->len || strncasecmp(kv[i].name.ptr, f->name, f->len)) &&
                    !(kv[i].name.len > f->len && name_eq_but_spaces(kv[i].name, f->name, f->len)))
                    continue;
                *present = 1;
                any = or3(any, fn(m, nd, ev, kv[i].value));
            }
        }
        /* Not in the event data: a System property (Level, Keywords, UserID...). */
        if (!*present && dh_event_system_get(ev, f->name, f->len, &v)) {
            *present = 1;
            return fn(m, nd, ev, v);
        }
        return any;
    }
}

static int value_matches(dh_matcher *m, const needle *nd, const dh_event *ev, dh_str v);

static int ref_value_matches(dh_matcher *m, const needle *nd, const dh_event *ev, dh_str other)
{
    (void)m;
    (void)ev;
    /* nd->s holds the value of the field under test (see fieldref_matches). */
    const char *a = nd->s;
    size_t an = nd->len;
    int cased = nd->cased;
    switch (nd->ref_mode) {
    case N_CONTAINS:
        if (cased)
            return cs_contains(a, an, other.ptr, other.len);
        for (size_t i = 0; i + other.len <= an; i++)
            if (!strncasecmp(a + i, other.ptr, other.len))
                return 1;
        return other.len == 0;
    case N_STARTS:
        return other.len <= an &&
               (cased ? !memcmp(a, other.ptr, other.len) : !strncasecmp(a, other.ptr, other.len));
    case N_ENDS:
        return other.len <= an && (cased ? !memcmp(a + an - other.len, other.ptr, other.len)
                                         : !strncasecmp(a + an - other.len, other.ptr, other.len));
    default:
        return other.len == an &&
               (cased ? !memcmp(a, other.ptr, an) : !strncasecmp(a, other.ptr, an));
    }
}

static int fieldref_matches(dh_matcher *m, const needle *nd, const dh_event *ev, dh_str v)
{
    needle probe = *nd;
    probe.s = (char *)v.ptr; /* read only */
    probe.len = v.len;
    int present;
    return each_value(m, &nd->ref, ev, &probe, ref_value_matches, &present);
}

static int value_matches(dh_matcher *m, const needle *nd, const dh_event *ev, dh_str v)
{
    switch (nd->kind) {
    case N_EQ:
        return v.len == nd->len &&
               (nd->cased ? !memcmp(v.ptr, nd->s, v.len) : ci_eq(v.ptr, nd->s, v.len));
    case N_CONTAINS:
        return nd->cased ? cs_contains(v.ptr, v.len, nd->s, nd->len)
                         : ci_contains(v.ptr, v.len, nd->s, nd->len);
    case N_STARTS:
        return v.len >= nd->len &&
               (nd->cased ? !memcmp(v.ptr, nd->s, nd->len) : ci_eq(v.ptr, nd->s, nd->len));
    case N_ENDS:
        return v.len >= nd->len && (nd->cased ? !memcmp(v.ptr + v.len - nd->len, nd->s, nd->len)
                                              : ci_eq(v.ptr + v.len - nd->len, nd->s, nd->len));
    case N_GLOB:
        return glob(nd->s, nd->len, v.ptr, v.len, nd->cased);
    case N_RE:
        return re_match(m, nd, v);
    case N_CIDR:
        return cidr_match(nd, v.ptr, v.len);
    case N_NUM: {
        double x;
        if (parse_num(v.ptr, v.len, &x))
            return 0;
        switch (nd->cmp) {
        case CMP_GT:
            return x > nd->num;
        case CMP_GTE:
            return x >= nd->num;
        case CMP_LT:
            return x < nd->num;
        default:
            return x <= nd->num;
        }
    }
    case N_FIELDREF:
        return fieldref_matches(m, nd, ev, v);
    case N_NULL:
        return 0; /* only an absent field is null; '' is a value */
    default:
        return 0;
    }
}

static int group_matches(dh_matcher *m, const field_test *t, const needle_group *g,
                         const dh_event *ev)
{
    int any = NO;
    for (size_t k = 0; k < g->nalt && any != YES; k++) {
        const needle *nd = &g->alt[k];
        int present;
        int r = each_value(m, &t->field, ev, nd, value_matches, &present);
        if (nd->kind == N_EXISTS)
            r = present == nd->exists ? YES : NO;
        else if (nd->kind == N_NULL && !present)
            r = YES;
        any = or3(any, r);
    }
    return any;
}

static int test_matches(dh_matcher *m, const field_test *t, const dh_event *ev)
{
    int acc = t->all ? YES : NO;
    for (size_t i = 0; i < t->ng; i++) {
        int r = group_matches(m, t, &t->g[i], ev);
        acc = t->all ? and3(acc, r) : or3(acc, r);
        if (acc == (t->all ? NO : YES))
            break;
    }
    return acc;
}

static int search_matches(dh_matcher *m, const search_id *s, const dh_event *ev)
{
    int any = NO;
    for (size_t i = 0; i < s->nsel && any != YES; i++) {
        const selection *sel = &s->sel[i];
        int all = YES;
        for (size_t k = 0; k < sel->nt && all != NO; k++)
            all = and3(all, test_matches(m, &sel->t[k], ev));
        any = or3(any, all);
    }
    return any;
}

static int eval(dh_matcher *m, const dh_rule *r, const cond *c, const dh_event *ev)
{
    switch (c->op) {
    case C_REF:
        return search_matches(m, &r->ids[c->ref], ev);
    case C_AND: {
        int a = eval(m, r, c->a, ev);
        return a == NO ? NO : and3(a, eval(m, r, c->b, ev));
    }
    case C_OR: {
        int a = eval(m, r, c->a, ev);
        return a == YES ? YES : or3(a, eval(m, r, c->b, ev));
    }
    case C_NOT: {
        int a = eval(m, r, c->a, ev);
        return a == UNDECIDED ? UNDECIDED : a == YES ? NO : YES;
    }
    case C_OF: {
        unsigned need = c->count ? c->count : (unsigned)c->nrefs, yes = 0, und = 0;
        for (size_t i = 0; i < c->nrefs; i++) {
            int v = search_matches(m, &r->ids[c->refs[i]], ev);
            yes += v == YES;
            und += v == UNDECIDED;
            if (yes >= need)
                return YES;
            if (!c->count && v == NO)
                return NO; /* all of: one miss is enough */
        }
        return yes + und >= need ? UNDECIDED : NO;
    }
    case C_TRUE:
        return YES;
    }
    return NO;
}

int sigma_rule_matches(dh_matcher *m, const dh_rule *r, const dh_event *ev)
{
    if (r->channel) {
        dh_str ch = dh_event_channel(ev);
        size_t n = strlen(r->channel);
        if (ch.len != n || strncasecmp(ch.ptr, r->channel, n) != 0)
            return NO;
    }
    return eval(m, r, r->cond, ev);
}

size_t dh_matcher_run(dh_matcher *m, const dh_event *ev, dh_match_fn fn, void *ctx)
{
    const dh_ruleset *rs = m->rs;
    unsigned k = (unsigned)dh_event_kind(ev);
    if (k >= 64)
        return 0;
    size_t n = rs->by_kind_n[k];
    const uint32_t *list = rs->by_kind[k];
    for (size_t i = 0; i < n; i++) {
        const dh_rule *r = rs->rules[list[i]];
        int v = sigma_rule_matches(m, r, ev);
        if (v == NO)
            continue;
        m->undecided = v == UNDECIDED;
        fn(ctx, r, ev);
        m->undecided = 0;
    }
    return n;
}

dh_status dh_ruleset_finish(dh_ruleset *rs)
{
    if (rs->finished)
        return DH_OK;
    if (sigma_resolve_correlations(rs))
        return DH_ERR_NOMEM;
    for (unsigned k = 0; k < DH_KIND_COUNT; k++) {
        size_t cnt = 0;
        for (size_t i = 0; i < rs->n; i++)
            if (rs->rules[i]->kinds & (1ULL << k))
                cnt++;
        rs->by_kind[k] = malloc((cnt ? cnt : 1) * sizeof(uint32_t));
        if (!rs->by_kind[k])
            return DH_ERR_NOMEM;
        for (size_t i = 0; i < rs->n; i++)
            if (rs->rules[i]->kinds & (1ULL << k))
                rs->by_kind[k][rs->by_kind_n[k]++] = (uint32_t)i;
    }
    rs->finished = 1;
    return DH_OK;
}

size_t dh_ruleset_count(const dh_ruleset *rs)
{
    return rs->n;
}

int dh_ruleset_wants_system(const dh_ruleset *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        const dh_rule *r = rs->rules[i];
        for (size_t k = 0; k < r->nids; k++)
            for (size_t s = 0; s < r->ids[k].nsel; s++)
                for (size_t t = 0; t < r->ids[k].sel[s].nt; t++) {
                    const field_ref *f = &r->ids[k].sel[s].t[t].field;
                    if (f->id == FIELD_BY_NAME && dh_system_name(f->name, f->len))
                        return 1;
                }
    }
    return 0;
}
const dh_rule *dh_ruleset_rule(const dh_ruleset *rs, size_t i)
{
    return i < rs->n ? rs->rules[i] : NULL;
}

const dh_rule *dh_ruleset_find(const dh_ruleset *rs, const char *key)
{
    for (size_t i = 0; i < rs->n; i++)
        if (!strcmp(rs->rules[i]->id, key) ||
            (*rs->rules[i]->name && !strcmp(rs->rules[i]->name, key)))
            return rs->rules[i];
    for (size_t i = 0; i < rs->n; i++)
        if (!strcmp(rs->rules[i]->title, key))
            return rs->rules[i];
    return NULL;
}

int dh_rule_meets(const dh_rule *r, dh_kind kind, const char *channel, size_t channel_len)
{
    if ((unsigned)kind >= 64 || !(r->kinds & (1ULL << kind)))
        return 0;
    if (!r->channel)
        return 1;
    return strlen(r->channel) == channel_len && !strncasecmp(r->channel, channel, channel_len);
}

size_t dh_rule_index(const dh_rule *r)
{
    return r->index;
}
const char *dh_rule_id(const dh_rule *r)
{
    return r->id;
}
const char *dh_rule_name(const dh_rule *r)
{
    return r->name;
}
const char *dh_rule_title(const dh_rule *r)
{
    return r->title;
}
const char *dh_rule_status(const dh_rule *r)
{
    return r->status;
}
const char *dh_rule_description(const dh_rule *r)
{
    return r->description;
}
const char *dh_rule_origin(const dh_rule *r)
{
    return r->origin;
}
dh_level dh_rule_level(const dh_rule *r)
{
    return r->level;
}
const char *dh_rule_confidence(const dh_rule *r)
{
    return r->confidence;
}
size_t dh_rule_tag_count(const dh_rule *r)
{
    return r->tags.n;
}
const char *dh_rule_tag(const dh_rule *r, size_t i)
{
    return i < r->tags.n ? r->tags.v[i] : "";
}
size_t dh_rule_falsepositive_count(const dh_rule *r)
{
    return r->falsepositives.n;
}
const char *dh_rule_falsepositive(const dh_rule *r, size_t i)
{
    return i < r->falsepositives.n ? r->falsepositives.v[i] : "";
}
size_t dh_rule_guide_count(const dh_rule *r, int which)
{
    return which == 0 || which == 1 ? r->guide[which].n : 0;
}
const char *dh_rule_guide_step(const dh_rule *r, int which, size_t i)
{
    return (which == 0 || which == 1) && i < r->guide[which].n ? r->guide[which].v[i] : "";
}
const char *dh_rule_source(const dh_rule *r, size_t *len)
{
    *len = r->source ? r->source_len : 0;
    return r->source;
}

const char *dh_rule_logsource(const dh_rule *r, const char *key)
{
    /* Correlation rules have no logsource: their parts are NULL, the answer is "". */
    const char *v = NULL;
    if (!strcmp(key, "category"))
        v = r->ls_category;
    else if (!strcmp(key, "product"))
        v = r->ls_product;
    else if (!strcmp(key, "service"))
        v = r->ls_service;
    return v ? v : "";
}

/* ---- describe -------------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t cap, len;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (b->len + 1 < b->cap)
            b->p[b->len] = s[i];
        b->len++;
    }
    if (b->cap)
        b->p[b->len < b->cap ? b->len : b->cap - 1] = 0;
}

static void puts_(sbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_needle_text(sbuf *b, const needle *nd)
{
    static const char *const kinds[] = {"equals", "contains", "startswith", "endswith",
                                        "glob",   "re",       "cidr",       "number",
                                        "exists", "null",     "fieldref"};
    puts_(b, kinds[nd->kind]);
    if (nd->cased)
        puts_(b, "(cased)");
    puts_(b, " ");
    if (nd->kind == N_RE || nd->kind == N_CIDR || nd->kind == N_NUM || nd->kind == N_EXISTS ||
        nd->kind == N_NULL) {
        char tmp[160];
        if (nd->kind == N_NUM) {
            static const char *const ops[] = {">", ">=", "<", "<="};
            char num[48];
            dh_format_double(num, sizeof num, nd->num, 0); /* %g would say 1.23457e+06 */
            snprintf(tmp, sizeof tmp, "%s %s", ops[nd->cmp], num);
            puts_(b, tmp);
        } else if (nd->kind == N_EXISTS) {
            puts_(b, nd->exists ? "true" : "false");
        } else if (nd->kind == N_CIDR) {
            char a[64];
            inet_ntop(nd->family == 4 ? AF_INET : AF_INET6, nd->addr, a, sizeof a);
            snprintf(tmp, sizeof tmp, "%s/%u", a, nd->prefix);
            puts_(b, tmp);
        } else if (nd->kind == N_RE) {
            puts_(b, "(compiled)");
        }
        return;
    }
    if (nd->kind == N_FIELDREF) {
        puts_(b, nd->ref.name);
        return;
    }
    puts_(b, "'");
    for (size_t i = 0; i < nd->len; i++) {
        char c = nd->s[i];
        if (c == GLOB_STAR)
            puts_(b, "*");
        else if (c == GLOB_ONE)
            puts_(b, "?");
        else if ((unsigned char)c < 0x20 || c == 0x7f) {
            char tmp[8];
            snprintf(tmp, sizeof tmp, "\\x%02x", (unsigned char)c);
            puts_(b, tmp);
        } else
            put(b, &c, 1);
    }
    puts_(b, "'");
}

static void describe_cond(sbuf *b, const dh_rule *r, const cond *c)
{
    switch (c->op) {
    case C_REF:
        puts_(b, r->ids[c->ref].name);
        break;
    case C_AND:
    case C_OR:
        puts_(b, "(");
        describe_cond(b, r, c->a);
        puts_(b, c->op == C_AND ? " and " : " or ");
        describe_cond(b, r, c->b);
        puts_(b, ")");
        break;
    case C_NOT:
        puts_(b, "not ");
        describe_cond(b, r, c->a);
        break;
    case C_OF: {
        char tmp[32];
        if (c->count)
            snprintf(tmp, sizeof tmp, "%u of [", c->count);
        else
            snprintf(tmp, sizeof tmp, "all of [");
        puts_(b, tmp);
        for (size_t i = 0; i < c->nrefs; i++) {
            if (i)
                puts_(b, ", ");
            puts_(b, r->ids[c->refs[i]].name);
        }
        puts_(b, "]");
        break;
    }
    case C_TRUE:
        puts_(b, "true");
        break;
    }
}

/* A correlation as it will run: its rules resolved, the field each group-by entry is read
 * from per rule, the metric and condition, and when the condition is judged. */
static void describe_correlation(sbuf *b, const dh_rule *r)
{
    const corr_def *d = r->corr;
    char tmp[200];
    puts_(b, "\ncorrelation: ");
    puts_(b, sigma_corr_type_name(d->type));
    snprintf(tmp, sizeof tmp, " within %llds", (long long)d->timespan_s);
    puts_(b, tmp);
    puts_(b, "\nrules:");
    for (size_t k = 0; k < d->refs.n; k++) {
        puts_(b, "\n  ");
        puts_(b, d->refs.v[k]);
    }
    puts_(b, "\ngroup-by:");
    if (!d->group_by.n)
        puts_(b, " (none: all events of the named rules form one group)");
    for (size_t g = 0; g < d->group_by.n; g++) {
        puts_(b, "\n  ");
        puts_(b, d->group_by.v[g]);
        for (size_t k = 0; d->gb && k < d->refs.n; k++)
            if (strcmp(d->gb[k * d->group_by.n + g].name, d->group_by.v[g])) {
                puts_(b, "\n    in ");
                puts_(b, d->refs.v[k]);
                puts_(b, ": ");
                puts_(b, d->gb[k * d->group_by.n + g].name);
            }
    }
    puts_(b, "\nmetric: ");
    puts_(b, sigma_corr_metric_name(d->type));
    for (size_t f = 0; f < d->value_fields.n; f++) {
        puts_(b, f ? " and " : " ");
        puts_(b, d->value_fields.v[f]);
    }
    puts_(b, "\ncondition:");
    if (!d->has_condition && d->ncmp) {
        char num[48];
        dh_format_double(num, sizeof num, d->cmp[0].v, 0);
        snprintf(tmp, sizeof tmp, " none given, so every named rule (>= %s)", num);
        puts_(b, tmp);
    }
    if (d->has_condition) {
        puts_(b, " ");
        sigma_corr_condition_text(d, tmp, sizeof tmp);
        puts_(b, tmp);
    }
    puts_(b, d->eager ? "\njudged: at every event, over the timespan before it (a signal per run "
                        "of matching windows)"
                      : "\njudged: once per window of the timespan, when it is complete");
    if (d->generate)
        puts_(b, "\ngenerate: the named rules are reported alone too");
    puts_(b, "\n");
}

size_t dh_rule_describe(const dh_rule *r, char *out, size_t cap)
{
    sbuf b = {out, cap, 0};
    if (cap)
        out[0] = 0;
    puts_(&b, "rule: ");
    puts_(&b, r->title);
    puts_(&b, "\nid: ");
    puts_(&b, r->id);
    if (*r->name) {
        puts_(&b, "\nname: ");
        puts_(&b, r->name);
    }
    puts_(&b, "\nlevel: ");
    puts_(&b, dh_level_name(r->level));
    if (r->base_only)
        puts_(&b, "\nreported: only through the correlation rules that name it");
    if (r->corr) {
        describe_correlation(&b, r);
        return b.len;
    }
    puts_(&b, "\nevents: ");
    if (r->kinds == ~0ULL) {
        puts_(&b, "any kind");
    } else {
        int first = 1;
        for (unsigned k = 0; k < DH_KIND_COUNT; k++)
            if (r->kinds & (1ULL << k)) {
                if (!first)
                    puts_(&b, ", ");
                first = 0;
                puts_(&b, dh_kind_name((dh_kind)k));
            }
    }
    if (r->channel) {
        puts_(&b, "; channel ");
        puts_(&b, r->channel);
    }
    puts_(&b, "\ncondition: ");
    describe_cond(&b, r, r->cond);
    puts_(&b, "\n");
    for (size_t i = 0; i < r->nids; i++) {
        const search_id *s = &r->ids[i];
        puts_(&b, s->name);
        puts_(&b, ":");
        for (size_t k = 0; k < s->nsel; k++) {
            puts_(&b, k ? "\n  or all of:" : "\n  all of:");
            for (size_t t = 0; t < s->sel[k].nt; t++) {
                const field_test *ft = &s->sel[k].t[t];
                puts_(&b, "\n    ");
                puts_(&b, ft->text);
                char tmp[48];
                if (ft->field.id >= 0)
                    snprintf(tmp, sizeof tmp, " [field #%d]", ft->field.id);
                else if (ft->field.id == FIELD_BY_NAME)
                    snprintf(tmp, sizeof tmp, " [by name]");
                else
                    snprintf(tmp, sizeof tmp, " [envelope]");
                puts_(&b, tmp);
                puts_(&b, ft->all ? " every value of:" : " any value of:");
                for (size_t g = 0; g < ft->ng; g++) {
                    puts_(&b, "\n      - ");
                    for (size_t a = 0; a < ft->g[g].nalt; a++) {
                        if (a)
                            puts_(&b, " | ");
                        put_needle_text(&b, &ft->g[g].alt[a]);
                    }
                }
            }
        }
        puts_(&b, "\n");
    }
    return b.len;
}

int dh_rule_is_correlation(const dh_rule *r)
{
    return r->corr != NULL;
}

int dh_rule_reported_alone(const dh_rule *r)
{
    return !r->base_only;
}

int64_t dh_rule_correlation_timespan(const dh_rule *r)
{
    return r->corr ? r->corr->timespan_s : 0;
}

const char *dh_rule_correlation_type(const dh_rule *r)
{
    return r->corr ? sigma_corr_type_name(r->corr->type) : "";
}

const char *dh_rule_ref(const dh_rule *r)
{
    return r->ref ? r->ref : r->id;
}

size_t dh_ruleset_correlation_fields(const dh_ruleset *rs, const char *const **names)
{
    *names = (const char *const *)rs->corr_fields.v;
    return rs->corr_fields.n;
}

int dh_rule_is_filter(const dh_rule *r)
{
    return r->is_filter;
}

size_t dh_rule_filter_rule_count(const dh_rule *r)
{
    return r->filter_rules.n;
}

const char *dh_rule_filter_rule(const dh_rule *r, size_t i)
{
    return i < r->filter_rules.n ? r->filter_rules.v[i] : "";
}

const char *dh_rule_filter_reason(const dh_rule *r)
{
    return r->reason ? r->reason : "";
}

const char *dh_rule_filter_expires(const dh_rule *r)
{
    return r->expires ? r->expires : "";
}

int dh_rule_filter_keeps(dh_matcher *m, const dh_rule *filter, const dh_event *ev)
{
    /* an undecided filter keeps the item: tuning never hides what it could not judge */
    return !filter->is_filter || sigma_rule_matches(m, filter, ev) != NO;
}
