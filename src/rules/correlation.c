/* Correlation rules once everything is loaded (dh_ruleset_finish).
 *
 * A correlation names its rules by name or id, in any loaded file; it may name other
 * correlations (the specification's "chain multiple correlations together"). Here each
 * name is resolved, chains are ranked (a correlation runs after those it names), and the
 * field every group-by entry, alias and condition field is read from is compiled per named
 * rule. What cannot run is refused with the reason: a name that is not a loaded rule, a
 * chain that loops back to itself, an alias for a rule the correlation does not name. The
 * rules a refused correlation names go with it (unless it says generate: true or a loaded
 * correlation names them too): alone they would report every event it only counts. This
 * is the one place these verdicts are made: `rules check`, `rules list` and `hunt` all
 * reach it through dh_ruleset_finish. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "rules/sigma.h"

static int named(const dh_rule *r, const char *key)
{
    return (*r->name && !strcmp(r->name, key)) || (*r->id && !strcmp(r->id, key));
}

static size_t find_rule(const dh_ruleset *rs, const dh_rule *self, const char *key)
{
    for (size_t j = 0; j < rs->n; j++)
        if (rs->rules[j] != self && named(rs->rules[j], key))
            return j;
    return (size_t)-1;
}

/* Refuses rule i (once) with a message. */
static void refuse(dh_ruleset *rs, unsigned char *drop, size_t i, const char *fmt, const char *arg)
{
    if (drop[i])
        return;
    drop[i] = 1;
    char msg[400];
    snprintf(msg, sizeof msg, fmt, arg);
    sigma_emit_diag(rs, rs->rules[i], 1, msg);
}

/* The field entry `name` is read from in events of the rule at position k. */
static const char *field_for(const corr_def *d, const dh_ruleset *rs, size_t k, const char *name)
{
    for (size_t a = 0; a < d->naliases; a++) {
        if (strcmp(d->aliases[a].alias, name))
            continue;
        for (size_t j = 0; j < d->aliases[a].rules.n; j++) {
            const char *key = d->aliases[a].rules.v[j];
            if (!strcmp(key, d->refs.v[k]) || named(rs->rules[d->ref_idx[k]], key))
                return d->aliases[a].fields.v[j];
        }
    }
    return name;
}

static int compile_fields(const dh_ruleset *rs, corr_def *d, const str_list *names, field_ref **out)
{
    size_t n = d->refs.n * names->n;
    if (!n)
        return 0;
    field_ref *f = calloc(n, sizeof *f);
    if (!f)
        return -1;
    *out = f;
    for (size_t k = 0; k < d->refs.n; k++)
        for (size_t g = 0; g < names->n; g++)
            if (sigma_field_ref_resolve(field_for(d, rs, k, names->v[g]), &f[k * names->n + g]))
                return -1;
    return 0;
}

/* Original field names the correlations read: hunt keeps them in the events it hands to
 * the correlator (dh_correlator_pack), and only them. */
static int note_fields(dh_ruleset *rs, const field_ref *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (f[i].id < 0 && f[i].id != FIELD_BY_NAME)
            continue; /* envelope: always kept */
        size_t j;
        for (j = 0; j < rs->corr_fields.n; j++)
            if (!strcmp(rs->corr_fields.v[j], f[i].name))
                break;
        if (j == rs->corr_fields.n && sigma_list_push(&rs->corr_fields, f[i].name))
            return -1;
    }
    return 0;
}

const char *sigma_corr_metric_name(int type)
{
    static const char *const names[CORR_TYPE_COUNT] = {
        "events",
        "distinct values of",
        "different rules matched",
        "different rules matched in the order listed",
        "sum of",
        "average of",
        "share in percent of events with the value of"};
    return type >= 0 && type < CORR_TYPE_COUNT ? names[type] : "";
}

size_t sigma_corr_condition_text(const corr_def *d, char *buf, size_t cap)
{
    static const char *const ops[] = {">", ">=", "<", "<=", "==", "!="};
    size_t n = 0;
    if (cap)
        buf[0] = 0;
    for (size_t i = 0; i < d->ncmp && n + 1 < cap; i++) {
        char num[48]; /* the value as written, not %g's six digits (1.23457e+06) */
        dh_format_double(num, sizeof num, d->cmp[i].v, 0);
        int k = snprintf(buf + n, cap - n, "%s%s %s", i ? " and " : "", ops[d->cmp[i].op], num);
        if (k < 0)
            break;
        n += (size_t)k < cap - n ? (size_t)k : cap - n - 1;
    }
    return n;
}

static int lower_bounds_only(const corr_def *d)
{
    for (size_t i = 0; i < d->ncmp; i++)
        if (d->cmp[i].op != CMP_CORR_GT && d->cmp[i].op != CMP_CORR_GTE)
            return 0;
    return 1;
}

/* Each name a correlation gives (ref_idx), and each rule its aliases name, resolved:
 * what is not a loaded rule, is a filter or is not named by the correlation refuses it.
 * rank[i]: 0 for a plain rule, -1 (not ranked yet) for a correlation. -1: no memory. */
static int resolve_names(dh_ruleset *rs, unsigned char *drop, int *rank)
{
    for (size_t i = 0; i < rs->n; i++) {
        dh_rule *r = rs->rules[i];
        rank[i] = r->corr ? -1 : 0;
        if (!r->corr)
            continue;
        corr_def *d = r->corr;
        free(d->ref_idx);
        d->ref_idx = malloc(d->refs.n * sizeof *d->ref_idx);
        if (!d->ref_idx)
            return -1;
        for (size_t k = 0; k < d->refs.n; k++)
            d->ref_idx[k] = UINT32_MAX; /* not resolved */
        for (size_t k = 0; k < d->refs.n && !drop[i]; k++) {
            size_t j = find_rule(rs, r, d->refs.v[k]);
            if (j == (size_t)-1)
                refuse(rs, drop, i, "correlation names '%s', which is not a loaded rule",
                       d->refs.v[k]);
            else if (rs->rules[j]->is_filter)
                refuse(rs, drop, i, "correlation names '%s', which is a filter", d->refs.v[k]);
            else
                d->ref_idx[k] = (uint32_t)j;
        }
        /* Aliases name rules the correlation names. */
        for (size_t a = 0; a < d->naliases && !drop[i]; a++)
            for (size_t j = 0; j < d->aliases[a].rules.n && !drop[i]; j++) {
                const char *key = d->aliases[a].rules.v[j];
                size_t k;
                for (k = 0; k < d->refs.n; k++)
                    if (!strcmp(key, d->refs.v[k]) || named(rs->rules[d->ref_idx[k]], key))
                        break;
                if (k == d->refs.n)
                    refuse(rs, drop, i,
                           "an alias names '%s', which the correlation does not "
                           "name in its rules",
                           key);
            }
    }
    return 0;
}

/* Chains: a correlation runs after every correlation it names (rank[i] one more than the
 * highest of those); one that names a refused correlation is refused, and one left
 * unranked loops back to itself. */
static void rank_chains(dh_ruleset *rs, unsigned char *drop, int *rank)
{
    size_t n = rs->n;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < n; i++) {
            corr_def *d = rs->rules[i]->corr;
            if (!d || drop[i] || rank[i] >= 0)
                continue;
            int best = 0, ready = 1;
            for (size_t k = 0; k < d->refs.n && !drop[i]; k++) {
                size_t j = d->ref_idx[k];
                if (drop[j] && rs->rules[j]->corr) {
                    refuse(rs, drop, i,
                           "correlation names '%s', a correlation rule that was "
                           "refused",
                           d->refs.v[k]);
                    changed = 1;
                } else if (rank[j] < 0) {
                    ready = 0;
                } else if (rs->rules[j]->corr && rank[j] + 1 > best) {
                    best = rank[j] + 1;
                }
            }
            if (!drop[i] && ready) {
                rank[i] = best;
                changed = 1;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        if (rs->rules[i]->corr && !drop[i] && rank[i] < 0)
            refuse(rs, drop, i, "%s", "correlation chain loops back to itself");
}

/* What refused correlations name goes with them, unless a loaded correlation names it
 * too or the refused one said generate: true. */
static void refuse_orphans(dh_ruleset *rs, unsigned char *drop)
{
    size_t n = rs->n;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t j = 0; j < n; j++) {
            if (drop[j])
                continue;
            const dh_rule *r = rs->rules[j];
            int wanted = 0, orphaned = 0;
            for (size_t k = 0; k < rs->refused_refs.n && !orphaned; k++)
                orphaned = named(r, rs->refused_refs.v[k]);
            for (size_t i = 0; i < n; i++) {
                const corr_def *d = rs->rules[i]->corr;
                if (!d || i == j)
                    continue;
                for (size_t k = 0; k < d->refs.n; k++)
                    if (d->ref_idx[k] == j && !drop[i])
                        wanted = 1;
                    else if (d->ref_idx[k] == j && !d->generate)
                        orphaned = 1;
            }
            if (orphaned && !wanted) {
                refuse(rs, drop, j, "%s",
                       "named by a correlation rule that was refused: alone it would report "
                       "every event the correlation only counts");
                changed = 1;
            }
        }
    }
}

/* Frees the refused rules and renumbers the rest (ranks and names follow). -1: no
 * memory. */
static int drop_refused(dh_ruleset *rs, const unsigned char *drop, int *rank)
{
    size_t n = rs->n;
    size_t *to = malloc((n ? n : 1) * sizeof *to);
    if (!to)
        return -1;
    size_t keep = 0;
    for (size_t i = 0; i < n; i++) {
        if (drop[i]) {
            to[i] = (size_t)-1;
            sigma_rule_free(rs->rules[i]);
        } else {
            to[i] = keep;
            rank[keep] = rank[i];
            rs->rules[keep] = rs->rules[i];
            rs->rules[keep]->index = keep;
            keep++;
        }
    }
    rs->n = keep;
    for (size_t i = 0; i < rs->n; i++) {
        corr_def *d = rs->rules[i]->corr;
        for (size_t k = 0; d && k < d->refs.n; k++)
            d->ref_idx[k] = (uint32_t)to[d->ref_idx[k]];
    }
    free(to);
    return 0;
}

/* A loaded correlation made ready to run: its rank, its condition, when it is judged and
 * the fields it reads, per named rule. -1: no memory. */
static int compile_correlation_rule(dh_ruleset *rs, corr_def *d, int rank)
{
    for (size_t k = 0; k < d->refs.n; k++)
        if (!d->generate)
            rs->rules[d->ref_idx[k]]->base_only = 1;
    d->rank = rank;
    if (!d->has_condition) { /* temporal types: every named rule */
        d->cmp[0].op = CMP_CORR_GTE;
        d->cmp[0].v = (double)d->refs.n;
        d->ncmp = 1;
    }
    /* Judged at every event: lower bounds on a count that only grows as events join a
     * window. Upper bounds, equality, averages and percentiles are judged once a
     * window is complete (docs/rules.md, "Correlation semantics"). */
    d->eager =
        lower_bounds_only(d) && d->type != CORR_VALUE_AVG && d->type != CORR_VALUE_PERCENTILE;
    if (compile_fields(rs, d, &d->group_by, &d->gb) ||
        compile_fields(rs, d, &d->value_fields, &d->vf) ||
        note_fields(rs, d->gb, d->refs.n * d->group_by.n) ||
        note_fields(rs, d->vf, d->refs.n * d->value_fields.n))
        return -1;
    return 0;
}

int sigma_resolve_correlations(dh_ruleset *rs)
{
    size_t n = rs->n;
    unsigned char *drop = calloc(n ? n : 1, 1);
    int *rank = malloc((n ? n : 1) * sizeof *rank);
    int st = -1;
    if (!drop || !rank || resolve_names(rs, drop, rank))
        goto out;
    rank_chains(rs, drop, rank);
    refuse_orphans(rs, drop);
    if (drop_refused(rs, drop, rank))
        goto out;
    st = 0;
    for (size_t i = 0; i < rs->n && !st; i++)
        if (rs->rules[i]->corr)
            st = compile_correlation_rule(rs, rs->rules[i]->corr, rank[i]);
out:
    free(drop);
    free(rank);
    return st;
}
