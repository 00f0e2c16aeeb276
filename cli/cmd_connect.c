/* cmd_connect.c -- `tcplens connect HOST PORT`: the lab's client as a
 * command (SPEC.md 4.4). Connects, sends each --send text as one write,
 * optionally reads the answer, and closes the way the flags say; every
 * socket call is printed with its result (errno names, SIGPIPE).
 */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/commands.h"
#include "lab/calls.h"

#define MAX_SEND 64

typedef struct connect_opts {
    const char *host, *port;
    const char *send[MAX_SEND];
    int nsend;
    bool linger, nodelay, shutdown, write_after_close, read;
} connect_opts;

static void usage(FILE *fp)
{
    fprintf(fp, "usage: tcplens connect HOST PORT [--send TEXT ...] [--linger] [--nodelay] [--shutdown]\n"
                "                       [--write-after-close] [--read]\n"
                "  --linger             SO_LINGER {1, 0}: close() sends RST\n"
                "  --shutdown           shutdown(SHUT_WR) after sending, then read to EOF\n"
                "  --write-after-close  after the peer closed (recv = 0), send twice more\n"
                "  --read               read until the peer closes\n");
}

static int parse(int argc, char **argv, connect_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return -1;
        } else if (!strcmp(a, "--send") && i + 1 < argc) {
            if (o->nsend == MAX_SEND) return 2;
            o->send[o->nsend++] = argv[++i];
        } else if (!strcmp(a, "--linger")) {
            o->linger = true;
        } else if (!strcmp(a, "--nodelay")) {
            o->nodelay = true;
        } else if (!strcmp(a, "--shutdown")) {
            o->shutdown = true;
        } else if (!strcmp(a, "--write-after-close")) {
            o->write_after_close = true;
        } else if (!strcmp(a, "--read")) {
            o->read = true;
        } else if (a[0] == '-' && a[1]) {
            return 2;
        } else if (!o->host) {
            o->host = a;
        } else if (!o->port) {
            o->port = a;
        } else {
            return 2;
        }
    }
    return o->host && o->port ? 0 : 2;
}

int tl_cmd_connect(int argc, char **argv)
{
    connect_opts o;
    int pr = parse(argc, argv, &o);
    if (pr < 0) return 0;
    if (pr) {
        usage(stderr);
        return 2;
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
    int gai = getaddrinfo(o.host, o.port, &hints, &ai);
    if (gai) {
        fprintf(stderr, "tcplens connect: %s %s: %s\n", o.host, o.port, gai_strerror(gai));
        return 2;
    }
    tl_calls c;
    tl_calls_init(&c, 0, -1, stdout);
    tl_calls_catch_sigpipe();
    int fd = tl_c_socket(&c, ai->ai_family);
    if (fd < 0) {
        freeaddrinfo(ai);
        return 1;
    }
    if (o.nodelay) tl_c_setsockopt(&c, fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", 1);
    int rc = tl_c_connect(&c, fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (rc < 0) {
        close(fd);
        return 1;
    }
    for (int i = 0; i < o.nsend; i++) tl_c_send(&c, fd, o.send[i], strlen(o.send[i]));
    char buf[4096];
    if (o.shutdown) tl_c_shutdown(&c, fd, SHUT_WR);
    if (o.read || o.shutdown || o.write_after_close)
        while (tl_c_recv(&c, fd, buf, sizeof buf) > 0) {
        }
    if (o.write_after_close) {
        /* The first write reaches the closed peer and draws its RST; the
         * second finds the connection reset: EPIPE and SIGPIPE. */
        tl_c_send(&c, fd, "after close 1", 13);
        usleep(100000);
        tl_c_send(&c, fd, "after close 2", 13);
    }
    if (o.linger) tl_c_linger(&c, fd, 1, 0);
    tl_c_close(&c, fd);
    return 0;
}
