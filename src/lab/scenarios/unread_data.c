/* unread_data.c -- lab scenario: the server closes with data it never read
 * in its receive buffer. Linux then resets the connection instead of
 * sending FIN (RFC 2525 2.17, "failure to RST on close with data pending"),
 * and the client's recv fails with ECONNRESET.
 */
#include <sys/ioctl.h>
#include <unistd.h>

#include "lab/scenario.h"

static int server(tl_lab_proc *p)
{
    int lfd = tl_lab_listen(p, p->port, false);
    tl_lab_post(p);
    if (lfd < 0) return 1;
    int fd = tl_c_accept(&p->calls, lfd);
    if (fd < 0) return 1;
    tl_lab_wait(p, 3000);
    for (int i = 0; i < 400; i++) {      /* the data has arrived, unread */
        int q = 0;
        if (ioctl(fd, FIONREAD, &q) == 0 && q >= 11) break;
        tl_lab_sleep_ms(5);
    }
    tl_c_close(&p->calls, fd);
    tl_c_close(&p->calls, lfd);
    return 0;
}

static int client(tl_lab_proc *p)
{
    if (!tl_lab_wait(p, 3000)) return 1;
    int fd = tl_lab_connect(p, p->port);
    if (fd < 0) return 1;
    tl_c_send(&p->calls, fd, "unread data", 11);
    tl_lab_post(p);
    char buf[64];
    tl_c_recv(&p->calls, fd, buf, sizeof buf);
    tl_c_close(&p->calls, fd);
    return 0;
}

static void check(tl_lab_result *r)
{
    int rst = tl_lab_count_packets(r, TL_WIRE_S2C, TL_TH_RST, TL_TH_RST, -1, -1);
    int fin = tl_lab_count_packets(r, TL_WIRE_S2C, TL_TH_FIN, TL_TH_FIN, -1, -1);
    tl_lab_check(r, "RST instead of FIN", rst >= 1 && fin == 0,
                 "expected an RST and no FIN from the server, seen %d RST, %d FIN", rst, fin);
    tl_lab_check(r, "tracker names it", tl_lab_count_events(r, TL_EV_RST_UNREAD_DATA, TL_ROLE_NONE) >= 1,
                 "expected rst_unread_data, seen %d", tl_lab_count_events(r, TL_EV_RST_UNREAD_DATA, TL_ROLE_NONE));
    tl_lab_expect_call(r, "client's recv: connection reset by peer", TL_LAB_CLIENT, "recv", 1, -1,
                       "ECONNRESET", 0);
}

const tl_scenario tl_lab_sc_unread_data = {
    .name = "unread-data",
    .summary = "server closes with unread data: RST instead of FIN, client recv ECONNRESET",
    .server = server, .client = client, .check = check,
};
