/* simultaneous_close.c -- lab scenario: both sides close at once. The wire
 * holds the client's FIN until the server's FIN has passed, so each FIN
 * reaches a socket that has sent its own: both go FIN-WAIT-1 -> CLOSING ->
 * TIME-WAIT (RFC 9293 3.6, figure 13). The ACKs of the FINs are delayed
 * 100 ms so that CLOSING is visible even to sock_diag polling.
 */
#include <unistd.h>

#include "lab/scenario.h"

static void setup(tl_lab_setup *s)
{
    int hold = tl_lab_setup_rule(s, TL_WIRE_C2S, TL_TH_FIN, TL_TH_FIN, -1, 1, 1, TL_WIRE_HOLD);
    int rel = tl_lab_setup_rule(s, TL_WIRE_S2C, TL_TH_FIN, TL_TH_FIN, -1, 1, 1, TL_WIRE_PASS);
    s->rules[hold].release_on = rel;
    /* Each side's ACK of the other's FIN waits 100 ms: both stay in CLOSING
     * long enough for sock_diag polling (no tracepoint) to see it. The
     * client's 1st pure ACK is the handshake's; its 2nd acks the FIN. */
    const uint8_t m = TL_TH_ACK | TL_TH_FIN | TL_TH_SYN | TL_TH_RST;
    s->rules[tl_lab_setup_rule(s, TL_WIRE_C2S, m, TL_TH_ACK, 0, 2, 1, TL_WIRE_DELAY)].delay_ms = 100;
    s->rules[tl_lab_setup_rule(s, TL_WIRE_S2C, m, TL_TH_ACK, 0, 1, 1, TL_WIRE_DELAY)].delay_ms = 100;
}

static int server(tl_lab_proc *p)
{
    int lfd = tl_lab_listen(p, p->port, false);
    tl_lab_post(p);
    if (lfd < 0) return 1;
    int fd = tl_c_accept(&p->calls, lfd);
    if (fd < 0) return 1;
    tl_lab_wait(p, 3000);                /* the client has closed */
    tl_c_close(&p->calls, fd);
    tl_c_close(&p->calls, lfd);
    tl_lab_wait_kstate(p, TL_LAB_SERVER, TL_ST_TIME_WAIT, 1000, "after both closed");
    return 0;
}

static int client(tl_lab_proc *p)
{
    if (!tl_lab_wait(p, 3000)) return 1;
    int fd = tl_lab_connect(p, p->port);
    if (fd < 0) return 1;
    tl_c_close(&p->calls, fd);           /* its FIN waits on the wire */
    tl_lab_post(p);
    tl_lab_wait_kstate(p, TL_LAB_CLIENT, TL_ST_TIME_WAIT, 1000, "after both closed");
    return 0;
}

static void check(tl_lab_result *r)
{
    static const char *want = "FIN-WAIT-1 -> CLOSING -> TIME-WAIT";
    for (int s = 0; s < 2; s++) {
        char k[256], in[256];
        tl_lab_kernel_path(r, (tl_lab_side)s, k, sizeof k);
        tl_lab_inferred_path(r, (tl_lab_side)s, in, sizeof in);
        tl_lab_check(r, s ? "server FIN-WAIT-1 -> CLOSING -> TIME-WAIT" : "client FIN-WAIT-1 -> CLOSING -> TIME-WAIT",
                     tl_lab_inferred_has(r, (tl_lab_side)s, want) &&
                     tl_lab_kernel_has(r, (tl_lab_side)s, "CLOSING") &&
                     tl_lab_kernel_saw(r, (tl_lab_side)s, TL_ST_TIME_WAIT),
                     "expected %s on the wire and in the kernel; wire %s; kernel %s", want, in, k);
    }
    tl_lab_check(r, "tracker names the simultaneous close",
                 tl_lab_count_events(r, TL_EV_SIMULTANEOUS_CLOSE, TL_ROLE_NONE) == 1,
                 "expected simultaneous_close, seen %d",
                 tl_lab_count_events(r, TL_EV_SIMULTANEOUS_CLOSE, TL_ROLE_NONE));
}

const tl_scenario tl_lab_sc_simultaneous_close = {
    .name = "simultaneous-close",
    .summary = "both close at once, the FINs cross: FIN-WAIT-1 -> CLOSING -> TIME-WAIT on both",
    .setup = setup, .server = server, .client = client, .check = check,
};
