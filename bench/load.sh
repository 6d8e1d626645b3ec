# shellcheck shell=bash disable=SC2154,SC2034
# ($out comes from the script that sources this file; OTHERS is read there)
# Sourced by the bench scripts (run.sh, all.sh): how busy the machine is while we measure.
# Needs $out (a writable folder) and bc. Other sessions sharing the cores skew the
# figures, -j2 most, so every series says how much of the machine others used.
#
#   wait_quiet            wait (up to QUIET_MAX_S, default 60 s) for < 10% busy over 0.5 s
#   series_begin          start counting
#   series_end            sets OTHERS: percent of wall time x cores used by other processes
#                         since series_begin (machine-wide busy CPU time from /proc/stat
#                         minus the CPU time of our own finished children, bash `times`)

children_cpu() { # sets CCPU: seconds of user+sys of our finished children (no subshell:
    times >"$out/times.txt"                       # `times` must run in this shell)
    CCPU=$(sed -n 2p "$out/times.txt" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } printf "%.3f", t }')
}
machine_busy() { local _ u n s; read -r _ u n s _ </proc/stat; echo $(( u + n + s )); }
hz=$(getconf CLK_TCK)
series_begin() { SB_BUSY=$(machine_busy); children_cpu; SB_CPU=$CCPU; SB_T=$EPOCHREALTIME; }
series_end() { # sets OTHERS: percent of the machine used by others since series_begin
    local busy t
    busy=$(machine_busy); children_cpu; t=$EPOCHREALTIME
    OTHERS=$(echo "scale=3; o = (($busy - $SB_BUSY) / $hz - ($CCPU - $SB_CPU)) / (($t - $SB_T) * $(nproc)) * 100; if (o < 0) o = 0; o" | bc)
}
# Waits (up to QUIET_MAX_S seconds, default 60) for the machine to be quiet: < 10% busy
# over half a second. Returns 1 (after saying so) when it stayed busy.
wait_quiet() {
    local i a b
    for ((i = 0; i < ${QUIET_MAX_S:-60} * 2; i++)); do
        a=$(machine_busy); sleep 0.5; b=$(machine_busy)
        (( (b - a) * 200 < 10 * hz * $(nproc) )) && return 0
    done
    echo "$(basename "$0"): the machine stayed busy; measuring anyway" >&2
    return 1
}
