/* source_file.c -- capture files (and "-" = standard input) read as one
 * timeline in the order given, e.g. rotated tcpdump -C/-G captures.
 *
 * Each regular file is probed up front (first 64 KiB) for its timestamp
 * resolution and link type, then mapped when its turn comes (only one file
 * is open at a time) and walked in place by pcap_buf.c or pcapng.c; unusual
 * pcap variants go to libpcap. Pipes cannot be rewound, so a pipe's probed
 * prefix is replayed through a fopencookie() stream that also counts bytes,
 * which keeps record offsets known; pcapng.c or libpcap reads that stream.
 * A file that cannot be opened or is corrupt is reported by
 * tl_source_next() in its place in the timeline; the next call goes on
 * with the following file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/source_int.h"

#define PROBE_MAX 65536

typedef struct file_input {
    char *name;
    bool is_stdin;     /* "-": fd 0, never closed by us */
    int err;           /* deferred open error, 0 = none */
    char *err_msg;
    bool regular;
    bool probed;
    int fd;            /* non-regular input kept open after probing, else -1 */
    uint8_t *prefix;   /* bytes read from fd while probing */
    size_t prefix_len;
    tl__probe probe;
} file_input;

typedef struct file_priv {
    file_input *in;
    size_t n;
    size_t cur;        /* index of the input being read or next to open */
    tl__reader rd;     /* rd.kind != TL__RD_NONE while in[cur] is open */
} file_priv;

/* ---- replaying cookie stream for pipes --------------------------------- */

typedef struct replay {
    int fd;
    bool close_fd;
    uint8_t *prefix;   /* owned */
    size_t len, pos;
    int64_t consumed;  /* bytes handed to stdio so far = stream position */
} replay;

static ssize_t replay_read(void *c, char *buf, size_t size)
{
    replay *r = c;
    if (r->pos < r->len) {
        size_t k = r->len - r->pos < size ? r->len - r->pos : size;
        memcpy(buf, r->prefix + r->pos, k);
        r->pos += k;
        r->consumed += (int64_t)k;
        return (ssize_t)k;
    }
    ssize_t k;
    do
        k = read(r->fd, buf, size);
    while (k < 0 && errno == EINTR);
    if (k > 0)
        r->consumed += k;
    return k;
}

/* Only "where am I" is supported, which is all ftell() needs. */
static int replay_seek(void *c, off64_t *off, int whence)
{
    replay *r = c;
    if ((whence == SEEK_CUR && *off == 0) || (whence == SEEK_SET && *off == r->consumed)) {
        *off = r->consumed;
        return 0;
    }
    errno = ESPIPE;
    return -1;
}

static int replay_close(void *c)
{
    replay *r = c;
    if (r->close_fd)
        close(r->fd);
    free(r->prefix);
    free(r);
    return 0;
}

/* Takes ownership of fd (unless it is stdin) and prefix, also on failure. */
static FILE *replay_open(int fd, bool close_fd, uint8_t *prefix, size_t len)
{
    replay *r = calloc(1, sizeof(*r));
    if (!r) {
        if (close_fd)
            close(fd);
        free(prefix);
        return NULL;
    }
    r->fd = fd;
    r->close_fd = close_fd;
    r->prefix = prefix;
    r->len = len;
    cookie_io_functions_t io = {replay_read, NULL, replay_seek, replay_close};
    FILE *fp = fopencookie(r, "rb", io);
    if (!fp)
        replay_close(r);
    return fp;
}

/* ---- probing ---------------------------------------------------------- */

static int open_error(file_input *in, int e)
{
    in->err = e == ENOENT || e == ENOTDIR ? TL_ENOTFOUND
            : e == EACCES || e == EPERM  ? TL_EPERM
            : TL_EIO;
    const char *why = strerror(e);
    size_t len = strlen(in->name) + strlen(why) + 3;
    in->err_msg = malloc(len);
    if (!in->err_msg)
        return TL_ENOMEM;
    snprintf(in->err_msg, len, "%s: %s", in->name, why);
    return 0;
}

/* Regular file: read the head with pread, nothing stays open. */
static int probe_regular(file_input *in, int fd)
{
    uint8_t *buf = malloc(PROBE_MAX);
    if (!buf)
        return TL_ENOMEM;
    ssize_t k;
    do
        k = pread(fd, buf, PROBE_MAX, 0);
    while (k < 0 && errno == EINTR);
    if (k < 0) {
        free(buf);
        return open_error(in, errno);
    }
    (void)tl__probe_bytes(buf, (size_t)k, &in->probe);
    free(buf);
    in->probed = true;
    return 0;
}

/* Pipe or terminal: read only until the probe can decide, keep the bytes. */
static int probe_stream(file_input *in)
{
    size_t cap = 256;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return TL_ENOMEM;
    size_t n = 0;
    while (n < PROBE_MAX && !tl__probe_bytes(buf, n, &in->probe)) {
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return TL_ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t k = read(in->fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            free(buf);
            return open_error(in, errno);
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    (void)tl__probe_bytes(buf, n, &in->probe);  /* final answer at EOF */
    in->prefix = buf;
    in->prefix_len = n;
    in->probed = true;
    return 0;
}

/* First look at input i. Regular files are probed now; a pipe only when it
 * is the first input (later pipes are probed when their turn comes, so a
 * writer filling them one after another does not deadlock). */
static int prepare_input(file_input *in, bool first)
{
    int fd;
    if (strcmp(in->name, "-") == 0) {
        in->is_stdin = true;
        fd = STDIN_FILENO;
    } else {
        do
            fd = open(in->name, O_RDONLY | O_CLOEXEC);
        while (fd < 0 && errno == EINTR);
        if (fd < 0)
            return open_error(in, errno);
    }
    struct stat st;
    in->regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && !in->is_stdin;
    if (in->regular) {
        int rc = probe_regular(in, fd);
        close(fd);
        return rc;
    }
    in->fd = fd;
    return first ? probe_stream(in) : 0;
}

/* ---- timeline --------------------------------------------------------- */

/* A regular file: mapped and walked in place; 1 = a variant for libpcap. */
static int open_mapped(tl_source *src, file_priv *fp, file_input *in, char *errbuf)
{
    int fd;
    do
        fd = open(in->name, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int e = errno;
        return tl_err(errbuf, e == ENOENT ? TL_ENOTFOUND : TL_EIO, "%s: %s", in->name,
                      strerror(e));
    }
    const uint8_t *m;
    size_t len;
    int rc = tl__map_file(fd, &m, &len);
    if (rc < 0) {
        close(fd);
        return tl_err(errbuf, TL_EIO, "%s: mmap: %s", in->name, strerror(-rc));
    }
    rc = tl__reader_open_buf(&fp->rd, src, m, len, len, in->name, errbuf);
    if (rc != 0 && m)
        munmap((void *)(uintptr_t)m, len);
    if (rc == 0 && len)
        fp->rd.map_fd = fd;  /* kept to tell a shrinking file (map_guard.c) */
    else
        close(fd);
    return rc;
}

/* Opens in[cur]. */
static int open_current(tl_source *src, file_priv *fp, char *errbuf)
{
    file_input *in = &fp->in[fp->cur];
    FILE *f;

    if (in->err)
        return tl_err(errbuf, in->err, "%s", in->err_msg);
    if (in->regular) {
        int rc = open_mapped(src, fp, in, errbuf);
        if (rc <= 0)
            return rc;
        f = fopen(in->name, "rbe");
        if (!f) {
            int e = errno;
            return tl_err(errbuf, e == ENOENT ? TL_ENOTFOUND : TL_EIO, "%s: %s",
                          in->name, strerror(e));
        }
    } else {
        if (!in->probed) {
            int rc = probe_stream(in);
            if (rc == TL_ENOMEM)
                return tl_err(errbuf, rc, "%s: out of memory", in->name);
            if (in->err)
                return tl_err(errbuf, in->err, "%s", in->err_msg);
        }
        f = replay_open(in->fd, !in->is_stdin, in->prefix, in->prefix_len);
        in->fd = -1;
        in->prefix = NULL;
        if (!f)
            return tl_err(errbuf, TL_ENOMEM, "%s: out of memory", in->name);
        if (in->probe.pcapng)
            return tl__reader_open_ngstream(&fp->rd, src, f, in->name, errbuf);
    }
    int rc = tl__reader_open(&fp->rd, f, in->name, false, in->regular, errbuf);
    if (rc < 0)
        return rc;
    rc = tl__source_attach(src, fp->rd.p, in->name, errbuf);
    if (rc < 0) {
        tl__reader_close(&fp->rd);
        return rc;
    }
    return 0;
}

static void close_current(tl_source *src, file_priv *fp)
{
    if (fp->rd.kind != TL__RD_NONE) {
        (void)tl__source_attach(src, NULL, NULL, NULL);
        tl__reader_close(&fp->rd);
    }
}

static int file_next(tl_source *src, tl_frame *frame, char *errbuf)
{
    file_priv *fp = src->priv;

    while (fp->cur < fp->n) {
        if (fp->rd.kind == TL__RD_NONE) {
            int rc = open_current(src, fp, errbuf);
            if (rc < 0) {
                frame->file = fp->in[fp->cur].name;
                fp->cur++;  /* report it once, then go on with the next file */
                return rc;
            }
        }
        int rc = tl__reader_next(&fp->rd, frame, src->records + 1, errbuf);
        if (rc == 1)
            return 1;
        close_current(src, fp);
        fp->cur++;
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void file_close(tl_source *src)
{
    file_priv *fp = src->priv;
    close_current(src, fp);
    for (size_t i = 0; i < fp->n; i++) {
        file_input *in = &fp->in[i];
        if (in->fd >= 0 && !in->is_stdin)
            close(in->fd);
        free(in->prefix);
        free(in->err_msg);
        free(in->name);
    }
    free(fp->in);
    free(fp);
}

static const struct tl_source_ops file_ops = {file_next, NULL, file_close};

int tl_source_open_files(tl_source **out, const char *const *paths, size_t npaths,
                         char *errbuf)
{
    if (!out || !paths || npaths == 0)
        return tl_err(errbuf, TL_EINVAL, "open files: no file given");
    *out = NULL;
    file_priv *fp = calloc(1, sizeof(*fp));
    tl_source *src = fp ? tl__source_new(&file_ops, fp) : NULL;
    if (!src) {
        free(fp);
        return tl_err(errbuf, TL_ENOMEM, "open files: out of memory");
    }
    fp->in = calloc(npaths, sizeof(*fp->in));
    if (!fp->in) {
        tl_source_free(src);
        return tl_err(errbuf, TL_ENOMEM, "open files: out of memory");
    }
    size_t failed = 0;
    bool dlt_set = false;
    for (size_t i = 0; i < npaths; i++) {
        file_input *in = &fp->in[i];
        in->fd = -1;
        fp->n = i + 1;
        in->name = strdup(paths[i] ? paths[i] : "");
        if (!in->name || prepare_input(in, i == 0) == TL_ENOMEM) {
            tl_source_free(src);
            return tl_err(errbuf, TL_ENOMEM, "open files: out of memory");
        }
        if (in->err) {
            failed++;
            continue;
        }
        if (in->probed && in->probe.ts_digits > src->ts_digits)
            src->ts_digits = in->probe.ts_digits;
        if (!dlt_set && in->probed && in->probe.dlt >= 0) {
            src->probe_dlt = in->probe.dlt;
            dlt_set = true;
        }
    }
    if (failed == npaths) {
        /* Nothing can be read: say so now rather than at the first next. */
        int rc = tl_err(errbuf, fp->in[0].err, "%s", fp->in[0].err_msg);
        tl_source_free(src);
        return rc;
    }
    *out = src;
    return 0;
}
