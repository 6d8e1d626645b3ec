/* Input discovery: the paths named on the command line to the list of files to read.
 * Directories are walked in sorted order without following symlinked directories; named
 * pipes, process substitutions and devices are opened before the scan (without blocking
 * on a pipe that has no writer yet) and read later as streams. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <poll.h>

#include "input/scan_impl.h"

int scan_add_path(path_list *l, const char *p, int explicit_)
{
    if (l->n >= MAX_FILES)
        return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        unsigned char *e = realloc(l->explicit_, cap);
        if (!e)
            return -1;
        l->explicit_ = e;
        if (l->fd) {
            int *f = realloc(l->fd, cap * sizeof *f);
            if (!f)
                return -1;
            l->fd = f;
        }
        l->cap = cap;
    }
    if (l->fd)
        l->fd[l->n] = -1;
    size_t n = strlen(p);
    char *c = malloc(n + 1);
    if (!c)
        return -1;
    memcpy(c, p, n + 1);
    l->v[l->n] = c;
    l->explicit_[l->n] = (unsigned char)explicit_;
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Recursively lists regular files under dir, sorted, without following symlinked
 * directories (no loops). */
int scan_walk_dir(scan *s, const char *dir, int depth)
{
    if (depth > 64)
        return 0;
    DIR *dh = opendir(dir);
    if (!dh)
        return 0;
    path_list local = {0};
    struct dirent *de;
    size_t dl = strlen(dir);
    while ((de = readdir(dh)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        size_t nl = strlen(de->d_name);
        char *full = malloc(dl + nl + 2);
        if (!full)
            break;
        memcpy(full, dir, dl);
        size_t k = dl;
        if (k == 0 || full[k - 1] != '/')
            full[k++] = '/';
        memcpy(full + k, de->d_name, nl + 1);
        if (scan_add_path(&local, full, 0) != 0) {
            free(full);
            break;
        }
        free(full);
    }
    closedir(dh);
    if (local.n > 1) /* qsort must not be given a null array */
        qsort(local.v, local.n, sizeof *local.v, cmp_str);
    for (size_t i = 0; i < local.n; i++) {
        struct stat st;
        if (lstat(local.v[i], &st) == 0) {
            if (S_ISDIR(st.st_mode))
                scan_walk_dir(s, local.v[i], depth + 1);
            else if (S_ISREG(st.st_mode)) {
                s->stats->files_seen++;
                s->stats->bytes_total += (uint64_t)st.st_size;
                scan_add_path(&s->files, local.v[i], 0);
            }
        }
        free(local.v[i]);
    }
    free(local.v);
    free(local.explicit_);
    return 0;
}

/* A named pipe, process substitution (/dev/fd/N), a device or socket named on the command
 * line is opened before the scan, without blocking, and read later as a stream like
 * standard input. A named pipe that nothing writes to yet would block the open (and the
 * whole scan) without a word: dcomhunt says what it waits for, then waits for a writer. */
dh_status scan_open_special(scan *s, size_t file, const struct stat *sb)
{
    if (!s->files.fd) {
        s->files.fd = malloc(s->files.cap * sizeof *s->files.fd);
        if (!s->files.fd)
            return DH_ERR_NOMEM;
        for (size_t k = 0; k < s->files.cap; k++)
            s->files.fd[k] = -1;
    }
    const char *path = s->files.v[file];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return DH_OK; /* said when its turn comes: "cannot open" */
    if (S_ISFIFO(sb->st_mode)) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int r;
        while ((r = poll(&pf, 1, FIFO_NOTICE_MS)) < 0 && errno == EINTR)
            ;
        if (r == 0 && s->cb->on_error) {
            dh_error e;
            scan_fill_error(&e, path, DH_OK, -1, 0, 0,
                            "waiting for a writer: nothing has opened this named pipe for writing "
                            "yet (dcomhunt reads it once something does; interrupt to stop)");
            s->cb->on_error(s->cb->ctx, &e);
            while (poll(&pf, 1, -1) < 0 && errno == EINTR)
                ;
        }
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    s->files.fd[file] = fd;
    return DH_OK;
}

/* The paths named by the caller to s->files: directories walked (when recursing), "-" for
 * standard input, special files opened; sizes counted for progress. */
dh_status scan_collect(scan *s, const char *const *paths, size_t npaths)
{
    for (size_t i = 0; i < npaths; i++) {
        struct stat sb;
        if (!strcmp(paths[i], "-")) {
            s->stats->files_seen++;
            if (scan_add_path(&s->files, paths[i], 1) != 0)
                return DH_ERR_NOMEM;
            continue;
        }
        if (stat(paths[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (s->opts->recurse)
                scan_walk_dir(s, paths[i], 0);
        } else {
            s->stats->files_seen++;
            int special = stat(paths[i], &sb) == 0 && !S_ISREG(sb.st_mode);
            if (!special)
                s->stats->bytes_total += (uint64_t)sb.st_size;
            if (scan_add_path(&s->files, paths[i], 1) != 0)
                return DH_ERR_NOMEM;
            dh_status st;
            if (special && (st = scan_open_special(s, s->files.n - 1, &sb)) != DH_OK)
                return st;
        }
    }
    return DH_OK;
}

void scan_paths_free(path_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    for (size_t i = 0; l->fd && i < l->n; i++)
        if (l->fd[i] >= 0)
            close(l->fd[i]);
    free(l->v);
    free(l->explicit_);
    free(l->fd);
}
