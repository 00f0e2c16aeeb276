/* lab_run.c -- runs scenarios: a private network per scenario (netns.h),
 * the wire as capture point (wire.h), the kernel's transitions (kstate.h),
 * the server and client as separate processes entered into their namespaces
 * (with a deadline and PR_SET_PDEATHSIG), their call records collected over
 * a pipe; then the merged timeline and the checks.
 */
#include "lab/lab_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab/netns.h"
#include "lab/sockdiag.h"

void *tl__lab_vec_push(tl_lab_vec *v, const void *item)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 32;
        void *p = realloc(v->items, cap * v->size);
        if (!p) return NULL;
        v->items = p;
        v->cap = cap;
    }
    void *slot = (char *)v->items + v->n * v->size;
    memcpy(slot, item, v->size);
    v->n++;
    return slot;
}

void tl__lab_vec_free(tl_lab_vec *v)
{
    free(v->items);
    v->items = NULL;
    v->n = v->cap = 0;
}

/* ---- collectors running on the wire's and kstate's threads -------------- */

static void on_wire(void *ud, const tl_wire_packet *wp)
{
    tl_lab_result *r = ud;
    tl_lab_pkt p = { .n = wp->n, .dir = wp->dir, .len = wp->len, .ts_in = wp->ts_in,
                     .ts_out = wp->ts_out, .dropped = wp->fate == TL_WIRE_DROPPED,
                     .action = wp->action, .rule = wp->rule };
    p.data = malloc(wp->len ? wp->len : 1);
    if (!p.data) return;
    memcpy(p.data, wp->data, wp->len);
    tl_wire_parse(p.data, p.len, &p.info);
    pthread_mutex_lock(&r->lock);
    if (!tl__lab_vec_push(&r->pkts, &p)) free(p.data);
    pthread_mutex_unlock(&r->lock);
}

static void on_kstate(void *ud, const tl_kstate_event *ev)
{
    tl_lab_result *r = ud;
    /* Only the lab's addresses: the tracepoint sees the whole machine. */
    if (tl__lab_addr_side(&ev->local) < 0 || tl__lab_addr_side(&ev->remote) < 0) return;
    pthread_mutex_lock(&r->lock);
    tl__lab_vec_push(&r->kev, ev);
    pthread_mutex_unlock(&r->lock);
}

/* ---- the two sides ------------------------------------------------------- */

typedef struct side_pipes {
    int rec[2];      /* records to the lab */
    int c2s[2], s2c[2];
    int diag[2][2];  /* [side][namespace] */
} side_pipes;

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static pid_t start_side(const tl_lab_result *r, tl_lab_net *net, tl_lab_side side, side_pipes *sp,
                        pid_t peer, int timeout_ms)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    char errbuf[TL_ERRBUF_SIZE];
    tl_lab_proc p;
    memset(&p, 0, sizeof p);
    p.side = side;
    p.port = TL_LAB_PORT;
    p.family = r->family;
    p.peer_pid = peer;
    p.sync_in = side == TL_LAB_CLIENT ? sp->s2c[0] : sp->c2s[0];
    p.sync_out = side == TL_LAB_CLIENT ? sp->c2s[1] : sp->s2c[1];
    p.diag[0] = sp->diag[side][0];
    p.diag[1] = sp->diag[side][1];
    tl_calls_init(&p.calls, side, sp->rec[1], NULL);
    /* Keep only what this side uses, so EOF on a pipe means the other side is gone. */
    close_fd(&sp->rec[0]);
    close_fd(side == TL_LAB_CLIENT ? &sp->s2c[1] : &sp->c2s[1]);
    close_fd(side == TL_LAB_CLIENT ? &sp->c2s[0] : &sp->s2c[0]);
    close_fd(&sp->diag[!side][0]);
    close_fd(&sp->diag[!side][1]);
    if (tl_lab_net_enter(net, side, errbuf) < 0) {
        tl_calls_note(&p.calls, "%.70s", errbuf);
        _exit(3);
    }
    tl_calls_catch_sigpipe();
    alarm((unsigned)(timeout_ms / 1000 + 2));   /* last resort if the lab hangs */
    int st = (side == TL_LAB_CLIENT ? r->sc->client : r->sc->server)(&p);
    _exit(st & 0xff);
}

static int diag_socket(tl_lab_net *net, tl_lab_side side)
{
    return tl_lab_net_socket(net, side, AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads records until both sides closed the pipe or the deadline passed. */
static void collect(tl_lab_result *r, int fd, int64_t deadline)
{
    union {
        tl_call_rec rec[16];
        char raw[16 * sizeof(tl_call_rec)];
    } buf;
    size_t have = 0;
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            r->timed_out = true;
            return;
        }
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) continue;
        ssize_t got = read(fd, buf.raw + have, sizeof buf.raw - have);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return;
        have += (size_t)got;
        size_t whole = have / sizeof(tl_call_rec);
        for (size_t i = 0; i < whole; i++) tl__lab_vec_push(&r->recs, &buf.rec[i]);
        size_t rest = have - whole * sizeof(tl_call_rec);
        memmove(buf.raw, buf.raw + whole * sizeof(tl_call_rec), rest);
        have = rest;
    }
}

void tl__lab_result_init(tl_lab_result *r, const tl_scenario *sc)
{
    memset(r, 0, sizeof *r);
    r->sc = sc;
    r->family = AF_INET;
    pthread_mutex_init(&r->lock, NULL);
    r->pkts.size = sizeof(tl_lab_pkt);
    r->recs.size = sizeof(tl_call_rec);
    r->kev.size = sizeof(tl_kstate_event);
    r->inferred.size = sizeof(tl_lab_inferred);
    r->events.size = sizeof(tl_lab_event_rec);
    r->checks.size = sizeof(tl_lab_check_rec);
}

void tl__lab_result_release(tl_lab_result *r)
{
    for (size_t i = 0; i < r->pkts.n; i++) free(TL_LAB_AT(r->pkts, tl_lab_pkt, i)->data);
    tl__lab_vec_free(&r->pkts);
    tl__lab_vec_free(&r->recs);
    tl__lab_vec_free(&r->kev);
    tl__lab_vec_free(&r->inferred);
    tl__lab_vec_free(&r->events);
    tl__lab_vec_free(&r->checks);
    pthread_mutex_destroy(&r->lock);
}

/* The live part: network, wire, kernel watcher, both sides. Returns < 0
 * with errbuf when the lab could not be built (the scenario is skipped). */
static int run_live(tl_lab_result *r, const tl_lab_setup *su, char *errbuf)
{
    tl_lab_net *net = NULL;
    int err = tl_lab_net_open(&net, errbuf);
    if (err < 0) return err;
    for (size_t i = 0; i < su->nsysctl; i++) {
        const char *key = su->sysctl[i].key;
        bool optional = key[0] == '?';   /* "?key": absent on older kernels is fine */
        err = tl_lab_net_sysctl(net, su->sysctl[i].side, key + optional, su->sysctl[i].value, errbuf);
        if (err == TL_ENOTFOUND && optional) continue;
        if (err < 0) {
            tl_lab_net_close(net);
            return err;
        }
    }
    side_pipes sp;
    memset(&sp, -1, sizeof sp);
    int kdiag[2] = { diag_socket(net, TL_LAB_CLIENT), diag_socket(net, TL_LAB_SERVER) };
    for (int s = 0; s < 2; s++)
        for (int ns = 0; ns < 2; ns++) sp.diag[s][ns] = diag_socket(net, (tl_lab_side)ns);
    if (kdiag[0] < 0 || kdiag[1] < 0 || sp.diag[0][0] < 0 || sp.diag[0][1] < 0 ||
        sp.diag[1][0] < 0 || sp.diag[1][1] < 0) {
        err = tl_err(errbuf, TL_EPERM, "lab: cannot open sock_diag sockets in the lab namespaces: %s",
                     strerror(-(kdiag[0] < 0 ? kdiag[0] : -EPERM)));
        goto out;
    }
    /* The kernel watcher first: mounting a private tracefs needs a
     * single-threaded process, and the wire is a thread. */
    tl_kstate_config kc = { .port = TL_LAB_PORT, .family = 0, .diag_fds = { kdiag[0], kdiag[1] },
                            .n_diag_fds = 2, .poll_ms = 0, .mount_private_tracefs = true };
    tl_kstate *ks = NULL;
    char kerr[TL_ERRBUF_SIZE];
    if (tl_kstate_start(&ks, &kc, on_kstate, r, kerr) == TL_OK) {
        r->have_kstate = true;
        r->ksource = tl_kstate_get_source(ks);
        snprintf(r->kstate_why, sizeof r->kstate_why, "%s", tl_kstate_fallback_reason(ks));
    } else {
        snprintf(r->kstate_why, sizeof r->kstate_why, "%s", kerr);
    }
    tl_wire_port cp, spt;
    tl_lab_net_port(net, TL_LAB_CLIENT, &cp);
    tl_lab_net_port(net, TL_LAB_SERVER, &spt);
    tl_wire *w = NULL;
    if ((err = tl_wire_new(&w, &cp, &spt, su->rules, su->nrules, on_wire, r, errbuf)) < 0 ||
        (err = tl_wire_start(w, errbuf)) < 0) {
        tl_wire_free(w);
        tl_kstate_stop(ks);
        goto out;
    }
    if (pipe2(sp.rec, O_CLOEXEC) < 0 || pipe2(sp.c2s, O_CLOEXEC) < 0 || pipe2(sp.s2c, O_CLOEXEC) < 0) {
        err = tl_err(errbuf, TL_EIO, "lab: pipe: %s", strerror(errno));
        tl_wire_free(w);
        tl_kstate_stop(ks);
        goto out;
    }
    /* No kstate round during the forks (kstate.h); the wire thread is idle
     * then: nothing is sent before the client runs. */
    tl_kstate_hold(ks);
    pid_t spid = start_side(r, net, TL_LAB_SERVER, &sp, 0, su->timeout_ms);
    tl_kstate_release(ks);
    tl_kstate_hold(ks);
    pid_t cpid = spid > 0 ? start_side(r, net, TL_LAB_CLIENT, &sp, spid, su->timeout_ms) : -1;
    tl_kstate_release(ks);
    close_fd(&sp.rec[1]);
    if (spid > 0 && cpid > 0) collect(r, sp.rec[0], mono_ms() + su->timeout_ms);
    if (spid > 0 && r->timed_out) kill(spid, SIGKILL);
    if (cpid > 0 && r->timed_out) kill(cpid, SIGKILL);
    r->status[0] = r->status[1] = -1;
    if (spid > 0) waitpid(spid, &r->status[TL_LAB_SERVER], 0);
    if (cpid > 0) waitpid(cpid, &r->status[TL_LAB_CLIENT], 0);
    if (!r->timed_out) collect(r, sp.rec[0], mono_ms() + 500);   /* anything still in the pipe */
    /* Let the last segments cross and the kernel's last transitions arrive. */
    tl_lab_sleep_ms(su->settle_ms);
    tl_kstate_stop(ks);
    tl_wire_stop(w);
    tl_wire_stats ws;
    tl_wire_stats_get(w, &ws);
    r->wire_errors = ws.errors;
    tl_wire_free(w);
    err = TL_OK;
out:
    close_fd(&sp.rec[0]);
    close_fd(&sp.rec[1]);
    for (int i = 0; i < 2; i++) {
        close_fd(&sp.c2s[i]);
        close_fd(&sp.s2c[i]);
        close_fd(&kdiag[i]);
        for (int j = 0; j < 2; j++) close_fd(&sp.diag[i][j]);
    }
    tl_lab_net_close(net);
    return err;
}

/* Runs one scenario: 0 all checks passed, 1 a check failed, 77 skipped. */
static int run_one(const tl_scenario *sc, const tl_lab_opts *o)
{
    tl_lab_setup su;
    memset(&su, 0, sizeof su);
    su.timeout_ms = 10000;
    su.settle_ms = 150;
    if (sc->setup) sc->setup(&su);
    tl_lab_result r;
    tl__lab_result_init(&r, sc);
    r.family = o->family == AF_INET6 ? AF_INET6 : AF_INET;
    char errbuf[TL_ERRBUF_SIZE] = "";
    int rc;
    if (run_live(&r, &su, errbuf) < 0) {
        tl__lab_print_skip(sc, o, errbuf);
        rc = 77;
    } else {
        if (tl__lab_timeline(&r, o, errbuf) < 0)
            tl_lab_check(&r, "timeline", false, "expected the timeline to be built, seen: %s", errbuf);
        tl__lab_generic_checks(&r);
        if (sc->check) sc->check(&r);
        rc = tl__lab_print_checks(&r, o) ? 1 : 0;
    }
    tl__lab_result_release(&r);
    return rc;
}

int tl_lab_run(const tl_scenario *const *list, size_t n, const tl_lab_opts *o)
{
    int failed = 0, skipped = 0, passed = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = run_one(list[i], o);
        if (rc == 77) skipped++;
        else if (rc) failed++;
        else passed++;
        fflush(o->out);
    }
    if (!o->json && n > 1)
        fprintf(o->out, "\nlab: %d scenario%s passed, %d failed, %d skipped\n", passed,
                passed == 1 ? "" : "s", failed, skipped);
    if (failed) return 1;
    if (skipped && !passed) return 77;
    return 0;
}
