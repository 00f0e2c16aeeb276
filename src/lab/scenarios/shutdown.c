/* shutdown.c -- lab scenario: the server calls shutdown(SHUT_WR) instead of
 * close(). Its FIN goes out, yet the socket still receives: the client's
 * later data is read and ACKed, and nothing is reset (RFC 9293 3.6: a FIN
 * closes one direction only).
 */
#include <unistd.h>

#include "lab/scenario.h"

static int server(tl_lab_proc *p)
{
    int lfd = tl_lab_listen(p, p->port, false);
    tl_lab_post(p);
    if (lfd < 0) return 1;
    int fd = tl_c_accept(&p->calls, lfd);
    if (fd < 0) return 1;
    tl_c_shutdown(&p->calls, fd, SHUT_WR);
    tl_lab_post(p);
    char buf[1024];
    tl_c_recv(&p->calls, fd, buf, sizeof buf);   /* the request, after our FIN */
    tl_c_recv(&p->calls, fd, buf, sizeof buf);   /* EOF */
    tl_c_close(&p->calls, fd);
    tl_c_close(&p->calls, lfd);
    return 0;
}

static int client(tl_lab_proc *p)
{
    if (!tl_lab_wait(p, 3000)) return 1;
    int fd = tl_lab_connect(p, p->port);
    if (fd < 0) return 1;
    tl_lab_wait(p, 3000);
    char buf[64];
    tl_c_recv(&p->calls, fd, buf, sizeof buf);
    tl_c_send(&p->calls, fd, "request", 7);
    tl_lab_snapshot(p, TL_LAB_CLIENT, "after sending into the half-closed connection");
    tl_c_close(&p->calls, fd);
    return 0;
}

static void check(tl_lab_result *r)
{
    tl_lab_expect_call(r, "shutdown(SHUT_WR) succeeds", TL_LAB_SERVER, "shutdown", 1, 0, NULL, 0);
    int fin = tl_lab_count_packets(r, TL_WIRE_S2C, TL_TH_FIN, TL_TH_FIN, -1, -1);
    tl_lab_check(r, "the server's FIN is sent", fin >= 1, "expected a FIN from the server, seen %d", fin);
    tl_lab_expect_call(r, "client reads EOF", TL_LAB_CLIENT, "recv", 1, 0, NULL, 0);
    tl_lab_expect_call(r, "server still reads after its FIN", TL_LAB_SERVER, "recv", 1, 7, NULL, 0);
    /* Nothing resets the connection; a bare RST answering the late ACK of a
     * retransmitted FIN is the kernel tidying up (scenario.h). */
    int rst_c = tl_lab_count_packets(r, TL_WIRE_C2S, TL_TH_RST, TL_TH_RST, -1, -1);
    int rst_s = tl_lab_count_packets(r, TL_WIRE_S2C, TL_TH_RST, TL_TH_RST, -1, -1);
    tl_lab_check(r, "no RST", tl_lab_only_late_resets(r, TL_WIRE_C2S) && tl_lab_only_late_resets(r, TL_WIRE_S2C),
                 "expected no RST but answers to the late ACK of a retransmitted FIN; seen %d from the "
                 "client, %d from the server", rst_c, rst_s);
    tl_lab_check(r, "half-close seen", tl_lab_count_events(r, TL_EV_HALF_CLOSE, TL_ROLE_NONE) >= 1,
                 "expected the half_close event, seen %d", tl_lab_count_events(r, TL_EV_HALF_CLOSE, TL_ROLE_NONE));
}

const tl_scenario tl_lab_sc_shutdown = {
    .name = "shutdown",
    .summary = "server shutdown(SHUT_WR) instead of close(): FIN sent, still reads and ACKs, no RST",
    .server = server, .client = client, .check = check,
};
