/* cmd_watch.c -- `tcplens watch`: live capture, analysed as packets arrive. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/privdrop.h"
#include "cli/run.h"

static volatile sig_atomic_t stop_requested;
static tl_source *live_src;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    if (live_src) tl_source_break(live_src);
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static int open_status(int rc)
{
    return rc == TL_ENOTFOUND || rc == TL_EFILTER || rc == TL_EINVAL ? 2 : 1;
}

int tl_cmd_watch(int argc, char **argv)
{
    tl_cli_opts o;
    int rc = tl_cli_parse(argc, argv, true, &o);
    if (rc) {
        free(o.files);
        return rc < 0 ? 0 : rc;
    }
    char errbuf[TL_ERRBUF_SIZE] = "";
    tl_source *src = NULL;
    tl_tracker *tr = NULL;
    tl_dumper *dumper = NULL;
    tl_sink sink = {NULL, NULL};
    int status = 0;

    tl_live_config lc = {o.iface, 0, o.buffer_kib, true, false};
    if ((rc = tl_source_open_live(&src, &lc, errbuf)) < 0) {
        fprintf(stderr, "tcplens: %s\n", errbuf);
        if (rc == TL_EPERM)
            fprintf(stderr, "tcplens: live capture needs CAP_NET_RAW (and CAP_NET_ADMIN for some "
                            "interfaces): run with sudo, or try `tcplens lab`, which needs no "
                            "privilege, or capture inside a user namespace (unshare -rn)\n");
        status = open_status(rc);
        goto out;
    }
    if (o.filter && (rc = tl_source_set_filter(src, o.filter, errbuf)) < 0) {
        fprintf(stderr, "tcplens: %s\n", errbuf);
        status = open_status(rc);
        goto out;
    }
    if (o.write_file && (rc = tl_dumper_open(&dumper, o.write_file, tl_source_linktype(src), 9, errbuf)) < 0) {
        fprintf(stderr, "tcplens: %s\n", errbuf);
        status = 1;
        goto out;
    }
    /* Output files (--html) are opened with the capture, before root goes. */
    o.out.ts_digits = tl_source_ts_digits(src);
    tl_cli_setup_stdout(&o, false);
    if ((rc = tl_cli_make_sink(&o, stdout, &sink, errbuf)) < 0 ||
        (rc = tl_tracker_new(&tr, &o.track, &sink, errbuf)) < 0) {
        fprintf(stderr, "tcplens: %s\n", errbuf);
        status = 1;
        goto out;
    }
    /* The capture and every output file are open: root is no longer needed. */
    if ((rc = tl_drop_privileges(o.user, errbuf)) < 0) {
        fprintf(stderr, "tcplens: refusing to capture as root: %s\n", errbuf);
        status = 1;
        goto out;
    }
    live_src = src;
    install_signals();
    fprintf(stderr, "tcplens: listening on %s%s%s\n", o.iface ? o.iface : "any",
            o.filter ? ", filter: " : "", o.filter ? o.filter : "");
    tl_run_result res;
    tl_run_pipeline(src, tr, o.track.verify_checksums, o.count, dumper, &stop_requested, &res);
    tl_source_stats st;
    tl_source_stats_get(src, &st);
    tl_tracker_finish(tr, &st);
    if (dumper) tl_dumper_flush(dumper);
    fflush(stdout);
    fprintf(stderr, "%llu packets captured\n%llu packets dropped by kernel\n"
                    "%llu packets dropped by interface\n",
            (unsigned long long)res.frames, (unsigned long long)st.kernel_dropped,
            (unsigned long long)st.iface_dropped);
    status = res.errors ? 1 : 0;
out:
    live_src = NULL;
    tl_tracker_free(tr);
    tl_sink_free(&sink);
    tl_dumper_close(dumper);
    tl_source_free(src);
    fflush(stdout);
    free(o.files);
    return status;
}
