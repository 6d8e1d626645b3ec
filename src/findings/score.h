/* Confidence and severity of a finding (docs/findings.md has the same tables in prose):
 * what the correlator found is summed up as evidence families, and the tables in score.c
 * say how sure a lateral movement is and how severe a finding is; attempts, source activity
 * and signals are scored from the plain values that decide them. Pure functions: the
 * correlator decides which families and records a finding has, this file only what they
 * are worth. */
#ifndef DH_FINDINGS_SCORE_H
#define DH_FINDINGS_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/finding.h"

/* Evidence families: what a finding's confidence is made of (the tables in score.c). */
enum {
    EV_START = 1 << 0,      /* the server's start by the DCOM launcher */
    EV_LOGON_ID = 1 << 1,   /* network logon linked by logon id */
    EV_LOGON_SRC = 1 << 2,  /* network logon from the same source (by time) */
    EV_NET = 1 << 3,        /* inbound connection to the server process from the source */
    EV_EPM = 1 << 4,        /* endpoint mapper (135) from the same source */
    EV_EXEC = 1 << 5,       /* what the server ran: descendants, a planted DLL, output file */
    EV_SOURCE = 1 << 6,     /* the source host's own telemetry names the target */
    EV_WIRE = 1 << 7,       /* a network sensor saw the activation */
    EV_RULE_HIGH = 1 << 8,  /* a high-level rule matched an event of the finding */
    EV_EXPLORER = 1 << 9,   /* explorer.exe accepted the connection (ShellWindows) */
    EV_REF = 1 << 10,       /* the server is known by reference only */
    EV_PLANTED = 1 << 11,   /* a DLL written shortly before and loaded by the server */
    EV_WIRE_ONLY = 1 << 12, /* the network sensor alone: activation, then automation calls */
};

typedef struct dh_score {
    int confidence;          /* 0: not lateral movement; 1 low, 2 medium, 3 high */
    const char *reasons[16]; /* why, in dcomhunt's words (static) */
    size_t nreasons;
} dh_score;

/* The confidence of a lateral movement with these families (the first row that fits) and
 * its reasons. */
void dh_score_lateral(unsigned families, dh_score *s);
/* A COM server activation with nothing remote behind it that a rule flagged (a signal):
 * low, with the families' reasons and why it is not more. */
void dh_score_local(unsigned families, dh_score *s);
/* A remote activation the target refused (an attempt): medium; high when the object is one
 * used for lateral movement (lateral_object) or the source's own telemetry names the target
 * (EV_SOURCE in families). event_id is the refusal's: 10036 (the authentication-level
 * hardening), else 10016. */
void dh_score_attempt(uint32_t event_id, int lateral_object, unsigned families, dh_score *s);
/* Source activity, from its kept evidence in the order the finding lists it: one reason per
 * source role (script, source, failure, source_network, explicit_logon) in the order of its
 * first record; low, medium for an object used for lateral movement, one level up when a
 * supporting record (source_network, explicit_logon) or more than one strong record
 * (script, source, failure: every record counts) backs it, at most high. */
void dh_score_source(const dh_evidence *ev, size_t n, int lateral_object, dh_score *s);
/* A lone rule detection (a signal; script: a script block, reported as source activity):
 * low. */
void dh_score_signal(int script, dh_score *s);
/* A Sigma correlation signal: medium (its reasons are the correlation's own text). */
int dh_score_correlation(void);
/* The severity of a finding: object_lateral, the knowledge table names the object as one
 * used for lateral movement, with object_level its severity. */
dh_level dh_score_severity(dh_finding_kind kind, unsigned families, int confidence,
                           int object_lateral, dh_level object_level);

#endif
