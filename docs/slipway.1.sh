#!/bin/sh
# Makes the manual page slipway(1) from the docs' markdown:
#   docs/slipway.1.sh LOWDOWN DOCS_DIR OUT
# The page is docs/slipway.1.md (NAME, SYNOPSIS, DESCRIPTION ...) followed by
# the command reference (commands.md) and the settings reference
# (settings.md), each under its title in capitals, as man pages name their
# sections.  Their tables become definition lists, which read better in a
# terminal than a table as wide as the screen: the first cell is the term,
# a "what ..." column its text, and the other cells follow in brackets,
# each with its column's name.  lowdown turns the result into roff.  OUT is
# written aside and renamed into place, never seen half-written.
set -eu
lowdown=$1 docs=$2 out=$3
tmp="$out.tmp.$$"
trap 'rm -f "$tmp" "$tmp.md"' EXIT
reference() {
	awk '
	function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
	# the cells of a table row, split on | but not on \|
	function cells(line, out,   n, i, c, s) {
		gsub(/\\\|/, "\001", line)
		sub(/^\|/, "", line); sub(/\|[ \t]*$/, "", line)
		n = split(line, out, "|")
		for (i = 1; i <= n; i++) { s = trim(out[i]); gsub("\001", "|", s); out[i] = s }
		return n
	}
	NR == 1 { sub(/^# /, ""); print "# " toupper($0); next }
	/^```/ { code = !code }
	!code && /^\|/ {
		if (!inrow) { nh = cells($0, head); inrow = 1; getline; next }
		n = cells($0, c); text = ""; extra = ""
		for (i = 2; i <= n; i++) {
			if (head[i] ~ /^what/) text = c[i]
			else if (c[i] != "") extra = extra (extra == "" ? "" : "; ") head[i] ": " c[i]
		}
		print c[1]; print ": " text (extra == "" ? "" : (text == "" ? "" : " ") "(" extra ")"); print ""
		next
	}
	{ inrow = 0; print }
	' "$1"
}
{
	cat "$docs/slipway.1.md"
	reference "$docs/commands.md"
	echo
	reference "$docs/settings.md"
} >"$tmp.md"
"$lowdown" -s -Tman --out-no-smarty --nroff-nolinks "$tmp.md" >"$tmp"
mv "$tmp" "$out"
