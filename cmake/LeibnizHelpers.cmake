# add_leibniz_library(name SOURCES... [DEPENDS targets...]
#                     [MLIR_LIBS libs...] [LINK_LIBS libs...])
#
# A static library of Leibniz code. MLIR libraries named in MLIR_LIBS are
# linked through mlir_target_link_libraries, which resolves to libMLIR.so when
# MLIR_LINK_MLIR_DYLIB is on; LLVM comes from libLLVM.so.
function(add_leibniz_library name)
  cmake_parse_arguments(ARG "" "" "DEPENDS;MLIR_LIBS;LINK_LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_UNPARSED_ARGUMENTS})
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
  add_dependencies(${name} mlir-headers)
  mlir_target_link_libraries(${name} PUBLIC ${ARG_MLIR_LIBS})
  target_link_libraries(${name} PUBLIC LLVM ${ARG_LINK_LIBS})
  add_dependencies(leibniz-libraries ${name})
endfunction()
