#!/bin/bash
# Completes a line as bash does on TAB, with the completion script of
# `slipway completion bash`:
#   bash tests/cli/complete.sh SCRIPT LINE
# sources SCRIPT and calls _slipway as bash would with the cursor at the end
# of LINE: COMP_WORDS split at blanks and around the runs of ':' and '=' of
# COMP_WORDBREAKS, an empty last word after a blank, and the function's $2
# what follows the last ':' or '=' ("slipway releases:" is the words
# slipway, releases and ':', with $2 empty).  Prints COMPREPLY, one a line.
source "$1" || exit 1
line=$2
COMP_WORDS=()
read -ra parts <<<"$line"
for p in "${parts[@]}"; do
	while [[ $p =~ ^[:=]+ || $p =~ ^[^:=]+ ]]; do
		COMP_WORDS+=("${BASH_REMATCH[0]}")
		p=${p:${#BASH_REMATCH[0]}}
	done
done
[[ $line == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=$line
COMP_POINT=${#line}
cur=${COMP_WORDS[COMP_CWORD]}
[[ $cur == [:=]* ]] && cur=
_slipway slipway "$cur" "${COMP_WORDS[COMP_CWORD - 1]}"
((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}"
exit 0
