#!/bin/sh
# Makes the manual pages slipway-TOPIC(1), one per command topic (apps,
# releases, pg, ...), from the command table:
#   docs/slipway-topic.1.sh LOWDOWN DOCGEN OUTDIR
# DOCGEN (slipway-docgen) lists the topics and prints each page's markdown
# (cli/docgen.c); lowdown turns it into roff.  Each page is written aside
# and renamed into place, never seen half-written; the pages of topics
# that are gone are removed.  OUTDIR/slipway-topic.stamp says when.
set -eu
lowdown=$1 docgen=$2 out=$3
mkdir -p "$out"
topics=$("$docgen" topics)
tmp="$out/.slipway-topic.$$"
trap 'rm -f "$tmp" "$tmp.md"' EXIT
for topic in $topics; do
	"$docgen" man "$topic" >"$tmp.md"
	"$lowdown" -s -Tman --out-no-smarty --nroff-nolinks "$tmp.md" >"$tmp"
	mv "$tmp" "$out/slipway-$topic.1"
done
for page in "$out"/slipway-*.1; do
	[ -e "$page" ] || continue
	name=${page##*/slipway-}
	case " $(echo $topics) " in
	*" ${name%.1} "*) ;;
	*) rm -f "$page" ;;
	esac
done
touch "$out/slipway-topic.stamp"
