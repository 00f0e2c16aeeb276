/* kstate.c -- live kernel TCP state transitions: the tracepoint
 * sock:inet_sock_set_state (include/trace/events/sock.h) read from a private
 * tracefs instance, or, where tracefs is out of reach, differences between
 * sock_diag snapshots taken every few milliseconds.
 *
 * The kernel moves a socket entering TIME-WAIT to TCP_CLOSE: tcp_time_wait()
 * hands the connection to a timewait socket, which has no tracepoint. So a
 * FIN-WAIT-1/FIN-WAIT-2/CLOSING -> CLOSE event is checked against sock_diag:
 * a timewait socket in TIME-WAIT makes it "-> TIME-WAIT"; one still in
 * FIN-WAIT-2 (an orphaned socket, e.g. its process exited or was killed,
 * waiting for the peer's FIN) means the socket did not close at all, and it
 * is watched through sock_diag until it reaches TIME-WAIT or goes away.
 */
#include "lab/kstate.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EVENT_DIR "events/sock/inet_sock_set_state"
#define KS_TCP_FIN_WAIT1 4
#define KS_TCP_FIN_WAIT2 5
#define KS_TCP_TIME_WAIT 6
#define KS_TCP_CLOSE 7
#define KS_TCP_CLOSING 11
#define MAX_WATCH 64
#define WATCH_MS 5

struct tl_kstate {
    tl_kstate_config cfg;
    tl_kstate_cb cb;
    void *ud;
    tl_kstate_source source;
    char why[768];
    int own_diag_fd;           /* opened by us when cfg had none */
    /* tracepoint */
    char instance[512];
    int pipe_fd;
    int64_t mono_to_real_ns;   /* trace clock "mono" + this = CLOCK_REALTIME */
    tl_kstate_event watch[MAX_WATCH];   /* orphans in FIN-WAIT-2 timewait sockets */
    int nwatch;
    int64_t last_watch_ns;
    /* sock_diag polling: previous snapshot per namespace, sorted */
    tl_sockdiag_entry *prev[TL_KSTATE_MAX_NS];
    size_t nprev[TL_KSTATE_MAX_NS];
    bool have_prev[TL_KSTATE_MAX_NS];
    pthread_t thread;
    atomic_int stop;
    /* Held by the thread while it works (it allocates) and by
     * tl_kstate_hold: see kstate.h. */
    pthread_mutex_t busy;
};

const char *tl_kstate_source_name(tl_kstate_source s)
{
    return s == TL_KSTATE_TRACEPOINT ? "tracepoint" : "sock_diag";
}

tl_kstate_source tl_kstate_get_source(const tl_kstate *k)
{
    return k->source;
}

const char *tl_kstate_fallback_reason(const tl_kstate *k)
{
    return k->why;
}

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static tl_time ns_to_time(int64_t ns)
{
    return (tl_time){ .sec = ns / 1000000000, .nsec = (uint32_t)(ns % 1000000000) };
}

/* ---- trace line parsing ------------------------------------------------- */

/* Value of "key=" in the event's text, copied into out. */
static bool field(const char *s, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (const char *p = s; (p = strstr(p, key)) != NULL; p += kl) {
        if ((p != s && p[-1] != ' ') || p[kl] != '=') continue;
        p += kl + 1;
        size_t n = strcspn(p, " \n");
        if (n >= cap) return false;
        memcpy(out, p, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

static bool parse_ip(const char *text, bool v6, tl_addr *a)
{
    memset(a, 0, sizeof *a);
    a->family = v6 ? 6 : 4;
    return inet_pton(v6 ? AF_INET6 : AF_INET, text, a->bytes) == 1;
}

bool tl_kstate_parse_trace_line(const char *line, tl_kstate_event *ev)
{
    static const char tag[] = " inet_sock_set_state: ";
    const char *body = strstr(line, tag);
    if (!body) return false;
    memset(ev, 0, sizeof *ev);
    ev->ns = -1;
    ev->source = TL_KSTATE_TRACEPOINT;
    /* "...  582.270850: inet_sock_set_state: ..." -- the timestamp ends at body. */
    const char *t = body;
    if (t > line && t[-1] == ':') t--;
    const char *te = t;
    while (t > line && ((t[-1] >= '0' && t[-1] <= '9') || t[-1] == '.')) t--;
    if (t == te) return false;
    char num[32];
    size_t tl = (size_t)(te - t);
    if (tl >= sizeof num) return false;
    memcpy(num, t, tl);
    num[tl] = '\0';
    char *dot = strchr(num, '.');
    ev->ts.sec = strtoll(num, NULL, 10);
    if (dot) {
        char frac[10] = "000000000";
        size_t fl = strlen(dot + 1);
        memcpy(frac, dot + 1, fl > 9 ? 9 : fl);
        ev->ts.nsec = (uint32_t)strtoul(frac, NULL, 10);
    }
    body += sizeof tag - 1;
    char fam[16], proto[24], sport[8], dport[8], sa[64], da[64], olds[24], news[24];
    if (!field(body, "family", fam, sizeof fam) || !field(body, "protocol", proto, sizeof proto) ||
        !field(body, "sport", sport, sizeof sport) || !field(body, "dport", dport, sizeof dport) ||
        !field(body, "oldstate", olds, sizeof olds) || !field(body, "newstate", news, sizeof news))
        return false;
    if (strcmp(proto, "IPPROTO_TCP") != 0) return false;
    bool v6 = strcmp(fam, "AF_INET6") == 0;
    if (!field(body, v6 ? "saddrv6" : "saddr", sa, sizeof sa) ||
        !field(body, v6 ? "daddrv6" : "daddr", da, sizeof da) || !parse_ip(sa, v6, &ev->local) ||
        !parse_ip(da, v6, &ev->remote))
        return false;
    ev->lport = (uint16_t)strtoul(sport, NULL, 10);
    ev->rport = (uint16_t)strtoul(dport, NULL, 10);
    ev->kfrom = tl_sockdiag_kernel_parse(olds);
    ev->kto = tl_sockdiag_kernel_parse(news);
    if (ev->kfrom < 0 || ev->kto < 0) return false;
    ev->from = tl_sockdiag_state(ev->kfrom);
    ev->to = tl_sockdiag_state(ev->kto);
    return true;
}

/* ---- helpers shared by both sources ------------------------------------ */

static bool wanted(const tl_kstate *k, const tl_addr *a, uint16_t lport, uint16_t rport)
{
    if (k->cfg.port >= 0 && lport != k->cfg.port && rport != k->cfg.port) return false;
    if (k->cfg.family == AF_INET && a->family != 4) return false;
    if (k->cfg.family == AF_INET6 && a->family != 6) return false;
    return true;
}

static int ndiag(const tl_kstate *k)
{
    return k->cfg.n_diag_fds > 0 ? k->cfg.n_diag_fds : 1;
}

static int diag_fd(const tl_kstate *k, int i)
{
    return k->cfg.n_diag_fds > 0 ? k->cfg.diag_fds[i] : k->own_diag_fd;
}

/* The kernel state of the timewait socket holding ev's 4-tuple (FIN_WAIT2 or
 * TIME_WAIT as inet_diag reports tw_substate), 0 when there is none. */
static int timewait_state(tl_kstate *k, const tl_kstate_event *ev, int *ns)
{
    tl_sockdiag_filter f = { .family = ev->local.family == 6 ? AF_INET6 : AF_INET,
                             .port = ev->lport,
                             .states = 1u << KS_TCP_TIME_WAIT | 1u << KS_TCP_FIN_WAIT2 };
    char err[TL_ERRBUF_SIZE];
    for (int i = 0; i < ndiag(k); i++) {
        tl_sockdiag_entry *e;
        size_t n;
        if (tl_sockdiag_snapshot(diag_fd(k, i), &f, &e, &n, err) < 0) continue;
        int st = 0;
        for (size_t j = 0; j < n && !st; j++)
            if (e[j].lport == ev->lport && e[j].rport == ev->rport &&
                memcmp(e[j].local.bytes, ev->local.bytes, 16) == 0 &&
                memcmp(e[j].remote.bytes, ev->remote.bytes, 16) == 0)
                st = e[j].kstate;
        tl_sockdiag_free(e);
        if (st) {
            *ns = i;
            return st;
        }
    }
    return 0;
}

static void set_to(tl_kstate_event *ev, int kto)
{
    ev->kto = kto;
    ev->to = tl_sockdiag_state(kto);
}

/* Follows orphaned FIN-WAIT-2 sockets the tracepoint no longer sees. */
static void check_watch(tl_kstate *k)
{
    for (int i = 0; i < k->nwatch;) {
        tl_kstate_event ev = k->watch[i];
        int ns = ev.ns;
        int st = timewait_state(k, &ev, &ns);
        if (st == KS_TCP_FIN_WAIT2) {
            i++;
            continue;
        }
        ev.ts = ns_to_time(clock_ns(CLOCK_REALTIME));
        ev.seen_ts = (tl_time){0, 0};
        ev.kfrom = KS_TCP_FIN_WAIT2;
        ev.from = TL_ST_FIN_WAIT_2;
        set_to(&ev, st ? st : KS_TCP_CLOSE);
        ev.source = TL_KSTATE_SOCK_DIAG;   /* seen by sock_diag, not the tracepoint */
        k->cb(k->ud, &ev);
        k->watch[i] = k->watch[--k->nwatch];
    }
}

/* ---- tracepoint ---------------------------------------------------------- */

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static const char *find_tracefs(void)
{
    static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
    char p[128];
    for (size_t i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/" EVENT_DIR, roots[i]);
        if (exists(p)) return roots[i];
    }
    return NULL;
}

static int write_str(const char *dir, const char *name, const char *text)
{
    char p[640];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t w = write(fd, text, strlen(text));
    int e = w < 0 ? -errno : 0;
    close(fd);
    return e;
}

/* Instances left by a tcplens that was killed. */
static void remove_stale_instances(const char *root)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/instances", root);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        long pid;
        char *end;
        if (strncmp(de->d_name, "tcplens-", 8) != 0) continue;
        pid = strtol(de->d_name + 8, &end, 10);
        if ((*end && *end != '.') || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        (void)rmdir(p);
    }
    closedir(d);
}

static void mount_private_tracefs(void)
{
    if (geteuid() != 0) return;
    if (unshare(CLONE_NEWNS) < 0) return;
    /* Keep our mounts to ourselves: nothing propagates back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return;
    if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0) return;
    (void)mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
}

static int tracepoint_open(tl_kstate *k)
{
    const char *root = find_tracefs();
    if (!root && k->cfg.mount_private_tracefs) {
        mount_private_tracefs();
        root = find_tracefs();
    }
    if (!root) {
        snprintf(k->why, sizeof k->why, "tracefs with sock:inet_sock_set_state is not "
                 "available (not mounted, or no permission)");
        return -1;
    }
    remove_stale_instances(root);
    /* "tcplens-PID.N": several kstates in one process each get their own. */
    static atomic_uint seq;
    snprintf(k->instance, sizeof k->instance, "%s/instances/tcplens-%d.%u", root, (int)getpid(),
             atomic_fetch_add(&seq, 1));
    if (mkdir(k->instance, 0700) < 0) {
        snprintf(k->why, sizeof k->why, "cannot create a tracefs instance in %s: %s", root,
                 strerror(errno));
        k->instance[0] = '\0';
        return -1;
    }
    char filter[128] = "protocol == 6";
    if (k->cfg.port >= 0)
        snprintf(filter, sizeof filter, "protocol == 6 && (sport == %d || dport == %d)",
                 k->cfg.port, k->cfg.port);
    int e;
    if ((e = write_str(k->instance, "trace_clock", "mono")) < 0 ||
        (e = write_str(k->instance, EVENT_DIR "/filter", filter)) < 0 ||
        (e = write_str(k->instance, EVENT_DIR "/enable", "1")) < 0) {
        snprintf(k->why, sizeof k->why, "cannot enable sock:inet_sock_set_state: %s",
                 strerror(-e));
        return -1;
    }
    char p[640];
    snprintf(p, sizeof p, "%s/trace_pipe", k->instance);
    k->pipe_fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (k->pipe_fd < 0) {
        snprintf(k->why, sizeof k->why, "cannot open %s: %s", p, strerror(errno));
        return -1;
    }
    k->mono_to_real_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
    k->why[0] = '\0';
    return 0;
}

static void tracepoint_close(tl_kstate *k)
{
    if (k->pipe_fd >= 0) close(k->pipe_fd);
    k->pipe_fd = -1;
    if (k->instance[0]) {
        (void)write_str(k->instance, EVENT_DIR "/enable", "0");
        (void)rmdir(k->instance);
        k->instance[0] = '\0';
    }
}

static void tracepoint_line(tl_kstate *k, const char *line)
{
    tl_kstate_event ev;
    if (!tl_kstate_parse_trace_line(line, &ev)) return;
    if (!wanted(k, &ev.local, ev.lport, ev.rport)) return;
    int64_t ns = ev.ts.sec * 1000000000 + ev.ts.nsec + k->mono_to_real_ns;
    ev.ts = ns_to_time(ns);
    if (ev.kto == KS_TCP_CLOSE && (ev.kfrom == KS_TCP_FIN_WAIT1 ||
                                   ev.kfrom == KS_TCP_FIN_WAIT2 || ev.kfrom == KS_TCP_CLOSING)) {
        int st = timewait_state(k, &ev, &ev.ns);
        if (st == KS_TCP_FIN_WAIT2) {
            set_to(&ev, KS_TCP_FIN_WAIT2);
            if (k->nwatch < MAX_WATCH) k->watch[k->nwatch++] = ev;
            if (ev.kfrom == KS_TCP_FIN_WAIT2) return;   /* still FIN-WAIT-2: no change */
        } else if (st == KS_TCP_TIME_WAIT) {
            set_to(&ev, KS_TCP_TIME_WAIT);
            ev.seen_ts = ns_to_time(clock_ns(CLOCK_REALTIME));
        }
    }
    k->cb(k->ud, &ev);
}

static void *tracepoint_thread(void *arg)
{
    tl_kstate *k = arg;
    char buf[8192];
    size_t have = 0;
    struct pollfd pfd = { .fd = k->pipe_fd, .events = POLLIN };
    while (!k->stop) {
        int ready = poll(&pfd, 1, k->nwatch ? WATCH_MS : 50);
        if (k->nwatch && clock_ns(CLOCK_MONOTONIC) - k->last_watch_ns >= WATCH_MS * 1000000) {
            pthread_mutex_lock(&k->busy);
            check_watch(k);
            pthread_mutex_unlock(&k->busy);
            k->last_watch_ns = clock_ns(CLOCK_MONOTONIC);
        }
        if (ready <= 0) continue;
        ssize_t r = read(k->pipe_fd, buf + have, sizeof buf - 1 - have);
        if (r <= 0) continue;
        have += (size_t)r;
        buf[have] = '\0';
        char *start = buf, *nl;
        pthread_mutex_lock(&k->busy);
        while ((nl = strchr(start, '\n')) != NULL) {
            *nl = '\0';
            tracepoint_line(k, start);
            start = nl + 1;
        }
        pthread_mutex_unlock(&k->busy);
        have = (size_t)(buf + have - start);
        memmove(buf, start, have);
        if (have == sizeof buf - 1) have = 0;   /* a line longer than the buffer: drop it */
    }
    return NULL;
}

/* ---- sock_diag polling --------------------------------------------------- */

static int entry_cmp(const void *pa, const void *pb)
{
    const tl_sockdiag_entry *a = pa, *b = pb;
    if (a->local.family != b->local.family) return a->local.family < b->local.family ? -1 : 1;
    int c = memcmp(a->local.bytes, b->local.bytes, 16);
    if (c) return c;
    if (a->lport != b->lport) return a->lport < b->lport ? -1 : 1;
    c = memcmp(a->remote.bytes, b->remote.bytes, 16);
    if (c) return c;
    if (a->rport != b->rport) return a->rport < b->rport ? -1 : 1;
    return 0;
}

static void emit_diff(tl_kstate *k, int ns, const tl_sockdiag_entry *old,
                      const tl_sockdiag_entry *cur, tl_time ts)
{
    const tl_sockdiag_entry *e = cur ? cur : old;
    int kfrom = old ? old->kstate : 0, kto = cur ? cur->kstate : KS_TCP_CLOSE;
    if (kfrom == kto) return;
    tl_kstate_event ev = { .ts = ts, .ns = ns, .local = e->local, .remote = e->remote,
                           .lport = e->lport, .rport = e->rport, .kfrom = kfrom, .kto = kto,
                           .from = old ? old->state : TL_ST_CLOSED,
                           .to = cur ? cur->state : TL_ST_CLOSED,
                           .source = TL_KSTATE_SOCK_DIAG };
    k->cb(k->ud, &ev);
}

static void poll_once(tl_kstate *k, int ns)
{
    tl_sockdiag_filter f = { .family = k->cfg.family, .port = k->cfg.port };
    tl_sockdiag_entry *cur;
    size_t n;
    char err[TL_ERRBUF_SIZE];
    if (tl_sockdiag_snapshot(diag_fd(k, ns), &f, &cur, &n, err) < 0) return;
    if (n) qsort(cur, n, sizeof *cur, entry_cmp);
    if (k->have_prev[ns]) {
        tl_time ts = ns_to_time(clock_ns(CLOCK_REALTIME));
        const tl_sockdiag_entry *old = k->prev[ns];
        size_t i = 0, j = 0, m = k->nprev[ns];
        while (i < m || j < n) {
            int c = i == m ? 1 : j == n ? -1 : entry_cmp(&old[i], &cur[j]);
            if (c < 0) emit_diff(k, ns, &old[i++], NULL, ts);
            else if (c > 0) emit_diff(k, ns, NULL, &cur[j++], ts);
            else emit_diff(k, ns, &old[i++], &cur[j++], ts);
        }
    }
    tl_sockdiag_free(k->prev[ns]);
    k->prev[ns] = cur;
    k->nprev[ns] = n;
    k->have_prev[ns] = true;
}

static void *poll_thread(void *arg)
{
    tl_kstate *k = arg;
    unsigned ms = k->cfg.poll_ms ? k->cfg.poll_ms : 2;
    while (!k->stop) {
        pthread_mutex_lock(&k->busy);
        for (int i = 0; i < ndiag(k); i++) poll_once(k, i);
        pthread_mutex_unlock(&k->busy);
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* ---- public API ---------------------------------------------------------- */

int tl_kstate_start(tl_kstate **out, const tl_kstate_config *cfg, tl_kstate_cb cb, void *ud,
                    char *errbuf)
{
    *out = NULL;
    if (!cfg || !cb || cfg->n_diag_fds < 0 || cfg->n_diag_fds > TL_KSTATE_MAX_NS)
        return tl_err(errbuf, TL_EINVAL, "kstate: bad configuration");
    tl_kstate *k = calloc(1, sizeof *k);
    if (k) pthread_mutex_init(&k->busy, NULL);
    if (!k) return tl_err(errbuf, TL_ENOMEM, "kstate: out of memory");
    k->cfg = *cfg;
    k->cb = cb;
    k->ud = ud;
    k->pipe_fd = -1;
    k->own_diag_fd = -1;
    if (cfg->n_diag_fds == 0) {
        k->own_diag_fd = tl_sockdiag_open();
        if (k->own_diag_fd < 0) {
            int e = -k->own_diag_fd;
            free(k);
            return tl_err(errbuf, e == EPERM || e == EACCES ? TL_EPERM : TL_EIO,
                          "kstate: socket(NETLINK_SOCK_DIAG): %s", strerror(e));
        }
    }
    void *(*fn)(void *) = poll_thread;
    k->source = TL_KSTATE_SOCK_DIAG;
    if (cfg->no_tracepoint) {
        snprintf(k->why, sizeof k->why, "tracepoint not requested");
    } else if (tracepoint_open(k) == 0) {
        k->source = TL_KSTATE_TRACEPOINT;
        fn = tracepoint_thread;
    } else {
        tracepoint_close(k);
    }
    if (k->source == TL_KSTATE_SOCK_DIAG)
        for (int i = 0; i < ndiag(k); i++) poll_once(k, i);   /* the baseline, synchronously */
    int e = pthread_create(&k->thread, NULL, fn, k);
    if (e) {
        tracepoint_close(k);
        if (k->own_diag_fd >= 0) close(k->own_diag_fd);
        for (int i = 0; i < TL_KSTATE_MAX_NS; i++) tl_sockdiag_free(k->prev[i]);
        free(k);
        return tl_err(errbuf, TL_EIO, "kstate: pthread_create: %s", strerror(e));
    }
    *out = k;
    return TL_OK;
}

void tl_kstate_hold(tl_kstate *k)
{
    if (k) pthread_mutex_lock(&k->busy);
}

void tl_kstate_release(tl_kstate *k)
{
    if (k) pthread_mutex_unlock(&k->busy);
}

void tl_kstate_stop(tl_kstate *k)
{
    if (!k) return;
    k->stop = 1;
    pthread_join(k->thread, NULL);
    /* Drain what the tracepoint recorded before we were asked to stop. */
    if (k->source == TL_KSTATE_TRACEPOINT) {
        char buf[4096], line[4096];
        size_t have = 0;
        ssize_t r;
        while ((r = read(k->pipe_fd, buf, sizeof buf)) > 0) {
            for (ssize_t i = 0; i < r; i++) {
                if (buf[i] == '\n' || have == sizeof line - 1) {
                    line[have] = '\0';
                    tracepoint_line(k, line);
                    have = 0;
                } else {
                    line[have++] = buf[i];
                }
            }
        }
    }
    tracepoint_close(k);
    if (k->own_diag_fd >= 0) close(k->own_diag_fd);
    for (int i = 0; i < TL_KSTATE_MAX_NS; i++) tl_sockdiag_free(k->prev[i]);
    pthread_mutex_destroy(&k->busy);
    free(k);
}
