/* kill_server.c -- lab scenario: the server process is killed with SIGKILL
 * in the middle of a connection. The kernel closes its sockets as close()
 * would: a FIN goes out, the client's socket sits in CLOSE-WAIT and the
 * dead server's in FIN-WAIT-2 -- as sock_diag reports them -- until the
 * client closes too.
 */
#include <signal.h>
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
    char buf[64];
    tl_c_recv(&p->calls, fd, buf, sizeof buf);
    tl_lab_post(p);
    tl_lab_wait(p, 8000);                /* never posted: the client kills us */
    return 0;
}

static int client(tl_lab_proc *p)
{
    if (!tl_lab_wait(p, 3000)) return 1;
    int fd = tl_lab_connect(p, p->port);
    if (fd < 0) return 1;
    tl_c_send(&p->calls, fd, "hello", 5);
    tl_lab_wait(p, 3000);                /* the server has read it */
    tl_call_rec k;
    memset(&k, 0, sizeof k);
    k.type = TL_REC_CALL;
    snprintf(k.call, sizeof k.call, "kill");
    snprintf(k.args, sizeof k.args, "server, SIGKILL");
    k.ret = kill(p->peer_pid, SIGKILL);
    tl_calls_emit(&p->calls, &k);
    char buf[64];
    tl_c_recv(&p->calls, fd, buf, sizeof buf);
    tl_lab_wait_kstate(p, TL_LAB_CLIENT, TL_ST_CLOSE_WAIT, 1000, "server killed");
    tl_lab_wait_kstate(p, TL_LAB_SERVER, TL_ST_FIN_WAIT_2, 1000, "server killed");
    tl_c_close(&p->calls, fd);
    return 0;
}

static void check(tl_lab_result *r)
{
    tl_lab_expect_call(r, "client reads EOF: the kernel closed the dead server's socket",
                       TL_LAB_CLIENT, "recv", 1, 0, NULL, 0);
    int fin = tl_lab_count_packets(r, TL_WIRE_S2C, TL_TH_FIN | TL_TH_RST, TL_TH_FIN, -1, -1);
    tl_lab_check(r, "kernel sends FIN for the killed process", fin >= 1,
                 "expected a FIN from the server, seen %d", fin);
    tl_lab_check(r, "client CLOSE-WAIT (kernel)", tl_lab_kernel_saw(r, TL_LAB_CLIENT, TL_ST_CLOSE_WAIT),
                 "expected sock_diag to show the client in CLOSE-WAIT");
    tl_lab_check(r, "server FIN-WAIT-2 (kernel)", tl_lab_kernel_saw(r, TL_LAB_SERVER, TL_ST_FIN_WAIT_2),
                 "expected sock_diag to show the killed server's socket in FIN-WAIT-2");
    tl_lab_check(r, "wire agrees: client CLOSE-WAIT, server FIN-WAIT-2",
                 tl_lab_inferred_has(r, TL_LAB_CLIENT, "CLOSE-WAIT") &&
                 tl_lab_inferred_has(r, TL_LAB_SERVER, "FIN-WAIT-2"),
                 "expected the inferred paths to pass through CLOSE-WAIT and FIN-WAIT-2");
}

const tl_scenario tl_lab_sc_kill_server = {
    .name = "kill-server",
    .summary = "server killed by SIGKILL: kernel sends FIN; client CLOSE-WAIT, server FIN-WAIT-2",
    .server = server, .client = client, .check = check, .flags = TL_SC_SERVER_KILLED,
};
