/* calls.h -- recording socket calls with their results (SPEC.md 4.3, 4.4).
 *
 * Every socket call a lab side (or `tcplens serve` / `connect`) makes goes
 * through a tl_c_* wrapper that performs the call and produces one record:
 * the call, its arguments, the result, the errno name and any signal the
 * call drew (SIGPIPE). Records are fixed-size binary structs, so a lab child
 * can write each one to the lab over a pipe in one atomic write (smaller
 * than PIPE_BUF); serve/connect print them at once instead.
 *
 * The same record type carries the lab's kernel snapshots (sock_diag, taken
 * by a side at a moment the scenario chooses) and free-text notes.
 *
 * Ownership: a tl_calls is a plain struct the caller owns; it borrows the fd
 * or FILE it writes to.
 */
#ifndef TL_LAB_CALLS_H
#define TL_LAB_CALLS_H

#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "tcplens/packet.h"
#include "tcplens/tcp_state.h"
#include "tcplens/tcplens.h"

typedef enum tl_rec_type {
    TL_REC_CALL = 1,   /* a socket call and its result */
    TL_REC_SNAP,       /* one socket of a sock_diag snapshot */
    TL_REC_NOTE,       /* free text from a side ("server killed") */
} tl_rec_type;

typedef struct tl_call_rec {
    uint8_t type;        /* tl_rec_type */
    uint8_t side;        /* 0 client, 1 server (tl_lab_side) */
    uint8_t state;       /* SNAP: tl_tcp_state */
    uint8_t snap_ns;     /* SNAP: namespace the snapshot was taken in */
    int32_t err;         /* errno of a failed call, 0 none */
    int32_t sig;         /* signal delivered during the call, 0 none */
    int64_t ret;
    tl_time ts;          /* CLOCK_REALTIME when the call returned */
    tl_addr local, remote; /* SNAP: the socket; CALL: the socket when known */
    uint16_t lport, rport;
    char call[16];       /* "send"; SNAP: "snapshot" */
    char args[64];       /* "7" for send, "192.0.2.2:8888" for connect */
    char note[80];       /* "(peer closed)", data preview, snapshot reason */
} tl_call_rec;

/* Where records go: a pipe to the lab (fd >= 0) or a FILE (printed). */
typedef struct tl_calls {
    int fd;
    FILE *fp;
    uint8_t side;
    bool have_base;
    tl_time base;        /* printing: time origin */
} tl_calls;

void tl_calls_init(tl_calls *c, int side, int fd, FILE *fp);
/* Sends or prints one record (ts filled in when zero). */
void tl_calls_emit(tl_calls *c, tl_call_rec *r);
void tl_calls_note(tl_calls *c, const char *fmt, ...) TL_PRINTF(2, 3);

/* Catch SIGPIPE instead of dying from it, so that a send() that draws it
 * returns -1 EPIPE and the record can say "SIGPIPE delivered". */
void tl_calls_catch_sigpipe(void);

/* "EPIPE" for EPIPE, "E123" for numbers without a name. */
const char *tl_errno_name(int err);

/* Text of a record without time or side: "send(14) = -1 EPIPE, SIGPIPE
 * delivered", "recv(1024) = 0 (peer closed)". Returns buf. */
char *tl_call_format(const tl_call_rec *r, char *buf, size_t len);

/* "192.0.2.1:40000" / "[2001:db8::1]:40000". Returns buf. */
char *tl_sockaddr_format(const struct sockaddr *sa, char *buf, size_t len);

/* The wrappers: the call itself, recorded. They return what the call
 * returned (errno is preserved). */
int tl_c_socket(tl_calls *c, int family);
int tl_c_setsockopt(tl_calls *c, int fd, int level, int opt, const char *name, int value);
int tl_c_linger(tl_calls *c, int fd, int onoff, int secs);
int tl_c_bind(tl_calls *c, int fd, const struct sockaddr *sa, socklen_t len);
int tl_c_listen(tl_calls *c, int fd, int backlog);
int tl_c_accept(tl_calls *c, int fd);
int tl_c_connect(tl_calls *c, int fd, const struct sockaddr *sa, socklen_t len);
ssize_t tl_c_send(tl_calls *c, int fd, const void *buf, size_t len);
ssize_t tl_c_recv(tl_calls *c, int fd, void *buf, size_t len);
int tl_c_shutdown(tl_calls *c, int fd, int how);
int tl_c_close(tl_calls *c, int fd);

#endif
