//===- Optimize.cpp - LLVM's optimizations of compiled code ---------------===//
//
// Part of Leibniz.
//
// LLVM's default module pipeline, as MLIR's makeOptimizingTransformer runs
// it, with one difference: at -O3 the target library info names glibc's
// libmvec, so that loops over math functions vectorize.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Driver/Optimize.h"

#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/SystemLibraries.h"
#include "llvm/Passes/OptimizationLevel.h"
#include "llvm/Passes/PassBuilder.h"
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
  llvm::Triple host(llvm::sys::getProcessTriple());
  return optLevel >= 3 && host.getArch() == llvm::Triple::x86_64 &&
         host.isOSLinux() && host.isGNUEnvironment();
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
