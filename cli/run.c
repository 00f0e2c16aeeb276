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

/* Frames asked of the source per call: a mapped pcap file hands out that
 * many at once. */
#define BATCH TL_TRACKER_BATCH

/* An error instead of a frame: say so and record it. True for a warning. */
static bool report_error(tl_source *src, tl_tracker *tr, int rc, const char *errbuf)
{
    bool warning = rc == TL_ETRUNC;
    fprintf(stderr, "tcplens: %s%s\n", warning ? "warning: " : "", errbuf);
    tl_source_where w;
    tl_source_last_error(src, &w);
    tl_tracker_error(tr, w.file, w.offset, w.packet, without_location(errbuf, &w));
    return warning;
}

void tl_run_pipeline(tl_source *src, tl_tracker *tr, bool verify_cksum, uint64_t limit,
                     tl_dumper *dumper, volatile sig_atomic_t *stop, tl_run_result *res)
{
    char errbuf[TL_ERRBUF_SIZE];
    tl_frame fs[BATCH];
    tl_decoded ds[BATCH];
    int in_a_row = 0;
    /* With a stop flag, one frame per call: it is checked before each. */
    uint64_t batch = stop ? 1 : BATCH;
    if (!limit) limit = UINT64_MAX;
    memset(res, 0, sizeof *res);
    tl_source_set_idle(src, on_idle, tr);
    while (!(stop && *stop) && res->frames < limit) {
        errbuf[0] = '\0';
        uint64_t left = limit - res->frames;
        int rc = tl_source_next_batch(src, fs, (int)(left < batch ? left : batch), errbuf);
        if (rc == 0) break;
        if (rc < 0) {
            if (report_error(src, tr, rc, errbuf)) res->warnings++; else res->errors++;
            if (++in_a_row >= MAX_ERRORS_IN_A_ROW) break;
            continue;
        }
        in_a_row = 0;
        res->frames += (uint64_t)rc;
        if (dumper) /* the same file as frame by frame; one test per call */
            for (int i = 0; i < rc; i++) tl_dumper_write(dumper, &fs[i]);
        tl_decode_frames(fs, rc, verify_cksum, ds);
        tl_tracker_feed_many(tr, fs, ds, rc);
    }
}
