/* commands.h -- one function per tcplens subcommand (cli/cmd_*.c).
 * Each takes argc/argv after the command name ("read", ...) and returns the
 * process exit status: 0 success, 1 input errors, 2 usage. */
#ifndef TL_CLI_COMMANDS_H
#define TL_CLI_COMMANDS_H

int tl_cmd_read(int argc, char **argv);
int tl_cmd_watch(int argc, char **argv);
int tl_cmd_lab(int argc, char **argv);
int tl_cmd_serve(int argc, char **argv);
int tl_cmd_connect(int argc, char **argv);
int tl_cmd_states(int argc, char **argv);

#endif
