/* Plain-text rule vectors: a rule (or the built-in pack), events, and what must match.
 *
 *   --- rule                      a Sigma rule follows, up to the next '--- ' line
 *   --- rule refused TEXT         the rule (or rules) that follow must all be refused, TEXT in
 *                                 one of the reasons
 *   --- rule file PATH            the rule in PATH (relative to the working directory)
 *   --- pack                      the built-in rule pack
 *   --- event match | nomatch     (after '--- rule') the event that follows
 *   --- event expect NAME... | none   (after '--- pack') exactly these pack rules match
 *
 *   --- placeholder NAME          the lines that follow are values for %NAME% (|expand)
 *   --- chain NAME                a correlation case: the built-in pack and the correlator
 *   --- event                     (in a chain) an event of the case; 'time' and 'record_id'
 *                                 keys set its time (ISO 8601) and record id
 *   --- rules                     like '--- rule', for a text of several rules (correlations)
 *   --- chain with rules NAME     a correlation case with the last '--- rules' instead
 *   --- flush                     (in a chain) the correlator finishes now what the window
 *                                 has passed, as hunt does every 16,384 events: events that
 *                                 follow and are older come out of time order
 *   --- expect KIND N [key=value]...   (in a chain, after all its events) N findings of
 *                                 KIND (or 'rule:REF': findings naming that rule by name, id
 *                                 or file:line); the first (by first seen) has these values
 *                                 (source_ip, source_host, target_host, target_ip, com_object,
 *                                 objects=A,B, user, logon_id, confidence, commands=count,
 *                                 servers=count, session=count, evidence=count,
 *                                 roles=count:role, records=id,id..., events=count (the
 *                                 events a correlation signal covers), first=TIME, last=TIME,
 *                                 severity=LEVEL)
 *
 * Every chain is also checked for what must hold of any output: no two findings share an
 * evidence record (Sigma correlation findings excepted: they list the events that made a
 * correlation rule fire, which may be evidence of a finding too).
 *
 * Every event goes through the engine (dh_engine_push), as hunt's events do: matched,
 * and in a chain handed to the correlator as the engine packs it (envelope, taxonomy
 * fields and the original fields correlation rules read). Match cases use an engine in
 * detections mode that reports every rule, a correlation's base rules too.
 *
 * Event lines are 'Key: value' (value verbatim), or 'Key:: value' where \n, \t, \\ and
 * \xNN in the value are escapes. Lowercase keys are the envelope:
 * provider, event_id, channel, host, kind; 'system.NAME' a System property (Level,
 * Keywords, UserID...); the rest are the event's original fields, in
 * order, mapped to taxonomy fields by the same table the readers use. Without provider
 * and event_id the event is Sysmon event 1 (a process creation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "dcomhunt/correlate.h"
#include "dcomhunt/engine.h"
#include "dcomhunt/rules.h"
#include "event/builder.h"
#include "event/mappings/mappings.h"

#define MAX_LINES    200000
#define MAX_REPORTED 40 /* failures printed in full; the rest are only counted */

static unsigned reported;
#define REPORT(...)                                                                                \
    do {                                                                                           \
        if (reported++ < MAX_REPORTED)                                                             \
            fprintf(stderr, __VA_ARGS__);                                                          \
    } while (0)

typedef struct diag_capture {
    char last[512];
    char all[4096]; /* every refusal, separated by " | " */
    unsigned errors;
} diag_capture;

static void capture(void *ctx, const dh_rule_diag *d)
{
    diag_capture *c = ctx;
    if (d->is_error) {
        c->errors++;
        snprintf(c->last, sizeof c->last, "%s", d->message);
        size_t n = strlen(c->all);
        snprintf(c->all + n, sizeof c->all - n, "%s%s", n ? " | " : "", d->message);
    }
}

static const char *default_channel(const char *provider)
{
    static const struct {
        const char *provider, *channel;
    } t[] = {
        {"Microsoft-Windows-Sysmon", "Microsoft-Windows-Sysmon/Operational"},
        {"Microsoft-Windows-Security-Auditing", "Security"},
        {"Microsoft-Windows-DistributedCOM", "System"},
        {"Service Control Manager", "System"},
        {"Microsoft-Windows-PowerShell", "Microsoft-Windows-PowerShell/Operational"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].provider, provider))
            return t[i].channel;
    return "";
}

typedef struct event_text {
    char *keys[256], *vals[256];
    size_t n;
} event_text;

static dh_kv sysv[32]; /* the System properties of the event being built */

static int build_event(event_text *et, dh_event *ev, dh_kv *kv, char *err, size_t errcap)
{
    size_t ns = 0;
    int64_t when = 132000000000000000LL;
    uint64_t record_id = 0;
    const char *provider = NULL, *channel = NULL, *host = "HOST", *kind = NULL;
    unsigned long event_id = 0;
    int have_id = 0;
    size_t nd = 0;
    for (size_t i = 0; i < et->n; i++) {
        const char *k = et->keys[i], *v = et->vals[i];
        if (!strcmp(k, "provider"))
            provider = v;
        else if (!strcmp(k, "event_id")) {
            event_id = strtoul(v, NULL, 10);
            have_id = 1;
        } else if (!strcmp(k, "channel"))
            channel = v;
        else if (!strcmp(k, "host"))
            host = v;
        else if (!strcmp(k, "kind"))
            kind = v;
        else if (!strcmp(k, "time")) {
            int64_t t;
            if (dh_time_parse_iso(v, strlen(v), &t)) {
                snprintf(err, errcap, "bad time '%s'", v);
                return -1;
            }
            when = t;
        } else if (!strcmp(k, "record_id"))
            record_id = strtoull(v, NULL, 10);
        else if (!strncmp(k, "system.", 7) && ns < sizeof sysv / sizeof sysv[0]) {
            sysv[ns].name = (dh_str){k + 7, strlen(k + 7)};
            sysv[ns].value = (dh_str){v, strlen(v)};
            ns++;
        } else {
            kv[nd].name = (dh_str){k, strlen(k)};
            kv[nd].value = (dh_str){v, strlen(v)};
            nd++;
        }
    }
    if (!provider && !have_id) {
        provider = "Microsoft-Windows-Sysmon";
        event_id = 1;
    }
    if (!provider)
        provider = "";
    if (!channel)
        channel = default_channel(provider);
    dh_event_begin(ev, "vector");
    dh_event_set_time(ev, when);
    dh_event_set_provider(ev, (dh_str){provider, strlen(provider)});
    dh_event_set_channel(ev, (dh_str){channel, strlen(channel)});
    dh_event_set_host(ev, (dh_str){host, strlen(host)});
    dh_event_set_ids(ev, (uint32_t)event_id, record_id);
    dh_event_set_data(ev, kv, nd);
    dh_event_set_system(ev, sysv, ns);
    dh_map_windows_apply(ev);
    if (kind) {
        int found = 0;
        for (int k = 0; k < DH_KIND_COUNT; k++)
            if (!strcmp(dh_kind_name((dh_kind)k), kind)) {
                dh_event_set_kind(ev, (dh_kind)k);
                found = 1;
            }
        if (!found) {
            snprintf(err, errcap, "unknown kind '%s'", kind);
            return -1;
        }
        /* Taxonomy names given directly count as taxonomy fields. */
        for (size_t i = 0; i < nd; i++) {
            int id = dh_field_from_name(kv[i].name.ptr, kv[i].name.len);
            dh_str have;
            if (id >= 0 && !dh_event_field(ev, (dh_field)id, &have))
                dh_event_set_field(ev, (dh_field)id, kv[i].value);
        }
    }
    return 0;
}

typedef struct match_set {
    const dh_rule *hit[512];
    size_t n;
} match_set;

static int collect(void *ctx, const dh_detection *d)
{
    match_set *m = ctx;
    if (m->n < 512)
        m->hit[m->n++] = d->rule;
    return 0;
}

/* An engine reporting every match of rs's rules to *ms as a detection. */
static dh_engine *match_engine(const dh_ruleset *rs, match_set *ms)
{
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.mode = DH_ENGINE_DETECTIONS;
    o.base_rules = 1;
    o.sink = (dh_engine_sink){.ctx = ms, .on_detection = collect};
    dh_engine *e = NULL;
    dh_engine_new(&o, rs, &e);
    return e;
}

/* The rules ev matches, through the engine; -1 if the engine failed. */
static int match_event(dh_engine *e, match_set *ms, const dh_event *ev)
{
    ms->n = 0;
    return e && dh_engine_push(e, ev) == DH_OK ? 0 : -1;
}

static char *trim_end(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

/* Interprets \n \t \\ \xNN in place. */
static void unescape_value(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p != '\\' || !p[1]) {
            *o++ = *p;
            continue;
        }
        p++;
        if (*p == 'n')
            *o++ = '\n';
        else if (*p == 't')
            *o++ = '\t';
        else if (*p == 'x' && p[1] && p[2]) {
            char hx[3] = {p[1], p[2], 0};
            *o++ = (char)strtol(hx, NULL, 16);
            p += 2;
        } else
            *o++ = *p;
    }
    *o = 0;
}

typedef struct ph_list {
    char *name[32];
    char **values[32];
    size_t nvalues[32];
    size_t n;
} ph_list;

typedef struct got_finding {
    dh_finding_kind kind;
    char source_ip[64], source_host[128], target_host[128], target_ip[64], com_object[64],
        user[128], logon_id[64], objects[256], records[1024], roles[1024];
    const char *confidence;
    size_t ncommands, nevidence, nservers, nsession;
    unsigned long long nevents;
    int64_t first, last;
    dh_level severity;
    char rules[1024];
} got_finding;

typedef struct chain_state {
    int custom; /* '--- chain with rules': the last '--- rules' section, not the pack */
    const dh_ruleset *rs;
    dh_engine *eng; /* findings mode: matcher and correlator */
    got_finding got[64];
    size_t ngot;
    int finished;
    const dh_event *seen[4096]; /* evidence records of the findings so far */
    size_t nseen;
    char shared[160]; /* a record two findings share, if any */
} chain_state;

static void copy_str(char *d, size_t cap, dh_str s)
{
    snprintf(d, cap, "%.*s", (int)s.len, s.ptr ? s.ptr : "");
}

static int on_finding(void *ctx, const dh_finding *f)
{
    chain_state *cs = ctx;
    if (cs->ngot >= 64)
        return 0;
    got_finding *g = &cs->got[cs->ngot++];
    g->kind = f->kind;
    copy_str(g->source_ip, sizeof g->source_ip, f->source_ip);
    copy_str(g->source_host, sizeof g->source_host, f->source_host);
    copy_str(g->target_host, sizeof g->target_host, f->target_host);
    copy_str(g->com_object, sizeof g->com_object, f->com_object);
    copy_str(g->user, sizeof g->user, f->user);
    copy_str(g->logon_id, sizeof g->logon_id, f->logon_id);
    copy_str(g->target_ip, sizeof g->target_ip, f->target_ip);
    g->ncommands = f->ncommands;
    g->nevidence = f->nevidence;
    g->nservers = f->nservers;
    g->nsession = f->nsession_commands;
    g->confidence = f->confidence >= 3 ? "high" : f->confidence == 2 ? "medium" : "low";
    g->objects[0] = 0;
    for (size_t i = 0; i < f->nobjects; i++) {
        if (i)
            strncat(g->objects, ",", sizeof g->objects - strlen(g->objects) - 1);
        strncat(g->objects, f->objects[i].name, sizeof g->objects - strlen(g->objects) - 1);
    }
    g->records[0] = g->roles[0] = 0;
    int correlation = f->nrules && dh_rule_is_correlation(f->rules[0]);
    for (size_t i = 0; i < f->nevidence; i++) {
        char one[64];
        snprintf(one, sizeof one, "%s%llu", i ? "," : "",
                 (unsigned long long)dh_event_record_id(f->evidence[i].ev));
        strncat(g->records, one, sizeof g->records - strlen(g->records) - 1);
        snprintf(one, sizeof one, " %s ", f->evidence[i].role);
        strncat(g->roles, one, sizeof g->roles - strlen(g->roles) - 1);
        /* no two findings share an evidence record */
        if (correlation)
            continue;
        for (size_t k = 0; k < cs->nseen && !cs->shared[0]; k++)
            if (cs->seen[k] == f->evidence[i].ev)
                snprintf(
                    cs->shared, sizeof cs->shared, "record %llu (%s) is evidence of two findings",
                    (unsigned long long)dh_event_record_id(f->evidence[i].ev), f->evidence[i].role);
        if (cs->nseen < sizeof cs->seen / sizeof cs->seen[0])
            cs->seen[cs->nseen++] = f->evidence[i].ev;
    }
    g->nevents = f->nevidence;
    for (size_t i = 0; i < f->nreasons; i++) {
        unsigned long long n;
        if (sscanf(f->reasons[i], "%llu events;", &n) == 1)
            g->nevents = n;
    }
    g->severity = f->severity;
    g->first = f->first_seen;
    g->last = f->last_seen;
    g->rules[0] = ' ';
    g->rules[1] = 0;
    for (size_t i = 0; i < f->nrules; i++) {
        const char *names[3] = {dh_rule_name(f->rules[i]), dh_rule_id(f->rules[i]),
                                dh_rule_ref(f->rules[i])};
        for (int k = 0; k < 3; k++)
            if (*names[k]) {
                strncat(g->rules, names[k], sizeof g->rules - strlen(g->rules) - 2);
                strncat(g->rules, " ", sizeof g->rules - strlen(g->rules) - 1);
            }
    }
    return 0;
}

/* A chain's engine: findings mode over rs, findings collected in cs. */
static dh_engine *chain_engine(chain_state *cs, const dh_ruleset *rs)
{
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.sink = (dh_engine_sink){.ctx = cs, .on_finding = on_finding};
    dh_engine *e = NULL;
    dh_engine_new(&o, rs, &e);
    return e;
}

/* "--- expect KIND N key=value..." against the chain's findings; returns 0 if it holds. */
static int chain_expect(chain_state *cs, const char *spec, char *why, size_t cap)
{
    if (!cs->finished) {
        cs->finished = 1;
        if (dh_engine_finish(cs->eng) != DH_OK) {
            snprintf(why, cap, "the engine could not finish the chain");
            return -1;
        }
    }
    if (cs->shared[0]) {
        snprintf(why, cap, "%s", cs->shared);
        return -1;
    }
    char kind[64];
    unsigned want;
    int off = 0;
    if (sscanf(spec, "%63s %u%n", kind, &want, &off) < 2) {
        snprintf(why, cap, "bad expect line");
        return -1;
    }
    size_t n = 0;
    const got_finding *first = NULL;
    char padded[80];
    snprintf(padded, sizeof padded, " %s ", kind);
    int by_rule = strncmp(kind, "rule:", 5) == 0;
    if (by_rule)
        snprintf(padded, sizeof padded, " %s ", kind + 5);
    for (size_t i = 0; i < cs->ngot; i++)
        if (by_rule ? strstr(cs->got[i].rules, padded) != NULL
                    : !strcmp(dh_finding_kind_name(cs->got[i].kind), kind)) {
            if (!first || cs->got[i].first < first->first)
                first = &cs->got[i];
            n++;
        }
    if (n != want) {
        snprintf(why, cap, "%zu %s findings, want %u", n, kind, want);
        return -1;
    }
    char rest[1024];
    snprintf(rest, sizeof rest, "%s", spec + off);
    for (char *tok = strtok(rest, " "); tok; tok = strtok(NULL, " ")) {
        char *eq = strchr(tok, '=');
        if (!eq || !first) {
            snprintf(why, cap, "bad or unmet check '%s'", tok);
            return -1;
        }
        *eq = 0;
        const char *k = tok, *v = eq + 1;
        char num[64];
        const char *have = NULL;
        if (!strcmp(k, "source_ip"))
            have = first->source_ip;
        else if (!strcmp(k, "source_host"))
            have = first->source_host;
        else if (!strcmp(k, "target_host"))
            have = first->target_host;
        else if (!strcmp(k, "com_object"))
            have = first->com_object;
        else if (!strcmp(k, "user"))
            have = first->user;
        else if (!strcmp(k, "logon_id"))
            have = first->logon_id;
        else if (!strcmp(k, "target_ip"))
            have = first->target_ip;
        else if (!strcmp(k, "objects"))
            have = first->objects;
        else if (!strcmp(k, "confidence"))
            have = first->confidence;
        else if (!strcmp(k, "records"))
            have = first->records;
        else if (!strcmp(k, "servers")) {
            snprintf(num, sizeof num, "%zu", first->nservers);
            have = num;
        } else if (!strcmp(k, "session")) {
            snprintf(num, sizeof num, "%zu", first->nsession);
            have = num;
        } else if (!strncmp(k, "roles", 5)) {
            /* roles=N:role: N evidence records with that role */
            const char *colon = strchr(v, ':');
            if (colon) {
                char pat[64];
                snprintf(pat, sizeof pat, " %s ", colon + 1);
                size_t cnt = 0;
                for (const char *q = first->roles; (q = strstr(q, pat)) != NULL;
                     q += strlen(pat) - 1)
                    cnt++;
                snprintf(num, sizeof num, "%zu:%.40s", cnt, colon + 1);
                have = num;
            }
        } else if (!strcmp(k, "commands")) {
            snprintf(num, sizeof num, "%zu", first->ncommands);
            have = num;
        } else if (!strcmp(k, "evidence")) {
            snprintf(num, sizeof num, "%zu", first->nevidence);
            have = num;
        } else if (!strcmp(k, "severity")) {
            have = dh_level_name(first->severity);
        } else if (!strcmp(k, "events")) {
            snprintf(num, sizeof num, "%llu", first->nevents);
            have = num;
        } else if (!strcmp(k, "first") || !strcmp(k, "last")) {
            int64_t want_t;
            if (dh_time_parse_iso(v, strlen(v), &want_t)) {
                snprintf(why, cap, "bad time '%s'", v);
                return -1;
            }
            int64_t got_t = !strcmp(k, "first") ? first->first : first->last;
            snprintf(num, sizeof num, "%s", got_t == want_t ? v : "another time");
            have = num;
        }
        if (!have || strcmp(have, v)) {
            snprintf(why, cap, "%s is '%.200s', want '%.60s'", k, have ? have : "(unknown key)", v);
            return -1;
        }
    }
    return 0;
}

/* Where a vector is, and the counts its verdict goes to. */
typedef struct where {
    const char *path;
    size_t line;
    unsigned *passed, *failed;
} where;

/* A '--- rule' section's text: its lines, or with 'rule file PATH' that file; NULL (and
 * said) if it cannot be read. *len is set; the caller frees. */
static char *rule_text(const where *at, const char *h, char **lines, size_t n, size_t *len)
{
    if (!strncmp(h, "rule file ", 10)) {
        FILE *rf = fopen(h + 10, "rb");
        char *text = rf ? malloc(1 << 20) : NULL;
        *len = text ? fread(text, 1, (1 << 20) - 1, rf) : 0;
        if (rf)
            fclose(rf);
        if (!text) {
            REPORT("%s:%zu: cannot read %s\n", at->path, at->line, h + 10);
            (*at->failed)++;
            return NULL;
        }
        text[*len] = 0;
        return text;
    }
    size_t total = 0;
    for (size_t k = 0; k < n; k++)
        total += strlen(lines[k]) + 1;
    char *text = malloc(total + 1);
    size_t o = 0;
    for (size_t k = 0; k < n && text; k++) {
        size_t ll = strlen(lines[k]);
        memcpy(text + o, lines[k], ll);
        text[o + ll] = '\n';
        o += ll + 1;
    }
    if (text)
        text[o] = 0;
    *len = o;
    return text;
}

/* A '--- rule' (or 'rules', 'rule refused TEXT', 'rule file PATH') section: the rules
 * loaded into *rs; returns the mode that follows (1: events are matched against them, 0:
 * nothing to match, the section was its own test or failed). */
static int rule_section(const where *at, const char *h, char **lines, size_t n, const ph_list *ph,
                        dh_ruleset **rs)
{
    size_t o = 0;
    char *text = rule_text(at, h, lines, n, &o);
    if (!text)
        return 0;
    dh_ruleset_new(rs);
    for (size_t k = 0; k < ph->n; k++)
        dh_ruleset_set_placeholder(*rs, ph->name[k], (const char *const *)ph->values[k],
                                   ph->nvalues[k]);
    diag_capture dc = {"", "", 0};
    dh_ruleset_add_text(*rs, text, o, at->path, capture, &dc);
    dh_ruleset_finish(*rs);
    free(text);
    const char *refused = strstr(h, "refused");
    if (refused) {
        const char *want = refused + 7;
        while (*want == ' ')
            want++;
        if (dc.errors >= 1 && dh_ruleset_count(*rs) == 0 && strstr(dc.all, want)) {
            (*at->passed)++;
        } else {
            REPORT("%s:%zu: rule should be refused with '%s'; got %u refusals, "
                   "%zu loaded, reasons '%s'\n",
                   at->path, at->line, want, dc.errors, dh_ruleset_count(*rs), dc.all);
            (*at->failed)++;
        }
        return 0;
    }
    if (dc.errors || (dh_ruleset_count(*rs) != 1 && strncmp(h, "rules", 5) != 0) ||
        dh_ruleset_count(*rs) == 0) {
        REPORT("%s:%zu: rule did not load: %s\n", at->path, at->line, dc.last);
        (*at->failed)++;
        return 0;
    }
    return 1;
}

/* An event section's 'Key: value' lines [start, end) into et (the lines are cut in place). */
static void event_lines(const where *at, char **lines, size_t start, size_t end, event_text *et)
{
    for (size_t k = start; k < end && et->n < 256; k++) {
        char *line = lines[k];
        if (!line[0] || line[0] == '#')
            continue;
        char *sep = strstr(line, ": ");
        int escaped = sep && sep > line && sep[-1] == ':';
        size_t kl = sep ? (size_t)(sep - line) - (size_t)escaped : strlen(line);
        if (!sep && (kl == 0 || line[kl - 1] != ':')) {
            REPORT("%s:%zu: event line without 'Key: value'\n", at->path, k + 1);
            (*at->failed)++;
            continue;
        }
        if (!sep)
            kl--;
        et->keys[et->n] = line;
        line[kl] = 0;
        et->vals[et->n] = sep ? sep + 2 : line + kl;
        if (escaped)
            unescape_value(et->vals[et->n]);
        et->n++;
    }
}

/* '--- event expect NAME... | none' after '--- pack': the pack rules that matched (ms) are
 * exactly those named. */
static void pack_expect(const where *at, const dh_ruleset *pack, const match_set *ms,
                        const char *want)
{
    char names[4096];
    snprintf(names, sizeof names, "%s", want);
    int ok = 1;
    char missing[2048] = "", extra[2048] = "";
    for (char *tok = strtok(names, " \t"); tok; tok = strtok(NULL, " \t")) {
        if (!strcmp(tok, "none"))
            continue;
        if (!dh_ruleset_find(pack, tok)) {
            REPORT("%s:%zu: no pack rule named '%s'\n", at->path, at->line, tok);
            ok = 0;
            continue;
        }
        size_t k;
        for (k = 0; k < ms->n; k++)
            if (!strcmp(dh_rule_name(ms->hit[k]), tok) || !strcmp(dh_rule_id(ms->hit[k]), tok))
                break;
        if (k == ms->n) {
            ok = 0;
            strncat(missing, " ", sizeof missing - strlen(missing) - 1);
            strncat(missing, tok, sizeof missing - strlen(missing) - 1);
        }
    }
    for (size_t k = 0; k < ms->n; k++) {
        const char *nm =
            *dh_rule_name(ms->hit[k]) ? dh_rule_name(ms->hit[k]) : dh_rule_id(ms->hit[k]);
        char padded[600];
        snprintf(padded, sizeof padded, " %s ", nm);
        char hay[4200];
        snprintf(hay, sizeof hay, " %s ", want);
        if (!strstr(hay, padded)) {
            ok = 0;
            strncat(extra, " ", sizeof extra - strlen(extra) - 1);
            strncat(extra, nm, sizeof extra - strlen(extra) - 1);
        }
    }
    if (ok) {
        (*at->passed)++;
    } else {
        REPORT("%s:%zu: pack mismatch; missing:%s; unexpected:%s\n", at->path, at->line,
               *missing ? missing : " -", *extra ? extra : " -");
        (*at->failed)++;
    }
}

static int run_file(const char *path, dh_ruleset *pack, dh_engine *pack_eng, match_set *pack_ms,
                    unsigned *passed, unsigned *failed)
{
    chain_state *cs = calloc(1, sizeof *cs);
    ph_list ph = {{0}, {0}, {0}, 0};
    FILE *f = fopen(path, "r");
    if (!f) {
        REPORT("%s: cannot open\n", path);
        (*failed)++;
        return -1;
    }
    char **lines = calloc(MAX_LINES, sizeof *lines);
    size_t n = 0;
    char buf[65536];
    while (n < MAX_LINES && fgets(buf, sizeof buf, f)) {
        lines[n] = malloc(strlen(buf) + 1);
        memcpy(lines[n], buf, strlen(buf) + 1);
        trim_end(lines[n]);
        n++;
    }
    fclose(f);
    dh_ruleset *rs = NULL; /* current single rule, owned */
    dh_engine *rule_eng = NULL;
    match_set rule_ms = {{0}, 0};
    int mode = 0; /* 1 rule, 2 pack */
    size_t i = 0;
    where at = {path, 0, passed, failed};
    while (i < n) {
        char *l = lines[i];
        if (strncmp(l, "--- ", 4) != 0) {
            if (l[0] && l[0] != '#') {
                REPORT("%s:%zu: stray line outside a section\n", path, i + 1);
                (*failed)++;
            }
            i++;
            continue;
        }
        size_t head = i++;
        size_t start = i;
        at.line = head + 1;
        while (i < n && strncmp(lines[i], "--- ", 4) != 0)
            i++;
        const char *h = l + 4;
        if (!strncmp(h, "placeholder ", 12) && ph.n < 32) {
            ph.name[ph.n] = (char *)h + 12;
            ph.values[ph.n] = &lines[start];
            ph.nvalues[ph.n] = i - start;
            ph.n++;
            continue;
        }
        if (!strncmp(h, "rule", 4)) {
            dh_engine_free(rule_eng);
            rule_eng = NULL;
            dh_ruleset_free(rs);
            rs = NULL;
            mode = rule_section(&at, h, lines + start, i - start, &ph, &rs);
            if (mode == 1)
                rule_eng = match_engine(rs, &rule_ms);
            continue;
        }
        if (!strcmp(h, "pack")) {
            mode = 2;
            continue;
        }
        if (!strncmp(h, "chain", 5)) {
            dh_engine_free(cs->eng);
            memset(cs, 0, sizeof *cs);
            cs->custom = strstr(h, "with rules") != NULL;
            cs->rs = cs->custom ? rs : pack;
            cs->eng = chain_engine(cs, cs->rs);
            mode = 3;
            continue;
        }
        if (!strncmp(h, "expect ", 7) && mode == 3) {
            char why[300];
            if (chain_expect(cs, h + 7, why, sizeof why) == 0) {
                (*passed)++;
            } else {
                REPORT("%s:%zu: %s\n", path, head + 1, why);
                (*failed)++;
            }
            continue;
        }
        if (!strcmp(h, "flush") && mode == 3) {
            if (dh_engine_flush(cs->eng) != DH_OK) {
                REPORT("%s:%zu: the engine could not flush\n", path, head + 1);
                (*failed)++;
            }
            continue;
        }
        if (!strcmp(h, "event") && mode == 3)
            h = "event  "; /* a chain event: no expectation of its own */
        if (strncmp(h, "event ", 6) != 0) {
            REPORT("%s:%zu: unknown section '%s'\n", path, head + 1, h);
            (*failed)++;
            continue;
        }
        event_text et = {{0}, {0}, 0};
        event_lines(&at, lines, start, i, &et);
        dh_event ev;
        dh_kv kv[256];
        char err[200];
        if (build_event(&et, &ev, kv, err, sizeof err)) {
            REPORT("%s:%zu: %s\n", path, head + 1, err);
            (*failed)++;
            continue;
        }
        const char *what = h + 6;
        if (mode == 3) {
            if (dh_engine_push(cs->eng, &ev) != DH_OK) {
                REPORT("%s:%zu: the engine refused the event\n", path, head + 1);
                (*failed)++;
            }
            continue;
        }
        if (mode == 1 && (!strcmp(what, "match") || !strcmp(what, "nomatch"))) {
            const match_set *ms = &rule_ms;
            if (match_event(rule_eng, &rule_ms, &ev)) {
                REPORT("%s:%zu: the engine could not match the event\n", path, head + 1);
                (*failed)++;
                continue;
            }
            int want = !strcmp(what, "match");
            if ((ms->n > 0) == want) {
                (*passed)++;
            } else {
                REPORT("%s:%zu: expected %s, got %s\n", path, head + 1, what,
                       ms->n ? "match" : "nomatch");
                (*failed)++;
            }
        } else if (mode == 2 && !strncmp(what, "expect", 6)) {
            const match_set *ms = pack_ms;
            if (match_event(pack_eng, pack_ms, &ev)) {
                REPORT("%s:%zu: the engine could not match the event\n", path, head + 1);
                (*failed)++;
                continue;
            }
            pack_expect(&at, pack, ms, what + 6);
        } else {
            REPORT("%s:%zu: '--- event %s' does not fit the current section\n", path, head + 1,
                   what);
            (*failed)++;
        }
    }
    dh_engine_free(rule_eng);
    dh_ruleset_free(rs);
    dh_engine_free(cs->eng);
    free(cs);
    for (size_t k = 0; k < n; k++)
        free(lines[k]);
    free(lines);
    return 0;
}

int main(int argc, char **argv)
{
    dh_ruleset *pack;
    dh_ruleset_new(&pack);
    diag_capture dc = {"", "", 0};
    dh_ruleset_add_builtin(pack, capture, &dc);
    dh_ruleset_finish(pack);
    unsigned passed = 0, failed = 0;
    if (dc.errors) {
        REPORT("built-in pack: %u rules refused, last: %s\n", dc.errors, dc.last);
        failed += dc.errors;
    }
    match_set pack_ms = {{0}, 0};
    dh_engine *pack_eng = match_engine(pack, &pack_ms);
    for (int i = 1; i < argc; i++)
        run_file(argv[i], pack, pack_eng, &pack_ms, &passed, &failed);
    dh_engine_free(pack_eng);
    dh_ruleset_free(pack);
    if (reported > MAX_REPORTED)
        fprintf(stderr, "(%u more failures not shown)\n", reported - MAX_REPORTED);
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
