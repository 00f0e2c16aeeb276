/* half_close.c -- lab scenario: the client sends its request and
 * shutdown(SHUT_WR)s; the server reads to EOF and only then answers. The
 * half-closed connection still carries data the other way (RFC 9293 3.6).
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
    char buf[1024];
    while (tl_c_recv(&p->calls, fd, buf, sizeof buf) > 0) {
    }
    tl_c_send(&p->calls, fd, "answer after EOF", 16);
    tl_c_close(&p->calls, fd);
    tl_c_close(&p->calls, lfd);
    return 0;
}

static int client(tl_lab_proc *p)
{
    if (!tl_lab_wait(p, 3000)) return 1;
    int fd = tl_lab_connect(p, p->port);
    if (fd < 0) return 1;
    tl_c_send(&p->calls, fd, "request", 7);
    tl_c_shutdown(&p->calls, fd, SHUT_WR);
    char buf[1024];
    while (tl_c_recv(&p->calls, fd, buf, sizeof buf) > 0) {
    }
    tl_c_close(&p->calls, fd);
    return 0;
}

static void check(tl_lab_result *r)
{
    tl_lab_expect_call(r, "client shuts down its sending side", TL_LAB_CLIENT, "shutdown", 1, 0, NULL, 0);
    int n = tl_lab_count_calls(r, TL_LAB_SERVER, "recv");
    tl_lab_expect_call(r, "server reads EOF", TL_LAB_SERVER, "recv", n, 0, NULL, 0);
    tl_lab_expect_call(r, "server answers after EOF", TL_LAB_SERVER, "send", 1, 16, NULL, 0);
    tl_lab_expect_call(r, "client reads the answer", TL_LAB_CLIENT, "recv", 1, 16, NULL, 0);
    tl_lab_check(r, "half-close seen", tl_lab_count_events(r, TL_EV_HALF_CLOSE, TL_ROLE_NONE) >= 1,
                 "expected the half_close event, seen %d", tl_lab_count_events(r, TL_EV_HALF_CLOSE, TL_ROLE_NONE));
}

const tl_scenario tl_lab_sc_half_close = {
    .name = "half-close",
    .summary = "client shutdown(SHUT_WR) after its request; server answers after EOF",
    .server = server, .client = client, .check = check,
};
