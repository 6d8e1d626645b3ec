/* The knowledge table of COM objects (rules/knowledge/com-objects.yml, docs/com-objects.md),
 * as the correlator and the guides ask it: which object a CLSID, an AppID, a ProgID or a
 * tool's name means, which object a COM server process start serves (its image and
 * command-line shape), which object a process accepting remote connections serves.
 *
 * A dh_comdb is immutable once built: lookups are safe from any thread. Strings returned
 * are owned by the table. */
#ifndef DH_CORRELATE_COMDB_H
#define DH_CORRELATE_COMDB_H

#include <stddef.h>

#include "dcomhunt/correlate.h"

typedef struct com_server {
    char *image;  /* basename, lowercase */
    char **shape; /* command-line markers that must all be there ("-Embedding", "/automation") */
    size_t nshape;
    int in_explorer; /* served inside the running explorer.exe (no process of its own) */
    int helper;      /* a helper started for the activation, not the serving process */
} com_server;

typedef struct dh_com_object {
    char *name;
    char **clsids; /* "{...}", uppercase */
    size_t nclsids;
    char *appid; /* "{...}" or "" */
    char **progids, **aliases, **methods;
    size_t nprogids, naliases, nmethods;
    com_server *servers;
    size_t nservers;
    int lateral; /* 1: used for lateral movement; 0: a cousin (WMI, WinRM, local brokers) */
    dh_level severity;
    char *technique; /* for cousins: the technique it belongs to ("T1047"), or "" */
    char *hardening; /* how to take remote activation away from it, or "" */
} dh_com_object;

size_t comdb_count(const dh_comdb *db);
const dh_com_object *comdb_at(const dh_comdb *db, size_t i);
/* A CLSID or an AppID, with or without braces, any case. */
const dh_com_object *comdb_by_guid(const dh_comdb *db, dh_str guid);
/* The object's name, a ProgID (a version suffix such as ".1" or ".16" is ignored) or a name
 * a tool gives it (Impacket's -object, Invoke-DCOM's -Method, SharpMove's method=). */
const dh_com_object *comdb_by_name(const dh_comdb *db, dh_str name);
/* The first GUID in text that names a known object (a command line with -CLSID:{...} or
 * /Processid:{...}, a registry path HKCR\CLSID\{...}, a script). */
const dh_com_object *comdb_in_text(const dh_comdb *db, dh_str text);
/* The object served by a process the DCOM launcher started: by a GUID of its command line,
 * else by its image and command-line shape. NULL when unknown. *embedding is set when the
 * command line has a COM server marker (-Embedding, /automation) or matched a shape. */
const dh_com_object *comdb_by_start(const dh_comdb *db, dh_str image, dh_str cmdline,
                                    int *embedding);
/* The lateral-movement object served by a process of this image to remote callers (an
 * inbound connection accepted by mmc.exe means MMC20.Application; by explorer.exe,
 * ShellWindows); NULL if none. */
const dh_com_object *comdb_by_listener(const dh_comdb *db, dh_str image);
/* Is the image (a path or a basename) one that serves a lateral-movement object? */
int comdb_is_server_image(const dh_comdb *db, dh_str image);

/* A basename of a Windows or POSIX path, lowercased into buf (cut to cap - 1). */
const char *comdb_base_lower(dh_str path, char *buf, size_t cap);

#endif
