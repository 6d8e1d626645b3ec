/* dlsym's answer stored into a function pointer: through memcpy, since ISO C has no
 * conversion from an object pointer to a function pointer. */
#include "core/dlsym.h"

#include <dlfcn.h>
#include <string.h>

int dh_dlsym_fn(void *h, const char *name, void *fn, size_t size)
{
    void *p = dlsym(h, name);
    if (!p || size != sizeof p)
        return -1;
    memcpy(fn, &p, sizeof p);
    return 0;
}
