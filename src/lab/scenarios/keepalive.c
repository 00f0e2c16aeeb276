/* keepalive.c -- lab scenario: an idle connection with short keepalive
 * timers (SO_KEEPALIVE, TCP_KEEPIDLE/TCP_KEEPINTVL 1 s). The client's kernel
 * sends keep-alive probes -- one byte before the next sequence number,
 * RFC 9293 3.8.4 -- and the server's kernel ACKs each.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lab/scenario.h"

static void setup(tl_lab_setup *s)
{
    s->timeout_ms = 12000;
}

static int server(tl_lab_proc *p)
{
    int lfd = tl_lab_listen(p, p->port, false);
    tl_lab_post(p);
    if (lfd < 0) return 1;
    int fd = tl_c_accept(&p->calls, lfd);
    if (fd < 0) return 1;
    char buf[64];
    tl_c_recv(&p->calls, fd, buf, sizeof buf);   /* EOF after the idle time */
    tl_c_close(&p->calls, fd);
    tl_c_close(&p->calls, lfd);
    return 0;
}

static int client(tl_lab_proc *p)
{
    if (!tl_lab_wait(p, 3000)) return 1;
    int fd = tl_lab_socket(p);
    if (fd < 0) return 1;
    tl_c_setsockopt(&p->calls, fd, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", 1);
    tl_c_setsockopt(&p->calls, fd, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", 1);
    tl_c_setsockopt(&p->calls, fd, IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", 1);
    tl_c_setsockopt(&p->calls, fd, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", 3);
    struct sockaddr_storage ss;
    socklen_t sl = tl_lab_server_addr(p, &ss, p->port);
    if (tl_c_connect(&p->calls, fd, (struct sockaddr *)&ss, sl) < 0) return 1;
    tl_calls_note(&p->calls, "idle for 2.6 s");
    tl_lab_sleep_ms(2600);               /* kernel timers at work */
    tl_c_close(&p->calls, fd);
    return 0;
}

static void check(tl_lab_result *r)
{
    int ka = tl_lab_count_events(r, TL_EV_KEEP_ALIVE, TL_ROLE_CLIENT);
    /* An answer that also moves the window is a window_update, as Wireshark names it. */
    int ack = tl_lab_count_events(r, TL_EV_KEEP_ALIVE_ACK, TL_ROLE_SERVER);
    int upd = tl_lab_count_events(r, TL_EV_WINDOW_UPDATE, TL_ROLE_SERVER);
    tl_lab_check(r, "keep-alive probes", ka >= 2, "expected at least 2 keep_alive from the client, seen %d", ka);
    tl_lab_check(r, "each probe answered", ka >= 1 && ack + upd >= ka,
                 "expected an ACK from the server per probe, seen %d keep_alive_ack + %d window_update for %d probes",
                 ack, upd, ka);
}

const tl_scenario tl_lab_sc_keepalive = {
    .name = "keepalive",
    .summary = "idle connection with 1 s keepalive timers: keep-alive probes and their ACKs",
    .setup = setup, .server = server, .client = client, .check = check,
};
