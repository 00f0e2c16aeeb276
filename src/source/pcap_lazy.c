/* pcap_lazy.c -- libpcap, loaded the first time it is needed.
 *
 * Classic pcap files and pcapng are read by our own readers (pcap_buf.c,
 * pcapng.c); libpcap is needed only for live capture, filters, pipes in
 * unusual pcap variants and writing captures. Linked the usual way it was
 * loaded by every run, and with it the eight libraries Debian's libpcap
 * brings (dbus, systemd, gcrypt, ...): 1.1 MiB of peak RSS and their
 * constructors for `tcplens read FILE`, which calls none of them (measured
 * with ltrace and smaps on h10m). systemd loads its optional libraries
 * the same way, for the same reason.
 *
 * Each libpcap function the program calls is defined here under its own
 * name and forwards to libpcap's, all resolved at the first call of any;
 * the call sites use the plain libpcap API. A library that will not load
 * makes the functions that create a handle fail as libpcap's own failures
 * do (TL_PCAP_FUNCS says how each behaves); tl__pcap_load() gives the
 * reason to callers that have no libpcap error buffer. TCPLENS_LIBPCAP
 * names another library file (tests; systems that keep it elsewhere).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/source_int.h"

/* The functions used, once each: X(kind, return type, name, (parameters),
 * (arguments)). Nearly all take a handle, or a program or dumper made with
 * one, so the library is loaded by then; what each does when it is not
 * (cleanup paths may free what was never made) is by kind: VOID nothing,
 * INT returns PCAP_ERROR, NEW returns NULL, NEW_E too with the reason in
 * its errbuf, as libpcap reports its own failures, and TEXT the reason. */
#define TL_PCAP_FUNCS(X)                                                                           \
    X(INT, int, pcap_activate, (pcap_t * p), (p))                                                  \
    X(VOID, void, pcap_breakloop, (pcap_t * p), (p))                                               \
    X(VOID, void, pcap_close, (pcap_t * p), (p))                                                   \
    X(INT, int, pcap_compile,                                                                      \
      (pcap_t * p, struct bpf_program * fp, const char *str, int optimize, bpf_u_int32 netmask),   \
      (p, fp, str, optimize, netmask))                                                             \
    X(NEW_E, pcap_t *, pcap_create, (const char *source, char *errbuf), (source, errbuf))          \
    X(INT, int, pcap_datalink, (pcap_t * p), (p))                                                  \
    X(VOID, void, pcap_dump, (u_char * user, const struct pcap_pkthdr *h, const u_char *sp),       \
      (user, h, sp))                                                                               \
    X(VOID, void, pcap_dump_close, (pcap_dumper_t * p), (p))                                       \
    X(INT, int, pcap_dump_flush, (pcap_dumper_t * p), (p))                                         \
    X(NEW, pcap_dumper_t *, pcap_dump_open, (pcap_t * p, const char *fname), (p, fname))           \
    X(NEW_E, pcap_t *, pcap_fopen_offline_with_tstamp_precision,                                   \
      (FILE * fp, u_int precision, char *errbuf), (fp, precision, errbuf))                         \
    X(VOID, void, pcap_freecode, (struct bpf_program * fp), (fp))                                  \
    X(INT, int, pcap_get_selectable_fd, (pcap_t * p), (p))                                         \
    X(INT, int, pcap_get_tstamp_precision, (pcap_t * p), (p))                                      \
    X(TEXT, char *, pcap_geterr, (pcap_t * p), (p))                                                \
    X(INT, int, pcap_next_ex, (pcap_t * p, struct pcap_pkthdr **h, const u_char **data),           \
      (p, h, data))                                                                                \
    X(INT, int, pcap_offline_filter,                                                               \
      (const struct bpf_program *fp, const struct pcap_pkthdr *h, const u_char *pkt),              \
      (fp, h, pkt))                                                                                \
    X(NEW, pcap_t *, pcap_open_dead, (int linktype, int snaplen), (linktype, snaplen))             \
    X(NEW, pcap_t *, pcap_open_dead_with_tstamp_precision,                                         \
      (int linktype, int snaplen, u_int precision), (linktype, snaplen, precision))                \
    X(INT, int, pcap_set_buffer_size, (pcap_t * p, int size), (p, size))                           \
    X(INT, int, pcap_set_immediate_mode, (pcap_t * p, int on), (p, on))                            \
    X(INT, int, pcap_set_promisc, (pcap_t * p, int on), (p, on))                                   \
    X(INT, int, pcap_set_snaplen, (pcap_t * p, int snaplen), (p, snaplen))                         \
    X(INT, int, pcap_set_timeout, (pcap_t * p, int ms), (p, ms))                                   \
    X(INT, int, pcap_set_tstamp_precision, (pcap_t * p, int precision), (p, precision))            \
    X(INT, int, pcap_setfilter, (pcap_t * p, struct bpf_program * fp), (p, fp))                    \
    X(INT, int, pcap_setnonblock, (pcap_t * p, int nonblock, char *errbuf), (p, nonblock, errbuf)) \
    X(INT, int, pcap_stats, (pcap_t * p, struct pcap_stat * ps), (p, ps))                          \
    X(TEXT, const char *, pcap_statustostr, (int error), (error))

#define TL_PCAP_INDEX(kind, ret, name, params, args) TL_PCAP_##name,
enum { TL_PCAP_FUNCS(TL_PCAP_INDEX) TL_PCAP_COUNT };
#define TL_PCAP_NAME(kind, ret, name, params, args) #name,
static const char *const pcap_names[TL_PCAP_COUNT] = {TL_PCAP_FUNCS(TL_PCAP_NAME)};

/* The soname Debian's libpcap0.8 installs, then the upstream ones. */
static const char *const pcap_files[] = {"libpcap.so.0.8", "libpcap.so.1", "libpcap.so"};

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static void (*pcap_fns[TL_PCAP_COUNT])(void);
static char load_error[256];   /* empty once loaded */

static void load(void)
{
    const char *only = getenv("TCPLENS_LIBPCAP");
    void *lib = NULL;
    if (only && *only) {
        lib = dlopen(only, RTLD_NOW | RTLD_LOCAL);
    } else {
        for (size_t i = 0; !lib && i < sizeof pcap_files / sizeof *pcap_files; i++)
            lib = dlopen(pcap_files[i], RTLD_NOW | RTLD_LOCAL);
    }
    if (!lib) {
        const char *why = dlerror();
        snprintf(load_error, sizeof load_error, "libpcap could not be loaded: %s",
                 why ? why : "not found");
        return;
    }
    for (int i = 0; i < TL_PCAP_COUNT; i++) {
        void *f = dlsym(lib, pcap_names[i]);
        if (!f) {
            snprintf(load_error, sizeof load_error, "libpcap has no %s (too old?)", pcap_names[i]);
            return;   /* the library stays mapped, unused */
        }
        /* POSIX: dlsym's object pointer may be taken as a function pointer */
        memcpy(&pcap_fns[i], &f, sizeof f);
    }
}

static bool loaded(void)
{
    pthread_once(&load_once, load);
    return load_error[0] == '\0';
}

int tl__pcap_load(char *errbuf)
{
    if (loaded()) return 0;
    return tl_err(errbuf, TL_ENOTFOUND, "%s", load_error);
}

#define TL_PCAP_CALL(ret, name, params, args) ((ret(*) params)pcap_fns[TL_PCAP_##name]) args
#define TL_PCAP_DEFINE_VOID(ret, name, params, args)         \
    ret name params                                          \
    {                                                        \
        if (loaded()) TL_PCAP_CALL(ret, name, params, args); \
    }
#define TL_PCAP_DEFINE_INT(ret, name, params, args)                           \
    ret name params                                                           \
    {                                                                         \
        return loaded() ? TL_PCAP_CALL(ret, name, params, args) : PCAP_ERROR; \
    }
#define TL_PCAP_DEFINE_NEW(ret, name, params, args)                     \
    ret name params                                                     \
    {                                                                   \
        return loaded() ? TL_PCAP_CALL(ret, name, params, args) : NULL; \
    }
#define TL_PCAP_DEFINE_NEW_E(ret, name, params, args)                     \
    ret name params                                                       \
    {                                                                     \
        if (loaded()) return TL_PCAP_CALL(ret, name, params, args);       \
        if (errbuf) snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s", load_error); \
        return NULL;                                                      \
    }
#define TL_PCAP_DEFINE_TEXT(ret, name, params, args)                          \
    ret name params                                                           \
    {                                                                         \
        return loaded() ? TL_PCAP_CALL(ret, name, params, args) : load_error; \
    }
#define TL_PCAP_DEFINE(kind, ret, name, params, args) TL_PCAP_DEFINE_##kind(ret, name, params, args)
TL_PCAP_FUNCS(TL_PCAP_DEFINE)
