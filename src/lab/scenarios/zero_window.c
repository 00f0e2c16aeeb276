/* zero_window.c -- lab scenario: the server stops reading while the client
 * sends. Its small receive buffer fills, the advertised window shrinks to
 * zero, the client probes it (RFC 9293 3.8.6.1, zero-window probes) and,
 * when the server reads again, a window update lets the data flow.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lab/scenario.h"

#define TOTAL 60000

static int server(tl_lab_proc *p)
{
    int lfd = tl_lab_socket(p);
    if (lfd < 0) return 1;
    tl_c_setsockopt(&p->calls, lfd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", 4096);
    struct sockaddr_storage ss;
    socklen_t sl = tl_lab_server_addr(p, &ss, p->port);
    if (tl_c_bind(&p->calls, lfd, (struct sockaddr *)&ss, sl) < 0 || tl_c_listen(&p->calls, lfd, 4) < 0)
        return 1;
    tl_lab_post(p);
    int fd = tl_c_accept(&p->calls, lfd);
    if (fd < 0) return 1;
    /* Not reading: wait until the queue stops growing, then let the
     * client's persist timer send a few probes. */
    int last = -1, stable = 0;
    for (int i = 0; i < 400 && stable < 20; i++) {
        int q = 0;
        ioctl(fd, FIONREAD, &q);
        stable = q == last && q > 0 ? stable + 1 : 0;
        last = q;
        tl_lab_sleep_ms(10);
    }
    tl_calls_note(&p->calls, "receive queue full at %d bytes; reading again in 1.2 s", last);
    tl_lab_sleep_ms(1200);
    char buf[4096];
    int total = 0;
    ssize_t got;
    while (total < TOTAL && (got = tl_c_recv(&p->calls, fd, buf, sizeof buf)) > 0) total += (int)got;
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
    static char data[TOTAL];
    for (int i = 0; i < TOTAL; i++) data[i] = (char)('A' + i % 26);
    tl_c_send(&p->calls, fd, data, sizeof data);   /* blocks while the window is shut */
    tl_c_close(&p->calls, fd);
    return 0;
}

static void check(tl_lab_result *r)
{
    int zw = tl_lab_count_events(r, TL_EV_ZERO_WINDOW, TL_ROLE_SERVER);
    int probe = tl_lab_count_events(r, TL_EV_ZERO_WINDOW_PROBE, TL_ROLE_CLIENT);
    int upd = tl_lab_count_events(r, TL_EV_WINDOW_UPDATE, TL_ROLE_SERVER);
    tl_lab_check(r, "the server's window shrinks to zero", zw >= 1, "expected zero_window from the server, seen %d", zw);
    /* Linux probes with snd_una - 1 and no data (tcp_xmit_probe_skb), which
     * Wireshark calls a keep-alive; a one-byte probe is a zero_window_probe. */
    int ka = tl_lab_count_events(r, TL_EV_KEEP_ALIVE, TL_ROLE_CLIENT);
    tl_lab_check(r, "the client probes the zero window", probe + ka >= 1,
                 "expected probes while the window is zero, seen %d zero_window_probe + %d keep_alive "
                 "(Linux probes with an old sequence number and no data)", probe, ka);
    tl_lab_check(r, "a window update reopens it", upd >= 1, "expected window_update from the server, seen %d", upd);
    tl_lab_expect_call(r, "the whole write completes", TL_LAB_CLIENT, "send", 1, TOTAL, NULL, 0);
}

const tl_scenario tl_lab_sc_zero_window = {
    .name = "zero-window",
    .summary = "server stops reading: window shrinks to zero, zero-window probes, window update",
    .server = server, .client = client, .check = check,
};
