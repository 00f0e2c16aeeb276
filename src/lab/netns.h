/* netns.h -- the lab's private network (SPEC.md section 4.1).
 *
 * tl_lab_net_open() builds two network namespaces, "client" (192.0.2.1/24,
 * 2001:db8::1/64) and "server" (192.0.2.2/24, 2001:db8::2/64), each with lo
 * up and one link "wire0" (MTU 1500) whose far end is a file descriptor in
 * this process: a TUN device, or where /dev/net/tun may not be opened, a veth
 * pair "wire0"/"wire0p" read through an AF_PACKET socket on "wire0p". The
 * wire (wire.h) relays between the two. Nothing on the host is touched.
 *
 * Without root, the calling process first moves into a new user namespace in
 * which it is uid 0 (so that it may create network namespaces). That requires
 * the process to be single-threaded: call tl_lab_net_open() before starting
 * any thread. The process stays in that user namespace afterwards.
 *
 * The namespaces are kept alive by file descriptors only: they vanish when
 * tl_lab_net_close() closes them and the last process inside has exited,
 * or when the process dies (Ctrl-C, crash). Children that entered a side with
 * tl_lab_net_enter() are killed by SIGKILL when the lab's thread exits.
 *
 * Ownership: _open returns an owned handle; _close frees it and every fd it
 * handed out through accessors (ports, namespace fds).
 */
#ifndef TL_LAB_NETNS_H
#define TL_LAB_NETNS_H

#include "lab/wire.h"
#include "tcplens/tcplens.h"

typedef enum tl_lab_side {
    TL_LAB_CLIENT = 0,
    TL_LAB_SERVER = 1,
} tl_lab_side;

#define TL_LAB_CLIENT_V4 "192.0.2.1"
#define TL_LAB_SERVER_V4 "192.0.2.2"
#define TL_LAB_CLIENT_V6 "2001:db8::1"
#define TL_LAB_SERVER_V6 "2001:db8::2"
#define TL_LAB_MTU 1500

typedef struct tl_lab_net tl_lab_net;

/* "client" / "server". */
const char *tl_lab_side_name(tl_lab_side side);
/* The side's address as text; family is AF_INET or AF_INET6. */
const char *tl_lab_addr(tl_lab_side side, int family);

/* Builds the network. TL_EPERM (with why and what to do in errbuf) where the
 * machine forbids user/network namespaces; TL_EIO for other failures. */
TL_MUST_USE int tl_lab_net_open(tl_lab_net **out, char *errbuf);

/* Moves the calling process (meant for a freshly forked child) into the
 * side's network namespace and arms PR_SET_PDEATHSIG(SIGKILL). */
TL_MUST_USE int tl_lab_net_enter(tl_lab_net *n, tl_lab_side side, char *errbuf);

/* The wire's port facing that side (fds owned by the net). */
void tl_lab_net_port(const tl_lab_net *n, tl_lab_side side, tl_wire_port *out);
/* The network namespace fd of that side (owned by the net). */
int tl_lab_net_ns_fd(const tl_lab_net *n, tl_lab_side side);
/* Which kind of link joins the hosts to the wire. */
tl_wire_link tl_lab_net_link(const tl_lab_net *n);
/* True when a user namespace had to be created (not root). */
bool tl_lab_net_in_userns(const tl_lab_net *n);

/* Writes a sysctl inside one side's namespace. key is "net.ipv4.tcp_fin_timeout"
 * or "net/ipv4/tcp_fin_timeout". */
TL_MUST_USE int tl_lab_net_sysctl(tl_lab_net *n, tl_lab_side side, const char *key,
                                  const char *value, char *errbuf);
/* Opens a socket inside one side's namespace; returns the fd or -errno. The
 * caller owns the fd. Used for sock_diag from the lab process. */
int tl_lab_net_socket(tl_lab_net *n, tl_lab_side side, int domain, int type, int proto);

void tl_lab_net_close(tl_lab_net *n);

#endif
