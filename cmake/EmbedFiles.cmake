# cmake -DOUTPUT=file.inc -DFILES="a.lz|b.lz" -P EmbedFiles.cmake
#
# Writes a C++ fragment with one `{"name", "contents"}` initializer per file,
# the contents as a string literal of hexadecimal escapes, so that any file
# embeds exactly.
string(REPLACE "|" ";" FILES "${FILES}")
set(content "")
foreach(file ${FILES})
  get_filename_component(name ${file} NAME)
  file(READ ${file} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
  # Break the literal into lines of 32 bytes.
  string(REGEX REPLACE "((\\\\x[0-9a-f][0-9a-f]){32})" "\\1\"\n    \"" escaped
         "${escaped}")
  string(APPEND content "{\"${name}\",\n    \"${escaped}\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp "${content}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUTPUT}.tmp
                        ${OUTPUT})
