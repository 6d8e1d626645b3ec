/* Graphviz opened when the HTML report first draws its host graph, not when dcomhunt
 * starts: linked in, its libraries (and their dependencies) were mapped and relocated by
 * every run, a share of start-up that no -j N shares. Used by html_graph.c only. */
#ifndef DH_OUTPUT_GV_LAZY_H
#define DH_OUTPUT_GV_LAZY_H

#include <gvc.h>
#include <gvplugin.h>

/* The graphviz calls html_graph.c makes, with the types graphviz's headers give them. */
typedef struct dh_gv_api {
    __typeof__(&agopen) agopen;
    __typeof__(&agclose) agclose;
    __typeof__(&agnode) agnode;
    __typeof__(&agedge) agedge;
    __typeof__(&agattr) agattr;
    __typeof__(&agsafeset) agsafeset;
    __typeof__(&agseterrf) agseterrf;
    __typeof__(&gvContextPlugins) gvContextPlugins;
    __typeof__(&gvLayout) gvLayout;
    __typeof__(&gvRenderData) gvRenderData;
    __typeof__(&gvFreeRenderData) gvFreeRenderData;
    __typeof__(&gvFreeLayout) gvFreeLayout;
    __typeof__(&gvFreeContext) gvFreeContext;
    Agdesc_t *directed;             /* cgraph's Agdirected */
    gvplugin_library_t *dot_layout; /* the two plugins handed to gvContextPlugins */
    gvplugin_library_t *core;
} dh_gv_api;

/* The calls, graphviz loaded on the first call (thread-safe); NULL when it cannot be
 * loaded (not installed where the build found it), the same answer on every call. The
 * libraries stay loaded until the process ends. */
const dh_gv_api *dh_gv_api_get(void);

#endif
