/* The scenario catalog: the built-in scenarios (the .yml files of scenarios/, embedded by
 * cmake/embed_rules.cmake) and those of a user's folder, each checked when loaded (the
 * header fields, the roles, the step list) so a mistake is reported with its file and line
 * before anything runs; and the COM objects the `dcom` step knows (scenarios/objects.yml). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/sim.h"

struct dh_builtin_scenario {
    const char *name;
    const unsigned char *data;
    size_t len;
};
extern const struct dh_builtin_scenario dh_builtin_scenarios[];

#define MAX_FILE (4u << 20)

typedef struct loader {
    dh_sim_catalog *c;
    dh_sim_diag_fn diag;
    void *ctx;
    int refused;
} loader;

static void report(loader *l, const char *origin, int line, const char *msg)
{
    l->refused++;
    if (l->diag)
        l->diag(l->ctx, origin, line, msg);
}

static int valid_name(const char *s)
{
    if (!s || !*s || strlen(s) > 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    return 1;
}

static int one_of(const char *s, const char *const *v)
{
    for (; s && *v; v++)
        if (!strcmp(s, *v))
            return 1;
    return 0;
}

/* Checks the keys of a mapping; returns the first unknown one, or NULL. */
static const snode *unknown_key(const snode *map, const char *const *allowed, const char **key)
{
    for (size_t i = 0; map && map->type == SN_MAP && i < map->n; i++)
        if (!one_of(map->keys[i], allowed)) {
            *key = map->keys[i];
            return map->vals[i];
        }
    return NULL;
}

static int check_scenario(loader *l, const char *origin, dh_sim_scenario *s)
{
    static const char *const top[] = {"name",   "title",  "kind",     "description", "technique",
                                      "atomic", "lab",    "lab_note", "hosts",       "accounts",
                                      "steps",  "expect", NULL};
    static const char *const kinds[] = {"attack", "failure", "benign", "cousin", NULL};
    static const char *const host_keys[] = {"os", "role", "side", "desktop", "office", NULL};
    static const char *const acct_keys[] = {"admin", "kind", "name", NULL};
    static const char *const exp_keys[] = {"hop", "commands", NULL};
    char msg[300];
    const char *key;
    const snode *bad = unknown_key(s->root, top, &key);
    if (s->root->type != SN_MAP) {
        report(l, origin, s->root->line,
               "a scenario is a mapping (name, title, kind, hosts, steps...)");
        return -1;
    }
    if (bad) {
        snprintf(msg, sizeof msg, "unknown key '%.60s'", key);
        report(l, origin, bad->line, msg);
        return -1;
    }
    if (!valid_name(s->name)) {
        report(l, origin, s->root->line,
               "name: lower-case letters, digits and dashes (at most 64)");
        return -1;
    }
    if (!s->title || !s->description) {
        report(l, origin, s->root->line, "title and description are required");
        return -1;
    }
    if (!one_of(s->kind, kinds)) {
        report(l, origin, snode_get(s->root, "kind") ? snode_get(s->root, "kind")->line : 1,
               "kind: attack, failure, benign or cousin");
        return -1;
    }
    if (!s->hosts || s->hosts->type != SN_MAP || !s->hosts->n) {
        report(l, origin, s->root->line, "hosts: a mapping of host roles");
        return -1;
    }
    for (size_t i = 0; i < s->hosts->n; i++) {
        const snode *h = s->hosts->vals[i];
        if (h->type != SN_MAP) {
            report(l, origin, h->line,
                   "a host role is a mapping (os, role, side, desktop, office)");
            return -1;
        }
        if ((bad = unknown_key(h, host_keys, &key))) {
            snprintf(msg, sizeof msg, "host '%.40s': unknown key '%.40s'", s->hosts->keys[i], key);
            report(l, origin, bad->line, msg);
            return -1;
        }
        static const char *const oses[] = {"windows", "linux", NULL};
        static const char *const roles[] = {"workstation", "server", "dc", NULL};
        static const char *const sides[] = {"source", "target", "both", "none", NULL};
        const char *os = snode_str(h, "os"), *role = snode_str(h, "role"),
                   *side = snode_str(h, "side");
        if ((os && !one_of(os, oses)) || (role && !one_of(role, roles)) ||
            (side && !one_of(side, sides))) {
            snprintf(msg, sizeof msg,
                     "host '%.40s': os is windows or linux; role workstation, server or dc; side "
                     "source, target, both or none",
                     s->hosts->keys[i]);
            report(l, origin, h->line, msg);
            return -1;
        }
    }
    if (s->accounts && s->accounts->type != SN_MAP) {
        report(l, origin, s->accounts->line, "accounts: a mapping of account roles");
        return -1;
    }
    for (size_t i = 0; s->accounts && i < s->accounts->n; i++) {
        const snode *a = s->accounts->vals[i];
        if (a->type != SN_MAP || (bad = unknown_key(a, acct_keys, &key))) {
            snprintf(msg, sizeof msg, "account '%.40s': a mapping of admin, kind, name",
                     s->accounts->keys[i]);
            report(l, origin, a->line, msg);
            return -1;
        }
    }
    if (!s->steps || s->steps->type != SN_SEQ || !s->steps->n) {
        report(l, origin, s->root->line, "steps: a list of steps");
        return -1;
    }
    if (s->expect && s->expect->type != SN_SEQ) {
        report(l, origin, s->expect->line, "expect: a list of {hop, commands}");
        return -1;
    }
    for (size_t i = 0; s->expect && i < s->expect->n; i++)
        if ((bad = unknown_key(s->expect->vals[i], exp_keys, &key))) {
            snprintf(msg, sizeof msg, "expect: unknown key '%.40s' (hop, commands)", key);
            report(l, origin, bad->line, msg);
            return -1;
        }
    return 0;
}

/* The file's YAML, or NULL with the reason reported. */
static snode *parse(loader *l, const char *origin, const char *text, size_t len)
{
    char why[256];
    int line;
    snode *root = snode_parse(text, len, why, sizeof why, &line);
    if (!root)
        report(l, origin, line, why);
    return root;
}

static int load_objects(loader *l, const char *origin, const char *text, size_t len)
{
    dh_sim_catalog *c = l->c;
    snode *root = parse(l, origin, text, len);
    if (!root)
        return -1;
    snode **roots = realloc(c->roots, (c->nroots + 1) * sizeof *roots);
    if (!roots) {
        snode_free(root);
        return -1;
    }
    c->roots = roots;
    c->roots[c->nroots++] = root;
    const snode *objs = snode_get(root, "objects");
    if (!objs || objs->type != SN_MAP) {
        report(l, origin, root->line, "objects: a mapping of COM objects by name");
        return -1;
    }
    static const char *const keys[] = {
        "clsid",       "appid",   "server",  "image",     "command_line", "original_file_name",
        "description", "company", "product", "technique", "note",         NULL};
    for (size_t i = 0; i < objs->n; i++) {
        const snode *o = objs->vals[i];
        const char *key;
        const snode *bad = unknown_key(o, keys, &key);
        char msg[200];
        if (o->type != SN_MAP || bad) {
            snprintf(msg, sizeof msg, "object '%.40s': unknown key '%.40s'", objs->keys[i],
                     bad ? key : "");
            report(l, origin, bad ? bad->line : o->line, msg);
            continue;
        }
        const char *server = snode_str(o, "server");
        if (!server)
            server = "process";
        static const char *const servers[] = {"process", "explorer", "service", NULL};
        if (!one_of(server, servers) || !snode_str(o, "clsid") ||
            (!strcmp(server, "process") &&
             (!snode_str(o, "image") || !snode_str(o, "command_line")))) {
            snprintf(msg, sizeof msg,
                     "object '%.40s': needs clsid; server is process (with image and "
                     "command_line), explorer or service",
                     objs->keys[i]);
            report(l, origin, o->line, msg);
            continue;
        }
        sim_object ob = {objs->keys[i],
                         snode_str(o, "clsid"),
                         snode_str(o, "appid"),
                         server,
                         snode_str(o, "image"),
                         snode_str(o, "command_line"),
                         snode_str(o, "original_file_name"),
                         snode_str(o, "description"),
                         snode_str(o, "company"),
                         snode_str(o, "product"),
                         snode_str(o, "technique"),
                         o->line};
        size_t k;
        for (k = 0; k < c->nobjects; k++)
            if (!strcmp(c->objects[k].name, ob.name))
                break;
        if (k == c->nobjects) {
            sim_object *v = realloc(c->objects, (c->nobjects + 1) * sizeof *v);
            if (!v)
                return -1;
            c->objects = v;
            c->nobjects++;
        }
        c->objects[k] = ob;
    }
    return 0;
}

static int load_scenario(loader *l, const char *origin, const char *text, size_t len, int builtin)
{
    dh_sim_catalog *c = l->c;
    snode *root = parse(l, origin, text, len);
    if (!root)
        return -1;
    dh_sim_scenario *s = calloc(1, sizeof *s);
    if (!s) {
        snode_free(root);
        return -1;
    }
    s->root = root;
    s->name = snode_str(root, "name");
    s->title = snode_str(root, "title");
    s->kind = snode_str(root, "kind");
    s->description = snode_str(root, "description");
    s->technique = snode_str(root, "technique");
    s->atomic = snode_str(root, "atomic");
    s->lab = snode_str(root, "lab");
    s->hosts = snode_get(root, "hosts");
    s->accounts = snode_get(root, "accounts");
    s->steps = snode_get(root, "steps");
    s->expect = snode_get(root, "expect");
    s->origin = sim_strdup(&c->arena, origin);
    s->builtin = builtin;
    if (check_scenario(l, origin, s)) {
        snode_free(root);
        free(s);
        return 0;
    }
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->v[i]->name, s->name)) {
            if (!c->v[i]->builtin) {
                char msg[160];
                snprintf(msg, sizeof msg, "scenario '%.60s' is also defined in %.60s", s->name,
                         c->v[i]->origin);
                report(l, origin, root->line, msg);
                snode_free(root);
                free(s);
                return 0;
            }
            snode_free(c->v[i]->root);
            free(c->v[i]);
            c->v[i] = s; /* a user's file replaces the built-in one */
            return 0;
        }
    dh_sim_scenario **v = realloc(c->v, (c->n + 1) * sizeof *v);
    if (!v) {
        snode_free(root);
        free(s);
        return -1;
    }
    c->v = v;
    c->v[c->n++] = s;
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int kind_rank(const char *k)
{
    static const char *const order[] = {"attack", "failure", "benign", "cousin"};
    for (int i = 0; i < 4; i++)
        if (k && !strcmp(k, order[i]))
            return i;
    return 4;
}

static int cmp_scenario(const void *a, const void *b)
{
    const dh_sim_scenario *x = *(dh_sim_scenario *const *)a, *y = *(dh_sim_scenario *const *)b;
    int d = kind_rank(x->kind) - kind_rank(y->kind);
    return d ? d : strcmp(x->name, y->name);
}

static int has_ext(const char *n)
{
    size_t l = strlen(n);
    return (l > 4 && !strcmp(n + l - 4, ".yml")) || (l > 5 && !strcmp(n + l - 5, ".yaml"));
}

static int load_dir(loader *l, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        report(l, dir, 0, "cannot open the folder");
        return 0;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !has_ext(de->d_name))
            continue;
        char **v = realloc(names, (n + 1) * sizeof *v);
        if (!v)
            break;
        names = v;
        names[n] = strdup(de->d_name);
        if (names[n])
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_name);
    /* objects first: scenarios may name them */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            int objs = !strncmp(names[i], "objects.", 8);
            if (objs != (pass == 0))
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            FILE *f = fopen(path, "rb");
            struct stat sb;
            if (!f || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) ||
                (uint64_t)sb.st_size > MAX_FILE) {
                report(l, path, 0, f ? "not a regular file, or larger than 4 MiB" : "cannot open");
                if (f)
                    fclose(f);
                continue;
            }
            char *buf = malloc((size_t)sb.st_size + 1);
            size_t got = buf ? fread(buf, 1, (size_t)sb.st_size, f) : 0;
            fclose(f);
            if (buf && got == (size_t)sb.st_size) {
                if (objs)
                    load_objects(l, path, buf, got);
                else
                    load_scenario(l, path, buf, got, 0);
            } else {
                report(l, path, 0, "cannot read");
            }
            free(buf);
        }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return 0;
}

int sim_catalog_add_text(dh_sim_catalog *c, const char *origin, const char *text, size_t len,
                         dh_sim_diag_fn diag, void *ctx)
{
    loader l = {c, diag, ctx, 0};
    load_scenario(&l, origin, text, len, 0);
    qsort(c->v, c->n, sizeof *c->v, cmp_scenario);
    return l.refused ? -1 : 0;
}

dh_status dh_sim_catalog_load(const char *dir, dh_sim_diag_fn diag, void *ctx, dh_sim_catalog **out)
{
    if (!out)
        return DH_ERR_ARG;
    dh_sim_catalog *c = calloc(1, sizeof *c);
    if (!c)
        return DH_ERR_NOMEM;
    loader l = {c, diag, ctx, 0};
    for (int pass = 0; pass < 2; pass++)
        for (const struct dh_builtin_scenario *b = dh_builtin_scenarios; b->name; b++) {
            int objs = !strcmp(b->name, "objects.yml");
            if (objs != (pass == 0))
                continue;
            char origin[256];
            snprintf(origin, sizeof origin, "builtin:scenarios/%s", b->name);
            if (objs)
                load_objects(&l, origin, (const char *)b->data, b->len);
            else
                load_scenario(&l, origin, (const char *)b->data, b->len, 1);
        }
    if (dir)
        load_dir(&l, dir);
    /* attacks, failures, benign activity, cousins; by name within each */
    qsort(c->v, c->n, sizeof *c->v, cmp_scenario);
    *out = c;
    return l.refused ? DH_ERR_FORMAT : DH_OK;
}

void dh_sim_catalog_free(dh_sim_catalog *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        snode_free(c->v[i]->root);
        free(c->v[i]);
    }
    free(c->v);
    for (size_t i = 0; i < c->nroots; i++)
        snode_free(c->roots[i]);
    free(c->roots);
    free(c->objects);
    sim_arena_free(&c->arena);
    free(c);
}

size_t dh_sim_catalog_count(const dh_sim_catalog *c)
{
    return c ? c->n : 0;
}

const dh_sim_scenario *dh_sim_catalog_get(const dh_sim_catalog *c, size_t i)
{
    return c && i < c->n ? c->v[i] : NULL;
}

const dh_sim_scenario *dh_sim_catalog_find(const dh_sim_catalog *c, const char *name)
{
    for (size_t i = 0; c && i < c->n; i++)
        if (!strcmp(c->v[i]->name, name))
            return c->v[i];
    return NULL;
}

const sim_object *sim_object_find(const dh_sim_catalog *c, const char *name)
{
    for (size_t i = 0; i < c->nobjects; i++)
        if (!strcmp(c->objects[i].name, name))
            return &c->objects[i];
    return NULL;
}

const char *dh_sim_scenario_name(const dh_sim_scenario *s)
{
    return s->name;
}
const char *dh_sim_scenario_title(const dh_sim_scenario *s)
{
    return s->title;
}
const char *dh_sim_scenario_kind(const dh_sim_scenario *s)
{
    return s->kind;
}
const char *dh_sim_scenario_description(const dh_sim_scenario *s)
{
    return s->description;
}
const char *dh_sim_scenario_origin(const dh_sim_scenario *s)
{
    return s->origin;
}
