/* dcomhunt tune suggest: proposes tuning filters for patterns that recur in past findings.
 *
 * Findings (hunt --jsonl) are grouped: chains and attempts by kind, source, account and
 * COM object; signals by rule and host. A group seen at least --min times becomes a
 * proposed Sigma filter with its counts and targets as comments. The proposal's reason and
 * expiry are left empty: a person decides, and dcomhunt refuses a filter without a reason. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/strdup.h"
#include "core/utf8.h"
#include "output/text.h"
#include "core/buf.h"
#include "core/escape.h"
#include "output/findings_read.h"

#define MAX_LINE   (16u << 20)
#define MAX_GROUPS 100000
#define MAX_FIELD  512

enum { F_KIND, F_SRC_IP, F_SRC_HOST, F_USER, F_OBJECT, F_RULE, F_TARGET, F_FIRST, NF };

typedef struct group {
    char *key[NF]; /* F_TARGET and F_FIRST are not part of the key */
    unsigned long count;
    char *targets[8];
    size_t ntargets;
    unsigned long more_targets;
    char first[40], last[40];
} group;

typedef struct suggest {
    group *g;
    size_t n, cap;
    unsigned long lines, bad, findings;
} suggest;

/* The text of token t (a string decoded, a number as written), cut to MAX_FIELD - 1 bytes. */
static void get_tok(const dh_jdoc *d, int t, dh_buf *sc, char *out)
{
    dh_jstr v = dh_jdoc_val(d, t, sc);
    size_t n = v.n < MAX_FIELD - 1 ? v.n : MAX_FIELD - 1;
    memcpy(out, v.p, n);
    out[n] = 0;
}

/* The text of member `name` of object o (-1: none), as get_tok. */
static void get(const dh_jdoc *d, int o, const char *name, dh_buf *sc, char *out)
{
    get_tok(d, dh_jdoc_get(d, o, name), sc, out);
}

static int add_finding(suggest *s, char f[NF][MAX_FIELD])
{
    int signal = !strcmp(f[F_KIND], "signal");
    if (signal) { /* signals: by rule and host */
        f[F_SRC_IP][0] = f[F_SRC_HOST][0] = f[F_USER][0] = f[F_OBJECT][0] = 0;
    } else {
        f[F_RULE][0] = 0;
    }
    group *g = NULL;
    for (size_t i = 0; i < s->n && !g; i++) {
        int same = 1;
        for (int k = 0; k < F_TARGET && same; k++)
            same = !strcmp(s->g[i].key[k], f[k]);
        if (same && signal)
            same = !strcmp(s->g[i].targets[0] ? s->g[i].targets[0] : "", f[F_TARGET]);
        if (same)
            g = &s->g[i];
    }
    if (!g) {
        if (s->n >= MAX_GROUPS)
            return -1;
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 64;
            group *v = realloc(s->g, cap * sizeof *v);
            if (!v)
                return -1;
            s->g = v;
            s->cap = cap;
        }
        g = &s->g[s->n++];
        memset(g, 0, sizeof *g);
        for (int k = 0; k < F_TARGET; k++)
            if (!(g->key[k] = dh_strndup(f[k], strlen(f[k]))))
                return -1;
        snprintf(g->first, sizeof g->first, "%s", f[F_FIRST]);
    }
    g->count++;
    if (strcmp(f[F_FIRST], g->first) < 0)
        snprintf(g->first, sizeof g->first, "%s", f[F_FIRST]);
    if (strcmp(f[F_FIRST], g->last) > 0)
        snprintf(g->last, sizeof g->last, "%s", f[F_FIRST]);
    size_t i;
    for (i = 0; i < g->ntargets; i++)
        if (!strcmp(g->targets[i], f[F_TARGET]))
            break;
    if (i == g->ntargets) {
        if (g->ntargets < 8)
            g->targets[g->ntargets++] = dh_strndup(f[F_TARGET], strlen(f[F_TARGET]));
        else
            g->more_targets++;
    }
    return 0;
}

/* A YAML scalar holding s exactly (docs/output-escaping.md): single-quoted when it is
 * printable UTF-8, else double-quoted with quotes and backslashes escaped, control and invisible or
 * bidirectional characters as \xNN, \uNNNN or \UNNNNNNNN, which YAML reads back as they were, so a
 * proposed filter neither hides what it matches from its reviewer nor matches something else. */
static void yq(FILE *out, const char *s)
{
    size_t n = strlen(s);
    int plain = 1; /* printable UTF-8: single quotes, as people write them */
    for (size_t i = 0; i < n && plain;) {
        long cp;
        i += dh_utf8_next((const unsigned char *)s + i, n - i, &cp);
        plain = cp >= 0 && !dh_char_hidden(cp);
    }
    if (plain) {
        fputc('\'', out);
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '\'')
                fputc('\'', out); /* a quote is doubled */
            fputc(s[i], out);
        }
        fputc('\'', out);
        return;
    }
    fputc('"', out);
    for (size_t i = 0; i < n;) {
        long cp;
        size_t k = dh_utf8_next((const unsigned char *)s + i, n - i, &cp);
        if (cp == '"' || cp == '\\')
            fprintf(out, "\\%c", (char)cp);
        else if (cp < 0)
            fprintf(out, "\\x%02x", (unsigned char)s[i]);
        else if (dh_char_hidden(cp))
            fprintf(out, cp <= 0xFF ? "\\x%02lx" : cp <= 0xFFFF ? "\\u%04lx" : "\\U%08lx", cp);
        else
            fwrite(s + i, 1, k, out);
        i += k;
    }
    fputc('"', out);
}

/* A comment line's text, escaped as on the terminal (a line end would end the comment). */
static void comment_text(FILE *out, const char *s)
{
    dh_buf b;
    dh_buf_init(&b, 1u << 20);
    if (dh_text_escape(&b, s, strlen(s), 0) == DH_OK && b.len)
        fwrite(b.data, 1, b.len, out);
    dh_buf_free(&b);
}

static void propose(FILE *out, const group *g, unsigned n)
{
    int signal = !strcmp(g->key[F_KIND], "signal");
    fprintf(out, "---\n# seen %lu times, first %s, last %s; targets:", g->count, g->first,
            g->last[0] ? g->last : g->first);
    for (size_t i = 0; i < g->ntargets; i++) {
        fputc(' ', out);
        comment_text(out, g->targets[i]);
    }
    if (g->more_targets)
        fprintf(out, " and %lu more", g->more_targets);
    char title[MAX_FIELD + 96];
    snprintf(title, sizeof title, "Proposed %u - recurring %s%s%s", n, g->key[F_KIND],
             signal              ? " of "
             : *g->key[F_OBJECT] ? " via "
                                 : "",
             signal ? g->key[F_RULE] : g->key[F_OBJECT]);
    fputs("\ntitle: ", out);
    yq(out, title);
    fputs("\ndescription: ''\n"
          "reason: ''        # required: why this is benign (a ticket, an owner)\n"
          "expires: ''       # YYYY-MM-DD: when to look again\n"
          "logsource:\n  product: windows\nfilter:\n  rules:\n    - ",
          out);
    yq(out, signal ? g->key[F_RULE] : g->key[F_KIND]);
    fputs("\n  known:\n", out);
    if (signal) {
        fputs("    ComputerName: ", out);
        yq(out, g->targets[0] ? g->targets[0] : "");
        fputc('\n', out);
    } else {
        static const struct {
            int k;
            const char *field;
        } keys[] = {{F_SRC_IP, "SourceIp"},
                    {F_SRC_HOST, "SourceHostname"},
                    {F_USER, "User"},
                    {F_OBJECT, "ComObject"}};
        int any = 0;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (*g->key[keys[i].k]) {
                fprintf(out, "    %s: ", keys[i].field);
                yq(out, g->key[keys[i].k]);
                fputc('\n', out);
                any = 1;
            }
        if (!any) {
            fputs("    FindingKind: ", out);
            yq(out, g->key[F_KIND]);
            fputc('\n', out);
        }
    }
    fputs("  condition: not known\n", out);
}

static int usage(FILE *f, int rc)
{
    fputs("usage: dcomhunt tune suggest [--min N] FINDINGS.jsonl...\n"
          "  Reads findings (dcomhunt hunt --jsonl) and prints a proposed tuning filter for\n"
          "  each pattern seen at least N times (default 3): chains and attempts by kind,\n"
          "  source, account and COM object; signals by rule and host. Fill in each\n"
          "  proposal's reason and expiry before using it with hunt --tune (docs/tuning.md).\n"
          "  exit status: 0 done, 2 usage, 3 some lines were not findings, 4 error\n",
          f);
    return rc;
}

int cli_tune(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "suggest") != 0)
        return usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
                     argc >= 2 && !strcmp(argv[1], "--help") ? DH_EXIT_OK : DH_EXIT_USAGE);
    static const struct option longopts[] = {
        {"min", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned long min = 3;
    int ch;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'm': {
            char *end;
            min = strtoul(optarg, &end, 10);
            if (*end || !min || min > 1000000)
                return usage(stderr, DH_EXIT_USAGE);
            break;
        }
        case 'h':
            return usage(stdout, DH_EXIT_OK);
        default:
            return usage(stderr, DH_EXIT_USAGE);
        }
    }
    if (optind >= argc)
        return usage(stderr, DH_EXIT_USAGE);
    suggest s = {0};
    dh_findings_reader *rd = dh_findings_reader_new();
    dh_buf sc;
    dh_buf_init(&sc, MAX_LINE);
    char *line = malloc(MAX_LINE + 1);
    char(*f)[MAX_FIELD] = malloc(NF * sizeof *f);
    int rc = DH_EXIT_OK;
    if (!rd || !line || !f)
        rc = DH_EXIT_ERROR;
    for (int a = optind; a < argc && rc == DH_EXIT_OK; a++) {
        FILE *in = strcmp(argv[a], "-") ? fopen(argv[a], "rb") : stdin;
        if (!in) {
            fputs("dcomhunt tune: cannot open ", stderr);
            cli_put_safe(stderr, argv[a]);
            fputc('\n', stderr);
            rc = DH_EXIT_PARTIAL;
            continue;
        }
        unsigned long lineno = 0;
        while (fgets(line, MAX_LINE + 1, in)) {
            lineno++;
            size_t n = strlen(line);
            int whole = n && line[n - 1] == '\n';
            if (!whole && !feof(in)) { /* longer than any finding: skip to its end */
                int c;
                while ((c = fgetc(in)) != EOF && c != '\n')
                    ;
            }
            while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                n--;
            if (!n)
                continue;
            s.lines++;
            size_t b = 0; /* blanks around the object, as report allows */
            while (b < n && (line[b] == ' ' || line[b] == '\t'))
                b++;
            while (n > b && (line[n - 1] == ' ' || line[n - 1] == '\t'))
                n--;
            dh_jdoc d;
            if (dh_findings_reader_finding(rd, line + b, n - b, &d)) {
                s.bad++;
                fputs("dcomhunt tune: ", stderr);
                cli_put_safe(stderr, argv[a]);
                fprintf(stderr, ": line %lu: not a finding (dcomhunt hunt --jsonl)\n", lineno);
                continue;
            }
            int src = dh_jdoc_get(&d, 0, "source"), tgt = dh_jdoc_get(&d, 0, "target");
            get(&d, 0, "kind", &sc, f[F_KIND]);
            get(&d, src, "ip", &sc, f[F_SRC_IP]);
            get(&d, src, "host", &sc, f[F_SRC_HOST]);
            get(&d, 0, "user", &sc, f[F_USER]);
            get(&d, 0, "com_object", &sc, f[F_OBJECT]);
            get(&d, tgt, "host", &sc, f[F_TARGET]);
            get(&d, 0, "first_seen", &sc, f[F_FIRST]);
            /* the first rule names a signal's pattern */
            get_tok(&d, dh_jdoc_next(&d, dh_jdoc_get(&d, 0, "rule_names"), -1), &sc, f[F_RULE]);
            if (dh_jdoc_get(&d, 0, "suppressed") >= 0)
                continue; /* already tuned away */
            s.findings++;
            if (add_finding(&s, f)) {
                fputs("dcomhunt tune: too many distinct patterns or out of memory\n", stderr);
                rc = DH_EXIT_ERROR;
                break;
            }
        }
        if (in != stdin)
            fclose(in);
    }
    unsigned proposed = 0;
    if (rc == DH_EXIT_OK || rc == DH_EXIT_PARTIAL) {
        printf("# dcomhunt tune suggest: %lu findings read, proposals for patterns seen at "
               "least %lu times.\n# Review each: a recurring pattern can be an attacker "
               "repeating what works.\n",
               s.findings, min);
        for (size_t i = 0; i < s.n; i++)
            if (s.g[i].count >= min)
                propose(stdout, &s.g[i], ++proposed);
        if (!proposed)
            printf("# nothing recurs %lu times or more\n", min);
        fprintf(stderr, "dcomhunt tune: %lu findings, %zu patterns, %u proposed\n", s.findings, s.n,
                proposed);
    }
    if (rc == DH_EXIT_OK && s.bad)
        rc = DH_EXIT_PARTIAL;
    for (size_t i = 0; i < s.n; i++) {
        for (int k = 0; k < F_TARGET; k++)
            free(s.g[i].key[k]);
        for (size_t t = 0; t < s.g[i].ntargets; t++)
            free(s.g[i].targets[t]);
    }
    free(s.g);
    dh_findings_reader_free(rd);
    dh_buf_free(&sc);
    free(line);
    free(f);
    return rc;
}
