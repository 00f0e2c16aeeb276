/* cmd_serve.c -- `tcplens serve`: the lab's server as a command (SPEC.md
 * 4.4). Listens, accepts, handles each connection in one of four modes and
 * prints every socket call with its result, so any experiment can be
 * repeated by hand on any host.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/commands.h"
#include "lab/calls.h"

typedef enum mode { M_ECHO, M_COUNT, M_HEXDUMP, M_DISCARD } mode;

typedef struct serve_opts {
    int port;
    bool v6, reuseaddr, nodelay, once;
    mode mode;
    size_t read_size;
    int linger;                /* -1: not set */
    int end;                   /* 0: read to EOF, then close; 1 --shutdown: shutdown(SHUT_WR)
                                * on accept, then read to EOF; 2 --close: close() on accept */
} serve_opts;

static void usage(FILE *fp)
{
    fprintf(fp, "usage: tcplens serve [-p PORT] [-6] [--mode echo|count|hexdump|discard] [--read-size N]\n"
                "                     [--linger SECS] [--reuseaddr] [--nodelay] [--shutdown|--close] [--once]\n"
                "  default: read until the client closes, answering per mode, then close()\n"
                "  --shutdown  shutdown(SHUT_WR) right after accept, then keep reading (lab shutdown)\n"
                "  --close     close() right after accept (lab close-then-send)\n");
}

static void hexdump(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        printf("            %04zx  ", i);
        for (size_t j = 0; j < 16; j++) {
            if (i + j < n) printf("%02x ", p[i + j]);
            else printf("   ");
        }
        printf(" ");
        for (size_t j = 0; j < 16 && i + j < n; j++)
            putchar(p[i + j] >= 0x20 && p[i + j] < 0x7f ? p[i + j] : '.');
        putchar('\n');
    }
}

static void handle(tl_calls *c, int fd, const serve_opts *o)
{
    if (o->nodelay) tl_c_setsockopt(c, fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", 1);
    if (o->linger >= 0) tl_c_linger(c, fd, 1, o->linger);
    unsigned char *buf = malloc(o->read_size);
    if (!buf) return;
    if (o->end == 2) {          /* --close: at once, as lab close-then-send */
        tl_c_close(c, fd);
        free(buf);
        return;
    }
    if (o->end == 1) tl_c_shutdown(c, fd, SHUT_WR);   /* --shutdown: FIN now, keep reading */
    size_t total = 0, reads = 0;
    ssize_t n;
    while ((n = tl_c_recv(c, fd, buf, o->read_size)) > 0) {
        total += (size_t)n;
        reads++;
        if (o->mode == M_ECHO) tl_c_send(c, fd, buf, (size_t)n);
        else if (o->mode == M_HEXDUMP) hexdump(buf, (size_t)n);
    }
    if (o->mode == M_COUNT) {
        char msg[96];
        int len = snprintf(msg, sizeof msg, "%zu bytes in %zu reads\n", total, reads);
        tl_calls_note(c, "%.*s", len - 1, msg);
        tl_c_send(c, fd, msg, (size_t)len);
    }
    tl_c_close(c, fd);
    free(buf);
}

static int parse(int argc, char **argv, serve_opts *o)
{
    *o = (serve_opts){ .port = 8888, .read_size = 1024, .linger = -1 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return -1;
        } else if (!strcmp(a, "-p") && v) {
            o->port = atoi(v), i++;
        } else if (!strcmp(a, "-6")) {
            o->v6 = true;
        } else if (!strcmp(a, "--mode") && v) {
            i++;
            if (!strcmp(v, "echo")) o->mode = M_ECHO;
            else if (!strcmp(v, "count")) o->mode = M_COUNT;
            else if (!strcmp(v, "hexdump")) o->mode = M_HEXDUMP;
            else if (!strcmp(v, "discard")) o->mode = M_DISCARD;
            else return 2;
        } else if (!strcmp(a, "--read-size") && v) {
            long n = atol(v);
            i++;
            if (n <= 0 || n > 1 << 24) return 2;
            o->read_size = (size_t)n;
        } else if (!strcmp(a, "--linger") && v) {
            o->linger = atoi(v), i++;
        } else if (!strcmp(a, "--reuseaddr")) {
            o->reuseaddr = true;
        } else if (!strcmp(a, "--nodelay")) {
            o->nodelay = true;
        } else if (!strcmp(a, "--shutdown")) {
            o->end = 1;
        } else if (!strcmp(a, "--close")) {
            o->end = 2;
        } else if (!strcmp(a, "--once")) {
            o->once = true;
        } else {
            return 2;
        }
    }
    return o->port > 0 && o->port < 65536 ? 0 : 2;
}

int tl_cmd_serve(int argc, char **argv)
{
    serve_opts o;
    int pr = parse(argc, argv, &o);
    if (pr < 0) return 0;
    if (pr) {
        usage(stderr);
        return 2;
    }
    tl_calls c;
    tl_calls_init(&c, 1, -1, stdout);
    tl_calls_catch_sigpipe();
    int lfd = tl_c_socket(&c, o.v6 ? AF_INET6 : AF_INET);
    if (lfd < 0) return 1;
    if (o.reuseaddr) tl_c_setsockopt(&c, lfd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 1);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    if (o.v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)o.port);
        s6->sin6_addr = in6addr_any;
        sl = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)o.port);
        s4->sin_addr.s_addr = htonl(INADDR_ANY);
        sl = sizeof *s4;
    }
    if (tl_c_bind(&c, lfd, (struct sockaddr *)&ss, sl) < 0 || tl_c_listen(&c, lfd, 16) < 0) {
        close(lfd);
        return 1;
    }
    for (;;) {
        int fd = tl_c_accept(&c, lfd);
        if (fd < 0) break;
        handle(&c, fd, &o);
        if (o.once) break;
    }
    tl_c_close(&c, lfd);
    return 0;
}
