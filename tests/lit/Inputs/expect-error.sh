#!/bin/sh
# Runs a command that must fail the way odlc promises: exit code 1, exactly one line on stderr
# starting with "odlc: error: ", nothing on stdout. Prints the stderr line for FileCheck.
out=$("$@" 2>/tmp/odlc-lit-stderr.$$)
code=$?
err=$(cat /tmp/odlc-lit-stderr.$$)
rm -f /tmp/odlc-lit-stderr.$$
lines=$(printf '%s\n' "$err" | wc -l)
printf '%s\n' "$err"
[ "$code" -eq 1 ] || { echo "expect-error: exit code $code, expected 1"; exit 1; }
[ "$lines" -eq 1 ] || { echo "expect-error: $lines lines on stderr, expected 1"; exit 1; }
case $err in "odlc: error: "*) ;; *) echo "expect-error: no 'odlc: error: ' prefix"; exit 1 ;; esac
[ -z "$out" ] || { echo "expect-error: unexpected stdout: $out"; exit 1; }
exit 0
