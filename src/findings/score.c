/* Confidence and severity, as tables (score.h; docs/findings.md has the same tables in
 * prose): which combination of evidence families makes a lateral movement and how sure it
 * is, and how the object and the outcome set the severity. The first row that fits
 * decides. Below them, the confidence of attempts, source activity and signals, which are
 * not made of families. */
#include "findings/score.h"

#include <string.h>

typedef struct conf_row {
    unsigned all;  /* every family here */
    unsigned any;  /* and at least one of these (0: nothing more) */
    unsigned any2; /* and at least one of these (0: nothing more) */
    int confidence;
} conf_row;

#define REMOTE (EV_LOGON_ID | EV_NET)
#define CORROB (EV_EXEC | EV_PLANTED | EV_SOURCE | EV_WIRE)

static const conf_row rows[] = {
    /* the server's start, a remote link by identity, and a third independent piece */
    {EV_START, REMOTE, CORROB, 3},
    {EV_START | EV_LOGON_ID | EV_NET, 0, 0, 3},
    /* the server's start and a remote link by identity */
    {EV_START, REMOTE, 0, 2},
    /* the server's start, the remote side seen only from the source or the wire */
    {EV_START, EV_SOURCE | EV_WIRE, 0, 2},
    /* a server the table knows started right after a network logon in the same log (old
     * Windows' 4688 gives no logon id of the server's own) */
    {EV_START | EV_LOGON_SRC, EV_EXEC | EV_EPM, 0, 2},
    {EV_START | EV_LOGON_SRC, 0, 0, 2},
    /* explorer.exe (ShellWindows, ShellBrowserWindow) accepting a remote connection */
    {EV_EXPLORER | EV_NET | EV_EXEC, EV_LOGON_SRC | EV_SOURCE | EV_WIRE | EV_EPM, 0, 3},
    {EV_EXPLORER | EV_NET | EV_EXEC, 0, 0, 2},
    {EV_EXPLORER | EV_NET, EV_SOURCE | EV_WIRE, 0, 2},
    {EV_EXPLORER | EV_NET, 0, 0, 1},
    /* a server known only by reference (its start not logged) */
    {EV_REF | EV_EXEC, REMOTE, EV_SOURCE | EV_WIRE | EV_EPM | EV_PLANTED, 3},
    {EV_REF | EV_EXEC, REMOTE, 0, 2},
    {EV_REF | EV_NET, EV_SOURCE | EV_WIRE, 0, 2},
    {EV_REF | EV_NET, 0, 0, 1},
    /* the network sensor alone */
    {EV_WIRE_ONLY, 0, 0, 1},
};

static const struct {
    unsigned fam;
    const char *why;
} reasons[] = {
    {EV_START, "COM server started by the DCOM launcher with -Embedding"},
    {EV_REF, "a COM server process whose start was not logged, known by the connections and "
             "processes that refer to it"},
    {EV_EXPLORER, "explorer.exe accepted an inbound connection from another host (ShellWindows "
                  "or ShellBrowserWindow run inside it)"},
    {EV_LOGON_ID, "network logon (type 3) from another host, linked by logon id"},
    {EV_LOGON_SRC, "network logon (type 3) from the same source just before"},
    {EV_NET, "inbound connection to the COM server process from another host"},
    {EV_EPM, "inbound RPC endpoint-mapper connection (port 135) from the same host"},
    {EV_EXEC, "the COM server started processes (commands run)"},
    {EV_PLANTED, "the COM server loaded a DLL written over SMB shortly before (DLL planted)"},
    {EV_SOURCE, "the source host's own telemetry names the target (a script block, a tool's "
                "arguments, explicit credentials or an outbound RPC connection)"},
    {EV_WIRE, "the network sensor saw the source ask the target's DCOM activator to create the "
              "object (RPC to port 135)"},
    {EV_WIRE_ONLY, "the network sensor alone saw a DCOM activation followed by automation calls "
                   "(IDispatch) on the object's port; no host log of the target was read"},
    {EV_RULE_HIGH, "a high-level rule matched an event of the finding"},
};

void dh_score_lateral(unsigned fam, dh_score *s)
{
    s->confidence = 0;
    s->nreasons = 0;
    /* an explorer connection counts as the remote link of an explorer activation, and an
     * inbound connection to the server of one known by reference */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const conf_row *r = &rows[i];
        if ((fam & r->all) != r->all || (r->any && !(fam & r->any)) ||
            (r->any2 && !(fam & r->any2)))
            continue;
        s->confidence = r->confidence;
        break;
    }
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0] && s->nreasons < 16; i++)
        if (fam & reasons[i].fam)
            s->reasons[s->nreasons++] = reasons[i].why;
}

static dh_level up(dh_level l)
{
    return l < DH_LEVEL_CRITICAL ? (dh_level)(l + 1) : l;
}

dh_level dh_score_severity(dh_finding_kind kind, unsigned fam, int confidence, int object_lateral,
                           dh_level object_level)
{
    switch (kind) {
    case DH_FINDING_LATERAL_MOVEMENT: {
        /* the object's severity (a generic COM server: medium); code running on the target
         * (commands, a planted DLL) one level up; inferred from the network alone, medium */
        dh_level l = object_lateral ? object_level : DH_LEVEL_MEDIUM;
        if (fam & (EV_EXEC | EV_PLANTED))
            l = up(l);
        if (confidence <= 1 && l > DH_LEVEL_MEDIUM)
            l = DH_LEVEL_MEDIUM;
        return l < DH_LEVEL_MEDIUM ? DH_LEVEL_MEDIUM : l;
    }
    case DH_FINDING_ATTEMPT:
        return DH_LEVEL_MEDIUM;
    case DH_FINDING_SOURCE_ACTIVITY:
        return object_lateral ? DH_LEVEL_MEDIUM : DH_LEVEL_LOW;
    default:
        return DH_LEVEL_INFORMATIONAL;
    }
}

static void add(dh_score *s, const char *why)
{
    for (size_t i = 0; i < s->nreasons; i++)
        if (s->reasons[i] == why)
            return;
    if (s->nreasons < sizeof s->reasons / sizeof s->reasons[0])
        s->reasons[s->nreasons++] = why;
}

void dh_score_local(unsigned fam, dh_score *s)
{
    dh_score_lateral(fam, s);
    s->confidence = 1;
    add(s, "no remote logon or connection found behind it: a local activation, or telemetry of "
           "that side is missing");
}

void dh_score_attempt(uint32_t event_id, int lateral_object, unsigned fam, dh_score *s)
{
    s->nreasons = 0;
    s->confidence = 2;
    add(s, event_id == 10036 ? "remote DCOM activation rejected by the authentication-level "
                               "hardening (System 10036 with a network address)"
                             : "remote DCOM launch or activation refused (System 10016 with a "
                               "network address)");
    if (lateral_object) {
        s->confidence = 3;
        add(s, "the class is one used for lateral movement");
    }
    if (fam & EV_SOURCE) {
        s->confidence = 3;
        add(s, "the source host's own telemetry names the target");
    }
}

static const struct {
    const char *role;
    int strong; /* names the target and the object itself; else supports it */
    const char *why;
} source_roles[] = {
    {"script", 1, "a script block on this host activates a COM object on the target"},
    {"source", 1, "a command line on this host activates a COM object on the target"},
    {"failure", 1, "DCOM could not reach the named computer (System 10028 on the source)"},
    {"source_network", 0, "an outbound RPC connection to the target's endpoint mapper (port 135)"},
    {"explicit_logon", 0, "explicit credentials used for the target (Security 4648)"},
};

void dh_score_source(const dh_evidence *ev, size_t n, int lateral_object, dh_score *s)
{
    s->nreasons = 0;
    /* the reasons follow the records: the first record of each role places its reason */
    size_t strong = 0;
    int support = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof source_roles / sizeof source_roles[0]; k++)
            if (!strcmp(ev[i].role, source_roles[k].role)) {
                add(s, source_roles[k].why);
                if (source_roles[k].strong)
                    strong++;
                else
                    support = 1;
                break;
            }
    s->confidence = (lateral_object ? 2 : 1) + (support || strong > 1);
    if (lateral_object)
        add(s, "the object named is one used for lateral movement");
    add(s, "nothing from the target explains it: the target's telemetry is missing, or the "
           "activation failed");
}

void dh_score_signal(int script, dh_score *s)
{
    s->nreasons = 0;
    s->confidence = 1;
    add(s, script ? "a script block on this host calls DCOM objects of another host"
                  : "a rule matched this event alone; no DCOM chain explains it");
}

int dh_score_correlation(void)
{
    return 2;
}
