/* Graphviz loaded on first use (gv_lazy.h): the two plugins by the paths the build found
 * them at (they live outside the loader's search path), graphviz's own libraries by their
 * sonames; every symbol html_graph.c calls is looked up once. */
#include "output/gv_lazy.h"

#include "core/dlsym.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#if !defined(DH_GV_GVC) || !defined(DH_GV_CGRAPH) || !defined(DH_GV_DOT) || !defined(DH_GV_CORE)
#error "the build names graphviz's libraries (CMakeLists.txt: DH_GV_*)"
#endif

static dh_gv_api api;
static const dh_gv_api *loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define SYM(h, f) dh_dlsym_fn(h, #f, &api.f, sizeof api.f)

static void load(void)
{
    /* RTLD_LOCAL: nothing of graphviz joins the global scope; the plugins name libgvc and
     * libcgraph as their own dependencies, so they bind to the copies opened here. */
    void *gvc = dlopen(DH_GV_GVC, RTLD_NOW | RTLD_LOCAL);
    void *cg = dlopen(DH_GV_CGRAPH, RTLD_NOW | RTLD_LOCAL);
    void *dot = dlopen(DH_GV_DOT, RTLD_NOW | RTLD_LOCAL);
    void *core = dlopen(DH_GV_CORE, RTLD_NOW | RTLD_LOCAL);
    if (!gvc || !cg || !dot || !core)
        return;
    int bad = SYM(cg, agopen) | SYM(cg, agclose) | SYM(cg, agnode) | SYM(cg, agedge) |
              SYM(cg, agattr) | SYM(cg, agsafeset) | SYM(cg, agseterrf) |
              SYM(gvc, gvContextPlugins) | SYM(gvc, gvLayout) | SYM(gvc, gvRenderData) |
              SYM(gvc, gvFreeRenderData) | SYM(gvc, gvFreeLayout) | SYM(gvc, gvFreeContext);
    api.directed = dlsym(cg, "Agdirected");
    api.dot_layout = dlsym(dot, "gvplugin_dot_layout_LTX_library");
    api.core = dlsym(core, "gvplugin_core_LTX_library");
    if (!bad && api.directed && api.dot_layout && api.core)
        loaded = &api;
}

const dh_gv_api *dh_gv_api_get(void)
{
    pthread_once(&once, load);
    return loaded;
}
