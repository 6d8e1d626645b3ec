/* The simulated estate: randomness, string arena, hosts and accounts for the scenario
 * roles (names, addresses, SIDs), their processes and logon sessions, ports, and the
 * ${...} placeholders of scenario text. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/sim.h"

/* ---- randomness: splitmix64, seeded by the run's seed and a salt -------------------- */

uint64_t sim_hash(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

void sim_rng_seed(sim_rng *r, uint64_t seed, const char *salt)
{
    r->s = sim_hash(salt, strlen(salt), 1469598103934665603ULL ^ (seed * 0x9E3779B97F4A7C15ULL));
}

uint64_t sim_rng_next(sim_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t sim_rng_below(sim_rng *r, uint64_t n)
{
    return n ? sim_rng_next(r) % n : 0;
}

double sim_rng_unit(sim_rng *r)
{
    return (double)(sim_rng_next(r) >> 11) / 9007199254740992.0;
}

/* ---- arena -------------------------------------------------------------------------- */

struct sim_block {
    struct sim_block *next;
    size_t cap;
    char data[];
};

void *sim_alloc(sim_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->cap - a->used < n) {
        size_t cap = n > (1u << 20) ? n : (1u << 20);
        struct sim_block *b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = a->head;
        b->cap = cap;
        a->total += cap;
        a->head = b;
        a->used = 0;
        a->cap = cap;
    }
    void *p = a->head->data + a->used;
    a->used += n;
    return p;
}

void sim_arena_free(sim_arena *a)
{
    struct sim_block *b = a->head;
    while (b) {
        struct sim_block *n = b->next;
        free(b);
        b = n;
    }
    a->head = NULL;
    a->used = a->cap = a->total = 0;
}

void sim_arena_reset(sim_arena *a)
{
    if (!a->head)
        return;
    struct sim_block *b = a->head->next;
    while (b) {
        struct sim_block *n = b->next;
        free(b);
        b = n;
    }
    a->head->next = NULL;
    a->used = 0;
    a->cap = a->total = a->head->cap;
}

char *sim_strndup(sim_arena *a, const char *s, size_t n)
{
    char *d = sim_alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

char *sim_strdup(sim_arena *a, const char *s)
{
    return sim_strndup(a, s ? s : "", strlen(s ? s : ""));
}

char *sim_printf(sim_arena *a, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    if ((size_t)n < sizeof tmp)
        return sim_strndup(a, tmp, (size_t)n);
    char *d = sim_alloc(a, (size_t)n + 1);
    if (!d)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

/* ---- world -------------------------------------------------------------------------- */

void sim_world_init(sim_world *w, const dh_sim_opts *o, const dh_sim_catalog *cat)
{
    memset(w, 0, sizeof *w);
    w->o = o;
    w->cat = cat;
    sim_rng_seed(&w->rng, o->seed, "world");
    const char *dom = o->domain && *o->domain ? o->domain : "corp.example";
    w->dns_domain = sim_strdup(&w->arena, dom);
    size_t k = strcspn(dom, ".");
    char nb[16];
    size_t n = k < 15 ? k : 15;
    for (size_t i = 0; i < n; i++)
        nb[i] = (char)(dom[i] >= 'a' && dom[i] <= 'z' ? dom[i] - 32 : dom[i]);
    nb[n] = 0;
    w->netbios = sim_strdup(&w->arena, nb);
    sim_rng r;
    sim_rng_seed(&r, o->seed, dom);
    w->domain_sid = sim_printf(&w->arena, "S-1-5-21-%u-%u-%u",
                               (unsigned)(1000000000 + sim_rng_below(&r, 3000000000u)),
                               (unsigned)(1000000000 + sim_rng_below(&r, 3000000000u)),
                               (unsigned)(1000000000 + sim_rng_below(&r, 3000000000u)));
}

static int label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

int sim_valid_host_name(const char *s, int linux_os)
{
    size_t n = s ? strlen(s) : 0, digits = 0;
    if (!n || n > (linux_os ? 63u : 15u) || s[0] == '-' || s[n - 1] == '-' ||
        !strcasecmp(s, "zeek") || !strcasecmp(s, "dup"))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!label_char(s[i]))
            return 0;
        digits += s[i] >= '0' && s[i] <= '9';
    }
    return digits < n; /* a name of digits only is an address to Windows */
}

int sim_valid_account_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || strchr("\"/\\[]:;|=,+*?<>@", s[i]))
            return 0;
    return 1;
}

int sim_valid_domain(const char *s)
{
    size_t n = s ? strlen(s) : 0, label = 0;
    if (!n || n > 253)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!label || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
                return 0;
            label = 0;
        } else if (!label_char(s[i])) {
            return 0;
        } else {
            label++;
        }
    }
    return 1;
}

int sim_valid_address(const char *s)
{
    unsigned char b[16];
    return s && (inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1);
}

void sim_world_free(sim_world *w)
{
    free(w->hosts);
    free(w->accounts);
    free(w->procs);
    free(w->logons);
    free(w->evs);
    free(w->hops);
    sim_arena_free(&w->arena);
}

int sim_fail(sim_world *w, const snode *at, const char *fmt, ...)
{
    if (w->err[0])
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
    w->err_line = at ? at->line : 0;
    return -1;
}

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return v;
    size_t c = *cap ? *cap * 2 : 16;
    void *p = realloc(v, c * size);
    if (p)
        *cap = c;
    return p;
}

#define GROW(w, field, count, cap) ((field) = grow((field), &(cap), (count), sizeof *(field)))

/* A setting for a host or account: by role first, then by the name it got. */
static const char *setting(const dh_sim_setting *v, size_t n, const char *role, const char *name,
                           const char *suffix)
{
    for (int pass = 0; pass < 2; pass++) {
        const char *key = pass ? name : role;
        if (!key)
            continue;
        for (size_t i = 0; i < n; i++) {
            size_t kl = strlen(key), sl = suffix ? strlen(suffix) : 0;
            const char *k = v[i].key;
            if (strlen(k) == kl + sl && !strncasecmp(k, key, kl) &&
                (!sl || !strcmp(k + kl, suffix)))
                return v[i].value;
        }
    }
    return NULL;
}

int sim_host_by_role(const sim_world *w, const char *role, const char *spec)
{
    for (size_t i = 0; i < w->nhosts; i++)
        if (!strcmp(w->hosts[i].role, role) && !strcmp(w->hosts[i].spec, spec))
            return (int)i;
    return -1;
}

/* A role's declaration as one string: os, role, desktop, office. */
static const char *spec_of(sim_world *w, const snode *spec)
{
    const char *os = snode_str(spec, "os"), *kind = snode_str(spec, "role"),
               *desk = snode_str(spec, "desktop"), *off = snode_str(spec, "office");
    return sim_printf(&w->arena, "%s|%s|%s|%s", os ? os : "windows", kind ? kind : "workstation",
                      desk ? desk : "", off ? off : "");
}

int sim_account_by_role(const sim_world *w, const char *role)
{
    for (size_t i = 0; i < w->naccounts; i++)
        if (!strcmp(w->accounts[i].role, role))
            return (int)i;
    return -1;
}

static const char *const people[] = {"kwalker", "mjones",  "alee",    "rpatel",  "sgarcia",
                                     "tnguyen", "dmuller", "lrossi",  "hkim",    "bsmith",
                                     "cmartin", "ocohen",  "fyilmaz", "pdubois", "jsato"};

static uint64_t role_hash(const sim_world *w, const char *role)
{
    return sim_hash(role, strlen(role), 1469598103934665603ULL ^ w->o->seed);
}

static int name_taken(const sim_world *w, const char *name)
{
    for (size_t i = 0; i < w->nhosts; i++)
        if (!strcasecmp(w->hosts[i].name, name))
            return 1;
    return 0;
}

static int ip_taken(const sim_world *w, const char *ip)
{
    for (size_t i = 0; i < w->nhosts; i++)
        if (!strcmp(w->hosts[i].ip, ip))
            return 1;
    return 0;
}

static uint32_t pid4(sim_rng *r, uint32_t lo, uint32_t hi)
{
    return (uint32_t)(lo + sim_rng_below(r, (hi - lo) / 4) * 4);
}

static int boot_proc(sim_world *w, int host, int parent, const char *image, const char *cmd,
                     int user, uint32_t pid, int64_t t)
{
    int p = sim_proc_new(w, host, parent, image, cmd, user, 0, "System", t);
    if (p >= 0 && pid)
        w->procs[p].pid = pid;
    return p;
}

/* side: source, target or both; what the host is in the scenario's story. */
static unsigned host_sides(const snode *spec)
{
    const char *side = snode_str(spec, "side");
    return !side                     ? SIDE_NONE
           : !strcmp(side, "source") ? SIDE_SOURCE
           : !strcmp(side, "target") ? SIDE_TARGET
           : !strcmp(side, "both")   ? SIDE_SOURCE | SIDE_TARGET
                                     : SIDE_NONE;
}

/* The host's name: the one --host gave (made unique when another scenario's host took
 * it), else one drawn from r in the style of its kind; h->name and h->fqdn. 0, or the
 * failure sim_fail returned. */
static int host_name(sim_world *w, sim_host *h, const snode *spec, const char *role,
                     const char *kind, sim_rng *r)
{
    const char *name = setting(w->o->names, w->o->nnames, role, NULL, NULL);
    char buf[64];
    if (name && !sim_valid_host_name(name, h->linux_os))
        return sim_fail(w, spec, "host name '%s': at most 15 characters for a Windows host", name);
    if (name && name_taken(w, name)) {
        /* the role again, declared otherwise by another scenario: another machine */
        snprintf(buf, sizeof buf, "%.*s-%zu", h->linux_os ? 50 : 11, name, w->nhosts + 1);
        name = buf;
    }
    if (!name) {
        static const char *const kinds[] = {"APP", "FILE", "SQL", "WEB", "RPT", "OPS", "CA", "HR"};
        for (int tries = 0; tries < 100; tries++) {
            if (h->linux_os)
                snprintf(buf, sizeof buf, "kali-%02u", (unsigned)(1 + sim_rng_below(r, 98)));
            else if (kind && !strcmp(kind, "dc"))
                snprintf(buf, sizeof buf, "DC%02u", (unsigned)(1 + sim_rng_below(r, 9)));
            else if (h->server)
                snprintf(buf, sizeof buf, "SRV-%s%02u", kinds[sim_rng_below(r, 8)],
                         (unsigned)(1 + sim_rng_below(r, 40)));
            else
                snprintf(buf, sizeof buf, "WKS-%04u", (unsigned)(100 + sim_rng_below(r, 9000)));
            if (!name_taken(w, buf))
                break;
        }
        name = buf;
    }
    h->name = sim_strdup(&w->arena, name);
    h->fqdn = h->linux_os ? h->name : sim_printf(&w->arena, "%s.%s", h->name, w->dns_domain);
    return 0;
}

/* The host's address (--ip, else a free one on its kind's subnet), machine SID and the
 * starting points of its pids, ports, logon ids and process keys, drawn from r. */
static void host_identity(sim_world *w, sim_host *h, const char *role, const char *kind, sim_rng *r)
{
    const char *ip = setting(w->o->addresses, w->o->naddresses, role, h->name, NULL);
    char ipb[48];
    if (!ip) {
        unsigned net = h->linux_os ? 66 : kind && !strcmp(kind, "dc") ? 1 : h->server ? 20 : 10;
        for (int tries = 0; tries < 300; tries++) {
            snprintf(ipb, sizeof ipb, "10.20.%u.%u", net, (unsigned)(10 + sim_rng_below(r, 240)));
            if (!ip_taken(w, ipb))
                break;
        }
        ip = ipb;
    }
    h->ip = sim_strdup(&w->arena, ip);
    h->machine_sid = sim_printf(&w->arena, "S-1-5-21-%u-%u-%u",
                                (unsigned)(1000000000 + sim_rng_below(r, 3000000000u)),
                                (unsigned)(1000000000 + sim_rng_below(r, 3000000000u)),
                                (unsigned)(1000000000 + sim_rng_below(r, 3000000000u)));
    h->guid_prefix = (uint32_t)sim_rng_next(r);
    h->next_pid = 4000 + (uint32_t)sim_rng_below(r, 2000) * 4;
    h->next_port = h->linux_os ? 32768 + (uint32_t)sim_rng_below(r, 20000)
                               : 49700 + (uint32_t)sim_rng_below(r, 9000);
    h->next_dyn_port = 49670 + (uint32_t)sim_rng_below(r, 60);
    h->next_logon = 0x100000 + sim_rng_below(r, 0x800000);
    h->next_proc_key = 0x100000 + sim_rng_below(r, 0x100000);
}

/* Boot processes: what every Windows host runs; their start is long before the
 * scenarios (the machine booted days ago). */
static void host_boot(sim_world *w, int hi, sim_rng *r)
{
    int64_t boot = w->o->start - (int64_t)(2 + sim_rng_below(r, 20)) * 86400 * SIM_TICKS;
    int sys = boot_proc(w, hi, -1, "System", "", USER_SYSTEM, 4, boot);
    int smss = boot_proc(w, hi, sys, "C:\\Windows\\System32\\smss.exe",
                         "\\SystemRoot\\System32\\smss.exe", USER_SYSTEM, pid4(r, 300, 420), boot);
    int wininit = boot_proc(w, hi, smss, "C:\\Windows\\System32\\wininit.exe", "wininit.exe",
                            USER_SYSTEM, pid4(r, 480, 560), boot);
    int services =
        boot_proc(w, hi, wininit, "C:\\Windows\\System32\\services.exe",
                  "C:\\Windows\\system32\\services.exe", USER_SYSTEM, pid4(r, 600, 680), boot);
    int lsass = boot_proc(w, hi, wininit, "C:\\Windows\\System32\\lsass.exe",
                          "C:\\Windows\\system32\\lsass.exe", USER_SYSTEM, 0, boot);
    w->procs[lsass].pid = w->procs[services].pid + 12;
    int dcl = boot_proc(w, hi, services, "C:\\Windows\\System32\\svchost.exe",
                        "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p", USER_SYSTEM,
                        pid4(r, 760, 840), boot);
    int rpcss = boot_proc(w, hi, services, "C:\\Windows\\System32\\svchost.exe",
                          "C:\\Windows\\system32\\svchost.exe -k RPCSS -p", USER_NETWORK_SERVICE,
                          pid4(r, 860, 960), boot);
    int netsvcs = boot_proc(w, hi, services, "C:\\Windows\\System32\\svchost.exe",
                            "C:\\Windows\\system32\\svchost.exe -k netsvcs -p", USER_SYSTEM,
                            pid4(r, 1100, 1400), boot);
    int winlogon = boot_proc(w, hi, smss, "C:\\Windows\\System32\\winlogon.exe", "winlogon.exe",
                             USER_SYSTEM, pid4(r, 560, 600), boot);
    int sysmon = boot_proc(w, hi, services, "C:\\Windows\\Sysmon64.exe",
                           "C:\\Windows\\Sysmon64.exe", USER_SYSTEM, pid4(r, 2000, 3200), boot);
    int wmi = boot_proc(w, hi, dcl, "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
                        "C:\\Windows\\system32\\wbem\\wmiprvse.exe -Embedding",
                        USER_NETWORK_SERVICE, pid4(r, 3200, 3900), boot);
    sim_host *h = &w->hosts[hi];
    h->p_system = sys, h->p_services = services, h->p_lsass = lsass, h->p_dcomlaunch = dcl;
    h->p_rpcss = rpcss, h->p_netsvcs = netsvcs, h->p_winlogon = winlogon, h->p_sysmon = sysmon;
    h->p_wmi = wmi;
    h->p_explorer = -1;
    h->eventlog_pid = pid4(r, 1400, 1800);
    h->lsass_tid = pid4(r, 700, 5000);
}

/* The interactive user (workstations; servers with an admin's desktop when asked): its
 * logon, userinit and explorer. 0, or -1. */
static int host_desktop(sim_world *w, const dh_sim_scenario *s, const snode *spec, int hi,
                        sim_rng *r)
{
    const char *desk = snode_str(spec, "desktop");
    if (!desk && w->hosts[hi].server)
        return 0;
    int acct = sim_account_for(w, s, desk ? desk : "user");
    if (acct < 0)
        return -1;
    sim_host *h = &w->hosts[hi];
    h->desktop = acct;
    int64_t logon_t = w->o->start - (int64_t)(1 + sim_rng_below(r, 5)) * 3600 * SIM_TICKS;
    sim_logon *l = sim_logon_new(w, hi, acct, 2, -1, 1, logon_t);
    if (!l)
        return -1;
    h = &w->hosts[hi];
    h->desktop_logon = l->id;
    h->desktop_logon_guid = l->guid;
    int ui = sim_proc_new(w, hi, h->p_winlogon, "C:\\Windows\\System32\\userinit.exe",
                          "C:\\Windows\\system32\\userinit.exe", acct, l->id, "Medium", logon_t);
    int ex = sim_proc_new(w, hi, ui, "C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE", acct,
                          l->id, "Medium", logon_t);
    if (ui < 0 || ex < 0)
        return -1;
    w->hosts[hi].p_explorer = ex;
    return 0;
}

int sim_host_for(sim_world *w, const dh_sim_scenario *s, const char *role)
{
    const snode *spec = snode_get(s->hosts, role);
    if (!spec) {
        sim_fail(w, s->steps, "host role '%s' is not declared under hosts:", role);
        return -1;
    }
    const char *sig = spec_of(w, spec);
    unsigned sides = host_sides(spec);
    int have = sim_host_by_role(w, role, sig);
    if (have >= 0) {
        w->hosts[have].sides |= sides; /* what it is across the scenarios */
        return have;
    }
    const char *os = snode_str(spec, "os"), *kind = snode_str(spec, "role");
    if (!GROW(w, w->hosts, w->nhosts, w->hosts_cap))
        return -1;
    sim_host *h = &w->hosts[w->nhosts];
    memset(h, 0, sizeof *h);
    h->role = sim_strdup(&w->arena, role);
    h->spec = sig;
    h->linux_os = os && !strcmp(os, "linux");
    h->server = kind && (!strcmp(kind, "server") || !strcmp(kind, "dc"));
    h->desktop = -1;
    sim_rng r;
    sim_rng_seed(&r, w->o->seed ^ role_hash(w, role), "host");
    int named = host_name(w, h, spec, role, kind, &r);
    if (named)
        return named;
    host_identity(w, h, role, kind, &r);
    h->office = 0;
    const snode *off = snode_get(spec, "office");
    if (off && off->type == SN_SCALAR && !strcmp(off->text, "true"))
        h->office = 1;
    h->sides = sides;
    for (int i = 0; i <= SRC_COUNT; i++)
        h->skew[i] = 0;
    int hi = (int)w->nhosts++;
    if (h->linux_os)
        return hi;
    host_boot(w, hi, &r);
    if (host_desktop(w, s, spec, hi, &r))
        return -1;
    return hi;
}

int sim_account_for(sim_world *w, const dh_sim_scenario *s, const char *role)
{
    int have = sim_account_by_role(w, role);
    if (have >= 0)
        return have;
    const snode *spec = s ? snode_get(s->accounts, role) : NULL;
    if (!GROW(w, w->accounts, w->naccounts, w->accounts_cap))
        return -1;
    sim_account *a = &w->accounts[w->naccounts];
    memset(a, 0, sizeof *a);
    a->role = sim_strdup(&w->arena, role);
    const char *adm = snode_str(spec, "admin"), *kind = snode_str(spec, "kind");
    a->admin = adm && !strcmp(adm, "true");
    a->service = kind && !strcmp(kind, "service");
    sim_rng r;
    sim_rng_seed(&r, w->o->seed ^ role_hash(w, role), "account");
    const char *given = setting(w->o->accounts, w->o->naccounts, role, NULL, NULL);
    const char *name = snode_str(spec, "name");
    char buf[80];
    if (given) {
        const char *bs = strchr(given, '\\');
        a->domain = bs ? sim_strndup(&w->arena, given, (size_t)(bs - given)) : w->netbios;
        a->name = sim_strdup(&w->arena, bs ? bs + 1 : given);
    } else {
        if (!name) {
            const char *person = people[sim_rng_below(&r, sizeof people / sizeof people[0])];
            if (a->service)
                snprintf(buf, sizeof buf, "svc-%s", role);
            else if (a->admin)
                snprintf(buf, sizeof buf, "adm-%s", person);
            else
                snprintf(buf, sizeof buf, "%s", person);
            name = buf;
        }
        a->domain = w->netbios;
        a->name = sim_strdup(&w->arena, name);
    }
    a->sid = sim_printf(&w->arena, "%s-%u", w->domain_sid,
                        (unsigned)(1104 + w->naccounts * 7 + sim_rng_below(&r, 5)));
    return (int)w->naccounts++;
}

/* The version resource of the Windows binaries scenarios start, as Sysmon reports it. */
static const struct {
    const char *file, *desc, *orig;
} known_images[] = {
    {"cmd.exe", "Windows Command Processor", "Cmd.Exe"},
    {"powershell.exe", "Windows PowerShell", "PowerShell.EXE"},
    {"whoami.exe", "whoami - displays logged on user information", "whoami.exe"},
    {"mmc.exe", "Microsoft Management Console", "MMC.EXE"},
    {"svchost.exe", "Host Process for Windows Services", "svchost.exe"},
    {"explorer.exe", "Windows Explorer", "EXPLORER.EXE"},
    {"calc.exe", "Windows Calculator", "CALC.EXE"},
    {"rundll32.exe", "Windows host process (Rundll32)", "RUNDLL32.EXE"},
    {"mshta.exe", "Microsoft (R) HTML Application host", "MSHTA.EXE"},
    {"wmiprvse.exe", "WMI Provider Host", "Wmiprvse.exe"},
    {"conhost.exe", "Console Window Host", "CONHOST.EXE"},
    {"net.exe", "Net Command", "net.exe"},
    {"net1.exe", "Net Command", "net1.exe"},
    {"ipconfig.exe", "IP Configuration Utility", "ipconfig.exe"},
    {"hostname.exe", "Hostname APP", "hostname.exe"},
    {"wsmprovhost.exe", "Host process for WinRM plug-ins", "wsmprovhost.exe"},
    {"dllhost.exe", "COM Surrogate", "dllhost.exe"},
    {"runtimebroker.exe", "Runtime Broker", "RuntimeBroker.exe"},
    {"dcomcnfg.exe", "COM+ Configuration Tool", "DCOMCNFG.EXE"},
    {"userinit.exe", "Userinit Logon Application", "USERINIT.EXE"},
    {"taskhostw.exe", "Host Process for Windows Tasks", "taskhostw.exe"},
    {"reg.exe", "Registry Console Tool", "reg.exe"},
    {"schtasks.exe", "Task Scheduler Configuration Tool", "schtasks.exe"},
    {"certutil.exe", "CertUtil.exe", "CertUtil.exe"},
    {"wmic.exe", "WMI Commandline Utility", "wmic.exe"},
    {"notepad.exe", "Notepad", "NOTEPAD.EXE"},
    {"services.exe", "Services and Controller app", "services.exe"},
    {"lsass.exe", "Local Security Authority Process", "lsass.exe"},
    {"wininit.exe", "Windows Start-Up Application", "wininit.exe"},
    {"winlogon.exe", "Windows Logon Application", "WINLOGON.EXE"},
    {"smss.exe", "Windows Session Manager", "smss.exe"},
    {"sysmon64.exe", "System activity monitor", "Sysmon.exe"},
};

static const char *guid_text(sim_world *w, uint32_t prefix, int64_t t, unsigned kind, uint64_t key)
{
    uint64_t secs = (uint64_t)((t - 116444736000000000LL) / SIM_TICKS);
    /* Sysmon's shape: machine part, the start time's seconds (low and high words), then
     * 0x10 for a process or 0x20 for a logon and the object's key, little-endian. */
    return sim_printf(&w->arena, "{%08X-%04X-%04X-0000-00%02X%02X%02X%02X%02X}", prefix,
                      (unsigned)(secs & 0xFFFF), (unsigned)((secs >> 16) & 0xFFFF), kind,
                      (unsigned)(key & 0xFF), (unsigned)((key >> 8) & 0xFF),
                      (unsigned)((key >> 16) & 0xFF), (unsigned)((key >> 24) & 0xFF));
}

int sim_proc_new(sim_world *w, int host, int parent, const char *image, const char *cmd, int user,
                 uint64_t logon_id, const char *integrity, int64_t t)
{
    if (!GROW(w, w->procs, w->nprocs, w->procs_cap))
        return -1;
    sim_host *h = &w->hosts[host];
    sim_proc *p = &w->procs[w->nprocs];
    memset(p, 0, sizeof *p);
    p->host = host;
    p->pid = h->next_pid;
    h->next_pid += 4 * (1 + (uint32_t)sim_rng_below(&w->rng, 60));
    if (h->next_pid > 30000)
        h->next_pid = 4000 + (uint32_t)sim_rng_below(&w->rng, 1000) * 4;
    p->guid = guid_text(w, h->guid_prefix, t, 0x10, h->next_proc_key);
    h->next_proc_key += 1 + sim_rng_below(&w->rng, 0x400);
    p->image = sim_strdup(&w->arena, image);
    p->cmd = sim_strdup(&w->arena, cmd);
    p->cwd = "C:\\Windows\\system32\\";
    p->user = user;
    if (!logon_id)
        logon_id = user == USER_SYSTEM            ? 0x3e7
                   : user == USER_NETWORK_SERVICE ? 0x3e4
                   : user == USER_LOCAL_SERVICE   ? 0x3e5
                                                  : 0;
    p->logon_id = logon_id;
    p->logon_guid = guid_text(w, h->guid_prefix, t, 0x20, logon_id);
    p->integrity = integrity ? integrity : "Medium";
    p->parent = parent;
    p->start = t;
    p->hop_child = parent >= 0 ? (w->procs[parent].hop_server ? w->procs[parent].hop_server
                                                              : w->procs[parent].hop_child)
                               : 0;
    /* the version resource: Windows' own binaries; others leave it to the step */
    int win = !strncasecmp(image, "C:\\Windows\\", 11);
    p->company = win ? "Microsoft Corporation" : "-";
    p->product = win ? "Microsoft\xc2\xae Windows\xc2\xae Operating System" : "-";
    p->version = win ? "10.0.19041.1 (WinBuild.160101.0800)" : "-";
    p->desc = "-";
    const char *base = strrchr(image, '\\');
    base = base ? base + 1 : image;
    p->orig = sim_strdup(&w->arena, base);
    for (size_t i = 0; i < sizeof known_images / sizeof known_images[0]; i++)
        if (!strcasecmp(base, known_images[i].file)) {
            p->desc = known_images[i].desc;
            p->orig = known_images[i].orig;
        }
    return (int)w->nprocs++;
}

sim_logon *sim_logon_new(sim_world *w, int host, int account, int type, int from_host, int kerberos,
                         int64_t t)
{
    if (!GROW(w, w->logons, w->nlogons, w->logons_cap))
        return NULL;
    sim_host *h = &w->hosts[host];
    sim_logon *l = &w->logons[w->nlogons++];
    memset(l, 0, sizeof *l);
    l->host = host;
    l->account = account;
    l->type = type;
    l->id = h->next_logon;
    h->next_logon += 0x100 + sim_rng_below(&w->rng, 0x4000);
    l->kerberos = kerberos;
    l->t = t;
    if (kerberos) {
        sim_rng r;
        sim_rng_seed(&r, sim_rng_next(&w->rng), "logon-guid");
        uint64_t a = sim_rng_next(&r), b = sim_rng_next(&r);
        l->guid = sim_printf(&w->arena, "{%08X-%04X-%04X-%04X-%012llX}", (unsigned)a,
                             (unsigned)((a >> 32) & 0xFFFF), (unsigned)((a >> 48) & 0xFFFF),
                             (unsigned)(b & 0xFFFF), (unsigned long long)(b >> 16));
    } else {
        l->guid = "{00000000-0000-0000-0000-000000000000}";
    }
    if (from_host >= 0 && from_host != host) {
        l->src_ip = w->hosts[from_host].ip;
        l->workstation = kerberos || w->hosts[from_host].linux_os ? "-" : w->hosts[from_host].name;
    } else {
        l->src_ip = type == 3 ? "127.0.0.1" : "-";
        l->workstation = type == 2 || type == 10 ? h->name : "-";
    }
    return l;
}

uint16_t sim_port(sim_world *w, int host, int dynamic)
{
    sim_host *h = &w->hosts[host];
    if (dynamic) {
        uint16_t p = (uint16_t)h->next_dyn_port;
        h->next_dyn_port += 1 + (uint32_t)sim_rng_below(&w->rng, 3);
        if (h->next_dyn_port > 65000)
            h->next_dyn_port = 49670;
        return p;
    }
    uint16_t p = (uint16_t)h->next_port;
    h->next_port += 1 + (uint32_t)sim_rng_below(&w->rng, 4);
    uint32_t lo = h->linux_os ? 32768 : 49152, hi = h->linux_os ? 60999 : 65535;
    if (h->next_port > hi)
        h->next_port = lo;
    return p;
}

const char *sim_user_name(const sim_world *w, int user, int host)
{
    (void)host;
    switch (user) {
    case USER_SYSTEM:
        return "NT AUTHORITY\\SYSTEM";
    case USER_NETWORK_SERVICE:
        return "NT AUTHORITY\\NETWORK SERVICE";
    case USER_LOCAL_SERVICE:
        return "NT AUTHORITY\\LOCAL SERVICE";
    default: {
        const sim_account *a = &w->accounts[user];
        return sim_printf((sim_arena *)&w->arena, "%s\\%s", a->domain, a->name);
    }
    }
}

const char *sim_user_sid(const sim_world *w, int user)
{
    switch (user) {
    case USER_SYSTEM:
        return "S-1-5-18";
    case USER_NETWORK_SERVICE:
        return "S-1-5-20";
    case USER_LOCAL_SERVICE:
        return "S-1-5-19";
    default:
        return w->accounts[user].sid;
    }
}

/* ---- ${...} placeholders ----------------------------------------------------------------- */

static int put_b64_utf16(dh_buf *out, const char *s, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    /* UTF-16LE of s (ASCII and two-byte UTF-8 are enough for command lines), then base64 */
    dh_buf u;
    dh_buf_init(&u, 1 << 20);
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i];
        if (c >= 0xC0 && c < 0xE0 && i + 1 < n) {
            c = ((c & 0x1F) << 6) | ((unsigned char)s[++i] & 0x3F);
        }
        char pair[2] = {(char)(c & 0xFF), (char)(c >> 8)};
        if (dh_buf_append(&u, pair, 2)) {
            dh_buf_free(&u);
            return -1;
        }
    }
    const unsigned char *p = (const unsigned char *)u.data;
    size_t len = u.len;
    int rc = 0;
    for (size_t i = 0; i < len && !rc; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < len ? p[i + 2] : 0);
        char q[4] = {tbl[v >> 18], tbl[(v >> 12) & 63], i + 1 < len ? tbl[(v >> 6) & 63] : '=',
                     i + 2 < len ? tbl[v & 63] : '='};
        rc = dh_buf_append(out, q, 4) ? -1 : 0;
    }
    dh_buf_free(&u);
    return rc;
}

static int expand_into(sim_world *w, const dh_sim_scenario *s, const char *text, size_t len,
                       dh_buf *out, const snode *at, int depth);

static int placeholder(sim_world *w, const dh_sim_scenario *s, const char *name, size_t n,
                       dh_buf *out, const snode *at, int depth)
{
    char key[128];
    if (n >= 4 && !memcmp(name, "enc(", 4) && name[n - 1] == ')') {
        dh_buf inner;
        dh_buf_init(&inner, 1 << 20);
        int rc = expand_into(w, s, name + 4, n - 5, &inner, at, depth + 1);
        if (!rc)
            rc = put_b64_utf16(out, inner.data ? inner.data : "", inner.len);
        dh_buf_free(&inner);
        return rc;
    }
    if (n >= sizeof key)
        return sim_fail(w, at, "placeholder ${%.40s...} is too long", name);
    memcpy(key, name, n);
    key[n] = 0;
    int64_t unix_t = (w->now - 116444736000000000LL);
    char tmp[64];
    if (!strcmp(key, "domain"))
        return dh_buf_puts(out, w->netbios) ? -1 : 0;
    if (!strcmp(key, "dns_domain"))
        return dh_buf_puts(out, w->dns_domain) ? -1 : 0;
    if (!strcmp(key, "epoch") || !strcmp(key, "epoch5")) {
        /* Impacket names its output file after the time: the first five digits of the
         * epoch seconds (dcomexec), or the whole float with two decimals (older builds). */
        snprintf(tmp, sizeof tmp, "%lld.%02lld", (long long)(unix_t / SIM_TICKS),
                 (long long)(unix_t % SIM_TICKS / 100000));
        if (!strcmp(key, "epoch5"))
            tmp[5] = 0;
        return dh_buf_puts(out, tmp) ? -1 : 0;
    }
    if (!strcmp(key, "guid")) {
        uint64_t a = sim_rng_next(&w->rng), b = sim_rng_next(&w->rng);
        snprintf(tmp, sizeof tmp, "%08x-%04x-%04x-%04x-%012llx", (unsigned)a,
                 (unsigned)((a >> 32) & 0xFFFF), (unsigned)(((a >> 48) & 0x0FFF) | 0x4000),
                 (unsigned)((b & 0x3FFF) | 0x8000), (unsigned long long)(b >> 16));
        return dh_buf_puts(out, tmp) ? -1 : 0;
    }
    char *dot = strchr(key, '.');
    const char *attr = dot ? dot + 1 : "";
    if (dot)
        *dot = 0;
    int hi = s && snode_get(s->hosts, key) ? sim_host_for(w, s, key) : -1;
    if (hi >= 0) {
        const sim_host *h = &w->hosts[hi];
        const char *v = !*attr || !strcmp(attr, "name") ? h->name
                        : !strcmp(attr, "fqdn")         ? h->fqdn
                        : !strcmp(attr, "ip")           ? h->ip
                        : !strcmp(attr, "lower")        ? NULL
                                                        : "";
        if (!v) {
            for (const char *c = h->name; *c; c++)
                if (dh_buf_putc(out, (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c)))
                    return -1;
            return 0;
        }
        if (!*v)
            return sim_fail(w, at, "${%s.%s}: a host has name, fqdn, ip, lower", key, attr);
        return dh_buf_puts(out, v) ? -1 : 0;
    }
    int ai = s && (snode_get(s->accounts, key) || !strcmp(key, "user")) ? sim_account_for(w, s, key)
                                                                        : -1;
    if (ai >= 0) {
        const sim_account *a = &w->accounts[ai];
        const char *v = !*attr || !strcmp(attr, "name") ? a->name
                        : !strcmp(attr, "domain")       ? a->domain
                        : !strcmp(attr, "sid")          ? a->sid
                        : !strcmp(attr, "full")         ? NULL
                                                        : "";
        if (!v) {
            if (dh_buf_puts(out, a->domain) || dh_buf_putc(out, '\\') || dh_buf_puts(out, a->name))
                return -1;
            return 0;
        }
        if (!*v)
            return sim_fail(w, at, "${%s.%s}: an account has name, domain, sid, full", key, attr);
        return dh_buf_puts(out, v) ? -1 : 0;
    }
    if (w->err[0])
        return -1;
    return sim_fail(w, at, "unknown placeholder ${%s}", name[0] ? key : "");
}

static int expand_into(sim_world *w, const dh_sim_scenario *s, const char *text, size_t len,
                       dh_buf *out, const snode *at, int depth)
{
    if (depth > 8)
        return sim_fail(w, at, "placeholders nested too deep");
    size_t i = 0;
    while (i < len) {
        if (text[i] == '$' && i + 1 < len && text[i + 1] == '{') {
            /* the matching brace, counting nested ${ } and ( ) */
            size_t j = i + 2;
            int braces = 1;
            while (j < len && braces) {
                if (text[j] == '{')
                    braces++;
                else if (text[j] == '}')
                    braces--;
                if (braces)
                    j++;
            }
            if (j >= len)
                return sim_fail(w, at, "unclosed ${ in '%.60s'", text);
            if (placeholder(w, s, text + i + 2, j - i - 2, out, at, depth))
                return -1;
            i = j + 1;
            continue;
        }
        if (dh_buf_putc(out, text[i]))
            return -1;
        i++;
    }
    return 0;
}

const char *sim_expand(sim_world *w, const dh_sim_scenario *s, const char *text, const snode *at)
{
    if (!text)
        return NULL;
    if (!strstr(text, "${"))
        return text;
    dh_buf out;
    dh_buf_init(&out, 1 << 20);
    const char *r = NULL;
    if (!expand_into(w, s, text, strlen(text), &out, at, 0))
        r = sim_strndup(&w->arena, out.data ? out.data : "", out.len);
    dh_buf_free(&out);
    return r;
}
