/* The caller's buffer read as a file (dh_scan_run_buffer): where the scan reads a file's
 * bytes with pread (its first bytes to sniff, an EVTX file's chunk times for the plan, its
 * last slots for trailing junk) it reads the buffer instead, and EVTX chunk units point
 * into it rather than holding a copy (the reader copies one chunk at a time into its
 * chunk buffer, as pread does: the same CPU time as the file, measured on 117 MB). Text in the
 * buffer is cut through the stream's carry as a file's is (stream.c), a batch at a time. Never:
 * copy the buffer whole, or free it. A leaf of the scan: it calls none of the other parts. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "input/scan_impl.h"

ssize_t scan_read_at(const scan *s, int fd, void *buf, size_t n, uint64_t off)
{
    if (fd == SCAN_FD_MEMORY) {
        if (off >= s->mem_len)
            return 0;
        size_t k = s->mem_len - off < n ? (size_t)(s->mem_len - off) : n;
        memcpy(buf, s->mem + off, k);
        return (ssize_t)k;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return got ? (ssize_t)got : -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

void scan_task_memory(const scan *s, scan_task *t)
{
    if (t->kind != T_UNIT || t->fd != SCAN_FD_MEMORY)
        return;
    /* The plan and the file-by-file producer bound each unit by the buffer's size. */
    t->buf = (char *)(uintptr_t)(s->mem + t->off);
    t->buflen = t->len;
    t->borrowed = 1;
    t->fd = -1;
}

void scan_close_fd(int fd)
{
    if (fd >= 0)
        close(fd);
}
