/* netns.c -- the lab's private network: a user namespace when not root, two
 * network namespaces "client" and "server", each with lo and a link "wire0"
 * whose other end (TUN fd, or veth peer + AF_PACKET socket) the wire relays.
 * Configuration goes through rtnetlink (RFC 3549) and ioctls, never `ip`.
 *
 * Every namespace operation runs in a short-lived thread: unshare() and
 * setns() with CLONE_NEWNET change only the calling thread, so the lab
 * process itself stays in its own network namespace (which, inside a user
 * namespace, it could not setns() back into).
 */
#include "lab/netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define WIRE_IF "wire0"
#define PEER_IF "wire0p"

struct tl_lab_net {
    int ns_fd[2];
    tl_wire_port port[2];
    tl_wire_link link;
    bool userns;
};

const char *tl_lab_side_name(tl_lab_side side)
{
    return side == TL_LAB_SERVER ? "server" : "client";
}

const char *tl_lab_addr(tl_lab_side side, int family)
{
    if (family == AF_INET6) return side == TL_LAB_SERVER ? TL_LAB_SERVER_V6 : TL_LAB_CLIENT_V6;
    return side == TL_LAB_SERVER ? TL_LAB_SERVER_V4 : TL_LAB_CLIENT_V4;
}

/* ---- small file helpers ------------------------------------------------ */

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    int e = w == (ssize_t)len ? 0 : (w < 0 ? -errno : -EIO);
    close(fd);
    return e;
}

/* Reads a small integer file; returns def when unreadable. */
static long read_long(const char *path, long def)
{
    char buf[32] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return def;
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0) return def;
    buf[r] = '\0';
    return strtol(buf, NULL, 10);
}

/* ---- the user namespace ------------------------------------------------ */

/* Why the kernel refused a user namespace, and what the user can do. */
static int userns_refused(char *errbuf, int e)
{
    const char *why = "the kernel refused";
    const char *fix = "run `sudo tcplens lab`";
    if (read_long("/proc/sys/kernel/unprivileged_userns_clone", 1) == 0) {
        why = "kernel.unprivileged_userns_clone is 0";
        fix = "run `sudo sysctl -w kernel.unprivileged_userns_clone=1` or `sudo tcplens lab`";
    } else if (read_long("/proc/sys/user/max_user_namespaces", 1) == 0) {
        why = "user.max_user_namespaces is 0";
        fix = "run `sudo sysctl -w user.max_user_namespaces=10000` or `sudo tcplens lab`";
    } else if (read_long("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", 0) == 1) {
        why = "AppArmor restricts unprivileged user namespaces";
        fix = "run `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` or "
              "`sudo tcplens lab`";
    } else if (e == EINVAL) {
        why = "the process is already multi-threaded (internal error)";
    } else if (e == ENOSPC) {
        why = "the user namespace limit is reached";
    } else if (e == EPERM) {
        why = "not permitted here (a container or seccomp policy may forbid it)";
        fix = "run tcplens lab as root, or in a container started with --privileged";
    }
    return tl_err(errbuf, TL_EPERM, "lab network: cannot create a user namespace (%s): %s; %s",
                  strerror(e), why, fix);
}

static int enter_userns(char *errbuf)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER) < 0) return userns_refused(errbuf, errno);
    char map[64];
    int e;
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
    if ((e = write_file("/proc/self/uid_map", map)) < 0)
        return tl_err(errbuf, TL_EPERM, "lab network: writing /proc/self/uid_map: %s",
                      strerror(-e));
    /* An unprivileged gid_map needs setgroups denied first (user_namespaces(7)). */
    if ((e = write_file("/proc/self/setgroups", "deny")) < 0 && e != -ENOENT)
        return tl_err(errbuf, TL_EPERM, "lab network: writing /proc/self/setgroups: %s",
                      strerror(-e));
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
    if ((e = write_file("/proc/self/gid_map", map)) < 0)
        return tl_err(errbuf, TL_EPERM, "lab network: writing /proc/self/gid_map: %s",
                      strerror(-e));
    return TL_OK;
}

/* ---- rtnetlink ---------------------------------------------------------- */

typedef struct nlmsg {
    union {
        struct nlmsghdr h;
        char buf[1024];
    } u;
} nlmsg;

static void *nl_tail(nlmsg *m)
{
    return m->u.buf + NLMSG_ALIGN(m->u.h.nlmsg_len);
}

static struct rtattr *nl_attr(nlmsg *m, unsigned short type, const void *data, size_t len)
{
    struct rtattr *a = nl_tail(m);
    a->rta_type = type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    if (len) memcpy(RTA_DATA(a), data, len);
    m->u.h.nlmsg_len = NLMSG_ALIGN(m->u.h.nlmsg_len) + RTA_ALIGN(a->rta_len);
    return a;
}

static void nl_nest_end(nlmsg *m, struct rtattr *nest)
{
    nest->rta_len = (unsigned short)((char *)nl_tail(m) - (char *)nest);
}

/* Sends one request and waits for its acknowledgement; returns -errno. */
static int nl_talk(nlmsg *m)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -errno;
    m->u.h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    m->u.h.nlmsg_seq = 1;
    struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
    int ret = -EIO;
    if (sendto(fd, m, m->u.h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) < 0) {
        ret = -errno;
        goto out;
    }
    char reply[4096];
    ssize_t r = recv(fd, reply, sizeof reply, 0);
    if (r < 0) {
        ret = -errno;
        goto out;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, (size_t)r);
         h = NLMSG_NEXT(h, r)) {
        if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
            ret = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
            break;
        }
    }
out:
    close(fd);
    return ret;
}

static int nl_add_addr(int ifindex, int family, const char *text, int prefix)
{
    nlmsg m;
    memset(&m, 0, sizeof m);
    m.u.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
    m.u.h.nlmsg_type = RTM_NEWADDR;
    m.u.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    struct ifaddrmsg *ifa = NLMSG_DATA(&m.u.h);
    ifa->ifa_family = (unsigned char)family;
    ifa->ifa_prefixlen = (unsigned char)prefix;
    ifa->ifa_index = (unsigned)ifindex;
    /* No duplicate address detection: IPv6 is usable at once (RFC 4862 5.4). */
    ifa->ifa_flags = family == AF_INET6 ? IFA_F_NODAD : 0;
    uint8_t addr[16];
    if (inet_pton(family, text, addr) != 1) return -EINVAL;
    size_t alen = family == AF_INET6 ? 16 : 4;
    nl_attr(&m, IFA_LOCAL, addr, alen);
    nl_attr(&m, IFA_ADDRESS, addr, alen);
    return nl_talk(&m);
}

static int nl_add_veth(const char *name, const char *peer)
{
    nlmsg m;
    memset(&m, 0, sizeof m);
    m.u.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    m.u.h.nlmsg_type = RTM_NEWLINK;
    m.u.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    nl_attr(&m, IFLA_IFNAME, name, strlen(name) + 1);
    struct rtattr *info = nl_attr(&m, IFLA_LINKINFO, NULL, 0);
    nl_attr(&m, IFLA_INFO_KIND, "veth", 4);
    struct rtattr *data = nl_attr(&m, IFLA_INFO_DATA, NULL, 0);
    struct rtattr *vp = nl_attr(&m, VETH_INFO_PEER, NULL, 0);
    struct ifinfomsg pifi;
    memset(&pifi, 0, sizeof pifi);
    memcpy(nl_tail(&m), &pifi, sizeof pifi);
    m.u.h.nlmsg_len += NLMSG_ALIGN(sizeof pifi);
    nl_attr(&m, IFLA_IFNAME, peer, strlen(peer) + 1);
    nl_nest_end(&m, vp);
    nl_nest_end(&m, data);
    nl_nest_end(&m, info);
    return nl_talk(&m);
}

/* ---- interface ioctls --------------------------------------------------- */

static int if_ioctl(int sock, unsigned long req, struct ifreq *ifr)
{
    return ioctl(sock, req, ifr) < 0 ? -errno : 0;
}

static int if_set_flags(int sock, const char *name, short set)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    int e = if_ioctl(sock, SIOCGIFFLAGS, &ifr);
    if (e) return e;
    ifr.ifr_flags |= set;
    return if_ioctl(sock, SIOCSIFFLAGS, &ifr);
}

static int if_set_mtu(int sock, const char *name, int mtu)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    ifr.ifr_mtu = mtu;
    return if_ioctl(sock, SIOCSIFMTU, &ifr);
}

/* Turns an offload off. A veth computes checksums late and sends segments
 * larger than the MTU; the wire must see finished, MTU-sized packets. */
static int if_ethtool_off(int sock, const char *name, uint32_t cmd)
{
    struct ifreq ifr;
    struct ethtool_value ev = { .cmd = cmd, .data = 0 };
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    ifr.ifr_data = (char *)&ev;
    return if_ioctl(sock, SIOCETHTOOL, &ifr);
}

/* ---- running code inside a namespace ------------------------------------ */

typedef struct ns_job {
    int ns_fd;              /* -1: make a new network namespace */
    int (*fn)(struct ns_job *job);
    int ret;
    /* arguments and results of the particular job */
    tl_lab_side side;
    const char *path, *value;
    int domain, type, proto;
    int out_ns_fd;
    tl_wire_port port;
    tl_wire_link link;
    char why[160];
} ns_job;

static void *ns_thread(void *arg)
{
    ns_job *job = arg;
    if (job->ns_fd < 0 ? unshare(CLONE_NEWNET) : setns(job->ns_fd, CLONE_NEWNET)) {
        job->ret = -errno;
        snprintf(job->why, sizeof job->why, "%s: %s",
                 job->ns_fd < 0 ? "unshare(CLONE_NEWNET)" : "setns", strerror(errno));
        return NULL;
    }
    job->ret = job->fn(job);
    return NULL;
}

static int run_in_ns(ns_job *job)
{
    pthread_t t;
    int e = pthread_create(&t, NULL, ns_thread, job);
    if (e) {
        snprintf(job->why, sizeof job->why, "pthread_create: %s", strerror(e));
        return -e;
    }
    pthread_join(t, NULL);
    return job->ret;
}

static int fail(ns_job *job, int e, const char *what)
{
    snprintf(job->why, sizeof job->why, "%s: %s", what, strerror(-e));
    return e;
}

/* TUN "wire0" (IFF_TUN | IFF_NO_PI: the fd carries bare IP packets). */
static int open_tun(ns_job *job)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", WIRE_IF);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    job->port = (tl_wire_port){ .fd = fd, .kind = TL_WIRE_LINK_TUN };
    job->link = TL_WIRE_LINK_TUN;
    return 0;
}

/* veth "wire0" (addressed, no ARP/ND: neighbours resolve to its own MAC) and
 * its peer "wire0p", read and written through an AF_PACKET socket. */
static int open_veth(ns_job *job, int sock)
{
    int e = nl_add_veth(WIRE_IF, PEER_IF);
    if (e) return fail(job, e, "creating veth " WIRE_IF);
    if ((e = if_ethtool_off(sock, WIRE_IF, ETHTOOL_STXCSUM)) ||
        (e = if_ethtool_off(sock, WIRE_IF, ETHTOOL_STSO)) ||
        (e = if_ethtool_off(sock, WIRE_IF, ETHTOOL_SGSO)))
        return fail(job, e, "turning off offloads on " WIRE_IF);
    if ((e = if_set_flags(sock, WIRE_IF, IFF_NOARP)))
        return fail(job, e, "setting NOARP on " WIRE_IF);
    (void)write_file("/proc/sys/net/ipv6/conf/" PEER_IF "/disable_ipv6", "1");
    if ((e = if_set_mtu(sock, PEER_IF, TL_LAB_MTU)) || (e = if_set_flags(sock, PEER_IF, IFF_UP)))
        return fail(job, e, "bringing up " PEER_IF);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", WIRE_IF);
    if ((e = if_ioctl(sock, SIOCGIFHWADDR, &ifr))) return fail(job, e, "SIOCGIFHWADDR");
    int peer_index = (int)if_nametoindex(PEER_IF);
    if (peer_index == 0) return fail(job, -errno, "if_nametoindex " PEER_IF);
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) return fail(job, -errno, "socket(AF_PACKET)");
    int one = 1;
    (void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                               .sll_ifindex = peer_index };
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        e = -errno;
        close(fd);
        return fail(job, e, "binding the packet socket to " PEER_IF);
    }
    job->port = (tl_wire_port){ .fd = fd, .kind = TL_WIRE_LINK_PACKET, .ifindex = peer_index };
    memcpy(job->port.dst_mac, ifr.ifr_hwaddr.sa_data, 6);
    job->link = TL_WIRE_LINK_PACKET;
    return 0;
}

static int job_build_host(ns_job *job)
{
    job->out_ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (job->out_ns_fd < 0) return fail(job, -errno, "open /proc/thread-self/ns/net");
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return fail(job, -errno, "socket(AF_INET)");
    int e = if_set_flags(sock, "lo", IFF_UP);
    if (e) {
        close(sock);
        return fail(job, e, "bringing up lo");
    }
    const char *force = getenv("TL_LAB_LINK");   /* "veth" forces the fallback */
    e = force && strcmp(force, "veth") == 0 ? -EACCES : open_tun(job);
    if (e == -EACCES || e == -EPERM || e == -ENOENT || e == -ENODEV) {
        e = open_veth(job, sock);
    } else if (e) {
        e = fail(job, e, "creating TUN device " WIRE_IF);
    }
    if (e) {
        close(sock);
        return e;
    }
    /* No link-local address: it would only add router/MLD chatter to the wire. */
    (void)write_file("/proc/sys/net/ipv6/conf/" WIRE_IF "/addr_gen_mode", "1");
    (void)write_file("/proc/sys/net/ipv6/conf/" WIRE_IF "/accept_ra", "0");
    int ifindex = (int)if_nametoindex(WIRE_IF);
    if (ifindex == 0) e = fail(job, -errno, "if_nametoindex " WIRE_IF);
    else if ((e = if_set_mtu(sock, WIRE_IF, TL_LAB_MTU))) fail(job, e, "setting the MTU");
    else if ((e = nl_add_addr(ifindex, AF_INET, tl_lab_addr(job->side, AF_INET), 24)))
        fail(job, e, "adding the IPv4 address");
    else if ((e = nl_add_addr(ifindex, AF_INET6, tl_lab_addr(job->side, AF_INET6), 64)))
        fail(job, e, "adding the IPv6 address");
    else if ((e = if_set_flags(sock, WIRE_IF, IFF_UP))) fail(job, e, "bringing up " WIRE_IF);
    close(sock);
    if (e && job->port.fd >= 0) {
        close(job->port.fd);
        job->port.fd = -1;
    }
    return e;
}

static int job_sysctl(ns_job *job)
{
    int e = write_file(job->path, job->value);
    return e ? fail(job, e, job->path) : 0;
}

static int job_socket(ns_job *job)
{
    int fd = socket(job->domain, job->type | SOCK_CLOEXEC, job->proto);
    return fd < 0 ? -errno : fd;
}

/* ---- public API --------------------------------------------------------- */

int tl_lab_net_open(tl_lab_net **out, char *errbuf)
{
    *out = NULL;
    tl_lab_net *n = calloc(1, sizeof *n);
    if (!n) return tl_err(errbuf, TL_ENOMEM, "lab network: out of memory");
    n->ns_fd[0] = n->ns_fd[1] = -1;
    n->port[0].fd = n->port[1].fd = -1;
    int err;
    if (geteuid() != 0) {
        if ((err = enter_userns(errbuf)) < 0) goto fail;
        n->userns = true;
    }
    for (int side = 0; side < 2; side++) {
        ns_job job = { .ns_fd = -1, .fn = job_build_host, .side = (tl_lab_side)side,
                       .out_ns_fd = -1, .port = { .fd = -1 } };
        int e = run_in_ns(&job);
        n->ns_fd[side] = job.out_ns_fd;
        n->port[side] = job.port;
        n->link = job.link;
        if (e == -EPERM && n->ns_fd[side] < 0) {   /* unshare(CLONE_NEWNET) refused */
            err = tl_err(errbuf, TL_EPERM, "lab network: cannot create a network namespace "
                         "(%s); run `sudo tcplens lab` or allow user namespaces", job.why);
            goto fail;
        }
        if (e) {
            err = tl_err(errbuf, e == -EPERM || e == -EACCES ? TL_EPERM : TL_EIO,
                         "lab network: %s host: %s", tl_lab_side_name((tl_lab_side)side),
                         job.why);
            goto fail;
        }
    }
    *out = n;
    return TL_OK;
fail:
    tl_lab_net_close(n);
    return err;
}

int tl_lab_net_enter(tl_lab_net *n, tl_lab_side side, char *errbuf)
{
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        return tl_err(errbuf, TL_EIO, "lab: prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
    if (getppid() != parent) _exit(1);   /* the lab already died */
    if (setns(n->ns_fd[side], CLONE_NEWNET) < 0)
        return tl_err(errbuf, TL_EPERM, "lab: entering the %s namespace: %s",
                      tl_lab_side_name(side), strerror(errno));
    return TL_OK;
}

void tl_lab_net_port(const tl_lab_net *n, tl_lab_side side, tl_wire_port *out)
{
    *out = n->port[side];
}

int tl_lab_net_ns_fd(const tl_lab_net *n, tl_lab_side side)
{
    return n->ns_fd[side];
}

tl_wire_link tl_lab_net_link(const tl_lab_net *n)
{
    return n->link;
}

bool tl_lab_net_in_userns(const tl_lab_net *n)
{
    return n->userns;
}

int tl_lab_net_sysctl(tl_lab_net *n, tl_lab_side side, const char *key, const char *value,
                      char *errbuf)
{
    char path[256];
    int len = snprintf(path, sizeof path, "/proc/sys/%s", key);
    if (len < 0 || (size_t)len >= sizeof path || strstr(key, ".."))
        return tl_err(errbuf, TL_EINVAL, "lab: bad sysctl name '%s'", key);
    for (char *p = path + 10; *p; p++)
        if (*p == '.') *p = '/';
    ns_job job = { .ns_fd = n->ns_fd[side], .fn = job_sysctl, .path = path, .value = value };
    int e = run_in_ns(&job);
    if (e) return tl_err(errbuf, e == -ENOENT ? TL_ENOTFOUND : TL_EIO, "lab: sysctl %s=%s in %s: %s",
                         key, value, tl_lab_side_name(side), job.why);
    return TL_OK;
}

int tl_lab_net_socket(tl_lab_net *n, tl_lab_side side, int domain, int type, int proto)
{
    ns_job job = { .ns_fd = n->ns_fd[side], .fn = job_socket, .domain = domain,
                   .type = type, .proto = proto };
    return run_in_ns(&job);
}

void tl_lab_net_close(tl_lab_net *n)
{
    if (!n) return;
    for (int i = 0; i < 2; i++) {
        if (n->port[i].fd >= 0) close(n->port[i].fd);
        if (n->ns_fd[i] >= 0) close(n->ns_fd[i]);
    }
    free(n);
}
