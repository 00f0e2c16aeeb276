/* run.c -- the pipeline loop: source -> decode -> tracker. */
#include <stdio.h>
#include <string.h>

#include "cli/run.h"
#include "tcplens/packet.h"

/* Errors in a row without a frame in between: the source is not advancing. */
#define MAX_ERRORS_IN_A_ROW 64

/* The error record carries file, offset and packet as fields: drop the
 * "FILE: offset N, packet M: " prefix the source puts in its message. */
static const char *without_location(const char *msg, const tl_source_where *w)
{
    char prefix[TL_ERRBUF_SIZE];
    if (!w->file) return msg;
    int n = w->offset >= 0 ? snprintf(prefix, sizeof prefix, "%s: offset %lld, packet %llu: ", w->file,
                                      (long long)w->offset, (unsigned long long)w->packet)
                           : snprintf(prefix, sizeof prefix, "%s: ", w->file);
    return n > 0 && strncmp(msg, prefix, (size_t)n) == 0 ? msg + n : msg;
}

static void on_idle(void *ud, tl_time now)
{
    tl_tracker_tick(ud, now);
}

void tl_run_pipeline(tl_source *src, tl_tracker *tr, bool verify_cksum, uint64_t limit,
                     tl_dumper *dumper, volatile sig_atomic_t *stop, tl_run_result *res)
{
    char errbuf[TL_ERRBUF_SIZE];
    tl_frame f;
    tl_packet pkt;
    int in_a_row = 0;
    memset(res, 0, sizeof *res);
    tl_source_set_idle(src, on_idle, tr);
    while (!(stop && *stop) && (!limit || res->frames < limit)) {
        errbuf[0] = '\0';
        int rc = tl_source_next(src, &f, errbuf);
        if (rc == 0) break;
        if (rc < 0) {
            bool warning = rc == TL_ETRUNC;
            fprintf(stderr, "tcplens: %s%s\n", warning ? "warning: " : "", errbuf);
            tl_source_where w;
            tl_source_last_error(src, &w);
            tl_tracker_error(tr, w.file, w.offset, w.packet, without_location(errbuf, &w));
            if (warning) res->warnings++; else res->errors++;
            if (++in_a_row >= MAX_ERRORS_IN_A_ROW) break;
            continue;
        }
        in_a_row = 0;
        res->frames++;
        if (dumper) tl_dumper_write(dumper, &f);
        tl_decode_reason reason = TL_REASON_NONE;
        tl_decode_result dr = tl_decode(f.linktype, f.data, f.caplen, verify_cksum, &pkt, &reason);
        tl_tracker_feed(tr, &f, dr, reason, &pkt);
    }
}
