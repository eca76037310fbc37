/*
 * completion.h - the shell completion script of `slipway completion bash`,
 * made from the command table (cli.h), so it offers what --help lists.
 *
 * Part of cli/: may use every folder; with hooks/ the only one that prints on
 * its own.
 *
 * The script defines _slipway and registers it for the command slipway
 * (`complete -F _slipway slipway`).  It completes, from the line typed:
 *   - the command's name (and help's argument), topic:sub names whole (bash splits words at the
 *     ':' and '=' of COMP_WORDBREAKS: the script glues them back and
 *     offers only what follows the last one, as bash replaces only that);
 *   - after the command, the options its --help lists (not the hidden
 *     ones), short and long;
 *   - an option's value, by what the value is: app names after -a/--app
 *     and every option whose value is an APP (what `slipway apps` lists,
 *     run by the same executable with the line's --root and -r, so over
 *     ssh from a checkout: without a terminal, so ssh asks for no
 *     passphrase, for at most 10 s; errors say nothing), git remotes after
 *     -r/--remote (`git remote`), directories after a DIR; nothing for
 *     other values nor for arguments.
 */
#ifndef SW_COMPLETION_H
#define SW_COMPLETION_H

#include <stdio.h>

/* Writes the bash completion script for cli_commands[] to f. */
void completion_write_bash(FILE *f);

#endif
