/* run.h -- the pipeline loop shared by `read` and `watch`:
 * source -> decode -> tracker (-> sink). */
#ifndef TL_CLI_RUN_H
#define TL_CLI_RUN_H

#include <signal.h>
#include "tcplens/source.h"
#include "tcplens/tracker.h"

typedef struct tl_run_result {
    uint64_t frames;
    uint64_t errors;     /* input errors (not counting a truncated last record) */
    uint64_t warnings;
} tl_run_result;

/* Runs until the source ends, `limit` frames (0 = no limit), or *stop is set.
 * Every frame is also written to dumper when not NULL. */
void tl_run_pipeline(tl_source *src, tl_tracker *tr, bool verify_cksum, uint64_t limit,
                     tl_dumper *dumper, volatile sig_atomic_t *stop, tl_run_result *res);

#endif
