/* Confidence and severity, as tables (score.h; docs/findings.md has the same tables in
 * prose): which combination of evidence families makes a lateral movement and how sure it
 * is, and how the object and the outcome set the severity. The first row that fits
 * decides. */
#include "findings/score.h"

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
