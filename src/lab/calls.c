/* calls.c -- socket calls performed and recorded with their results, errno
 * names and signals; the shared formatting of `lab`, `serve` and `connect`.
 */
#include "lab/calls.h"
#include "lab/sockdiag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Counts SIGPIPEs; a signal handler can only talk through a static. */
static volatile sig_atomic_t sigpipe_count;

static void on_sigpipe(int sig)
{
    (void)sig;
    sigpipe_count++;
}

void tl_calls_catch_sigpipe(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigpipe;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
}

static tl_time now_real(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (tl_time){ .sec = ts.tv_sec, .nsec = (uint32_t)ts.tv_nsec };
}

void tl_calls_init(tl_calls *c, int side, int fd, FILE *fp)
{
    memset(c, 0, sizeof *c);
    c->side = (uint8_t)side;
    c->fd = fd;
    c->fp = fp;
}

void tl_calls_emit(tl_calls *c, tl_call_rec *r)
{
    r->side = c->side;
    if (r->ts.sec == 0 && r->ts.nsec == 0) r->ts = now_real();
    if (c->fd >= 0) {
        /* One write of less than PIPE_BUF bytes: atomic, never interleaved. */
        ssize_t w;
        do {
            w = write(c->fd, r, sizeof *r);
        } while (w < 0 && errno == EINTR);
    }
    if (c->fp) {
        if (!c->have_base) {
            c->base = r->ts;
            c->have_base = true;
        }
        char buf[256];
        if (r->type == TL_REC_NOTE) snprintf(buf, sizeof buf, "# %s", r->note);
        else tl_call_format(r, buf, sizeof buf);
        fprintf(c->fp, "%10.6f  %s\n", tl_time_diff(c->base, r->ts), buf);
        fflush(c->fp);
    }
}

void tl_calls_note(tl_calls *c, const char *fmt, ...)
{
    tl_call_rec r;
    memset(&r, 0, sizeof r);
    r.type = TL_REC_NOTE;
    snprintf(r.call, sizeof r.call, "note");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r.note, sizeof r.note, fmt, ap);
    va_end(ap);
    tl_calls_emit(c, &r);
}

const char *tl_errno_name(int err)
{
    static __thread char num[16];
    const char *n = err ? strerrorname_np(err) : NULL;
    if (n) return n;
    snprintf(num, sizeof num, "E%d", err);
    return num;
}

char *tl_sockaddr_format(const struct sockaddr *sa, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
        snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
        snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
    }
    return buf;
}

static void sockaddr_to_addr(const struct sockaddr_storage *ss, tl_addr *a, uint16_t *port)
{
    memset(a, 0, sizeof *a);
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        a->family = 6;
        memcpy(a->bytes, &s6->sin6_addr, 16);
        *port = ntohs(s6->sin6_port);
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        a->family = 4;
        memcpy(a->bytes, &s4->sin_addr, 4);
        *port = ntohs(s4->sin_port);
    }
}

/* The socket's own and peer's address, when it has them. */
static void fill_endpoints(tl_call_rec *r, int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) sockaddr_to_addr(&ss, &r->local, &r->lport);
    sl = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) sockaddr_to_addr(&ss, &r->remote, &r->rport);
}

char *tl_call_format(const tl_call_rec *r, char *buf, size_t len)
{
    if (r->type == TL_REC_SNAP) {
        char l[64], rem[64];
        snprintf(buf, len, "kernel: %s %s %s (sock_diag%s%s)",
                 tl_sockdiag_endpoint(&r->local, r->lport, false, l, sizeof l),
                 tl_sockdiag_endpoint(&r->remote, r->rport, true, rem, sizeof rem),
                 tl_tcp_state_name((tl_tcp_state)r->state), r->note[0] ? ", " : "", r->note);
        return buf;
    }
    if (r->type == TL_REC_NOTE) {
        snprintf(buf, len, "%s", r->note);
        return buf;
    }
    int n;
    if (r->ret < 0 && r->err)
        n = snprintf(buf, len, "%s(%s) = %lld %s", r->call, r->args, (long long)r->ret,
                     tl_errno_name(r->err));
    else
        n = snprintf(buf, len, "%s(%s) = %lld", r->call, r->args, (long long)r->ret);
    if (n < 0 || (size_t)n >= len) return buf;
    if (r->sig)
        n += snprintf(buf + n, len - (size_t)n, ", SIG%s delivered",
                      sigabbrev_np(r->sig) ? sigabbrev_np(r->sig) : "?");
    if (n >= 0 && (size_t)n < len && r->note[0])
        snprintf(buf + n, len - (size_t)n, " %s", r->note);
    return buf;
}

/* Fills the common part of a call record and emits it. */
static void record(tl_calls *c, int fd, const char *call, const char *args, int64_t ret,
                   int err, int sig, const char *note)
{
    tl_call_rec r;
    memset(&r, 0, sizeof r);
    r.ts = now_real();
    r.type = TL_REC_CALL;
    snprintf(r.call, sizeof r.call, "%s", call);
    snprintf(r.args, sizeof r.args, "%s", args ? args : "");
    if (note) snprintf(r.note, sizeof r.note, "%s", note);
    r.ret = ret;
    r.err = ret < 0 ? err : 0;
    r.sig = sig;
    if (fd >= 0) fill_endpoints(&r, fd);
    tl_calls_emit(c, &r);
    errno = err;
}

int tl_c_socket(tl_calls *c, int family)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int e = errno;
    record(c, -1, "socket", family == AF_INET6 ? "AF_INET6, SOCK_STREAM" : "AF_INET, SOCK_STREAM",
           fd, e, 0, NULL);
    return fd;
}

int tl_c_setsockopt(tl_calls *c, int fd, int level, int opt, const char *name, int value)
{
    int r = setsockopt(fd, level, opt, &value, sizeof value);
    int e = errno;
    char args[64];
    snprintf(args, sizeof args, "%s, %d", name, value);
    record(c, -1, "setsockopt", args, r, e, 0, NULL);
    return r;
}

int tl_c_linger(tl_calls *c, int fd, int onoff, int secs)
{
    struct linger lg = { .l_onoff = onoff, .l_linger = secs };
    int r = setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    int e = errno;
    char args[64];
    snprintf(args, sizeof args, "SO_LINGER, {%d, %d}", onoff, secs);
    record(c, -1, "setsockopt", args, r, e, 0, NULL);
    return r;
}

int tl_c_bind(tl_calls *c, int fd, const struct sockaddr *sa, socklen_t len)
{
    int r = bind(fd, sa, len);
    int e = errno;
    char args[64];
    record(c, -1, "bind", tl_sockaddr_format(sa, args, sizeof args), r, e, 0,
           r < 0 && e == EADDRINUSE ? "(address already in use)" : NULL);
    return r;
}

int tl_c_listen(tl_calls *c, int fd, int backlog)
{
    int r = listen(fd, backlog);
    int e = errno;
    char args[32];
    snprintf(args, sizeof args, "%d", backlog);
    record(c, fd, "listen", args, r, e, 0, NULL);
    return r;
}

int tl_c_accept(tl_calls *c, int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int r = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
    int e = errno;
    char note[80] = "";
    if (r >= 0) {
        char a[64];
        snprintf(note, sizeof note, "(from %s)", tl_sockaddr_format((struct sockaddr *)&ss, a, sizeof a));
    }
    record(c, r, "accept", "", r, e, 0, note);
    return r;
}

int tl_c_connect(tl_calls *c, int fd, const struct sockaddr *sa, socklen_t len)
{
    int r = connect(fd, sa, len);
    int e = errno;
    char args[64];
    const char *note = NULL;
    if (r < 0 && e == ECONNREFUSED) note = "(connection refused)";
    else if (r < 0 && e == ETIMEDOUT) note = "(connection timed out)";
    record(c, fd, "connect", tl_sockaddr_format(sa, args, sizeof args), r, e, 0, note);
    return r;
}

/* A short printable preview of data: "\"Hello1\\n\"". */
static void preview(char *out, size_t cap, const uint8_t *p, size_t n)
{
    size_t o = 0;
    if (cap < 8) return;
    out[o++] = '"';
    for (size_t i = 0; i < n && o + 6 < cap; i++) {
        uint8_t ch = p[i];
        if (ch == '\n') { out[o++] = '\\'; out[o++] = 'n'; }
        else if (ch == '"' || ch == '\\') { out[o++] = '\\'; out[o++] = (char)ch; }
        else if (ch >= 0x20 && ch < 0x7f) out[o++] = (char)ch;
        else o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
        if (i + 1 < n && o + 6 >= cap) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
}

ssize_t tl_c_send(tl_calls *c, int fd, const void *buf, size_t len)
{
    sig_atomic_t before = sigpipe_count;
    ssize_t r = send(fd, buf, len, 0);
    int e = errno;
    int sig = sigpipe_count != before ? SIGPIPE : 0;
    char args[32], note[80];
    snprintf(args, sizeof args, "%zu", len);
    preview(note, sizeof note, buf, len);
    if (r < 0 && e == EPIPE) snprintf(note, sizeof note, "(broken pipe)");
    else if (r < 0 && e == ECONNRESET) snprintf(note, sizeof note, "(connection reset by peer)");
    else if (r < 0) note[0] = '\0';
    record(c, fd, "send", args, r, e, sig, note);   /* the socket: lab_stream.c */
    return r;
}

ssize_t tl_c_recv(tl_calls *c, int fd, void *buf, size_t len)
{
    ssize_t r = recv(fd, buf, len, 0);
    int e = errno;
    char args[32], note[80] = "";
    snprintf(args, sizeof args, "%zu", len);
    if (r == 0) snprintf(note, sizeof note, "(peer closed)");
    else if (r > 0) preview(note, sizeof note, buf, (size_t)r);
    else if (e == ECONNRESET) snprintf(note, sizeof note, "(connection reset by peer)");
    else if (e == ETIMEDOUT) snprintf(note, sizeof note, "(connection timed out)");
    record(c, fd, "recv", args, r, e, 0, note);
    return r;
}

int tl_c_shutdown(tl_calls *c, int fd, int how)
{
    int r = shutdown(fd, how);
    int e = errno;
    record(c, -1, "shutdown",
           how == SHUT_WR ? "SHUT_WR" : how == SHUT_RD ? "SHUT_RD" : "SHUT_RDWR", r, e, 0, NULL);
    return r;
}

int tl_c_close(tl_calls *c, int fd)
{
    int r = close(fd);
    int e = errno;
    char args[16];
    snprintf(args, sizeof args, "%d", fd);
    record(c, -1, "close", args, r, e, 0, NULL);
    return r;
}
