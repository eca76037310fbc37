/* The bash completion script: the table's rows as shell data, then one fixed function. */
#include "cli/completion.h"
#include "cli/cli.h"

#include <string.h>

static const char head[] =
	"# bash completion for slipway: commands, their options, app names after -a,\n"
	"# git remotes after -r.  Made from slipway's command table by\n"
	"# `slipway completion bash`; load it with: source <(slipway completion bash)\n"
	"\n";

/*
 * The fixed part.  _slipway_words glues back the words bash split at ':'
 * and '=' (nothing but the line's own blanks separates two words), so
 * "releases:info" and "--app=web" are one word each; _slipway offers
 * whole words and then cuts what bash will not replace: the part of the
 * current word before its last ':' or '=' (bash's $2 is what follows it).
 */
static const char body[] =
	"# _slipway_words: COMP_WORDS up to the cursor, glued back where bash split\n"
	"# them at COMP_WORDBREAKS (no blank between them on the line)\n"
	"_slipway_words()\n"
	"{\n"
	"\tlocal line=${COMP_LINE:0:COMP_POINT} i w blank\n"
	"\t_slipway_w=()\n"
	"\tfor ((i = 0; i <= COMP_CWORD; i++)); do\n"
	"\t\tw=${COMP_WORDS[i]}\n"
	"\t\tblank=${line%%[![:space:]]*}\n"
	"\t\tline=${line#\"$blank\"}\n"
	"\t\tif ((i == 0)) || [[ $blank ]]; then\n"
	"\t\t\t_slipway_w+=(\"$w\")\n"
	"\t\telse\n"
	"\t\t\t_slipway_w[${#_slipway_w[@]} - 1]+=$w\n"
	"\t\tfi\n"
	"\t\tline=${line#\"$w\"}\n"
	"\tdone\n"
	"}\n"
	"\n"
	"# _slipway_kind OPTION: what the value of the command's OPTION is (flag when it\n"
	"# takes none, nothing when it is not the command's)\n"
	"_slipway_kind()\n"
	"{\n"
	"\tlocal o\n"
	"\tfor o in $_slipway_opts; do\n"
	"\t\t[[ ${o%=*} == \"$1\" ]] && { printf %s \"${o#*=}\"; return; }\n"
	"\tdone\n"
	"}\n"
	"\n"
	"# _slipway_values KIND WORD PREFIX: the values of KIND starting with WORD, each\n"
	"# after PREFIX, into COMPREPLY\n"
	"_slipway_values()\n"
	"{\n"
	"\tlocal names=() l self=${_slipway_w[0]} i args=()\n"
	"\t[[ $self == '~/'* ]] && self=$HOME/${self#'~/'}\n"
	"\tcase $1 in\n"
	"\tapp)\n"
	"\t\t# the line's --root and -r: the apps of that root, or of that remote's server\n"
	"\t\tfor ((i = 1; i < ${#_slipway_w[@]} - 1; i++)); do\n"
	"\t\t\tcase ${_slipway_w[i]} in\n"
	"\t\t\t--root | -r | --remote) args+=(\"${_slipway_w[i]}\" \"${_slipway_w[i + 1]}\") ;;\n"
	"\t\t\t--root=* | --remote=*) args+=(\"${_slipway_w[i]}\") ;;\n"
	"\t\t\tesac\n"
	"\t\tdone\n"
	"\t\t# over ssh: no terminal to ask for a passphrase on, and at most 10 s\n"
	"\t\tlocal run=()\n"
	"\t\tcommand -v setsid >/dev/null && run+=(setsid)\n"
	"\t\tcommand -v timeout >/dev/null && run+=(timeout 10)\n"
	"\t\twhile IFS= read -r l; do\n"
	"\t\t\t[[ $l && $l != '=== '* && $l != 'You have no apps.' ]] && names+=(\"$l\")\n"
	"\t\tdone < <(\"${run[@]}\" \"$self\" apps \"${args[@]}\" </dev/null 2>/dev/null)\n"
	"\t\t;;\n"
	"\tremote)\n"
	"\t\twhile IFS= read -r l; do names+=(\"$l\"); done < <(git remote 2>/dev/null)\n"
	"\t\t;;\n"
	"\tdir)\n"
	"\t\tcompopt -o filenames 2>/dev/null\n"
	"\t\twhile IFS= read -r l; do names+=(\"$l\"); done < <(compgen -d -- \"$2\")\n"
	"\t\t;;\n"
	"\tesac\n"
	"\tfor l in \"${names[@]}\"; do\n"
	"\t\t[[ $l == \"$2\"* ]] && COMPREPLY+=(\"$3$l\")\n"
	"\tdone\n"
	"}\n"
	"\n"
	"_slipway()\n"
	"{\n"
	"\tlocal _slipway_w _slipway_opts cmd='' i w cur prev kind\n"
	"\tCOMPREPLY=()\n"
	"\t_slipway_words\n"
	"\tlocal n=$((${#_slipway_w[@]} - 1))\n"
	"\tcur=${_slipway_w[n]}\n"
	"\tprev=${_slipway_w[n - 1]}\n"
	"\t# the command: the first word that is neither an option nor --root's value\n"
	"\tfor ((i = 1; i < n; i++)); do\n"
	"\t\tw=${_slipway_w[i]}\n"
	"\t\tif [[ $w == --root ]]; then\n"
	"\t\t\t((i++))\n"
	"\t\telif [[ $w != -* ]]; then\n"
	"\t\t\tcmd=$w\n"
	"\t\t\tbreak\n"
	"\t\tfi\n"
	"\tdone\n"
	"\tif [[ -z $cmd ]]; then\n"
	"\t\t_slipway_opts='--root=dir -h=flag --help=flag -v=flag --version=flag'\n"
	"\telse\n"
	"\t\t_slipway_opts=$(_slipway_options \"$cmd\")\n"
	"\tfi\n"
	"\tif [[ $cur == --*=* ]]; then\n"
	"\t\tkind=$(_slipway_kind \"${cur%%=*}\")\n"
	"\t\t[[ $kind && $kind != flag ]] && _slipway_values \"$kind\" \"${cur#*=}\" \"${cur%%=*}=\"\n"
	"\telif ((n > 1)) && kind=$(_slipway_kind \"$prev\") && [[ $kind && $kind != flag ]]; then\n"
	"\t\t_slipway_values \"$kind\" \"$cur\" ''\n"
	"\telif [[ $cur == -* ]]; then\n"
	"\t\tlocal words=()\n"
	"\t\tfor w in $_slipway_opts; do words+=(\"${w%%=*}\"); done\n"
	"\t\tCOMPREPLY=($(compgen -W \"${words[*]}\" -- \"$cur\"))\n"
	"\telif [[ -z $cmd ]] || { [[ $cmd == help ]] && ((i == n - 1)); }; then\n"
	"\t\tCOMPREPLY=($(compgen -W \"$_slipway_commands\" -- \"$cur\"))\n"
	"\tfi\n"
	"\t# bash replaces only what follows the word's last ':' or '=' (its $2)\n"
	"\tlocal cut=\n"
	"\t[[ $cur == *\"$2\" ]] && cut=${cur:0:${#cur} - ${#2}}\n"
	"\tfor i in \"${!COMPREPLY[@]}\"; do\n"
	"\t\tCOMPREPLY[i]=${COMPREPLY[i]#\"$cut\"}\n"
	"\tdone\n"
	"}\n"
	"\n"
	"complete -F _slipway slipway\n";

/* What an option's value is, for _slipway_values: what completes it. */
static const char *value_kind(const struct opt *o)
{
	if (o->kind == OPT_KIND_FLAG)
		return "flag";
	if (o->long_name && !strcmp(o->long_name, "remote"))
		return "remote";
	if (o->value_name && !strcmp(o->value_name, "APP"))
		return "app";
	if (o->value_name && !strcmp(o->value_name, "DIR"))
		return "dir";
	return "value";
}

/* cmd's options as --help lists them, "-a=app --app=app --json=flag ...". */
static void put_options(FILE *f, const struct cmd *cmd)
{
	const struct opt *groups[4];
	const char *sep = "";
	cli_option_groups(cmd, groups);
	for (size_t g = 0; groups[g]; g++) {
		for (const struct opt *o = groups[g]; o->kind != OPT_KIND_END; o++) {
			if (o->flags & OPT_HIDDEN)
				continue;
			if (o->short_name) {
				fprintf(f, "%s-%c=%s", sep, o->short_name, value_kind(o));
				sep = " ";
			}
			if (o->long_name) {
				fprintf(f, "%s--%s=%s", sep, o->long_name, value_kind(o));
				sep = " ";
			}
		}
	}
}

void completion_write_bash(FILE *f)
{
	const char *sep = "";
	fputs(head, f);
	fputs("# the commands help lists\n_slipway_commands='", f);
	for (const struct cmd *c = cli_commands; c->name; c++) {
		if (c->flags & CMD_HIDDEN)
			continue;
		fprintf(f, "%s%s", sep, c->name);
		sep = " ";
	}
	fputs("'\n\n"
	      "# _slipway_options COMMAND: its options, each as WORD=KIND (KIND: flag when it\n"
	      "# takes no value, else what the value is: app, remote, dir or value)\n"
	      "_slipway_options()\n{\n\tcase $1 in\n",
	      f);
	for (const struct cmd *c = cli_commands; c->name; c++) {
		if (c->flags & CMD_HIDDEN)
			continue;
		fprintf(f, "\t%s) echo '", c->name);
		put_options(f, c);
		fputs("' ;;\n", f);
	}
	fputs("\tesac\n}\n\n", f);
	fputs(body, f);
}
