/* cmd_states.c -- `tcplens states`: the kernel's TCP sockets and their states
 * like `ss -tan` (NETLINK_SOCK_DIAG), and with --follow the transitions as the
 * kernel makes them (tracepoint sock:inet_sock_set_state where permitted,
 * else sock_diag polling). State names are RFC 9293's spelling.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "lab/kstate.h"
#include "lab/sockdiag.h"
#include "tcplens/tcp_state.h"

typedef struct states_opts {
    int port;
    int family;
    bool follow, json, no_tracepoint;
    unsigned interval_ms;
} states_opts;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: tcplens states [--port N] [--follow] [-4|-6] [--json]\n"
            "  -p, --port N       only sockets whose local or remote port is N\n"
            "  -f, --follow       print state transitions as the kernel makes them (Ctrl-C ends)\n"
            "  -4, -6             only IPv4 / only IPv6 sockets\n"
            "      --json         JSON Lines instead of a table\n"
            "      --sock-diag    --follow: poll sock_diag even where the tracepoint is permitted\n"
            "      --interval MS  --follow with sock_diag: poll every MS milliseconds (default 2)\n");
}

static int parse_args(int argc, char **argv, states_opts *o)
{
    enum { OPT_JSON = 256, OPT_SOCKDIAG, OPT_INTERVAL };
    static const struct option longopts[] = {
        { "port", required_argument, NULL, 'p' },
        { "follow", no_argument, NULL, 'f' },
        { "json", no_argument, NULL, OPT_JSON },
        { "sock-diag", no_argument, NULL, OPT_SOCKDIAG },
        { "interval", required_argument, NULL, OPT_INTERVAL },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    *o = (states_opts){ .port = -1 };
    optind = 1;
    opterr = 0;
    int c;
    char *end;
    long v;
    while ((c = getopt_long(argc, argv, "p:f46h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || v < 0 || v > 65535) {
                fprintf(stderr, "tcplens states: bad port '%s' (0-65535)\n", optarg);
                return 2;
            }
            o->port = (int)v;
            break;
        case 'f': o->follow = true; break;
        case '4': o->family = AF_INET; break;
        case '6': o->family = AF_INET6; break;
        case OPT_JSON: o->json = true; break;
        case OPT_SOCKDIAG: o->no_tracepoint = true; break;
        case OPT_INTERVAL:
            v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || v < 1 || v > 60000) {
                fprintf(stderr, "tcplens states: bad interval '%s' (1-60000 ms)\n", optarg);
                return 2;
            }
            o->interval_ms = (unsigned)v;
            break;
        case 'h': usage(stdout); return -1;
        default:
            fprintf(stderr, "tcplens states: unknown option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tcplens states: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return 0;
}

static int entry_order(const void *pa, const void *pb)
{
    const tl_sockdiag_entry *a = pa, *b = pb;
    if (a->local.family != b->local.family) return a->local.family < b->local.family ? -1 : 1;
    if (a->lport != b->lport) return a->lport < b->lport ? -1 : 1;
    if (a->rport != b->rport) return a->rport < b->rport ? -1 : 1;
    return memcmp(a->remote.bytes, b->remote.bytes, 16);
}

static int show_snapshot(const states_opts *o)
{
    char err[TL_ERRBUF_SIZE];
    tl_sockdiag_filter f = { .family = o->family, .port = o->port };
    tl_sockdiag_entry *e;
    size_t n;
    if (tl_sockdiag_snapshot(-1, &f, &e, &n, err) < 0) {
        fprintf(stderr, "tcplens states: %s\n", err);
        return 1;
    }
    if (n) qsort(e, n, sizeof *e, entry_order);
    /* Local column as wide as its longest entry, as ss sizes its columns. */
    int lw = 20;
    char l[64], r[64];
    for (size_t i = 0; i < n; i++) {
        int w = (int)strlen(tl_sockdiag_endpoint(&e[i].local, e[i].lport, false, l, sizeof l));
        if (w > lw) lw = w;
    }
    if (!o->json) printf("%-12s %6s %6s %-*s %s\n", "State", "Recv-Q", "Send-Q", lw, "Local",
                         "Peer");
    for (size_t i = 0; i < n; i++) {
        tl_sockdiag_endpoint(&e[i].local, e[i].lport, false, l, sizeof l);
        tl_sockdiag_endpoint(&e[i].remote, e[i].rport, true, r, sizeof r);
        const char *st = tl_tcp_state_name(e[i].state);
        if (o->json)
            printf("{\"type\":\"socket\",\"state\":\"%s\",\"kernel_state\":\"%s\",\"recv_q\":%u,"
                   "\"send_q\":%u,\"local\":\"%s\",\"peer\":\"%s\",\"inode\":%u,\"uid\":%u}\n",
                   st, tl_sockdiag_kernel_name(e[i].kstate), e[i].rqueue, e[i].wqueue, l, r,
                   e[i].inode, e[i].uid);
        else
            printf("%-12s %6u %6u %-*s %s\n", st, e[i].rqueue, e[i].wqueue, lw, l, r);
    }
    tl_sockdiag_free(e);
    return 0;
}

static void on_transition(void *ud, const tl_kstate_event *ev)
{
    const states_opts *o = ud;
    char l[64], r[64];
    tl_sockdiag_endpoint(&ev->local, ev->lport, false, l, sizeof l);
    tl_sockdiag_endpoint(&ev->remote, ev->rport, true, r, sizeof r);
    const char *src = tl_kstate_source_name(ev->source);
    if (o->json) {
        printf("{\"type\":\"kstate\",\"ts\":%lld.%06u,\"local\":\"%s\",\"remote\":\"%s\","
               "\"from\":\"%s\",\"to\":\"%s\",\"source\":\"%s\"}\n",
               (long long)ev->ts.sec, ev->ts.nsec / 1000, l, r, tl_tcp_state_name(ev->from),
               tl_tcp_state_name(ev->to), src);
    } else {
        struct tm tm;
        time_t t = (time_t)ev->ts.sec;
        char hms[16];
        localtime_r(&t, &tm);
        strftime(hms, sizeof hms, "%H:%M:%S", &tm);
        printf("%s.%06u %-24s %-24s %-12s -> %-12s %s\n", hms, ev->ts.nsec / 1000, l, r,
               tl_tcp_state_name(ev->from), tl_tcp_state_name(ev->to), src);
    }
    fflush(stdout);
}

static int follow(states_opts *o)
{
    char err[TL_ERRBUF_SIZE];
    tl_kstate_config cfg = { .port = o->port, .family = o->family, .poll_ms = o->interval_ms,
                             .no_tracepoint = o->no_tracepoint,
                             .mount_private_tracefs = true };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    tl_kstate *k;
    if (tl_kstate_start(&k, &cfg, on_transition, o, err) < 0) {
        fprintf(stderr, "tcplens states: %s\n", err);
        return 1;
    }
    if (tl_kstate_get_source(k) == TL_KSTATE_TRACEPOINT)
        fprintf(stderr, "tcplens states: following sock:inet_sock_set_state; Ctrl-C to stop\n");
    else
        fprintf(stderr, "tcplens states: polling sock_diag every %u ms (%s); transitions "
                "faster than that merge; Ctrl-C to stop\n", o->interval_ms ? o->interval_ms : 2,
                tl_kstate_fallback_reason(k));
    if (!o->json)
        printf("%-15s %-24s %-24s %-12s    %-12s %s\n", "Time", "Local", "Peer", "From", "To",
               "Source");
    fflush(stdout);
    while (!stop_requested) {
        struct timespec ts = { 0, 50 * 1000000 };
        nanosleep(&ts, NULL);
    }
    tl_kstate_stop(k);
    fflush(stdout);
    return 0;
}

int tl_cmd_states(int argc, char **argv)
{
    states_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    return o.follow ? follow(&o) : show_snapshot(&o);
}
