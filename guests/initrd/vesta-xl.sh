# Shell helpers for the xl harness (tests/xl/run_xl.py), sourced in dom0's shell as /etc/vesta-xl.sh. They keep
# the typed commands short and take their times inside dom0 (kernel uptime, 10 ms steps), not over the serial
# line. Each prints its result as one "VX ..." line; domU consoles are read from xenconsoled's logs. Variables are
# local: the helpers call each other.

vx_now() { cut -d' ' -f1 /proc/uptime; }
vx_since() { awk -v a="$1" -v b="$(vx_now)" 'BEGIN { printf "%.2f", b - a }'; }
vx_log() { echo "/var/log/xen/console/guest-$1.log"; }
vx_count() { local n; n=$(grep -c -- "$2" "$(vx_log "$1")" 2>/dev/null); echo "${n:-0}"; }
vx_free() { xl info | sed -n 's/^free_memory *: //p'; }

# vx_wait NAME REGEX [SECONDS [COUNT]]: until domain NAME's console log has COUNT lines matching REGEX.
vx_wait() {
    local _t0
    _t0=$(vx_now)
    while [ "$(vx_count "$1" "$2")" -lt "${4:-1}" ]; do
        if [ "$(vx_since "$_t0" | cut -d. -f1)" -ge "${3:-120}" ]; then
            echo "VX wait-timeout $1 after ${3:-120} s: $(vx_count "$1" "$2") of ${4:-1} lines /$2/"
            return 1
        fi
        sleep 0.2
    done
    echo "VX waited $1 $(vx_since "$_t0")"
}

# vx_create NAME REGEX XL-CREATE-ARGS...: `xl create`, then waits for the domain's first console byte and for a
# line matching REGEX. Prints the three times, each from just before xl create.
vx_create() {
    local _n _re _t0 _rc _tc _tf
    _n=$1 _re=$2
    shift 2
    rm -f "$(vx_log "$_n")"
    _t0=$(vx_now)
    xl create "$@"
    _rc=$?
    _tc=$(vx_since "$_t0")
    if [ $_rc != 0 ]; then echo "VX create-failed $_n rc=$_rc after $_tc s"; return 1; fi
    while [ ! -s "$(vx_log "$_n")" ]; do
        [ "$(vx_since "$_t0" | cut -d. -f1)" -lt 180 ] || { echo "VX create-silent $_n"; return 1; }
        sleep 0.1
    done
    _tf=$(vx_since "$_t0")
    while ! grep -q -- "$_re" "$(vx_log "$_n")"; do
        [ "$(vx_since "$_t0" | cut -d. -f1)" -lt 240 ] || { echo "VX create-noresult $_n first=$_tf"; return 1; }
        sleep 0.1
    done
    echo "VX created $_n return=$_tc first=$_tf result=$(vx_since "$_t0") domid=$(xl domid "$_n")"
}

# vx_timed CMD...: runs CMD and prints its exit code and wall time.
vx_timed() {
    local _t0 _rc
    _t0=$(vx_now)
    "$@"
    _rc=$?
    echo "VX timed rc=$_rc secs=$(vx_since "$_t0")"
}

# vx_gone NAME [SECONDS]: until no domain is called NAME.
vx_gone() {
    local _t0 _l
    _t0=$(vx_now)
    # Gone means a successful `xl list` without it: a failing `xl domid` could also be xl itself failing (on the
    # reference, Xen under TCG sometimes crashes dom0 processes).
    while ! _l=$(xl list 2>/dev/null) || echo "$_l" | grep -q "^$1 "; do
        [ "$(vx_since "$_t0" | cut -d. -f1)" -lt "${2:-60}" ] || { echo "VX still-there $1"; return 1; }
        sleep 0.2
    done
    echo "VX gone $1 $(vx_since "$_t0")"
}

# vx_settle FREE [SECONDS]: until xl info's free_memory is FREE again (a destroyed domain's memory returns to
# the hypervisor once its last reference is dropped, a moment after xl destroy). Prints the value it ended at.
vx_settle() {
    local _t0
    _t0=$(vx_now)
    while [ "$(vx_free)" != "$1" ] && [ "$(vx_since "$_t0" | cut -d. -f1)" -lt "${2:-20}" ]; do sleep 0.5; done
    echo "VX free $(vx_free) after $(vx_since "$_t0")"
}

# vx_median FILE: the median of the numbers in FILE, one a line.
vx_median() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# vx_cycles N CFG: N times create a domain from CFG named cyc, wait for its banner, destroy it. Also prints the
# median times of `xl create` and of `xl destroy` (of the running domain).
vx_cycles() {
    local _ok _bad _t0 _t _i
    _ok=0 _bad=0
    rm -f "$(vx_log cyc)" /tmp/vx-cyc.create /tmp/vx-cyc.destroy
    _t0=$(vx_now)
    _i=0
    while [ $_i -lt "$1" ]; do
        _i=$((_i + 1))
        _t=$(vx_now)
        if xl create -q "$2" 'name="cyc"' >/tmp/vx-cyc.err 2>&1 && echo "$(vx_since "$_t")" >>/tmp/vx-cyc.create &&
            vx_wait cyc "VESTA-TINY: up" 60 $_i >/dev/null && _t=$(vx_now) &&
            xl destroy cyc >>/tmp/vx-cyc.err 2>&1 && echo "$(vx_since "$_t")" >>/tmp/vx-cyc.destroy; then
            _ok=$((_ok + 1))
        else
            _bad=$((_bad + 1))
            echo "VX cycle $_i failed: $(tail -3 /tmp/vx-cyc.err | tr '\n' ' ')"
            xl destroy cyc >/dev/null 2>&1
        fi
    done
    echo "VX cycles ok=$_ok failed=$_bad banners=$(vx_count cyc 'VESTA-TINY: up') secs=$(vx_since "$_t0")" \
        "create_median=$(vx_median /tmp/vx-cyc.create) destroy_median=$(vx_median /tmp/vx-cyc.destroy)"
}

# vx_density MAX CFG: creates domains d1, d2, ... from CFG until MAX exist or xl create fails (out of memory).
vx_density() {
    local _t0 _i _tc _up _j
    _t0=$(vx_now)
    _i=0
    rm -f /var/log/xen/console/guest-d[0-9]*.log
    while [ $_i -lt "$1" ]; do
        xl create -q "$2" "name=\"d$((_i + 1))\"" >/tmp/vx-density.err 2>&1 || break
        _i=$((_i + 1))
    done
    _tc=$(vx_since "$_t0")
    _up=0 _j=0
    while [ $_j -lt $_i ]; do
        _j=$((_j + 1))
        vx_wait "d$_j" "VESTA-TINY: up" 60 >/dev/null && _up=$((_up + 1))
    done
    echo "VX density created=$_i up=$_up create_secs=$_tc all_up_secs=$(vx_since "$_t0")"
    [ $_i -lt "$1" ] && echo "VX density-stop: $(grep -v '^Parsing' /tmp/vx-density.err | head -2 | tr '\n' ' ')"
    return 0
}

# vx_destroy_all PREFIX COUNT: destroys PREFIX1..PREFIXCOUNT.
vx_destroy_all() {
    local _t0 _bad _j
    _t0=$(vx_now)
    _bad=0 _j=0
    while [ $_j -lt "$2" ]; do
        _j=$((_j + 1))
        xl destroy "$1$_j" || _bad=$((_bad + 1))
    done
    echo "VX destroyed $2 failed=$_bad secs=$(vx_since "$_t0")"
}

# vx_xsrate N: xenstore requests per second. One xenstore-write (one connection, one transaction, N XS_WRITE
# requests) and one xenstore-read of the N keys, first over oxenstored's Unix socket (the daemon alone), then
# over /dev/xen/xenbus (dom0's kernel ring to oxenstored and event channels through the hypervisor); then N/10
# separate xenstore-read processes, which is what a shell script pays per access.
vx_xsrate() {
    local _args _keys _via _t0 _rc _tw _got _tr _m _j
    _args=$(seq 1 "$1" | sed 's|.*|/vx/k& v&|')
    _keys=$(seq 1 "$1" | sed 's|.*|/vx/k&|')
    for _via in socket xenbus; do
        if [ $_via = xenbus ]; then export XENSTORED_PATH=/dev/xen/xenbus; fi
        _t0=$(vx_now); xenstore-write $_args; _rc=$?; _tw=$(vx_since "$_t0")
        _t0=$(vx_now); _got=$(xenstore-read $_keys | grep -c '^v'); _tr=$(vx_since "$_t0")
        echo "VX xsrate via=$_via n=$1 write_rc=$_rc write_secs=$_tw read_ok=$_got read_secs=$_tr"
        xenstore-rm /vx
        unset XENSTORED_PATH
    done
    _m=$(($1 / 10))
    xenstore-write /vx/one v1
    _t0=$(vx_now)
    _j=0
    while [ $_j -lt $_m ]; do _j=$((_j + 1)); xenstore-read /vx/one >/dev/null; done
    echo "VX xsrate via=process n=$_m secs=$(vx_since "$_t0")"
    xenstore-rm /vx
}
