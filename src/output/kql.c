/* Sigma rules as KQL hunting queries (dcomhunt rules export --to kql).
 *
 * Reads the compiled rule (src/rules/sigma.h: search identifiers, selections, field tests,
 * needles after expand/windash/base64 expansion, the condition tree) and writes a query:
 * the logsource picks the table, Sigma field names become the table's columns (the reverse
 * of src/event/mappings/windows.c, which maps Defender rows to the same names), modifiers
 * become KQL operators and the condition becomes and/or/not. Fields Defender spells apart
 * (Sysmon's direction-relative SourceIp, the registry's key\value path, DOMAIN\user) are
 * derived in an extend exactly as dcomhunt derives them from Defender rows.
 *
 * Three things it must never do: print (it appends to a dh_buf), guess silently (a field,
 * modifier or regular expression with no faithful KQL form makes the whole rule a comment
 * block and a note, never a query that means something else; an approximation, such as
 * Signed on image loads, is named in the query and in a note), or lose the seed query's
 * shape: a seed-style term match on a file name (the regular expressions of
 * rules/seed_*.yml) becomes `Column has_any (...)` on the file-name column, as the seed
 * query wrote it.
 *
 * Every atom it writes is false, never null, where a field is missing (numbers and IP
 * ranges are guarded with isnotnull), so `not(...)` keeps Sigma's meaning under KQL's
 * three-valued logic. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "output/kql.h"

#include "event/mappings/defender.h"
#include "output/kql_regex.h"
#include "output/kql_text.h"
#include "rules/sigma.h"

/* KQL's strcat function, written in two pieces: scripts/checksrc.sh bans C's by name. */
#define KSTRCAT                                                                                    \
    "str"                                                                                          \
    "cat"
#define WIDTH 100 /* where clauses are wrapped to this many columns */

/* ---- tables and columns ------------------------------------------------------------ */

/* Defender's tables and columns come from the schema table (event/mappings/defender.h);
 * Sentinel's Event and SecurityEvent below, which only this exporter reads, use the same
 * shape. Column types: S string, L long, I int, B bool, D datetime, Y dynamic. */
typedef dh_defender_column colspec;

/* Sentinel: the Event table (Windows event logs collected by the Azure Monitor Agent). */
static const colspec event_cols[] = {
    {"TimeGenerated", 'D'},
    {"Computer", 'S'},
    {"EventID", 'I'},
    {"EventLog", 'S'},
    {"Source", 'S'},
    {"EventLevel", 'I'},
    {"EventLevelName", 'S'},
    {"EventCategory", 'I'},
    {"EventData", 'S'},
    {"ParameterXml", 'S'},
    {"RenderedDescription", 'S'},
    {"UserName", 'S'},
    {"Message", 'S'},
    {"ManagementGroupName", 'S'},
    {"SourceSystem", 'S'},
    {"TenantId", 'S'},
    {"Type", 'S'},
    {"_ResourceId", 'S'},
    {NULL, 0},
};

/* Sentinel: SecurityEvent, the Security log with its common data fields as columns. */
static const colspec security_cols[] = {
    {"TimeGenerated", 'D'},
    {"Computer", 'S'},
    {"EventID", 'I'},
    {"Channel", 'S'},
    {"EventSourceName", 'S'},
    {"Activity", 'S'},
    {"Account", 'S'},
    {"AccountType", 'S'},
    {"AccessMask", 'S'},
    {"AuthenticationPackageName", 'S'},
    {"CommandLine", 'S'},
    {"ElevatedToken", 'S'},
    {"EventData", 'S'},
    {"IpAddress", 'S'},
    {"IpPort", 'S'},
    {"KeyLength", 'I'},
    {"LmPackageName", 'S'},
    {"LogonGuid", 'S'},
    {"LogonProcessName", 'S'},
    {"LogonType", 'I'},
    {"MandatoryLabel", 'S'},
    {"NewProcessId", 'S'},
    {"NewProcessName", 'S'},
    {"ObjectName", 'S'},
    {"ObjectType", 'S'},
    {"ParentProcessName", 'S'},
    {"PrivilegeList", 'S'},
    {"Process", 'S'},
    {"ProcessId", 'S'},
    {"ProcessName", 'S'},
    {"RelativeTargetName", 'S'},
    {"ServiceFileName", 'S'},
    {"ServiceName", 'S'},
    {"ShareName", 'S'},
    {"SubjectAccount", 'S'},
    {"SubjectDomainName", 'S'},
    {"SubjectLogonId", 'S'},
    {"SubjectUserName", 'S'},
    {"SubjectUserSid", 'S'},
    {"TargetAccount", 'S'},
    {"TargetDomainName", 'S'},
    {"TargetLogonId", 'S'},
    {"TargetUserName", 'S'},
    {"TargetUserSid", 'S'},
    {"TokenElevationType", 'S'},
    {"WorkstationName", 'S'},
    {NULL, 0},
};

/* Columns derived from others, named after the Sigma field they stand for. */
enum {
    D_USER,
    D_PARENT_USER,
    D_INIT_USER,
    D_SRC_IP,
    D_SRC_PORT,
    D_DST_IP,
    D_DST_PORT,
    D_INITIATED,
    D_TARGET_OBJECT,
    D_SIGNED,
    D_COUNT
};

#define INBOUND "iff({ActionType} startswith \"Inbound\", "
static const struct derived {
    const char *name;
    char type;
    int approximate; /* the derivation is not exact; the note says how */
    const char *note;
    const char *stage; /* the query lines that make the column */
} derived[D_COUNT] = {
    {"User", 'S', 0,
     "User: DOMAIN\\name, as dcomhunt composes it from {AccountDomain} and {AccountName}",
     "| extend User = iff(isempty({AccountDomain}), {AccountName}, " KSTRCAT
     "({AccountDomain}, @\"\\\", "
     "{AccountName}))"},
    {"ParentUser", 'S', 0,
     "ParentUser: DOMAIN\\name of the initiating process ({InitiatingProcessAccountDomain}/Name)",
     "| extend ParentUser = iff(isempty({InitiatingProcessAccountDomain}), "
     "{InitiatingProcessAccountName},\n    " KSTRCAT "({InitiatingProcessAccountDomain}, @\"\\\", "
     "{InitiatingProcessAccountName}))"},
    {"User", 'S', 0,
     "User: DOMAIN\\name of the process behind the event ({InitiatingProcessAccountDomain}/Name)",
     "| extend User = iff(isempty({InitiatingProcessAccountDomain}), "
     "{InitiatingProcessAccountName},\n"
     "    " KSTRCAT "({InitiatingProcessAccountDomain}, @\"\\\", {InitiatingProcessAccountName}))"},
    {"SourceIp", 'S', 0,
     "SourceIp: the remote end of inbound rows ({ActionType} Inbound*), else the local end, as "
     "dcomhunt maps Defender rows",
     "| extend SourceIp = " INBOUND "{RemoteIP}, {LocalIP})"},
    {"SourcePort", 'I', 0, "SourcePort: {RemotePort} on inbound rows, else {LocalPort}",
     "| extend SourcePort = " INBOUND "{RemotePort}, {LocalPort})"},
    {"DestinationIp", 'S', 0, "DestinationIp: {LocalIP} on inbound rows, else {RemoteIP}",
     "| extend DestinationIp = " INBOUND "{LocalIP}, {RemoteIP})"},
    {"DestinationPort", 'I', 0, "DestinationPort: {LocalPort} on inbound rows, else {RemotePort}",
     "| extend DestinationPort = " INBOUND "{LocalPort}, {RemotePort})"},
    {"Initiated", 'S', 0,
     "Initiated: \"false\" on inbound rows ({ActionType} Inbound*), else \"true\"",
     "| extend Initiated = " INBOUND "\"false\", \"true\")"},
    {"TargetObject", 'S', 0,
     "TargetObject: Sysmon's key\\value path, hive abbreviated, as dcomhunt builds it from "
     "{RegistryKey} and {RegistryValueName}",
     "| extend TargetObject = " KSTRCAT "(replace_regex(replace_regex(replace_regex(replace_regex("
     "{RegistryKey},\n"
     "    @\"^HKEY_LOCAL_MACHINE(\\\\|$)\", @\"HKLM\\1\"), @\"^HKEY_CURRENT_USER(\\\\|$)\", "
     "@\"HKCU\\1\"),\n"
     "    @\"^HKEY_USERS(\\\\|$)\", @\"HKU\\1\"), @\"^HKEY_CLASSES_ROOT(\\\\|$)\", @\"HKCR\\1\"),\n"
     "    iff(isempty({RegistryValueName}), \"\", " KSTRCAT "(@\"\\\", {RegistryValueName})))"},
    {"Signed", 'S', 1,
     "Signed: image loads carry no signature; it is looked up by {SHA1} in "
     "DeviceFileCertificateInfo (approximate: a DLL with no certificate record there counts as "
     "unsigned)",
     "| lookup kind=leftouter (DeviceFileCertificateInfo\n"
     "    | summarize DcomhuntSigned = max(toint(IsSigned)) by {SHA1}) on {SHA1}\n"
     "| extend Signed = iff(DcomhuntSigned == 1, \"true\", \"false\")"},
};

/* Sigma field -> column, per table: a plain column of the schema table (COL) or one
 * derived from others (DERIVED). */
#define D_NONE -1
typedef struct fmap {
    const char *sigma;
    dh_defender_col column; /* when derived is D_NONE */
    int derived;
} fmap;
#define COL(sigma, name)                                                                           \
    {                                                                                              \
        sigma, DH_MDE_COL_##name, D_NONE                                                           \
    }
#define DERIVED(sigma, d)                                                                          \
    {                                                                                              \
        sigma, DH_MDE_NCOLS, d                                                                     \
    }
#define END_OF_MAP                                                                                 \
    {                                                                                              \
        NULL, DH_MDE_NCOLS, D_NONE                                                                 \
    }

static const fmap process_map[] = {
    COL("Image", FolderPath),
    COL("ParentImage", InitiatingProcessFolderPath),
    COL("CommandLine", ProcessCommandLine),
    COL("ParentCommandLine", InitiatingProcessCommandLine),
    COL("OriginalFileName", ProcessVersionInfoOriginalFileName),
    COL("IntegrityLevel", ProcessIntegrityLevel),
    COL("ProcessId", ProcessId),
    COL("ParentProcessId", InitiatingProcessId),
    COL("LogonId", LogonId),
    COL("Company", ProcessVersionInfoCompanyName),
    COL("Product", ProcessVersionInfoProductName),
    COL("Description", ProcessVersionInfoFileDescription),
    DERIVED("User", D_USER),
    DERIVED("ParentUser", D_PARENT_USER),
    END_OF_MAP,
};

static const fmap network_map[] = {
    COL("Image", InitiatingProcessFolderPath),
    COL("ProcessId", InitiatingProcessId),
    COL("Protocol", Protocol),
    COL("DestinationHostname", RemoteUrl),
    DERIVED("User", D_INIT_USER),
    DERIVED("SourceIp", D_SRC_IP),
    DERIVED("SourcePort", D_SRC_PORT),
    DERIVED("DestinationIp", D_DST_IP),
    DERIVED("DestinationPort", D_DST_PORT),
    DERIVED("Initiated", D_INITIATED),
    END_OF_MAP,
};

static const fmap image_map[] = {
    COL("Image", InitiatingProcessFolderPath),
    COL("ImageLoaded", FolderPath),
    COL("ProcessId", InitiatingProcessId),
    COL("OriginalFileName", InitiatingProcessVersionInfoOriginalFileName),
    DERIVED("User", D_INIT_USER),
    DERIVED("Signed", D_SIGNED),
    END_OF_MAP,
};

static const fmap registry_map[] = {
    COL("Image", InitiatingProcessFolderPath), COL("ProcessId", InitiatingProcessId),
    COL("Details", RegistryValueData),         DERIVED("User", D_INIT_USER),
    DERIVED("TargetObject", D_TARGET_OBJECT),  END_OF_MAP,
};

static const fmap file_map[] = {
    COL("Image", InitiatingProcessFolderPath),
    COL("TargetFilename", FolderPath),
    COL("ProcessId", InitiatingProcessId),
    DERIVED("User", D_INIT_USER),
    END_OF_MAP,
};

/* A path column and the column holding its last component (term matches go there). */
#define C(name) DH_MDE_COL_##name
static const struct {
    dh_defender_col path, name;
} file_name_cols[] = {
    {C(FolderPath), C(FileName)},
    {C(FileName), C(FileName)},
    {C(InitiatingProcessFolderPath), C(InitiatingProcessFileName)},
    {C(InitiatingProcessFileName), C(InitiatingProcessFileName)},
    {C(InitiatingProcessParentFileName), C(InitiatingProcessParentFileName)},
};

/* Taxonomy names that are the channel's own data names in Sentinel's EventData (dcomhunt
 * derives the others, such as CLSID from a DistributedCOM event's param4). */
static const char *const security_data_names[] = {
    "TargetUserName",
    "TargetDomainName",
    "TargetUserSid",
    "TargetLogonId",
    "SubjectUserName",
    "SubjectDomainName",
    "SubjectLogonId",
    "LogonType",
    "WorkstationName",
    "AuthenticationPackageName",
    "LogonProcessName",
    "ShareName",
    "RelativeTargetName",
    "AccessMask",
    "CommandLine",
    "LogonGuid",
    NULL,
};
static const char *const powershell_data_names[] = {"ScriptBlockText", "Payload", NULL};
static const char *const system_data_names[] = {"ServiceName", "ImagePath", NULL};
static const char *const no_data_names[] = {NULL};

enum { TK_DEFENDER, TK_EVENT, TK_SECURITY_EVENT };

typedef struct target {
    int kind;
    const char *table;
    char filter[300]; /* what the logsource itself selects, "" if nothing */
    const fmap *map;
    int mde_table;                 /* TK_DEFENDER: its dh_defender_table */
    const colspec *cols;           /* TK_EVENT/TK_SECURITY_EVENT: the columns, NULL-terminated */
    const char *host;              /* the column of the Sigma envelope field Computer */
    const char *const *data_names; /* TK_EVENT/TK_SECURITY_EVENT; NULL: every taxonomy name */
    const char *comment;
    int process; /* DeviceProcessEvents: the enrichment applies */
} target;

/* The column of t's table called name, or NULL. */
static const colspec *find_col(const target *t, const char *name)
{
    if (t->kind == TK_DEFENDER)
        return dh_defender_find_column((dh_defender_table)t->mde_table, name, 0);
    for (const colspec *c = t->cols; c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

static const colspec *find_col_ci(const target *t, const char *name)
{
    if (t->kind == TK_DEFENDER)
        return dh_defender_find_column((dh_defender_table)t->mde_table, name, 1);
    for (const colspec *c = t->cols; c->name; c++)
        if (!strcasecmp(c->name, name))
            return c;
    return NULL;
}

/* ---- expressions ------------------------------------------------------------------ */

enum { EX_ATOM, EX_AND, EX_OR, EX_NOT, EX_TRUE, EX_FALSE };

typedef struct ex {
    int op;
    int staged; /* EX_ATOM: reads a derived column */
    char *text; /* EX_ATOM */
    struct ex **k;
    size_t nk;
} ex;

static void ex_free(ex *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nk; i++)
        ex_free(e->k[i]);
    free(e->k);
    free(e->text);
    free(e);
}

static ex *ex_new(int op)
{
    ex *e = calloc(1, sizeof *e);
    if (e)
        e->op = op;
    return e;
}

/* Takes text (NULL: out of memory, returns NULL). */
static ex *ex_atom(char *text, int staged)
{
    if (!text)
        return NULL;
    ex *e = ex_new(EX_ATOM);
    if (!e) {
        free(text);
        return NULL;
    }
    e->text = text;
    e->staged = staged;
    return e;
}

/* Adds kid to p; frees kid and returns -1 if memory ran out. */
static int ex_push(ex *p, ex *kid)
{
    ex **k = realloc(p->k, (p->nk + 1) * sizeof *k);
    if (!k) {
        ex_free(kid);
        return -1;
    }
    p->k = k;
    p->k[p->nk++] = kid;
    return 0;
}

static int ex_staged(const ex *e)
{
    if (e->op == EX_ATOM)
        return e->staged;
    for (size_t i = 0; i < e->nk; i++)
        if (ex_staged(e->k[i]))
            return 1;
    return 0;
}

/* Kusto's analyzer refuses a syntax tree deeper than about 450 levels ("query syntax depth
 * exceeds maximum safe limit"), and a chain of n ors is n levels deep: SigmaHQ's emoji rules
 * give 1000 contains tests on one column. Operands of one and/or are written in a row up to
 * GROUP of them; more are parenthesised in groups of GROUP (groups of groups beyond GROUP
 * squared), which keeps the depth near GROUP per level of the condition. */
#define GROUP 32

/* How many operands of a run of n each written group holds: 1 (each alone) up to GROUP. */
static size_t group_step(size_t n)
{
    size_t step = 1;
    while (n > GROUP * step)
        step *= GROUP;
    return step;
}

static void flat_range(txt *t, const ex *e, size_t lo, size_t hi);

static void ex_flat(txt *t, const ex *e)
{
    switch (e->op) {
    case EX_ATOM:
        txt_puts(t, e->text);
        return;
    case EX_TRUE:
        txt_puts(t, "true");
        return;
    case EX_FALSE:
        txt_puts(t, "false");
        return;
    case EX_NOT:
        txt_puts(t, "not(");
        ex_flat(t, e->k[0]);
        txt_puts(t, ")");
        return;
    default:
        flat_range(t, e, 0, e->nk);
    }
}

/* Operands e->k[lo..hi), in groups of at most GROUP (see group_step). */
static void flat_range(txt *t, const ex *e, size_t lo, size_t hi)
{
    size_t step = group_step(hi - lo);
    for (size_t i = lo; i < hi; i += step) {
        size_t end = i + step < hi ? i + step : hi;
        if (i > lo)
            txt_puts(t, e->op == EX_AND ? " and " : " or ");
        int paren = end - i > 1 || e->k[i]->op == EX_AND || e->k[i]->op == EX_OR;
        if (paren)
            txt_puts(t, "(");
        if (end - i > 1)
            flat_range(t, e, i, end);
        else
            ex_flat(t, e->k[i]);
        if (paren)
            txt_puts(t, ")");
    }
}

static char *ex_flat_str(const ex *e)
{
    scratch s;
    txt_scratch_init(&s);
    ex_flat(&s.t, e);
    return txt_scratch_take(&s);
}

static void pretty_range(txt *t, const ex *e, size_t lo, size_t hi, int ind, int col);

/* Writes e starting at column col; continuation lines are indented by ind. An expression
 * that fits in WIDTH stays on one line; else and/or put one operand per line. */
static void ex_pretty(txt *t, const ex *e, int ind, int col)
{
    char *flat = ex_flat_str(e);
    if (!flat) {
        t->oom = 1;
        return;
    }
    size_t n = strlen(flat);
    if (e->op == EX_ATOM || e->op == EX_TRUE || e->op == EX_FALSE || (size_t)col + n <= WIDTH) {
        txt_put(t, flat, n);
        free(flat);
        return;
    }
    free(flat);
    if (e->op == EX_NOT) {
        txt_puts(t, "not(");
        ex_pretty(t, e->k[0], ind + 4, col + 4);
        txt_puts(t, ")");
        return;
    }
    pretty_range(t, e, 0, e->nk, ind, col);
}

/* Operands e->k[lo..hi) one per line, in groups as flat_range writes them. */
static void pretty_range(txt *t, const ex *e, size_t lo, size_t hi, int ind, int col)
{
    const char *word = e->op == EX_AND ? "and " : "or ";
    size_t step = group_step(hi - lo);
    for (size_t i = lo; i < hi; i += step) {
        size_t end = i + step < hi ? i + step : hi;
        if (i > lo) {
            txt_puts(t, "\n");
            txt_indent(t, ind);
            txt_puts(t, word);
            col = ind + (int)strlen(word);
        }
        const ex *k = e->k[i];
        if (end - i > 1) {
            txt_puts(t, "(");
            pretty_range(t, e, i, end, ind + 4, col + 1);
            txt_puts(t, ")");
        } else if (k->op == EX_AND || k->op == EX_OR) {
            txt_puts(t, "(");
            ex_pretty(t, k, ind + 4, col + 1);
            txt_puts(t, ")");
        } else {
            ex_pretty(t, k, ind + 4, col);
        }
    }
}

/* Flattens nested and/or, folds constants, drops repeated operands (the seed rules test
 * the same file name through two fields that are one column in Defender). Consumes e;
 * returns the simplified tree, or NULL if memory ran out. */
static ex *ex_simplify(ex *e)
{
    if (!e || e->op == EX_ATOM || e->op == EX_TRUE || e->op == EX_FALSE)
        return e;
    if (e->op == EX_NOT) {
        ex *k = ex_simplify(e->k[0]);
        e->k[0] = k;
        if (!k) {
            e->nk = 0;
            ex_free(e);
            return NULL;
        }
        if (k->op == EX_TRUE || k->op == EX_FALSE) {
            int op = k->op == EX_TRUE ? EX_FALSE : EX_TRUE;
            ex_free(e);
            return ex_new(op);
        }
        if (k->op == EX_NOT) { /* not(not(x)): x, its atoms being never null */
            ex *inner = k->k[0];
            k->nk = 0;
            ex_free(e);
            return inner;
        }
        return e;
    }
    /* Simplified operands, same-operator operands spliced in. */
    ex **ops = NULL;
    size_t nops = 0;
    int ok = 1;
    for (size_t i = 0; i < e->nk; i++) {
        ex *k = ex_simplify(e->k[i]);
        e->k[i] = NULL;
        if (!k) {
            ok = 0;
            continue;
        }
        size_t add = k->op == e->op ? k->nk : 1;
        ex **grown = realloc(ops, (nops + add + 1) * sizeof *ops);
        if (!grown) {
            ex_free(k);
            ok = 0;
            continue;
        }
        ops = grown;
        if (k->op == e->op) {
            memcpy(ops + nops, k->k, k->nk * sizeof *ops);
            nops += k->nk;
            k->nk = 0;
            ex_free(k);
        } else {
            ops[nops++] = k;
        }
    }
    int op = e->op;
    ex_free(e);
    ex *out = ok ? ex_new(op) : NULL;
    char **seen = calloc(nops + 1, sizeof *seen);
    size_t nseen = 0;
    int absorb = 0; /* a false operand of an and, a true one of an or */
    if (!seen)
        ok = 0;
    for (size_t i = 0; i < nops; i++) {
        ex *x = ops[i];
        ops[i] = NULL;
        int neutral = (op == EX_AND && x->op == EX_TRUE) || (op == EX_OR && x->op == EX_FALSE);
        absorb |= (op == EX_AND && x->op == EX_FALSE) || (op == EX_OR && x->op == EX_TRUE);
        char *f = ok && out && !neutral ? ex_flat_str(x) : NULL;
        int dup = 0;
        for (size_t j = 0; f && j < nseen && !dup; j++)
            dup = !strcmp(seen[j], f);
        if (!f || dup) {
            if (!f && !neutral)
                ok = 0;
            free(f);
            ex_free(x);
            continue;
        }
        seen[nseen++] = f;
        if (ex_push(out, x))
            ok = 0;
    }
    for (size_t j = 0; j < nseen; j++)
        free(seen[j]);
    free(seen);
    free(ops);
    if (!ok || !out) {
        ex_free(out);
        return NULL;
    }
    if (absorb || out->nk == 0) {
        int c = absorb ? (op == EX_AND ? EX_FALSE : EX_TRUE) : (op == EX_AND ? EX_TRUE : EX_FALSE);
        ex_free(out);
        return ex_new(c);
    }
    if (out->nk == 1) {
        ex *only = out->k[0];
        out->nk = 0;
        ex_free(out);
        return only;
    }
    return out;
}

/* ---- one rule --------------------------------------------------------------------- */

typedef struct rule_tr {
    const dh_rule *r;
    target t;
    ex *cond; /* NULL: not exported (err says why) */
    char err[400];
    int oom;
    unsigned derived; /* bit per D_* used */
    str_list data;    /* TK_EVENT/TK_SECURITY_EVENT: EventData fields read, first use first */
    str_list notes;   /* approximations, for the query's comments */
    int enrich;
} rule_tr;

static void set_err(rule_tr *k, const char *fmt, ...)
{
    if (k->err[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->err, sizeof k->err, fmt, ap);
    va_end(ap);
}

/* A template naming columns (kql_text.h) as a malloc'd string; NULL: out of memory. */
static char *columns_text(const char *tmpl)
{
    scratch s;
    txt_scratch_init(&s);
    txt_columns(&s.t, tmpl);
    return txt_scratch_take(&s);
}

static int list_add(str_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return 0;
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return -1;
    l->v = v;
    size_t n = strlen(s);
    if (!(v[l->n] = malloc(n + 1)))
        return -1;
    memcpy(v[l->n], s, n + 1);
    l->n++;
    return 0;
}

static void list_clear(str_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int has_tag(const dh_rule *r, const char *tag)
{
    for (size_t i = 0; i < r->tags.n; i++)
        if (!strcasecmp(r->tags.v[i], tag))
            return 1;
    return 0;
}

/* The table a logsource reads; 0, or -1 with k->err set. */
static int pick_target(rule_tr *k)
{
    const dh_rule *r = k->r;
    target *t = &k->t;
    const char *cat = r->ls_category ? r->ls_category : "";
    const char *svc = r->ls_service ? r->ls_service : "";
    const char *prod = r->ls_product ? r->ls_product : "";
    memset(t, 0, sizeof *t);
    if (r->corr) {
        set_err(k, "a correlation rule: the KQL export covers single-event rules only");
        return -1;
    }
    if (r->is_filter) {
        set_err(k, "a filter rule (tuning for other rules), not a detection");
        return -1;
    }
    if (*prod && strcasecmp(prod, "windows")) {
        set_err(k, "logsource product '%s': neither Defender nor Sentinel's Windows tables hold it",
                prod);
        return -1;
    }
    static const char defender_note[] =
        "Microsoft Defender advanced hunting (in Microsoft Sentinel: the same table from the "
        "Microsoft Defender XDR connector)";
    t->kind = TK_DEFENDER;
    t->host = dh_defender_name(DH_MDE_COL_DeviceName);
    t->comment = defender_note;
    if (!strcmp(cat, "process_creation")) {
        t->table = dh_defender_table_name(DH_DEFENDER_PROCESS_EVENTS);
        t->map = process_map;
        t->mde_table = DH_DEFENDER_PROCESS_EVENTS;
        t->process = 1;
    } else if (!strcmp(cat, "network_connection")) {
        t->table = dh_defender_table_name(DH_DEFENDER_NETWORK_EVENTS);
        t->map = network_map;
        t->mde_table = DH_DEFENDER_NETWORK_EVENTS;
    } else if (!strcmp(cat, "image_load")) {
        t->table = dh_defender_table_name(DH_DEFENDER_IMAGE_LOAD_EVENTS);
        t->map = image_map;
        t->mde_table = DH_DEFENDER_IMAGE_LOAD_EVENTS;
    } else if (!strncmp(cat, "registry_", 9)) {
        static const struct {
            const char *category, *filter;
        } reg[] = {
            {"registry_set", "{ActionType} == \"RegistryValueSet\""},
            {"registry_add", "{ActionType} == \"RegistryKeyCreated\""},
            {"registry_delete",
             "{ActionType} in (\"RegistryKeyDeleted\", \"RegistryValueDeleted\")"},
            {"registry_rename", "{ActionType} == \"RegistryKeyRenamed\""},
            {"registry_event", ""},
        };
        size_t i;
        for (i = 0; i < sizeof reg / sizeof reg[0]; i++)
            if (!strcmp(reg[i].category, cat))
                break;
        if (i == sizeof reg / sizeof reg[0]) {
            set_err(k, "logsource category '%s' has no Defender table in this export", cat);
            return -1;
        }
        t->table = dh_defender_table_name(DH_DEFENDER_REGISTRY_EVENTS);
        t->map = registry_map;
        t->mde_table = DH_DEFENDER_REGISTRY_EVENTS;
        if (kql_columns_str(t->filter, sizeof t->filter, reg[i].filter))
            k->oom = 1;
    } else if (!strcmp(cat, "file_event") || !strcmp(cat, "file_delete")) {
        t->table = dh_defender_table_name(DH_DEFENDER_FILE_EVENTS);
        t->map = file_map;
        t->mde_table = DH_DEFENDER_FILE_EVENTS;
        if (kql_columns_str(t->filter, sizeof t->filter,
                            !strcmp(cat, "file_delete")
                                ? "{ActionType} == \"FileDeleted\""
                                : "{ActionType} in (\"FileCreated\", \"FileModified\")"))
            k->oom = 1;
    } else if (!strcmp(cat, "ps_script") || !strcmp(cat, "ps_module") ||
               (!*cat && *svc && r->channel)) {
        int security = !*cat && !strcmp(r->channel, "Security");
        const char *channel = *cat ? "Microsoft-Windows-PowerShell/Operational" : r->channel;
        t->kind = security ? TK_SECURITY_EVENT : TK_EVENT;
        t->table = security ? "SecurityEvent" : "Event";
        t->cols = security ? security_cols : event_cols;
        t->host = "Computer";
        if (*cat) {
            snprintf(t->filter, sizeof t->filter, "EventLog == \"%s\" and EventID == %d", channel,
                     !strcmp(cat, "ps_script") ? 4104 : 4103);
            t->data_names = powershell_data_names;
            t->comment = "Microsoft Sentinel only: Defender advanced hunting has no PowerShell "
                         "script block log (DeviceEvents PowerShellCommand rows name commands, "
                         "not the script text). Needs the Azure Monitor Agent collecting "
                         "Microsoft-Windows-PowerShell/Operational into the Event table; the "
                         "rule's fields are read from EventData by name. A long script is "
                         "logged in several 4104 parts; each part is matched alone.";
        } else if (security) {
            t->data_names = security_data_names;
            t->comment = "Microsoft Sentinel only: the Security log (SecurityEvent, Windows "
                         "Security Events connector); fields without a column of their own are "
                         "read from EventData by name.";
        } else {
            if (strchr(channel, '"') || strchr(channel, '\\')) {
                set_err(k, "channel name '%s' cannot be quoted", channel);
                return -1;
            }
            snprintf(t->filter, sizeof t->filter, "EventLog == \"%s\"", channel);
            t->data_names = !strcmp(channel, "System") ? system_data_names
                            : !strcmp(channel, "Microsoft-Windows-Sysmon/Operational") ? NULL
                            : !strncmp(channel, "Microsoft-Windows-PowerShell", 28) ||
                                    !strcmp(channel, "Windows PowerShell")
                                ? powershell_data_names
                                : no_data_names;
            t->comment = !strcmp(channel, "System")
                             ? "Microsoft Sentinel only: Defender advanced hunting has no table "
                               "for the System event log (DistributedCOM 10016, 10028, 10036 "
                               "and the like). Needs the Azure Monitor Agent collecting the "
                               "System log into the Event table; the rule's fields are read "
                               "from EventData by name."
                             : "Microsoft Sentinel only: Defender advanced hunting has no table "
                               "for this event log. Needs the Azure Monitor Agent collecting it "
                               "into the Event table; the rule's fields are read from EventData "
                               "by name.";
        }
    } else if (*cat) {
        set_err(k, "logsource category '%s' has no Defender or Sentinel table in this export", cat);
        return -1;
    } else {
        set_err(k, "the logsource names no category or service, so the rule meets every Windows "
                   "event: no single table holds them");
        return -1;
    }
    if (*cat && *svc) {
        char note[300];
        snprintf(note, sizeof note,
                 "the logsource's service '%s' is not applied: the table is chosen by the "
                 "category",
                 svc);
        if (list_add(&k->notes, note))
            k->oom = 1;
    }
    return 0;
}

/* A Sigma field as a column of the target. */
typedef struct colref {
    char name[160];
    char type;
    int staged;
    const char *fname; /* the file-name column of a path column, for term matches */
} colref;

/* An EventData field whose name is a column of the table or a KQL keyword gets the column
 * name EventData_<name>. */
static int data_prefixed(const target *t, const char *name)
{
    static const char *const keywords[] = {
        "and",    "or",        "not",       "in",      "has",   "contains", "where",   "by",
        "on",     "let",       "true",      "false",   "null",  "between",  "project", "extend",
        "join",   "kind",      "with",      "to",      "of",    "as",       "set",     "print",
        "typeof", "summarize", "datatable", "matches", "regex", "dynamic",  "union",   "lookup",
    };
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (!strcasecmp(keywords[i], name))
            return 1;
    return find_col_ci(t, name) != NULL;
}

static int ident_ok(const char *s)
{
    if (!*s || strlen(s) >= 100 ||
        !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

static void set_plain(colref *c, const target *t, const char *column)
{
    const colspec *cs = find_col(t, column);
    snprintf(c->name, sizeof c->name, "%s", column);
    c->type = cs ? cs->type : 'S';
    c->staged = 0;
    c->fname = NULL;
    if (t->kind == TK_DEFENDER)
        for (size_t i = 0; i < sizeof file_name_cols / sizeof file_name_cols[0]; i++) {
            const char *fname = dh_defender_name(file_name_cols[i].name);
            if (!strcmp(dh_defender_name(file_name_cols[i].path), column) && find_col(t, fname))
                c->fname = fname;
        }
}

static int resolve(rule_tr *k, const field_ref *f, colref *c)
{
    const target *t = &k->t;
    int sentinel = t->kind != TK_DEFENDER;
    memset(c, 0, sizeof *c);
    switch (f->id) {
    case FIELD_KEYWORDS:
        set_err(k, "keyword search (values without a field): KQL has no exact form of 'any "
                   "column contains'");
        return -1;
    case FIELD_RECORD_ID:
        set_err(k,
                "field '%s': the event record id is in neither Defender's nor Sentinel's "
                "tables",
                f->name);
        return -1;
    case FIELD_COMPUTER:
        set_plain(c, t, t->host);
        return 0;
    case FIELD_EVENT_ID:
    case FIELD_CHANNEL:
    case FIELD_PROVIDER:
        if (!sentinel) {
            set_err(k,
                    "field '%s': %s rows have no event log envelope (no event id, channel or "
                    "provider)",
                    f->name, t->table);
            return -1;
        }
        set_plain(c, t,
                  f->id == FIELD_EVENT_ID  ? "EventID"
                  : f->id == FIELD_CHANNEL ? (t->kind == TK_EVENT ? "EventLog" : "Channel")
                                           : (t->kind == TK_EVENT ? "Source" : "EventSourceName"));
        return 0;
    default:
        break;
    }
    if (!sentinel) {
        for (const fmap *m = t->map; m->sigma; m++)
            if (!strcmp(m->sigma, f->name)) {
                if (m->derived == D_NONE) {
                    set_plain(c, t, dh_defender_name(m->column));
                    return 0;
                }
                snprintf(c->name, sizeof c->name, "%s", derived[m->derived].name);
                c->type = derived[m->derived].type;
                c->staged = 1;
                k->derived |= 1u << m->derived;
                if (derived[m->derived].approximate) {
                    char *note = columns_text(derived[m->derived].note);
                    if (!note || list_add(&k->notes, note))
                        k->oom = 1;
                    free(note);
                }
                return 0;
            }
        if (find_col(t, f->name)) { /* already Defender's own column name */
            set_plain(c, t, f->name);
            return 0;
        }
        set_err(k, "field '%s' has no column in %s", f->name, t->table);
        return -1;
    }
    /* Sentinel: a column of the table, else the event's data field of that name. */
    if (f->id >= 0 && t->data_names) {
        int ok = 0;
        for (const char *const *d = t->data_names; *d && !ok; d++)
            ok = !strcmp(*d, f->name);
        if (!ok) {
            set_err(k,
                    "field '%s': dcomhunt derives it from differently named data of this "
                    "log, which Sentinel keeps under the original names; name the event's "
                    "own data field in the rule to export it",
                    f->name);
            return -1;
        }
    }
    if (t->kind == TK_SECURITY_EVENT && find_col(t, f->name) && strcmp(f->name, "EventData")) {
        set_plain(c, t, f->name);
        return 0;
    }
    if (!ident_ok(f->name)) {
        set_err(k, "field '%s': not a name KQL can read from EventData", f->name);
        return -1;
    }
    if (data_prefixed(t, f->name))
        snprintf(c->name, sizeof c->name, "EventData_%s", f->name);
    else
        snprintf(c->name, sizeof c->name, "%s", f->name);
    c->type = 'S';
    c->staged = 1;
    if (list_add(&k->data, f->name))
        k->oom = 1;
    return 0;
}

/* ---- needles, tests, selections, conditions --------------------------------------- */

static int numeric(char type)
{
    return type == 'L' || type == 'I';
}

/* An integer as Sigma writes it for a numeric column: decimal, or 0x-hex (logon ids). */
static int parse_int(const char *s, size_t n, long long *out)
{
    char buf[40];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    int hex = n > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X');
    long long v = hex ? (long long)strtoull(buf + 2, &end, 16) : strtoll(buf, &end, 10);
    if (*end || end == buf + (hex ? 2 : 0))
        return -1;
    *out = v;
    return 0;
}

/* The column as a string expression (tostring() for other types). */
static void col_as_string(txt *t, const colref *c)
{
    if (c->type == 'S')
        txt_puts(t, c->name);
    else
        txt_printf(t, "tostring(%s)", c->name);
}

/* One needle as a KQL atom on column c. long because: one switch over the needle kinds,
 * each case the KQL operator for one Sigma modifier side by side with its null guard; cut
 * apart, the table of operators would be spread over a dozen functions. */
static ex *needle_atom(rule_tr *k, const colref *c, const needle *nd)
{
    scratch s;
    txt_scratch_init(&s);
    txt *t = &s.t;
    int staged = c->staged;
    const char *str_op = NULL;
    switch (nd->kind) {
    case N_EQ:
        if (numeric(c->type)) {
            long long v;
            if (parse_int(nd->orig, nd->orig_len, &v) == 0) {
                if (!strcmp(c->name, "EventID")) /* never null in Event and SecurityEvent */
                    txt_printf(t, "EventID == %lld", v);
                else
                    txt_printf(t, "(isnotnull(%s) and %s == %lld)", c->name, c->name, v);
                break;
            }
        } else if (c->type == 'B') {
            if (nd->orig_len == 4 && !strncasecmp(nd->orig, "true", 4)) {
                txt_printf(t, "%s == true", c->name);
                break;
            }
            if (nd->orig_len == 5 && !strncasecmp(nd->orig, "false", 5)) {
                txt_printf(t, "%s == false", c->name);
                break;
            }
        }
        str_op = nd->cased ? "==" : "=~";
        break;
    case N_CONTAINS:
        str_op = nd->cased ? "contains_cs" : "contains";
        break;
    case N_STARTS:
        str_op = nd->cased ? "startswith_cs" : "startswith";
        break;
    case N_ENDS:
        str_op = nd->cased ? "endswith_cs" : "endswith";
        break;
    case N_GLOB: {
        /* * and ? wildcards as an anchored regular expression (s: * crosses newlines). */
        scratch r;
        txt_scratch_init(&r);
        txt_puts(&r.t, "^");
        for (size_t i = 0; i < nd->orig_len; i++) {
            char ch = nd->orig[i];
            if (ch == '\x01')
                txt_puts(&r.t, ".*");
            else if (ch == '\x02')
                txt_puts(&r.t, ".");
            else if (strchr("\\.+*?()[]{}|^$", ch)) {
                txt_put(&r.t, "\\", 1);
                txt_put(&r.t, &ch, 1);
            } else
                txt_put(&r.t, &ch, 1);
        }
        txt_puts(&r.t, "$");
        char *re = txt_scratch_take(&r);
        if (!re) {
            k->oom = 1;
            dh_buf_free(&s.b);
            return NULL;
        }
        col_as_string(t, c);
        txt_puts(t, " matches regex ");
        int bad = kql_regex(t, nd->cased ? "(?s)" : "(?is)", re, strlen(re));
        free(re);
        if (bad) {
            set_err(k, "a value with control characters KQL strings cannot hold");
            dh_buf_free(&s.b);
            return NULL;
        }
        break;
    }
    case N_RE: {
        if (c->fname) {
            scratch l;
            txt_scratch_init(&l);
            if (kql_term_match(&l.t, nd)) {
                char *list = txt_scratch_take(&l);
                if (!list) {
                    k->oom = 1;
                    dh_buf_free(&s.b);
                    return NULL;
                }
                txt_printf(t, "%s has_any %s", c->fname, list);
                free(list);
                break;
            }
            dh_buf_free(&l.b);
        }
        const char *why = kql_re2_unsupported(nd->orig, nd->orig_len);
        if (why) {
            set_err(k, "regular expression with %s: KQL's RE2 engine cannot run it as PCRE does",
                    why);
            dh_buf_free(&s.b);
            return NULL;
        }
        uint32_t opts = 0;
        pcre2_pattern_info(nd->re, PCRE2_INFO_ARGOPTIONS, &opts);
        char flags[8] = "";
        if (opts & (PCRE2_CASELESS | PCRE2_MULTILINE | PCRE2_DOTALL))
            snprintf(flags, sizeof flags, "(?%s%s%s)", (opts & PCRE2_CASELESS) ? "i" : "",
                     (opts & PCRE2_MULTILINE) ? "m" : "", (opts & PCRE2_DOTALL) ? "s" : "");
        col_as_string(t, c);
        txt_puts(t, " matches regex ");
        if (kql_regex(t, flags, nd->orig, nd->orig_len)) {
            set_err(k, "a regular expression with control characters KQL strings cannot hold");
            dh_buf_free(&s.b);
            return NULL;
        }
        break;
    }
    case N_CIDR: {
        if (c->type != 'S') {
            set_err(k, "cidr on the non-string column %s", c->name);
            dh_buf_free(&s.b);
            return NULL;
        }
        int v4 = nd->family == 4;
        txt_printf(t, "(isnotnull(parse_ipv%c(%s)) and ipv%c_is_in_range(%s, ", v4 ? '4' : '6',
                   c->name, v4 ? '4' : '6', c->name);
        txt_string(t, nd->orig, nd->orig_len);
        txt_puts(t, "))");
        break;
    }
    case N_NUM: {
        static const char *const ops[] = {">", ">=", "<", "<="};
        char num[64];
        dh_format_double(num, sizeof num, nd->num, 0); /* 0.1, not 0.10000000000000001 */
        if (numeric(c->type))
            txt_printf(t, "(isnotnull(%s) and %s %s %s)", c->name, c->name, ops[nd->cmp], num);
        else
            txt_printf(t, "(isnotnull(toreal(%s)) and toreal(%s) %s %s)", c->name, c->name,
                       ops[nd->cmp], num);
        break;
    }
    case N_EXISTS:
        if (c->type == 'S')
            txt_printf(t, "%s(%s)", nd->exists ? "isnotempty" : "isempty", c->name);
        else
            txt_printf(t, "%s(%s)", nd->exists ? "isnotnull" : "isnull", c->name);
        break;
    case N_NULL:
        txt_printf(t, "%s(%s)", c->type == 'S' ? "isempty" : "isnull", c->name);
        break;
    case N_FIELDREF: {
        colref o;
        if (resolve(k, &nd->ref, &o)) {
            dh_buf_free(&s.b);
            return NULL;
        }
        staged |= o.staged;
        scratch a, b;
        txt_scratch_init(&a);
        txt_scratch_init(&b);
        if (!nd->cased)
            txt_puts(&a.t, "tolower(");
        col_as_string(&a.t, c);
        if (!nd->cased)
            txt_puts(&a.t, ")");
        if (!nd->cased)
            txt_puts(&b.t, "tolower(");
        col_as_string(&b.t, &o);
        if (!nd->cased)
            txt_puts(&b.t, ")");
        char *x = txt_scratch_take(&a), *y = txt_scratch_take(&b);
        if (!x || !y) {
            free(x);
            free(y);
            k->oom = 1;
            dh_buf_free(&s.b);
            return NULL;
        }
        switch (nd->ref_mode) {
        case N_CONTAINS:
            txt_printf(t, "indexof(%s, %s) >= 0", x, y);
            break;
        case N_STARTS:
            txt_printf(t, "indexof(%s, %s) == 0", x, y);
            break;
        case N_ENDS:
            txt_printf(
                t, "(strlen(%s) >= strlen(%s) and substring(%s, strlen(%s) - strlen(%s)) == %s)", x,
                y, x, x, y, y);
            break;
        default:
            txt_printf(t, "%s == %s", x, y);
        }
        free(x);
        free(y);
        break;
    }
    default:
        set_err(k, "a comparison this export does not know");
        dh_buf_free(&s.b);
        return NULL;
    }
    if (str_op) {
        col_as_string(t, c);
        txt_printf(t, " %s ", str_op);
        if (txt_string(t, nd->orig, nd->orig_len)) {
            set_err(k, "a value with control characters KQL strings cannot hold");
            dh_buf_free(&s.b);
            return NULL;
        }
    }
    char *text = txt_scratch_take(&s);
    if (!text) {
        k->oom = 1;
        return NULL;
    }
    return ex_atom(text, staged);
}

/* A list of plain equalities as one `in~` (or cased `in`) test; NULL if t is not one. */
static ex *in_list(rule_tr *k, const colref *c, const field_test *ft)
{
    if (ft->all || ft->ng < 2 || c->type != 'S')
        return NULL;
    for (size_t g = 0; g < ft->ng; g++)
        if (ft->g[g].nalt != 1 || ft->g[g].alt[0].kind != N_EQ ||
            ft->g[g].alt[0].cased != ft->g[0].alt[0].cased)
            return NULL;
    scratch s;
    txt_scratch_init(&s);
    txt_printf(&s.t, "%s %s (", c->name, ft->g[0].alt[0].cased ? "in" : "in~");
    for (size_t g = 0; g < ft->ng; g++) {
        if (g)
            txt_puts(&s.t, ", ");
        if (txt_string(&s.t, ft->g[g].alt[0].orig, ft->g[g].alt[0].orig_len)) {
            dh_buf_free(&s.b);
            return NULL; /* the per-value path reports it */
        }
    }
    txt_puts(&s.t, ")");
    char *text = txt_scratch_take(&s);
    if (!text)
        k->oom = 1;
    return ex_atom(text, c->staged);
}

static ex *test_ex(rule_tr *k, const field_test *ft)
{
    colref c;
    if (resolve(k, &ft->field, &c))
        return NULL;
    ex *e = in_list(k, &c, ft);
    if (e || k->oom)
        return e;
    e = ex_new(ft->all ? EX_AND : EX_OR);
    if (!e) {
        k->oom = 1;
        return NULL;
    }
    for (size_t g = 0; g < ft->ng; g++) {
        ex *alts = ex_new(EX_OR);
        if (!alts || ex_push(e, alts)) {
            k->oom = 1;
            ex_free(e);
            return NULL;
        }
        for (size_t a = 0; a < ft->g[g].nalt; a++) {
            ex *atom = needle_atom(k, &c, &ft->g[g].alt[a]);
            if (!atom || ex_push(alts, atom)) {
                if (!atom && !k->err[0])
                    k->oom = 1;
                ex_free(e);
                return NULL;
            }
        }
    }
    return e;
}

static ex *search_ex(rule_tr *k, const search_id *sid)
{
    ex *any = ex_new(EX_OR);
    if (!any) {
        k->oom = 1;
        return NULL;
    }
    for (size_t i = 0; i < sid->nsel; i++) {
        ex *all = ex_new(EX_AND);
        if (!all || ex_push(any, all)) {
            k->oom = 1;
            ex_free(any);
            return NULL;
        }
        for (size_t j = 0; j < sid->sel[i].nt; j++) {
            ex *t = test_ex(k, &sid->sel[i].t[j]);
            if (!t || ex_push(all, t)) {
                if (t || !k->err[0])
                    k->oom = 1;
                ex_free(any);
                return NULL;
            }
        }
    }
    return any;
}

static ex *cond_ex(rule_tr *k, const cond *c)
{
    const dh_rule *r = k->r;
    ex *e = NULL;
    switch (c->op) {
    case C_REF:
        return search_ex(k, &r->ids[c->ref]);
    case C_TRUE:
        e = ex_new(EX_TRUE);
        break;
    case C_NOT:
    case C_AND:
    case C_OR: {
        ex *a = cond_ex(k, c->a);
        ex *b = a && c->op != C_NOT ? cond_ex(k, c->b) : NULL;
        if (!a || (c->op != C_NOT && !b)) {
            ex_free(a);
            return NULL;
        }
        e = ex_new(c->op == C_NOT ? EX_NOT : c->op == C_AND ? EX_AND : EX_OR);
        if (!e) {
            ex_free(a);
            ex_free(b);
            break;
        }
        if (ex_push(e, a)) { /* ex_push frees the operand it cannot add */
            ex_free(b);
            ex_free(e);
            e = NULL;
        } else if (b && ex_push(e, b)) {
            ex_free(e);
            e = NULL;
        }
        break;
    }
    case C_OF: {
        unsigned need = c->count;
        int all = need == 0 || need >= c->nrefs;
        if (all || need == 1) {
            if (!(e = ex_new(all ? EX_AND : EX_OR)))
                break;
            for (size_t i = 0; i < c->nrefs; i++) {
                ex *s = search_ex(k, &r->ids[c->refs[i]]);
                if (!s || ex_push(e, s)) {
                    ex_free(e);
                    return NULL;
                }
            }
            break;
        }
        /* N of M: count the operands that hold. */
        scratch s;
        txt_scratch_init(&s);
        int staged = 0;
        txt_puts(&s.t, "(");
        for (size_t i = 0; i < c->nrefs; i++) {
            ex *x = ex_simplify(search_ex(k, &r->ids[c->refs[i]]));
            char *f = x ? ex_flat_str(x) : NULL;
            if (!f) {
                ex_free(x);
                dh_buf_free(&s.b);
                if (!k->err[0])
                    k->oom = 1;
                return NULL;
            }
            staged |= ex_staged(x);
            txt_printf(&s.t, "%stoint(%s)", i ? " + " : "", f);
            free(f);
            ex_free(x);
        }
        txt_printf(&s.t, ") >= %u", need);
        e = ex_atom(txt_scratch_take(&s), staged);
        break;
    }
    default:
        set_err(k, "a condition this export does not know");
        return NULL;
    }
    if (!e && !k->err[0])
        k->oom = 1;
    return e;
}

static void translate(rule_tr *k, const dh_rule *r, const dh_kql_options *opt)
{
    memset(k, 0, sizeof *k);
    k->r = r;
    if (pick_target(k))
        return;
    if (!r->cond) {
        set_err(k, "the rule has no condition");
        return;
    }
    ex *e = ex_simplify(cond_ex(k, r->cond));
    if (!e) {
        if (!k->err[0])
            k->oom = 1;
        return;
    }
    if (k->err[0] || k->oom) {
        ex_free(e);
        return;
    }
    k->cond = e;
    k->enrich = k->t.process && !opt->no_enrich && has_tag(r, "attack.t1021.003") &&
                strncmp(r->name, "seed_", 5) != 0;
}

static void rule_tr_free(rule_tr *k)
{
    ex_free(k->cond);
    list_clear(&k->data);
    list_clear(&k->notes);
}

/* ---- queries ---------------------------------------------------------------------- */

static const char *rule_label(const dh_rule *r)
{
    return *r->name ? r->name : *r->id ? r->id : r->title;
}

static void rule_header(txt *o, const dh_rule *r)
{
    txt_puts(o, "// ");
    txt_comment(o, rule_label(r));
    txt_puts(o, ": ");
    txt_comment(o, r->title);
    txt_puts(o, "\n//   ");
    if (*r->id) {
        txt_puts(o, "id ");
        txt_comment(o, r->id);
        txt_puts(o, "; ");
    }
    txt_printf(o, "level %s", dh_level_name(r->level));
    if (*r->confidence) {
        txt_puts(o, "; confidence ");
        txt_comment(o, r->confidence);
    }
    txt_puts(o, "; ");
    txt_comment(o, r->origin);
    txt_puts(o, "\n");
}

/* Long comment text wrapped at WIDTH after "// ". */
static void comment_wrapped(txt *o, const char *s, const char *lead);

/* A template naming columns (kql_text.h) as a "// " comment, wrapped. */
static void comment_columns(txt *o, const char *tmpl)
{
    char *s = columns_text(tmpl);
    if (!s) {
        o->oom = 1;
        return;
    }
    comment_wrapped(o, s, "// ");
    free(s);
}

static void comment_wrapped(txt *o, const char *s, const char *lead)
{
    size_t col = 0, ll = strlen(lead);
    txt_puts(o, lead);
    col = ll;
    while (*s) {
        while (*s == ' ')
            s++;
        size_t w = strcspn(s, " ");
        if (!w)
            break;
        if (col > ll && col + 1 + w > WIDTH) {
            txt_puts(o, "\n");
            txt_puts(o, lead);
            col = ll;
        } else if (col > ll) {
            txt_puts(o, " ");
            col++;
        }
        char *word = malloc(w + 1);
        if (!word) {
            o->oom = 1;
            return;
        }
        memcpy(word, s, w);
        word[w] = 0;
        txt_comment(o, word);
        free(word);
        col += w;
        s += w;
    }
    txt_puts(o, "\n");
}

/* The rule's condition split for a query with stages: conjuncts that read derived columns
 * (after) and the others (before, a filter that runs first). Borrowed pointers. */
typedef struct split_cond {
    const ex **pre, **post;
    size_t npre, npost;
} split_cond;

static int split_rule(const ex *e, split_cond *sc)
{
    size_t n = e->op == EX_AND ? e->nk : 1;
    sc->pre = calloc(n, sizeof *sc->pre);
    sc->post = calloc(n, sizeof *sc->post);
    sc->npre = sc->npost = 0;
    if (!sc->pre || !sc->post)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const ex *k = e->op == EX_AND ? e->k[i] : e;
        if (ex_staged(k))
            sc->post[sc->npost++] = k;
        else
            sc->pre[sc->npre++] = k;
    }
    return 0;
}

/* Writes the and of parts (borrowed) as a where clause, wrapped. */
static void write_and(txt *o, const ex **parts, size_t n)
{
    ex tmp = {EX_AND, 0, NULL, (ex **)parts, n};
    if (n == 1)
        ex_pretty(o, parts[0], 4, 8);
    else
        ex_pretty(o, &tmp, 4, 8);
}

static void write_data_stage(txt *o, const str_list *data, const target *t)
{
    if (!data->n)
        return;
    scratch s;
    txt_scratch_init(&s);
    for (size_t i = 0; i < data->n; i++)
        txt_printf(&s.t, "%s%s", i ? ", " : "", data->v[i]);
    txt_puts(&s.t,
             ": the event's own data, read from the EventData XML by name (entities decoded)");
    char *line = txt_scratch_take(&s);
    if (!line) {
        o->oom = 1;
        return;
    }
    comment_wrapped(o, line, "// ");
    free(line);
    for (size_t i = 0; i < data->n; i++) {
        const char *name = data->v[i];
        txt_puts(o, "| extend ");
        if (data_prefixed(t, name))
            txt_puts(o, "EventData_");
        txt_printf(o,
                   "%s = tostring(parse_xml(" KSTRCAT "(\"<v>\",\n    extract(@'<Data Name=\"%s\">"
                   "([^<]*)</Data>', 1, EventData), \"</v>\")).v)\n",
                   name, name);
    }
}

static const char enrichment_comment[] =
    "Enrichment (optional, for the DCOM rules): the network logon the process runs under "
    "({DeviceLogonEvents}, {LogonType} Network, same {DeviceId}, {LogonId} = the process's "
    "{LogonId} or "
    "{InitiatingProcessLogonId}) and the inbound connections accepted by the COM server process "
    "({DeviceNetworkEvents} InboundConnectionAccepted, same {DeviceId}, {InitiatingProcessId} and "
    "{InitiatingProcessCreationTime} = the process's own or its parent's, within "
    "DcomhuntWindow), giving SourceIP. To run the detection alone, end the query with "
    "DcomhuntHits.";

static const char enrichment_lets[] =
    "let DcomhuntSessions = union\n"
    "    (DcomhuntHits | project {DeviceId}, {ReportId}, {Timestamp}, SessionLogonId = "
    "{LogonId}),\n"
    "    (DcomhuntHits | project {DeviceId}, {ReportId}, {Timestamp}, SessionLogonId = "
    "{InitiatingProcessLogonId});\n"
    "let DcomhuntLogons = DcomhuntSessions\n"
    "| join kind=inner ({DeviceLogonEvents}\n"
    "    | where {ActionType} == \"LogonSuccess\" and {LogonType} == \"Network\"\n"
    "    | project {DeviceId}, SessionLogonId = {LogonId}, LogonTime = {Timestamp},\n"
    "        LogonRemoteIP = {RemoteIP}, LogonRemoteDeviceName = {RemoteDeviceName},\n"
    "        LogonAccountDomain = {AccountDomain}, LogonAccountName = {AccountName},\n"
    "        LogonProtocol = {Protocol}, LogonIsLocalAdmin = {IsLocalAdmin})\n"
    "    on {DeviceId}, SessionLogonId\n"
    "| where LogonTime between (({Timestamp} - DcomhuntLogonLookback) .. ({Timestamp} + "
    "DcomhuntWindow))\n"
    "| summarize arg_max(LogonTime, LogonRemoteIP, LogonRemoteDeviceName, LogonAccountDomain,\n"
    "    LogonAccountName, LogonProtocol, LogonIsLocalAdmin) by {DeviceId}, {ReportId}, "
    "{Timestamp};\n"
    "let DcomhuntServers = union\n"
    "    (DcomhuntHits | project {DeviceId}, {ReportId}, {Timestamp}, ServerProcessId = "
    "{ProcessId},\n"
    "        ServerCreationTime = {ProcessCreationTime}),\n"
    "    (DcomhuntHits | project {DeviceId}, {ReportId}, {Timestamp}, ServerProcessId = "
    "{InitiatingProcessId},\n"
    "        ServerCreationTime = {InitiatingProcessCreationTime});\n"
    "let DcomhuntInbound = DcomhuntServers\n"
    "| join kind=inner ({DeviceNetworkEvents}\n"
    "    | where {ActionType} == \"InboundConnectionAccepted\" and {RemoteIPType} != \"Loopback\"\n"
    "    | project {DeviceId}, ServerProcessId = {InitiatingProcessId},\n"
    "        ServerCreationTime = {InitiatingProcessCreationTime}, InboundTime = {Timestamp},\n"
    "        InboundRemoteIP = {RemoteIP}, InboundLocalPort = {LocalPort},\n"
    "        InboundServer = {InitiatingProcessFileName})\n"
    "    on {DeviceId}, ServerProcessId, ServerCreationTime\n"
    "| where InboundTime between (({Timestamp} - DcomhuntWindow) .. ({Timestamp} + "
    "DcomhuntWindow))\n"
    "| summarize InboundRemoteIPs = make_set(InboundRemoteIP, 16),\n"
    "    InboundLocalPorts = make_set(InboundLocalPort, 16), InboundServer = "
    "take_any(InboundServer)\n"
    "    by {DeviceId}, {ReportId}, {Timestamp};\n"
    "DcomhuntHits\n"
    "| lookup kind=leftouter DcomhuntLogons on {DeviceId}, {ReportId}, {Timestamp}\n"
    "| lookup kind=leftouter DcomhuntInbound on {DeviceId}, {ReportId}, {Timestamp}\n"
    "| extend SourceIP = coalesce(LogonRemoteIP, tostring(InboundRemoteIPs[0]))\n"
    "| project-reorder {Timestamp}, {DeviceName}, SourceIP, LogonAccountDomain, LogonAccountName,\n"
    "    InboundServer, InboundRemoteIPs, {FileName}, {ProcessCommandLine}, "
    "{InitiatingProcessFileName},\n"
    "    {InitiatingProcessCommandLine}";

/* Before the stages that derive columns: for one rule, its conjuncts that read none; for
 * several, the or of those (left out if one rule has none). */
static void write_prefilter(txt *o, rule_tr **g, size_t n)
{
    ex *any = ex_new(EX_OR);
    int ok = any != NULL;
    for (size_t i = 0; i < n && ok; i++) {
        split_cond sc;
        if (split_rule(g[i]->cond, &sc)) {
            o->oom = 1;
            ok = 0;
        } else if (!sc.npre) {
            ok = 0;
        } else if (n == 1) { /* its own tree, wrapped */
            txt_puts(o, "| where ");
            write_and(o, sc.pre, sc.npre);
            txt_puts(o, "\n");
            ok = 0;
        } else { /* as text: the conjuncts are borrowed */
            ex tmp = {EX_AND, 0, NULL, (ex **)sc.pre, sc.npre};
            ex *a = ex_atom(ex_flat_str(sc.npre == 1 ? sc.pre[0] : &tmp), 0);
            if (!a || ex_push(any, a)) {
                o->oom = 1;
                ok = 0;
            }
        }
        free(sc.pre);
        free(sc.post);
    }
    if (ok) {
        txt_puts(o, "| where ");
        ex_pretty(o, any, 4, 8);
        txt_puts(o, "\n");
    }
    ex_free(any);
}

/* The conditions of g[lo..hi), or'ed, each under its rule's name, indented by ind; more
 * than GROUP rules are parenthesised in groups (see group_step). */
static void write_rules(txt *o, rule_tr **g, size_t lo, size_t hi, int ind)
{
    size_t step = group_step(hi - lo);
    for (size_t i = lo; i < hi; i += step) {
        size_t end = i + step < hi ? i + step : hi;
        if (end - i > 1) {
            txt_puts(o, "\n");
            txt_indent(o, ind);
            txt_puts(o, i > lo ? "or (" : "(");
            write_rules(o, g, i, end, ind + 4);
            txt_puts(o, ")");
            continue;
        }
        txt_puts(o, "\n");
        txt_indent(o, ind);
        txt_puts(o, "// ");
        txt_comment(o, rule_label(g[i]->r));
        txt_puts(o, "\n");
        txt_indent(o, ind);
        if (i > lo)
            txt_puts(o, "or ");
        const ex *c = g[i]->cond;
        int paren = c->op == EX_AND || c->op == EX_OR;
        int col = ind + (i > lo ? 3 : 0);
        if (paren)
            txt_puts(o, "(");
        ex_pretty(o, c, ind + 4, col + paren);
        if (paren)
            txt_puts(o, ")");
    }
}

/* One query: rules[0..n) translated to the same target, or'ed. */
static void write_query(txt *o, rule_tr **g, size_t n)
{
    const target *t = &g[0]->t;
    unsigned dmask = 0;
    int enrich = 0, staged = 0;
    str_list data = {0};
    for (size_t i = 0; i < n; i++) {
        dmask |= g[i]->derived;
        enrich |= g[i]->enrich;
        staged |= ex_staged(g[i]->cond);
        for (size_t d = 0; d < g[i]->data.n; d++)
            if (list_add(&data, g[i]->data.v[d]))
                o->oom = 1;
    }
    /* Header: the rules, where the table is, what is derived or approximate. */
    if (n > 1)
        txt_printf(o, "// %s: %zu rules, one query (a row matching any of them)\n", t->table, n);
    for (size_t i = 0; i < n; i++)
        rule_header(o, g[i]->r);
    comment_wrapped(o, t->comment, "// ");
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < g[i]->notes.n; j++) {
            char line[600];
            snprintf(line, sizeof line, "note (%s): %s", rule_label(g[i]->r), g[i]->notes.v[j]);
            comment_wrapped(o, line, "// ");
        }
    if (enrich) {
        comment_columns(o, enrichment_comment);
        txt_puts(o, "let DcomhuntWindow = 5m;\nlet DcomhuntLogonLookback = 1h;\n"
                    "let DcomhuntHits = materialize(");
    }
    txt_printf(o, "%s\n", t->table);
    if (*t->filter)
        txt_printf(o, "| where %s\n", t->filter);
    if (staged) /* the conjuncts that need no derived column filter first */
        write_prefilter(o, g, n);
    for (int d = 0; d < D_COUNT; d++)
        if (dmask & (1u << d)) {
            if (derived[d].approximate) /* the header's note says how */
                txt_printf(o, "// %s: approximate, see the note above\n", derived[d].name);
            else
                comment_columns(o, derived[d].note);
            txt_columns(o, derived[d].stage);
            txt_puts(o, "\n");
        }
    write_data_stage(o, &data, t);
    list_clear(&data);
    if (n == 1) {
        split_cond sc = {0};
        txt_puts(o, "| where ");
        if (staged && !split_rule(g[0]->cond, &sc) && sc.npre) {
            write_and(o, sc.post, sc.npost);
        } else {
            ex_pretty(o, g[0]->cond, 4, 8);
        }
        free(sc.pre);
        free(sc.post);
    } else {
        txt_puts(o, "| where");
        write_rules(o, g, 0, n, 4);
    }
    if (enrich) {
        txt_puts(o, ");\n");
        txt_columns(o, enrichment_lets);
    }
    txt_puts(o, "\n");
}

static int same_target(const target *a, const target *b)
{
    return !strcmp(a->table, b->table) && !strcmp(a->filter, b->filter);
}

dh_status dh_kql_export(const dh_rule *const *rules, size_t n, const dh_kql_options *opt,
                        dh_buf *out, dh_kql_note_fn note, void *ctx, size_t *not_exported)
{
    static const dh_kql_options defaults = {0, 0};
    if (!opt)
        opt = &defaults;
    if (not_exported)
        *not_exported = 0;
    txt o = {out, 0};
    rule_tr *tr = n ? calloc(n, sizeof *tr) : NULL;
    rule_tr **group = n ? calloc(n, sizeof *group) : NULL;
    char *done = n ? calloc(n, 1) : NULL;
    if (n && (!tr || !group || !done)) {
        free(tr);
        free(group);
        free(done);
        return DH_ERR_NOMEM;
    }
    int oom = 0;
    for (size_t i = 0; i < n && !oom; i++) {
        translate(&tr[i], rules[i], opt);
        oom = tr[i].oom;
    }
    int first = 1;
    for (size_t i = 0; i < n && !oom; i++) {
        if (done[i] || !tr[i].cond)
            continue;
        size_t ng = 0;
        for (size_t j = i; j < n; j++)
            if (!done[j] && tr[j].cond &&
                (j == i || (!opt->split && same_target(&tr[i].t, &tr[j].t)))) {
                group[ng++] = &tr[j];
                done[j] = 1;
            }
        if (!first)
            txt_puts(&o, "\n");
        first = 0;
        write_query(&o, group, ng);
        for (size_t j = 0; j < ng && note; j++)
            for (size_t k = 0; k < group[j]->notes.n; k++)
                note(ctx, group[j]->r, 0, group[j]->notes.v[k]);
    }
    size_t skipped = 0;
    for (size_t i = 0; i < n && !oom; i++) {
        if (tr[i].cond)
            continue;
        if (!skipped++) {
            if (!first)
                txt_puts(&o, "\n");
            txt_puts(&o, "// ---- not exported to KQL ----\n");
        }
        txt_puts(&o, "// ");
        txt_comment(&o, rule_label(tr[i].r));
        txt_puts(&o, ": ");
        txt_comment(&o, tr[i].r->title);
        txt_puts(&o, "\n");
        comment_wrapped(&o, tr[i].err, "//   ");
        if (note)
            note(ctx, tr[i].r, 1, tr[i].err);
    }
    if (not_exported)
        *not_exported = skipped;
    for (size_t i = 0; i < n; i++)
        rule_tr_free(&tr[i]);
    free(tr);
    free(group);
    free(done);
    return oom || o.oom ? DH_ERR_NOMEM : DH_OK;
}
