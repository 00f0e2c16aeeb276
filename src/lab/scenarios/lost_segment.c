/* lost_segment.c -- lab scenario: the wire drops the client's second data
 * segment. The segments after it make the server repeat its ACK (duplicate
 * ACKs, with SACK blocks naming what did arrive: RFC 5681 3.2, RFC 2018),
 * and the client retransmits -- fast retransmit, RACK or by timeout.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "lab/scenario.h"

#define SEGS 6
#define SEG_LEN 1000

static void setup(tl_lab_setup *s)
{
    tl_lab_setup_rule(s, TL_WIRE_C2S, 0, 0, 1, 2, 1, TL_WIRE_DROP);
}

static int server(tl_lab_proc *p)
{
    int lfd = tl_lab_listen(p, p->port, false);
    tl_lab_post(p);
    if (lfd < 0) return 1;
    int fd = tl_c_accept(&p->calls, lfd);
    if (fd < 0) return 1;
    char buf[8192];
    ssize_t got;
    while ((got = tl_c_recv(&p->calls, fd, buf, sizeof buf)) > 0) {
    }
    tl_c_close(&p->calls, fd);
    tl_c_close(&p->calls, lfd);
    return 0;
}

static int client(tl_lab_proc *p)
{
    if (!tl_lab_wait(p, 3000)) return 1;
    int fd = tl_lab_socket(p);
    if (fd < 0) return 1;
    tl_c_setsockopt(&p->calls, fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", 1);
    struct sockaddr_storage ss;
    socklen_t sl = tl_lab_server_addr(p, &ss, p->port);
    if (tl_c_connect(&p->calls, fd, (struct sockaddr *)&ss, sl) < 0) return 1;
    char seg[SEG_LEN];
    for (int i = 0; i < SEGS; i++) {
        memset(seg, 'a' + i, sizeof seg);
        tl_c_send(&p->calls, fd, seg, sizeof seg);
    }
    tl_lab_sleep_ms(400);                /* recovery: fast retransmit or the RTO */
    tl_c_close(&p->calls, fd);
    return 0;
}

static void check(tl_lab_result *r)
{
    int dropped = tl_lab_count_packets(r, TL_WIRE_C2S, 0, 0, 1, 1);
    tl_lab_check(r, "the wire lost one data segment", dropped == 1, "expected 1 dropped, seen %d", dropped);
    /* Wireshark's names for the resend: fast_retransmission after 3 dup
     * ACKs, retransmission by timeout, and out_of_order when RACK resends
     * it within the 3 ms Wireshark allows for reordering. */
    int re = tl_lab_count_events(r, TL_EV_RETRANSMISSION, TL_ROLE_CLIENT);
    int fast = tl_lab_count_events(r, TL_EV_FAST_RETRANSMISSION, TL_ROLE_CLIENT);
    int ooo = tl_lab_count_events(r, TL_EV_OUT_OF_ORDER, TL_ROLE_CLIENT);
    tl_lab_check(r, "the client sends the lost segment again", re + fast + ooo >= 1,
                 "expected retransmission, fast_retransmission or out_of_order from the client, seen %d, %d, %d",
                 re, fast, ooo);
    int dup = tl_lab_count_events(r, TL_EV_DUP_ACK, TL_ROLE_SERVER);
    tl_lab_check(r, "duplicate ACKs reveal the gap", dup >= 1, "expected dup_ack from the server, seen %d", dup);
    int total = 0;
    for (int i = 1; i <= tl_lab_count_calls(r, TL_LAB_SERVER, "recv"); i++) {
        const tl_call_rec *c = tl_lab_call(r, TL_LAB_SERVER, "recv", i);
        if (c && c->ret > 0) total += (int)c->ret;
    }
    tl_lab_check(r, "every byte arrives, in order", total == SEGS * SEG_LEN,
                 "expected the server to read %d bytes, seen %d", SEGS * SEG_LEN, total);
}

const tl_scenario tl_lab_sc_lost_segment = {
    .name = "lost-segment",
    .summary = "the wire drops one data segment: duplicate ACKs reveal the gap, retransmission fills it",
    .setup = setup, .server = server, .client = client, .check = check,
};
