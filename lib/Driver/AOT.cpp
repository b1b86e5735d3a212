//===- AOT.cpp - Ahead-of-time compilation to native code -----------------===//
//
// Part of Leibniz.
//
// The C interface of a compiled library is generated as C source: for each
// exported definition a function that checks the argument shapes, builds
// the memref descriptors that the compiled entry's C interface
// (`_mlir_ciface_*`) takes, calls it under the runtime's guard (so that a
// failed run-time check returns an error code), and hands each tensor
// result to the caller as a buffer of its own, which the caller frees with
// free().
//
//===----------------------------------------------------------------------===//

#include "leibniz/Driver/AOT.h"
#include "leibniz/Conversion/Passes.h"
#include "leibniz/Driver/Optimize.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Target/TargetMachine.h"

#include <set>

using namespace mlir;
using namespace leibniz;
using namespace leibniz::driver;

FailureOr<std::string> leibniz::driver::emitNativeCode(ModuleOp module,
                                                       unsigned optLevel,
                                                       bool assembly) {
  auto targetMachine = createHostTargetMachine(optLevel, /*pic=*/true);
  if (!targetMachine)
    return module.emitError() << "cannot target the host: "
                              << llvm::toString(targetMachine.takeError());

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return module.emitError() << "cannot translate the module to LLVM IR";
  llvmModule->setDataLayout((*targetMachine)->createDataLayout());
  llvmModule->setTargetTriple((*targetMachine)->getTargetTriple());
  if (llvm::Error error =
          optimizeModule(*llvmModule, optLevel, targetMachine->get(),
                         usesVectorMathLibrary(optLevel)))
    return module.emitError()
           << "cannot optimize: " << llvm::toString(std::move(error));

  llvm::SmallString<0> code;
  llvm::raw_svector_ostream os(code);
  llvm::legacy::PassManager passes;
  if ((*targetMachine)
          ->addPassesToEmitFile(passes, os, nullptr,
                                assembly ? llvm::CodeGenFileType::AssemblyFile
                                         : llvm::CodeGenFileType::ObjectFile))
    return module.emitError() << "the host target cannot emit this file type";
  passes.run(*llvmModule);
  return std::string(code.str());
}

//===----------------------------------------------------------------------===//
// The C interface
//===----------------------------------------------------------------------===//

namespace {

/// A scalar or tensor in the C interface: a parameter or result leaf.
struct Leaf {
  std::string name;
  Type type;
};

/// Whether `name` is taken in the interface's C: a C or C++ keyword, a name
/// reserved to the C implementation, a macro or type of the headers that
/// the interface includes or of the compilers (`unix`), `result`, a
/// function that the wrappers call, or a name that starts like the
/// wrappers' own (`lz_`) or the runtime's (`leibniz_`, `LEIBNIZ_`,
/// `_mlir_`).
bool isTakenInC(StringRef name) {
  static const char *const kReserved[] = {
      // C, up to C23.
      "alignas", "alignof", "auto", "bool", "break", "case", "char", "const",
      "constexpr", "continue", "default", "do", "double", "else", "enum",
      "extern", "false", "float", "for", "goto", "if", "inline", "int", "long",
      "nullptr", "register", "restrict", "return", "short", "signed", "sizeof",
      "static", "static_assert", "struct", "switch", "thread_local", "true",
      "typedef", "typeof", "typeof_unqual", "union", "unsigned", "void",
      "volatile", "while",
      // C++, for the header's `extern "C"` block.
      "and", "and_eq", "asm", "bitand", "bitor", "catch", "char8_t", "char16_t",
      "char32_t", "class", "co_await", "co_return", "co_yield", "compl",
      "concept", "consteval", "constinit", "const_cast", "decltype", "delete",
      "dynamic_cast", "explicit", "export", "friend", "mutable", "namespace",
      "new", "noexcept", "not", "not_eq", "operator", "or", "or_eq", "private",
      "protected", "public", "reinterpret_cast", "requires", "static_cast",
      "template", "this", "throw", "try", "typeid", "typename", "using",
      "virtual", "wchar_t", "xor", "xor_eq",
      // The headers' macros and types, and what the wrappers use.
      "NULL", "EOF", "BUFSIZ", "FILENAME_MAX", "FOPEN_MAX", "L_tmpnam",
      "TMP_MAX", "SEEK_SET", "SEEK_CUR", "SEEK_END", "EXIT_SUCCESS",
      "EXIT_FAILURE", "RAND_MAX", "MB_CUR_MAX", "stdin", "stdout", "stderr",
      "unix", "linux", "i386", "size_t", "ptrdiff_t", "intptr_t", "uintptr_t",
      "intmax_t", "uintmax_t", "max_align_t", "FILE", "fpos_t", "div_t",
      "ldiv_t", "lldiv_t", "result", "memset", "memcpy", "malloc", "free",
      "snprintf", "aligned_alloc", "calloc", "realloc"};
  // <stdint.h>'s types (int64_t, uint_least8_t, ...).
  auto isIntType = [&] {
    StringRef rest = name;
    rest.consume_front("u");
    if (!rest.consume_front("int") || !rest.consume_back("_t"))
      return false;
    if (!rest.consume_front("_least"))
      rest.consume_front("_fast");
    return !rest.empty() && llvm::all_of(rest, llvm::isDigit);
  };
  // <stdint.h>'s limits (INT64_MAX, SIZE_MAX, ...).
  auto isLimit = [&] {
    return name.upper() == name &&
           (name.ends_with("_MAX") || name.ends_with("_MIN") ||
            name.ends_with("_WIDTH"));
  };
  bool reservedToC =
      name.starts_with("__") ||
      (name.size() > 1 && name[0] == '_' && llvm::isUpper(name[1]));
  return name.starts_with("lz_") || name.starts_with("_mlir_") ||
         StringRef(name.lower()).starts_with("leibniz_") || reservedToC ||
         isLimit() || isIntType() || llvm::is_contained(kReserved, name);
}

/// `name` as a C identifier of the interface: with a trailing underscore if
/// it is taken.
std::string toCIdentifier(StringRef name) {
  return isTakenInC(name) ? (name + "_").str() : name.str();
}

void flattenLeaves(Type type, const std::string &name,
                   std::vector<Leaf> &leaves) {
  if (auto tuple = dyn_cast<TupleType>(type)) {
    for (auto [i, element] : llvm::enumerate(tuple.getTypes()))
      flattenLeaves(element, name + "_" + std::to_string(i), leaves);
    return;
  }
  leaves.push_back({name, type});
}

FailureOr<std::string> getCType(Type type, std::string &error) {
  if (type.isF64())
    return std::string("double");
  if (type.isF32())
    return std::string("float");
  if (type.isInteger(64) || type.isIndex())
    return std::string("int64_t");
  if (type.isInteger(32))
    return std::string("int32_t");
  if (type.isInteger(1))
    return std::string("bool");
  llvm::raw_string_ostream(error) << "type " << type << " has no C type";
  return failure();
}

/// The C type of a scalar leaf, or of the elements of a tensor leaf.
FailureOr<std::string> getElementCType(const Leaf &leaf, std::string &error) {
  auto tensor = dyn_cast<RankedTensorType>(leaf.type);
  return getCType(tensor ? tensor.getElementType() : leaf.type, error);
}

/// Quotes `text` as a C string literal.
std::string quote(StringRef text) {
  std::string result = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      result += '\\';
    if (c == '\n') {
      result += "\\n";
      continue;
    }
    result += c;
  }
  return result + "\"";
}

class InterfaceWriter {
public:
  InterfaceWriter(StringRef prefix, bool unifiedMemory)
      : prefix(prefix), unifiedMemory(unifiedMemory) {}

  LogicalResult addFunction(const ExportedFunction &function,
                            std::string &error);

  std::string getHeader(StringRef source) const;
  std::string getWrappers() const;

private:
  std::string memrefType(int64_t rank) {
    ranks.insert(rank);
    return "lz_memref_" + std::to_string(rank);
  }

  std::string prefix;
  /// The program's buffers are the CUDA runtime's unified memory: every
  /// tensor result is copied to malloc'ed memory, and the buffers are
  /// freed with the runtime's free.
  bool unifiedMemory;
  std::set<int64_t> ranks;
  std::string declarations; // For the header.
  std::string definitions;  // For the wrappers.
};

LogicalResult InterfaceWriter::addFunction(const ExportedFunction &function,
                                           std::string &error) {
  std::string cName = prefix + "_" + function.name;
  std::vector<Leaf> params, results;
  for (auto [i, type] : llvm::enumerate(function.type.getInputs()))
    flattenLeaves(type, function.paramNames[i], params);
  // The parameters' C names, and their shapes' (`x_shape`), are distinct,
  // and none is the result type's: of two that would be the same (`int_`
  // after `int`, a tensor `x` after `x_shape`), the later takes more
  // underscores.
  llvm::StringSet<> used;
  used.insert(cName + "_result");
  for (Leaf &leaf : params) {
    leaf.name = toCIdentifier(leaf.name);
    bool hasShape = isa<RankedTensorType>(leaf.type);
    while (used.contains(leaf.name) ||
           (hasShape && used.contains(leaf.name + "_shape")))
      leaf.name += "_";
    used.insert(leaf.name);
    if (hasShape)
      used.insert(leaf.name + "_shape");
  }
  ArrayRef<Type> resultTypes = function.type.getResults();
  if (resultTypes.size() == 1 && isa<TupleType>(resultTypes[0]))
    resultTypes = cast<TupleType>(resultTypes[0]).getTypes();
  for (auto [i, type] : llvm::enumerate(resultTypes))
    flattenLeaves(type, "r" + std::to_string(i), results);

  // The header: the result struct and the prototype.
  std::string &h = declarations;
  h += "\n/* " + function.name + "(";
  for (auto [i, name] : llvm::enumerate(function.paramNames))
    h += (i ? ", " : "") + name + ": " + function.paramTypes[i];
  h += ") -> " + function.resultType + " */\n";
  std::string resultStruct = cName + "_result";
  h += "typedef struct " + resultStruct + " {\n";
  for (const Leaf &leaf : results) {
    auto tensor = dyn_cast<RankedTensorType>(leaf.type);
    FailureOr<std::string> cType = getElementCType(leaf, error);
    if (failed(cType))
      return failure();
    if (!tensor) {
      h += "  " + *cType + " " + leaf.name + ";\n";
      continue;
    }
    h += "  " + *cType + " *" + leaf.name + "; /* malloc'd: free() it */\n";
    if (tensor.getRank() > 0)
      h += "  int64_t " + leaf.name + "_shape[" +
           std::to_string(tensor.getRank()) + "];\n";
  }
  if (results.empty())
    h += "  char unused;\n";
  h += "} " + resultStruct + ";\n";
  std::string prototype = "int " + cName + "(";
  for (const Leaf &leaf : params) {
    auto tensor = dyn_cast<RankedTensorType>(leaf.type);
    FailureOr<std::string> cType = getElementCType(leaf, error);
    if (failed(cType))
      return failure();
    if (!tensor) {
      prototype += *cType + " " + leaf.name + ", ";
      continue;
    }
    prototype += "const " + *cType + " *" + leaf.name + ", ";
    if (tensor.getRank() > 0)
      prototype += "const int64_t *" + leaf.name + "_shape, ";
  }
  prototype += resultStruct + " *result)";
  h += prototype + ";\n";

  // The wrapper: the compiled entry's results and call frame.
  std::string &c = definitions;
  std::string out = "lz_" + function.name + "_out";
  bool returnsScalar =
      results.size() == 1 && !isa<RankedTensorType>(results[0].type);
  c += "\ntypedef struct {\n";
  for (const Leaf &leaf : results) {
    auto tensor = dyn_cast<RankedTensorType>(leaf.type);
    c += "  " +
         (tensor ? memrefType(tensor.getRank()) : *getCType(leaf.type, error)) +
         " " + leaf.name + ";\n";
  }
  if (results.empty())
    c += "  char unused;\n";
  c += "} " + out + ";\n";
  std::string frame = "lz_" + function.name + "_frame";
  c += "typedef struct {\n  " + out + " lz_out;\n";
  for (const Leaf &leaf : params) {
    auto tensor = dyn_cast<RankedTensorType>(leaf.type);
    c += "  " +
         (tensor ? memrefType(tensor.getRank()) : *getCType(leaf.type, error)) +
         " " + leaf.name + ";\n";
  }
  c += "} " + frame + ";\n";

  std::string entry = "_mlir_ciface_" + function.entrySymbol;
  std::string entryParams, callArgs;
  auto addParam = [&](const std::string &type, const std::string &arg) {
    entryParams += (entryParams.empty() ? "" : ", ") + type;
    callArgs += (callArgs.empty() ? "" : ", ") + arg;
  };
  if (!results.empty() && !returnsScalar)
    addParam(out + " *", "&frame->lz_out");
  for (const Leaf &leaf : params) {
    if (auto tensor = dyn_cast<RankedTensorType>(leaf.type))
      addParam(memrefType(tensor.getRank()) + " *", "&frame->" + leaf.name);
    else
      addParam(*getCType(leaf.type, error), "frame->" + leaf.name);
  }
  std::string entryResult =
      returnsScalar ? *getCType(results[0].type, error) : "void";
  c += "extern " + entryResult + " " + entry + "(" +
       (entryParams.empty() ? "void" : entryParams) + ");\n";
  c += "static void lz_" + function.name + "_call(void **args) {\n";
  c += "  " + frame + " *frame = (" + frame + " *)args[0];\n";
  c += std::string("  ") +
       (returnsScalar ? "frame->lz_out." + results[0].name + " = " : "") +
       entry + "(" + callArgs + ");\n}\n";

  // The exported function.
  c += "\n" + prototype + " {\n";
  c += "  " + frame + " lz_frame;\n  memset(&lz_frame, 0, sizeof(lz_frame));\n";
  c += "  void *lz_args[1] = {&lz_frame};\n";
  c += "  if (!result) {\n    leibniz_set_error(" +
       quote(cName + ": the result pointer is null") +
       ");\n    return LEIBNIZ_ERROR_ARGUMENT;\n  }\n";
  // Shapes: bind the size atoms from the linear dimensions, then check
  // every dimension.
  std::set<unsigned> atoms;
  for (const auto &constraint : function.constraints) {
    if (constraint.linear)
      atoms.insert(std::get<0>(*constraint.linear));
    atoms.insert(constraint.atoms.begin(), constraint.atoms.end());
  }
  for (unsigned atom : atoms)
    c += llvm::formatv("  int64_t lz_s{0} = 0;\n  int lz_s{0}_known = 0;\n",
                       atom)
             .str();
  auto shapeOf = [&](unsigned leaf, unsigned dim) {
    return params[leaf].name + "_shape[" + std::to_string(dim) + "]";
  };
  auto shapeError = [&](const frontend::Program::DimensionConstraint &k) {
    std::string format = cName + ": argument '" + function.paramNames[k.param] +
                         "' of type " + function.paramTypes[k.param] +
                         " has size %lld in "
                         "dimension " +
                         std::to_string(k.dim) +
                         ", which does not fit the other arguments";
    // Names and types hold no `%`.
    return "    snprintf(lz_message, sizeof(lz_message), " + quote(format) +
           ", (long long)" + shapeOf(k.leaf, k.dim) +
           ");\n    leibniz_set_error(lz_message);\n"
           "    return LEIBNIZ_ERROR_SHAPE;\n";
  };
  for (const auto &k : function.constraints) {
    if (!k.linear)
      continue;
    auto [atom, scale, offset] = *k.linear;
    std::string dim = shapeOf(k.leaf, k.dim);
    c +=
        llvm::formatv("  if (({0} - ({1})) % ({2}) != 0 || ({0} - ({1})) / "
                      "({2}) < 0 ||\n      (lz_s{3}_known && lz_s{3} != ({0} - "
                      "({1})) / ({2}))) {{\n",
                      dim, offset, scale, atom)
            .str();
    c += shapeError(k) + "  }\n";
    c += llvm::formatv(
             "  lz_s{0} = ({1} - ({2})) / ({3});\n  lz_s{0}_known = 1;\n", atom,
             dim, offset, scale)
             .str();
  }
  for (const auto &k : function.constraints) {
    if (k.linear)
      continue;
    std::string known;
    for (unsigned atom : k.atoms)
      known += "lz_s" + std::to_string(atom) + "_known && ";
    c += "  if (" + known + "(" + k.expression +
         ") != " + shapeOf(k.leaf, k.dim) + ") {\n" + shapeError(k) + "  }\n";
  }
  // Arguments.
  for (const Leaf &leaf : params) {
    auto tensor = dyn_cast<RankedTensorType>(leaf.type);
    if (!tensor) {
      c += "  lz_frame." + leaf.name + " = " + leaf.name + ";\n";
      continue;
    }
    c += "  lz_frame." + leaf.name + ".allocated = lz_frame." + leaf.name +
         ".aligned = (void *)" + leaf.name + ";\n";
    int64_t rank = tensor.getRank();
    for (int64_t d = rank - 1; d >= 0; --d) {
      c += llvm::formatv("  lz_frame.{0}.sizes[{1}] = {0}_shape[{1}];\n",
                         leaf.name, d)
               .str();
      c += llvm::formatv("  lz_frame.{0}.strides[{1}] = ", leaf.name, d).str() +
           (d == rank - 1 ? std::string("1")
                          : llvm::formatv("lz_frame.{0}.strides[{1}] * "
                                          "lz_frame.{0}.sizes[{1}]",
                                          leaf.name, d + 1)
                                .str()) +
           ";\n";
    }
  }
  c += "  if (leibniz_call_guarded(lz_" + function.name +
       "_call, lz_args) != 0)\n    return LEIBNIZ_ERROR_CHECK;\n";
  // Results: a tensor that is an argument's buffer, a view into a buffer,
  // or a buffer handed out already is copied.
  unsigned numTensors = 0;
  for (const Leaf &leaf : results)
    numTensors += isa<RankedTensorType>(leaf.type);
  if (numTensors) {
    c += "  void *lz_owned[" + std::to_string(numTensors) +
         "];\n  int lz_num_owned = 0;\n";
    c += "  void *lz_freed[" + std::to_string(numTensors) +
         "];\n  int lz_num_freed = 0;\n";
  }
  for (const Leaf &leaf : results) {
    auto tensor = dyn_cast<RankedTensorType>(leaf.type);
    if (!tensor) {
      c += "  result->" + leaf.name + " = lz_frame.lz_out." + leaf.name + ";\n";
      continue;
    }
    std::string elementType = *getCType(tensor.getElementType(), error);
    std::string m = "lz_frame.lz_out." + leaf.name;
    c += "  {\n    int64_t lz_count = 1;\n";
    for (int64_t d = 0; d < tensor.getRank(); ++d)
      c += llvm::formatv("    result->{0}_shape[{1}] = {2}.sizes[{1}];\n"
                         "    lz_count *= {2}.sizes[{1}];\n",
                         leaf.name, d, m)
               .str();
    c += "    " + elementType + " *lz_data = (" + elementType + " *)" + m +
         ".aligned + " + m + ".offset;\n";
    c += "    int lz_shared = " +
         std::string(unifiedMemory ? "1"
                                   : "(void *)lz_data != " + m + ".allocated") +
         ";\n";
    for (const Leaf &param : params)
      if (isa<RankedTensorType>(param.type))
        c += "    lz_shared |= " + m + ".allocated == (void *)" + param.name +
             ";\n";
    c += "    for (int lz_i = 0; lz_i < lz_num_owned; ++lz_i)\n      lz_shared "
         "|= " +
         m + ".allocated == lz_owned[lz_i];\n";
    c += "    if (!lz_shared) {\n      lz_owned[lz_num_owned++] = " + m +
         ".allocated;\n      result->" + leaf.name + " = lz_data;\n";
    c += "    } else {\n      result->" + leaf.name + " = (" + elementType +
         " *)malloc(lz_count ? lz_count * sizeof(" + elementType + ") : 1);\n";
    c += "      if (!result->" + leaf.name + ") {\n        leibniz_set_error(" +
         quote(cName + ": out of memory") +
         ");\n        return LEIBNIZ_ERROR_MEMORY;\n      }\n";
    c += "      memcpy(result->" + leaf.name + ", lz_data, lz_count * sizeof(" +
         elementType + "));\n";
    c += "      lz_freed[lz_num_freed++] = " + m + ".allocated;\n    }\n  }\n";
  }
  if (numTensors) {
    // Free the buffers that were copied unless an argument or a result
    // owns them.
    c += "  for (int lz_i = 0; lz_i < lz_num_freed; ++lz_i) {\n    int lz_keep "
         "= 0;\n";
    for (const Leaf &param : params)
      if (isa<RankedTensorType>(param.type))
        c += "    lz_keep |= lz_freed[lz_i] == (void *)" + param.name + ";\n";
    c +=
        "    for (int lz_j = 0; lz_j < lz_num_owned; ++lz_j)\n      lz_keep |= "
        "lz_freed[lz_i] == lz_owned[lz_j];\n";
    c += "    for (int lz_j = 0; lz_j < lz_i; ++lz_j)\n      lz_keep |= "
         "lz_freed[lz_i] == lz_freed[lz_j];\n";
    c += std::string("    if (!lz_keep)\n      ") +
         (unifiedMemory ? "_mlir_memref_to_llvm_free" : "free") +
         "(lz_freed[lz_i]);\n  }\n";
  }
  c += "  leibniz_set_error(\"\");\n  return LEIBNIZ_OK;\n}\n";
  return success(error.empty());
}

std::string InterfaceWriter::getHeader(StringRef source) const {
  // No C name of an interface starts with LEIBNIZ_ (generateCInterface).
  std::string guard = "LEIBNIZ_" + llvm::StringRef(prefix).upper() + "_H";
  std::string h;
  h +=
      "/* The C interface of " + source.str() +
      ", compiled by leibniz compile.\n"
      " *\n"
      " * Every function returns LEIBNIZ_OK (0) or an error code, and then\n"
      " * " +
      prefix +
      "_last_error() says what went wrong. A tensor argument is a pointer\n"
      " * to its elements in C order and, unless it is a scalar, a pointer to\n"
      " * its shape. A tensor result is a buffer of its own, allocated with\n"
      " * malloc; free it with free(). Tuples are flattened: element i of\n"
      " * parameter p is p_i, element i of the result is r<i>.";
  if (unifiedMemory)
    h += "\n *\n"
         " * Compiled for --target=cuda: the parallel loops run on the GPU.\n"
         " * The library loads the NVIDIA driver (libcuda.so.1, or\n"
         " * $LEIBNIZ_CUDA_DRIVER) when it is loaded; a missing driver or\n"
         " * device makes every call that uses the GPU return\n"
         " * LEIBNIZ_ERROR_CHECK. Link an object file with -lstdc++ -lm -ldl.";
  h += " */\n";
  h += "#ifndef " + guard + "\n#define " + guard + "\n\n";
  h += "#include <stdbool.h>\n#include <stdint.h>\n\n";
  h += "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  h += "#ifndef LEIBNIZ_STATUS_CODES\n#define LEIBNIZ_STATUS_CODES\n"
       "enum {\n"
       "  LEIBNIZ_OK = 0,\n"
       "  LEIBNIZ_ERROR_SHAPE = 1,    /* argument sizes do not fit */\n"
       "  LEIBNIZ_ERROR_CHECK = 2,    /* a run-time check failed */\n"
       "  LEIBNIZ_ERROR_MEMORY = 3,   /* out of memory */\n"
       "  LEIBNIZ_ERROR_ARGUMENT = 4  /* a null result pointer */\n"
       "};\n#endif\n\n";
  h += "/* The message of the last error on this thread (\"\" if none). */\n";
  h += "const char *" + prefix + "_last_error(void);\n";
  h += "/* The number of threads that the library's parallel loops use, the\n"
       " * calling thread included (initially $LEIBNIZ_NUM_THREADS, or the\n"
       " * number of cores). */\n";
  h += "void " + prefix + "_set_num_threads(int64_t count);\n";
  h += declarations;
  h += "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* " + guard + " */\n";
  return h;
}

std::string InterfaceWriter::getWrappers() const {
  std::string c = "/* The wrappers of the C interface (generated). */\n";
  c += "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n";
  c += "static _Thread_local char lz_message[512];\n";
  c += "int leibniz_call_guarded(void (*function)(void **), void **args);\n";
  c += "const char *leibniz_last_error(void);\n";
  c += "void leibniz_set_error(const char *message);\n";
  c += "void leibniz_set_num_threads(int64_t count);\n";
  if (unifiedMemory)
    c += "void _mlir_memref_to_llvm_free(void *pointer);\n";
  c += "\n";
  for (int64_t rank : ranks) {
    c += "typedef struct {\n  void *allocated;\n  void *aligned;\n"
         "  int64_t offset;\n";
    if (rank > 0)
      c += llvm::formatv("  int64_t sizes[{0}];\n  int64_t strides[{0}];\n",
                         rank)
               .str();
    c += "} lz_memref_" + std::to_string(rank) + ";\n";
  }
  c += "\nconst char *" + prefix +
       "_last_error(void) { return leibniz_last_error(); }\n";
  c += "void " + prefix +
       "_set_num_threads(int64_t count) { leibniz_set_num_threads(count); }\n";
  return c + definitions;
}

} // namespace

FailureOr<CInterface>
leibniz::driver::generateCInterface(StringRef prefix, StringRef source,
                                    ArrayRef<ExportedFunction> functions,
                                    std::string &error, bool unifiedMemory) {
  // Every C name of the interface must be one thing only: the library's
  // own functions, each export's function and its result type. The names
  // of the runtime start with `leibniz_` or `_mlir_`, the wrappers' with
  // `lz_`, and the compiled code calls `cblas_?gemm`. The tool names the
  // compiled code's functions `<prefix>__lz_<name>`, which an export
  // `_lz_<name>` would be.
  std::string start = (prefix + "_").str();
  std::string lowered = StringRef(start).lower();
  if (StringRef(lowered).starts_with("leibniz_") ||
      StringRef(start).starts_with("lz_") ||
      StringRef(start).starts_with("_mlir_") ||
      StringRef(start).starts_with("cblas_")) {
    error = "the prefix '" + prefix.str() +
            "' would give C names like those of the runtime (leibniz_..., "
            "LEIBNIZ_..., _mlir_...), of the wrappers (lz_...) or of the BLAS "
            "that compiled code calls (cblas_...); choose another with "
            "--prefix";
    return failure();
  }
  llvm::StringMap<std::string> taken;
  taken[(prefix + "_last_error").str()] = "the library's own function";
  taken[(prefix + "_set_num_threads").str()] = "the library's own function";
  for (const ExportedFunction &function : functions) {
    std::string cName = (prefix + "_" + function.name).str();
    taken.try_emplace(cName + "_result",
                      "the result type of '" + function.name + "'");
  }
  for (const ExportedFunction &function : functions) {
    std::string cName = (prefix + "_" + function.name).str();
    auto it = taken.find(cName);
    std::string what;
    if (it != taken.end())
      what = "' would be " + it->second;
    else if (StringRef(function.name).starts_with("_lz_"))
      what = "' would be a name of the compiled code's own";
    else if (isTakenInC(cName) || isTakenInC(cName + "_result"))
      what = "' or its result type '" + cName +
             "_result' would be a name that C, or a header that the "
             "interface includes, already has";
    if (!what.empty()) {
      error = "cannot export '" + function.name + "': its C function '" +
              cName + what +
              "; rename the definition, or leave it out with --export";
      return failure();
    }
  }

  InterfaceWriter writer(prefix, unifiedMemory);
  for (const ExportedFunction &function : functions)
    if (failed(writer.addFunction(function, error))) {
      error = "cannot export '" + function.name + "': " + error;
      return failure();
    }
  CInterface interface;
  interface.header = writer.getHeader(source);
  // The wrappers see the header's declarations first.
  interface.wrappers = interface.header + "\n" + writer.getWrappers();
  return interface;
}
