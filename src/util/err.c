/* err.c -- tl_strerror(), errbuf formatting and time helpers. */
#include <stdarg.h>
#include <stdio.h>

#include "tcplens/tcplens.h"

const char *tl_strerror(int err)
{
    switch (err) {
    case TL_OK: return "success";
    case TL_ENOMEM: return "out of memory";
    case TL_EIO: return "input/output error";
    case TL_EFORMAT: return "unrecognised file format";
    case TL_EFILTER: return "bad filter";
    case TL_EINVAL: return "invalid argument";
    case TL_EPERM: return "operation not permitted";
    case TL_ENOTFOUND: return "not found";
    case TL_ETRUNC: return "truncated input";
    default: return "unknown error";
    }
}

int tl_err(char *errbuf, int err, const char *fmt, ...)
{
    if (errbuf) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, TL_ERRBUF_SIZE, fmt, ap);
        va_end(ap);
    }
    return err;
}

double tl_time_to_double(tl_time t)
{
    return (double)t.sec + (double)t.nsec / 1e9;
}

double tl_time_diff(tl_time a, tl_time b)
{
    return (double)(b.sec - a.sec) + ((double)b.nsec - (double)a.nsec) / 1e9;
}

int tl_time_cmp(tl_time a, tl_time b)
{
    if (a.sec != b.sec) return a.sec < b.sec ? -1 : 1;
    if (a.nsec != b.nsec) return a.nsec < b.nsec ? -1 : 1;
    return 0;
}
