/* syn_timeout.c -- lab scenario: the wire drops every SYN. The client's
 * kernel retransmits it with exponential backoff (RFC 6298 5.5: the RTO
 * doubles, from 1 s, RFC 6298 2.1) until it gives up: connect() fails with
 * ETIMEDOUT. tcp_syn_retries=2 and TCP_USER_TIMEOUT keep it to ~3.5 s.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <math.h>
#include <unistd.h>

#include "lab/scenario.h"

static void setup(tl_lab_setup *s)
{
    tl_lab_setup_rule(s, TL_WIRE_C2S, TL_TH_SYN | TL_TH_ACK, TL_TH_SYN, -1, 1, 0, TL_WIRE_DROP);
    tl_lab_setup_sysctl(s, TL_LAB_CLIENT, "net.ipv4.tcp_syn_retries", "2");
    /* Linux 6.5+ retransmits the first SYNs linearly (default 4); the
     * classic doubling is what this scenario shows. Optional: older kernels
     * only double. */
    tl_lab_setup_sysctl(s, TL_LAB_CLIENT, "?net.ipv4.tcp_syn_linear_timeouts", "0");
    s->timeout_ms = 15000;
}

static int server(tl_lab_proc *p)
{
    int lfd = tl_lab_listen(p, p->port, false);
    tl_lab_post(p);
    if (lfd < 0) return 1;
    tl_lab_wait(p, 12000);               /* the client has given up */
    tl_c_close(&p->calls, lfd);
    return 0;
}

static int client(tl_lab_proc *p)
{
    if (!tl_lab_wait(p, 3000)) return 1;
    int fd = tl_lab_socket(p);
    if (fd < 0) return 1;
    tl_c_setsockopt(&p->calls, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", 3500);
    struct sockaddr_storage ss;
    socklen_t sl = tl_lab_server_addr(p, &ss, p->port);
    tl_c_connect(&p->calls, fd, (struct sockaddr *)&ss, sl);
    tl_c_close(&p->calls, fd);
    tl_lab_post(p);
    return 0;
}

static void check(tl_lab_result *r)
{
    tl_lab_expect_call(r, "connect times out", TL_LAB_CLIENT, "connect", 1, -1, "ETIMEDOUT", 0);
    int syns = tl_lab_count_packets(r, TL_WIRE_C2S, TL_TH_SYN, TL_TH_SYN, -1, 1);
    tl_lab_check(r, "SYN sent again and again", syns >= 3, "expected at least 3 SYNs (dropped), seen %d", syns);
    double a = tl_lab_event_value(r, TL_EV_SYN_RETRANSMIT, 1), b = tl_lab_event_value(r, TL_EV_SYN_RETRANSMIT, 2);
    bool backoff = !isnan(a) && !isnan(b) && a > 0.8 && a < 1.5 && b > 1.6 * a && b < 2.5 * a;
    tl_lab_check(r, "exponential backoff", backoff,
                 "expected syn_retransmit after ~1 s, then ~2 s; seen %.3f s, %.3f s", a, b);
}

const tl_scenario tl_lab_sc_syn_timeout = {
    .name = "syn-timeout",
    .summary = "the wire drops every SYN: retransmissions with exponential backoff, ETIMEDOUT",
    .setup = setup, .server = server, .client = client, .check = check,
};
