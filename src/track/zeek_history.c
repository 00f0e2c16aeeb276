/* zeek_history.c -- the history letters' rare paths: a history longer than
 * fits in place, and the scaled letters (Connection::ScaledHistoryEntry).
 * The common ones are inline in zeek_int.h, on the per-segment path. */
#include <stdlib.h>
#include <string.h>

#include "track/zeek_int.h"

static const char sc_letter[TL_ZK_SC_COUNT] = {'C', 'T', 'W', 'G'};

void tl__zk_add_history_long(tl_zeek *z, char c)
{
    if (z->hist_len + 1 >= TL_HISTORY_MAX) return;
    char *h = z->hist.in;
    if (z->hist_len + 1 == TL_ZK_HIST_INLINE) {
        h = malloc(TL_HISTORY_MAX);
        if (!h) return;  /* out of memory: the letter is lost */
        memcpy(h, z->hist.in, z->hist_len);
        z->hist.heap = h;
    } else if (z->hist_len >= TL_ZK_HIST_INLINE) {
        h = z->hist.heap;
    }
    h[z->hist_len++] = c;
    h[z->hist_len] = '\0';
}

/* The thresholds 1, 10, ... as Zeek's uint32 multiplication makes them
 * (10^10 wraps to 1410065408, whose next wraps below it: the count then
 * restarts); kept as an index: 12 bytes less per endpoint. */
const uint32_t tl__zk_sc_thresh[11] = {1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u,
                                       10000000u, 100000000u, 1000000000u, 1410065408u};

void tl__zk_scaled_letter(tl_zeek *z, tl_zeek_ep *e, int which)
{
    uint8_t *level = &z->sc_level[ep_slot(z, e)][which];
    uint8_t k = *level;
    add_history(z, role_letter(ep_is_orig(z, e), sc_letter[which]));
    if (k == 10) ep_hist(z, e)->sc_cnt[which] = 0;
    else *level = (uint8_t)(k + 1);
}
