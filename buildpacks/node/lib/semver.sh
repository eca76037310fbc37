# lib/semver.sh, sourced by bin/compile: a small semver range matcher for
# engines.node: x, 18, 18.x, 18.2.x, 18.2.0, =, >, >=, <, <=,
# ^, ~, several comparators in a row (AND) and alternatives with ||.
# Not supported (never satisfied): hyphen ranges (1 - 2), pre-release tags
# and names such as lts/*.

# Sets M m p from a version ("18", "18.2", "v18.2.0", "18.x"): missing or
# wildcard parts are x; 1 if it is not a version.
semver_split() {
	_v=${1#v}
	_ifs=$IFS
	IFS=.
	# shellcheck disable=SC2086
	set -- $_v
	IFS=$_ifs
	M=${1:-x} m=${2:-x} p=${3:-x}
	[ $# -le 3 ] || return 1
	for _part in M m p; do
		eval "_x=\$$_part"
		case $_x in
		x | X | '*') eval "$_part=x" ;;
		'' | *[!0-9]*) return 1 ;;
		esac
	done
	[ "$M" != x ] || { m=x p=x; }
	[ "$m" != x ] || p=x
}

# 0 if version a1.a2.a3 is less than b1.b2.b3 (all numbers).
semver_lt() {
	[ "$1" -lt "$4" ] || { [ "$1" -eq "$4" ] && { [ "$2" -lt "$5" ] ||
		{ [ "$2" -eq "$5" ] && [ "$3" -lt "$6" ]; }; }; }
}

# 0 if the version (three numbers in $1 $2 $3) satisfies one comparator $4.
semver_cmp() {
	_a=$1 _b=$2 _c=$3 _op= _r=$4
	case $_r in
	'>='* | '<='*) _op=${_r%"${_r#??}"} _r=${_r#??} ;;
	'>'* | '<'* | '='* | '^'* | '~'*) _op=${_r%"${_r#?}"} _r=${_r#?} ;;
	esac
	case $_r in latest | '') _r=x ;; esac
	semver_split "$_r" || return 1
	[ "$M" != x ] || { [ "$_op" != '>' ] && [ "$_op" != '<' ]; return; }
	lm=$m lp=$p
	[ "$lm" != x ] || lm=0
	[ "$lp" != x ] || lp=0
	case $_op in
	'' | '=')
		[ "$_a" -eq "$M" ] && { [ "$m" = x ] || [ "$_b" -eq "$m" ]; } &&
			{ [ "$p" = x ] || [ "$_c" -eq "$p" ]; } ;;
	'>=') ! semver_lt "$_a" "$_b" "$_c" "$M" "$lm" "$lp" ;;
	'<') semver_lt "$_a" "$_b" "$_c" "$M" "$lm" "$lp" ;;
	'>')
		if [ "$m" = x ]; then [ "$_a" -gt "$M" ]
		elif [ "$p" = x ]; then semver_lt "$M" "$m" 999999999 "$_a" "$_b" "$_c"
		else semver_lt "$M" "$m" "$p" "$_a" "$_b" "$_c"; fi ;;
	'<=')
		if [ "$m" = x ]; then [ "$_a" -le "$M" ]
		elif [ "$p" = x ]; then semver_lt "$_a" "$_b" 0 "$M" $((m + 1)) 0
		else ! semver_lt "$M" "$m" "$p" "$_a" "$_b" "$_c"; fi ;;
	'~' | '^')
		semver_lt "$_a" "$_b" "$_c" "$M" "$lm" "$lp" && return 1
		[ "$_a" -eq "$M" ] || return 1
		if { [ "$_op" = '^' ] && [ "$M" -gt 0 ]; } || [ "$m" = x ]; then
			return 0
		fi
		[ "$_b" -eq "$m" ] || return 1
		[ "$_op" = '~' ] || [ "$m" -gt 0 ] || [ "$p" = x ] || [ "$_c" -eq "$p" ]
		;;
	*) return 1 ;;
	esac
}

# 0 if version $1 (like 20.20.2) satisfies range $2.
semver_satisfies() {
	semver_split "$1" && [ "$p" != x ] || return 1
	_va=$M _vb=$m _vc=$p
	_rest=$2
	while :; do
		case $_rest in
		*'||'*) _alt=${_rest%%'||'*} _rest=${_rest#*'||'} ;;
		*) _alt=$_rest _rest= ;;
		esac
		_ok=0 _pending=
		# shellcheck disable=SC2086
		set -f
		for _t in $_alt; do
			case $_t in
			'>' | '<' | '>=' | '<=' | '=' | '^' | '~') _pending=$_t; continue ;;
			esac
			if ! semver_cmp "$_va" "$_vb" "$_vc" "$_pending$_t"; then _ok=1; fi
			_pending=
		done
		set +f
		[ -z "$_pending" ] || _ok=1
		[ "$_ok" -ne 0 ] || return 0
		[ -n "$_rest" ] || return 1
	done
}
