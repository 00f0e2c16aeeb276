/* main.c -- tcplens entry point: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "tcplens/tcplens.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"read", tl_cmd_read, "analyse pcap/pcapng capture files"},
    {"watch", tl_cmd_watch, "capture live and analyse as packets arrive"},
    {"lab", tl_cmd_lab, "run built-in TCP experiments in a private network"},
    {"serve", tl_cmd_serve, "the experiment's server: every socket call printed"},
    {"connect", tl_cmd_connect, "the experiment's client: every socket call printed"},
    {"states", tl_cmd_states, "the kernel's TCP sockets and their states"},
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: tcplens COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(fp, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(fp, "\n'tcplens COMMAND --help' shows a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("tcplens %s\n", TL_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "tcplens: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
