/* refused.c -- lab scenario: connect to a port nobody listens on. The
 * server's kernel answers the SYN with RST (RFC 9293 3.10.7.1, CLOSED
 * state) and connect() fails with ECONNREFUSED.
 */
#include <unistd.h>

#include "lab/scenario.h"

static int server(tl_lab_proc *p)
{
    tl_calls_note(&p->calls, "nothing listens on port %u", p->port);
    tl_lab_post(p);
    return 0;
}

static int client(tl_lab_proc *p)
{
    if (!tl_lab_wait(p, 3000)) return 1;
    int fd = tl_lab_connect(p, p->port);
    if (fd >= 0) tl_c_close(&p->calls, fd);
    return 0;
}

static void check(tl_lab_result *r)
{
    tl_lab_expect_call(r, "connect is refused", TL_LAB_CLIENT, "connect", 1, -1, "ECONNREFUSED", 0);
    int rst = tl_lab_count_packets(r, TL_WIRE_S2C, TL_TH_RST, TL_TH_RST, -1, -1);
    tl_lab_check(r, "SYN answered by RST", rst == 1 && tl_lab_count_events(r, TL_EV_REFUSED, TL_ROLE_NONE) == 1,
                 "expected one RST and the refused event, seen %d RST, %d event(s)", rst,
                 tl_lab_count_events(r, TL_EV_REFUSED, TL_ROLE_NONE));
}

const tl_scenario tl_lab_sc_refused = {
    .name = "refused",
    .summary = "connect to a port with no listener: SYN answered by RST, ECONNREFUSED",
    .server = server, .client = client, .check = check,
};
