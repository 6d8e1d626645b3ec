/* The correlator's side of building a finding: its held records (items) and processes
 * (nodes of a host) described as the plain values the finding builder takes
 * (findings/build.h), which owns the caps, the order and the text. */
#include "correlate/corr.h"

int corr_fb_record(dh_fb *b, const char *role, const item *it, dh_level *sev)
{
    dh_fb_rec r = {it->ev, it->t, it->rules, it->undecided, it->nrules};
    return dh_fb_record(b, role, &r, sev);
}

int corr_fb_process(dh_fb *b, int list, const pnode *pn, int32_t node, const dh_event *ev)
{
    const dh_event *recs[NODE_MAX_RECS];
    dh_fb_proc p = {.id = node >= 0 ? node : -1};
    if (ev) {
        /* one record: its values, whatever the node says */
        p.cmdline = corr_field(ev, DH_FIELD_COMMAND_LINE);
        p.image = corr_field(ev, DH_FIELD_IMAGE);
        p.one = ev;
    } else if (pn) {
        p.cmdline = pn->cmdline;
        p.image = pn->image_path;
        for (size_t k = 0; k < pn->nrecs; k++)
            recs[k] = pn->recs[k]->ev;
        p.recs = recs;
        p.nrecs = pn->nrecs;
    }
    p.t = pn ? pn->t : ev ? dh_event_time(ev) : 0;
    p.has_seq = pn && pn->nrecs;
    p.seq = p.has_seq ? pn->recs[0]->seq : 0;
    return dh_fb_process(b, list, &p);
}
