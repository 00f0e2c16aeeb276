/* options.c -- parsing the options of `read` and `watch` (tcpdump-like). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/options.h"
#include "tcplens/sink_zeek.h"

enum {
    OPT_JSON = 256, OPT_ZEEK, OPT_CONNS, OPT_LADDER, OPT_HTML, OPT_COLOR, OPT_CHECKSUMS,
    OPT_MAX_CONNS, OPT_IDLE, OPT_LINEBUF, OPT_HELP, OPT_SEED,
};

static const struct option long_opts[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"zeek", no_argument, NULL, OPT_ZEEK},
    {"conns", no_argument, NULL, OPT_CONNS},
    {"ladder", no_argument, NULL, OPT_LADDER},
    {"html", required_argument, NULL, OPT_HTML},
    {"color", required_argument, NULL, OPT_COLOR},
    {"colour", required_argument, NULL, OPT_COLOR},
    {"checksums", required_argument, NULL, OPT_CHECKSUMS},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {"idle-timeout", required_argument, NULL, OPT_IDLE},
    {"line-buffered", no_argument, NULL, OPT_LINEBUF},
    {"seed", required_argument, NULL, OPT_SEED},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *fp, bool live)
{
    if (live)
        fprintf(fp, "usage: tcplens watch [-i IFACE] [-c N] [-w FILE] [-B KIB] [-Z USER] [OPTIONS] [FILTER...]\n");
    else
        fprintf(fp, "usage: tcplens read FILE... [OPTIONS] [FILTER...]   (FILE '-' = stdin)\n");
    fprintf(fp,
            "  -f FILTER          capture filter in tcpdump syntax (or trailing words)\n"
            "  -c N               stop after N packets\n"
            "  -t / -tt           (default) time since first packet / -tt absolute epoch time\n"
            "  -S                 absolute sequence numbers\n"
            "  -x                 payload in hex and ASCII;  -A  payload in ASCII\n"
            "  -q                 events only\n"
            "  --json             JSON Lines (packet, state, event, conn, stats records)\n"
            "  --conns            connection table only\n"
            "  --zeek             Zeek conn.log (TSV)\n"
            "  --ladder           sequence diagram of each connection\n"
            "  --html FILE        also write a self-contained HTML report (ladder, states, packets)\n"
            "  --color=auto|always|never  (NO_COLOR is honoured)\n"
            "  --checksums=verify|ignore  verify: skip bad-checksum segments as Zeek does\n"
            "  --max-conns N      connections held at once (older ones are summarised)\n"
            "  --idle-timeout S   seconds of silence before a connection is summarised\n"
            "  --line-buffered    flush output per line\n"
            "  --seed N           fixed seed: the same uids on every run (default: random)\n");
}

/* A word is a capture file when it exists or looks like a path (so a
 * missing file is reported as missing, not as a filter syntax error). */
static bool is_input_file(const char *s)
{
    static const char *const exts[] = {".pcap", ".pcapng", ".cap", ".pcap.gz", ".dmp"};
    struct stat st;
    if (!strcmp(s, "-") || strchr(s, '/') || stat(s, &st) == 0) return true;
    size_t n = strlen(s);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t e = strlen(exts[i]);
        if (n > e && !strcmp(s + n - e, exts[i])) return true;
    }
    return false;
}

static int bad(bool live, const char *fmt, const char *arg)
{
    fprintf(stderr, "tcplens: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    usage(stderr, live);
    return 2;
}

int tl_cli_parse(int argc, char **argv, bool live, tl_cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->color = "auto";
    o->out.ts_digits = 6;
    int tcount = 0, c;
    const char *shorts = live ? "+c:f:tSxAqni:w:B:Z:" : "+c:f:tSxAqnr:";
    optind = 1;
    opterr = 1;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    if (!files) return 2;
    o->files = files;
    for (;;) {
        /* Words: file names first (the first word always is one), then the
         * filter (tcpdump style: `read a.pcap b.pcap -S 'port 80'`). */
        while (optind < argc && (argv[optind][0] != '-' || !strcmp(argv[optind], "-"))) {
            char *a = argv[optind++];
            if (!live && !o->filter_buf[0] && (o->nfiles == 0 || is_input_file(a))) {
                files[o->nfiles++] = a;
                continue;
            }
            size_t len = strlen(o->filter_buf);
            snprintf(o->filter_buf + len, sizeof o->filter_buf - len, "%s%s", len ? " " : "", a);
        }
        c = getopt_long(argc, argv, shorts, long_opts, NULL);
        if (c == -1) break;
        switch (c) {
        case 'c': o->count = strtoull(optarg, NULL, 10); break;
        case 'f': o->filter = optarg; break;
        case 't': tcount++; break;
        case 'S': o->out.abs_seq = true; break;
        case 'x': o->out.hex = true; break;
        case 'A': o->out.ascii = true; break;
        case 'q': o->quiet = true; break;
        case 'n': break; /* names are never resolved */
        case 'r': files[o->nfiles++] = optarg; break;
        case 'i': o->iface = optarg; break;
        case 'w': o->write_file = optarg; break;
        case 'B': o->buffer_kib = atoi(optarg); break;
        case 'Z': o->user = optarg; break;
        case OPT_JSON: o->json = true; break;
        case OPT_ZEEK: o->zeek = true; break;
        case OPT_CONNS: o->conns = true; break;
        case OPT_LADDER: o->ladder = true; break;
        case OPT_HTML: o->html = optarg; break;
        case OPT_COLOR:
            if (strcmp(optarg, "auto") && strcmp(optarg, "always") && strcmp(optarg, "never"))
                return bad(live, "--color must be auto, always or never, not '%s'", optarg);
            o->color = optarg;
            break;
        case OPT_CHECKSUMS:
            if (!strcmp(optarg, "verify")) o->track.verify_checksums = true;
            else if (strcmp(optarg, "ignore"))
                return bad(live, "--checksums must be verify or ignore, not '%s'", optarg);
            break;
        case OPT_MAX_CONNS: o->track.max_conns = (uint32_t)strtoul(optarg, NULL, 10); break;
        case OPT_IDLE: o->track.idle_timeout = strtod(optarg, NULL); break;
        case OPT_LINEBUF: o->line_buffered = true; break;
        case OPT_SEED: {
            char *end;
            o->track.hash_seed = strtoull(optarg, &end, 0);
            if (*end || !o->track.hash_seed) return bad(live, "--seed wants a number other than 0, not '%s'", optarg);
            break;
        }
        case OPT_HELP: usage(stdout, live); return -1;
        default: usage(stderr, live); return 2;
        }
    }
    if (o->filter_buf[0]) {
        if (o->filter) return bad(live, "filter given twice (-f and words): '%s'", o->filter_buf);
        o->filter = o->filter_buf;
    }
    if (!live && o->nfiles == 0) return bad(live, "%s", "no capture file given");
    o->out.abs_time = tcount >= 2;
    o->out.quiet = o->quiet;
    o->out.conns_only = o->conns;
    bool tty = isatty(STDOUT_FILENO);
    o->out.color = !strcmp(o->color, "always") ||
                   (!strcmp(o->color, "auto") && tty && !getenv("NO_COLOR"));
    return 0;
}

static int make_main_sink(tl_cli_opts *o, FILE *fp, tl_sink *sink)
{
    if (o->json) return tl_sink_json_new(sink, fp, &o->out);
    if (o->zeek) return tl_sink_zeek_new(sink, fp);
    if (o->ladder) return tl_sink_ladder_new(sink, fp, &o->out);
    return tl_sink_text_new(sink, fp, &o->out);
}

/* Last in the --html tee: closes the page's file once the HTML sink (freed
 * before it) has finished it, and says so if the page could not be written. */
typedef struct html_file {
    FILE *fp;
    const char *path;
} html_file;

static void html_file_free(void *ctx)
{
    html_file *f = ctx;
    bool bad = ferror(f->fp) != 0;
    if (fclose(f->fp) != 0) bad = true;
    if (bad) fprintf(stderr, "tcplens: writing %s failed: %s\n", f->path, strerror(errno));
    free(f);
}

static const tl_sink_ops html_file_ops = { .free = html_file_free };

int tl_cli_make_sink(tl_cli_opts *o, FILE *fp, tl_sink *sink, char *errbuf)
{
    if (!o->html) return make_main_sink(o, fp, sink);
    tl_sink s[3] = { {NULL, NULL}, {NULL, NULL}, {&html_file_ops, NULL} };
    html_file *hf = calloc(1, sizeof *hf);
    if (!hf) return tl_err(errbuf, TL_ENOMEM, "--html: out of memory");
    hf->path = o->html;
    if (!(hf->fp = fopen(o->html, "w"))) {
        int e = errno;
        free(hf);
        return tl_err(errbuf, TL_EIO, "--html: cannot create %s: %s", o->html, strerror(e));
    }
    s[2].ctx = hf;
    int rc;
    tl_output_opts ho = o->out;
    ho.color = false;
    if ((rc = make_main_sink(o, fp, &s[0])) < 0 || (rc = tl_sink_html_new(&s[1], hf->fp, &ho)) < 0 ||
        (rc = tl_sink_tee_new(sink, s, 3)) < 0) {
        for (int i = 0; i < 3; i++) tl_sink_free(&s[i]);
        return tl_err(errbuf, rc, "--html: cannot make the sinks: %s", tl_strerror(rc));
    }
    return TL_OK;
}

/* stdout's buffer for output that is not line by line. glibc ignores the
 * size given to setvbuf() with a NULL buffer and writes 4 KiB at a time
 * (st_blksize), so the buffer is ours. Static: stdout uses it until exit. */
static char stdout_buf[256 << 10];

void tl_cli_setup_stdout(const tl_cli_opts *o, bool bulk)
{
    if (o->line_buffered || isatty(STDOUT_FILENO)) setvbuf(stdout, NULL, _IOLBF, 0);
    else if (bulk) setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
}
