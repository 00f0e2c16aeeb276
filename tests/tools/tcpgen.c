/* tcpgen.c -- plays real client/server TCP scenarios on one address so that
 * captures of real kernel behaviour can be checked against tshark.
 *
 * Standalone test helper (no tcplens code). Usage:
 *     tcpgen [-S NETNS_PATH] [-c CMD] [-q] SCENARIO ADDR PORT
 * The server is a forked child listening on ADDR:PORT (after joining the
 * network namespace at NETNS_PATH when -S is given, so a veth pair can sit
 * between the two); the client runs in the calling process. Every socket call
 * is printed with its result. Exit status 0 when each side saw exactly the
 * results the scenario expects, 1 when not, 2 on usage errors.
 *
 * Checkpoints: some scenarios stop at a quiet moment whose kernel states are
 * worth recording (both sides blocked, nothing in flight) and run CMD through
 * /bin/sh there, with TCPGEN_CHECKPOINT (the checkpoint's name) and
 * TCPGEN_TIME (CLOCK_REALTIME, the clock of capture timestamps) in its
 * environment; a test runs `ss` from CMD to snapshot the sockets.
 *
 * Closing behaviour follows RFC 9293 section 3.6 (FIN, TIME-WAIT), 3.10.7.4
 * (RST for data to a closed socket) and RFC 2525 section 2.17 (close() with
 * unread data sends RST); SO_LINGER {1,0} aborts with RST (RFC 9293 3.10.5).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_SEC 15
#define BULK_BYTES (200 * 1024)
#define BULK_MSS 1200
#define MULTI_CONNS 3

static const char *side = "tcpgen";
static bool quiet;
static bool failed;
static const char *checkpoint_cmd;   /* -c */
static pid_t server_pid = -1;
static int go_pipe[2] = { -1, -1 };  /* client -> server: "go on" */

static void say(const char *fmt, ...)
{
    va_list ap;
    if (quiet)
        return;
    printf("  [%s] ", side);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* A result that differs from what the scenario expects: remember and say. */
static void mismatch(const char *fmt, ...)
{
    va_list ap;
    failed = true;
    fprintf(stderr, "tcpgen: %s: UNEXPECTED: ", side);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const char *errno_name(int e)
{
    switch (e) {
    case 0: return "0";
    case EPIPE: return "EPIPE";
    case ECONNRESET: return "ECONNRESET";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EBADF: return "EBADF";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EINTR: return "EINTR";
    default: return strerror(e);
    }
}

/* Prints "call = ret" or "call = -1 ERRNO" and checks it against want_ret
 * (or want_errno when want_ret is -1). Returns ret. */
static long check(const char *call, long ret, long want_ret, int want_errno)
{
    int err = errno;    /* read here: the call in the argument has returned */
    if (ret < 0)
        say("%s = -1 %s", call, errno_name(err));
    else
        say("%s = %ld", call, ret);
    if (ret != want_ret || (want_ret < 0 && err != want_errno)) {
        if (want_ret < 0)
            mismatch("%s: wanted -1 %s, got %ld %s", call, errno_name(want_errno), ret,
                     ret < 0 ? errno_name(err) : "");
        else
            mismatch("%s: wanted %ld, got %ld %s", call, want_ret, ret,
                     ret < 0 ? errno_name(err) : "");
    }
    return ret;
}

static void on_alarm(int sig)
{
    static const char msg[] = "tcpgen: timeout\n";
    (void)sig;
    if (write(2, msg, sizeof msg - 1) < 0)
        _exit(3);
    _exit(3);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Runs the -c command at a quiet moment of the scenario (see the top). */
static void checkpoint(const char *name)
{
    struct timespec now;
    char ts[64];
    if (!checkpoint_cmd)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(ts, sizeof ts, "%lld.%09ld", (long long)now.tv_sec, now.tv_nsec);
    setenv("TCPGEN_CHECKPOINT", name, 1);
    setenv("TCPGEN_TIME", ts, 1);
    fflush(stdout);
    int r = system(checkpoint_cmd);
    say("checkpoint %s at %s: command exit %d", name, ts, r);
    if (r != 0)
        mismatch("checkpoint %s: '%s' failed (status 0x%x)", name, checkpoint_cmd, r);
}

/* The client lets the blocked server go on (the server waits for it when a
 * checkpoint must see it stand still). */
static void client_go(void)
{
    if (write(go_pipe[1], "g", 1) != 1)
        mismatch("go pipe: %s", strerror(errno));
}

static void server_wait_go(void)
{
    char c;
    if (read(go_pipe[0], &c, 1) != 1)
        mismatch("go pipe: no go from the client");
}

/* ---- addresses and sockets ---- */

static struct sockaddr_storage peer;   /* ADDR:PORT, the server's address */
static socklen_t peer_len;
static char peer_text[80];

static bool parse_addr(const char *addr, const char *port)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(addr, port, &hints, &res) != 0 || !res)
        return false;
    memcpy(&peer, res->ai_addr, res->ai_addrlen);
    peer_len = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(peer_text, sizeof peer_text, peer.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
             addr, port);
    return true;
}

static void set_int(int fd, int level, int opt, int val, const char *name)
{
    if (setsockopt(fd, level, opt, &val, sizeof val) < 0)
        mismatch("setsockopt(%s, %d): %s", name, val, strerror(errno));
}

static int server_listen(int mss, int rcvbuf)
{
    char call[128];
    int fd = socket(peer.ss_family, SOCK_STREAM, 0);
    if (fd < 0) {
        mismatch("socket: %s", strerror(errno));
        return -1;
    }
    set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
    if (mss)
        set_int(fd, IPPROTO_TCP, TCP_MAXSEG, mss, "TCP_MAXSEG");
    if (rcvbuf)
        set_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf, "SO_RCVBUF");
    snprintf(call, sizeof call, "bind(%s)", peer_text);
    int r = bind(fd, (struct sockaddr *)&peer, peer_len);
    if (check(call, r, 0, 0) < 0 ||
        check("listen()", listen(fd, 8), 0, 0) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int server_accept(int lfd)
{
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        check("accept()", fd, 0, 0);
    else
        say("accept() = fd %d", fd);
    return fd;
}

/* bind_port for a port to be bound again later: bind() to port 0 picks one
 * no other socket is bound to. (connect() may pick a port that another
 * connection, even one in TIME-WAIT, still has: binding it again later
 * then fails with EADDRINUSE; seen in make test.) */
#define BIND_FREE_PORT 0x10000u

/* Connects to peer from local port bind_port (0: ephemeral, picked by
 * connect; BIND_FREE_PORT: see above). want_errno 0 means success is
 * expected. Returns the fd, or -1. */
static int client_connect(int mss, unsigned bind_port, int want_errno)
{
    char call[128];
    int fd = socket(peer.ss_family, SOCK_STREAM, 0);
    if (fd < 0) {
        mismatch("socket: %s", strerror(errno));
        return -1;
    }
    if (mss)
        set_int(fd, IPPROTO_TCP, TCP_MAXSEG, mss, "TCP_MAXSEG");
    if (bind_port) {
        struct sockaddr_storage local;
        memset(&local, 0, sizeof local);
        local.ss_family = peer.ss_family;
        uint16_t port_n = bind_port == BIND_FREE_PORT ? 0 : htons((uint16_t)bind_port);
        if (peer.ss_family == AF_INET)
            ((struct sockaddr_in *)&local)->sin_port = port_n;
        else
            ((struct sockaddr_in6 *)&local)->sin6_port = port_n;
        set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
        snprintf(call, sizeof call, "bind(port %u)", (unsigned)ntohs(port_n));
        if (check(call, bind(fd, (struct sockaddr *)&local, peer_len), 0, 0) < 0) {
            close(fd);
            return -1;
        }
    }
    snprintf(call, sizeof call, "connect(%s)", peer_text);
    int r = connect(fd, (struct sockaddr *)&peer, peer_len);
    /* Reusing a 4-tuple right after close can meet the old socket still
     * hashed for a moment: retry briefly (this is not the scenario's point). */
    for (int i = 0; r < 0 && errno == EADDRNOTAVAIL && bind_port && i < 50; i++) {
        sleep_ms(20);
        r = connect(fd, (struct sockaddr *)&peer, peer_len);
    }
    if (check(call, r, want_errno ? -1 : 0, want_errno) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static unsigned local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void do_send(int fd, const char *s, long want_ret, int want_errno)
{
    char call[128];
    size_t n = strlen(s);
    snprintf(call, sizeof call, "send(\"%s\", %zu)", s, n);
    check(call, send(fd, s, n, 0), want_ret, want_errno);
}

/* Receives exactly strlen(want) bytes and compares them. */
static void recv_exact(int fd, const char *want)
{
    char buf[256];
    size_t n = strlen(want), got = 0;
    while (got < n) {
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r <= 0) {
            check("recv()", r, (long)(n - got), 0);
            return;
        }
        got += (size_t)r;
    }
    buf[got] = '\0';
    say("recv() = %zu \"%s\"", got, buf);
    if (memcmp(buf, want, n) != 0)
        mismatch("recv: wanted \"%s\", got \"%s\"", want, buf);
}

static void recv_expect(int fd, long want_ret, int want_errno)
{
    char buf[64];
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    check(want_ret == 0 && r == 0 ? "recv() [peer closed: EOF]" : "recv()", r,
          want_ret, want_errno);
}

static void do_close(int fd)
{
    check("close()", close(fd), 0, 0);
}

/* ---- bulk transfer ---- */

static unsigned char bulk_byte(size_t i, unsigned salt)
{
    return (unsigned char)((i * 31u + salt + (i >> 8)) & 0xff);
}

static void bulk_send(int fd, unsigned salt)
{
    static unsigned char buf[16384];
    size_t sent = 0;
    while (sent < BULK_BYTES) {
        size_t n = BULK_BYTES - sent < sizeof buf ? BULK_BYTES - sent : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = bulk_byte(sent + i, salt);
        ssize_t r = send(fd, buf, n, 0);
        if (r <= 0) {
            check("send(bulk)", r, (long)n, 0);
            return;
        }
        sent += (size_t)r;
    }
    say("send() x N = %zu bytes total", sent);
}

/* Reads until EOF in small reads (so the receive window moves in steps). */
static void bulk_recv(int fd, unsigned salt)
{
    unsigned char buf[3000];
    size_t got = 0;
    bool bad = false;
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r < 0) {
            check("recv(bulk)", r, 0, 0);
            return;
        }
        if (r == 0)
            break;
        for (ssize_t i = 0; i < r && !bad; i++)
            bad = buf[i] != bulk_byte(got + (size_t)i, salt);
        got += (size_t)r;
    }
    say("recv() x N = %zu bytes, then 0 (EOF)", got);
    if (got != BULK_BYTES || bad)
        mismatch("bulk: wanted %d bytes of the pattern, got %zu%s", BULK_BYTES, got,
                 bad ? " (corrupt)" : "");
}

/* ---- scenarios: one server and one client function each ---- */

typedef struct scenario {
    const char *name;
    const char *what;
    void (*server)(int lfd);
    void (*client)(void);
    int mss;       /* TCP_MAXSEG for both sides, 0 = default */
    int rcvbuf;    /* server SO_RCVBUF, 0 = default */
} scenario;

static void normal_server_common(int lfd, long close_delay_ms, bool delay_ack)
{
    int fd = server_accept(lfd);
    if (fd < 0)
        return;
    if (delay_ack)
        set_int(fd, IPPROTO_TCP, TCP_QUICKACK, 0, "TCP_QUICKACK");
    recv_exact(fd, "hello world");
    recv_expect(fd, 0, 0);
    if (close_delay_ms) {
        say("sleep %ld ms (the delayed ACK of the client's FIN goes out alone)", close_delay_ms);
        sleep_ms(close_delay_ms);
    }
    do_close(fd);
}

static void normal_server(int lfd) { normal_server_common(lfd, 0, false); }
static void fin3_server(int lfd) { normal_server_common(lfd, 0, true); }
static void fin4_server(int lfd) { normal_server_common(lfd, 400, false); }

static void normal_client(void)
{
    int fd = client_connect(0, 0, 0);
    if (fd < 0)
        return;
    do_send(fd, "hello world", 11, 0);
    do_close(fd);
}

static void rst_server(int lfd)
{
    int fd = server_accept(lfd);
    if (fd < 0)
        return;
    recv_exact(fd, "hello world");
    do_send(fd, "ok", 2, 0);
    recv_expect(fd, -1, ECONNRESET);
    do_close(fd);
}

static void rst_client(void)
{
    struct linger lg = { 1, 0 };
    int fd = client_connect(0, 0, 0);
    if (fd < 0)
        return;
    do_send(fd, "hello world", 11, 0);
    recv_exact(fd, "ok");
    sleep_ms(50);                /* the client's ACK of "ok" */
    checkpoint("established");   /* the server is blocked in recv() */
    check("setsockopt(SO_LINGER {1,0})",
          setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0, 0);
    do_close(fd);
}

static void cts_server(int lfd)
{
    char c = 'x';
    int fd = server_accept(lfd);
    if (fd < 0)
        return;
    do_close(fd);
    check("send(closed fd)", send(fd, &c, 1, 0), -1, EBADF);
    check("recv(closed fd)", recv(fd, &c, 1, 0), -1, EBADF);
}

static void cts_client(void)
{
    int fd = client_connect(0, 0, 0);
    if (fd < 0)
        return;
    recv_expect(fd, 0, 0);
    sleep_ms(50);
    checkpoint("server-closed");          /* client CLOSE-WAIT, server FIN-WAIT-2 */
    do_send(fd, "first", 5, 0);           /* accepted locally, draws an RST */
    sleep_ms(100);
    checkpoint("reset");                  /* both gone: the RST closed them */
    do_send(fd, "second", -1, EPIPE);     /* SIGPIPE is ignored: EPIPE */
    do_close(fd);
}

static void unread_server(int lfd)
{
    struct pollfd p;
    int fd = server_accept(lfd);
    if (fd < 0)
        return;
    p.fd = fd;
    p.events = POLLIN;
    check("poll(POLLIN) [data waiting, not read]", poll(&p, 1, 5000), 1, 0);
    do_close(fd);
}

static void unread_client(void)
{
    int fd = client_connect(0, 0, 0);
    if (fd < 0)
        return;
    do_send(fd, "hello world", 11, 0);
    recv_expect(fd, -1, ECONNRESET);
    do_close(fd);
}

static void shutdown_server(int lfd)
{
    int fd = server_accept(lfd);
    if (fd < 0)
        return;
    check("shutdown(SHUT_WR)", shutdown(fd, SHUT_WR), 0, 0);
    recv_exact(fd, "data after your FIN");
    recv_expect(fd, 0, 0);
    do_close(fd);
}

static void shutdown_client(void)
{
    int fd = client_connect(0, 0, 0);
    if (fd < 0)
        return;
    recv_expect(fd, 0, 0);
    sleep_ms(50);
    checkpoint("server-shut");   /* client CLOSE-WAIT, server FIN-WAIT-2 */
    do_send(fd, "data after your FIN", 19, 0);
    sleep_ms(50);
    do_close(fd);
}

static void refused_client(void)
{
    int fd = client_connect(0, 0, ECONNREFUSED);
    if (fd >= 0)
        close(fd);
}

static void bulk_server(int lfd)
{
    int fd = server_accept(lfd);
    if (fd < 0)
        return;
    bulk_recv(fd, 1);
    bulk_send(fd, 2);
    do_close(fd);
}

static void bulk_client(void)
{
    int fd = client_connect(BULK_MSS, 0, 0);
    if (fd < 0)
        return;
    bulk_send(fd, 1);
    check("shutdown(SHUT_WR)", shutdown(fd, SHUT_WR), 0, 0);
    bulk_recv(fd, 2);
    do_close(fd);
}

/* Several connections; the server closes first (so it holds TIME-WAIT) and
 * the client reuses its first local port: the same 4-tuple comes back. */
static void multi_server(int lfd)
{
    for (int i = 0; i < MULTI_CONNS; i++) {
        int fd = server_accept(lfd);
        if (fd < 0)
            return;
        recv_exact(fd, "ping");
        do_send(fd, "pong", 4, 0);
        do_close(fd);
    }
}

static void multi_client(void)
{
    unsigned port = BIND_FREE_PORT;
    for (int i = 0; i < MULTI_CONNS; i++) {
        int fd = client_connect(0, port, 0);
        if (fd < 0)
            return;
        if (port == BIND_FREE_PORT)
            port = local_port(fd);
        do_send(fd, "ping", 4, 0);
        recv_exact(fd, "pong");
        recv_expect(fd, 0, 0);
        do_close(fd);
        sleep_ms(50);
        char name[16];
        snprintf(name, sizeof name, "conn%d", i + 1);
        checkpoint(name);        /* the server's TIME-WAIT of this connection */
    }
}

/* Half-close carrying data: the client sends its request and shuts down its
 * sending direction; the server reads to EOF and only then answers, through
 * the direction still open (RFC 9293 3.6: CLOSE-WAIT may still send). */
static void half_close_server(int lfd)
{
    int fd = server_accept(lfd);
    if (fd < 0)
        return;
    recv_exact(fd, "request");
    recv_expect(fd, 0, 0);
    do_send(fd, "answer after your FIN", 21, 0);
    server_wait_go();
    do_close(fd);
}

static void half_close_client(void)
{
    int fd = client_connect(0, 0, 0);
    if (fd < 0)
        return;
    do_send(fd, "request", 7, 0);
    check("shutdown(SHUT_WR)", shutdown(fd, SHUT_WR), 0, 0);
    recv_exact(fd, "answer after your FIN");
    sleep_ms(50);                /* the client's ACK of the answer */
    checkpoint("half-closed");   /* client FIN-WAIT-2, server CLOSE-WAIT */
    client_go();
    recv_expect(fd, 0, 0);
    do_close(fd);
}

/* The server process is killed mid-connection: its kernel closes the
 * orphaned socket with a FIN (nothing unread, so not an RST) and keeps it in
 * FIN-WAIT-2; the client sees EOF and sits in CLOSE-WAIT until it closes. */
static void kill_server_server(int lfd)
{
    char c;
    int fd = server_accept(lfd);
    if (fd < 0)
        return;
    recv_exact(fd, "hello");
    do_send(fd, "ok", 2, 0);
    say("recv() ... [blocked until killed]");
    if (recv(fd, &c, 1, 0) >= 0 || errno != EINTR)
        mismatch("recv returned: the server should have been killed first");
}

static void kill_server_client(void)
{
    int fd = client_connect(0, 0, 0);
    if (fd < 0)
        return;
    do_send(fd, "hello", 5, 0);
    recv_exact(fd, "ok");
    sleep_ms(20);                /* the server is blocked in recv() */
    check("kill(server, SIGKILL)", kill(server_pid, SIGKILL), 0, 0);
    recv_expect(fd, 0, 0);
    sleep_ms(100);               /* the client's ACK of the FIN */
    checkpoint("server-killed"); /* client CLOSE-WAIT, server FIN-WAIT-2 */
    do_close(fd);
    sleep_ms(50);
}

static const scenario scenarios[] = {
    { "normal", "connect, \"hello world\", client closes, server reads EOF and closes",
      normal_server, normal_client, 0, 0 },
    { "fin3", "as normal; the server's FIN carries the delayed ACK of the client's FIN",
      fin3_server, normal_client, 0, 0 },
    { "fin4", "as normal; the server waits 400 ms, so FIN, ACK, FIN, ACK",
      fin4_server, normal_client, 0, 0 },
    { "rst", "client sets SO_LINGER {1,0} and closes: RST, server recv ECONNRESET",
      rst_server, rst_client, 0, 0 },
    { "close-then-send", "server closes; client recv 0, send ok (draws RST), send EPIPE",
      cts_server, cts_client, 0, 0 },
    { "unread", "server closes with unread data: RST, client recv ECONNRESET",
      unread_server, unread_client, 0, 0 },
    { "shutdown", "server shutdown(SHUT_WR), still reads the client's data",
      shutdown_server, shutdown_client, 0, 0 },
    { "refused", "connect to a port nobody listens on: RST, ECONNREFUSED",
      NULL, refused_client, 0, 0 },
    { "bulk", "200 KB each way, MSS 1200, small server receive buffer",
      bulk_server, bulk_client, BULK_MSS, 32768 },
    { "multi", "3 connections from the same client port (server in TIME-WAIT)",
      multi_server, multi_client, 0, 0 },
    { "half-close", "client sends, shutdown(SHUT_WR); server reads EOF, answers, closes",
      half_close_server, half_close_client, 0, 0 },
    { "kill-server", "the server process is SIGKILLed mid-connection: FIN from its kernel",
      kill_server_server, kill_server_client, 0, 0 },
};

static void usage(void)
{
    fprintf(stderr, "usage: tcpgen [-S NETNS_PATH] [-c CMD] [-q] SCENARIO ADDR PORT\n"
            "scenarios:\n");
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        fprintf(stderr, "  %-16s %s\n", scenarios[i].name, scenarios[i].what);
}

/* The server child: join the namespace, listen, tell the parent, serve. */
static void run_server(const scenario *sc, const char *netns, int ready_fd)
{
    side = "server";
    alarm(TIMEOUT_SEC);
    if (netns) {
        int nfd = open(netns, O_RDONLY | O_CLOEXEC);
        if (nfd < 0 || setns(nfd, CLONE_NEWNET) < 0) {
            fprintf(stderr, "tcpgen: server: join %s: %s\n", netns, strerror(errno));
            _exit(1);
        }
        close(nfd);
    }
    int lfd = server_listen(sc->mss, sc->rcvbuf);
    if (lfd < 0)
        _exit(1);
    if (write(ready_fd, "r", 1) != 1)
        _exit(1);
    close(ready_fd);
    close(go_pipe[1]);
    sc->server(lfd);
    close(lfd);
    fflush(stdout);
    _exit(failed ? 1 : 0);
}

int main(int argc, char **argv)
{
    const char *netns = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "S:c:q")) != -1) {
        if (opt == 'S')
            netns = optarg;
        else if (opt == 'c')
            checkpoint_cmd = optarg;
        else if (opt == 'q')
            quiet = true;
        else {
            usage();
            return 2;
        }
    }
    if (argc - optind != 3) {
        usage();
        return 2;
    }
    const scenario *sc = NULL;
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (strcmp(scenarios[i].name, argv[optind]) == 0)
            sc = &scenarios[i];
    if (!sc || !parse_addr(argv[optind + 1], argv[optind + 2])) {
        usage();
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
    setvbuf(stdout, NULL, _IOLBF, 0);
    say("scenario %s: %s", sc->name, sc->what);

    pid_t pid = -1;
    if (sc->server) {
        int p[2];
        char c;
        if (pipe(p) < 0 || pipe(go_pipe) < 0) {
            perror("tcpgen: pipe");
            return 1;
        }
        fflush(stdout);
        pid = fork();
        if (pid < 0) {
            perror("tcpgen: fork");
            return 1;
        }
        if (pid == 0) {
            close(p[0]);
            run_server(sc, netns, p[1]);
        }
        close(p[1]);
        close(go_pipe[0]);
        server_pid = pid;
        if (read(p[0], &c, 1) != 1) {
            fprintf(stderr, "tcpgen: the server did not start\n");
            waitpid(pid, NULL, 0);
            return 1;
        }
        close(p[0]);
    }
    side = "client";
    alarm(TIMEOUT_SEC);
    sc->client();
    if (pid > 0) {
        int st = 0;
        bool killed = sc->client == kill_server_client;
        if (waitpid(pid, &st, 0) < 0 ||
            (killed ? !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL
                    : !WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
            fprintf(stderr, "tcpgen: the server failed (status 0x%x)\n", st);
            failed = true;
        }
    }
    alarm(0);
    side = "tcpgen";
    say("%s: %s", sc->name, failed ? "FAILED" : "ok");
    return failed ? 1 : 0;
}
