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
#include "leibniz/Driver/Optimize.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace leibniz;

void leibniz::driver::registerPipelineDependencies(DialectRegistry &registry) {
  registerAllDialects(registry);
  leibniz::ad::registerDerivativeModels(registry);
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  // The CUDA target: kernels are serialized to PTX by the NVVM target, and
  // the host's launches are translated with the GPU dialect.
  registerGPUDialectTranslation(registry);
  gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
  registerNVVMDialectTranslation(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
}

bool leibniz::driver::isBLASAvailable() {
#ifdef LEIBNIZ_HAVE_BLAS
  return true;
#else
  return false;
#endif
}

std::string
leibniz::driver::getLowerLzPipeline(const driver::CPUPipelineOptions &options,
                                    bool gpu) {
  std::string pipeline;
  // On the CPU, the stacks of the reverse sweeps stay in the cache, and
  // elementwise loops run their steps by strips of columns in registers,
  // or several steps per traversal.
  if (!gpu && options.optLevel >= 2) {
    int64_t stripBytes =
        options.stripBytes < 0 ? driver::getStripBytes() : options.stripBytes;
    // With strips, blocks as narrow as a strip keep a block's stack in the
    // cache at little cost: a strip's states stay in registers across the
    // steps (docs/architecture.md).
    pipeline += stripBytes > 0 ? "func.func(lz-tile-columns{min-columns=128},"
                               : "func.func(lz-tile-columns,";
    pipeline +=
        "lz-jam-steps{strip-bytes=" + std::to_string(stripBytes) + "}),";
  }
  // A reduction's range is checked before lower-lz turns it into a loop
  // (after the passes above, whose loops' steps the checks would stop).
  if (options.checks)
    pipeline += "lz-check-ranges,";
  // -O3 lets float reductions be reassociated. On the GPU, reductions are
  // reassociated from -O2, split into partitions that run as threads.
  bool reassociate = options.optLevel >= (gpu ? 2 : 3);
  pipeline += "lower-lz{reassociate=";
  pipeline += reassociate ? "true" : "false";
  if (gpu)
    pipeline += " gpu=true";
  else if (driver::usesVectorMathLibrary(options.optLevel))
    pipeline += driver::hasExtendedVectorMath()
                    ? " vector-math=true extended-vector-math=true"
                    : " vector-math=true";
  pipeline += "}";
  return pipeline;
}

/// The first half of both pipelines: lz to buffers and loops, with the
/// outermost loops of elementwise work (linalg operations) parallel where
/// `parallel` is set. `gpu` selects the CUDA pipeline's variant: caller
/// buffers copied at function entry, matrix products as parallel loops or
/// cuBLAS calls (except under `emulate`).
static std::string getBufferPipeline(const driver::CPUPipelineOptions &options,
                                     bool parallel, bool gpu,
                                     bool emulate = false) {
  bool optimize = options.optLevel > 0;
  // lz to upstream dialects on tensors, without tuples.
  std::string pipeline = "lower-lz-print,";
  pipeline += driver::getLowerLzPipeline(options, gpu) + ",";
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
              "unknown-type-conversion=identity-layout-map},";
  if (gpu)
    pipeline += "lz-gpu-copy-arguments,";
  pipeline += "ownership-based-buffer-deallocation,canonicalize,"
              "buffer-deallocation-simplification,"
              "bufferization-lower-deallocations,"
              "convert-bufferization-to-memref,scf-forall-to-parallel,";
  // Matrix products: BLAS at -O3 on the CPU, else loops over register
  // tiles of the result. Then every linalg operation becomes loops before
  // CSE runs on buffers: CSE would merge the `linalg.index` of a nested
  // `linalg.map` with its parent's.
  // On the GPU, at -O3, cuBLAS where it loads at run time (not in the
  // emulation, which has no GPU).
  bool blas =
      options.optLevel >= 3 && (gpu ? !emulate : driver::isBLASAvailable());
  // On the GPU, the kernels run in the host's sequential loops too.
  pipeline += std::string("lz-lower-matmul{blas=") + (blas ? "true" : "false") +
              " parallel=" + (gpu ? "true" : "false") +
              (gpu ? " blas-library=cuda" : "") +
              "},func.func(lz-linalg-to-loops{parallel=" +
              (parallel ? "true" : "false") +
              " parallel-in-loops=" + (gpu ? "true" : "false") + "}),";
  return pipeline;
}

/// The host's lowering to the LLVM dialect. log1p is libm's, as in the
/// interpreter: MLIR's approximation rounds differently.
static std::string getHostToLLVMPipeline(bool gpu) {
  std::string pipeline = "lower-affine,convert-scf-to-cf,"
                         "expand-strided-metadata,lower-affine,";
  // Under the CUDA pipeline, buffers are allocated by the runtime, in
  // unified memory, and launches become calls of the runtime.
  pipeline += gpu ? "finalize-memref-to-llvm{use-generic-functions},"
                  : "finalize-memref-to-llvm{use-aligned-alloc},";
  pipeline += "convert-math-to-llvm{approximate-log1p=false},"
              "convert-math-to-libm,convert-arith-to-llvm,"
              "convert-index-to-llvm,";
  if (gpu)
    pipeline += "gpu-to-llvm,";
  pipeline += "convert-func-to-llvm,convert-cf-to-llvm,"
              "reconcile-unrealized-casts";
  // On the CPU, buffers come from the runtime, which reuses freed ones.
  if (!gpu)
    pipeline += ",lz-runtime-allocator";
  return pipeline;
}

std::string leibniz::driver::getCPUPipeline(const CPUPipelineOptions &options) {
  bool optimize = options.optLevel > 0;
  // From -O1, the outermost parallel loops run on the thread pool.
  std::string pipeline = getBufferPipeline(options, optimize, /*gpu=*/false);
  // From -O2, independent float sums run side by side.
  if (options.optLevel >= 2)
    pipeline += "func.func(lz-unroll-jam{lanes=4}),";
  if (optimize)
    pipeline += "lz-outline-parallel,canonicalize,cse,";
  pipeline += getHostToLLVMPipeline(/*gpu=*/false);
  if (optimize)
    pipeline += ",lz-lower-parallel-launch";
  return pipeline;
}

std::string
leibniz::driver::getCUDAPipeline(const CUDAPipelineOptions &options) {
  // The outermost parallel loops become kernels, one thread per iteration.
  std::string pipeline = getBufferPipeline(options, /*parallel=*/true,
                                           /*gpu=*/true, options.emulate);
  pipeline +=
      "lz-parallel-to-gpu{block-size=" + std::to_string(options.blockSize) +
      "},";
  // The emulation runs the launches on the host and stops there.
  if (options.emulate)
    return pipeline + "func.func(lz-gpu-launch-to-loops),canonicalize,cse," +
           getHostToLLVMPipeline(/*gpu=*/false);
  pipeline += "gpu-kernel-outlining,canonicalize,cse,";
  // The kernels to NVVM, math functions as libdevice's calls.
  pipeline += "lower-affine,convert-scf-to-cf,nvvm-attach-target{chip=" +
              options.gpuArch +
              " O=3},gpu.module(convert-gpu-to-nvvm,canonicalize,cse,"
              "reconcile-unrealized-casts),";
  pipeline += getHostToLLVMPipeline(/*gpu=*/true);
  // PTX, assembled to a cubin by ptxas where the toolkit has one.
  if (options.serialize) {
    pipeline += ",gpu-module-to-binary{format=";
    pipeline += options.ptxasPath().empty() ? "isa" : "bin";
    if (!options.libdevicePath().empty() || !options.ptxasPath().empty())
      pipeline += " toolkit=\"" + options.cudaPath + "\"";
    pipeline += "}";
  }
  return pipeline;
}

std::string leibniz::driver::CUDAPipelineOptions::ptxasPath() const {
  if (cudaPath.empty() || !cubin)
    return {};
  llvm::SmallString<128> path(cudaPath);
  llvm::sys::path::append(path, "bin", "ptxas");
  return llvm::sys::fs::can_execute(path) ? std::string(path) : std::string();
}

std::string leibniz::driver::CUDAPipelineOptions::libdevicePath() const {
  if (cudaPath.empty())
    return {};
  llvm::SmallString<128> path(cudaPath);
  llvm::sys::path::append(path, "nvvm", "libdevice", "libdevice.10.bc");
  return llvm::sys::fs::is_regular_file(path) ? std::string(path)
                                              : std::string();
}

LogicalResult leibniz::driver::verifyKernelsLinked(ModuleOp module) {
  for (auto binary : module.getOps<gpu::BinaryOp>()) {
    for (Attribute attribute : binary.getObjects()) {
      auto object = cast<gpu::ObjectAttr>(attribute);
      if (object.getFormat() != gpu::CompilationTarget::Assembly)
        continue;
      // PTX declares the functions that it calls and does not define. The
      // device's malloc, free, vprintf and __assertfail are the driver's.
      StringRef ptx = object.getObject().getValue();
      for (size_t at = ptx.find(".extern .func"); at != StringRef::npos;
           at = ptx.find(".extern .func", at + 1)) {
        // `.extern .func (.param .b64 func_retval0) name` or
        // `.extern .func name`, its parameters on the next lines.
        StringRef name = ptx.substr(at + strlen(".extern .func")).ltrim();
        if (name.consume_front("("))
          name = name.drop_until([](char c) { return c == ')'; })
                     .drop_front()
                     .ltrim();
        name = name.take_until(
            [](char c) { return c == '(' || c == ';' || llvm::isSpace(c); });
        if (llvm::is_contained({"malloc", "free", "vprintf", "__assertfail"},
                               name))
          continue;
        InFlightDiagnostic diag = binary.emitError()
                                  << "kernel module '" << binary.getName()
                                  << "' calls '" << name
                                  << "', which it does not define";
        if (name.starts_with("__nv_"))
          diag << ": the device's math functions come from the CUDA "
                  "toolkit's libdevice (nvvm/libdevice/libdevice.10.bc), "
                  "and none was found; give the toolkit with --cuda-path";
        return failure();
      }
    }
  }
  return success();
}

LogicalResult
leibniz::driver::runCUDAPipeline(ModuleOp module,
                                 const CUDAPipelineOptions &options) {
  PassManager pm(module.getContext());
  if (failed(buildCUDAPipeline(pm, options)))
    return failure();
  // Without a toolkit, the NVVM target reports, for every kernel module,
  // that the toolkit it looks for by default has no libdevice, and goes on
  // without it. Only kernels that call libdevice need it, and
  // verifyKernelsLinked says so for those.
  ScopedDiagnosticHandler quiet(module.getContext(), [](Diagnostic &diag) {
    std::string message = diag.str();
    return success(diag.getSeverity() == DiagnosticSeverity::Error &&
                   (StringRef(message).starts_with("CUDA path: ") ||
                    StringRef(message).starts_with("LibDevice path: ")));
  });
  if (failed(pm.run(module)))
    return failure();
  return verifyKernelsLinked(module);
}

std::string leibniz::driver::findCUDAToolkit() {
  // A path with a double quote cannot be quoted in the pipeline string.
  for (const char *variable : {"CUDA_PATH", "CUDA_HOME"})
    if (const char *value = std::getenv(variable);
        value && *value && !StringRef(value).contains('"'))
      return value;
  if (llvm::sys::fs::is_directory("/usr/local/cuda"))
    return "/usr/local/cuda";
  return {};
}

LogicalResult
leibniz::driver::buildCUDAPipeline(OpPassManager &pm,
                                   const CUDAPipelineOptions &options) {
  return parsePassPipeline(getCUDAPipeline(options), pm);
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
  Option<int64_t> stripBytes{
      *this, "strip-bytes",
      llvm::cl::desc("The bytes of an elementwise loop's states that a strip "
                     "keeps in registers across its steps (-1: 768 on CPUs "
                     "with AVX-512, else 0)"),
      llvm::cl::init(-1)};
};

struct CUDAPipelineCLOptions
    : public PassPipelineOptions<CUDAPipelineCLOptions> {
  Option<unsigned> optLevel{*this, "opt-level",
                            llvm::cl::desc("Optimization level, 0 to 3"),
                            llvm::cl::init(2)};
  Option<std::string> gpuArch{*this, "gpu-arch",
                              llvm::cl::desc("The GPU architecture"),
                              llvm::cl::init("sm_90")};
  Option<std::string> cudaPath{
      *this, "cuda-path",
      llvm::cl::desc("The CUDA toolkit, for libdevice and ptxas (default: "
                     "$CUDA_PATH, $CUDA_HOME or /usr/local/cuda)")};
  Option<bool> serialize{*this, "serialize",
                         llvm::cl::desc("Serialize the kernels to PTX or "
                                        "cubin"),
                         llvm::cl::init(true)};
  Option<unsigned> blockSize{*this, "block-size",
                             llvm::cl::desc("Threads per block"),
                             llvm::cl::init(256)};
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
        options.stripBytes = cl.stripBytes;
        (void)buildCPUPipeline(pm, options);
      });
  PassPipelineRegistration<CUDAPipelineCLOptions>(
      "leibniz-cuda-to-llvm",
      "The CUDA pipeline: lz to the LLVM dialect for the host and kernels "
      "for the GPU (parallel loops to kernels, NVVM, PTX or cubin)",
      [](OpPassManager &pm, const CUDAPipelineCLOptions &cl) {
        CUDAPipelineOptions options;
        options.optLevel = cl.optLevel;
        options.gpuArch = cl.gpuArch;
        options.cudaPath =
            cl.cudaPath.empty() ? findCUDAToolkit() : std::string(cl.cudaPath);
        options.serialize = cl.serialize;
        options.blockSize = cl.blockSize;
        (void)buildCUDAPipeline(pm, options);
      });
}
