/* dcomhunt report: the HTML page (src/output/html.c) from the findings JSON lines that
 * `hunt --jsonl` printed, read whole (files and pipes alike, up to STDIN_MAX; never
 * mapped, so a file cut short while it is read cannot fault). The page goes to -o FILE or
 * standard output. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "output/html.h"

#define STDIN_MAX ((size_t)1 << 30) /* a pipe is buffered whole: 1 GiB, then refused */

static const char report_usage[] = "usage: dcomhunt report [-o FILE] FINDINGS.jsonl\n";

static const char report_help[] =
    "usage: dcomhunt report [-o FILE] FINDINGS.jsonl\n"
    "  Writes one self-contained HTML page (inline CSS and SVG, no script, nothing fetched)\n"
    "  from the findings that 'dcomhunt hunt --jsonl' printed: a summary, a timeline, the\n"
    "  host graph, then each finding with its evidence, investigation and response steps\n"
    "  and pivot queries; suppressed findings are listed separately. Everything from the\n"
    "  logs is escaped. FINDINGS.jsonl '-' reads standard input.\n"
    "\n"
    "  -o, --output FILE  write the page to FILE (default: standard output)\n"
    "  -h, --help         show this help\n"
    "\n"
    "  Exit status: 0 page written; 2 usage error; 3 page written, but malformed lines were\n"
    "  skipped (each named on stderr with its file and line) or findings past 100000 left\n"
    "  out; 4 the input could not be read or the page not written.\n";

typedef struct input {
    char *data;
    size_t len;
} input;

static void report_on_error(void *ctx, const dh_error *e)
{
    (void)ctx;
    cli_print_error(e);
}

static void input_error(const char *path, const char *why)
{
    fputs("dcomhunt report: ", stderr);
    cli_put_safe(stderr, path);
    fputs(": ", stderr);
    fputs(why, stderr);
    fputc('\n', stderr);
}

/* Reads fd to its end into in, up to STDIN_MAX bytes. */
static int read_all(int fd, const char *path, input *in)
{
    dh_buf b;
    dh_buf_init(&b, STDIN_MAX);
    for (;;) {
        char *p = dh_buf_reserve(&b, 1 << 16);
        if (!p) {
            input_error(path, "more than 1 GiB of findings: split them (report reads them whole)");
            dh_buf_free(&b);
            return -1;
        }
        ssize_t n = read(fd, p, 1 << 16);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            input_error(path, strerror(errno));
            dh_buf_free(&b);
            return -1;
        }
        if (n == 0)
            break;
        b.len += (size_t)n;
    }
    in->data = b.data;
    in->len = b.len;
    return 0;
}

static int open_input(const char *path, input *in)
{
    memset(in, 0, sizeof *in);
    if (strcmp(path, "-") == 0)
        return read_all(STDIN_FILENO, "(standard input)", in);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        input_error(path, strerror(errno));
        return -1;
    }
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) != 0) {
        input_error(path, strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        input_error(path, "is a directory");
    } else if (S_ISREG(st.st_mode) && st.st_size == 0) {
        rc = 0; /* an empty hunt: a page with no findings */
    } else {
        rc = read_all(fd, path, in);
    }
    close(fd);
    return rc;
}

static void close_input(input *in)
{
    free(in->data);
}

int cli_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *outpath = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        if (ch == 'o') {
            outpath = optarg;
        } else if (ch == 'h') {
            fputs(report_help, stdout);
            return DH_EXIT_OK;
        } else {
            fputs(report_usage, stderr);
            return DH_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        fputs(argc - optind ? "dcomhunt report: one findings file, please\n"
                            : "dcomhunt report: which findings file? (- reads standard input)\n",
              stderr);
        fputs(report_usage, stderr);
        return DH_EXIT_USAGE;
    }
    const char *inpath = argv[optind];
    input in;
    if (open_input(inpath, &in) < 0)
        return DH_EXIT_ERROR;

    FILE *out = stdout;
    int to_file = outpath && strcmp(outpath, "-") != 0;
    if (to_file && !(out = fopen(outpath, "w"))) {
        fputs("dcomhunt report: ", stderr);
        cli_put_safe(stderr, outpath);
        fprintf(stderr, ": %s\n", strerror(errno));
        close_input(&in);
        return DH_EXIT_ERROR;
    }
    struct stat ost;
    int out_regular = to_file && fstat(fileno(out), &ost) == 0 && S_ISREG(ost.st_mode);
    const char *name = strcmp(inpath, "-") == 0 ? "(standard input)" : inpath;
    dh_status st = dh_html_report(in.data, in.len, name, out, report_on_error, NULL);
    int werr = errno;
    if (to_file && fclose(out) != 0 && (st == DH_OK || st == DH_ERR_FORMAT || st == DH_ERR_LIMIT))
        st = DH_ERR_IO, werr = errno;
    close_input(&in);
    switch (st) {
    case DH_OK:
        return DH_EXIT_OK;
    case DH_ERR_FORMAT:
    case DH_ERR_LIMIT:
        return DH_EXIT_PARTIAL;
    default:
        fputs("dcomhunt report: writing ", stderr);
        cli_put_safe(stderr, to_file ? outpath : "(standard output)");
        fprintf(stderr, ": %s\n", st == DH_ERR_IO ? strerror(werr) : dh_status_str(st));
        /* No half page left behind to be taken for a whole one; only ever a regular file
         * (-o /dev/stdout or a device stays). */
        if (out_regular)
            remove(outpath);
        return DH_EXIT_ERROR;
    }
}
