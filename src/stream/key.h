/* The candidates topic's key: which stage-2 partition a candidate must reach so that the
 * correlator there holds every record it correlates with (docs/stream.md, "Keys"). A
 * correlation is about a target host: its own records go under its name, and a record
 * logged on a source host that names the target (a script or command line naming the
 * computer of a remote activation, explicit credentials for it, a DCOM failure to reach it,
 * an outbound connection to it) goes under the target's name too. A target named by an
 * address is the host that owns the address: the address map (dh_idmap) is learnt from
 * every host's own outbound connections, as the correlator learns it, and shared between
 * stage-1 instances through the identities topic (identities.c).
 *
 * A key is a host's bare name (the part before the first dot, lower case: what the
 * correlator compares hosts by), or an address no host is known to own, as written in
 * lower case (the correlator names such a host by its address). Nothing here talks to
 * Kafka, prints or allocates beyond the map's bounded tables. */
#ifndef DH_STREAM_KEY_H
#define DH_STREAM_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/event.h"

#define DH_KEY_CAP  128 /* a key's bytes with its NUL (the correlator's target limit) */
#define DH_KEY_MAXN 4   /* keys of one candidate at most (more targets: the first ones) */

/* One place a candidate must go: a host's bare name, or an address still to resolve. */
typedef struct dh_keyref {
    char text[DH_KEY_CAP]; /* lower case */
    unsigned char addr;    /* 1: an address, resolved through the map when produced */
} dh_keyref;

typedef struct dh_keyset {
    dh_keyref k[DH_KEY_MAXN];
    size_t n;  /* at least 1: a record goes at least under its own host */
    int64_t t; /* the event's time (an address is owned near a time) */
} dh_keyset;

/* Where the event must go (never empty: a record without a host goes under "-"). */
void dh_key_refs(const dh_event *ev, dh_keyset *out);

/* An address's owner as a host learnt it: address and bare name, both lower case. */
typedef struct dh_key_binding {
    char addr[48];
    char host[DH_KEY_CAP];
    int64_t t;
} dh_key_binding;

/* The bindings the event teaches (the local end of a connection logged on its host), at
 * most 2, as the correlator learns a host's own addresses. */
size_t dh_key_learn(const dh_event *ev, dh_key_binding out[2]);

/* The address map: address -> the hosts that owned it and when. Bounded: at most cap
 * addresses (then new ones are not learnt), a few owners each (the oldest replaced). */
typedef struct dh_idmap dh_idmap;
dh_idmap *dh_idmap_new(size_t cap);
void dh_idmap_free(dh_idmap *m);
/* 1 when the binding is new (or moves the address to another host), 0 when known, -1
 * when refused (not an address, a bad host name, the map full). */
int dh_idmap_bind(dh_idmap *m, const dh_key_binding *b);
/* The owner of addr near t (within the correlator's 12 hours), NULL if none. */
const char *dh_idmap_owner(const dh_idmap *m, const char *addr, int64_t t);
size_t dh_idmap_count(const dh_idmap *m);

/* The key a ref stands for: 1 and out set when resolved (a name, or an address the map
 * binds), 0 with out = the address when no binding is known (yet). */
int dh_key_resolve(const dh_idmap *m, const dh_keyref *r, int64_t t, char out[DH_KEY_CAP]);

/* The identities topic's value for a binding ("host time") and its reading back: 0 when
 * the bytes are no binding (hostile input: refused whole). */
size_t dh_key_binding_value(const dh_key_binding *b, char *out, size_t cap);
int dh_key_binding_parse(const void *key, size_t klen, const void *val, size_t vlen,
                         dh_key_binding *out);

/* The computers a text names as the target of a remote COM activation (the shapes the
 * technique takes: GetTypeFromProgID/CLSID, CreateObject, ActiveXObject with a computer;
 * Invoke-DCOM and similar tools' -ComputerName; module logging's parameter binding;
 * Impacket's user@target; NetExec's mmcexec). Slices into text, or into var values of it. At
 * most max; returns how many. */
size_t dh_key_mentions(dh_str text, dh_str *out, size_t max);

#endif
