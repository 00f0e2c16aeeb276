/* labnet_check.c -- end-to-end check of the lab network: real TCP
 * connections from the client namespace to the server namespace through the
 * userspace wire, IPv4 and IPv6, with a wire rule, sysctls and sock_diag.
 *
 * usage: labnet_check [--tcplens PATH]
 * Exit 0 all checks passed, 1 a check failed, 77 the machine forbids the lab
 * network (the reason is the last line). Lines starting with '#' summarise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab/kstate.h"
#include "lab/netns.h"
#include "lab/sockdiag.h"
#include "lab/wire.h"
#include "tcplens/packet.h"

static int failures;

#define CHECK(cond, ...)                                      \
    do {                                                      \
        if (cond) {                                           \
            printf("ok   ");                                  \
        } else {                                              \
            printf("FAIL ");                                  \
            failures++;                                       \
        }                                                     \
        printf(__VA_ARGS__);                                  \
        printf("\n");                                         \
        fflush(stdout);                                       \
    } while (0)

/* ---- what the wire saw ---- */
typedef struct seen {
    tl_wire_dir dir;
    uint8_t flags;
    uint32_t payload;
    int version;
    tl_wire_fate fate;
    uint64_t n;
} seen;

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static seen seen_pkts[4096];
static size_t n_seen;

static void on_wire(void *ud, const tl_wire_packet *p)
{
    (void)ud;
    tl_wire_pkt_info info;
    tl_wire_parse(p->data, p->len, &info);
    if (!info.is_tcp) return;
    if (getenv("LABNET_DEBUG"))
        fprintf(stderr, "wire #%llu %s flags=%02x len=%u fate=%d action=%d rule=%d\n",
                (unsigned long long)p->n, p->dir == TL_WIRE_C2S ? "c>s" : "s>c", info.flags,
                info.payload_len, p->fate, p->action, p->rule);
    pthread_mutex_lock(&seen_lock);
    if (n_seen < sizeof seen_pkts / sizeof seen_pkts[0])
        seen_pkts[n_seen++] = (seen){ p->dir, info.flags, info.payload_len, p->data[0] >> 4,
                                      p->fate, p->n };
    pthread_mutex_unlock(&seen_lock);
}

/* Count packets of one IP version matching direction, flags and payload. */
static int count_seen(int version, tl_wire_dir dir, uint8_t mask, uint8_t value, int payload,
                      int fate)
{
    int k = 0;
    pthread_mutex_lock(&seen_lock);
    for (size_t i = 0; i < n_seen; i++) {
        const seen *s = &seen_pkts[i];
        if (s->version != version || s->dir != dir || (s->flags & mask) != value) continue;
        if (payload >= 0 && (s->payload > 0) != (payload > 0)) continue;
        if (fate >= 0 && (int)s->fate != fate) continue;
        k++;
    }
    pthread_mutex_unlock(&seen_lock);
    return k;
}

/* ---- endpoints (forked children in the namespaces) ---- */

static void make_addr(int family, tl_lab_side side, uint16_t port, struct sockaddr_storage *ss,
                      socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        inet_pton(AF_INET6, tl_lab_addr(side, AF_INET6), &s6->sin6_addr);
        *len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        inet_pton(AF_INET, tl_lab_addr(side, AF_INET), &s4->sin_addr);
        *len = sizeof *s4;
    }
}

static pid_t spawn(tl_lab_net *net, tl_lab_side side, int (*fn)(void *), void *arg)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid != 0) return pid;
    char err[TL_ERRBUF_SIZE];
    alarm(20);
    if (tl_lab_net_enter(net, side, err) < 0) {
        fprintf(stderr, "%s\n", err);
        _exit(100);
    }
    _exit(fn(arg));
}

static int wait_child(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) < 0) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

typedef struct conn_args {
    int family;
    uint16_t port;
    int ready[2];   /* server -> parent: listening */
    int go[2];      /* parent -> server: close now (simultaneous close) */
    bool simultaneous;
    unsigned pace_ms;   /* pause between steps, so that sock_diag polling sees each state */
} conn_args;

/* Server: accept, read "hello world", answer "ok", wait for EOF, close. */
static int server_main(void *p)
{
    conn_args *a = p;
    int s = socket(a->family, SOCK_STREAM, 0), one = 1;
    struct sockaddr_storage ss;
    socklen_t sl;
    make_addr(a->family, TL_LAB_SERVER, a->port, &ss, &sl);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&ss, sl) < 0 || listen(s, 4) < 0) return 10;
    if (write(a->ready[1], "r", 1) != 1) return 11;
    int c = accept(s, NULL, NULL);
    if (c < 0) return 12;
    char buf[64];
    ssize_t r = recv(c, buf, sizeof buf, 0);
    if (r != 11 || memcmp(buf, "hello world", 11) != 0) return 13;
    if (send(c, "ok", 2, 0) != 2) return 14;
    usleep(a->pace_ms * 1000);
    if (a->simultaneous) {
        char g;
        if (read(a->go[0], &g, 1) != 1) return 15;   /* client's FIN is held by now */
    } else if (recv(c, buf, sizeof buf, 0) != 0) {
        return 16;                                   /* expected EOF */
    }
    usleep(a->pace_ms * 1000);   /* client in FIN-WAIT-2, server in CLOSE-WAIT */
    close(c);
    close(s);
    return 0;
}

/* Client: connect, send, read the answer, close first (active close). */
static int client_main(void *p)
{
    conn_args *a = p;
    int s = socket(a->family, SOCK_STREAM, 0);
    struct sockaddr_storage ss;
    socklen_t sl;
    make_addr(a->family, TL_LAB_SERVER, a->port, &ss, &sl);
    if (connect(s, (struct sockaddr *)&ss, sl) < 0) return 20;
    usleep(a->pace_ms * 1000);
    if (send(s, "hello world", 11, 0) != 11) return 21;
    char buf[8];
    if (recv(s, buf, sizeof buf, 0) != 2) return 22;
    usleep(a->pace_ms * 1000);
    close(s);
    return 0;
}

/* Reads back a sysctl the parent set in this namespace. */
static int sysctl_main(void *p)
{
    (void)p;
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_syn_retries", "r");
    int v = -1;
    if (!f || fscanf(f, "%d", &v) != 1) return 30;
    fclose(f);
    return v == 2 ? 0 : 31;
}

/* State of the socket to `port` in one namespace, as sock_diag reports it. */
static tl_tcp_state diag_state(tl_lab_net *net, tl_lab_side side, uint16_t port, bool local)
{
    int fd = tl_lab_net_socket(net, side, AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG);
    if (fd < 0) return TL_ST_UNKNOWN;
    tl_sockdiag_filter f = { .family = 0, .port = port };
    tl_sockdiag_entry *e;
    size_t n;
    char err[TL_ERRBUF_SIZE];
    tl_tcp_state st = TL_ST_UNKNOWN;
    if (tl_sockdiag_snapshot(fd, &f, &e, &n, err) == 0) {
        for (size_t i = 0; i < n; i++)
            if ((local ? e[i].lport : e[i].rport) == port) st = e[i].state;
        tl_sockdiag_free(e);
    }
    close(fd);
    return st;
}

static void run_connection(tl_lab_net *net, int family, uint16_t port, bool simultaneous,
                           unsigned pace_ms)
{
    conn_args a = { .family = family, .port = port, .simultaneous = simultaneous,
                    .pace_ms = pace_ms };
    if (pipe(a.ready) < 0 || pipe(a.go) < 0) exit(1);
    pid_t srv = spawn(net, TL_LAB_SERVER, server_main, &a);
    char r;
    CHECK(read(a.ready[0], &r, 1) == 1, "server listening (%s port %u)",
          family == AF_INET6 ? "IPv6" : "IPv4", port);
    pid_t cli = spawn(net, TL_LAB_CLIENT, client_main, &a);
    if (simultaneous) {
        usleep(300 * 1000);   /* the client has closed; its FIN waits in the wire */
        tl_tcp_state held = diag_state(net, TL_LAB_CLIENT, port, false);
        CHECK(held == TL_ST_FIN_WAIT_1, "client in FIN-WAIT-1 while the wire holds its FIN "
              "(saw %s)", tl_tcp_state_name(held));
        if (write(a.go[1], "g", 1) != 1) failures++;
    }
    int cs = wait_child(cli), ss = wait_child(srv);
    CHECK(cs == 0, "client connect/send/recv/close (exit %d)", cs);
    CHECK(ss == 0, "server accept/recv/send/close (exit %d)", ss);
    usleep(100 * 1000);
    tl_tcp_state st = diag_state(net, TL_LAB_CLIENT, port, false);
    CHECK(st == TL_ST_TIME_WAIT, "sock_diag: client socket in TIME-WAIT after the active "
          "close (saw %s)", tl_tcp_state_name(st));
    if (simultaneous) {
        st = diag_state(net, TL_LAB_SERVER, port, true);
        CHECK(st == TL_ST_TIME_WAIT, "sock_diag: server also in TIME-WAIT after crossing "
              "FINs (saw %s)", tl_tcp_state_name(st));
    }
    for (int i = 0; i < 2; i++) {
        close(a.ready[i]);
        close(a.go[i]);
    }
}

/* ---- tcplens states ---- */

static int exec_states(tl_lab_net *net, tl_lab_side side, const char *tcplens, char **argv,
                       char *out, size_t cap, int stop_after_ms, void (*during)(void *),
                       void *arg)
{
    int p[2];
    if (pipe(p) < 0) return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char err[TL_ERRBUF_SIZE];
        if (tl_lab_net_enter(net, side, err) < 0) _exit(100);
        dup2(p[1], 1);
        close(p[0]);
        execv(tcplens, argv);
        _exit(127);
    }
    close(p[1]);
    if (during) {
        usleep(500 * 1000);   /* let --follow attach */
        during(arg);
    }
    if (stop_after_ms) {
        usleep((useconds_t)stop_after_ms * 1000);
        kill(pid, SIGINT);
    }
    size_t len = 0;
    ssize_t r;
    while (len + 1 < cap && (r = read(p[0], out + len, cap - 1 - len)) > 0) len += (size_t)r;
    out[len] = '\0';
    close(p[0]);
    return wait_child(pid);
}

typedef struct states_ctx {
    tl_lab_net *net;
    uint16_t port;
} states_ctx;

static void connect_during_follow(void *p)
{
    states_ctx *c = p;
    run_connection(c->net, AF_INET, c->port, false, 100);
}

static int listen_forever(void *p)
{
    conn_args *a = p;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_storage ss;
    socklen_t sl;
    make_addr(AF_INET, TL_LAB_SERVER, a->port, &ss, &sl);
    if (bind(s, (struct sockaddr *)&ss, sl) < 0 || listen(s, 7) < 0) return 10;
    if (write(a->ready[1], "r", 1) != 1) return 11;
    pause();
    return 0;
}

static void check_states(tl_lab_net *net, const char *tcplens)
{
    static char out[65536];
    conn_args a = { .family = AF_INET, .port = 7001 };
    if (pipe(a.ready) < 0) exit(1);
    pid_t srv = spawn(net, TL_LAB_SERVER, listen_forever, &a);
    char r;
    if (read(a.ready[0], &r, 1) != 1) failures++;
    char *argv1[] = { (char *)tcplens, "states", "--port", "7001", NULL };
    int rc = exec_states(net, TL_LAB_SERVER, tcplens, argv1, out, sizeof out, 0, NULL, NULL);
    CHECK(rc == 0 && strstr(out, "LISTEN") && strstr(out, "192.0.2.2:7001"),
          "tcplens states --port 7001 lists the listener (exit %d):\n%s", rc, out);
    char *argv2[] = { (char *)tcplens, "states", "--json", "--port", "7001", NULL };
    rc = exec_states(net, TL_LAB_SERVER, tcplens, argv2, out, sizeof out, 0, NULL, NULL);
    CHECK(rc == 0 && strstr(out, "\"state\":\"LISTEN\"") && strstr(out, "\"local\":\"192.0.2.2:7001\""),
          "tcplens states --json gives a LISTEN record (exit %d): %s", rc, out);
    kill(srv, SIGKILL);
    wait_child(srv);
    close(a.ready[0]);
    close(a.ready[1]);

    states_ctx c = { net, 7002 };
    char *argv3[] = { (char *)tcplens, "states", "--follow", "--json", "--port", "7002", NULL };
    rc = exec_states(net, TL_LAB_CLIENT, tcplens, argv3, out, sizeof out, 300,
                     connect_during_follow, &c);
    /* Each step is paced (100 ms) so that sock_diag polling sees the lasting
     * states; SYN-SENT lasts one round trip, which only the tracepoint sees. */
    bool tp = strstr(out, "\"source\":\"tracepoint\"") != NULL;
    /* A poller starved for a pacing step under load (seen under the
     * sanitizers: 100 ms between two polls) sees FIN-WAIT-1 and then
     * TIME-WAIT; either FIN-WAIT state shows the active close then. The
     * tracepoint sees every transition. */
    bool closing = strstr(out, "\"to\":\"FIN-WAIT-2\"") ||
                   (!tp && strstr(out, "\"to\":\"FIN-WAIT-1\""));
    CHECK(rc == 0 && strstr(out, "\"to\":\"ESTABLISHED\"") && closing &&
          strstr(out, "\"to\":\"TIME-WAIT\"") && strstr(out, "\"local\":\"192.0.2.1:"),
          "tcplens states --follow in the client namespace reports ESTABLISHED, FIN-WAIT-2 "
          "(or, polled, FIN-WAIT-1), TIME-WAIT (exit %d):\n%s", rc, out);
    if (tp)
        CHECK(strstr(out, "\"from\":\"CLOSED\",\"to\":\"SYN-SENT\"") &&
              strstr(out, "\"from\":\"SYN-SENT\",\"to\":\"ESTABLISHED\""),
              "the tracepoint also shows CLOSED -> SYN-SENT -> ESTABLISHED");
    printf("# states --follow source: %s\n", tp ? "tracepoint" : "sock_diag");
}

int main(int argc, char **argv)
{
    const char *tcplens = NULL;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--tcplens") == 0 && i + 1 < argc) tcplens = argv[++i];
    setvbuf(stdout, NULL, _IOLBF, 0);
    char err[TL_ERRBUF_SIZE];
    tl_lab_net *net;
    unsigned uid = (unsigned)getuid();   /* before a user namespace maps it to 0 */
    int e = tl_lab_net_open(&net, err);
    if (e == TL_EPERM) {
        printf("lab network not permitted here: %s\n", err);
        return 77;
    }
    if (e < 0) {
        printf("FAIL tl_lab_net_open: %s\n", err);
        return 1;
    }
    const char *link = tl_lab_net_link(net) == TL_WIRE_LINK_TUN ? "tun" : "veth";
    printf("# lab network as uid %u: %s link%s\n", uid, link,
           tl_lab_net_in_userns(net) ? ", in a user namespace" : "");

    /* Rule 0 drops the first SYN. Rules 1 and 2 make the FINs of the third
     * connection (port 6003) cross: the client's FINs (retransmissions
     * included) wait until the server's FIN has passed. They match port 6003
     * only: counted over all connections, one FIN the client retransmitted
     * under load (seen in make test) moved them onto another connection. */
    tl_wire_rule rules[] = {
        { .dir = TL_WIRE_C2S, .flags_mask = TL_TH_SYN | TL_TH_ACK, .flags_value = TL_TH_SYN,
          .payload = -1, .first = 1, .count = 1, .action = TL_WIRE_DROP },
        { .dir = TL_WIRE_C2S, .flags_mask = TL_TH_FIN, .flags_value = TL_TH_FIN, .payload = -1,
          .first = 1, .count = 0, .action = TL_WIRE_HOLD, .release_on = 2, .port = 6003 },
        { .dir = TL_WIRE_S2C, .flags_mask = TL_TH_FIN, .flags_value = TL_TH_FIN, .payload = -1,
          .first = 1, .count = 1, .action = TL_WIRE_PASS, .port = 6003 },
    };
    tl_wire_port cp, sp;
    tl_lab_net_port(net, TL_LAB_CLIENT, &cp);
    tl_lab_net_port(net, TL_LAB_SERVER, &sp);
    tl_wire *w;
    if (tl_wire_new(&w, &cp, &sp, rules, 3, on_wire, NULL, err) < 0 ||
        tl_wire_start(w, err) < 0) {
        printf("FAIL wire: %s\n", err);
        return 1;
    }

    e = tl_lab_net_sysctl(net, TL_LAB_CLIENT, "net.ipv4.tcp_syn_retries", "2", err);
    CHECK(e == 0, "sysctl net.ipv4.tcp_syn_retries=2 in the client namespace %s", e ? err : "");
    pid_t sc = spawn(net, TL_LAB_CLIENT, sysctl_main, NULL);
    CHECK(wait_child(sc) == 0, "the client namespace reads back tcp_syn_retries = 2");
    CHECK(diag_state(net, TL_LAB_SERVER, 6001, true) == TL_ST_UNKNOWN,
          "the server namespace starts without sockets on port 6001");

    run_connection(net, AF_INET, 6001, false, 0);
    CHECK(count_seen(4, TL_WIRE_C2S, TL_TH_SYN | TL_TH_ACK, TL_TH_SYN, -1, TL_WIRE_DROPPED) == 1,
          "IPv4: the wire dropped the first SYN");
    CHECK(count_seen(4, TL_WIRE_C2S, TL_TH_SYN | TL_TH_ACK, TL_TH_SYN, -1, TL_WIRE_FORWARDED) == 1,
          "IPv4: the client retransmitted the SYN and it was forwarded");
    CHECK(count_seen(4, TL_WIRE_S2C, TL_TH_SYN | TL_TH_ACK, TL_TH_SYN | TL_TH_ACK, -1, -1) == 1,
          "IPv4: SYN-ACK from the server");
    CHECK(count_seen(4, TL_WIRE_C2S, TL_TH_SYN | TL_TH_ACK | TL_TH_FIN, TL_TH_ACK, 0, -1) >= 1,
          "IPv4: pure ACK from the client");
    CHECK(count_seen(4, TL_WIRE_C2S, 0, 0, 1, -1) == 1, "IPv4: data from the client");
    CHECK(count_seen(4, TL_WIRE_S2C, 0, 0, 1, -1) == 1, "IPv4: data from the server");
    /* >= 1: a FIN whose ACK is late under load is sent again */
    CHECK(count_seen(4, TL_WIRE_C2S, TL_TH_FIN, TL_TH_FIN, -1, -1) >= 1, "IPv4: FIN from the client");
    CHECK(count_seen(4, TL_WIRE_S2C, TL_TH_FIN, TL_TH_FIN, -1, -1) >= 1, "IPv4: FIN from the server");

    run_connection(net, AF_INET6, 6002, false, 0);
    CHECK(count_seen(6, TL_WIRE_C2S, TL_TH_SYN | TL_TH_ACK, TL_TH_SYN, -1, -1) == 1,
          "IPv6: one SYN (the drop rule fired once only)");
    CHECK(count_seen(6, TL_WIRE_S2C, TL_TH_SYN | TL_TH_ACK, TL_TH_SYN | TL_TH_ACK, -1, -1) == 1,
          "IPv6: SYN-ACK");
    CHECK(count_seen(6, TL_WIRE_C2S, 0, 0, 1, -1) == 1 && count_seen(6, TL_WIRE_S2C, 0, 0, 1, -1) == 1,
          "IPv6: data both ways");
    CHECK(count_seen(6, TL_WIRE_C2S, TL_TH_FIN, TL_TH_FIN, -1, -1) >= 1 &&
              count_seen(6, TL_WIRE_S2C, TL_TH_FIN, TL_TH_FIN, -1, -1) >= 1,
          "IPv6: FIN both ways");

    /* Third connection: the client's FIN is held until the server's FIN passed. */
    run_connection(net, AF_INET, 6003, true, 0);

    if (tcplens && access(tcplens, X_OK) == 0) check_states(net, tcplens);
    else printf("# tcplens binary not given or missing: states not checked\n");

    tl_wire_stats st;
    tl_wire_stats_get(w, &st);
    tl_wire_stop(w);
    tl_wire_free(w);
    tl_lab_net_close(net);
    printf("# wire: %llu packets, %llu dropped, %llu held, %llu errors\n",
           (unsigned long long)st.packets, (unsigned long long)st.dropped,
           (unsigned long long)st.held, (unsigned long long)st.errors);
    CHECK(st.errors == 0, "the wire had no send/receive errors");
    printf("%s\n", failures ? "some checks failed" : "all checks passed");
    return failures ? 1 : 0;
}
