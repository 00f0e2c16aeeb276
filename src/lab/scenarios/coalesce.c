/* coalesce.c -- lab scenario: three writes, one read. TCP carries a byte
 * stream without message boundaries (RFC 9293 3.1): "Hello1\n", "Hello2\n",
 * "Hello3\n" written at once come back as one 21-byte read(1024); with a
 * read size of 7 the same stream takes three reads.
 */
#include <sys/ioctl.h>
#include <unistd.h>

#include "lab/scenario.h"

/* Waits until `want` bytes are queued for reading (FIONREAD), up to 2 s. */
static void wait_queued(int fd, int want)
{
    for (int i = 0; i < 400; i++) {
        int q = 0;
        if (ioctl(fd, FIONREAD, &q) == 0 && q >= want) return;
        tl_lab_sleep_ms(5);
    }
}

static int server(tl_lab_proc *p)
{
    int lfd = tl_lab_listen(p, p->port, false);
    tl_lab_post(p);
    if (lfd < 0) return 1;
    int fd = tl_c_accept(&p->calls, lfd);
    if (fd < 0) return 1;
    char buf[1024];
    tl_lab_wait(p, 3000);
    wait_queued(fd, 21);
    tl_c_recv(&p->calls, fd, buf, 1024);
    tl_lab_post(p);
    tl_lab_wait(p, 3000);
    wait_queued(fd, 21);
    for (int i = 0; i < 3; i++) tl_c_recv(&p->calls, fd, buf, 7);
    tl_c_recv(&p->calls, fd, buf, 1024);   /* EOF */
    tl_c_close(&p->calls, fd);
    tl_c_close(&p->calls, lfd);
    return 0;
}

static int client(tl_lab_proc *p)
{
    if (!tl_lab_wait(p, 3000)) return 1;
    int fd = tl_lab_connect(p, p->port);
    if (fd < 0) return 1;
    for (int round = 0; round < 2; round++) {
        tl_c_send(&p->calls, fd, "Hello1\n", 7);
        tl_c_send(&p->calls, fd, "Hello2\n", 7);
        tl_c_send(&p->calls, fd, "Hello3\n", 7);
        tl_lab_post(p);
        if (round == 0) tl_lab_wait(p, 3000);
    }
    tl_c_close(&p->calls, fd);
    return 0;
}

static void check(tl_lab_result *r)
{
    for (int i = 1; i <= 3; i++)
        tl_lab_expect_call(r, "client writes 7 bytes", TL_LAB_CLIENT, "send", i, 7, NULL, 0);
    tl_lab_expect_call(r, "one read(1024) returns all 21 bytes", TL_LAB_SERVER, "recv", 1, 21, NULL, 0);
    for (int i = 2; i <= 4; i++)
        tl_lab_expect_call(r, "read size 7: one line per read", TL_LAB_SERVER, "recv", i, 7, NULL, 0);
    tl_lab_expect_call(r, "then EOF", TL_LAB_SERVER, "recv", 5, 0, NULL, 0);
    int by_server = tl_lab_count_events(r, TL_EV_COALESCED, TL_ROLE_SERVER);
    int all = tl_lab_count_events(r, TL_EV_COALESCED, TL_ROLE_NONE);
    double writes = tl_lab_event_value(r, TL_EV_COALESCED, 1);
    tl_lab_check(r, "the 21-byte read is coalesced", by_server == 1 && all == 1 && writes == 3,
                 "expected one coalesced event (3 writes, one read) by the server and none for the "
                 "7-byte reads, seen %d (%d by the server), first of %g writes", all, by_server, writes);
}

const tl_scenario tl_lab_sc_coalesce = {
    .name = "coalesce",
    .summary = "three 7-byte writes, one 21-byte read; read size 7 takes three: no message boundaries",
    .server = server, .client = client, .check = check,
};
