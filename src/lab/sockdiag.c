/* sockdiag.c -- TCP socket snapshots through NETLINK_SOCK_DIAG
 * (linux/inet_diag.h, sock_diag(7)): one SOCK_DIAG_BY_FAMILY dump per address
 * family with every state bit set, as ss(8) does for `ss -tan`.
 */
#include "lab/sockdiag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* include/net/tcp_states.h numbering. */
static const struct {
    const char *name;
    tl_tcp_state st;
} kstates[] = {
    [1] = { "ESTABLISHED", TL_ST_ESTABLISHED },
    [2] = { "SYN_SENT", TL_ST_SYN_SENT },
    [3] = { "SYN_RECV", TL_ST_SYN_RECEIVED },
    [4] = { "FIN_WAIT1", TL_ST_FIN_WAIT_1 },
    [5] = { "FIN_WAIT2", TL_ST_FIN_WAIT_2 },
    [6] = { "TIME_WAIT", TL_ST_TIME_WAIT },
    [7] = { "CLOSE", TL_ST_CLOSED },
    [8] = { "CLOSE_WAIT", TL_ST_CLOSE_WAIT },
    [9] = { "LAST_ACK", TL_ST_LAST_ACK },
    [10] = { "LISTEN", TL_ST_LISTEN },
    [11] = { "CLOSING", TL_ST_CLOSING },
    [12] = { "NEW_SYN_RECV", TL_ST_SYN_RECEIVED },
    [13] = { "BOUND_INACTIVE", TL_ST_CLOSED },
};
#define N_KSTATES (int)(sizeof kstates / sizeof kstates[0])

tl_tcp_state tl_sockdiag_state(int kstate)
{
    if (kstate <= 0 || kstate >= N_KSTATES) return TL_ST_UNKNOWN;
    return kstates[kstate].st;
}

const char *tl_sockdiag_kernel_name(int kstate)
{
    if (kstate <= 0 || kstate >= N_KSTATES) return "UNKNOWN";
    return kstates[kstate].name;
}

int tl_sockdiag_kernel_parse(const char *name)
{
    if (strncmp(name, "TCP_", 4) == 0) name += 4;
    for (int i = 1; i < N_KSTATES; i++)
        if (strcmp(kstates[i].name, name) == 0) return i;
    return -1;
}

char *tl_sockdiag_endpoint(const tl_addr *a, uint16_t port, bool wildcard_port, char *buf,
                           size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->bytes, ip, sizeof ip);
    const char *fmt = a->family == 6 ? "[%s]:" : "%s:";
    int k = snprintf(buf, len, fmt, ip);
    if (k < 0 || (size_t)k >= len) return buf;
    if (port == 0 && wildcard_port) snprintf(buf + k, len - (size_t)k, "*");
    else snprintf(buf + k, len - (size_t)k, "%u", port);
    return buf;
}

bool tl_sockdiag_same(const tl_sockdiag_entry *a, const tl_sockdiag_entry *b)
{
    return a->local.family == b->local.family && a->lport == b->lport &&
           a->rport == b->rport && memcmp(a->local.bytes, b->local.bytes, 16) == 0 &&
           memcmp(a->remote.bytes, b->remote.bytes, 16) == 0;
}

int tl_sockdiag_open(void)
{
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    return fd < 0 ? -errno : fd;
}

typedef struct vec {
    tl_sockdiag_entry *v;
    size_t n, cap;
} vec;

static int vec_push(vec *s, const tl_sockdiag_entry *e)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        tl_sockdiag_entry *v = realloc(s->v, cap * sizeof *v);
        if (!v) return TL_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = *e;
    return TL_OK;
}

static void fill_addr(tl_addr *a, int family, const __be32 *words)
{
    memset(a, 0, sizeof *a);
    a->family = family == AF_INET6 ? 6 : 4;
    memcpy(a->bytes, words, family == AF_INET6 ? 16 : 4);
}

static bool keep(const tl_sockdiag_filter *f, const tl_sockdiag_entry *e)
{
    if (!f || f->port < 0) return true;
    return e->lport == f->port || e->rport == f->port;
}

static int dump_family(int fd, int family, const tl_sockdiag_filter *f, vec *out, char *errbuf)
{
    struct {
        struct nlmsghdr h;
        struct inet_diag_req_v2 r;
    } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = (uint32_t)family;
    req.r.sdiag_family = (uint8_t)family;
    req.r.sdiag_protocol = IPPROTO_TCP;
    /* Default: every state, TIME-WAIT and request sockets too. */
    req.r.idiag_states = f && f->states ? f->states : ~0u;
    struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
    if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
        return tl_err(errbuf, TL_EIO, "sock_diag: send: %s", strerror(errno));
    char buf[32768];
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return tl_err(errbuf, errno == EPERM ? TL_EPERM : TL_EIO, "sock_diag: recv: %s",
                          strerror(errno));
        }
        if (r == 0) return TL_OK;
        size_t left = (size_t)r;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
             h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_seq != (uint32_t)family) continue;   /* stale reply */
            if (h->nlmsg_type == NLMSG_DONE) return TL_OK;
            if (h->nlmsg_type == NLMSG_ERROR) {
                int e = h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))
                            ? -((struct nlmsgerr *)NLMSG_DATA(h))->error : EIO;
                /* No IPv6 in this kernel: an empty family, not a failure. */
                if (e == ENOENT || e == EAFNOSUPPORT) return TL_OK;
                return tl_err(errbuf, TL_EIO, "sock_diag: %s", strerror(e));
            }
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) continue;
            const struct inet_diag_msg *m = NLMSG_DATA(h);
            tl_sockdiag_entry e;
            memset(&e, 0, sizeof e);
            fill_addr(&e.local, m->idiag_family, m->id.idiag_src);
            fill_addr(&e.remote, m->idiag_family, m->id.idiag_dst);
            e.lport = ntohs(m->id.idiag_sport);
            e.rport = ntohs(m->id.idiag_dport);
            e.kstate = m->idiag_state;
            e.state = tl_sockdiag_state(m->idiag_state);
            e.rqueue = m->idiag_rqueue;
            e.wqueue = m->idiag_wqueue;
            e.inode = m->idiag_inode;
            e.uid = m->idiag_uid;
            e.timer = m->idiag_timer;
            e.expires_ms = m->idiag_expires;
            e.retrans = m->idiag_retrans;
            if (keep(f, &e) && vec_push(out, &e) < 0)
                return tl_err(errbuf, TL_ENOMEM, "sock_diag: out of memory");
        }
    }
}

int tl_sockdiag_snapshot(int nlfd, const tl_sockdiag_filter *f, tl_sockdiag_entry **out,
                         size_t *n, char *errbuf)
{
    *out = NULL;
    *n = 0;
    int fd = nlfd;
    if (fd < 0) {
        fd = tl_sockdiag_open();
        if (fd < 0)
            return tl_err(errbuf, fd == -EPERM || fd == -EACCES ? TL_EPERM : TL_EIO,
                          "sock_diag: socket(NETLINK_SOCK_DIAG): %s", strerror(-fd));
    }
    vec v = { 0 };
    int err = TL_OK;
    int fams[2] = { AF_INET, AF_INET6 };
    for (int i = 0; i < 2 && err == TL_OK; i++)
        if (!f || f->family == 0 || f->family == fams[i])
            err = dump_family(fd, fams[i], f, &v, errbuf);
    if (fd != nlfd) close(fd);
    if (err < 0) {
        free(v.v);
        return err;
    }
    *out = v.v;
    *n = v.n;
    return TL_OK;
}

void tl_sockdiag_free(tl_sockdiag_entry *e)
{
    free(e);
}
