# cmake -DCHECKED_IN=<file> -DGENERATED=<file> -P CompareDocOutlines.cmake
#
# Fails when a checked-in reference generated from ODS no longer matches
# what the current ODS generates, comparing its outline: the headings (one
# per op, pass, section) and the assembly syntax lines. The prose may differ
# with the mlir-tblgen version; a missing, renamed or reshaped op or pass
# may not.
file(STRINGS "${CHECKED_IN}" checked REGEX "^(#|operation ::=)")
file(STRINGS "${GENERATED}" generated REGEX "^(#|operation ::=)")
if(NOT checked STREQUAL generated)
  message(FATAL_ERROR "${CHECKED_IN} is stale; run scripts/update-docs.sh")
endif()
