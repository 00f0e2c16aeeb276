/* options.h -- command-line options shared by `read` and `watch`, and the
 * sink they select. */
#ifndef TL_CLI_OPTIONS_H
#define TL_CLI_OPTIONS_H

#include <stdio.h>
#include "tcplens/sink.h"
#include "tcplens/tracker.h"

typedef struct tl_cli_opts {
    tl_output_opts out;
    tl_tracker_config track;
    bool json, zeek, conns, ladder, quiet;
    bool line_buffered;
    const char *html;        /* --html FILE */
    const char *color;       /* auto | always | never */
    const char *filter;      /* -f or trailing words */
    const char *write_file;  /* -w FILE (watch) */
    const char *iface;       /* -i IFACE (watch) */
    const char *user;        /* -Z USER (watch) */
    int buffer_kib;          /* -B (watch) */
    uint64_t count;          /* -c N: stop after N packets, 0 = all */
    char **files;            /* read: input files */
    size_t nfiles;
    char filter_buf[4096];
} tl_cli_opts;

/* Parses argv (after the command name). live selects watch's options.
 * Returns 0, or 2 after printing a usage error, or -1 when --help was
 * printed (exit 0). */
int tl_cli_parse(int argc, char **argv, bool live, tl_cli_opts *o);

/* Builds the sink the options ask for, writing to fp. */
int tl_cli_make_sink(tl_cli_opts *o, FILE *fp, tl_sink *sink, char *errbuf);

/* stdout line by line on a terminal or with --line-buffered; otherwise
 * in blocks, 256 KiB ones when `bulk` (reading a file: nobody waits for
 * a line), stdio's own size when not (watch piped into another tool). */
void tl_cli_setup_stdout(const tl_cli_opts *o, bool bulk);

#endif
