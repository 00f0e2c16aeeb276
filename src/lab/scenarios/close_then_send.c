/* close_then_send.c -- lab scenario: the server closes; the client reads
 * EOF and sends anyway. The first send succeeds (the kernel cannot know) and
 * draws an RST from the closed socket (RFC 9293 3.10.7.1); the second fails
 * with EPIPE and SIGPIPE. The server's own calls on its closed descriptor
 * fail with EBADF: the descriptor is gone, whatever the connection does.
 */
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "lab/scenario.h"

static int server(tl_lab_proc *p)
{
    int lfd = tl_lab_listen(p, p->port, false);
    tl_lab_post(p);
    if (lfd < 0) return 1;
    int fd = tl_c_accept(&p->calls, lfd);
    if (fd < 0) return 1;
    tl_c_close(&p->calls, fd);
    tl_lab_post(p);
    tl_lab_wait(p, 3000);                /* the client has sent twice */
    char buf[64];
    tl_c_send(&p->calls, fd, "late", 4); /* fd is closed: EBADF */
    tl_c_recv(&p->calls, fd, buf, sizeof buf);
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
    tl_c_send(&p->calls, fd, "hello 1", 7);
    /* The RST sets the socket's error and shuts both directions: poll()
     * reports POLLERR/POLLHUP (always polled for) -- wait for that, not for time. */
    struct pollfd pfd = { .fd = fd, .events = 0 };
    poll(&pfd, 1, 2000);
    tl_c_send(&p->calls, fd, "hello again 2", 13);
    tl_lab_post(p);
    tl_c_close(&p->calls, fd);
    return 0;
}

static void check(tl_lab_result *r)
{
    tl_lab_expect_call(r, "client reads EOF", TL_LAB_CLIENT, "recv", 1, 0, NULL, 0);
    tl_lab_expect_call(r, "first send succeeds", TL_LAB_CLIENT, "send", 1, 7, NULL, 0);
    int rst = tl_lab_count_packets(r, TL_WIRE_S2C, TL_TH_RST, TL_TH_RST, -1, -1);
    tl_lab_check(r, "the closed socket answers with RST", rst >= 1 &&
                 tl_lab_count_events(r, TL_EV_RST_CLOSED_SOCKET, TL_ROLE_NONE) >= 1,
                 "expected an RST from the server and rst_closed_socket, seen %d RST, %d event(s)", rst,
                 tl_lab_count_events(r, TL_EV_RST_CLOSED_SOCKET, TL_ROLE_NONE));
    tl_lab_expect_call(r, "second send: EPIPE and SIGPIPE", TL_LAB_CLIENT, "send", 2, -1, "EPIPE", SIGPIPE);
    tl_lab_expect_call(r, "server's send on its closed fd", TL_LAB_SERVER, "send", 1, -1, "EBADF", 0);
    tl_lab_expect_call(r, "server's recv on its closed fd", TL_LAB_SERVER, "recv", 1, -1, "EBADF", 0);
}

const tl_scenario tl_lab_sc_close_then_send = {
    .name = "close-then-send",
    .summary = "server closes, client reads EOF then sends twice: RST, EPIPE, SIGPIPE; EBADF",
    .server = server, .client = client, .check = check,
};
