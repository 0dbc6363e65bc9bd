# Runs XTF test kernels as domUs in dom0, the way XTF's own runner (xtf-runner, console mode) does, for
# scripts/xtf-domu.sh, which puts this file at /xtf/run.sh next to the kernels and their xl configs
# (/xtf/tests/NAME/test-ENV-NAME[~VARIATION].cfg) and the list of instances to run (/xtf/list, one
# NAME[~VARIATION] a line). dom0 has busybox, not python, so this is a shell rendering of the runner's steps:
#   xl create -p CFG; xl console VM (its output is the test's log); xl unpause VM; wait for the console to
#   end (the domain is gone); the result is read from the console's LAST line as xtf-runner reads it.
# Differences from xtf-runner: `xl unpause` waits until `xl console` has the console open, and when the
# console lost its last lines the verdict is taken from xenconsoled's log, with a note (both below). For an
# unattended run, a test whose domain is still there after LIMIT seconds is destroyed and reported CRASH with
# "timeout" in its note, and an `xl create` that fails is reported CRASH with xl's message instead of ending
# the run.
#
# Output on the console, one block per test, every line prefixed so the host can pick them out of dom0's
# kernel messages:
#   XTFD-BEGIN NAME
#   XTFD| <console line>              (what `xl console` printed)
#   XTFL| <log line>                  (xenconsoled's log of the same console, for a test that did not succeed
#                                      or has a note: tells a test's own crash from output `xl console` missed)
#   XTFD-END NAME RESULT SECS NOTE    (SECS from xl create to the end of the console; NOTE "-" or a reason)
# framed by "XTFD-FREE before MiB" and, after the last test, "XTFD-FREE after MiB" (xl info's free_memory once
# it is back where it started, or after 30 s: every test's memory must have returned) and "XTFD-DONE N".
#
# usage (in dom0): sh /xtf/run.sh [ENV [LIMIT]]       ENV defaults to pv64, LIMIT to 300 s

env=${1:-pv64}
limit=${2:-300}
out=/tmp/xtf
mkdir -p $out

now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# xtf-runner's interpret_result: no "Test result:" in the last line is a crash; otherwise the first of its
# result words found in that line.
interpret() {
    case "$1" in
    *"Test result:"*) ;;
    *) echo CRASH; return ;;
    esac
    for r in SUCCESS SKIP ERROR FAILURE CRASH; do
        case "$1" in *"$r"*) echo $r; return ;; esac
    done
    echo CRASH
}

free_mib() { xl info | sed -n 's/^free_memory *: //p'; }
before=$(free_mib)
echo "XTFD-FREE before $before"
n=0
for t in $(cat /xtf/list); do
    n=$((n + 1))
    vm=test-$env-$t
    cfg=/xtf/tests/${t%%~*}/$vm.cfg
    note=-
    echo "XTFD-BEGIN $t"
    t0=$(now)
    log=/var/log/xen/console/guest-$vm.log
    : > $out/$t.console
    rm -f $log
    if ! xl create -p "$cfg" > $out/$t.create 2>&1; then
        note="xl create failed: $(grep -v '^Parsing config' $out/$t.create | tail -2 | tr '\n\t' '  ')"
    else
        xl console "$vm" > $out/$t.console 2> $out/$t.cerr &
        cpid=$!
        # xenconsole has attached once it holds the domain's pty open; only then unpause, or a test that runs
        # faster than xl and xenconsole start (the norm under TCG) is gone before its console can be opened.
        w=0
        while kill -0 $cpid 2> /dev/null && ! ls -l /proc/$cpid/fd 2> /dev/null | grep -q /dev/pts/ &&
            [ $w -lt 300 ]; do
            w=$((w + 1))
            sleep 0.1
        done
        if ! xl unpause "$vm" > $out/$t.unpause 2>&1; then
            note="xl unpause failed: $(tail -1 $out/$t.unpause)"
            xl destroy "$vm" > /dev/null 2>&1
        fi
        while kill -0 $cpid 2> /dev/null; do
            if [ "$(since "$t0" | cut -d. -f1)" -ge "$limit" ]; then
                note="timeout: still running after $limit s, destroyed"
                xl destroy "$vm" > /dev/null 2>&1
                sleep 2
                kill $cpid 2> /dev/null
                break
            fi
            sleep 0.2
        done
        wait $cpid
        crc=$?
        [ $crc = 0 ] || [ "$note" != - ] || note="xl console exited with $crc: $(tail -1 $out/$t.cerr)"
    fi
    secs=$(since "$t0")
    tr -d '\r' < $out/$t.console | sed 's/^/XTFD| /'
    # The console ends when the domain is gone; one still listed was left behind by something above.
    if xl domid "$vm" > /dev/null 2>&1; then
        [ "$note" != - ] || note="domain still present after its console ended, destroyed"
        xl destroy "$vm" > /dev/null 2>&1
    fi
    res=$(interpret "$(tr -d '\r' < $out/$t.console | tail -n 1)")
    # xenconsoled logs what it takes from the ring at once, and XTF waits for the ring to be drained before it
    # shuts down, so the log has every line; `xl console` can still lose its last lines when xenconsole sees
    # the domain's console go away before it has read them. Then, and only then, the result is the log's
    # verdict, as xtf-runner's logfile mode reads it, and the note says so.
    if ! grep -q "Test result:" $out/$t.console && grep -q "Test result:" $log && [ "$note" = - ]; then
        res=$(interpret "$(grep -m1 "Test result:" $log)")
        note="xl console missed the end of the output; result from xenconsoled's log"
    fi
    [ $res = SUCCESS ] && [ "$note" = - ] || tr -d '\r' < $log 2> /dev/null | sed 's/^/XTFL| /'
    echo "XTFD-END $t $res $secs $note"
done
w=0
while [ "$(free_mib)" != "$before" ] && [ $w -lt 60 ]; do w=$((w + 1)); sleep 0.5; done
echo "XTFD-FREE after $(free_mib)"
echo "XTFD-DONE $n"
