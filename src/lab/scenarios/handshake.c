/* handshake.c -- lab scenario: the three-way handshake, one message, and the
 * FIN close (RFC 9293 3.5 and 3.6): the client connects, sends "hello world"
 * and closes; the server reads until EOF and closes. The client's socket
 * ends in TIME-WAIT, as the kernel confirms.
 */
#include <string.h>
#include <unistd.h>

#include "lab/scenario.h"

static int server(tl_lab_proc *p)
{
    int lfd = tl_lab_listen(p, p->port, false);
    tl_lab_post(p);
    if (lfd < 0) return 1;
    int fd = tl_c_accept(&p->calls, lfd);
    if (fd < 0) return 1;
    char buf[1024];
    tl_c_recv(&p->calls, fd, buf, sizeof buf);
    tl_c_recv(&p->calls, fd, buf, sizeof buf);
    tl_c_close(&p->calls, fd);
    tl_c_close(&p->calls, lfd);
    tl_lab_post(p);
    return 0;
}

static int client(tl_lab_proc *p)
{
    if (!tl_lab_wait(p, 3000)) return 1;
    int fd = tl_lab_connect(p, p->port);
    if (fd < 0) return 1;
    tl_c_send(&p->calls, fd, "hello world", 11);
    tl_c_close(&p->calls, fd);
    tl_lab_wait(p, 3000);   /* the server has closed too */
    tl_lab_wait_kstate(p, TL_LAB_CLIENT, TL_ST_TIME_WAIT, 1000, "after both closed");
    return 0;
}

static void check(tl_lab_result *r)
{
    tl_lab_check(r, "three-way handshake", tl_lab_count_events(r, TL_EV_HANDSHAKE, TL_ROLE_NONE) == 1 &&
                 tl_lab_count_packets(r, TL_WIRE_C2S, TL_TH_SYN | TL_TH_ACK, TL_TH_SYN, -1, -1) == 1 &&
                 tl_lab_count_packets(r, TL_WIRE_S2C, TL_TH_SYN | TL_TH_ACK, TL_TH_SYN | TL_TH_ACK, -1, -1) == 1,
                 "expected SYN, SYN-ACK, ACK and the handshake event, seen %d handshake event(s)",
                 tl_lab_count_events(r, TL_EV_HANDSHAKE, TL_ROLE_NONE));
    tl_lab_expect_call(r, "client sends 11 bytes", TL_LAB_CLIENT, "send", 1, 11, NULL, 0);
    tl_lab_expect_call(r, "server reads them", TL_LAB_SERVER, "recv", 1, 11, NULL, 0);
    tl_lab_expect_call(r, "server reads EOF after the client's FIN", TL_LAB_SERVER, "recv", 2, 0, NULL, 0);
    int close3 = tl_lab_count_events(r, TL_EV_CLOSE_3WAY, TL_ROLE_NONE);
    int close4 = tl_lab_count_events(r, TL_EV_CLOSE_4WAY, TL_ROLE_NONE);
    tl_lab_check(r, "FIN close in 3 or 4 segments", close3 + close4 == 1 &&
                 tl_lab_only_late_resets(r, TL_WIRE_C2S) && tl_lab_only_late_resets(r, TL_WIRE_S2C),
                 "expected close_3way or close_4way and no RST (but answers to the late ACK of a "
                 "retransmitted FIN), seen close_3way %d, close_4way %d, %d RST", close3, close4,
                 tl_lab_count_packets(r, TL_WIRE_ANY, TL_TH_RST, TL_TH_RST, -1, -1));
    char k[256];
    tl_lab_kernel_path(r, TL_LAB_CLIENT, k, sizeof k);
    tl_lab_check(r, "client in TIME-WAIT (kernel)", tl_lab_kernel_saw(r, TL_LAB_CLIENT, TL_ST_TIME_WAIT),
                 "expected sock_diag to show the client's socket in TIME-WAIT; kernel path %s", k);
}

const tl_scenario tl_lab_sc_handshake = {
    .name = "handshake",
    .summary = "connect, send \"hello world\", close: 3-way handshake, data and ACK, FIN close",
    .server = server, .client = client, .check = check,
};
