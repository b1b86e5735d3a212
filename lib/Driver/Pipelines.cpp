//===- Pipelines.cpp - The compilation pipelines --------------------------===//
//
// Part of Leibniz.
//
// The CPU pipeline: lz is lowered to tensor/scf/linalg (with run-time
// checks under `checks`) and tuples are decomposed; one-shot bufferization
// (across function boundaries) turns tensors into buffers, ownership-based
// deallocation frees them; matrix products and the other linalg operations
// become loops or BLAS calls; from -O1 the outermost parallel loops are
// outlined for the runtime's thread pool; then everything is lowered to the
// LLVM dialect. The optimization level selects canonicalization,
// reassociation, BLAS and parallel loops. It is written as a pass pipeline
// string so that `leibniz-opt` can run it, or any prefix of it.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Driver/Pipelines.h"

#include "leibniz/AD/Forward.h"
#include "leibniz/Conversion/Passes.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"

using namespace mlir;

void leibniz::driver::registerPipelineDependencies(DialectRegistry &registry) {
  registerAllDialects(registry);
  leibniz::ad::registerDerivativeModels(registry);
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

bool leibniz::driver::isBLASAvailable() {
#ifdef LEIBNIZ_HAVE_BLAS
  return true;
#else
  return false;
#endif
}

std::string leibniz::driver::getCPUPipeline(const CPUPipelineOptions &options) {
  bool optimize = options.optLevel > 0;
  // lz to upstream dialects on tensors, without tuples. -O3 lets float
  // reductions be reassociated.
  std::string pipeline = "lower-lz-print,lower-lz{reassociate=";
  pipeline += options.optLevel >= 3 ? "true}," : "false},";
  if (options.checks)
    pipeline += "lz-runtime-checks,";
  pipeline += "lz-decompose-tuples,";
  if (optimize)
    pipeline += "lz-canonicalize,cse,";
  if (options.checks && optimize)
    pipeline += "int-range-optimizations,lz-canonicalize,";
  // Tensors to buffers, and their deallocation.
  pipeline += "one-shot-bufferize{bufferize-function-boundaries "
              "allow-return-allocs-from-loops "
              "function-boundary-type-conversion=identity-layout-map "
              "unknown-type-conversion=identity-layout-map},"
              "ownership-based-buffer-deallocation,canonicalize,"
              "buffer-deallocation-simplification,"
              "bufferization-lower-deallocations,"
              "convert-bufferization-to-memref,scf-forall-to-parallel,";
  // Matrix products: BLAS at -O3, else loops in the i, k, j order. Then
  // every linalg operation becomes loops before CSE runs on buffers: CSE
  // would merge the `linalg.index` of a nested `linalg.map` with its
  // parent's.
  bool blas = options.optLevel >= 3 && isBLASAvailable();
  // From -O1, the outermost parallel loops run on the thread pool.
  pipeline += std::string("lz-lower-matmul{blas=") + (blas ? "true" : "false") +
              "},func.func(lz-linalg-to-loops{parallel=" +
              (optimize ? "true" : "false") + "}),";
  if (optimize)
    pipeline += "lz-outline-parallel,canonicalize,cse,";
  // The LLVM dialect. log1p is libm's, as in the interpreter: MLIR's
  // approximation rounds differently.
  pipeline += "lower-affine,convert-scf-to-cf,"
              "expand-strided-metadata,lower-affine,"
              "finalize-memref-to-llvm{use-aligned-alloc},"
              "convert-math-to-llvm{approximate-log1p=false},"
              "convert-math-to-libm,convert-arith-to-llvm,"
              "convert-index-to-llvm,convert-func-to-llvm,convert-cf-to-llvm,"
              "reconcile-unrealized-casts";
  if (optimize)
    pipeline += ",lz-lower-parallel-launch";
  return pipeline;
}

LogicalResult
leibniz::driver::buildCPUPipeline(OpPassManager &pm,
                                  const CPUPipelineOptions &options) {
  return parsePassPipeline(getCPUPipeline(options), pm);
}

namespace {
struct CPUPipelineCLOptions : public PassPipelineOptions<CPUPipelineCLOptions> {
  Option<unsigned> optLevel{*this, "opt-level",
                            llvm::cl::desc("Optimization level, 0 to 3"),
                            llvm::cl::init(2)};
  Option<bool> checks{*this, "checks",
                      llvm::cl::desc("Insert run-time checks of reads and "
                                     "integer divisions"),
                      llvm::cl::init(false)};
};
} // namespace

void leibniz::driver::registerPipelines() {
  registerAllPasses();
  conversion::registerConversionPasses();
  PassPipelineRegistration<CPUPipelineCLOptions>(
      "leibniz-cpu-to-llvm",
      "The CPU pipeline: lz to the LLVM dialect (lower-lz, tuple "
      "decomposition, bufferization, deallocation, lowering to LLVM)",
      [](OpPassManager &pm, const CPUPipelineCLOptions &cl) {
        CPUPipelineOptions options;
        options.optLevel = cl.optLevel;
        options.checks = cl.checks;
        (void)buildCPUPipeline(pm, options);
      });
}
