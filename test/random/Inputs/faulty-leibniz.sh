#!/bin/sh
# leibniz ($LEIBNIZ) with a planted fault, for the test of the differential
# test itself: `run -O2` of a program that calls cos prints every number
# with one more digit.
if [ "$1" = run ] && [ "$2" = -O2 ] && grep -q 'cos(' "$3"; then
  "$LEIBNIZ" "$@" | sed -E 's/([0-9])([,)]|$)/\19\2/g'
  exit 0
fi
exec "$LEIBNIZ" "$@"
