/* Libraries opened on first use (input/archive_lazy.c, output/gv_lazy.c): a symbol looked
 * up into a function pointer. */
#ifndef DH_CORE_DLSYM_H
#define DH_CORE_DLSYM_H

#include <stddef.h>

/* dlsym(h, name) stored into the function pointer at fn (of size bytes); -1 when the
 * symbol is missing or a function pointer is not the size of an object pointer. */
int dh_dlsym_fn(void *h, const char *name, void *fn, size_t size);

#endif
