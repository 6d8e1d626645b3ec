/* libarchive opened when the first archive is met, not when dcomhunt starts: linked in,
 * it and what it links (libxml2, ICU, libstdc++, the compression libraries) were mapped
 * and relocated by every run, most of the dynamic loader's share of start-up, which no
 * -j N shares (docs/internals/performance.md). The files that read archives (archive.c,
 * stream.c, scan.c) include this header instead of <archive.h>: the libarchive calls they
 * make are redirected to the wrappers below, which load the library on first use. */
#ifndef DH_INPUT_ARCHIVE_LAZY_H
#define DH_INPUT_ARCHIVE_LAZY_H

#include <archive.h>
#include <archive_entry.h>

/* NULL, as when out of memory, when libarchive cannot be loaded. Every other call takes
 * what only a successful dh_archive_read_new (or a header it read) gives. */
struct archive *dh_archive_read_new(void);
int dh_archive_read_free(struct archive *a);
int dh_archive_read_support_filter_all(struct archive *a);
int dh_archive_read_support_format_7zip(struct archive *a);
int dh_archive_read_support_format_empty(struct archive *a);
int dh_archive_read_support_format_raw(struct archive *a);
int dh_archive_read_support_format_tar(struct archive *a);
int dh_archive_read_support_format_zip(struct archive *a);
int dh_archive_read_open(struct archive *a, void *data, archive_open_callback *op,
                         archive_read_callback *rd, archive_close_callback *cl);
int dh_archive_read_open_filename(struct archive *a, const char *name, size_t block);
int dh_archive_read_open_memory(struct archive *a, const void *buf, size_t size);
int dh_archive_read_next_header(struct archive *a, struct archive_entry **e);
la_ssize_t dh_archive_read_data(struct archive *a, void *buf, size_t size);
la_int64_t dh_archive_filter_bytes(struct archive *a, int n);
int dh_archive_format(struct archive *a);
const char *dh_archive_error_string(struct archive *a);
const char *dh_archive_entry_pathname(struct archive_entry *e);
__LA_MODE_T dh_archive_entry_filetype(struct archive_entry *e);

#define archive_read_new                  dh_archive_read_new
#define archive_read_free                 dh_archive_read_free
#define archive_read_support_filter_all   dh_archive_read_support_filter_all
#define archive_read_support_format_7zip  dh_archive_read_support_format_7zip
#define archive_read_support_format_empty dh_archive_read_support_format_empty
#define archive_read_support_format_raw   dh_archive_read_support_format_raw
#define archive_read_support_format_tar   dh_archive_read_support_format_tar
#define archive_read_support_format_zip   dh_archive_read_support_format_zip
#define archive_read_open                 dh_archive_read_open
#define archive_read_open_filename        dh_archive_read_open_filename
#define archive_read_open_memory          dh_archive_read_open_memory
#define archive_read_next_header          dh_archive_read_next_header
#define archive_read_data                 dh_archive_read_data
#define archive_filter_bytes              dh_archive_filter_bytes
#define archive_format                    dh_archive_format
#define archive_error_string              dh_archive_error_string
#define archive_entry_pathname            dh_archive_entry_pathname
#define archive_entry_filetype            dh_archive_entry_filetype

#endif
