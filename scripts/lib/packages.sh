# scripts/lib/packages.sh - installs missing Debian packages, the one way scripts/test,
# scripts/run, scripts/bench and scripts/container-test do it. Sourced, not run.
#
# install_missing PKG...: installs those PKG that dpkg does not list as installed, with
#   apt-get update first, then apt-get install -y --no-install-recommends, under
#   DEBIAN_FRONTEND=noninteractive and with stdin from /dev/null (CI has no stdin). As root it
#   calls apt-get directly; otherwise through sudo, non-interactively (sudo -n) unless a
#   terminal is attached, where sudo may ask for the password. Returns 0 when nothing was
#   missing or everything installed; otherwise prints why on stderr and returns 1.
#   PACKAGES_QUIET=1 hides apt-get's own output (scripts/bench keeps its terminal for results).

# package_installed PKG: dpkg lists PKG as installed.
package_installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]; }

install_missing()
{
	local missing=() p
	for p in "$@"; do
		package_installed "$p" || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	echo "# installing missing packages: ${missing[*]}"
	local sudo=()
	if ((EUID != 0)); then
		if ! command -v sudo >/dev/null 2>&1; then
			echo "missing packages (${missing[*]}) and not root, without sudo: install them first" >&2
			return 1
		fi
		sudo=(sudo)
		[[ -t 0 ]] || sudo+=(-n)
	fi
	local out=/dev/stdout
	[[ ${PACKAGES_QUIET:-0} == 1 ]] && out=/dev/null
	# Bounded: a hung mirror must not hang CI for hours.
	if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update </dev/null >"$out" ||
		! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive timeout 900 \
			apt-get install -y --no-install-recommends "${missing[@]}" </dev/null >"$out"; then
		echo "could not install: ${missing[*]}" >&2
		return 1
	fi
}
