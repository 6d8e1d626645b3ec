/* hunt_jsonl: what `dcomhunt hunt --jsonl PATH...` prints, through the public API only.
 *
 * The built-in rule pack, an engine in findings mode reading the paths, and a JSON lines
 * findings writer as the engine's sink. Build it against an installed libdcomhunt:
 *
 *     cc -o hunt_jsonl hunt_jsonl.c $(pkg-config --cflags --libs --static dcomhunt)
 *
 * Exit status: 0 nothing found, 1 findings, 4 an error (said on stderr). */
#include <stdio.h>

#include <dcomhunt/engine.h>
#include <dcomhunt/finding.h>
#include <dcomhunt/rules.h>

static int on_finding(void *ctx, const dh_finding *f)
{
    dh_findings_writer_add(ctx, f);
    return 0; /* nonzero would stop the run */
}

static void on_error(void *ctx, const dh_error *e)
{
    (void)ctx;
    fprintf(stderr, "hunt_jsonl: %s: %s\n", e->file, e->message);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: hunt_jsonl PATH...\n", stderr);
        return 2;
    }
    const char *const *paths = (const char *const *)argv + 1;
    size_t npaths = (size_t)(argc - 1);
    dh_ruleset *rs = NULL;
    dh_findings_writer *w = NULL;
    dh_engine *eng = NULL;
    size_t found = 0;
    dh_status st = dh_ruleset_new(&rs);
    if (st == DH_OK)
        st = dh_ruleset_add_builtin(rs, NULL, NULL);
    if (st == DH_OK)
        st = dh_ruleset_finish(rs);
    if (st == DH_OK)
        st = dh_findings_writer_new(DH_FINDINGS_JSONL, 0, &w);
    if (st == DH_OK) {
        /* the guide's pivot command line names the inputs, as hunt's does */
        dh_findings_writer_set_guide(w, 0, paths, npaths);
        dh_engine_opts o;
        dh_engine_opts_init(&o); /* findings mode, the default window and skew */
        o.sink = (dh_engine_sink){.ctx = w, .on_finding = on_finding, .on_error = on_error};
        st = dh_engine_new(&o, rs, &eng);
    }
    if (st == DH_OK) {
        st = dh_engine_run(eng, paths, npaths);
        if (st == DH_ERR_FORMAT)
            st = DH_OK; /* some input skipped (on_error said which): the rest still counts */
        dh_status fin = dh_engine_finish(eng);
        if (st == DH_OK)
            st = fin;
    }
    if (st == DH_OK)
        found = dh_findings_writer_print(w, stdout);
    if (st != DH_OK) {
        const dh_error *e = eng ? dh_engine_error(eng) : NULL;
        fprintf(stderr, "hunt_jsonl: %s\n",
                e && e->status != DH_OK ? e->message : dh_status_str(st));
    }
    dh_engine_free(eng);
    dh_findings_writer_free(w);
    dh_ruleset_free(rs);
    return st != DH_OK ? 4 : found ? 1 : 0;
}
