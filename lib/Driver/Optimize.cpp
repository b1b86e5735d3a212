//===- Optimize.cpp - LLVM's optimizations of compiled code ---------------===//
//
// Part of Leibniz.
//
// LLVM's default module pipeline, as MLIR's makeOptimizingTransformer runs
// it, with one difference: at -O3 the target library info names glibc's
// libmvec, with the functions that LLVM's table of it leaves out, so that
// loops over math functions vectorize.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Driver/Optimize.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/SystemLibraries.h"
#include "llvm/Passes/OptimizationLevel.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace leibniz;

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
leibniz::driver::createHostTargetMachine(unsigned optLevel, bool pic) {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  if (pic)
    builder->setRelocationModel(llvm::Reloc::PIC_);
  builder->setCodeGenOptLevel(static_cast<llvm::CodeGenOptLevel>(optLevel));
  return builder->createTargetMachine();
}

bool leibniz::driver::usesVectorMathLibrary(unsigned optLevel) {
  static const bool available = [] {
    llvm::Triple host(llvm::sys::getProcessTriple());
    return host.getArch() == llvm::Triple::x86_64 && host.isOSLinux() &&
           host.isGNUEnvironment() &&
           !llvm::sys::DynamicLibrary::LoadLibraryPermanently("libmvec.so.1");
  }();
  return optLevel >= 3 && available;
}

/// The functions of libmvec (glibc 2.35 and later) that LLVM's table of it
/// leaves out (it maps sin, cos, tan, exp, log and pow): their SSE (2 or 4
/// lanes) and AVX2 (4 or 8 lanes) versions, for the libm name and the LLVM
/// intrinsic, where one exists, that calls reach LLVM as.
static llvm::ArrayRef<llvm::VecDesc> getExtendedVectorMath() {
  static const std::vector<llvm::VecDesc> table = [] {
    struct Function {
      llvm::StringLiteral name;
      bool intrinsic;
      unsigned arity;
    };
    static const Function functions[] = {
        {"acos", true, 1},   {"asin", true, 1},   {"atan", true, 1},
        {"cosh", true, 1},   {"sinh", true, 1},   {"tanh", true, 1},
        {"exp2", true, 1},   {"exp10", true, 1},  {"log2", true, 1},
        {"log10", true, 1},  {"atan2", true, 2},  {"acosh", false, 1},
        {"asinh", false, 1}, {"atanh", false, 1}, {"cbrt", false, 1},
        {"erf", false, 1},   {"erfc", false, 1},  {"expm1", false, 1},
        {"log1p", false, 1}, {"hypot", false, 2}};
    // The names must outlive the table: keep them in a string pool.
    static llvm::StringSet<> pool;
    auto keep = [](const std::string &name) {
      return pool.insert(name).first->getKey();
    };
    std::vector<llvm::VecDesc> descs;
    for (const Function &function : functions) {
      std::string params(function.arity, 'v');
      for (bool single : {false, true}) {
        std::string scalar = function.name.str() + (single ? "f" : "");
        std::string intrinsic =
            "llvm." + function.name.str() + (single ? ".f32" : ".f64");
        for (std::pair<char, unsigned> variant :
             {std::pair<char, unsigned>{'b', single ? 4 : 2},
              std::pair<char, unsigned>{'d', single ? 8 : 4}}) {
          char isa = variant.first;
          unsigned lanes = variant.second;
          std::string vector = "_ZGV" + std::string(1, isa) + "N" +
                               std::to_string(lanes) + params + "_" + scalar;
          std::string prefix = "_ZGV_LLVM_N" + std::to_string(lanes) + params;
          auto add = [&](const std::string &name) {
            descs.emplace_back(keep(name), keep(vector),
                               llvm::ElementCount::getFixed(lanes),
                               /*Masked=*/false, keep(prefix), std::nullopt);
          };
          add(scalar);
          if (function.intrinsic)
            add(intrinsic);
        }
      }
    }
    return descs;
  }();
  return table;
}

bool leibniz::driver::hasExtendedVectorMath() {
  static const bool available =
      driver::usesVectorMathLibrary(/*optLevel=*/3) &&
      llvm::sys::DynamicLibrary::SearchForAddressOfSymbol("_ZGVdN4v_tanh") !=
          nullptr;
  return available;
}

int64_t leibniz::driver::getStripBytes() {
  static const int64_t bytes =
      llvm::sys::getHostCPUFeatures().lookup("avx512f") ? 768 : 0;
  return bytes;
}

llvm::Error leibniz::driver::optimizeModule(llvm::Module &module,
                                            unsigned optLevel,
                                            llvm::TargetMachine *targetMachine,
                                            bool vectorMath) {
  static const llvm::OptimizationLevel levels[] = {
      llvm::OptimizationLevel::O0, llvm::OptimizationLevel::O1,
      llvm::OptimizationLevel::O2, llvm::OptimizationLevel::O3};
  if (optLevel > 3)
    return llvm::createStringError("invalid optimization level %u", optLevel);

  llvm::LoopAnalysisManager loopAnalyses;
  llvm::FunctionAnalysisManager functionAnalyses;
  llvm::CGSCCAnalysisManager cgsccAnalyses;
  llvm::ModuleAnalysisManager moduleAnalyses;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = true;
  tuning.LoopInterleaving = true;
  tuning.LoopVectorization = optLevel > 1;
  tuning.SLPVectorization = optLevel > 1;
  llvm::PassBuilder builder(targetMachine, tuning);

  llvm::Triple triple(module.getTargetTriple().empty()
                          ? llvm::Triple(llvm::sys::getProcessTriple())
                          : module.getTargetTriple());
  llvm::TargetLibraryInfoImpl libraryInfo(
      triple, vectorMath ? llvm::VectorLibrary::LIBMVEC
                         : llvm::VectorLibrary::NoLibrary);
  if (vectorMath && driver::hasExtendedVectorMath())
    libraryInfo.addVectorizableFunctions(getExtendedVectorMath());
  functionAnalyses.registerPass(
      [&] { return llvm::TargetLibraryAnalysis(libraryInfo); });

  builder.registerModuleAnalyses(moduleAnalyses);
  builder.registerCGSCCAnalyses(cgsccAnalyses);
  builder.registerFunctionAnalyses(functionAnalyses);
  builder.registerLoopAnalyses(loopAnalyses);
  builder.crossRegisterProxies(loopAnalyses, functionAnalyses, cgsccAnalyses,
                               moduleAnalyses);
  llvm::ModulePassManager passes;
  if (optLevel == 0)
    passes = builder.buildO0DefaultPipeline(llvm::OptimizationLevel::O0);
  else
    passes = builder.buildPerModuleDefaultPipeline(levels[optLevel]);
  passes.run(module, moduleAnalyses);
  return llvm::Error::success();
}

std::function<llvm::Error(llvm::Module *)> leibniz::driver::makeTransformer(
    unsigned optLevel, llvm::TargetMachine *targetMachine, bool vectorMath) {
  return [=](llvm::Module *module) {
    return optimizeModule(*module, optLevel, targetMachine, vectorMath);
  };
}
