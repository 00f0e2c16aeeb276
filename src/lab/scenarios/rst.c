/* rst.c -- lab scenario: like handshake, but the client sets SO_LINGER
 * {1, 0} before close(), so the kernel aborts with RST instead of FIN
 * (RFC 9293 3.10.4 ABORT): no TIME-WAIT, and the server's next recv fails.
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
    tl_lab_post(p);                      /* read: now abort */
    tl_c_recv(&p->calls, fd, buf, sizeof buf);
    tl_c_close(&p->calls, fd);
    tl_c_close(&p->calls, lfd);
    return 0;
}

static int client(tl_lab_proc *p)
{
    if (!tl_lab_wait(p, 3000)) return 1;
    int fd = tl_lab_connect(p, p->port);
    if (fd < 0) return 1;
    tl_c_send(&p->calls, fd, "hello world", 11);
    tl_lab_wait(p, 3000);
    tl_c_linger(&p->calls, fd, 1, 0);
    tl_c_close(&p->calls, fd);
    tl_lab_sleep_ms(50);
    tl_lab_snapshot(p, TL_LAB_CLIENT, "after the abort");
    return 0;
}

static void check(tl_lab_result *r)
{
    /* The abort (tcp_send_active_reset) is RST+ACK. A server segment that
     * crossed it, even one the wire forwarded before it but the client's
     * kernel had not processed yet, reaches no socket and is answered with a
     * bare RST (seq = its ACK): at most one per server segment. */
    int abort = tl_lab_count_packets(r, TL_WIRE_C2S, TL_TH_RST | TL_TH_ACK, TL_TH_RST | TL_TH_ACK, -1, -1);
    int replies = tl_lab_count_packets(r, TL_WIRE_C2S, TL_TH_RST | TL_TH_ACK, TL_TH_RST, -1, -1);
    int fin = tl_lab_count_packets(r, TL_WIRE_C2S, TL_TH_FIN, TL_TH_FIN, -1, -1);
    int server_segs = tl_lab_count_packets(r, TL_WIRE_S2C, TL_TH_SYN | TL_TH_RST, 0, -1, -1);
    tl_lab_check(r, "RST instead of FIN", abort == 1 && replies <= server_segs && fin == 0,
                 "expected 1 RST+ACK (plus at most one bare RST per server segment that "
                 "crossed it) and no FIN from the client, seen %d RST+ACK, %d bare RST, %d FIN, "
                 "%d server segments", abort, replies, fin, server_segs);
    tl_lab_check(r, "tracker names the abort", tl_lab_count_events(r, TL_EV_RST_ABORT, TL_ROLE_CLIENT) == 1,
                 "expected rst_abort by the client, seen %d", tl_lab_count_events(r, TL_EV_RST_ABORT, TL_ROLE_CLIENT));
    tl_lab_expect_call(r, "server's recv after the RST", TL_LAB_SERVER, "recv", 2, -1, "ECONNRESET", 0);
    tl_lab_check(r, "no TIME-WAIT", !tl_lab_kernel_saw(r, TL_LAB_CLIENT, TL_ST_TIME_WAIT) &&
                 !tl_lab_inferred_has(r, TL_LAB_CLIENT, "TIME-WAIT"),
                 "expected no TIME-WAIT in the kernel or on the wire for the client");
}

const tl_scenario tl_lab_sc_rst = {
    .name = "rst",
    .summary = "the same with SO_LINGER {1,0}: close() sends RST, no TIME-WAIT",
    .server = server, .client = client, .check = check,
};
