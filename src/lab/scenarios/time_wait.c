/* time_wait.c -- lab scenario: the server closes first (active close), so
 * its side of the connection waits in TIME-WAIT (RFC 9293 3.6.1, 2 MSL) on
 * port 8888. Binding the port again fails with EADDRINUSE; with
 * SO_REUSEADDR (on both the old listener and the new socket, as Linux
 * requires for a TIME-WAIT holder) it succeeds.
 */
#include <sys/socket.h>
#include <unistd.h>

#include "lab/scenario.h"

static int server(tl_lab_proc *p)
{
    int lfd = tl_lab_listen(p, p->port, true);
    tl_lab_post(p);
    if (lfd < 0) return 1;
    int fd = tl_c_accept(&p->calls, lfd);
    if (fd < 0) return 1;
    tl_c_close(&p->calls, fd);            /* active close */
    tl_c_close(&p->calls, lfd);
    tl_lab_wait(p, 3000);                 /* the client has closed too */
    tl_lab_wait_kstate(p, TL_LAB_SERVER, TL_ST_TIME_WAIT, 1000, "after both closed");
    struct sockaddr_storage ss;
    socklen_t sl = tl_lab_server_addr(p, &ss, p->port);
    int s1 = tl_lab_socket(p);
    tl_c_bind(&p->calls, s1, (struct sockaddr *)&ss, sl);
    tl_c_close(&p->calls, s1);
    int s2 = tl_lab_socket(p);
    tl_c_setsockopt(&p->calls, s2, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 1);
    tl_c_bind(&p->calls, s2, (struct sockaddr *)&ss, sl);
    tl_c_close(&p->calls, s2);
    return 0;
}

static int client(tl_lab_proc *p)
{
    if (!tl_lab_wait(p, 3000)) return 1;
    int fd = tl_lab_connect(p, p->port);
    if (fd < 0) return 1;
    char buf[64];
    tl_c_recv(&p->calls, fd, buf, sizeof buf);
    tl_c_close(&p->calls, fd);
    tl_lab_post(p);
    return 0;
}

static void check(tl_lab_result *r)
{
    char k[256];
    tl_lab_kernel_path(r, TL_LAB_SERVER, k, sizeof k);
    tl_lab_check(r, "server in TIME-WAIT (kernel)", tl_lab_kernel_saw(r, TL_LAB_SERVER, TL_ST_TIME_WAIT),
                 "expected sock_diag to show the server's side in TIME-WAIT; kernel path %s", k);
    tl_lab_check(r, "server in TIME-WAIT (wire)", tl_lab_inferred_has(r, TL_LAB_SERVER, "TIME-WAIT"),
                 "expected the server's inferred states to reach TIME-WAIT");
    tl_lab_expect_call(r, "bind without SO_REUSEADDR", TL_LAB_SERVER, "bind", 2, -1, "EADDRINUSE", 0);
    tl_lab_expect_call(r, "bind with SO_REUSEADDR", TL_LAB_SERVER, "bind", 3, 0, NULL, 0);
}

const tl_scenario tl_lab_sc_time_wait = {
    .name = "time-wait",
    .summary = "active close leaves TIME-WAIT: bind again fails with EADDRINUSE, works with SO_REUSEADDR",
    .server = server, .client = client, .check = check,
};
