/* Sigma YAML to compiled rules (libyaml's document API).
 *
 * Every rule is compiled completely or refused with a reason naming the file, the line and
 * what is unsupported: nothing is dropped silently and nothing is half-compiled. Values go
 * through the modifier pipeline once here (expand, windash, utf16, base64/base64offset,
 * then the comparison), so matching never transforms a needle. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "rules/sigma.h"
#include "core/strdup.h"
#include "rules/variants.h"

#define MAX_RULE_FILE      (8u << 20)
#define MAX_NODES_PER_RULE 200000 /* aliases can make a small file a huge tree */

const unsigned char sigma_lower[256] = {
#define L4(i)  (i), (i) + 1, (i) + 2, (i) + 3
#define L16(i) L4(i), L4((i) + 4), L4((i) + 8), L4((i) + 12)
    L16(0),   L16(16),  L16(32),  L16(48),  '@',      'a',      'b',      'c',      'd',
    'e',      'f',      'g',      'h',      'i',      'j',      'k',      'l',      'm',
    'n',      'o',      'p',      'q',      'r',      's',      't',      'u',      'v',
    'w',      'x',      'y',      'z',      L4(91),   95,       L16(96),  L16(112), L16(128),
    L16(144), L16(160), L16(176), L16(192), L16(208), L16(224), L16(240),
#undef L4
#undef L16
};

typedef struct ctx {
    dh_ruleset *rs;
    yaml_document_t *doc;
    const char *origin;
    dh_rule_diag_fn diag;
    void *dctx;
    char err[512];
    int err_line;
    unsigned nodes;
    dh_rule *r;
} ctx;

static void set_err(ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    if (c->err[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    c->err_line = n ? (int)n->start_mark.line + 1 : 0;
}

static void emit_diag(ctx *c, int is_error, const char *rule, int line, const char *msg);

/* A warning about the rule being loaded (it still loads). */
static void warn(ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit_diag(c, 0, c->r && c->r->title ? c->r->title : "", n ? (int)n->start_mark.line + 1 : 0,
              msg);
}

/* The quantifier at p, if any: its length (0: none), whether its count varies (*, +, ?,
 * {n,m}, {n,}) and whether it is unbounded (*, +, {n,}); a possessive one (a trailing +)
 * never backtracks and counts as none. */
static size_t re_quantifier(const char *p, int *varies, int *unbounded)
{
    size_t n = 0;
    *varies = *unbounded = 0;
    if (*p == '*' || *p == '+' || *p == '?') {
        n = 1;
        *varies = 1;
        *unbounded = *p != '?';
    } else if (*p == '{') {
        size_t j = 1, lo = 0, comma = 0, hi = 0;
        while (p[j] >= '0' && p[j] <= '9')
            j++, lo++;
        if (p[j] == ',') {
            comma = j++;
            while (p[j] >= '0' && p[j] <= '9')
                j++, hi++;
        }
        if (!lo || p[j] != '}')
            return 0; /* a literal brace */
        n = j + 1;
        *varies = comma != 0;
        *unbounded = comma && !hi;
    }
    if (n && p[n] == '+')
        *varies = *unbounded = 0;
    return n + (n && (p[n] == '+' || p[n] == '?'));
}

/* Why a pattern can backtrack without end, or NULL: a group repeated without bound that
 * holds a varying repetition itself, as in (a+)+ or (\w+\s?)*. Atomic groups and
 * possessive quantifiers do not backtrack and do not count. A lint, not a proof: the
 * match limit is what protects the hunt (match.c). */
static const char *re_nested_quantifier(const char *p)
{
    enum { DEPTH = 64 };
    int inner[DEPTH], atomic[DEPTH], depth = 0;
    inner[0] = atomic[0] = 0;
    for (size_t i = 0; p[i]; i++) {
        char ch = p[i];
        int varies, unbounded;
        if (ch == '\\') {
            if (p[i + 1])
                i++;
        } else if (ch == '[') { /* a class: to its closing bracket */
            size_t j = i + 1;
            if (p[j] == '^')
                j++;
            if (p[j] == ']')
                j++;
            for (; p[j] && p[j] != ']'; j++)
                if (p[j] == '\\' && p[j + 1])
                    j++;
            i = p[j] ? j : j - 1;
        } else if (ch == '(') {
            int is_atomic = 0;
            if (p[i + 1] == '?') { /* (?:  (?=  (?<name>  (?>  (?i)  (?#...) */
                size_t j = i + 2;
                if (p[j] == '#') {
                    while (p[j] && p[j] != ')')
                        j++;
                    i = p[j] ? j : j - 1;
                    continue;
                }
                is_atomic = p[j] == '>';
                while (p[j] && !strchr(":=!>)", p[j]))
                    j++;
                if (p[j] == ')') { /* options only: no group */
                    i = j;
                    continue;
                }
                i = p[j] ? j : j - 1;
            }
            if (depth + 1 < DEPTH) {
                depth++;
                inner[depth] = 0;
                atomic[depth] = is_atomic;
            }
        } else if (ch == ')') {
            int had = depth > 0 && inner[depth] && !atomic[depth];
            if (depth > 0)
                depth--;
            size_t q = re_quantifier(p + i + 1, &varies, &unbounded);
            if (had && unbounded)
                return "repeats a group that holds a repetition, as (a+)+ does";
            if (had || varies)
                inner[depth] = 1; /* the enclosing group now holds a repetition */
            i += q;
        } else {
            size_t q = re_quantifier(p + i + 1, &varies, &unbounded);
            if (varies)
                inner[depth] = 1;
            i += q;
        }
    }
    return NULL;
}

static char *dups(const char *s)
{
    return dh_strndup(s, strlen(s));
}

static yaml_node_t *node_at(ctx *c, int i)
{
    if (++c->nodes > MAX_NODES_PER_RULE) {
        set_err(c, NULL, "rule expands to more than %d YAML nodes (alias bomb?)",
                MAX_NODES_PER_RULE);
        return NULL;
    }
    return yaml_document_get_node(c->doc, i);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A scalar that YAML reads as null: ~, null, Null, NULL or empty and plain. */
static int is_null(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

static yaml_node_t *map_get(ctx *c, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node_at(c, p->key);
        const char *ks = scalar(k);
        if (ks && strcmp(ks, key) == 0)
            return node_at(c, p->value);
    }
    return NULL;
}

/* Pair i of the mapping map: the key's text, *k and *v its nodes; NULL when a node is
 * missing (the node cap, said by node_at, or no memory) or the key is not a scalar (c->err:
 * not_scalar). */
static const char *pair_at(ctx *c, yaml_node_t *map, size_t i, yaml_node_t **k, yaml_node_t **v,
                           const char *not_scalar)
{
    yaml_node_pair_t *p = &map->data.mapping.pairs.start[i];
    *k = node_at(c, p->key);
    *v = node_at(c, p->value);
    if (!*k || !*v)
        return NULL;
    const char *ks = scalar(*k);
    if (!ks)
        set_err(c, *k, "%s", not_scalar);
    return ks;
}

static int list_push(str_list *l, const char *s)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return -1;
    l->v = v;
    if (!(v[l->n] = dups(s)))
        return -1;
    l->n++;
    return 0;
}

static void list_free(str_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void sigma_list_free(str_list *l)
{
    list_free(l);
}

int sigma_list_push(str_list *l, const char *s)
{
    return list_push(l, s);
}

/* A scalar or a sequence of scalars into a list. */
static int get_strings(ctx *c, yaml_node_t *n, str_list *out, const char *what)
{
    if (!n || is_null(n))
        return 0;
    if (n->type == YAML_SCALAR_NODE)
        return list_push(out, scalar(n));
    if (n->type != YAML_SEQUENCE_NODE) {
        set_err(c, n, "%s must be a string or a list of strings", what);
        return -1;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *e = node_at(c, *it);
        if (!e)
            return -1;
        const char *s = scalar(e);
        if (!s) {
            set_err(c, e, "%s must be a list of strings", what);
            return -1;
        }
        if (list_push(out, s))
            return -1;
    }
    return 0;
}

/* ---- modifiers ------------------------------------------------------------------- */

enum {
    M_CONTAINS = 1 << 0,
    M_STARTSWITH = 1 << 1,
    M_ENDSWITH = 1 << 2,
    M_ALL = 1 << 3,
    M_RE = 1 << 4,
    M_CIDR = 1 << 5,
    M_WINDASH = 1 << 6,
    M_BASE64 = 1 << 7,
    M_BASE64OFFSET = 1 << 8,
    M_UTF16LE = 1 << 9,
    M_UTF16BE = 1 << 10,
    M_EXISTS = 1 << 11,
    M_CASED = 1 << 12,
    M_FIELDREF = 1 << 13,
    M_GT = 1 << 14,
    M_GTE = 1 << 15,
    M_LT = 1 << 16,
    M_LTE = 1 << 17,
    M_EXPAND = 1 << 18,
    M_RE_I = 1 << 19,
    M_RE_M = 1 << 20,
    M_RE_S = 1 << 21,
};

/* The modifier table: name, flag, and the flags it needs to follow (for re's flags). */
static const struct {
    const char *name;
    unsigned flag;
    unsigned requires;
} modifiers[] = {
    {"contains", M_CONTAINS, 0},
    {"startswith", M_STARTSWITH, 0},
    {"endswith", M_ENDSWITH, 0},
    {"all", M_ALL, 0},
    {"re", M_RE, 0},
    {"cidr", M_CIDR, 0},
    {"windash", M_WINDASH, 0},
    {"base64", M_BASE64, 0},
    {"base64offset", M_BASE64OFFSET, 0},
    {"utf16le", M_UTF16LE, 0},
    {"wide", M_UTF16LE, 0},
    {"utf16be", M_UTF16BE, 0},
    {"utf16", M_UTF16LE, 0},
    {"exists", M_EXISTS, 0},
    {"cased", M_CASED, 0},
    {"fieldref", M_FIELDREF, 0},
    {"gt", M_GT, 0},
    {"gte", M_GTE, 0},
    {"lt", M_LT, 0},
    {"lte", M_LTE, 0},
    {"expand", M_EXPAND, 0},
    {"i", M_RE_I, M_RE},
    {"ignorecase", M_RE_I, M_RE},
    {"m", M_RE_M, M_RE},
    {"multiline", M_RE_M, M_RE},
    {"s", M_RE_S, M_RE},
    {"dotall", M_RE_S, M_RE},
};

static int parse_modifiers(ctx *c, const yaml_node_t *kn, const char *key, char **field,
                           unsigned *mods)
{
    const char *bar = strchr(key, '|');
    *field = dh_strndup(key, bar ? (size_t)(bar - key) : strlen(key));
    *mods = 0;
    if (!*field)
        return -1;
    while (bar) {
        const char *m = bar + 1;
        bar = strchr(m, '|');
        size_t n = bar ? (size_t)(bar - m) : strlen(m);
        size_t i;
        for (i = 0; i < sizeof modifiers / sizeof modifiers[0]; i++)
            if (strlen(modifiers[i].name) == n && memcmp(modifiers[i].name, m, n) == 0)
                break;
        if (i == sizeof modifiers / sizeof modifiers[0]) {
            set_err(c, kn, "unknown modifier '%.*s' in '%s'", (int)(n > 40 ? 40 : n), m, key);
            return -1;
        }
        if (modifiers[i].requires && !(*mods & modifiers[i].requires)) {
            set_err(c, kn, "modifier '%s' only follows 're' (in '%s')", modifiers[i].name, key);
            return -1;
        }
        *mods |= modifiers[i].flag;
    }
    unsigned cmp = *mods & (M_CONTAINS | M_STARTSWITH | M_ENDSWITH | M_RE | M_CIDR | M_EXISTS |
                            M_GT | M_GTE | M_LT | M_LTE);
    if (cmp & (cmp - 1)) {
        set_err(c, kn, "modifiers in '%s' ask for two different comparisons", key);
        return -1;
    }
    if ((*mods & (M_UTF16LE | M_UTF16BE)) && !(*mods & (M_BASE64 | M_BASE64OFFSET))) {
        set_err(c, kn, "utf16 modifiers in '%s' need base64 or base64offset after them", key);
        return -1;
    }
    if ((*mods & M_BASE64) && (*mods & M_BASE64OFFSET)) {
        set_err(c, kn, "'%s' has both base64 and base64offset", key);
        return -1;
    }
    if ((*mods & M_FIELDREF) && (*mods & (M_RE | M_CIDR | M_BASE64 | M_BASE64OFFSET | M_EXISTS |
                                          M_GT | M_GTE | M_LT | M_LTE | M_WINDASH | M_EXPAND))) {
        set_err(c, kn, "fieldref in '%s' combines only with contains/startswith/endswith/cased",
                key);
        return -1;
    }
    return 0;
}

/* ---- value variants --------------------------------------------------------------- */

static const placeholder *find_placeholder(const dh_ruleset *rs, const char *name, size_t n)
{
    for (size_t i = 0; i < rs->nph; i++)
        if (strlen(rs->ph[i].name) == n && memcmp(rs->ph[i].name, name, n) == 0)
            return &rs->ph[i];
    return NULL;
}

/* %name% placeholders: one variant per combination of values. */
static int expand(ctx *c, const yaml_node_t *vn, const bytes *in, blist *out)
{
    const char *p = memchr(in->p, '%', in->n);
    if (!p)
        return sigma_blist_push(out, in->p, in->n);
    const char *q = memchr(p + 1, '%', in->n - (size_t)(p + 1 - in->p));
    if (!q)
        return sigma_blist_push(out, in->p, in->n);
    const placeholder *ph = find_placeholder(c->rs, p + 1, (size_t)(q - p - 1));
    if (!ph) {
        set_err(c, vn, "placeholder '%.*s' has no values (give them with --placeholder)",
                (int)(q - p + 1 > 60 ? 60 : q - p + 1), p);
        return -1;
    }
    for (size_t i = 0; i < ph->values.n; i++) {
        size_t vl = strlen(ph->values.v[i]);
        size_t n = (size_t)(p - in->p) + vl + (in->n - (size_t)(q + 1 - in->p));
        char *buf = malloc(n + 1);
        if (!buf)
            return -1;
        memcpy(buf, in->p, (size_t)(p - in->p));
        memcpy(buf + (p - in->p), ph->values.v[i], vl);
        memcpy(buf + (p - in->p) + vl, q + 1, in->n - (size_t)(q + 1 - in->p));
        bytes b = {buf, n};
        int rc = expand(c, vn, &b, out);
        free(buf);
        if (rc) {
            if (!c->err[0])
                set_err(c, vn, "too many placeholder combinations");
            return -1;
        }
    }
    return 0;
}

/* windash: a '-' that starts a word may also be '/', en dash, em dash or horizontal bar. */
static int windash(ctx *c, const yaml_node_t *vn, const bytes *in, size_t from, blist *out)
{
    static const char *const dashes[] = {"-", "/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95"};
    for (size_t i = from; i < in->n; i++) {
        if (in->p[i] == '-' && (i == 0 || in->p[i - 1] == ' ')) {
            for (size_t d = 0; d < 5; d++) {
                size_t dl = strlen(dashes[d]);
                size_t n = in->n - 1 + dl;
                char *buf = malloc(n + 1);
                if (!buf)
                    return -1;
                memcpy(buf, in->p, i);
                memcpy(buf + i, dashes[d], dl);
                memcpy(buf + i + dl, in->p + i + 1, in->n - i - 1);
                bytes b = {buf, n};
                int rc = windash(c, vn, &b, i + dl, out);
                free(buf);
                if (rc) {
                    if (!c->err[0])
                        set_err(c, vn, "windash gives more than %d variants", MAX_VARIANTS);
                    return -1;
                }
            }
            return 0;
        }
    }
    return sigma_blist_push(out, in->p, in->n);
}

static int parse_ip(const char *s, size_t n, uint8_t *family, uint8_t addr[16])
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        *family = 6;
        return 0;
    }
    return -1;
}

int sigma_field_ref_resolve(const char *name, field_ref *f)
{
    static const struct {
        const char *name;
        int id;
    } envelope[] = {
        {"EventID", FIELD_EVENT_ID},       {"Channel", FIELD_CHANNEL},
        {"Provider_Name", FIELD_PROVIDER}, {"Provider", FIELD_PROVIDER},
        {"Computer", FIELD_COMPUTER},      {"ComputerName", FIELD_COMPUTER},
        {"Hostname", FIELD_COMPUTER},      {"EventRecordID", FIELD_RECORD_ID},
    };
    f->len = strlen(name);
    f->name = dups(name);
    if (!f->name)
        return -1;
    for (size_t i = 0; i < sizeof envelope / sizeof envelope[0]; i++)
        if (strcmp(envelope[i].name, name) == 0) {
            f->id = envelope[i].id;
            return 0;
        }
    int id = dh_field_from_name(name, f->len);
    f->id = id >= 0 ? id : FIELD_BY_NAME;
    return 0;
}

static void lower_bytes(char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)sigma_lower[(unsigned char)p[i]];
}

static int group_push(needle_group *g, const needle *nd)
{
    needle *v = realloc(g->alt, (g->nalt + 1) * sizeof *v);
    if (!v)
        return -1;
    g->alt = v;
    v[g->nalt++] = *nd;
    return 0;
}

static void needle_free(needle *n)
{
    free(n->s);
    free(n->orig);
    if (n->re)
        pcre2_code_free(n->re);
    free(n->ref.name);
}

/* One value of a field test into its group of alternative needles. long because: the
 * modifiers apply in the order the Sigma specification gives (null, exists, cidr, re, then
 * expand, windash, the encodings and wildcards), and one function keeps that order visible. */
static int compile_value(ctx *c, const yaml_node_t *vn, unsigned mods, int keyword, needle_group *g)
{
    const char *v = scalar(vn);
    needle nd;
    memset(&nd, 0, sizeof nd);
    nd.cased = (mods & M_CASED) != 0;
    if (!v) {
        set_err(c, vn, "a value must be a string, a number or a boolean");
        return -1;
    }
    if (is_null(vn)) {
        if (mods & ~(M_ALL)) {
            set_err(c, vn, "null cannot be combined with modifiers");
            return -1;
        }
        nd.kind = N_NULL;
        return group_push(g, &nd);
    }
    if (mods & M_EXISTS) {
        if (!strcasecmp(v, "true") || !strcasecmp(v, "yes"))
            nd.exists = 1;
        else if (strcasecmp(v, "false") && strcasecmp(v, "no")) {
            set_err(c, vn, "exists takes true or false");
            return -1;
        }
        nd.kind = N_EXISTS;
        return group_push(g, &nd);
    }
    if (mods & (M_GT | M_GTE | M_LT | M_LTE)) {
        char *end;
        nd.num = strtod(v, &end);
        if (end == v || *end) {
            set_err(c, vn, "'%s' is not a number for gt/gte/lt/lte", v);
            return -1;
        }
        nd.kind = N_NUM;
        nd.cmp = (mods & M_GT)    ? CMP_GT
                 : (mods & M_GTE) ? CMP_GTE
                 : (mods & M_LT)  ? CMP_LT
                                  : CMP_LTE;
        return group_push(g, &nd);
    }
    if (mods & M_FIELDREF) {
        nd.kind = N_FIELDREF;
        nd.ref_mode = (mods & M_CONTAINS)     ? N_CONTAINS
                      : (mods & M_STARTSWITH) ? N_STARTS
                      : (mods & M_ENDSWITH)   ? N_ENDS
                                              : N_EQ;
        if (sigma_field_ref_resolve(v, &nd.ref))
            return -1;
        return group_push(g, &nd);
    }
    if (mods & M_CIDR) {
        const char *slash = strchr(v, '/');
        nd.kind = N_CIDR;
        if (!slash || parse_ip(v, (size_t)(slash - v), &nd.family, nd.addr)) {
            set_err(c, vn, "'%s' is not a CIDR network", v);
            return -1;
        }
        char *end;
        unsigned long pl = strtoul(slash + 1, &end, 10);
        if (*end || end == slash + 1 || pl > (nd.family == 4 ? 32u : 128u)) {
            set_err(c, vn, "'%s' has a bad prefix length", v);
            return -1;
        }
        nd.prefix = (unsigned)pl;
        nd.orig_len = strlen(v);
        if (!(nd.orig = dh_strndup(v, nd.orig_len)) || group_push(g, &nd)) {
            free(nd.orig);
            return -1;
        }
        return 0;
    }
    if (mods & M_RE) {
        uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
        if (mods & M_RE_I)
            opts |= PCRE2_CASELESS;
        if (mods & M_RE_M)
            opts |= PCRE2_MULTILINE;
        if (mods & M_RE_S)
            opts |= PCRE2_DOTALL;
        int ec;
        PCRE2_SIZE eo;
        nd.kind = N_RE;
        nd.re = pcre2_compile((PCRE2_SPTR)v, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
        if (!nd.re) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(ec, msg, sizeof msg);
            set_err(c, vn, "regular expression does not compile at offset %zu: %s", (size_t)eo,
                    (const char *)msg);
            return -1;
        }
        /* optional: without it the interpreter runs, under a budget (match.c) */
        nd.jit = pcre2_jit_compile(nd.re, PCRE2_JIT_COMPLETE) == 0;
        const char *why = re_nested_quantifier(v);
        if (why)
            warn(c, vn,
                 "regular expression '%s' %s: it can backtrack without end on a long "
                 "value (it runs under a match limit; an event where it hits the limit is "
                 "reported as undecided)",
                 v, why);
        nd.orig_len = strlen(v);
        if (!(nd.orig = dh_strndup(v, nd.orig_len)) || group_push(g, &nd)) {
            free(nd.orig);
            pcre2_code_free(nd.re);
            return -1;
        }
        return 0;
    }
    /* Strings: expand, windash, encodings, then the comparison. */
    blist a = {0}, b = {0};
    bytes in = {(char *)v, strlen(v)};
    int rc = 0;
    if (mods & M_EXPAND)
        rc = expand(c, vn, &in, &a);
    else
        rc = sigma_blist_push(&a, in.p, in.n);
    if (!rc && (mods & M_WINDASH)) {
        for (size_t i = 0; i < a.n && !rc; i++)
            rc = windash(c, vn, &a.v[i], 0, &b);
        sigma_blist_free(&a);
        a = b;
        b = (blist){0};
    }
    if (!rc && (mods & (M_BASE64 | M_BASE64OFFSET))) {
        for (size_t i = 0; i < a.n && !rc; i++) {
            bytes src = a.v[i], u16 = {0};
            if (mods & (M_UTF16LE | M_UTF16BE)) {
                if (sigma_to_utf16(&src, (mods & M_UTF16BE) != 0, &u16))
                    rc = -1;
                else
                    src = u16;
            }
            if (!rc)
                rc = sigma_base64_variants(&src, (mods & M_BASE64OFFSET) != 0, &b);
            free(u16.p);
        }
        sigma_blist_free(&a);
        a = b;
        b = (blist){0};
    }
    if (rc) {
        sigma_blist_free(&a);
        if (!c->err[0])
            set_err(c, vn, "value expands to more than %d alternatives", MAX_VARIANTS);
        return -1;
    }
    int encoded = (mods & (M_BASE64 | M_BASE64OFFSET)) != 0;
    for (size_t i = 0; i < a.n; i++) {
        bytes u;
        int wild = sigma_unescape(&a.v[i], &u, !encoded);
        if (wild < 0) {
            sigma_blist_free(&a);
            return -1;
        }
        if (memchr(a.v[i].p, GLOB_STAR, a.v[i].n) || memchr(a.v[i].p, GLOB_ONE, a.v[i].n)) {
            free(u.p);
            sigma_blist_free(&a);
            set_err(c, vn, "control characters \\x01 and \\x02 in values are not supported");
            return -1;
        }
        needle x = nd;
        int contains = (mods & M_CONTAINS) || (keyword && !(mods & (M_STARTSWITH | M_ENDSWITH)));
        if (wild) {
            /* Wrap the pattern per the comparison and match it as a glob. */
            size_t n = u.n + 2;
            char *p = malloc(n + 1);
            if (!p) {
                free(u.p);
                sigma_blist_free(&a);
                return -1;
            }
            size_t k = 0;
            if (contains || (mods & M_ENDSWITH))
                p[k++] = GLOB_STAR;
            memcpy(p + k, u.p, u.n);
            k += u.n;
            if (contains || (mods & M_STARTSWITH))
                p[k++] = GLOB_STAR;
            p[k] = 0;
            free(u.p);
            x.kind = N_GLOB;
            x.s = p;
            x.len = k;
        } else {
            x.kind = contains                ? N_CONTAINS
                     : (mods & M_STARTSWITH) ? N_STARTS
                     : (mods & M_ENDSWITH)   ? N_ENDS
                                             : N_EQ;
            x.s = u.p;
            x.len = u.n;
        }
        x.orig_len = x.len;
        if (!(x.orig = dh_strndup(x.s, x.len))) {
            free(x.s);
            sigma_blist_free(&a);
            return -1;
        }
        if (!x.cased)
            lower_bytes(x.s, x.len);
        if (group_push(g, &x)) {
            free(x.s);
            free(x.orig);
            sigma_blist_free(&a);
            return -1;
        }
    }
    sigma_blist_free(&a);
    return 0;
}

static void test_free(field_test *t)
{
    for (size_t i = 0; i < t->ng; i++) {
        for (size_t k = 0; k < t->g[i].nalt; k++)
            needle_free(&t->g[i].alt[k]);
        free(t->g[i].alt);
    }
    free(t->g);
    free(t->field.name);
    free(t->text);
}

static int compile_test(ctx *c, const yaml_node_t *kn, yaml_node_t *vn, const char *key,
                        int keyword, field_test *t)
{
    memset(t, 0, sizeof *t);
    unsigned mods = 0;
    char *field = NULL;
    if (keyword) {
        t->field.id = FIELD_KEYWORDS;
        t->field.name = dups("(keywords)");
        t->text = dups("(keywords)");
    } else {
        if (parse_modifiers(c, kn, key, &field, &mods))
            goto fail;
        if (!*field) {
            /* A keyword list with modifiers, '|all': [...] (Sigma: keywords may take value
             * modifiers; with all, every keyword must appear in the event). */
            if (mods & (M_EXISTS | M_FIELDREF)) {
                set_err(c, kn, "'%s' names no field (exists and fieldref need one)", key);
                goto fail;
            }
            keyword = 1;
            t->field.id = FIELD_KEYWORDS;
            t->field.name = dups("(keywords)");
        } else if (sigma_field_ref_resolve(field, &t->field)) {
            goto fail;
        }
        t->text = dups(key);
    }
    t->all = (mods & M_ALL) != 0;
    t->presence = (mods & M_EXISTS) != 0;
    if (vn->type == YAML_SEQUENCE_NODE) {
        size_t n = (size_t)(vn->data.sequence.items.top - vn->data.sequence.items.start);
        if (n == 0) {
            set_err(c, vn, "'%s' has an empty list of values", key ? key : "keywords");
            goto fail;
        }
        t->g = calloc(n, sizeof *t->g);
        if (!t->g)
            goto fail;
        for (size_t i = 0; i < n; i++) {
            yaml_node_t *e = node_at(c, vn->data.sequence.items.start[i]);
            if (!e || e->type != YAML_SCALAR_NODE) {
                set_err(c, e ? e : vn, "values of '%s' must be scalars", key ? key : "keywords");
                goto fail;
            }
            t->ng++;
            if (compile_value(c, e, mods, keyword, &t->g[i]))
                goto fail;
        }
    } else if (vn->type == YAML_SCALAR_NODE) {
        t->g = calloc(1, sizeof *t->g);
        if (!t->g)
            goto fail;
        t->ng = 1;
        if (compile_value(c, vn, mods, keyword, &t->g[0]))
            goto fail;
    } else {
        set_err(c, vn, "'%s' must have a value or a list of values", key);
        goto fail;
    }
    for (size_t i = 0; i < t->ng; i++)
        if (t->g[i].nalt && (t->g[i].alt[0].kind == N_NULL || t->g[i].alt[0].kind == N_EXISTS))
            t->presence = 1;
    free(field);
    return 0;
fail:
    free(field);
    test_free(t);
    memset(t, 0, sizeof *t);
    if (!c->err[0])
        set_err(c, kn, "out of memory");
    return -1;
}

static int compile_selection(ctx *c, yaml_node_t *map, selection *s)
{
    memset(s, 0, sizeof *s);
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    if (n == 0) {
        set_err(c, map, "empty selection");
        return -1;
    }
    s->t = calloc(n, sizeof *s->t);
    if (!s->t)
        return -1;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *k, *v;
        const char *ks = pair_at(c, map, i, &k, &v, "selection keys must be field names");
        if (!ks)
            return -1;
        if (compile_test(c, k, v, ks, 0, &s->t[i]))
            return -1;
        s->nt++;
    }
    return 0;
}

/* Keywords (values without a field, n a scalar or a list of them): one selection of one
 * test. */
static int compile_keywords(ctx *c, yaml_node_t *n, search_id *sid)
{
    sid->sel = calloc(1, sizeof *sid->sel);
    if (!sid->sel || !(sid->sel[0].t = calloc(1, sizeof(field_test))))
        return -1;
    sid->nsel = 1;
    sid->sel[0].nt = 1;
    return compile_test(c, n, n, NULL, 1, &sid->sel[0].t[0]);
}

static int compile_search(ctx *c, const char *name, yaml_node_t *n, search_id *sid)
{
    memset(sid, 0, sizeof *sid);
    if (!(sid->name = dups(name)))
        return -1;
    if (n->type == YAML_MAPPING_NODE) {
        sid->sel = calloc(1, sizeof *sid->sel);
        if (!sid->sel)
            return -1;
        sid->nsel = 1;
        return compile_selection(c, n, &sid->sel[0]);
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        if (cnt == 0) {
            set_err(c, n, "search identifier '%s' is an empty list", name);
            return -1;
        }
        int maps = 0, scalars = 0;
        for (size_t i = 0; i < cnt; i++) {
            yaml_node_t *e = node_at(c, n->data.sequence.items.start[i]);
            if (!e)
                return -1;
            if (e->type == YAML_MAPPING_NODE)
                maps++;
            else if (e->type == YAML_SCALAR_NODE)
                scalars++;
        }
        if (scalars == (int)cnt) {
            return compile_keywords(c, n, sid);
        }
        if (maps != (int)cnt) {
            set_err(c, n, "search identifier '%s' mixes maps and plain values", name);
            return -1;
        }
        sid->sel = calloc(cnt, sizeof *sid->sel);
        if (!sid->sel)
            return -1;
        for (size_t i = 0; i < cnt; i++) {
            sid->nsel++;
            if (compile_selection(c, node_at(c, n->data.sequence.items.start[i]), &sid->sel[i]))
                return -1;
        }
        return 0;
    }
    if (n->type == YAML_SCALAR_NODE && !is_null(n)) {
        /* A single keyword. */
        return compile_keywords(c, n, sid);
    }
    set_err(c, n, "search identifier '%s' has no content", name);
    return -1;
}

void sigma_rule_free(dh_rule *r)
{
    if (!r)
        return;
    sigma_corr_free(r->corr);
    free(r->id);
    free(r->name);
    free(r->title);
    free(r->status);
    free(r->description);
    free(r->origin);
    free(r->ref);
    free(r->source);
    free(r->confidence);
    free(r->ls_category);
    free(r->ls_product);
    free(r->ls_service);
    free(r->channel);
    list_free(&r->tags);
    list_free(&r->falsepositives);
    list_free(&r->guide[0]);
    list_free(&r->guide[1]);
    list_free(&r->filter_rules);
    free(r->reason);
    free(r->expires);
    for (size_t i = 0; i < r->nids; i++) {
        search_id *s = &r->ids[i];
        for (size_t k = 0; k < s->nsel; k++) {
            for (size_t t = 0; t < s->sel[k].nt; t++)
                test_free(&s->sel[k].t[t]);
            free(s->sel[k].t);
        }
        free(s->sel);
        free(s->name);
    }
    free(r->ids);
    sigma_cond_free(r->cond);
    free(r);
}

static char *get_text(ctx *c, yaml_node_t *root, const char *key)
{
    yaml_node_t *n = map_get(c, root, key);
    const char *s = scalar(n);
    return dups(s && !is_null(n) ? s : "");
}

/* "number + letter (in lowercase)": s, m, h, d (and w). The specification sets no upper
 * bound; dcomhunt takes up to 1000 years, far beyond any log, so that a timespan in
 * 100-nanosecond ticks added to or taken from any event time stays inside 64 bits. */
#define MAX_TIMESPAN_S (1000LL * 366 * 86400)

static int parse_timespan(const char *s, int64_t *secs)
{
    static const struct {
        char unit;
        int64_t mult;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
    int64_t v = 0;
    size_t i = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (s[i] - '0');
        if (v > MAX_TIMESPAN_S)
            return -1;
    }
    if (i == 0 || v == 0 || !s[i] || s[i + 1])
        return -1;
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
        if (s[i] == units[u].unit) {
            if (v > MAX_TIMESPAN_S / units[u].mult)
                return -1;
            *secs = v * units[u].mult;
            return 0;
        }
    return -1;
}

static void field_refs_free(field_ref *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++)
        free(f[i].name);
    free(f);
}

void sigma_corr_free(corr_def *d)
{
    if (!d)
        return;
    field_refs_free(d->gb, d->gb ? d->refs.n * d->group_by.n : 0);
    field_refs_free(d->vf, d->vf ? d->refs.n * d->value_fields.n : 0);
    list_free(&d->refs);
    list_free(&d->group_by);
    for (size_t i = 0; i < d->naliases; i++) {
        free(d->aliases[i].alias);
        list_free(&d->aliases[i].rules);
        list_free(&d->aliases[i].fields);
    }
    free(d->aliases);
    free(d->ref_idx);
    list_free(&d->value_fields);
    free(d);
}

const char *sigma_corr_type_name(int type)
{
    static const char *const names[CORR_TYPE_COUNT] = {
        "event_count", "value_count", "temporal",        "temporal_ordered",
        "value_sum",   "value_avg",   "value_percentile"};
    return type >= 0 && type < CORR_TYPE_COUNT ? names[type] : "";
}

static int corr_aliases(ctx *c, yaml_node_t *al, corr_def *d)
{
    if (al->type != YAML_MAPPING_NODE) {
        set_err(c, al, "aliases must be a mapping");
        return -1;
    }
    size_t na = (size_t)(al->data.mapping.pairs.top - al->data.mapping.pairs.start);
    d->aliases = calloc(na ? na : 1, sizeof *d->aliases);
    if (!d->aliases)
        return -1;
    for (size_t i = 0; i < na; i++) {
        yaml_node_pair_t *p = &al->data.mapping.pairs.start[i];
        yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
        if (!scalar(k) || !v || v->type != YAML_MAPPING_NODE) {
            set_err(c, k ? k : al, "each alias maps rule names to field names");
            return -1;
        }
        for (size_t j = 0; j < d->naliases; j++)
            if (!strcmp(d->aliases[j].alias, scalar(k))) {
                set_err(c, k, "alias '%s' is defined twice", scalar(k));
                return -1;
            }
        corr_alias *a = &d->aliases[d->naliases++];
        if (!(a->alias = dups(scalar(k))))
            return -1;
        for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
             q++) {
            const char *rk = scalar(node_at(c, q->key)), *fv = scalar(node_at(c, q->value));
            if (!rk || !fv || !*fv) {
                set_err(c, v, "alias '%s' maps rule names to field names", a->alias);
                return -1;
            }
            if (list_push(&a->rules, rk) || list_push(&a->fields, fv))
                return -1;
        }
    }
    return 0;
}

/* The condition: criteria (all must hold) and, for the value types, `field`. */
static int corr_condition(ctx *c, yaml_node_t *cond_n, corr_def *d)
{
    static const struct {
        const char *key;
        uint8_t op;
    } ops[] = {{"gt", CMP_CORR_GT},   {"gte", CMP_CORR_GTE}, {"lt", CMP_CORR_LT},
               {"lte", CMP_CORR_LTE}, {"eq", CMP_CORR_EQ},   {"neq", CMP_CORR_NEQ}};
    if (cond_n->type != YAML_MAPPING_NODE) {
        set_err(c, cond_n, "correlation condition must be a mapping such as {gte: 5}");
        return -1;
    }
    d->has_condition = 1;
    for (yaml_node_pair_t *p = cond_n->data.mapping.pairs.start; p < cond_n->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = node_at(c, p->key), *vn = node_at(c, p->value);
        const char *k = scalar(kn);
        if (!k || !vn) {
            set_err(c, cond_n, "correlation condition keys must be names");
            return -1;
        }
        if (!strcmp(k, "field")) {
            if (d->value_fields.n) {
                set_err(c, kn, "correlation condition names 'field' twice");
                return -1;
            }
            if (get_strings(c, vn, &d->value_fields, "condition field"))
                return -1;
            for (size_t i = 0; i < d->value_fields.n; i++)
                if (!*d->value_fields.v[i]) {
                    set_err(c, vn, "condition field names an empty field");
                    return -1;
                }
            continue;
        }
        size_t o;
        for (o = 0; o < sizeof ops / sizeof ops[0]; o++)
            if (!strcmp(k, ops[o].key))
                break;
        if (o == sizeof ops / sizeof ops[0]) {
            set_err(c, kn, "unknown correlation condition '%s' (gt, gte, lt, lte, eq, neq, field)",
                    k);
            return -1;
        }
        const char *v = scalar(vn);
        char *end = NULL;
        double x =
            v && *v && (v[0] == '-' || v[0] == '+' || v[0] == '.' || (v[0] >= '0' && v[0] <= '9'))
                ? strtod(v, &end)
                : 0;
        if (!end || end == v || *end || x != x || x > 1e300 || x < -1e300) {
            set_err(c, vn, "correlation condition '%s' needs a number", k);
            return -1;
        }
        for (size_t i = 0; i < d->ncmp; i++)
            if (d->cmp[i].op == ops[o].op) {
                set_err(c, kn, "correlation condition '%s' is given twice", k);
                return -1;
            }
        d->cmp[d->ncmp].op = ops[o].op;
        d->cmp[d->ncmp].v = x;
        d->ncmp++;
    }
    return 0;
}

/* The correlation section of a rule (Sigma correlation rules specification 2.1). */
static int compile_correlation(ctx *c, yaml_node_t *n, dh_rule *r)
{
    if (n->type != YAML_MAPPING_NODE) {
        set_err(c, n, "correlation must be a mapping");
        return -1;
    }
    corr_def *d = calloc(1, sizeof *d);
    if (!d)
        return -1;
    r->corr = d;
    yaml_node_t *t = map_get(c, n, "type");
    const char *ts = scalar(t);
    d->type = -1;
    for (int i = 0; ts && i < CORR_TYPE_COUNT; i++)
        if (!strcmp(ts, sigma_corr_type_name(i)))
            d->type = i;
    if (d->type < 0) {
        set_err(c, t ? t : n,
                "correlation type must be event_count, value_count, temporal, temporal_ordered, "
                "value_sum, value_avg or value_percentile");
        return -1;
    }
    if (get_strings(c, map_get(c, n, "rules"), &d->refs, "correlation rules") ||
        get_strings(c, map_get(c, n, "group-by"), &d->group_by, "group-by"))
        return -1;
    if (!d->refs.n) {
        set_err(c, n, "correlation names no rules");
        return -1;
    }
    if (d->refs.n > CORR_MAX_RULES) {
        set_err(c, n, "correlation names %zu rules; dcomhunt takes at most %d", d->refs.n,
                CORR_MAX_RULES);
        return -1;
    }
    yaml_node_t *span = map_get(c, n, "timespan");
    if (!scalar(span) || parse_timespan(scalar(span), &d->timespan_s)) {
        set_err(c, span ? span : n,
                "timespan must be a whole number with s, m, h, d or w (such as 90m), at most "
                "1000 years");
        return -1;
    }
    yaml_node_t *gen = map_get(c, n, "generate");
    if (gen && (!scalar(gen) || (strcmp(scalar(gen), "true") && strcmp(scalar(gen), "false")))) {
        set_err(c, gen, "generate must be true or false");
        return -1;
    }
    d->generate = gen && !strcmp(scalar(gen), "true");
    yaml_node_t *al = map_get(c, n, "aliases");
    if (al && corr_aliases(c, al, d))
        return -1;
    yaml_node_t *cond_n = map_get(c, n, "condition");
    if (cond_n && corr_condition(c, cond_n, d))
        return -1;
    int count_type = d->type == CORR_EVENT_COUNT || d->type == CORR_VALUE_COUNT;
    int temporal = d->type == CORR_TEMPORAL || d->type == CORR_TEMPORAL_ORDERED;
    int value_type = !count_type && !temporal;
    if (!temporal && !d->ncmp) {
        set_err(c, cond_n ? cond_n : n, "%s needs a condition such as {gte: 5}",
                sigma_corr_type_name(d->type));
        return -1;
    }
    if (temporal && cond_n && !d->ncmp) {
        set_err(c, cond_n, "the condition of %s needs a criterion such as {gte: 2}",
                sigma_corr_type_name(d->type));
        return -1;
    }
    if ((d->type == CORR_VALUE_COUNT || value_type) && !d->value_fields.n) {
        set_err(c, cond_n ? cond_n : n, "%s needs 'field' in its condition",
                sigma_corr_type_name(d->type));
        return -1;
    }
    if (value_type && d->value_fields.n > 1) {
        set_err(c, cond_n, "%s reads one field; 'field' names %zu", sigma_corr_type_name(d->type),
                d->value_fields.n);
        return -1;
    }
    if (d->value_fields.n && d->type != CORR_VALUE_COUNT && !value_type) {
        set_err(c, cond_n,
                "'field' belongs to value_count, value_sum, value_avg and "
                "value_percentile, not %s",
                sigma_corr_type_name(d->type));
        return -1;
    }
    /* Counts are of events held per group: a threshold no group can reach is refused
     * rather than never met. */
    if (count_type || temporal)
        for (size_t i = 0; i < d->ncmp; i++)
            if (d->cmp[i].v > (double)CORR_MAX_EVENTS) {
                set_err(c, cond_n,
                        "a count above %u: dcomhunt holds at most %u events per group "
                        "and timespan",
                        CORR_MAX_EVENTS, CORR_MAX_EVENTS);
                return -1;
            }
    return 0;
}

/* The selections and condition of `det` (a rule's detection, or a filter's `filter`). */
static int compile_detection(ctx *c, dh_rule *r, yaml_node_t *det)
{
    size_t np = (size_t)(det->data.mapping.pairs.top - det->data.mapping.pairs.start);
    r->ids = calloc(np ? np : 1, sizeof *r->ids);
    if (!r->ids)
        return -1;
    yaml_node_t *condn = NULL;
    for (size_t i = 0; i < np; i++) {
        yaml_node_t *k, *v;
        const char *ks = pair_at(c, det, i, &k, &v, "detection keys must be names");
        if (!ks)
            return -1;
        if (!strcmp(ks, "condition")) {
            condn = v;
            continue;
        }
        /* timeframe: meaningful only for aggregations, which are refused; rules: a
         * filter's list of the rules it applies to */
        if (!strcmp(ks, "timeframe") || (r->is_filter && !strcmp(ks, "rules")))
            continue;
        if (compile_search(c, ks, v, &r->ids[r->nids]) != 0) {
            r->nids++;
            return -1;
        }
        r->nids++;
    }
    if (!condn) {
        set_err(c, det, "detection has no condition");
        return -1;
    }
    str_list conds = {0};
    if (get_strings(c, condn, &conds, "condition"))
        return -1;
    if (conds.n == 0) {
        set_err(c, condn, "condition is empty");
        return -1;
    }
    for (size_t i = 0; i < conds.n; i++) {
        char err[300];
        cond *one = sigma_cond_parse(conds.v[i], r->ids, r->nids, err, sizeof err);
        if (!one) {
            set_err(c, condn, "%s", err);
            list_free(&conds);
            return -1;
        }
        if (!r->cond) {
            r->cond = one;
        } else {
            cond * or = calloc(1, sizeof * or);
            if (! or) {
                sigma_cond_free(one);
                list_free(&conds);
                return -1;
            }
            or->op = C_OR;
            or->a = r->cond;
            or->b = one;
            r->cond = or ;
        }
    }
    list_free(&conds);
    return c->err[0] ? -1 : 0;
}

/* A correlation rule's document (its `correlation` mapping corr): 0, or -1 when refused
 * (c->err says why, or nothing was said: out of memory). */
static int compile_correlation_doc(ctx *c, yaml_node_t *root, yaml_node_t *corr, dh_rule *r)
{
    if (!*r->title)
        set_err(c, root, "correlation rule has no title");
    else if (compile_correlation(c, corr, r) == 0) {
        yaml_node_t *lv0 = map_get(c, root, "level");
        if (lv0 && (!scalar(lv0) || dh_level_parse(scalar(lv0), &r->level))) {
            set_err(c, lv0, "level must be informational, low, medium, high or critical");
        } else {
            if (!lv0)
                r->level = DH_LEVEL_MEDIUM;
            if (!get_strings(c, map_get(c, root, "tags"), &r->tags, "tags") &&
                !get_strings(c, map_get(c, root, "falsepositives"), &r->falsepositives,
                             "falsepositives")) {
                r->kinds = 0; /* met by no event: fed by the rules it names */
                return 0;
            }
        }
    }
    /* Refused: at finish, the rules it names are refused with it (unless it says
     * generate: true or a loaded correlation names them): alone they would report
     * every event the correlation only counts. */
    yaml_node_t *gen = map_get(c, corr, "generate");
    int generate = scalar(gen) && !strcmp(scalar(gen), "true");
    if (!generate && corr->type == YAML_MAPPING_NODE) {
        char keep_err[sizeof c->err];
        int keep_line = c->err_line;
        memcpy(keep_err, c->err, sizeof keep_err);
        get_strings(c, map_get(c, corr, "rules"), &c->rs->refused_refs, "correlation rules");
        memcpy(c->err, keep_err, sizeof keep_err);
        c->err_line = keep_line;
    }
    return -1;
}

/* A Sigma filter (sigma-filters specification): `filter` (filt) holds `rules` (the rules
 * it applies to) beside selections and a condition, which an item must satisfy to stay.
 * dcomhunt applies filters to findings (tuning, docs/tuning.md). 0, or -1. */
static int compile_filter_doc(ctx *c, yaml_node_t *root, yaml_node_t *filt, dh_rule *r)
{
    r->is_filter = 1;
    if (!*r->title) {
        set_err(c, root, "filter has no title");
        return -1;
    }
    if (filt->type != YAML_MAPPING_NODE) {
        set_err(c, filt, "filter must be a mapping (rules, selections, condition)");
        return -1;
    }
    if (get_strings(c, map_get(c, filt, "rules"), &r->filter_rules, "filter rules"))
        return -1;
    r->reason = get_text(c, root, "reason");
    r->expires = get_text(c, root, "expires");
    if (!r->reason || !r->expires)
        return -1;
    if (!*r->reason && *r->description) {
        free(r->reason);
        if (!(r->reason = dups(r->description)))
            return -1;
    }
    if (!*r->reason) {
        set_err(c, root, "filter has no reason (or description): say why it is safe");
        return -1;
    }
    const char *e = r->expires;
    if (*e && !(strlen(e) == 10 && e[4] == '-' && e[7] == '-' && e[0] >= '1' && e[0] <= '9')) {
        set_err(c, map_get(c, root, "expires"), "expires must be a date, YYYY-MM-DD");
        return -1;
    }
    r->level = DH_LEVEL_INFORMATIONAL;
    r->kinds = 0; /* met by no event: applied to findings */
    return compile_detection(c, r, filt) != 0 ? -1 : 0;
}

/* A detection rule's logsource: the kinds of event it meets and its channel. 0, or -1. */
static int compile_logsource(ctx *c, yaml_node_t *root, dh_rule *r)
{
    yaml_node_t *ls = map_get(c, root, "logsource");
    if (!ls || ls->type != YAML_MAPPING_NODE) {
        set_err(c, ls ? ls : root, "rule has no logsource mapping");
        return -1;
    }
    r->ls_category = get_text(c, ls, "category");
    r->ls_product = get_text(c, ls, "product");
    r->ls_service = get_text(c, ls, "service");
    if (!r->ls_category || !r->ls_product || !r->ls_service)
        return -1;
    const char *channel = NULL;
    const char *why =
        sigma_logsource(r->ls_category, r->ls_product, r->ls_service, &r->kinds, &channel);
    if (why) {
        set_err(c, ls, "%s (category '%s', product '%s', service '%s')", why, r->ls_category,
                r->ls_product, r->ls_service);
        return -1;
    }
    if (channel && !(r->channel = dups(channel)))
        return -1;
    return 0;
}

/* A detection rule's document: level, tags, the analyst's guide, logsource, detection.
 * 0, or -1. */
static int compile_detection_doc(ctx *c, yaml_node_t *root, dh_rule *r)
{
    if (map_get(c, root, "action")) {
        set_err(c, root, "rule collections ('action: global/reset/repeat') are not supported");
        return -1;
    }
    if (!*r->title) {
        set_err(c, root, "rule has no title");
        return -1;
    }
    yaml_node_t *lv = map_get(c, root, "level");
    if (lv) {
        if (!scalar(lv) || dh_level_parse(scalar(lv), &r->level)) {
            set_err(c, lv, "level must be informational, low, medium, high or critical");
            return -1;
        }
    } else {
        r->level = DH_LEVEL_MEDIUM;
    }
    if (get_strings(c, map_get(c, root, "tags"), &r->tags, "tags") ||
        get_strings(c, map_get(c, root, "falsepositives"), &r->falsepositives, "falsepositives"))
        return -1;
    yaml_node_t *guide = map_get(c, root, "guide");
    if (guide &&
        (get_strings(c, map_get(c, guide, "investigate"), &r->guide[0], "guide.investigate") ||
         get_strings(c, map_get(c, guide, "respond"), &r->guide[1], "guide.respond")))
        return -1;
    if (compile_logsource(c, root, r))
        return -1;
    yaml_node_t *det = map_get(c, root, "detection");
    if (!det || det->type != YAML_MAPPING_NODE) {
        set_err(c, det ? det : root, "rule has no detection mapping");
        return -1;
    }
    if (compile_detection(c, r, det) != 0 || c->err[0])
        return -1;
    return 0;
}

/* Compiles one rule document (a correlation, a filter or a detection rule, after the
 * metadata they share); on failure c->err says why and NULL is returned. */
static dh_rule *compile_rule(ctx *c, yaml_node_t *root)
{
    if (root->type != YAML_MAPPING_NODE) {
        set_err(c, root, "a rule must be a YAML mapping");
        return NULL;
    }
    dh_rule *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    c->r = r;
    r->title = get_text(c, root, "title");
    r->id = get_text(c, root, "id");
    r->name = get_text(c, root, "name");
    r->status = get_text(c, root, "status");
    r->description = get_text(c, root, "description");
    r->confidence = get_text(c, root, "confidence");
    r->origin = dups(c->origin);
    if (!r->title || !r->id || !r->name || !r->status || !r->description || !r->confidence ||
        !r->origin)
        goto fail;
    yaml_node_t *corr = map_get(c, root, "correlation");
    yaml_node_t *filt = corr ? NULL : map_get(c, root, "filter");
    int bad = corr   ? compile_correlation_doc(c, root, corr, r)
              : filt ? compile_filter_doc(c, root, filt, r)
                     : compile_detection_doc(c, root, r);
    if (!bad)
        return r;
fail:
    if (!c->err[0])
        set_err(c, root, "out of memory");
    sigma_rule_free(r);
    c->r = NULL;
    return NULL;
}

static void emit_diag(ctx *c, int is_error, const char *rule, int line, const char *msg)
{
    if (!c->diag)
        return;
    dh_rule_diag d = {c->origin, line, is_error, rule ? rule : "", msg};
    c->diag(c->dctx, &d);
}

/* What finish finds about a loaded rule goes to the last diagnostic callback given. */
void sigma_emit_diag(dh_ruleset *rs, const dh_rule *r, int is_error, const char *msg)
{
    if (!rs->diag)
        return;
    dh_rule_diag d = {r->origin, r->line, is_error, *r->title ? r->title : r->ref, msg};
    rs->diag(rs->dctx, &d);
}

dh_status dh_ruleset_new(dh_ruleset **out)
{
    if (!out)
        return DH_ERR_ARG;
    *out = calloc(1, sizeof **out);
    return *out ? DH_OK : DH_ERR_NOMEM;
}

void dh_ruleset_free(dh_ruleset *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n; i++)
        sigma_rule_free(rs->rules[i]);
    free(rs->rules);
    for (size_t i = 0; i < rs->nph; i++) {
        free(rs->ph[i].name);
        list_free(&rs->ph[i].values);
    }
    free(rs->ph);
    for (int k = 0; k < 64; k++)
        free(rs->by_kind[k]);
    list_free(&rs->refused_refs);
    list_free(&rs->corr_fields);
    free(rs);
}

dh_status dh_ruleset_set_placeholder(dh_ruleset *rs, const char *name, const char *const *values,
                                     size_t nvalues)
{
    placeholder *p = realloc(rs->ph, (rs->nph + 1) * sizeof *p);
    if (!p)
        return DH_ERR_NOMEM;
    rs->ph = p;
    placeholder *ph = &rs->ph[rs->nph];
    memset(ph, 0, sizeof *ph);
    if (!(ph->name = dups(name)))
        return DH_ERR_NOMEM;
    for (size_t i = 0; i < nvalues; i++)
        if (list_push(&ph->values, values[i])) {
            free(ph->name);
            list_free(&ph->values);
            return DH_ERR_NOMEM;
        }
    rs->nph++;
    return DH_OK;
}

static int duplicate(const dh_ruleset *rs, const dh_rule *r, const char **what)
{
    for (size_t i = 0; i < rs->n; i++) {
        if (*r->id && !strcmp(rs->rules[i]->id, r->id)) {
            *what = "id";
            return 1;
        }
        if (*r->name && !strcmp(rs->rules[i]->name, r->name)) {
            *what = "name";
            return 1;
        }
    }
    return 0;
}

/* libyaml's marks count characters; a rule's text (dh_rule_source) is cut at bytes. Moves the
 * cursor (*chars characters = *nbytes bytes into text) forward to character `want`. */
static size_t mark_to_byte(const char *text, size_t len, size_t *chars, size_t *nbytes, size_t want)
{
    while (*chars < want && *nbytes < len) {
        (*nbytes)++;
        while (*nbytes < len && ((unsigned char)text[*nbytes] & 0xC0) == 0x80)
            (*nbytes)++;
        (*chars)++;
    }
    return *nbytes;
}

/* A rule's stable reference (dh_rule_ref): its id, else its name, else where it is. */
static char *rule_ref(const dh_rule *r, const char *origin, int line)
{
    if (*r->id)
        return dups(r->id);
    if (*r->name)
        return dups(r->name);
    size_t n = strlen(origin) + 16;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s:%d", origin, line);
    return p;
}

dh_status dh_ruleset_add_text(dh_ruleset *rs, const char *text, size_t len, const char *origin,
                              dh_rule_diag_fn diag, void *dctx)
{
    if (rs->finished)
        return DH_ERR_ARG;
    rs->diag = diag;
    rs->dctx = dctx;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return DH_ERR_NOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    dh_status st = DH_OK;
    size_t doc_from = 0, mark_chars = 0, mark_bytes = 0; /* the text of each document */
    for (;;) {
        yaml_document_t doc;
        if (!yaml_parser_load(&parser, &doc)) {
            ctx c = {.rs = rs, .origin = origin, .diag = diag, .dctx = dctx};
            char msg[300];
            snprintf(msg, sizeof msg, "YAML: %s%s%s", parser.problem ? parser.problem : "error",
                     parser.context ? " " : "", parser.context ? parser.context : "");
            emit_diag(&c, 1, "", (int)parser.problem_mark.line + 1, msg);
            st = DH_ERR_FORMAT;
            break;
        }
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) {
            yaml_document_delete(&doc);
            break;
        }
        size_t doc_to = mark_to_byte(text, len, &mark_chars, &mark_bytes, doc.end_mark.index);
        ctx c = {.rs = rs, .doc = &doc, .origin = origin, .diag = diag, .dctx = dctx};
        dh_rule *r = compile_rule(&c, root);
        if (!r) {
            /* Name the rule by its title if it has one. */
            char title[200] = "";
            yaml_node_t *tn = root->type == YAML_MAPPING_NODE ? map_get(&c, root, "title") : NULL;
            if (scalar(tn))
                snprintf(title, sizeof title, "%s", scalar(tn));
            emit_diag(&c, 1, title, c.err_line, c.err[0] ? c.err : "out of memory");
            st = st == DH_OK ? DH_ERR_FORMAT : st;
        } else {
            const char *what;
            if (duplicate(rs, r, &what)) {
                char msg[200];
                snprintf(msg, sizeof msg, "another loaded rule has the same %s", what);
                emit_diag(&c, 1, r->title, (int)root->start_mark.line + 1, msg);
                sigma_rule_free(r);
                st = st == DH_OK ? DH_ERR_FORMAT : st;
            } else if (rs->n == rs->cap &&
                       !(rs->rules = realloc(rs->rules, (rs->cap = rs->cap ? rs->cap * 2 : 64) *
                                                            sizeof *rs->rules))) {
                sigma_rule_free(r);
                yaml_document_delete(&doc);
                yaml_parser_delete(&parser);
                return DH_ERR_NOMEM;
            } else if (!(r->ref = rule_ref(r, origin, (int)root->start_mark.line + 1))) {
                sigma_rule_free(r);
                yaml_document_delete(&doc);
                yaml_parser_delete(&parser);
                return DH_ERR_NOMEM;
            } else {
                r->line = (int)root->start_mark.line + 1;
                r->index = rs->n;
                rs->rules[rs->n++] = r;
                if (doc_to > doc_from &&
                    (r->source = dh_strndup(text + doc_from, doc_to - doc_from)))
                    r->source_len = doc_to - doc_from;
                if (!*r->id)
                    emit_diag(&c, 0, r->title, (int)root->start_mark.line + 1,
                              "rule has no id; it can be named by its title only");
            }
        }
        yaml_document_delete(&doc);
        doc_from = doc_to;
    }
    yaml_parser_delete(&parser);
    return st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_yaml_ext(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && !strcmp(name + n - 4, ".yml")) || (n > 5 && !strcmp(name + n - 5, ".yaml"));
}

static dh_status add_file(dh_ruleset *rs, const char *path, dh_rule_diag_fn diag, void *dctx)
{
    ctx c = {.rs = rs, .origin = path, .diag = diag, .dctx = dctx};
    FILE *f = fopen(path, "rb");
    if (!f) {
        char msg[200];
        snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
        emit_diag(&c, 1, "", 0, msg);
        return DH_ERR_IO;
    }
    char *buf = malloc(MAX_RULE_FILE + 1);
    size_t n = buf ? fread(buf, 1, MAX_RULE_FILE + 1, f) : 0;
    fclose(f);
    if (!buf)
        return DH_ERR_NOMEM;
    if (n > MAX_RULE_FILE) {
        free(buf);
        emit_diag(&c, 1, "", 0, "rule file larger than 8 MiB");
        return DH_ERR_LIMIT;
    }
    dh_status st = dh_ruleset_add_text(rs, buf, n, path, diag, dctx);
    free(buf);
    return st;
}

static dh_status add_dir(dh_ruleset *rs, const char *dir, int depth, dh_rule_diag_fn diag,
                         void *dctx)
{
    if (depth > 32)
        return DH_OK;
    DIR *d = opendir(dir);
    if (!d)
        return DH_ERR_IO;
    str_list names = {0};
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && list_push(&names, de->d_name)) {
            closedir(d);
            list_free(&names);
            return DH_ERR_NOMEM;
        }
    closedir(d);
    if (names.n > 1) /* qsort must not be given a null array */
        qsort(names.v, names.n, sizeof *names.v, cmp_str);
    dh_status st = DH_OK;
    for (size_t i = 0; i < names.n; i++) {
        size_t n = strlen(dir) + strlen(names.v[i]) + 2;
        char *p = malloc(n);
        if (!p) {
            st = DH_ERR_NOMEM;
            break;
        }
        snprintf(p, n, "%s/%s", dir, names.v[i]);
        struct stat sb;
        dh_status s2 = DH_OK;
        if (lstat(p, &sb) == 0) {
            if (S_ISDIR(sb.st_mode))
                s2 = add_dir(rs, p, depth + 1, diag, dctx);
            else if (S_ISREG(sb.st_mode) && has_yaml_ext(names.v[i]))
                s2 = add_file(rs, p, diag, dctx);
        }
        free(p);
        if (s2 == DH_ERR_NOMEM) {
            st = s2;
            break;
        }
        if (s2 != DH_OK && st == DH_OK)
            st = s2;
    }
    list_free(&names);
    return st;
}

dh_status dh_ruleset_add_path(dh_ruleset *rs, const char *path, dh_rule_diag_fn diag, void *dctx)
{
    if (rs->finished)
        return DH_ERR_ARG;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return add_dir(rs, path, 0, diag, dctx);
    return add_file(rs, path, diag, dctx);
}
