/* lab_proc.c -- what a scenario's side can do inside its namespace:
 * synchronise with the other side over pipes, take sock_diag snapshots of
 * either namespace, and the usual socket set-ups (listen, connect); plus the
 * setup helpers a scenario uses to ask for sysctls and wire rules.
 */
#include "lab/scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lab/sockdiag.h"

void tl_lab_setup_sysctl(tl_lab_setup *s, tl_lab_side side, const char *key, const char *value)
{
    if (s->nsysctl >= TL_LAB_MAX_SYSCTL) return;
    s->sysctl[s->nsysctl].side = side;
    s->sysctl[s->nsysctl].key = key;
    s->sysctl[s->nsysctl].value = value;
    s->nsysctl++;
}

int tl_lab_setup_rule(tl_lab_setup *s, tl_wire_dir dir, uint8_t mask, uint8_t value, int payload,
                      uint32_t first, uint32_t count, tl_wire_action action)
{
    if (s->nrules >= TL_WIRE_MAX_RULES) return -1;
    tl_wire_rule *r = &s->rules[s->nrules];
    memset(r, 0, sizeof *r);
    r->dir = dir;
    r->flags_mask = mask;
    r->flags_value = value;
    r->payload = (int8_t)payload;
    r->first = first;
    r->count = count;
    r->action = action;
    r->release_on = -1;
    return (int)s->nrules++;
}

void tl_lab_post(tl_lab_proc *p)
{
    char b = 1;
    ssize_t w;
    do {
        w = write(p->sync_out, &b, 1);
    } while (w < 0 && errno == EINTR);
}

bool tl_lab_wait(tl_lab_proc *p, int timeout_ms)
{
    struct pollfd pfd = { .fd = p->sync_in, .events = POLLIN };
    for (;;) {
        int r = poll(&pfd, 1, timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r == 1) {
            char b;
            ssize_t got = read(p->sync_in, &b, 1);
            if (got == 1) return true;
            if (got < 0 && errno == EINTR) continue;
            tl_calls_note(&p->calls, "the %s has gone", p->side == TL_LAB_CLIENT ? "server" : "client");
            return false;
        }
        tl_calls_note(&p->calls, "waited %d ms for the %s in vain", timeout_ms,
                      p->side == TL_LAB_CLIENT ? "server" : "client");
        return false;
    }
}

void tl_lab_sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* The lab port's sockets in ns (listeners excluded: they have no peer). */
static size_t snapshot(tl_lab_proc *p, tl_lab_side ns, tl_sockdiag_entry **out)
{
    tl_sockdiag_filter f = { .family = 0, .port = p->port };
    size_t n = 0;
    char errbuf[TL_ERRBUF_SIZE];
    *out = NULL;
    if (tl_sockdiag_snapshot(p->diag[ns], &f, out, &n, errbuf) < 0) {
        tl_calls_note(&p->calls, "snapshot failed: %.60s", errbuf);
        return 0;
    }
    return n;
}

static void record_entries(tl_lab_proc *p, tl_lab_side ns, const tl_sockdiag_entry *e, size_t n,
                           const char *why)
{
    for (size_t i = 0; i < n; i++) {
        if (e[i].state == TL_ST_LISTEN) continue;
        tl_call_rec r;
        memset(&r, 0, sizeof r);
        r.type = TL_REC_SNAP;
        r.snap_ns = (uint8_t)ns;
        r.state = (uint8_t)e[i].state;
        r.local = e[i].local;
        r.remote = e[i].remote;
        r.lport = e[i].lport;
        r.rport = e[i].rport;
        snprintf(r.call, sizeof r.call, "snapshot");
        snprintf(r.note, sizeof r.note, "%s", why ? why : "");
        tl_calls_emit(&p->calls, &r);
    }
}

size_t tl_lab_snapshot(tl_lab_proc *p, tl_lab_side ns, const char *why)
{
    tl_sockdiag_entry *e;
    size_t n = snapshot(p, ns, &e);
    record_entries(p, ns, e, n, why);
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) seen += e[i].state != TL_ST_LISTEN;
    tl_sockdiag_free(e);
    return seen;
}

tl_tcp_state tl_lab_wait_kstate(tl_lab_proc *p, tl_lab_side ns, tl_tcp_state want, int wait_ms,
                                const char *why)
{
    tl_tcp_state got = TL_ST_UNKNOWN;
    for (int waited = 0;; waited += 5) {
        tl_sockdiag_entry *e;
        size_t n = snapshot(p, ns, &e);
        got = TL_ST_UNKNOWN;
        for (size_t i = 0; i < n; i++)
            if (e[i].state != TL_ST_LISTEN) got = e[i].state;
        bool done = (want == TL_ST_UNKNOWN ? got != TL_ST_UNKNOWN : got == want) || waited >= wait_ms;
        if (done) {
            record_entries(p, ns, e, n, why);
            tl_sockdiag_free(e);
            return got;
        }
        tl_sockdiag_free(e);
        tl_lab_sleep_ms(5);
    }
}

static socklen_t lab_addr(struct sockaddr_storage *ss, int family, tl_lab_side side, uint16_t port)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        inet_pton(AF_INET6, tl_lab_addr(side, AF_INET6), &sin6->sin6_addr);
        return sizeof *sin6;
    }
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    inet_pton(AF_INET, tl_lab_addr(side, AF_INET), &sin->sin_addr);
    return sizeof *sin;
}

socklen_t tl_lab_server_addr(const tl_lab_proc *p, struct sockaddr_storage *ss, uint16_t port)
{
    return lab_addr(ss, p->family, TL_LAB_SERVER, port);
}

socklen_t tl_lab_client_addr(const tl_lab_proc *p, struct sockaddr_storage *ss, uint16_t port)
{
    return lab_addr(ss, p->family, TL_LAB_CLIENT, port);
}

int tl_lab_socket(tl_lab_proc *p)
{
    return tl_c_socket(&p->calls, p->family);
}

int tl_lab_listen(tl_lab_proc *p, uint16_t port, bool reuseaddr)
{
    int fd = tl_lab_socket(p);
    if (fd < 0) return -1;
    struct sockaddr_storage ss;
    socklen_t sl = tl_lab_server_addr(p, &ss, port);
    if ((reuseaddr && tl_c_setsockopt(&p->calls, fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 1) < 0) ||
        tl_c_bind(&p->calls, fd, (struct sockaddr *)&ss, sl) < 0 ||
        tl_c_listen(&p->calls, fd, 16) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int tl_lab_connect(tl_lab_proc *p, uint16_t port)
{
    int fd = tl_lab_socket(p);
    if (fd < 0) return -1;
    struct sockaddr_storage ss;
    socklen_t sl = tl_lab_server_addr(p, &ss, port);
    if (tl_c_connect(&p->calls, fd, (struct sockaddr *)&ss, sl) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}
