/* table.c -- every lab scenario, in the order `tcplens lab --list` shows
 * them; the first TL_LAB_TOUR are the tour `tcplens lab` runs by default.
 */
#include <string.h>

#include "lab/scenario.h"

extern const tl_scenario tl_lab_sc_handshake, tl_lab_sc_rst, tl_lab_sc_close_then_send,
    tl_lab_sc_shutdown, tl_lab_sc_coalesce, tl_lab_sc_time_wait, tl_lab_sc_kill_server,
    tl_lab_sc_simultaneous_close, tl_lab_sc_refused, tl_lab_sc_unread_data, tl_lab_sc_half_close,
    tl_lab_sc_syn_timeout, tl_lab_sc_lost_segment, tl_lab_sc_zero_window, tl_lab_sc_keepalive;

const tl_scenario *const tl_lab_scenarios[] = {
    &tl_lab_sc_handshake,
    &tl_lab_sc_rst,
    &tl_lab_sc_close_then_send,
    &tl_lab_sc_shutdown,
    &tl_lab_sc_coalesce,
    &tl_lab_sc_time_wait,
    &tl_lab_sc_kill_server,
    &tl_lab_sc_simultaneous_close,
    &tl_lab_sc_refused,
    &tl_lab_sc_unread_data,
    &tl_lab_sc_half_close,
    &tl_lab_sc_syn_timeout,
    &tl_lab_sc_lost_segment,
    &tl_lab_sc_zero_window,
    &tl_lab_sc_keepalive,
};

const size_t tl_lab_n_scenarios = sizeof tl_lab_scenarios / sizeof tl_lab_scenarios[0];

const tl_scenario *tl_lab_scenario_find(const char *name)
{
    for (size_t i = 0; i < tl_lab_n_scenarios; i++)
        if (!strcmp(tl_lab_scenarios[i]->name, name)) return tl_lab_scenarios[i];
    return NULL;
}
