/* The simulator's internals (include/dcomhunt/simulate.h is the public side).
 *
 * The flow: a scenario file (YAML, read into an `snode` tree) names roles (hosts,
 * accounts) and steps. The world gives the roles names, addresses, SIDs, processes and
 * logon sessions. The step interpreter turns each step into events as Windows and Zeek
 * write them (`sim_ev`: a source such as Sysmon or Security, an event id, name/value text
 * in the order Windows writes it), each tagged with the evidence it is for a DCOM hop.
 * The emitter writes each host's events, merged in time with background noise, through
 * that host's sensors into files (EVTX, JSON lines, Defender rows; Zeek for the network),
 * numbering records and dropping or duplicating as asked. Truth then looks at which tagged
 * events survived and says, per hop, what a hunt can find.
 *
 * Everything random comes from sim_rng streams seeded from the run's seed and a name
 * (the scenario, the host), so the output depends on the arguments only. */
#ifndef DH_SIM_SIM_H
#define DH_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "dcomhunt/simulate.h"

#define SIM_TICKS 10000000LL /* FILETIME ticks per second */

/* ---- deterministic randomness ------------------------------------------------------ */

typedef struct sim_rng {
    uint64_t s;
} sim_rng;

void sim_rng_seed(sim_rng *r, uint64_t seed, const char *salt);
uint64_t sim_rng_next(sim_rng *r);
/* Uniform in [0, n) (n > 0). */
uint64_t sim_rng_below(sim_rng *r, uint64_t n);
/* Uniform in [0, 1). */
double sim_rng_unit(sim_rng *r);
uint64_t sim_hash(const void *p, size_t n, uint64_t h);

/* ---- an arena of stable strings ------------------------------------------------------ */

typedef struct sim_arena {
    struct sim_block *head;
    size_t used, cap;
    size_t total; /* bytes of all its blocks */
} sim_arena;

void sim_arena_free(sim_arena *a);
void sim_arena_reset(sim_arena *a); /* forget everything, keep one block */
char *sim_strndup(sim_arena *a, const char *s, size_t n);
char *sim_strdup(sim_arena *a, const char *s);
char *sim_printf(sim_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void *sim_alloc(sim_arena *a, size_t n);

/* ---- scenario files ----------------------------------------------------------------- */

enum { SN_SCALAR, SN_MAP, SN_SEQ };

typedef struct snode {
    int type;
    int line;
    char *text;  /* SN_SCALAR */
    char **keys; /* SN_MAP */
    struct snode **vals;
    size_t n;
} snode;

void snode_free(snode *n);
/* Parses one YAML document; NULL (and why and line filled) when it cannot. */
snode *snode_parse(const char *text, size_t len, char *why, size_t whycap, int *line);
snode *snode_get(const snode *map, const char *key);
const char *snode_str(const snode *map, const char *key); /* a scalar's text, or NULL */

typedef struct sim_object {
    const char *name, *clsid, *appid;
    const char *server; /* "process" (a new COM server), "explorer", "service" */
    const char *image, *command_line, *original_file_name, *description, *company, *product;
    const char *technique; /* T1021.003 unless the object is another technique's */
    int line;
} sim_object;

struct dh_sim_scenario {
    const char *name, *title, *kind, *description, *technique, *atomic, *lab, *origin;
    snode *root;
    const snode *hosts, *accounts, *steps, *expect;
    int builtin;
};

struct dh_sim_catalog {
    dh_sim_scenario **v;
    size_t n;
    sim_object *objects;
    size_t nobjects;
    snode **roots; /* object files */
    size_t nroots;
    sim_arena arena;
};

const sim_object *sim_object_find(const dh_sim_catalog *c, const char *name);
/* Adds one scenario given as text (the fuzz target's way in); -1 if it was refused. */
int sim_catalog_add_text(dh_sim_catalog *c, const char *origin, const char *text, size_t len,
                         dh_sim_diag_fn diag, void *ctx);

/* ---- sensors and sources ------------------------------------------------------------ */

enum {
    SEN_SYSMON = 1,
    SEN_SECURITY = 2,
    SEN_WFP = 4,
    SEN_SYSTEM = 8,
    SEN_POWERSHELL = 16,
    SEN_DEFENDER = 32,
    SEN_WINDOWS_ALL = SEN_SYSMON | SEN_SECURITY | SEN_WFP | SEN_SYSTEM | SEN_POWERSHELL,
};

/* Where an event comes from: a Windows channel (and the sensor that must be on for it to be
 * written), or the network sensor. */
enum {
    SRC_SYSMON,
    SRC_SECURITY, /* Security auditing: logons, process creation, shares */
    SRC_WFP,      /* Security: Filtering Platform connections (5156, 5158) */
    SRC_SYSTEM,
    SRC_POWERSHELL,
    SRC_ZEEK_CONN,
    SRC_ZEEK_DCE,
    SRC_COUNT
};

typedef struct sim_source {
    const char *provider, *channel, *file; /* file: the EVTX file name Windows gives it */
    unsigned sensor;                       /* SEN_* bit (0: the network sensor) */
    const char *skew_name;                 /* for --skew HOST:NAME=SECONDS */
} sim_source;
extern const sim_source sim_sources[SRC_COUNT];

/* The sensor sets, in sensors.c: what each host side runs under dh_sim_opts.sensor_set. */
typedef struct sim_sensor_set {
    const char *name, *description;
    unsigned source_hosts, target_hosts, other_hosts; /* SEN_* bits by the host's side */
    int zeek;
} sim_sensor_set;
extern const sim_sensor_set sim_sensor_sets[];
extern const size_t sim_nsensor_sets;

/* ---- the world ---------------------------------------------------------------------- */

enum { SIDE_NONE = 0, SIDE_SOURCE = 1, SIDE_TARGET = 2, SIDE_WIRE = 4 };

typedef struct sim_host {
    const char *role, *name, *fqdn, *ip, *machine_sid;
    const char *spec; /* the role's declaration: scenarios share a host when role and spec agree */
    int linux_os, server;
    unsigned sides; /* SIDE_SOURCE / SIDE_TARGET: what it is in the scenarios */
    unsigned sensors;
    int64_t skew[SRC_COUNT + 1]; /* ticks, per source; [SRC_COUNT]: Defender */
    int desktop;                 /* account index of the interactive user, or -1 */
    int office;
    uint32_t guid_prefix, next_pid, next_port, next_dyn_port;
    uint64_t next_logon, next_proc_key;
    int p_system, p_services, p_lsass, p_dcomlaunch, p_rpcss, p_netsvcs, p_explorer, p_sysmon,
        p_wmi, p_winlogon;
    uint64_t desktop_logon;
    const char *desktop_logon_guid;
    uint32_t lsass_tid, eventlog_pid;
} sim_host;

typedef struct sim_account {
    const char *role, *name, *domain, *sid;
    int admin, service;
} sim_account;

enum { USER_SYSTEM = -1, USER_NETWORK_SERVICE = -2, USER_LOCAL_SERVICE = -3 };

typedef struct sim_proc {
    int host;
    uint32_t pid;
    const char *guid, *image, *cmd, *cwd;
    int user; /* account index or USER_* */
    uint64_t logon_id;
    const char *logon_guid;
    const char *integrity; /* Low, Medium, High, System */
    int parent;            /* index or -1 */
    int64_t start;
    const char *orig, *desc, *company, *product, *version;
    int hop_server; /* this process is the COM server of hop N (0: none) */
    int hop_child;  /* this process descends from hop N's COM server (0: none) */
    int hop_client; /* the client of hop N on its source */
} sim_proc;

typedef struct sim_logon {
    int host, account, type;
    uint64_t id;
    const char *guid;
    int kerberos;
    const char *src_ip, *workstation;
    uint16_t src_port;
    int64_t t;
} sim_logon;

/* Evidence classes: what an event tells about a hop. */
enum {
    EVC_NONE,
    EVC_ACTIVATION, /* target: the COM server's start */
    EVC_LOGON,      /* target: the caller's network logon */
    EVC_EPM,        /* target: inbound connection to the endpoint mapper (135) */
    EVC_SERVER_IN,  /* target: inbound connection to the COM server (explorer for the shell) */
    EVC_CHILD,      /* target: what the COM server started */
    EVC_FAILURE,    /* 10016 / 10036 on the target, 10028 on the source */
    EVC_SCRIPT,     /* source: a script block naming the object and the target */
    EVC_CLIENT,     /* source: the client's process start */
    EVC_OUTBOUND,   /* source: connections to the target */
    EVC_LOAD,       /* target: a DLL or add-in loaded by the server */
    EVC_FILE,       /* target: a file written for the method */
    EVC_WIRE_ACT,   /* network: the activation request (ISystemActivator) */
    EVC_WIRE_CONN,  /* network: the connections */
    EVC_COUNT
};

typedef struct sim_kv {
    const char *name, *value;
} sim_kv;

typedef struct sim_ev {
    int64_t t; /* true time; skew is applied when written */
    int host;  /* -1: the network sensor */
    uint8_t src;
    uint16_t id;
    uint32_t pid, tid; /* the process that logged it */
    const char *user_sid, *activity;
    sim_kv *kv;
    uint16_t nkv;
    uint16_t hop;
    uint8_t side, evc;
    uint32_t seq;
    /* set when written */
    uint32_t written; /* 1: a Windows log or Zeek, 2: Defender */
    uint64_t record_id, mde_id;
} sim_ev;

/* A DCOM hop: a `dcom` step, with what truth needs to know about it. */
enum { RES_OK, RES_DENIED, RES_UNREACHABLE, RES_HARDENING };

typedef struct sim_hop {
    int n; /* 1-based */
    const dh_sim_scenario *scenario;
    int src_host, dst_host, account, client; /* client: process index or -1 (Linux) */
    const sim_object *object;
    int result;
    int kerberos;
    int server_proc;              /* -1 for explorer-hosted objects until resolved */
    const char *target_name_used; /* as the client named the target */
    int expected;                 /* T1021.003: a finding is expected when evidence allows */
    const snode *expect;          /* the scenario's expect entry for it, or NULL */
    int64_t t0, t1;
} sim_hop;

typedef struct sim_world {
    const dh_sim_opts *o;
    const dh_sim_catalog *cat;
    sim_arena arena;
    sim_host *hosts;
    size_t nhosts, hosts_cap;
    sim_account *accounts;
    size_t naccounts, accounts_cap;
    sim_proc *procs;
    size_t nprocs, procs_cap;
    sim_logon *logons;
    size_t nlogons, logons_cap;
    sim_ev *evs;
    size_t nevs, evs_cap;
    sim_hop *hops;
    size_t nhops, hops_cap;
    const char *dns_domain, *netbios, *domain_sid;
    sim_rng rng;
    uint32_t seq;
    int64_t now; /* the interpreter's clock */
    int64_t end; /* latest event time */
    char err[512];
    const char *err_origin;
    int err_line;
} sim_world;

/* world.c */
void sim_world_init(sim_world *w, const dh_sim_opts *o, const dh_sim_catalog *cat);
/* Names as Windows allows them (they become folder names and fields of records); 1 if
 * valid. A host: letters, digits and dashes, at most 15 (NetBIOS) or 63 (Linux), not a
 * folder of the output's own (zeek, dup). An account: at most 64 bytes, no control
 * character nor any of "/\\[]:;|=,+*?<>@. A DNS domain: dot-separated labels of letters,
 * digits and dashes, at most 253. An address: IPv4 or IPv6. */
int sim_valid_host_name(const char *s, int linux_os);
int sim_valid_account_name(const char *s);
int sim_valid_domain(const char *s);
int sim_valid_address(const char *s);
void sim_world_free(sim_world *w);
int sim_fail(sim_world *w, const snode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Finds or creates a host / account for a role of the scenario (defaults from its spec). */
int sim_host_for(sim_world *w, const dh_sim_scenario *s, const char *role);
int sim_account_for(sim_world *w, const dh_sim_scenario *s, const char *role);
int sim_host_by_role(const sim_world *w, const char *role, const char *spec);
int sim_account_by_role(const sim_world *w, const char *role);
/* Starts a process (its events are the caller's); returns its index. */
int sim_proc_new(sim_world *w, int host, int parent, const char *image, const char *cmd, int user,
                 uint64_t logon_id, const char *integrity, int64_t t);
sim_logon *sim_logon_new(sim_world *w, int host, int account, int type, int from_host, int kerberos,
                         int64_t t);
uint16_t sim_port(sim_world *w, int host, int dynamic);
const char *sim_user_name(const sim_world *w, int user, int host); /* DOMAIN\name */
const char *sim_user_sid(const sim_world *w, int user);
/* Expands ${...} in text for the scenario (roles, domain, epoch, enc(...)). */
const char *sim_expand(sim_world *w, const dh_sim_scenario *s, const char *text, const snode *at);

/* events.c: Windows and Zeek records, appended to w->evs */
extern const char sim_logged_time[]; /* a value rendered as the event's logged time */
const char *sim_ev_provider(const sim_ev *e);
sim_ev *sim_ev_new(sim_world *w, int host, int src, uint16_t id, int64_t t, size_t nkv);
void sim_ev_put(sim_ev *e, const char *name, const char *value);
void ev_process_start(sim_world *w, int proc, int hop, int side, int evc);
void ev_process_end(sim_world *w, int proc, int64_t t);
void ev_connection(sim_world *w, int client, int server, int dst_host, uint16_t sport,
                   uint16_t dport, int64_t t, int hop, int evc_src, int evc_dst,
                   const char *zeek_service, int answered);
void ev_rpc_calls(sim_world *w, int src_host, int dst_host, uint16_t sport, uint16_t dport,
                  int64_t t, const char *const *calls, size_t ncalls, int hop);
void ev_logon(sim_world *w, const sim_logon *l, int hop);
void ev_logoff(sim_world *w, const sim_logon *l, int64_t t);
void ev_explicit_logon(sim_world *w, int proc, int account, int dst_host, int64_t t);
void ev_dcom_error(sim_world *w, int host, uint16_t id, const char *const *params, size_t n,
                   int64_t t, const char *user_sid, int hop, int side);
void ev_script(sim_world *w, int proc, const char *text, const char *path, int64_t t, int hop);
void ev_image_load(sim_world *w, int proc, const char *dll, int signed_, int64_t t, int hop);
void ev_file(sim_world *w, int proc, const char *path, int64_t t, int hop);
void ev_registry(sim_world *w, int proc, const char *key, const char *details, int64_t t, int hop);
void ev_share(sim_world *w, int host, const sim_logon *l, const char *share, const char *rel,
              int64_t t, int hop);
void ev_service(sim_world *w, int host, const char *name, const char *state, int64_t t);

/* steps.c */
int sim_run_scenario(sim_world *w, const dh_sim_scenario *s, int64_t start);

/* noise.c: background events of one host (or of the network, host -1), streamed in time */
typedef struct sim_noise sim_noise;
sim_noise *sim_noise_new(sim_world *w, int host, int64_t from, int64_t to, double per_hour,
                         uint64_t seed);
/* The next background event (valid until the next call), or NULL at the end. */
const sim_ev *sim_noise_next(sim_noise *n);
void sim_noise_stop(sim_noise *n); /* no more events after the current one */
uint64_t sim_noise_count(const sim_noise *n);
void sim_noise_free(sim_noise *n);

/* emit.c */
dh_status sim_emit(sim_world *w, const char *dir, dh_sim_stats *st, dh_error *err);
int sim_mkdirs(const char *path); /* mkdir -p; 0 or -1 */

/* truth.c */
typedef struct sim_truth sim_truth;
typedef struct sim_expected {
    const char *scenario;
    int hop;
    const char *kind; /* lateral_movement, attempt, source_activity; NULL: none expected */
    const char *reason;
    const char *target_host, *target_ip, *source_host, *source_ip, *account;
    const char *objects[2], *clsids[2]; /* either names the object; the class id is what counts */
    const char *commands[8];
    size_t ncommands;
} sim_expected;

sim_truth *sim_truth_build(sim_world *w);
void sim_truth_free(sim_truth *t);
size_t sim_truth_count(const sim_truth *t);
const sim_expected *sim_truth_get(const sim_truth *t, size_t i);
dh_status sim_truth_write(const sim_truth *t, const sim_world *w, const char *path);

/* run.c: a run whose world and truth are kept (the self-test compares with them) */
typedef struct sim_result {
    sim_world *w;
    sim_truth *t;
    dh_sim_opts *o;
} sim_result;
dh_status sim_run(const dh_sim_catalog *cat, const dh_sim_opts *o, const char *dir,
                  dh_sim_stats *stats, dh_error *err, sim_result **keep);
void sim_result_free(sim_result *r);

#endif
