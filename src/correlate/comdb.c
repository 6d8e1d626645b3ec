/* The knowledge table of COM objects: read from YAML (the built-in file embedded at build
 * time, then the user's files), answered by lookups the correlator and the guides make.
 * Tables of a few dozen rows: lookups scan them, except the server-image test, which runs
 * on every image-load event and uses a sorted list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "correlate/comdb.h"
#include "core/strdup.h"

#define MAX_OBJECTS 4096 /* rows a table may hold (user files included) */

struct dh_comdb {
    dh_com_object *v;
    size_t n, cap;
    char **server_images; /* sorted basenames of lateral-movement servers */
    size_t nserver_images;
};

struct dh_builtin_knowledge {
    const char *name;
    const unsigned char *data;
    size_t len;
};
extern const struct dh_builtin_knowledge dh_builtin_knowledge[];

/* ---- freeing ----------------------------------------------------------------------------- */

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void object_free(dh_com_object *o)
{
    free(o->name);
    free_list(o->clsids, o->nclsids);
    free(o->appid);
    free_list(o->progids, o->nprogids);
    free_list(o->aliases, o->naliases);
    free_list(o->methods, o->nmethods);
    for (size_t i = 0; i < o->nservers; i++) {
        free(o->servers[i].image);
        free_list(o->servers[i].shape, o->servers[i].nshape);
    }
    free(o->servers);
    free(o->technique);
    free(o->hardening);
    memset(o, 0, sizeof *o);
}

void dh_comdb_free(dh_comdb *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->n; i++)
        object_free(&db->v[i]);
    free(db->v);
    free(db->server_images);
    free(db);
}

/* ---- small string helpers ---------------------------------------------------------------- */

const char *comdb_base_lower(dh_str path, char *buf, size_t cap)
{
    size_t s = 0;
    for (size_t i = 0; i < path.len; i++)
        if (path.ptr[i] == '\\' || path.ptr[i] == '/')
            s = i + 1;
    size_t n = path.len - s;
    /* quoted paths ("C:\...\cmd.exe") keep no quote */
    while (n && (path.ptr[s + n - 1] == '"' || path.ptr[s + n - 1] == ' '))
        n--;
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++) {
        char ch = path.ptr[s + i];
        buf[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    buf[n] = 0;
    return buf;
}

static int hexdigit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The 36 characters of a GUID at p (8-4-4-4-12 hex digits), or 0. */
static int guid_at(const char *p, size_t n)
{
    static const int dash[] = {8, 13, 18, 23};
    if (n < 36)
        return 0;
    for (size_t i = 0, d = 0; i < 36; i++) {
        if (d < 4 && (int)i == dash[d]) {
            if (p[i] != '-')
                return 0;
            d++;
        } else if (!hexdigit(p[i])) {
            return 0;
        }
    }
    return 1;
}

/* A GUID as the table stores it: "{...}" in uppercase; 0 if s is no GUID. */
static int norm_guid(dh_str s, char out[39])
{
    size_t a = 0, n = s.len;
    while (a < n && (s.ptr[a] == ' ' || s.ptr[a] == '"' || s.ptr[a] == '\''))
        a++;
    while (n > a && (s.ptr[n - 1] == ' ' || s.ptr[n - 1] == '"' || s.ptr[n - 1] == '\''))
        n--;
    if (a < n && s.ptr[a] == '{')
        a++;
    if (n > a && s.ptr[n - 1] == '}')
        n--;
    if (n - a != 36 || !guid_at(s.ptr + a, 36))
        return 0;
    out[0] = '{';
    for (size_t i = 0; i < 36; i++) {
        char c = s.ptr[a + i];
        out[1 + i] = (char)(c >= 'a' && c <= 'f' ? c - 32 : c);
    }
    out[37] = '}';
    out[38] = 0;
    return 1;
}

/* ---- loading ----------------------------------------------------------------------------- */

typedef struct loader {
    yaml_document_t *doc;
    const char *origin;
    dh_error *err;
    dh_status st; /* what went wrong: DH_ERR_FORMAT, or DH_ERR_NOMEM */
} loader;

static int fail(loader *L, const yaml_node_t *n, const char *msg)
{
    L->st = strcmp(msg, "out of memory") ? DH_ERR_FORMAT : DH_ERR_NOMEM;
    if (L->err) {
        memset(L->err, 0, sizeof *L->err);
        L->err->status = DH_ERR_FORMAT;
        L->err->chunk = -1;
        snprintf(L->err->file, sizeof L->err->file, "%s", L->origin);
        if (n)
            snprintf(L->err->message, sizeof L->err->message, "line %lu: %s",
                     (unsigned long)n->start_mark.line + 1, msg);
        else
            snprintf(L->err->message, sizeof L->err->message, "%s", msg);
    }
    return -1;
}

static yaml_node_t *node(loader *L, int i)
{
    return i ? yaml_document_get_node(L->doc, i) : NULL;
}

static yaml_node_t *get(loader *L, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node(L, p->key);
        if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
            return node(L, p->value);
    }
    return NULL;
}

static int scalar(loader *L, yaml_node_t *n, const char *what, char **out)
{
    *out = NULL;
    if (!n)
        return 0;
    if (n->type != YAML_SCALAR_NODE)
        return fail(L, n, what);
    *out = dh_strndup((const char *)n->data.scalar.value, n->data.scalar.length);
    if (!*out)
        return fail(L, n, "out of memory");
    return 0;
}

/* A scalar or a list of scalars. */
static int strings(loader *L, yaml_node_t *n, const char *what, char ***out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (!n)
        return 0;
    if (n->type == YAML_SCALAR_NODE) {
        if (!n->data.scalar.length)
            return 0;
        *out = calloc(1, sizeof **out);
        if (!*out || scalar(L, n, what, &(*out)[0]))
            return fail(L, n, "out of memory");
        *nout = 1;
        return 0;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(L, n, what);
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    *out = calloc(cnt ? cnt : 1, sizeof **out);
    if (!*out)
        return fail(L, n, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *e = node(L, n->data.sequence.items.start[i]);
        if (!e || e->type != YAML_SCALAR_NODE)
            return fail(L, e ? e : n, what);
        if (scalar(L, e, what, &(*out)[*nout]))
            return -1;
        (*nout)++;
    }
    return 0;
}

static int boolean(loader *L, yaml_node_t *n, const char *what, int *out)
{
    if (!n)
        return 0;
    const char *v = n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "";
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes"))
        *out = 1;
    else if (!strcasecmp(v, "false") || !strcasecmp(v, "no"))
        *out = 0;
    else
        return fail(L, n, what);
    return 0;
}

static int load_servers(loader *L, yaml_node_t *n, dh_com_object *o)
{
    if (!n)
        return 0;
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(L, n, "servers: a list of {image, shape, host} is wanted");
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    o->servers = calloc(cnt ? cnt : 1, sizeof *o->servers);
    if (!o->servers)
        return fail(L, n, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *e = node(L, n->data.sequence.items.start[i]);
        com_server *s = &o->servers[o->nservers];
        if (!e || e->type != YAML_MAPPING_NODE)
            return fail(L, e ? e : n, "servers: each server is a mapping with an image");
        if (scalar(L, get(L, e, "image"), "servers: image is a file name", &s->image))
            return -1;
        o->nservers++;
        if (!s->image || !*s->image)
            return fail(L, e, "servers: image is required");
        char tmp[256];
        comdb_base_lower((dh_str){s->image, strlen(s->image)}, tmp, sizeof tmp);
        memcpy(s->image, tmp, strlen(tmp) + 1);
        if (strings(L, get(L, e, "shape"), "servers: shape is a list of command-line markers",
                    &s->shape, &s->nshape))
            return -1;
        char *host = NULL;
        if (scalar(L, get(L, e, "host"), "servers: host is explorer or absent", &host))
            return -1;
        if (host && strcasecmp(host, "explorer")) {
            free(host);
            return fail(L, e, "servers: host is explorer or absent");
        }
        s->in_explorer = host != NULL;
        free(host);
        if (boolean(L, get(L, e, "helper"), "servers: helper is true or false", &s->helper))
            return -1;
    }
    return 0;
}

static int load_object(loader *L, yaml_node_t *n, dh_com_object *o)
{
    memset(o, 0, sizeof *o);
    o->severity = DH_LEVEL_HIGH;
    if (!n || n->type != YAML_MAPPING_NODE)
        return fail(L, n, "objects: each object is a mapping");
    if (scalar(L, get(L, n, "name"), "name is text", &o->name))
        return -1;
    if (!o->name || !*o->name)
        return fail(L, n, "an object needs a name");
    if (strings(L, get(L, n, "clsid"), "clsid is a GUID or a list of them", &o->clsids,
                &o->nclsids))
        return -1;
    for (size_t i = 0; i < o->nclsids; i++) {
        char g[39];
        if (!norm_guid((dh_str){o->clsids[i], strlen(o->clsids[i])}, g))
            return fail(L, get(L, n, "clsid"), "clsid: not a GUID");
        free(o->clsids[i]);
        o->clsids[i] = dh_strndup(g, 38);
        if (!o->clsids[i])
            return fail(L, n, "out of memory");
    }
    if (scalar(L, get(L, n, "appid"), "appid is a GUID", &o->appid))
        return -1;
    if (o->appid) {
        char g[39];
        if (!norm_guid((dh_str){o->appid, strlen(o->appid)}, g))
            return fail(L, get(L, n, "appid"), "appid: not a GUID");
        memcpy(o->appid, g, 39);
    } else if (!(o->appid = dh_strndup("", 0))) {
        return fail(L, n, "out of memory");
    }
    if (strings(L, get(L, n, "progid"), "progid is a name or a list", &o->progids, &o->nprogids) ||
        strings(L, get(L, n, "aliases"), "aliases is a list of names", &o->aliases, &o->naliases) ||
        strings(L, get(L, n, "methods"), "methods is a list of names", &o->methods, &o->nmethods) ||
        load_servers(L, get(L, n, "servers"), o))
        return -1;
    int lateral = 0;
    if (boolean(L, get(L, n, "lateral"), "lateral is true or false", &lateral))
        return -1;
    o->lateral = lateral;
    char *sev = NULL;
    if (scalar(L, get(L, n, "severity"), "severity is a level", &sev))
        return -1;
    if (sev && dh_level_parse(sev, &o->severity)) {
        free(sev);
        return fail(L, get(L, n, "severity"),
                    "severity: informational, low, medium, high or "
                    "critical");
    }
    free(sev);
    if (scalar(L, get(L, n, "technique"), "technique is text", &o->technique) ||
        scalar(L, get(L, n, "hardening"), "hardening is text", &o->hardening))
        return -1;
    if ((!o->technique && !(o->technique = dh_strndup("", 0))) ||
        (!o->hardening && !(o->hardening = dh_strndup("", 0))))
        return fail(L, n, "out of memory");
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted list of lateral-movement server images, after every change of the table. */
static dh_status index_images(dh_comdb *db)
{
    size_t n = 0;
    for (size_t i = 0; i < db->n; i++)
        n += db->v[i].lateral ? db->v[i].nservers : 0;
    char **v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return DH_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < db->n; i++)
        for (size_t s = 0; db->v[i].lateral && s < db->v[i].nservers; s++)
            if (!db->v[i].servers[s].helper)
                v[k++] = db->v[i].servers[s].image;
    qsort(v, k, sizeof *v, cmp_str);
    free(db->server_images);
    db->server_images = v;
    db->nserver_images = k;
    return DH_OK;
}

dh_status dh_comdb_add_text(dh_comdb *db, const char *text, size_t len, const char *origin,
                            dh_error *err)
{
    yaml_parser_t p;
    yaml_document_t doc;
    loader L = {&doc, origin ? origin : "", err, DH_OK};
    if (!yaml_parser_initialize(&p))
        return DH_ERR_NOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &doc)) {
        char msg[200];
        snprintf(msg, sizeof msg, "line %lu: %s", (unsigned long)p.problem_mark.line + 1,
                 p.problem ? p.problem : "not YAML");
        yaml_parser_delete(&p);
        fail(&L, NULL, msg);
        return DH_ERR_FORMAT;
    }
    yaml_parser_delete(&p);
    dh_status st = DH_OK;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    yaml_node_t *objs = get(&L, root, "objects");
    if (!objs || objs->type != YAML_SEQUENCE_NODE) {
        fail(&L, root, "no 'objects:' list");
        st = DH_ERR_FORMAT;
        goto out;
    }
    for (yaml_node_item_t *it = objs->data.sequence.items.start; it < objs->data.sequence.items.top;
         it++) {
        dh_com_object o;
        if (load_object(&L, node(&L, *it), &o)) {
            object_free(&o);
            st = L.st;
            goto out;
        }
        /* a row naming a known object replaces it */
        size_t k;
        for (k = 0; k < db->n; k++)
            if (!strcasecmp(db->v[k].name, o.name))
                break;
        if (k < db->n) {
            object_free(&db->v[k]);
            db->v[k] = o;
            continue;
        }
        if (db->n == MAX_OBJECTS) {
            object_free(&o);
            fail(&L, node(&L, *it), "too many objects (at most 4096)");
            st = DH_ERR_FORMAT;
            goto out;
        }
        if (db->n == db->cap) {
            size_t cap = db->cap ? db->cap * 2 : 32;
            dh_com_object *v = realloc(db->v, cap * sizeof *v);
            if (!v) {
                object_free(&o);
                st = DH_ERR_NOMEM;
                goto out;
            }
            db->v = v;
            db->cap = cap;
        }
        db->v[db->n++] = o;
    }
out:
    yaml_document_delete(&doc);
    if (st == DH_OK)
        st = index_images(db);
    return st;
}

dh_status dh_comdb_add_file(dh_comdb *db, const char *path, dh_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err) {
            memset(err, 0, sizeof *err);
            err->status = DH_ERR_IO;
            err->chunk = -1;
            snprintf(err->file, sizeof err->file, "%s", path);
            snprintf(err->message, sizeof err->message, "cannot open the file");
        }
        return DH_ERR_IO;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    dh_status st = DH_OK;
    for (;;) {
        if (len == cap) {
            if (cap >= (16u << 20)) { /* a knowledge table, not a dump */
                st = DH_ERR_FORMAT;
                if (err) {
                    memset(err, 0, sizeof *err);
                    err->status = st;
                    err->chunk = -1;
                    snprintf(err->file, sizeof err->file, "%s", path);
                    snprintf(err->message, sizeof err->message, "larger than 16 MiB");
                }
                break;
            }
            cap = cap ? cap * 2 : 65536;
            char *t = realloc(text, cap);
            if (!t) {
                st = DH_ERR_NOMEM;
                break;
            }
            text = t;
        }
        size_t r = fread(text + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    if (st == DH_OK && ferror(f))
        st = DH_ERR_IO;
    fclose(f);
    if (st == DH_OK)
        st = dh_comdb_add_text(db, text, len, path, err);
    free(text);
    return st;
}

dh_status dh_comdb_new(dh_comdb **out)
{
    if (!out)
        return DH_ERR_ARG;
    dh_comdb *db = calloc(1, sizeof *db);
    if (!db)
        return DH_ERR_NOMEM;
    for (const struct dh_builtin_knowledge *k = dh_builtin_knowledge; k->name; k++) {
        char origin[256];
        snprintf(origin, sizeof origin, "builtin:rules/knowledge/%s", k->name);
        dh_error err;
        dh_status st = dh_comdb_add_text(db, (const char *)k->data, k->len, origin, &err);
        if (st != DH_OK) {
            dh_comdb_free(db);
            return st;
        }
    }
    if (index_images(db) != DH_OK) {
        dh_comdb_free(db);
        return DH_ERR_NOMEM;
    }
    *out = db;
    return DH_OK;
}

/* ---- lookups ----------------------------------------------------------------------------- */

size_t comdb_count(const dh_comdb *db)
{
    return db ? db->n : 0;
}

const dh_com_object *comdb_at(const dh_comdb *db, size_t i)
{
    return db && i < db->n ? &db->v[i] : NULL;
}

const dh_com_object *comdb_by_guid(const dh_comdb *db, dh_str guid)
{
    char g[39];
    if (!db || !norm_guid(guid, g))
        return NULL;
    for (size_t i = 0; i < db->n; i++) {
        for (size_t k = 0; k < db->v[i].nclsids; k++)
            if (!strcmp(db->v[i].clsids[k], g))
                return &db->v[i];
    }
    for (size_t i = 0; i < db->n; i++)
        if (!strcmp(db->v[i].appid, g))
            return &db->v[i];
    return NULL;
}

static int eq_ci(dh_str a, const char *b)
{
    size_t n = strlen(b);
    return a.len == n && !strncasecmp(a.ptr, b, n);
}

const dh_com_object *comdb_by_name(const dh_comdb *db, dh_str name)
{
    if (!db)
        return NULL;
    while (name.len && (name.ptr[0] == ' ' || name.ptr[0] == '"' || name.ptr[0] == '\'')) {
        name.ptr++;
        name.len--;
    }
    while (name.len && (name.ptr[name.len - 1] == ' ' || name.ptr[name.len - 1] == '"' ||
                        name.ptr[name.len - 1] == '\''))
        name.len--;
    if (!name.len)
        return NULL;
    /* "Excel.Application.16" is the version-dependent ProgID of Excel.Application */
    dh_str bare = name;
    size_t d = name.len;
    while (d && name.ptr[d - 1] >= '0' && name.ptr[d - 1] <= '9')
        d--;
    if (d && d < name.len && name.ptr[d - 1] == '.')
        bare.len = d - 1;
    for (size_t i = 0; i < db->n; i++) {
        const dh_com_object *o = &db->v[i];
        if (eq_ci(name, o->name))
            return o;
        for (size_t k = 0; k < o->nprogids; k++)
            if (eq_ci(name, o->progids[k]) || eq_ci(bare, o->progids[k]))
                return o;
    }
    for (size_t i = 0; i < db->n; i++)
        for (size_t k = 0; k < db->v[i].naliases; k++)
            if (eq_ci(name, db->v[i].aliases[k]))
                return &db->v[i];
    return comdb_by_guid(db, name);
}

/* Only positions with a dash where a GUID has its first one are tried (memchr finds
 * them): testing every byte was a tenth of the correlator's serial time on a Defender
 * capture (callgrind, 2026-12-07). The GUIDs tried, in order, are the byte loop's. */
const dh_com_object *comdb_in_text(const dh_comdb *db, dh_str text)
{
    size_t i = 0;
    while (db && i + 36 <= text.len) {
        const char *d = memchr(text.ptr + i + 8, '-', text.len - i - 35);
        if (!d)
            break;
        i = (size_t)(d - text.ptr) - 8;
        if (!guid_at(text.ptr + i, text.len - i)) {
            i++;
            continue;
        }
        const dh_com_object *o = comdb_by_guid(db, (dh_str){text.ptr + i, 36});
        if (o)
            return o;
        i += 36;
    }
    return NULL;
}

/* The positions in [p, end) holding byte a or byte b, in order: one memchr per byte value
 * kept ahead of the scan, instead of testing every byte. */
typedef struct either {
    const char *at_a, *at_b, *end;
    unsigned char a, b;
} either;

static void either_init(either *e, const char *p, const char *end, unsigned char a, unsigned char b)
{
    e->end = end;
    e->a = a;
    e->b = b;
    e->at_a = p < end ? memchr(p, a, (size_t)(end - p)) : NULL;
    e->at_b = b != a && p < end ? memchr(p, b, (size_t)(end - p)) : NULL;
}

static const char *either_next(either *e)
{
    const char *at = !e->at_b || (e->at_a && e->at_a < e->at_b) ? e->at_a : e->at_b;
    if (!at)
        return NULL;
    size_t left = (size_t)(e->end - at - 1);
    if (at == e->at_a)
        e->at_a = left ? memchr(at + 1, e->a, left) : NULL;
    else
        e->at_b = left ? memchr(at + 1, e->b, left) : NULL;
    return at;
}

/* Only positions whose first byte matches the needle's first letter in either case are
 * compared, in order, as a byte loop would. */
static int contains_ci(dh_str h, const char *n, size_t nl)
{
    if (!nl)
        return 1;
    if (h.len < nl)
        return 0;
    unsigned char c = (unsigned char)n[0];
    unsigned char lo = c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
    unsigned char up = c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
    either e;
    either_init(&e, h.ptr, h.ptr + (h.len - nl) + 1, lo, up);
    for (const char *at; (at = either_next(&e));)
        if (!strncasecmp(at + 1, n + 1, nl - 1))
            return 1;
    return 0;
}

/* A command-line marker: "-Embedding" matches -Embedding or /Embedding (Windows reads
 * both), "-CLSID:" a prefix; a marker without a dash is a plain substring. */
static int has_marker(dh_str cl, const char *m)
{
    if (*m != '-' && *m != '/')
        return contains_ci(cl, m, strlen(m));
    const char *w = m + 1;
    size_t wl = strlen(w);
    if (cl.len < 1 + wl)
        return 0;
    either e;
    either_init(&e, cl.ptr, cl.ptr + (cl.len - 1 - wl) + 1, '-', '/');
    for (const char *at; (at = either_next(&e));)
        if (!strncasecmp(at + 1, w, wl))
            return 1;
    return 0;
}

const dh_com_object *comdb_by_start(const dh_comdb *db, dh_str image, dh_str cmdline,
                                    int *embedding)
{
    *embedding = has_marker(cmdline, "-Embedding") || has_marker(cmdline, "/automation");
    if (!db)
        return NULL;
    /* -CLSID:{...}, /Processid:{AppID}, /factory,{...}: the command line names the object */
    const dh_com_object *o = comdb_in_text(db, cmdline);
    if (o)
        return o;
    char base[128];
    comdb_base_lower(image, base, sizeof base);
    for (size_t i = 0; i < db->n; i++)
        for (size_t s = 0; s < db->v[i].nservers; s++) {
            const com_server *sv = &db->v[i].servers[s];
            if (sv->in_explorer || strcmp(sv->image, base))
                continue;
            size_t k;
            for (k = 0; k < sv->nshape && has_marker(cmdline, sv->shape[k]); k++)
                ;
            if (k == sv->nshape) {
                if (sv->nshape)
                    *embedding = 1;
                return &db->v[i];
            }
        }
    return NULL;
}

const dh_com_object *comdb_by_listener(const dh_comdb *db, dh_str image)
{
    char base[128];
    comdb_base_lower(image, base, sizeof base);
    for (size_t i = 0; db && i < db->n; i++)
        for (size_t s = 0; db->v[i].lateral && s < db->v[i].nservers; s++)
            if (!db->v[i].servers[s].helper && !strcmp(db->v[i].servers[s].image, base))
                return &db->v[i];
    return NULL;
}

int comdb_is_server_image(const dh_comdb *db, dh_str image)
{
    if (!db || !db->nserver_images)
        return 0;
    char base[128];
    comdb_base_lower(image, base, sizeof base);
    const char *key = base;
    return bsearch(&key, db->server_images, db->nserver_images, sizeof *db->server_images,
                   cmp_str) != NULL;
}
