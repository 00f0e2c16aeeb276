/* addr.c -- formatting and comparing IP addresses.
 *
 * The text is exactly what glibc's inet_ntop(3) prints, which is also what
 * tshark prints for ip.src / ipv6.src: a dotted quad for IPv4; for IPv6
 * the RFC 5952 form (lowercase, no leading zeros, the longest run of two or
 * more zero groups -- the first on a tie -- as "::"), with the IPv4 tail
 * for ::a.b.c.d and ::ffff:a.b.c.d. Written out rather than calling
 * inet_ntop because output sinks format an address per packet line; the
 * writers store a few bytes past the text (TL__ADDR_TEXT_MAX leaves room)
 * so that every digit copy has a fixed size.
 */
#include <stdint.h>
#include <string.h>

#include "decode/addr_fmt.h"

/* "0.".."255." and their lengths: a table lookup per octet instead of
 * divisions (measured: address text was ~5 % of `read`). 8-byte entries,
 * so that an octet indexes the table with a shift. */
typedef struct dec_dot {
    char text[4];
    uint32_t len;
} dec_dot;

static const dec_dot dec_table[256] = {
    {"0.", 2}, {"1.", 2}, {"2.", 2}, {"3.", 2}, {"4.", 2}, {"5.", 2}, {"6.", 2}, {"7.", 2},
    {"8.", 2}, {"9.", 2}, {"10.", 3}, {"11.", 3}, {"12.", 3}, {"13.", 3}, {"14.", 3},
    {"15.", 3}, {"16.", 3}, {"17.", 3}, {"18.", 3}, {"19.", 3}, {"20.", 3}, {"21.", 3},
    {"22.", 3}, {"23.", 3}, {"24.", 3}, {"25.", 3}, {"26.", 3}, {"27.", 3}, {"28.", 3},
    {"29.", 3}, {"30.", 3}, {"31.", 3}, {"32.", 3}, {"33.", 3}, {"34.", 3}, {"35.", 3},
    {"36.", 3}, {"37.", 3}, {"38.", 3}, {"39.", 3}, {"40.", 3}, {"41.", 3}, {"42.", 3},
    {"43.", 3}, {"44.", 3}, {"45.", 3}, {"46.", 3}, {"47.", 3}, {"48.", 3}, {"49.", 3},
    {"50.", 3}, {"51.", 3}, {"52.", 3}, {"53.", 3}, {"54.", 3}, {"55.", 3}, {"56.", 3},
    {"57.", 3}, {"58.", 3}, {"59.", 3}, {"60.", 3}, {"61.", 3}, {"62.", 3}, {"63.", 3},
    {"64.", 3}, {"65.", 3}, {"66.", 3}, {"67.", 3}, {"68.", 3}, {"69.", 3}, {"70.", 3},
    {"71.", 3}, {"72.", 3}, {"73.", 3}, {"74.", 3}, {"75.", 3}, {"76.", 3}, {"77.", 3},
    {"78.", 3}, {"79.", 3}, {"80.", 3}, {"81.", 3}, {"82.", 3}, {"83.", 3}, {"84.", 3},
    {"85.", 3}, {"86.", 3}, {"87.", 3}, {"88.", 3}, {"89.", 3}, {"90.", 3}, {"91.", 3},
    {"92.", 3}, {"93.", 3}, {"94.", 3}, {"95.", 3}, {"96.", 3}, {"97.", 3}, {"98.", 3},
    {"99.", 3}, {"100.", 4}, {"101.", 4}, {"102.", 4}, {"103.", 4}, {"104.", 4},
    {"105.", 4}, {"106.", 4}, {"107.", 4}, {"108.", 4}, {"109.", 4}, {"110.", 4},
    {"111.", 4}, {"112.", 4}, {"113.", 4}, {"114.", 4}, {"115.", 4}, {"116.", 4},
    {"117.", 4}, {"118.", 4}, {"119.", 4}, {"120.", 4}, {"121.", 4}, {"122.", 4},
    {"123.", 4}, {"124.", 4}, {"125.", 4}, {"126.", 4}, {"127.", 4}, {"128.", 4},
    {"129.", 4}, {"130.", 4}, {"131.", 4}, {"132.", 4}, {"133.", 4}, {"134.", 4},
    {"135.", 4}, {"136.", 4}, {"137.", 4}, {"138.", 4}, {"139.", 4}, {"140.", 4},
    {"141.", 4}, {"142.", 4}, {"143.", 4}, {"144.", 4}, {"145.", 4}, {"146.", 4},
    {"147.", 4}, {"148.", 4}, {"149.", 4}, {"150.", 4}, {"151.", 4}, {"152.", 4},
    {"153.", 4}, {"154.", 4}, {"155.", 4}, {"156.", 4}, {"157.", 4}, {"158.", 4},
    {"159.", 4}, {"160.", 4}, {"161.", 4}, {"162.", 4}, {"163.", 4}, {"164.", 4},
    {"165.", 4}, {"166.", 4}, {"167.", 4}, {"168.", 4}, {"169.", 4}, {"170.", 4},
    {"171.", 4}, {"172.", 4}, {"173.", 4}, {"174.", 4}, {"175.", 4}, {"176.", 4},
    {"177.", 4}, {"178.", 4}, {"179.", 4}, {"180.", 4}, {"181.", 4}, {"182.", 4},
    {"183.", 4}, {"184.", 4}, {"185.", 4}, {"186.", 4}, {"187.", 4}, {"188.", 4},
    {"189.", 4}, {"190.", 4}, {"191.", 4}, {"192.", 4}, {"193.", 4}, {"194.", 4},
    {"195.", 4}, {"196.", 4}, {"197.", 4}, {"198.", 4}, {"199.", 4}, {"200.", 4},
    {"201.", 4}, {"202.", 4}, {"203.", 4}, {"204.", 4}, {"205.", 4}, {"206.", 4},
    {"207.", 4}, {"208.", 4}, {"209.", 4}, {"210.", 4}, {"211.", 4}, {"212.", 4},
    {"213.", 4}, {"214.", 4}, {"215.", 4}, {"216.", 4}, {"217.", 4}, {"218.", 4},
    {"219.", 4}, {"220.", 4}, {"221.", 4}, {"222.", 4}, {"223.", 4}, {"224.", 4},
    {"225.", 4}, {"226.", 4}, {"227.", 4}, {"228.", 4}, {"229.", 4}, {"230.", 4},
    {"231.", 4}, {"232.", 4}, {"233.", 4}, {"234.", 4}, {"235.", 4}, {"236.", 4},
    {"237.", 4}, {"238.", 4}, {"239.", 4}, {"240.", 4}, {"241.", 4}, {"242.", 4},
    {"243.", 4}, {"244.", 4}, {"245.", 4}, {"246.", 4}, {"247.", 4}, {"248.", 4},
    {"249.", 4}, {"250.", 4}, {"251.", 4}, {"252.", 4}, {"253.", 4}, {"254.", 4},
    {"255.", 4}
};

/* An octet's digits and a dot; stores 4 bytes (those past the dot are
 * overwritten next or lie in the room past the text). */
static inline char *put_octet(char *o, uint8_t v)
{
    const dec_dot *e = &dec_table[v];
    memcpy(o, e->text, 4);
    return o + e->len;
}

static inline char *put_v4(char *o, const uint8_t *b)
{
    o = put_octet(o, b[0]);
    o = put_octet(o, b[1]);
    o = put_octet(o, b[2]);
    o = put_octet(o, b[3]);
    return o - 1; /* no dot after the last octet */
}

/* "00".."ff": a 16-bit group's four digits in two lookups. */
static const char hex_pairs[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* The group at b in hex without leading zeros, then ':'; stores 5 bytes at
 * most. The digits are shifted to the top so that the four stored digits
 * start with the first significant one. */
static inline char *put_group(char *o, const uint8_t *b)
{
    unsigned w = (unsigned)b[0] << 8 | b[1];
    /* 4 * the leading zero digits of the 16 bits (a zero group keeps one) */
    unsigned skip = (unsigned)(__builtin_clz(w | 1u) - 16) & 12u;
    unsigned top = w << skip;
    memcpy(o, hex_pairs + 2 * (top >> 8), 2);
    memcpy(o + 2, hex_pairs + 2 * (top & 0xffu), 2);
    o += 4 - skip / 4;
    *o = ':';
    return o + 1;
}

/* Written out so that the compiler makes it one load and a byte swap. */
static inline uint64_t load_be64(const uint8_t *b)
{
    return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 | (uint64_t)b[2] << 40 |
           (uint64_t)b[3] << 32 | (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 |
           (uint64_t)b[6] << 8 | (uint64_t)b[7];
}

/* Bit k set when the k-th 16-bit group of x, counted from the top, is 0.
 * Branch-free: adding 0x7fff to a group's low 15 bits carries into its top
 * bit unless they are all zero (and never out of the group); the
 * multiplication moves the four groups' top bits together into bits 48..51
 * (every partial product lands on its own bit, so nothing carries). */
static inline unsigned zero_groups(uint64_t x)
{
    const uint64_t low15 = 0x7fff7fff7fff7fffu;
    uint64_t tops = ~(((x & low15) + low15) | x) & ~low15;
    return (unsigned)(((tops >> 15) * 0x0008000400020001u) >> 48);
}

/* The zero groups as a bit mask find the run to compress with a few shifts
 * instead of a walk over the groups (measured on h1m: 433 -> 230 Ir per
 * IPv6 address). */
static char *put_v6(char *o, const uint8_t *b)
{
    uint64_t hi = load_be64(b), lo = load_be64(b + 8);
    unsigned zero = zero_groups(hi) | zero_groups(lo) << 4; /* bit i: group i is 0 */
    unsigned runs = zero & (zero >> 1); /* bit i: a zero run of 2 starts at i */
    unsigned first = 8, end = 8;        /* the run to compress: none */
    if (runs) {
        /* Lengthen the runs while any is longer; the lowest start left is
         * the first of the longest runs. */
        unsigned len = 2;
        for (unsigned longer; (longer = runs & (zero >> len)) != 0; len++) runs = longer;
        first = (unsigned)__builtin_ctz(runs);
        end = first + len;
        if (first == 0 && (len == 6 || (len == 5 && b[10] == 0xff && b[11] == 0xff))) {
            /* inet_ntop's IPv4-compatible and IPv4-mapped forms */
            memcpy(o, "::ffff:", 7);
            o += len == 6 ? 2 : 7;
            return put_v4(o, b + 12);
        }
    }
    for (unsigned i = 0; i < first; i++) o = put_group(o, b + 2 * i);
    if (first == 8) return o - 1; /* no ':' after the last group */
    /* the group before wrote its ':'; a run at the start needs both of "::" */
    o[0] = ':';
    o[1] = ':';
    o += first == 0 ? 2 : 1;
    for (unsigned i = end; i < 8; i++) o = put_group(o, b + 2 * i);
    return end < 8 ? o - 1 : o; /* a run at the end keeps its "::" */
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
