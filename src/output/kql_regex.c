/* Regular expressions for KQL: see kql_regex.h. */
#include "output/kql_regex.h"

#include <stdlib.h>
#include <string.h>

/* ---- regular expressions ---------------------------------------------------------- */

/* NULL if RE2 (KQL's engine) reads this PCRE pattern the same way, else why not. The check
 * is conservative: what it cannot vouch for is refused. */
const char *kql_re2_unsupported(const char *p, size_t n)
{
    int in_class = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\\') {
            if (i + 1 >= n)
                return "the pattern ends with a backslash";
            char e = p[i + 1];
            if (e >= '1' && e <= '9')
                return "a backreference or octal escape (\\1-\\9)";
            if (strchr("gkKGRXhHvVZNecoEuULl", e))
                return "an escape RE2 lacks or reads differently (\\g \\k \\K \\G \\R \\X \\h "
                       "\\H \\v \\V \\Z \\N \\e \\c \\o ...)";
            if (e == 'Q') { /* \Q...\E: literal, as in RE2 */
                const char *end = NULL;
                for (size_t j = i + 2; j + 1 < n; j++)
                    if (p[j] == '\\' && p[j + 1] == 'E') {
                        end = p + j;
                        break;
                    }
                i = end ? (size_t)(end - p) + 1 : n;
                continue;
            }
            i++;
            continue;
        }
        if (in_class) {
            if (c == '[' && i + 1 < n && (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
                if (p[i + 1] != ':')
                    return "a collating element in a character class";
                const char *end = NULL;
                for (size_t j = i + 2; j + 1 < n; j++)
                    if (p[j] == ':' && p[j + 1] == ']') {
                        end = p + j;
                        break;
                    }
                if (!end)
                    return "an unterminated POSIX class";
                i = (size_t)(end - p) + 1;
            } else if (c == ']') {
                in_class = 0;
            }
            continue;
        }
        if (c == '[') {
            in_class = 1;
            if (i + 1 < n && p[i + 1] == '^')
                i++;
            if (i + 1 < n && p[i + 1] == ']')
                i++; /* a leading ] is literal */
            continue;
        }
        if (c == '(' && i + 1 < n && p[i + 1] == '*')
            return "a PCRE verb (*...)";
        if (c == '(' && i + 1 < n && p[i + 1] == '?') {
            if (i + 2 >= n)
                return "an unterminated group";
            char g = p[i + 2];
            if (g == ':')
                continue;
            if (g == '=' || g == '!')
                return "a lookahead";
            if (g == '<' && i + 3 < n && (p[i + 3] == '=' || p[i + 3] == '!'))
                return "a lookbehind";
            if (g == '<' || (g == 'P' && i + 3 < n && p[i + 3] == '<'))
                continue; /* a named group (written (?P<name> for RE2) */
            if (g == '>')
                return "an atomic group";
            if (g == '|')
                return "a branch-reset group";
            if (g == '#')
                return "a comment group";
            if (g == '\'' || g == 'P' || g == 'R' || g == '&' || g == '+' || (g >= '0' && g <= '9'))
                return "a named reference, recursion or subroutine call";
            if (g == '(')
                return "a conditional group";
            /* Inline flags: only i, m, s, U mean the same in RE2. */
            size_t j = i + 2;
            while (j < n && p[j] != ')' && p[j] != ':') {
                if (!strchr("imsU-", p[j]))
                    return "an inline flag RE2 lacks (only i, m, s and U are shared)";
                j++;
            }
            i = j;
            continue;
        }
        if ((c == '*' || c == '+' || c == '?' || c == '}') && i + 1 < n && p[i + 1] == '+')
            return "a possessive quantifier";
    }
    return in_class ? "an unterminated character class" : NULL;
}

/* The pattern for RE2: named groups as (?P<name>...). */
static void re2_write(txt *t, const char *p, size_t n)
{
    int in_class = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n) {
            txt_put(t, p + i, 2);
            i++;
            continue;
        }
        if (!in_class && p[i] == '[')
            in_class = 1;
        else if (in_class && p[i] == ']')
            in_class = 0;
        if (!in_class && p[i] == '(' && i + 3 < n && p[i + 1] == '?' && p[i + 2] == '<' &&
            p[i + 3] != '=' && p[i + 3] != '!') {
            txt_puts(t, "(?P<");
            i += 2;
            continue;
        }
        txt_put(t, p + i, 1);
    }
}

/* A verbatim KQL string holding a regular expression. -1: control characters. */
int kql_regex(txt *t, const char *flags, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            return -1;
    scratch s;
    txt_scratch_init(&s);
    txt_puts(&s.t, flags);
    re2_write(&s.t, p, n);
    char *body = txt_scratch_take(&s);
    if (!body) {
        t->oom = 1;
        return 0;
    }
    txt_puts(t, "@\"");
    for (char *q = body; *q; q++)
        txt_put(t, *q == '"' ? "\"\"" : q, *q == '"' ? 2 : 1);
    txt_puts(t, "\"");
    free(body);
    return 0;
}

/* The seed rules' regular expression: a case-insensitive KQL `has` term match applied to
 * the last component of a path. Prefix and suffix as rules/seed_*.yml write them. */
static const char term_prefix[] = "(?:^|\\\\)(?:[^\\\\]*[^\\\\a-z0-9])?";
static const char term_suffix[] = "(?:[^\\\\a-z0-9][^\\\\]*)?$";

static int term_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static int alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Decodes a literal run ([A-Za-z0-9_-] and \. \-) into out; -1 if it is not one. */
static int term_literal(const char *p, size_t n, char *out, size_t cap, size_t *outn)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\\' && i + 1 < n && (p[i + 1] == '.' || p[i + 1] == '-'))
            c = p[++i];
        else if (!term_char(c))
            return -1;
        if (k + 1 >= cap)
            return -1;
        out[k++] = c;
    }
    out[k] = 0;
    *outn = k;
    return 0;
}

/* If the pattern is a term match, writes `("t1", "t2", ...)` to t and returns 1. */
int kql_term_match(txt *t, const needle *nd)
{
    uint32_t opts = 0;
    if (pcre2_pattern_info(nd->re, PCRE2_INFO_ARGOPTIONS, &opts) || !(opts & PCRE2_CASELESS) ||
        (opts & PCRE2_MULTILINE))
        return 0;
    const char *p = nd->orig;
    size_t n = nd->orig_len, pl = strlen(term_prefix), sl = strlen(term_suffix);
    if (n <= pl + sl || memcmp(p, term_prefix, pl) || memcmp(p + n - sl, term_suffix, sl))
        return 0;
    const char *b = p + pl;
    size_t bn = n - pl - sl;
    const char *alts = b, *tail = b;
    size_t altn = 0, tailn = bn;
    if (bn > 3 && !memcmp(b, "(?:", 3)) {
        const char *close = memchr(b, ')', bn);
        if (!close)
            return 0;
        alts = b + 3;
        altn = (size_t)(close - alts);
        tail = close + 1;
        tailn = bn - (size_t)(tail - b);
    } else {
        alts = b;
        altn = bn;
        tail = b + bn;
        tailn = 0;
    }
    char tailbuf[128];
    size_t tl;
    if (term_literal(tail, tailn, tailbuf, sizeof tailbuf, &tl))
        return 0;
    scratch s;
    txt_scratch_init(&s);
    txt_puts(&s.t, "(");
    size_t start = 0, nterms = 0;
    for (size_t i = 0; i <= altn; i++) {
        if (i < altn && alts[i] != '|')
            continue;
        char term[256];
        size_t an;
        if (term_literal(alts + start, i - start, term, sizeof term - sizeof tailbuf, &an) ||
            an + tl == 0) {
            dh_buf_free(&s.b);
            return 0;
        }
        memcpy(term + an, tailbuf, tl + 1);
        if (!alnum(term[0]) || !alnum(term[an + tl - 1])) {
            dh_buf_free(&s.b);
            return 0;
        }
        if (nterms++)
            txt_puts(&s.t, ", ");
        txt_string(&s.t, term, an + tl);
        start = i + 1;
    }
    txt_puts(&s.t, ")");
    char *list = txt_scratch_take(&s);
    if (!list) {
        t->oom = 1;
        return 1;
    }
    txt_puts(t, list);
    free(list);
    return 1;
}
