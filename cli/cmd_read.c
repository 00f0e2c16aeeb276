/* cmd_read.c -- `tcplens read FILE... [FILTER]`: analyse capture files. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/run.h"

int tl_cmd_read(int argc, char **argv)
{
    tl_cli_opts o;
    int rc = tl_cli_parse(argc, argv, false, &o);
    if (rc) {
        free(o.files);
        return rc < 0 ? 0 : rc;
    }
    char errbuf[TL_ERRBUF_SIZE] = "";
    tl_source *src = NULL;
    tl_tracker *tr = NULL;
    tl_sink sink = {NULL, NULL};
    int status = 0;

    rc = tl_source_open_files(&src, (const char *const *)o.files, o.nfiles, errbuf);
    if (rc < 0) {
        fprintf(stderr, "tcplens: %s\n", errbuf);
        status = 1;
        goto out;
    }
    if (o.filter && (rc = tl_source_set_filter(src, o.filter, errbuf)) < 0) {
        fprintf(stderr, "tcplens: %s\n", errbuf);
        status = rc == TL_EFILTER ? 2 : 1;
        goto out;
    }
    o.out.ts_digits = tl_source_ts_digits(src);
    tl_cli_setup_stdout(&o, true);
    if ((rc = tl_cli_make_sink(&o, stdout, &sink, errbuf)) < 0 ||
        (rc = tl_tracker_new(&tr, &o.track, &sink, errbuf)) < 0) {
        fprintf(stderr, "tcplens: %s\n", errbuf);
        status = 1;
        goto out;
    }
    tl_run_result res;
    tl_run_pipeline(src, tr, o.track.verify_checksums, o.count, NULL, NULL, &res);
    tl_source_stats st;
    tl_source_stats_get(src, &st);
    tl_tracker_finish(tr, &st);
    status = res.errors ? 1 : 0;
out:
    tl_tracker_free(tr);
    tl_sink_free(&sink);
    tl_source_free(src);
    fflush(stdout);
    free(o.files);
    return status;
}
