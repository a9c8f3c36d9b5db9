# Fetching Debian packages for another architecture without touching the system's apt
# configuration, shared by tools/setup.sh (libfdt for ARM) and tools/fetch-linux.sh (dom0's
# kernel and busybox). Sourced, not run. It provides:
#
#   debian_mirror              prints the Debian mirror the system's apt sources name, or
#                              fails (status 1) if they name none: no mirror is ever made up
#   debian_apt_init DIR MIRROR SUITE ARCH
#                              private apt state in DIR (lists, cache, an empty dpkg status,
#                              one source line), its options in the array debian_aptopts,
#                              and apt's output collected in $debian_log (DIR/apt.log)
#   debian_try CMD...          runs CMD with its output in the log; once more after a pause
#                              if it fails (a mirror's transient error), and returns its status.
#                              Give apt-get update --error-on=any: without it, lists that
#                              could not be fetched are only a warning and the update "passes".
#   debian_apt_said            prints the end of the log, apt's own words, indented
#
# HYPMEM_APT_ETC (default /etc/apt) is where the system's sources are read: the folder with
# sources.list and sources.list.d/. Tests point it at a folder of their own.

debian_mirror() {
    local etc=${HYPMEM_APT_ETC:-/etc/apt} mirror

    # deb822 sources first (bookworm's default), then the one-line format.
    mirror=$(sed -n 's/^URIs:[[:space:]]*\(http[^[:space:]]*\/debian\)[[:space:]]*$/\1/p' \
                 "$etc"/sources.list.d/*.sources 2>/dev/null | head -n 1)
    if [ -z "$mirror" ]; then
        mirror=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\(http[^[:space:]]*\/debian\)[[:space:]].*/\2/p' \
                     "$etc"/sources.list "$etc"/sources.list.d/*.list 2>/dev/null | head -n 1)
    fi
    [ -n "$mirror" ] || return 1
    printf '%s\n' "$mirror"
}

debian_apt_init() {
    local dir=$1 mirror=$2 suite=$3 arch=$4

    rm -rf "$dir"
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/sources" "$dir/etc"
    echo "deb [arch=$arch] $mirror $suite main" > "$dir/sources/main.list"
    : > "$dir/etc/status"
    debian_aptopts=(-oAPT::Architecture="$arch" -oAPT::Architectures="$arch"
                    -oDir::State::Lists="$dir/lists" -oDir::Cache="$dir/cache"
                    -oDir::State::status="$dir/etc/status"
                    -oDir::Etc::SourceList=/dev/null -oDir::Etc::SourceParts="$dir/sources"
                    -oDebug::NoLocking=1)
    debian_log=$dir/apt.log
    : > "$debian_log"
}

debian_try() {
    "$@" >>"$debian_log" 2>&1 && return 0
    echo "(failed; trying once more)" >>"$debian_log"
    sleep 2
    "$@" >>"$debian_log" 2>&1
}

debian_apt_said() {
    echo "apt said:"
    tail -n 12 "$debian_log" | sed 's/^/  /'
}
