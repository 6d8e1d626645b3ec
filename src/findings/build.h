/* Building one dh_finding: its records, rules, processes, objects and values, within the
 * caps of dcomhunt/finding.h.
 *
 * The producer (the correlator) describes what it found as plain values: a record
 * (dh_fb_rec: the event, its time, the rules it matched) and a process (dh_fb_proc: its
 * identity, command line, image, start, the records it is known by). The builder keeps
 * them, copies the text it is given (dh_fb_text), and dh_fb_finish applies the caps and the
 * order: the records a finding lists are the ones that say what happened first, then the
 * rest in time order (findings/evidence.h); commands are the earliest processes. What
 * passes a cap still belongs to the finding (its time, rules and severity count) and is
 * counted (commands_dropped, evidence_dropped, rules_dropped); a value an owned event copy
 * cut at DH_VALUE_CAP is noted with its length in the log (dh_cut).
 *
 * The producer sets the finding's scalar values (kind, severity, confidence, id, hosts...)
 * in b->f itself, and reads the records kept so far in b->ev[0..nev). It never includes
 * the producer's types: the include edge points from the correlator to this file.
 *
 * Ownership: events, rules, roles and reasons given are borrowed (they must live until the
 * finding has been handed over); values point into the events. Text composed or copied
 * here lives until dh_fb_free. Single-threaded. */
#ifndef DH_FINDINGS_BUILD_H
#define DH_FINDINGS_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/finding.h"

/* The three lists of processes a finding has (dh_finding's commands, servers and
 * session_commands). */
enum { DH_FB_COMMANDS, DH_FB_SERVERS, DH_FB_SESSION, DH_FB_NLISTS };
#define DH_FB_MAX_OBJECTS 16
#define DH_FB_MAX_REASONS 24

/* A record of the finding, as its producer holds it. */
typedef struct dh_fb_rec {
    const dh_event *ev;
    int64_t t; /* its time (FILETIME ticks) */
    const dh_rule *const *rules;
    const unsigned char *undecided; /* per rule: undecided on this event; NULL when none was */
    size_t nrules;
} dh_fb_rec;

/* A process the finding lists. */
typedef struct dh_fb_proc {
    int64_t id;            /* the producer's process: listed once per id; -1 for one record */
    dh_str cmdline, image; /* listed: the command line, else the image */
    int64_t t;             /* its start: lists are in time order */
    int has_seq;           /* seq is known: */
    uint64_t seq;          /* the arrival order of its first record, to break ties (else the
                              order it was added in) */
    /* where its values come from, for their length in the log: the one record it is known
     * by (one), or its records (recs; when none of them cut it, the finding's records) */
    const dh_event *one;
    const dh_event *const *recs;
    size_t nrecs;
} dh_fb_proc;

typedef struct dh_fb_entry {
    dh_str s;
    int64_t t;
    uint64_t seq;
    size_t loglen; /* its length in the log; 0: look among the finding's records at the end */
} dh_fb_entry;

typedef struct dh_fb_list {
    dh_fb_entry *v;
    size_t n, cap, kept;
    uint64_t *seen; /* ids already listed (open addressing, 0 empty; id + 1 stored) */
    size_t nseen, capseen;
} dh_fb_list;

typedef struct dh_fb_block dh_fb_block;

/* One finding under construction. f and ev/nev are the producer's to read (f's scalars to
 * write); the rest is the builder's. */
typedef struct dh_fb {
    dh_finding f;
    dh_evidence *ev; /* every record of the finding until dh_fb_finish applies the cap */
    size_t nev, capev;
    const char *reasons[DH_FB_MAX_REASONS];
    dh_fb_list lists[DH_FB_NLISTS];
    dh_str *out[DH_FB_NLISTS]; /* the lists as the finding shows them */
    size_t nproc;
    dh_finding_object objects[DH_FB_MAX_OBJECTS];
    const dh_rule **rules, **undecided, **over;
    size_t caprules, capundecided, nover, capover;
    dh_cut *cuts;
    size_t capcuts;
    int64_t tmin, tmax;
    dh_fb_block *text; /* copied and composed text (never moves) */
    int failed;        /* memory ran out: dh_fb_finish says so */
} dh_fb;

void dh_fb_init(dh_fb *b);
void dh_fb_free(dh_fb *b);
/* A reason for the finding's confidence, once (r: static, or from dh_fb_text). */
void dh_fb_reason(dh_fb *b, const char *r);
/* A copy of s (n bytes, NUL-terminated) that lives with the builder; "" when memory ran
 * out. */
const char *dh_fb_text(dh_fb *b, const char *s, size_t n);
/* A record of the finding under role (static): its rules and time count; *sev (may be
 * NULL) raised to its rules' level. -1 when memory ran out. */
int dh_fb_record(dh_fb *b, const char *role, const dh_fb_rec *r, dh_level *sev);
/* A rule of the finding that no record carries (a correlation rule). */
void dh_fb_rule(dh_fb *b, const dh_rule *r);
/* A process the finding lists (DH_FB_COMMANDS...), once per id; one without a command line
 * or an image is not listed. -1 when memory ran out. */
int dh_fb_process(dh_fb *b, int list, const dh_fb_proc *p);
/* A COM object the finding involves, once per name, up to DH_FB_MAX_OBJECTS (the first
 * added is the main one); o's strings are borrowed. */
void dh_fb_object(dh_fb *b, dh_finding_object o);
/* A value of ev (NULL: of one of the finding's records) for the finding's `what` ("user",
 * "target_host"...): v itself, its cut noted. */
dh_str dh_fb_value(dh_fb *b, const char *what, dh_str v, const dh_event *ev);
/* "DOMAIN\name" from two fields of ev (the name alone without a domain; the generic user
 * field when the name field is empty), as "user". */
dh_str dh_fb_account(dh_fb *b, const dh_event *ev, dh_field domain, dh_field name);
/* Applies the caps, sorts, sets the finding's lists; -1 when memory ran out (at any point
 * of the building). */
int dh_fb_finish(dh_fb *b);

#endif
