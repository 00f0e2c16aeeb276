/* tcplens.h -- umbrella header: version, error codes, common types.
 *
 * Ownership vocabulary used by every tcplens header:
 *   tl_X_new()   returns an owned object; release it with tl_X_free().
 *   borrowed     a pointer handed to a callback is valid only during that call.
 *   errbuf       a caller-supplied char[TL_ERRBUF_SIZE] filled with
 *                "what failed: why" whenever a function returns < 0.
 */
#ifndef TCPLENS_TCPLENS_H
#define TCPLENS_TCPLENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TL_VERSION "0.1.0"
#define TL_ERRBUF_SIZE 512

#if defined(__GNUC__)
#define TL_MUST_USE __attribute__((warn_unused_result))
#define TL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TL_MUST_USE
#define TL_PRINTF(f, a)
#endif

/* Error codes: 0 is success, negative is failure. */
enum tl_error {
    TL_OK = 0,
    TL_ENOMEM = -1,   /* allocation failed */
    TL_EIO = -2,      /* reading or writing a file failed */
    TL_EFORMAT = -3,  /* input is not a capture file we understand */
    TL_EFILTER = -4,  /* the BPF filter does not compile */
    TL_EINVAL = -5,   /* bad argument */
    TL_EPERM = -6,    /* not permitted (capabilities, namespaces) */
    TL_ENOTFOUND = -7,/* no such file, interface or name */
    TL_ETRUNC = -8,   /* input ends in the middle of a record */
};

const char *tl_strerror(int err);

/* Timestamp as the capture gave it: whole seconds plus nanoseconds, and how
 * many fractional digits the capture really carries (6 for µs, 9 for ns). */
typedef struct tl_time {
    int64_t sec;
    uint32_t nsec;
} tl_time;

double tl_time_to_double(tl_time t);
/* b - a in seconds. */
double tl_time_diff(tl_time a, tl_time b);
int tl_time_cmp(tl_time a, tl_time b);

/* Fill errbuf with a formatted message; returns err so callers can
 * `return tl_err(errbuf, TL_EIO, "open %s: %s", ...)`. errbuf may be NULL. */
int tl_err(char *errbuf, int err, const char *fmt, ...) TL_PRINTF(3, 4);

#endif
