/* cmd_lab.c -- `tcplens lab [SCENARIO...]`: run the built-in TCP
 * experiments in a private network (SPEC.md section 4). No name runs the
 * tour; --list names them all; --all runs every one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "lab/lab_int.h"

static void usage(FILE *fp)
{
    fprintf(fp, "usage: tcplens lab [--list] [--all] [-6] [--json] [-w DIR] [--html FILE] "
                "[--color=auto|always|never] [SCENARIO...]\n"
                "  no SCENARIO runs the tour: the first %d of --list\n"
                "  -6, --ipv6: the sockets talk IPv6 (2001:db8::1 and 2001:db8::2)\n", TL_LAB_TOUR);
}

static void list(void)
{
    for (size_t i = 0; i < tl_lab_n_scenarios; i++)
        printf("%-20s %s%s\n", tl_lab_scenarios[i]->name, tl_lab_scenarios[i]->summary,
               i < TL_LAB_TOUR ? "  [tour]" : "");
}

int tl_cmd_lab(int argc, char **argv)
{
    tl_lab_opts o = { .out = stdout };
    const char *color = "auto";
    const char *html_path = NULL;
    bool all = false;
    const tl_scenario **sel = calloc((size_t)argc + tl_lab_n_scenarios + 1, sizeof *sel);
    size_t nsel = 0;
    if (!sel) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--list")) {
            list();
            free(sel);
            return 0;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(sel);
            return 0;
        } else if (!strcmp(a, "--json")) {
            o.json = true;
        } else if (!strcmp(a, "--all")) {
            all = true;
        } else if (!strcmp(a, "-6") || !strcmp(a, "--ipv6")) {
            o.family = AF_INET6;
        } else if (!strcmp(a, "-w") && i + 1 < argc) {
            o.pcap_dir = argv[++i];
        } else if (!strcmp(a, "--html") && i + 1 < argc) {
            html_path = argv[++i];
        } else if (!strncmp(a, "--color=", 8)) {
            color = a + 8;
        } else if (a[0] == '-') {
            fprintf(stderr, "tcplens lab: unknown option '%s'\n", a);
            usage(stderr);
            free(sel);
            return 2;
        } else {
            const tl_scenario *sc = tl_lab_scenario_find(a);
            if (!sc) {
                fprintf(stderr, "tcplens lab: no scenario '%s' (tcplens lab --list)\n", a);
                free(sel);
                return 2;
            }
            sel[nsel++] = sc;
        }
    }
    if (all) {
        nsel = 0;
        for (size_t i = 0; i < tl_lab_n_scenarios; i++) sel[nsel++] = tl_lab_scenarios[i];
    } else if (nsel == 0) {
        for (size_t i = 0; i < TL_LAB_TOUR; i++) sel[nsel++] = tl_lab_scenarios[i];
    }
    if (o.pcap_dir) {
        struct stat st;
        if (stat(o.pcap_dir, &st) < 0 && mkdir(o.pcap_dir, 0755) < 0) {
            fprintf(stderr, "tcplens lab: cannot create %s\n", o.pcap_dir);
            free(sel);
            return 2;
        }
    }
    o.color = !strcmp(color, "always") ||
              (!strcmp(color, "auto") && !getenv("NO_COLOR") && isatty(STDOUT_FILENO));
    /* --html FILE: every scenario's connections on one page. */
    FILE *html_fp = NULL;
    tl_sink html = { NULL, NULL };
    if (html_path) {
        tl_output_opts ho = { .ts_digits = 9 };
        if (!(html_fp = fopen(html_path, "w")) || tl_sink_html_new(&html, html_fp, &ho) < 0) {
            fprintf(stderr, "tcplens lab: cannot write %s: %s\n", html_path, strerror(errno));
            if (html_fp) fclose(html_fp);
            free(sel);
            return 2;
        }
        o.html = &html;
    }
    int rc = tl_lab_run(sel, nsel, &o);
    free(sel);
    if (html_fp) {
        tl_sink_free(&html);
        if (ferror(html_fp) | fclose(html_fp)) {
            fprintf(stderr, "tcplens lab: writing %s failed\n", html_path);
            if (rc == 0) rc = 1;
        }
    }
    /* 77: nothing could run here (no namespaces); the reason was printed. */
    return rc == 77 ? 77 : rc;
}
