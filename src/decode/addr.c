/* addr.c -- formatting and comparing IP addresses.
 *
 * The text is exactly what glibc's inet_ntop(3) prints, which is also what
 * tshark prints for ip.src / ipv6.src: a dotted quad for IPv4; for IPv6
 * the RFC 5952 form (lowercase, no leading zeros, the longest run of two or
 * more zero groups -- the first on a tie -- as "::"), with the IPv4 tail
 * for ::a.b.c.d and ::ffff:a.b.c.d. Written out rather than calling
 * inet_ntop because output sinks format an address per packet line.
 */
#include <string.h>

#include "decode/addr_fmt.h"

static const char hexdig[] = "0123456789abcdef";

/* "0".."255" as up to 3 digits and the length: a table lookup per octet
 * instead of divisions (measured: address text was ~5 % of `read`). */
typedef struct dec3 {
    char d[3];
    uint8_t n;
} dec3;

static const dec3 dec_table[256] = {
    {"0", 1}, {"1", 1}, {"2", 1}, {"3", 1}, {"4", 1}, {"5", 1}, {"6", 1}, {"7", 1},
    {"8", 1}, {"9", 1}, {"10", 2}, {"11", 2}, {"12", 2}, {"13", 2}, {"14", 2}, {"15", 2},
    {"16", 2}, {"17", 2}, {"18", 2}, {"19", 2}, {"20", 2}, {"21", 2}, {"22", 2}, {"23", 2},
    {"24", 2}, {"25", 2}, {"26", 2}, {"27", 2}, {"28", 2}, {"29", 2}, {"30", 2}, {"31", 2},
    {"32", 2}, {"33", 2}, {"34", 2}, {"35", 2}, {"36", 2}, {"37", 2}, {"38", 2}, {"39", 2},
    {"40", 2}, {"41", 2}, {"42", 2}, {"43", 2}, {"44", 2}, {"45", 2}, {"46", 2}, {"47", 2},
    {"48", 2}, {"49", 2}, {"50", 2}, {"51", 2}, {"52", 2}, {"53", 2}, {"54", 2}, {"55", 2},
    {"56", 2}, {"57", 2}, {"58", 2}, {"59", 2}, {"60", 2}, {"61", 2}, {"62", 2}, {"63", 2},
    {"64", 2}, {"65", 2}, {"66", 2}, {"67", 2}, {"68", 2}, {"69", 2}, {"70", 2}, {"71", 2},
    {"72", 2}, {"73", 2}, {"74", 2}, {"75", 2}, {"76", 2}, {"77", 2}, {"78", 2}, {"79", 2},
    {"80", 2}, {"81", 2}, {"82", 2}, {"83", 2}, {"84", 2}, {"85", 2}, {"86", 2}, {"87", 2},
    {"88", 2}, {"89", 2}, {"90", 2}, {"91", 2}, {"92", 2}, {"93", 2}, {"94", 2}, {"95", 2},
    {"96", 2}, {"97", 2}, {"98", 2}, {"99", 2}, {"100", 3}, {"101", 3}, {"102", 3},
    {"103", 3}, {"104", 3}, {"105", 3}, {"106", 3}, {"107", 3}, {"108", 3}, {"109", 3},
    {"110", 3}, {"111", 3}, {"112", 3}, {"113", 3}, {"114", 3}, {"115", 3}, {"116", 3},
    {"117", 3}, {"118", 3}, {"119", 3}, {"120", 3}, {"121", 3}, {"122", 3}, {"123", 3},
    {"124", 3}, {"125", 3}, {"126", 3}, {"127", 3}, {"128", 3}, {"129", 3}, {"130", 3},
    {"131", 3}, {"132", 3}, {"133", 3}, {"134", 3}, {"135", 3}, {"136", 3}, {"137", 3},
    {"138", 3}, {"139", 3}, {"140", 3}, {"141", 3}, {"142", 3}, {"143", 3}, {"144", 3},
    {"145", 3}, {"146", 3}, {"147", 3}, {"148", 3}, {"149", 3}, {"150", 3}, {"151", 3},
    {"152", 3}, {"153", 3}, {"154", 3}, {"155", 3}, {"156", 3}, {"157", 3}, {"158", 3},
    {"159", 3}, {"160", 3}, {"161", 3}, {"162", 3}, {"163", 3}, {"164", 3}, {"165", 3},
    {"166", 3}, {"167", 3}, {"168", 3}, {"169", 3}, {"170", 3}, {"171", 3}, {"172", 3},
    {"173", 3}, {"174", 3}, {"175", 3}, {"176", 3}, {"177", 3}, {"178", 3}, {"179", 3},
    {"180", 3}, {"181", 3}, {"182", 3}, {"183", 3}, {"184", 3}, {"185", 3}, {"186", 3},
    {"187", 3}, {"188", 3}, {"189", 3}, {"190", 3}, {"191", 3}, {"192", 3}, {"193", 3},
    {"194", 3}, {"195", 3}, {"196", 3}, {"197", 3}, {"198", 3}, {"199", 3}, {"200", 3},
    {"201", 3}, {"202", 3}, {"203", 3}, {"204", 3}, {"205", 3}, {"206", 3}, {"207", 3},
    {"208", 3}, {"209", 3}, {"210", 3}, {"211", 3}, {"212", 3}, {"213", 3}, {"214", 3},
    {"215", 3}, {"216", 3}, {"217", 3}, {"218", 3}, {"219", 3}, {"220", 3}, {"221", 3},
    {"222", 3}, {"223", 3}, {"224", 3}, {"225", 3}, {"226", 3}, {"227", 3}, {"228", 3},
    {"229", 3}, {"230", 3}, {"231", 3}, {"232", 3}, {"233", 3}, {"234", 3}, {"235", 3},
    {"236", 3}, {"237", 3}, {"238", 3}, {"239", 3}, {"240", 3}, {"241", 3}, {"242", 3},
    {"243", 3}, {"244", 3}, {"245", 3}, {"246", 3}, {"247", 3}, {"248", 3}, {"249", 3},
    {"250", 3}, {"251", 3}, {"252", 3}, {"253", 3}, {"254", 3}, {"255", 3}
};

static char *put_v4(char *o, const uint8_t *b)
{
    for (int i = 0; i < 4; i++) {
        const dec3 *e = &dec_table[b[i]];
        memcpy(o, e->d, 3);   /* the bytes past n are overwritten next */
        o += e->n;
        *o = '.';
        o += i < 3;
    }
    return o;
}

static char *put_hex16(char *o, unsigned w)
{
    /* no leading zeros: the digit count from the value, then the digits */
    int n = w >= 0x1000 ? 4 : w >= 0x100 ? 3 : w >= 0x10 ? 2 : 1;
    for (int i = n - 1; i >= 0; i--) *o++ = hexdig[(w >> (4 * i)) & 0xfu];
    return o;
}

static char *put_v6(char *o, const uint8_t *b)
{
    unsigned w[8];
    for (int i = 0; i < 8; i++) w[i] = ((unsigned)b[2 * i] << 8) | b[2 * i + 1];
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (w[i]) { i++; continue; }
        int j = i;
        while (j < 8 && w[j] == 0) j++;
        if (j - i > best_len) { best = i; best_len = j - i; }
        i = j;
    }
    if (best_len < 2) best = -1;
    for (int i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best) *o++ = ':';
            continue;
        }
        if (i) *o++ = ':';
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffffu)))
            return put_v4(o, b + 12);
        o = put_hex16(o, w[i]);
    }
    if (best >= 0 && best + best_len == 8) *o++ = ':';
    return o;
}

size_t tl__addr_put(char *o, const tl_addr *a)
{
    char *end = o;
    if (a->family == 4) end = put_v4(o, a->bytes);
    else if (a->family == 6) end = put_v6(o, a->bytes);
    else *end++ = '?';
    return (size_t)(end - o);
}

char *tl_addr_format(const tl_addr *a, char *buf, size_t buflen)
{
    char tmp[TL__ADDR_TEXT_MAX];
    size_t n = tl__addr_put(tmp, a);
    if (buflen == 0) return buf;
    if (n >= buflen) n = buflen - 1; /* cut rather than overflow */
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return buf;
}

bool tl_addr_equal(const tl_addr *a, const tl_addr *b)
{
    if (a->family != b->family) return false;
    size_t n = a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
    return memcmp(a->bytes, b->bytes, n) == 0;
}
