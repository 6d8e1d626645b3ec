/* The correlator's insides, shared by its modules (internal to src/correlate/):
 *
 *   chain.c        the public API: intake (duplicates dropped at once), when to finish
 *                  what (the horizon), dropping what is done
 *   helpers.c      field access, comparisons, hashing (finding ids: findings/ids.c)
 *   sigma_glue.c   Sigma correlation rules run on the held items, their signals as findings
 *   entities.c     per host: which records are one process (sensors merged), parent
 *                  links, connections and loads attached to processes, logon sessions,
 *                  the host's own addresses and the address map of all hosts
 *   activations.c  what a finding is about on a target (a COM server started by the DCOM
 *                  launcher, explorer.exe or a server process accepting a remote
 *                  connection) and the target-side evidence each one claims
 *   source.c       the source side: script blocks, tool command lines, explicit
 *                  credentials and outbound RPC naming a target; DistributedCOM failures
 *   assemble.c     one intrusion, one finding: grouping activations, exclusive evidence,
 *                  building and emitting findings, attempts, source activity, signals
 *   claim.c        adding to a claim list (activations, source and assemble all do)
 *   finding.c      items and process nodes as the finding builder's values (findings/build.h)
 *   scriptparse.c  reading a target host and an object out of code and command lines
 *   wirehold.c     network sensor records ahead of the clock, on disk until it comes near
 *
 * Everything built in a pass (hosts, processes, activations, groups) lives in the pass's
 * arena and is gone when the pass ends; items (the kept events) outlive passes. */
#ifndef DH_CORRELATE_CORR_H
#define DH_CORRELATE_CORR_H

#include <stddef.h>
#include <stdint.h>
#include <strings.h>

#include "correlate/comdb.h"
#include "correlate/sigma_corr.h"
#include "dcomhunt/correlate.h"
#include "event/mappings/mappings.h"
#include "findings/build.h"
#include "findings/score.h"

#define TICKS 10000000LL /* FILETIME ticks per second */

/* ---- kept events ----------------------------------------------------------------------- */

typedef struct item {
    uint64_t hostkey; /* hash of the host's bare name, lowercased */
    dh_str bare;      /* the host's bare name as written (in ev): the sort's fast equality */
    uint64_t ident;   /* identity of the record: the same record read twice has the same */
    dh_event *ev;
    const dh_rule **rules;
    unsigned char *undecided; /* per rule: undecided on this event; NULL when none was */
    size_t nrules;
    uint64_t seq; /* arrival order: the last sort key, so passes are deterministic */
    int64_t t;
    unsigned used : 1;    /* evidence of an emitted finding */
    unsigned decided : 1; /* nothing more will be made of it (reported or dismissed) */
    unsigned fed : 1;     /* given to the Sigma correlation engine */
    unsigned pins;        /* the Sigma correlation engine still holds it (window or evidence) */
    unsigned wire : 1;    /* a network sensor record (Zeek) */
    /* per pass: the group whose claim on it is strongest */
    int32_t claim;
    int32_t claim_rank;
    int64_t claim_dt;
    const char *claim_role;
} item;

struct dh_correlator {
    dh_correlate_opts o;
    const dh_ruleset *rs;
    const dh_comdb *db;
    dh_comdb *own_db; /* the built-in table, when the options gave none */
    item **v;         /* stable items (Sigma correlation state points at them) */
    size_t n, cap;
    uint64_t seq;
    uint64_t *seen; /* open-addressing set of the held items' identities (0 = empty) */
    size_t seen_cap, seen_n;
    uint64_t duplicates;
    int64_t newest;   /* newest host-event time seen */
    int64_t min_held; /* oldest time among held items (a pass before it decides nothing) */
    int64_t open_min; /* oldest start of a group left open by the last pass */
    int64_t max_span; /* longest Sigma correlation timespan, in ticks */
    size_t since_flush, flush_every;
    dh_finding_fn fn;
    void *fctx;
    sc_engine *sc;
    int64_t sc_upto;  /* Sigma correlation has been fed everything older than this */
    uint64_t sc_late; /* events for it taken after that: read out of time order */
    size_t peak;
    size_t nwire;
    uint64_t wire_dropped;
    struct wire_hold *wh; /* sensor records ahead of the clock, on disk (wirehold.h) */
    int64_t wire_upto;    /* records at or before this time are held here, not there */
};

/* ---- small helpers (helpers.c) ---------------------------------------------------------- */

dh_str corr_field(const dh_event *ev, dh_field id);
int corr_ieq(dh_str a, dh_str b);
int corr_contains(dh_str h, const char *needle);
int corr_find(dh_str h, dh_str needle); /* case-insensitive */
/* "0x1ea3c6", "2008006": 1 and *v when a number. */
int corr_num(dh_str s, uint64_t *v);
int corr_loopback(dh_str ip);
int corr_true(dh_str s);
dh_str corr_bare_host(dh_str h);
uint64_t corr_hash(const void *p, size_t n, uint64_t h);
uint64_t corr_hash_ci(dh_str s, uint64_t h);
#define CORR_HASH0 1469598103934665603ULL
int corr_is_wire(const dh_event *ev);
/* A DCOM activation request on the wire (the remote activator's interfaces). */
int corr_wire_activation(const dh_event *ev);
/* Automation calls on the wire (IDispatch): what MMC20, ShellWindows and Office objects
 * are driven through; WMI uses its own interfaces (IWbem*). */
int corr_wire_automation(const dh_event *ev);
int corr_system_logon(uint64_t id); /* SYSTEM, LOCAL SERVICE, NETWORK SERVICE, 0 */
/* Hosts compare by bare name, case-insensitively. Inline: the pass's sort (chain.c) and the
 * host split (entities.c) call it once per pair of held items. */
static inline int corr_host_cmp(const dh_event *a, const dh_event *b)
{
    dh_str x = corr_bare_host(dh_event_host(a)), y = corr_bare_host(dh_event_host(b));
    size_t n = x.len < y.len ? x.len : y.len;
    int r = n ? strncasecmp(x.ptr, y.ptr, n) : 0;
    if (r)
        return r;
    return x.len < y.len ? -1 : x.len > y.len;
}
/* The file name of a Windows or POSIX path. */
dh_str corr_file_base(dh_str path);

/* ---- a pass's arena ---------------------------------------------------------------------- */

typedef struct arena_block arena_block;
typedef struct arena {
    arena_block *head;
    int failed; /* an allocation failed: the pass reports DH_ERR_NOMEM */
} arena;
void *arena_alloc(arena *a, size_t n); /* zeroed */
void *arena_grow(arena *a, void *old, size_t old_n, size_t new_n);
char *arena_strdup(arena *a, dh_str s);
void arena_free(arena *a);

/* A uint64 -> int32 map (open addressing); keys are hashes, 0 stands for itself. */
typedef struct u64map {
    uint64_t *keys;
    int32_t *vals;
    size_t cap, n;
} u64map;
int32_t u64map_get(const u64map *m, uint64_t key); /* -1 if absent */
int u64map_put(arena *a, u64map *m, uint64_t key, int32_t val);

/* ---- entities (entities.c) ---------------------------------------------------------------- */

typedef struct pass pass;
typedef struct host host;

enum { NODE_MAX_RECS = 6 };

typedef struct pnode {
    uint64_t guid;  /* hash of the process GUID, 0 unknown */
    uint64_t pid;   /* 0 unknown */
    char image[64]; /* basename, lowercase; "" unknown */
    dh_str image_path, cmdline, user, pcmdline;
    uint64_t logon; /* numeric logon id, 0 unknown */
    int64_t t;      /* earliest creation record, INT64_MAX when none was seen */
    int64_t tref;   /* earliest time anything referred to it */
    /* the parent as the creation records name it */
    uint64_t pguid, ppid;
    char pimage[64];
    dh_str pimage_path;
    int32_t parent; /* node index, -1 */
    int32_t first_child, next_sibling;
    int32_t next_pid;       /* nodes of the same pid */
    int32_t next_kin;       /* nodes of the same image and parent id */
    int32_t next_kin_nopid; /* the same, those without a process id */
    int32_t next_logon;     /* created nodes of the same logon session */
    int32_t first_conn, first_load, first_file;
    item *recs[NODE_MAX_RECS]; /* creation records, one per sensor */
    size_t nrecs;
    unsigned created : 1;    /* a creation record was seen */
    unsigned dcomlaunch : 1; /* started by the DCOM launcher (svchost -k DcomLaunch) */
    unsigned parent_unknown : 1;
    unsigned embedding : 1;   /* command line with a COM server marker */
    const dh_com_object *obj; /* what it serves, as the knowledge table says */
    int32_t act;              /* the activation it anchors, -1 */
} pnode;

typedef struct conn {
    item *it;
    int inbound;
    dh_str lip, rip; /* local and remote address, as this host sees them */
    uint32_t lport, rport;
    int32_t node; /* the process that owns it, -1 */
    int32_t next_node, next_rip;
} conn;

typedef struct aux {
    item *it;
    int32_t node;
    int32_t next;      /* the next of the same process */
    int32_t next_name; /* the next of the same file name (files) */
} aux;                 /* an image load or a file written, attached to its process */

typedef struct localip {
    dh_str ip;
    int64_t t;
} localip;

struct host {
    pass *p;
    item **v; /* this host's items, time ordered */
    size_t n;
    uint64_t key;
    dh_str name; /* the longest spelling its events give */
    dh_str bare;
    int address_only; /* no log of its own: a target the network sensor saw, by address */
    localip *ips;
    size_t nips, capips;
    pnode *nodes;
    size_t nnodes, capnodes;
    u64map by_guid, by_pid, by_kin, by_kin_nopid;
    u64map by_image;      /* image basename -> its one node (-2: several) */
    u64map node_by_logon; /* logon id -> first created node of it (chained) */
    conn *conns;
    size_t nconns;
    u64map conn_by_rip; /* remote address -> first conn (chained, time order) */
    aux *loads, *files;
    size_t nloads, nfiles;
    item **services; /* services installed (System 7045) and tasks created (4698, 106) */
    size_t nservices;
    u64map file_by_name; /* basename of a file written (Sysmon 11, 5145) -> first (chained) */
    u64map logon_by_id;  /* logon id -> first logon item index in v (chained via logon_next) */
    u64map logon_by_src; /* source address -> first logon (chained) */
    int32_t *logon_next, *logon_src_next;
    int32_t *net_logons; /* the network logons from another host, in time order (indices in v) */
    size_t nnet_logons;
    int64_t *cousins; /* start times of cousins the launcher started, sorted (built when
                         first asked) */
    size_t ncousins;
    int cousins_built;
};

typedef struct ipent {
    dh_str ip;
    host *h;
    int64_t t;
    int32_t next;
} ipent;

/* ---- activations and groups -------------------------------------------------------------- */

enum act_kind {
    ACT_SERVER,   /* a COM server process started by the DCOM launcher */
    ACT_EXPLORER, /* explorer.exe accepting a connection from another host */
    ACT_REF,      /* a COM server process known only by what refers to it (connections,
                     children): its start was not logged */
    ACT_WIRE,     /* the network sensor alone: an activation request, then automation calls
                     (IDispatch) on the object's port */
};

typedef struct claim {
    item *it;
    const char *role;
    int32_t rank; /* 0 identity, 1 same source by time, 2 source side */
    int64_t dt;
    unsigned fam; /* the evidence families it brings (EV_*) */
    int32_t node; /* the process it is a record of (commands, servers), -1 */
} claim;

typedef struct act {
    enum act_kind kind;
    host *h;
    int32_t node;
    const dh_com_object *obj;
    int64_t t, tlast;
    item *anchor;
    uint64_t logon; /* the network logon of the activation, 0 unknown */
    dh_str src;     /* the remote address, "" unknown */
    dh_str account; /* DOMAIN\name from a logon, or the server's user */
    unsigned families;
    claim *claims;
    size_t nclaims, capclaims;
    size_t dropped; /* claims past the cap, counted */
    int32_t group;
} act;

enum group_kind {
    G_TARGET,  /* activations on a target: lateral movement */
    G_ATTEMPT, /* remote activations the target refused (DistributedCOM 10016, 10036) */
    G_SOURCE,  /* a source naming a target no finding of the target explains */
};

typedef struct group {
    enum group_kind kind;
    host *h; /* the target (G_TARGET, G_ATTEMPT); the source host (G_SOURCE) */
    int32_t first_act;
    int32_t *acts;
    size_t nacts, capacts;
    int64_t tmin, tmax;
    uint64_t logon;
    dh_str src, account;
    int ready;     /* every activation settled: it can be emitted now */
    claim *claims; /* extra claims made for the group (source side, wire) */
    size_t nclaims, capclaims;
    unsigned families;
    dh_str tip;               /* the target's address when only the wire gave it */
    const dh_com_object *obj; /* attempts and source activity: the object */
    char target[128];         /* G_SOURCE: the target, compared form */
    char shown[128];          /* G_SOURCE: the target as the first record names it */
    int failed;               /* G_SOURCE: DistributedCOM 10028 among its records */
    size_t dropped;           /* claims past the cap */
} group;

/* A source-side record naming a target (source.c). */
typedef struct srcc {
    item *it;
    host *h;
    int strong;       /* names target and object in code or a tool's arguments */
    int failed;       /* DistributedCOM 10028: the target could not be reached */
    char target[128]; /* bare host name, lowercase, or an address: what is compared */
    char shown[128];  /* the target as the record writes it: what a finding shows */
    const dh_com_object *obj;
    int32_t group; /* joined target group, -1 */
    int32_t conn;  /* the host's connection it is (outbound RPC), -1 */
} srcc;

struct pass {
    dh_correlator *c;
    arena a;
    int64_t horizon, settled, W, S;
    host *hosts;
    size_t nh;
    ipent *ipents;
    size_t nipents, capipents;
    u64map ip_by_addr; /* address -> first ipent (chained) */
    item **wire;       /* network sensor records, time ordered */
    size_t nwire;
    u64map wire_by_orig; /* originator address -> first wire index (chained) */
    int32_t *wire_next;
    act *acts;
    size_t nacts, capacts;
    group *groups;
    size_t ngroups, capgroups;
    srcc *cands;
    size_t ncands, capcands;
    dh_finding_fn fn;
    void *fctx;
    int64_t open_min;
};

/* entities.c */
int entities_build(pass *p);
/* Frees what the pass's hosts hold outside its arena (their process nodes). */
void entities_free(pass *p);
host *pass_host_of(pass *p, uint64_t hostkey);
dh_str host_ip_near(const host *h, int64_t t);
int host_owns_ip(const host *h, dh_str ip);
host *ip_owner(const pass *p, dh_str ip, int64_t t);
/* The host of an address no host log owns: a host of its own, named by the address. */
host *address_host(pass *p, dh_str ip);
pnode *node_of(host *h, dh_str guid, dh_str pid, dh_str image, int64_t t);
int node_is_descendant(const host *h, int32_t n, int32_t ancestor, int depth);

/* sigma_glue.c: feeds the Sigma correlation engine the items with rules older than horizon
 * (INT64_MAX: everything, and the engine's windows closed). */
dh_status corr_run_sigma(dh_correlator *c, int64_t horizon);

/* activations.c */
int activations_find(pass *p);

/* source.c */
int source_scan(pass *p);
void source_join(pass *p);
int wire_join(pass *p);

/* assemble.c */
int assemble(pass *p);

/* claim.c: adds a claim. Claims are not capped (they are a few words per held record: the memory
 * follows what is held); past CLAIM_CAP, a guard against runaway growth, they are counted in
 * *dropped. */
#define CLAIM_CAP (1u << 26)
int claim_add(arena *a, claim **v, size_t *n, size_t *cap, size_t *dropped, item *it,
              const char *role, int rank, int64_t dt, unsigned fam, int32_t node);

/* finding.c: the correlator's records and processes handed to the finding builder
 * (findings/build.h) as its plain values. */
/* A record of the finding (its rules and time count; *sev raised to its rules' level). */
int corr_fb_record(dh_fb *b, const char *role, const item *it, dh_level *sev);
/* A process the finding lists (DH_FB_COMMANDS...): a node (once per node), or one record. */
int corr_fb_process(dh_fb *b, int list, const pnode *pn, int32_t node, const dh_event *ev);

/* Severity by the object the knowledge table names (NULL: none known), see
 * findings/score.h. */
static inline dh_level score_severity(dh_finding_kind kind, unsigned families, int confidence,
                                      const dh_com_object *obj)
{
    return dh_score_severity(kind, families, confidence, obj && obj->lateral,
                             obj ? obj->severity : DH_LEVEL_MEDIUM);
}

/* scriptparse.c */
typedef struct dcom_mention {
    dh_str target;  /* the remote computer as the code names it */
    dh_str object;  /* ProgID, CLSID or a tool's name for the object; may be empty */
    int object_var; /* the object was a variable that could not be resolved */
} dcom_mention;
/* Reads remote COM activations out of PowerShell, VBScript/JScript or a tool's command line:
 * GetTypeFromProgID/GetTypeFromCLSID with a computer argument (variables assigned in the same
 * text resolved), CreateObject("X", "host"), Invoke-DCOM -ComputerName -Method, SharpMove's
 * computername= method=, Impacket dcomexec's -object and user@target, NetExec's
 * `smb TARGET --exec-method mmcexec`. Returns how many were
 * written to out (at most max). Slices point into text (or into scratch, for decoded text). */
size_t dcom_mentions(dh_str text, dcom_mention *out, size_t max);
/* PowerShell -EncodedCommand: the decoded script (UTF-16LE read as ASCII) into buf; 0 if the
 * command line has none. */
size_t ps_decode_encoded(dh_str cmdline, char *buf, size_t cap);

#endif
