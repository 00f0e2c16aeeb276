/* json_writer.c -- streaming JSON writer with RFC 8259 escaping and exact
 * fixed-point numbers. UTF-8 validation follows RFC 3629 section 4 (no
 * overlong forms, no surrogates, nothing above U+10FFFF).
 */
#include <math.h>
#include <string.h>

#include "sink/json_writer.h"

void tl_json_init(tl_json *j, FILE *fp)
{
    j->fp = fp;
    j->len = 0;
    j->depth = 0;
    j->after_key = false;
    j->first[0] = true;
}

void tl_json_flush(tl_json *j)
{
    if (j->len) {
        fwrite_unlocked(j->buf, 1, j->len, j->fp);
        j->len = 0;
    }
}

/* Copy n bytes into the buffer; large pieces bypass it. */
static void put(tl_json *j, const char *s, size_t n)
{
    if (n > TL_JSON_BUF - j->len) {
        tl_json_flush(j);
        if (n > TL_JSON_BUF) {
            fwrite_unlocked(s, 1, n, j->fp);
            return;
        }
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
}

static inline void putch(tl_json *j, char c)
{
    if (j->len == TL_JSON_BUF) tl_json_flush(j);
    j->buf[j->len++] = c;
}

void tl_json_end_line(tl_json *j)
{
    putch(j, '\n');
    tl_json_flush(j);
    j->depth = 0;
    j->after_key = false;
    j->first[0] = true;
}

/* Called before every value: the comma rule for arrays and the top level. */
static void before_value(tl_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth <= TL_JSON_MAX_DEPTH) {
        if (!j->first[j->depth] && j->depth > 0) putch(j, ',');
        j->first[j->depth] = false;
    }
}

static void open_(tl_json *j, char c)
{
    before_value(j);
    putch(j, c);
    j->depth++;
    if (j->depth <= TL_JSON_MAX_DEPTH) j->first[j->depth] = true;
}

static void close_(tl_json *j, char c)
{
    putch(j, c);
    if (j->depth > 0) j->depth--;
    j->after_key = false;
}

void tl_json_obj_begin(tl_json *j) { open_(j, '{'); }
void tl_json_obj_end(tl_json *j) { close_(j, '}'); }
void tl_json_arr_begin(tl_json *j) { open_(j, '['); }
void tl_json_arr_end(tl_json *j) { close_(j, ']'); }

/* Length of the valid UTF-8 sequence starting at s (n bytes available,
 * s[0] >= 0x80), or 0 when s[0] does not start one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;   /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;         /* overlong */
        if (c == 0xED) hi = 0x9F;         /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;         /* overlong */
        if (c == 0xF4) hi = 0x8F;         /* above U+10FFFF */
    } else
        return 0;
    if (n < len) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return len;
}

static void put_escaped(tl_json *j, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    putch(j, '"');
    while (i < n) {
        /* longest run of bytes that need no escaping */
        size_t run = i;
        while (run < n && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) {
            put(j, (const char *)s + i, run - i);
            i = run;
            if (i == n) break;
        }
        unsigned char c = s[i];
        if (c >= 0x80) {
            size_t u = utf8_len(s + i, n - i);
            if (u) {
                put(j, (const char *)s + i, u);
                i += u;
                continue;
            }
        }
        char e[6];
        size_t elen = 2;
        e[0] = '\\';
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        default:
            /* other control characters, DEL and invalid UTF-8 bytes */
            e[1] = 'u';
            e[2] = '0';
            e[3] = '0';
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            elen = 6;
        }
        put(j, e, elen);
        i++;
    }
    putch(j, '"');
}

void tl_json_key(tl_json *j, const char *key)
{
    if (j->depth <= TL_JSON_MAX_DEPTH) {
        if (!j->first[j->depth]) putch(j, ',');
        j->first[j->depth] = false;
    }
    put_escaped(j, (const unsigned char *)key, strlen(key));
    putch(j, ':');
    j->after_key = true;
}

void tl_json_strn(tl_json *j, const char *s, size_t n)
{
    before_value(j);
    put_escaped(j, (const unsigned char *)s, n);
}

void tl_json_str(tl_json *j, const char *s)
{
    if (!s) {
        tl_json_null(j);
        return;
    }
    tl_json_strn(j, s, strlen(s));
}

size_t tl_fmt_u64(char *buf, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    return n;
}

void tl_json_u64(tl_json *j, uint64_t v)
{
    char b[21];
    before_value(j);
    put(j, b, tl_fmt_u64(b, v));
}

void tl_json_i64(tl_json *j, int64_t v)
{
    char b[22];
    size_t n = 0;
    uint64_t u = (uint64_t)v;
    before_value(j);
    if (v < 0) {
        b[n++] = '-';
        u = 0 - u;    /* well defined for INT64_MIN too */
    }
    n += tl_fmt_u64(b + n, u);
    put(j, b, n);
}

void tl_json_bool(tl_json *j, bool v)
{
    before_value(j);
    if (v) put(j, "true", 4);
    else put(j, "false", 5);
}

void tl_json_null(tl_json *j)
{
    before_value(j);
    put(j, "null", 4);
}

void tl_json_double(tl_json *j, double v, int digits)
{
    if (!isfinite(v)) {
        tl_json_null(j);
        return;
    }
    if (digits < 0) digits = 0;
    if (digits > 17) digits = 17;
    /* %f never uses exponent notation; 330 bytes hold any finite double */
    char b[352];
    int n = snprintf(b, sizeof b, "%.*f", digits, v);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof b) n = (int)sizeof b - 1;
    const char *p = b;
    /* "-0.000" rounds to zero: write it without the sign */
    if (b[0] == '-' && strspn(b + 1, "0.") == (size_t)n - 1) {
        p++;
        n--;
    }
    before_value(j);
    put(j, p, (size_t)n);
}

size_t tl_fmt_time(char *buf, tl_time t, int digits)
{
    if (digits < 0) digits = 0;
    if (digits > 9) digits = 9;
    size_t n = 0;
    uint64_t sec;
    uint32_t nsec = t.nsec % 1000000000u;
    if (t.sec < 0) {
        /* -2.25 s is sec = -3, nsec = 750000000 */
        uint64_t mag = 0 - (uint64_t)t.sec;
        if (nsec) {
            sec = mag - 1;
            nsec = 1000000000u - nsec;
        } else
            sec = mag;
        if (sec || nsec) buf[n++] = '-';
    } else
        sec = (uint64_t)t.sec;
    n += tl_fmt_u64(buf + n, sec);
    if (digits > 0) {
        /* truncate to the requested precision: the capture's own digits */
        uint32_t frac = nsec;
        for (int d = 9; d > digits; d--) frac /= 10;
        buf[n++] = '.';
        for (int d = digits - 1; d >= 0; d--) {
            buf[n + (size_t)d] = (char)('0' + frac % 10);
            frac /= 10;
        }
        n += (size_t)digits;
    }
    return n;
}

void tl_json_time(tl_json *j, tl_time t, int digits)
{
    char b[40];
    before_value(j);
    put(j, b, tl_fmt_time(b, t, digits));
}

void tl_json_kv_str(tl_json *j, const char *key, const char *s)
{
    tl_json_key(j, key);
    tl_json_str(j, s);
}

void tl_json_kv_u64(tl_json *j, const char *key, uint64_t v)
{
    tl_json_key(j, key);
    tl_json_u64(j, v);
}

void tl_json_kv_i64(tl_json *j, const char *key, int64_t v)
{
    tl_json_key(j, key);
    tl_json_i64(j, v);
}

void tl_json_kv_bool(tl_json *j, const char *key, bool v)
{
    tl_json_key(j, key);
    tl_json_bool(j, v);
}

void tl_json_kv_null(tl_json *j, const char *key)
{
    tl_json_key(j, key);
    tl_json_null(j);
}

void tl_json_kv_double(tl_json *j, const char *key, double v, int digits)
{
    tl_json_key(j, key);
    tl_json_double(j, v, digits);
}

void tl_json_kv_time(tl_json *j, const char *key, tl_time t, int digits)
{
    tl_json_key(j, key);
    tl_json_time(j, t, digits);
}
