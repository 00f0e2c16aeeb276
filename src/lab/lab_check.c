/* lab_check.c -- judging a scenario's run: helpers the scenarios' checks
 * use (calls, packets, events, kernel snapshots), and the checks every
 * scenario gets, above all "states inferred from the wire agree with the
 * kernel's" (SPEC.md 4.3).
 *
 * The comparison, per connection and endpoint: the kernel's path comes from
 * the tracepoint sock:inet_sock_set_state (every transition) or from
 * sock_diag polling (transitions faster than the poll collapse), plus the
 * snapshots the sides took; the inferred path from the endpoint-view
 * tracker (lab_timeline.c). Before comparing, leading CLOSED/LISTEN/UNKNOWN
 * are dropped from both (a socket's life before its first SYN), and so is
 * the kernel's CLOSE when a FIN-WAIT/CLOSING socket is handed to a timewait
 * socket (tcp_time_wait(): the connection lives on, without tracepoint).
 * With the tracepoint the paths must be equal; with polling the kernel's
 * path must be a subsequence of the inferred one.
 */
#include "lab/lab_int.h"

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define MAX_PATH 32

void tl_lab_check(tl_lab_result *r, const char *name, bool ok, const char *fmt, ...)
{
    tl_lab_check_rec c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", name);
    c.ok = ok;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c.text, sizeof c.text, fmt, ap);
    va_end(ap);
    tl__lab_vec_push(&r->checks, &c);
}

const tl_call_rec *tl_lab_call(const tl_lab_result *r, tl_lab_side side, const char *call, int nth)
{
    int seen = 0;
    for (size_t i = 0; i < r->recs.n; i++) {
        const tl_call_rec *c = TL_LAB_AT(r->recs, tl_call_rec, i);
        if (c->type == TL_REC_CALL && c->side == side && !strcmp(c->call, call) && ++seen == nth)
            return c;
    }
    return NULL;
}

int tl_lab_count_calls(const tl_lab_result *r, tl_lab_side side, const char *call)
{
    int n = 0;
    for (size_t i = 0; i < r->recs.n; i++) {
        const tl_call_rec *c = TL_LAB_AT(r->recs, tl_call_rec, i);
        n += c->type == TL_REC_CALL && c->side == side && !strcmp(c->call, call);
    }
    return n;
}

void tl_lab_expect_call(tl_lab_result *r, const char *name, tl_lab_side side, const char *call,
                        int nth, int64_t ret, const char *err, int sig)
{
    char want[160], seen[256];
    tl_call_rec w;
    memset(&w, 0, sizeof w);
    w.type = TL_REC_CALL;
    snprintf(w.call, sizeof w.call, "%s", call);
    snprintf(w.args, sizeof w.args, "...");
    w.ret = ret;
    w.sig = sig;
    tl_call_format(&w, want, sizeof want);
    if (err) snprintf(want + strlen(want), sizeof want - strlen(want), " %s", err);
    const tl_call_rec *c = tl_lab_call(r, side, call, nth);
    bool ok = c && c->ret == ret && c->sig == sig &&
              (err ? c->err && !strcmp(tl_errno_name(c->err), err) : c->err == 0 || ret >= 0);
    if (c) tl_call_format(c, seen, sizeof seen);
    else snprintf(seen, sizeof seen, "no call %d of %s", nth, call);
    tl_lab_check(r, name, ok, "expected %s %s, seen %s %s", tl_lab_side_name(side), want,
                 tl_lab_side_name(side), seen);
}

int tl_lab_count_packets(const tl_lab_result *r, tl_wire_dir dir, uint8_t mask, uint8_t value,
                         int payload, int dropped)
{
    int n = 0;
    for (size_t i = 0; i < r->pkts.n; i++) {
        const tl_lab_pkt *p = TL_LAB_AT(r->pkts, tl_lab_pkt, i);
        if (!p->info.is_tcp || (dir != TL_WIRE_ANY && p->dir != dir)) continue;
        if ((p->info.flags & mask) != value) continue;
        if (payload >= 0 && (p->info.payload_len > 0) != (payload > 0)) continue;
        if (dropped >= 0 && p->dropped != (dropped > 0)) continue;
        n++;
    }
    return n;
}

int tl_lab_count_packets_after(const tl_lab_result *r, tl_wire_dir after_dir, uint8_t after_mask,
                               uint8_t after_value, tl_wire_dir dir, uint8_t mask, uint8_t value)
{
    int n = 0;
    bool started = false;
    for (size_t i = 0; i < r->pkts.n; i++) {
        const tl_lab_pkt *p = TL_LAB_AT(r->pkts, tl_lab_pkt, i);
        if (!p->info.is_tcp) continue;
        if (!started) {
            started = (after_dir == TL_WIRE_ANY || p->dir == after_dir) &&
                      (p->info.flags & after_mask) == after_value;
            continue;
        }
        if ((dir == TL_WIRE_ANY || p->dir == dir) && (p->info.flags & mask) == value) n++;
    }
    return n;
}

bool tl_lab_only_late_resets(const tl_lab_result *r, tl_wire_dir dir)
{
    int aborts = tl_lab_count_packets(r, dir, TL_TH_RST | TL_TH_ACK, TL_TH_RST | TL_TH_ACK, -1, -1);
    int bare = tl_lab_count_packets(r, dir, TL_TH_RST | TL_TH_ACK, TL_TH_RST, -1, -1);
    int fins = tl_lab_count_packets(r, dir, TL_TH_FIN, TL_TH_FIN, -1, -1);
    return aborts == 0 && bare <= (fins > 1 ? fins - 1 : 0);
}

int tl_lab_count_events(const tl_lab_result *r, tl_event_kind k, tl_role by)
{
    int n = 0;
    for (size_t i = 0; i < r->events.n; i++) {
        const tl_lab_event_rec *e = TL_LAB_AT(r->events, tl_lab_event_rec, i);
        n += e->kind == k && (by == TL_ROLE_NONE || e->by == by);
    }
    return n;
}

double tl_lab_event_value(const tl_lab_result *r, tl_event_kind k, int nth)
{
    int seen = 0;
    for (size_t i = 0; i < r->events.n; i++) {
        const tl_lab_event_rec *e = TL_LAB_AT(r->events, tl_lab_event_rec, i);
        if (e->kind == k && ++seen == nth) return e->value;
    }
    return NAN;
}

bool tl_lab_kernel_saw(const tl_lab_result *r, tl_lab_side ns, tl_tcp_state s)
{
    for (size_t i = 0; i < r->recs.n; i++) {
        const tl_call_rec *c = TL_LAB_AT(r->recs, tl_call_rec, i);
        if (c->type == TL_REC_SNAP && c->snap_ns == ns && c->state == s) return true;
    }
    return false;
}

/* ---- paths ------------------------------------------------------------------ */

/* The first connection on the wire (the scenario's main one). */
static bool first_tuple(const tl_lab_result *r, tl_lab_tuple *t)
{
    for (size_t i = 0; i < r->inferred.n; i++) {
        *t = TL_LAB_AT(r->inferred, tl_lab_inferred, i)->t;
        return true;
    }
    return false;
}

static bool tuple_eq(const tl_lab_tuple *a, const tl_lab_tuple *b)
{
    return a->cport == b->cport && a->sport == b->sport && tl_addr_equal(&a->caddr, &b->caddr) &&
           tl_addr_equal(&a->saddr, &b->saddr);
}

static void push(tl_tcp_state *p, size_t *n, tl_tcp_state s)
{
    if (*n < MAX_PATH && (*n == 0 || p[*n - 1] != s)) p[(*n)++] = s;
}

static size_t inferred_path(const tl_lab_result *r, tl_lab_side side, const tl_lab_tuple *t,
                            tl_tcp_state *p)
{
    size_t n = 0;
    tl_role role = side == TL_LAB_CLIENT ? TL_ROLE_CLIENT : TL_ROLE_SERVER;
    for (size_t i = 0; i < r->inferred.n; i++) {
        const tl_lab_inferred *in = TL_LAB_AT(r->inferred, tl_lab_inferred, i);
        if (in->endpoint != role || !tuple_eq(&in->t, t)) continue;
        push(p, &n, in->from);
        push(p, &n, in->to);
    }
    return n;
}

static bool kev_matches(const tl_addr *la, uint16_t lp, const tl_addr *ra, uint16_t rp,
                        tl_lab_side side, const tl_lab_tuple *t)
{
    if (side == TL_LAB_CLIENT)
        return lp == t->cport && rp == t->sport && tl_addr_equal(la, &t->caddr) && tl_addr_equal(ra, &t->saddr);
    return lp == t->sport && rp == t->cport && tl_addr_equal(la, &t->saddr) && tl_addr_equal(ra, &t->caddr);
}

/* What kernel_path takes: the kstate module's transitions (tracepoint or
 * sock_diag polling, in the lab process) and the sides' snapshots at their
 * steps (sock_diag, in the side processes). */
enum { KP_TRANSITIONS = 1, KP_SNAPSHOTS = 2, KP_ALL = 3 };

/* The kernel's path: transitions and snapshots in time order. A CLOSE that
 * only hands the connection to a timewait socket is left out. A state
 * sock_diag saw after the transition's time (seen_ts) goes in at that time:
 * a snapshot between the two may still show the state before it. */
static size_t kernel_path(const tl_lab_result *r, tl_lab_side side, const tl_lab_tuple *t,
                          tl_tcp_state *p, unsigned sources)
{
    size_t n = 0, ik = 0, is = 0;
    bool have_later = false;
    tl_tcp_state later = TL_ST_UNKNOWN;   /* a transition's state seen at later_ts */
    tl_time later_ts = {0, 0};
    for (;;) {
        const tl_kstate_event *k = NULL;
        const tl_call_rec *s = NULL;
        while ((sources & KP_TRANSITIONS) && ik < r->kev.n) {
            k = TL_LAB_AT(r->kev, tl_kstate_event, ik);
            if (kev_matches(&k->local, k->lport, &k->remote, k->rport, side, t)) break;
            k = NULL;
            ik++;
        }
        while ((sources & KP_SNAPSHOTS) && is < r->recs.n) {
            s = TL_LAB_AT(r->recs, tl_call_rec, is);
            if (s->type == TL_REC_SNAP && s->snap_ns == side &&
                kev_matches(&s->local, s->lport, &s->remote, s->rport, side, t))
                break;
            s = NULL;
            is++;
        }
        if (have_later && (!k || tl_time_cmp(later_ts, k->ts) <= 0) &&
            (!s || tl_time_cmp(later_ts, s->ts) <= 0)) {
            push(p, &n, later);
            have_later = false;
            continue;
        }
        if (!k && !s) break;
        if (k && (!s || tl_time_cmp(k->ts, s->ts) <= 0)) {
            ik++;
            push(p, &n, k->from);
            bool handover = k->to == TL_ST_CLOSED &&
                            (k->from == TL_ST_FIN_WAIT_1 || k->from == TL_ST_FIN_WAIT_2 || k->from == TL_ST_CLOSING);
            if (handover) continue;
            if (tl_time_cmp(k->seen_ts, k->ts) > 0) {
                if (have_later) push(p, &n, later);
                have_later = true;
                later = k->to;
                later_ts = k->seen_ts;
            } else {
                push(p, &n, k->to);
            }
        } else {
            is++;
            push(p, &n, (tl_tcp_state)s->state);
        }
    }
    return n;
}

/* Drops the states before the connection's first SYN, and a trailing
 * UNKNOWN (polling: the socket is gone). */
static size_t trim(tl_tcp_state *p, size_t n)
{
    size_t k = 0;
    while (k < n && (p[k] == TL_ST_UNKNOWN || p[k] == TL_ST_CLOSED || p[k] == TL_ST_LISTEN)) k++;
    memmove(p, p + k, (n - k) * sizeof *p);
    n -= k;
    while (n && p[n - 1] == TL_ST_UNKNOWN) n--;
    return n;
}

static bool is_subsequence(const tl_tcp_state *k, size_t nk, const tl_tcp_state *in, size_t ni)
{
    size_t j = 0;
    for (size_t i = 0; i < ni && j < nk; i++)
        if (in[i] == k[j]) j++;
    return j == nk;
}

static bool path_has(const tl_tcp_state *p, size_t n, const char *seq)
{
    char buf[512];
    tl__lab_path_format(p, n, buf, sizeof buf);
    return strstr(buf, seq) != NULL;
}

void tl_lab_kernel_path(const tl_lab_result *r, tl_lab_side side, char *buf, size_t len)
{
    tl_lab_tuple t;
    tl_tcp_state p[MAX_PATH];
    size_t n = first_tuple(r, &t) ? kernel_path(r, side, &t, p, KP_ALL) : 0;
    tl__lab_path_format(p, n, buf, len);
}

void tl_lab_inferred_path(const tl_lab_result *r, tl_lab_side side, char *buf, size_t len)
{
    tl_lab_tuple t;
    tl_tcp_state p[MAX_PATH];
    size_t n = first_tuple(r, &t) ? inferred_path(r, side, &t, p) : 0;
    tl__lab_path_format(p, n, buf, len);
}

bool tl_lab_inferred_has(const tl_lab_result *r, tl_lab_side side, const char *seq)
{
    tl_lab_tuple t;
    tl_tcp_state p[MAX_PATH];
    size_t n = first_tuple(r, &t) ? inferred_path(r, side, &t, p) : 0;
    return path_has(p, n, seq);
}

bool tl_lab_kernel_has(const tl_lab_result *r, tl_lab_side side, const char *seq)
{
    tl_lab_tuple t;
    tl_tcp_state p[MAX_PATH];
    size_t n = first_tuple(r, &t) ? kernel_path(r, side, &t, p, KP_ALL) : 0;
    return path_has(p, n, seq);
}

/* ---- the checks every scenario gets ---------------------------------------------- */

static void describe_status(int st, char *buf, size_t len)
{
    if (st == -1) snprintf(buf, len, "not started");
    else if (WIFEXITED(st)) snprintf(buf, len, "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) snprintf(buf, len, "killed by SIG%s", sigabbrev_np(WTERMSIG(st)));
    else snprintf(buf, len, "status %d", st);
}

/* A polled path as the check compares it: a socket missing from one dump
 * shows as CLOSED and back, a socket leaving the table (timer, timewait
 * expiry) as a final CLOSED; a connection never comes back to a state it
 * left. */
static size_t polled_path(tl_tcp_state *k, size_t nk, const tl_tcp_state *in, size_t ni)
{
    size_t w = 0;
    for (size_t i = 0; i < nk; i++) {
        bool again = false;
        for (size_t j = 0; j < w; j++) again |= k[j] == k[i];
        if ((k[i] != TL_ST_CLOSED || i + 1 == nk) && !again) k[w++] = k[i];
    }
    if (w && k[w - 1] == TL_ST_CLOSED && (ni == 0 || in[ni - 1] != TL_ST_CLOSED)) w--;
    return w;
}

static void agree(tl_lab_result *r, const tl_lab_tuple *t, tl_lab_side side, bool many)
{
    tl_tcp_state k[MAX_PATH], in[MAX_PATH];
    size_t nk = trim(k, kernel_path(r, side, t, k, KP_ALL));
    size_t ni = trim(in, inferred_path(r, side, t, in));
    char ks[512], is[512], name[96];
    tl__lab_path_format(k, nk, ks, sizeof ks);
    tl__lab_path_format(in, ni, is, sizeof is);
    if (many) snprintf(name, sizeof name, "%s states inferred from the wire agree with the kernel's (port %u)",
                       tl_lab_side_name(side), t->cport);
    else snprintf(name, sizeof name, "%s states inferred from the wire agree with the kernel's",
                  tl_lab_side_name(side));
    if (!r->have_kstate) {
        tl_lab_check(r, name, false, "no kernel view: %s", r->kstate_why);
        return;
    }
    bool tp = r->ksource == TL_KSTATE_TRACEPOINT;
    bool ok;
    const char *how;
    if (tp) {
        ok = nk == ni && !memcmp(k, in, nk * sizeof *k);
        how = "tracepoint: every transition must match";
        if (!ok && nk < ni && !memcmp(k, in, nk * sizeof *k) && nk &&
            (k[nk - 1] == TL_ST_FIN_WAIT_2 || k[nk - 1] == TL_ST_TIME_WAIT)) {
            /* A timewait socket (FIN-WAIT-2 or TIME-WAIT) has no tracepoint:
             * what it does next is not in the kernel's path. */
            ok = true;
            for (size_t i = nk; i < ni; i++) ok &= in[i] == TL_ST_TIME_WAIT || in[i] == TL_ST_CLOSED;
            how = "tracepoint: every transition must match; the timewait socket's later states have no tracepoint";
        } else if (!ok && nk == ni + 1 && !memcmp(k, in, ni * sizeof *k) && k[nk - 1] == TL_ST_CLOSED) {
            /* A timer closed it (SYN or keepalive retries exhausted): no segment shows that. */
            ok = true;
            how = "tracepoint: every transition must match; the final CLOSE came from a timer, no segment shows it";
        }
    } else {
        /* The polled transitions and the sides' snapshots are each in order,
         * but not with each other: both are stamped after their dump, in
         * different processes, so a dump that saw the older state can carry
         * the later stamp (seen under the sanitizers: ESTABLISHED polled
         * before the kill, stamped after the snapshot's CLOSE-WAIT). Each
         * must appear in the wire's path in order. */
        tl_tcp_state kp[MAX_PATH], ksn[MAX_PATH];
        size_t np = polled_path(kp, trim(kp, kernel_path(r, side, t, kp, KP_TRANSITIONS)), in, ni);
        size_t ns = polled_path(ksn, trim(ksn, kernel_path(r, side, t, ksn, KP_SNAPSHOTS)), in, ni);
        nk = polled_path(k, nk, in, ni);
        char ps[240], ss[240];
        tl__lab_path_format(kp, np, ps, sizeof ps);
        tl__lab_path_format(ksn, ns, ss, sizeof ss);
        snprintf(ks, sizeof ks, "polled %s, snapshots %s", np ? ps : "-", ns ? ss : "-");
        ok = is_subsequence(kp, np, in, ni) && is_subsequence(ksn, ns, in, ni);
        how = "sock_diag polling: the polled states and the snapshots each must appear in order";
    }
    if (nk == 0 && ni == 0) return;   /* this side had no socket on this connection */
    tl_lab_check(r, name, ok, "kernel %s; wire %s (%s)", ks, is, how);
}

void tl__lab_generic_checks(tl_lab_result *r)
{
    char cs[48], ss[48];
    describe_status(r->status[TL_LAB_CLIENT], cs, sizeof cs);
    describe_status(r->status[TL_LAB_SERVER], ss, sizeof ss);
    bool killed_ok = (r->sc->flags & TL_SC_SERVER_KILLED) && WIFSIGNALED(r->status[TL_LAB_SERVER]) &&
                     WTERMSIG(r->status[TL_LAB_SERVER]) == SIGKILL;
    bool ok = !r->timed_out && r->status[TL_LAB_CLIENT] == 0 && (r->status[TL_LAB_SERVER] == 0 || killed_ok);
    tl_lab_check(r, "both sides ran to the end", ok, "expected both to finish in time%s; client %s, server %s%s",
                 (r->sc->flags & TL_SC_SERVER_KILLED) ? " (server by SIGKILL)" : "", cs, ss,
                 r->timed_out ? ", timed out" : "");
    int tcp = tl_lab_count_packets(r, TL_WIRE_ANY, 0, 0, -1, -1), in_family = 0;
    int version = r->family == AF_INET6 ? 6 : 4;
    for (size_t i = 0; i < r->pkts.n; i++) {
        const tl_lab_pkt *p = TL_LAB_AT(r->pkts, tl_lab_pkt, i);
        in_family += p->info.is_tcp && p->len > 0 && p->data[0] >> 4 == version;
    }
    tl_lab_check(r, "the wire carried the connection", tcp > 0 && in_family == tcp && !r->wire_errors,
                 "expected TCP segments over IPv%d on the wire and no failed read or send, seen %d "
                 "(%d over IPv%d), %llu failed", version, tcp, in_family, version,
                 (unsigned long long)r->wire_errors);
    /* every connection, both endpoints */
    tl_lab_tuple seen[16];
    size_t nseen = 0;
    for (size_t i = 0; i < r->inferred.n && nseen < 16; i++) {
        const tl_lab_tuple *t = &TL_LAB_AT(r->inferred, tl_lab_inferred, i)->t;
        bool dup = false;
        for (size_t j = 0; j < nseen; j++) dup |= tuple_eq(&seen[j], t);
        if (!dup) seen[nseen++] = *t;
    }
    for (size_t i = 0; i < nseen; i++) {
        agree(r, &seen[i], TL_LAB_CLIENT, nseen > 1);
        agree(r, &seen[i], TL_LAB_SERVER, nseen > 1);
    }
}
