/* libarchive loaded on first use (archive_lazy.h): opened by its soname, every call the
 * readers make looked up once, each wrapper forwarding to it. */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "core/dlsym.h"
#include "input/archive_lazy.h"

#ifndef DH_ARCHIVE_SONAME
#error "the build names libarchive's shared library (CMakeLists.txt: DH_ARCHIVE_SONAME)"
#endif

/* The header's macros would rename the library's own names below. */
#undef archive_read_new
#undef archive_read_free
#undef archive_read_support_filter_all
#undef archive_read_support_format_7zip
#undef archive_read_support_format_empty
#undef archive_read_support_format_raw
#undef archive_read_support_format_tar
#undef archive_read_support_format_zip
#undef archive_read_open
#undef archive_read_open_filename
#undef archive_read_open_memory
#undef archive_read_next_header
#undef archive_read_data
#undef archive_filter_bytes
#undef archive_format
#undef archive_error_string
#undef archive_entry_pathname
#undef archive_entry_filetype

static struct {
    __typeof__(&archive_read_new) read_new;
    __typeof__(&archive_read_free) read_free;
    __typeof__(&archive_read_support_filter_all) filter_all;
    __typeof__(&archive_read_support_format_7zip) format_7zip;
    __typeof__(&archive_read_support_format_empty) format_empty;
    __typeof__(&archive_read_support_format_raw) format_raw;
    __typeof__(&archive_read_support_format_tar) format_tar;
    __typeof__(&archive_read_support_format_zip) format_zip;
    __typeof__(&archive_read_open) open;
    __typeof__(&archive_read_open_filename) open_filename;
    __typeof__(&archive_read_open_memory) open_memory;
    __typeof__(&archive_read_next_header) next_header;
    __typeof__(&archive_read_data) read_data;
    __typeof__(&archive_filter_bytes) filter_bytes;
    __typeof__(&archive_format) format;
    __typeof__(&archive_error_string) error_string;
    __typeof__(&archive_entry_pathname) entry_pathname;
    __typeof__(&archive_entry_filetype) entry_filetype;
} la;
static int loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define SYM(h, field, name) dh_dlsym_fn(h, #name, &la.field, sizeof la.field)

static void load(void)
{
    void *h = dlopen(DH_ARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
    int bad = SYM(h, read_new, archive_read_new) | SYM(h, read_free, archive_read_free) |
              SYM(h, filter_all, archive_read_support_filter_all) |
              SYM(h, format_7zip, archive_read_support_format_7zip) |
              SYM(h, format_empty, archive_read_support_format_empty) |
              SYM(h, format_raw, archive_read_support_format_raw) |
              SYM(h, format_tar, archive_read_support_format_tar) |
              SYM(h, format_zip, archive_read_support_format_zip) |
              SYM(h, open, archive_read_open) | SYM(h, open_filename, archive_read_open_filename) |
              SYM(h, open_memory, archive_read_open_memory) |
              SYM(h, next_header, archive_read_next_header) | SYM(h, read_data, archive_read_data) |
              SYM(h, filter_bytes, archive_filter_bytes) | SYM(h, format, archive_format) |
              SYM(h, error_string, archive_error_string) |
              SYM(h, entry_pathname, archive_entry_pathname) |
              SYM(h, entry_filetype, archive_entry_filetype);
    loaded = !bad;
}

struct archive *dh_archive_read_new(void)
{
    pthread_once(&once, load);
    return loaded ? la.read_new() : NULL;
}

/* The calls below are reached only with an archive dh_archive_read_new made (so the
 * library is loaded); the checks keep a stray call harmless. */
int dh_archive_read_free(struct archive *a)
{
    return a && loaded ? la.read_free(a) : ARCHIVE_OK;
}

int dh_archive_read_support_filter_all(struct archive *a)
{
    return loaded ? la.filter_all(a) : ARCHIVE_FATAL;
}

int dh_archive_read_support_format_7zip(struct archive *a)
{
    return loaded ? la.format_7zip(a) : ARCHIVE_FATAL;
}

int dh_archive_read_support_format_empty(struct archive *a)
{
    return loaded ? la.format_empty(a) : ARCHIVE_FATAL;
}

int dh_archive_read_support_format_raw(struct archive *a)
{
    return loaded ? la.format_raw(a) : ARCHIVE_FATAL;
}

int dh_archive_read_support_format_tar(struct archive *a)
{
    return loaded ? la.format_tar(a) : ARCHIVE_FATAL;
}

int dh_archive_read_support_format_zip(struct archive *a)
{
    return loaded ? la.format_zip(a) : ARCHIVE_FATAL;
}

int dh_archive_read_open(struct archive *a, void *data, archive_open_callback *op,
                         archive_read_callback *rd, archive_close_callback *cl)
{
    return loaded ? la.open(a, data, op, rd, cl) : ARCHIVE_FATAL;
}

int dh_archive_read_open_filename(struct archive *a, const char *name, size_t block)
{
    return loaded ? la.open_filename(a, name, block) : ARCHIVE_FATAL;
}

int dh_archive_read_open_memory(struct archive *a, const void *buf, size_t size)
{
    return loaded ? la.open_memory(a, buf, size) : ARCHIVE_FATAL;
}

int dh_archive_read_next_header(struct archive *a, struct archive_entry **e)
{
    return loaded ? la.next_header(a, e) : ARCHIVE_FATAL;
}

la_ssize_t dh_archive_read_data(struct archive *a, void *buf, size_t size)
{
    return loaded ? la.read_data(a, buf, size) : ARCHIVE_FATAL;
}

la_int64_t dh_archive_filter_bytes(struct archive *a, int n)
{
    return loaded ? la.filter_bytes(a, n) : 0;
}

int dh_archive_format(struct archive *a)
{
    return loaded ? la.format(a) : 0;
}

const char *dh_archive_error_string(struct archive *a)
{
    return loaded ? la.error_string(a) : "libarchive could not be loaded";
}

const char *dh_archive_entry_pathname(struct archive_entry *e)
{
    return loaded ? la.entry_pathname(e) : NULL;
}

__LA_MODE_T dh_archive_entry_filetype(struct archive_entry *e)
{
    return loaded ? la.entry_filetype(e) : 0;
}
