//===- JIT.cpp - Running compiled programs --------------------------------===//
//
// Part of Leibniz.
//
// The entry gets a C interface (`llvm.emit_c_interface`): a tensor leaf is
// passed as a pointer to a strided memref descriptor, a scalar by value, and
// the results come back in a struct whose address is the first argument
// (or, for a single scalar, as the return value). This file lays out those
// descriptors and structs in memory, following the C layout of the LLVM
// types that the lowering produces.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Driver/JIT.h"
#include "leibniz/Conversion/Passes.h"
#include "leibniz/Driver/Optimize.h"
#include "leibniz/Driver/Pipelines.h"

#include "leibniz/Interpreter/ValueIO.h"
#include "leibniz/Runtime/CUDA.h"
#include "leibniz/Runtime/Runtime.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/DynamicLibrary.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <set>

using namespace mlir;
using namespace leibniz;
using interp::RuntimeValue;
using interp::Tensor;

namespace {

void flattenValues(const RuntimeValue &value,
                   SmallVectorImpl<const Tensor *> &leaves) {
  if (value.isTuple()) {
    for (const RuntimeValue &element : value.getElements())
      flattenValues(element, leaves);
    return;
  }
  leaves.push_back(&value.getTensor());
}

/// The byte size of a scalar in memory (i1 takes a byte).
size_t getScalarSize(Type type) {
  unsigned bits = type.getIntOrFloatBitWidth();
  return bits <= 8 ? 1 : bits / 8;
}

/// Size and alignment of a leaf in the results struct.
std::pair<size_t, size_t> getLeafLayout(Type type) {
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    return {24 + 16 * tensor.getRank(), 8};
  size_t size = getScalarSize(type);
  return {size, size};
}

size_t alignTo(size_t offset, size_t alignment) {
  return (offset + alignment - 1) / alignment * alignment;
}

void writeScalar(char *dest, Type type, interp::Scalar value) {
  if (type.isF64()) {
    double v = value.f;
    std::memcpy(dest, &v, 8);
  } else if (type.isF32()) {
    float v = static_cast<float>(value.f);
    std::memcpy(dest, &v, 4);
  } else {
    int64_t v = value.i;
    // The interpreter may hold true as any nonzero value; compiled code
    // reads an i1 byte as 0 or 1.
    if (type.isInteger(1))
      v = v != 0;
    std::memcpy(dest, &v, getScalarSize(type)); // little-endian
  }
}

interp::Scalar readScalar(const char *src, Type type) {
  interp::Scalar value;
  if (type.isF64()) {
    std::memcpy(&value.f, src, 8);
  } else if (type.isF32()) {
    float v;
    std::memcpy(&v, src, 4);
    value.f = v;
  } else {
    unsigned width = type.getIntOrFloatBitWidth();
    int64_t v = 0;
    std::memcpy(&v, src, getScalarSize(type));
    if (width == 1)
      v &= 1;
    else if (width < 64)
      v = llvm::SignExtend64(v, width);
    value.i = v;
  }
  return value;
}

/// A strided memref descriptor: allocated and aligned pointers, offset,
/// sizes, strides.
struct Descriptor {
  std::vector<int64_t> words;
  explicit Descriptor(unsigned rank) : words(3 + 2 * rank) {}
};

/// The sizes in the descriptor at `src`.
SmallVector<int64_t> readSizes(const char *src, RankedTensorType type) {
  SmallVector<int64_t> sizes(type.getRank());
  std::memcpy(sizes.data(), src + 24, 8 * type.getRank());
  return sizes;
}

/// Builds a tensor from a descriptor at `src` and returns its allocation.
/// Its sizes must pass `Tensor::getElementCount`.
void *readTensor(const char *src, RankedTensorType type, Tensor &tensor) {
  void *allocated, *aligned;
  int64_t offset;
  std::memcpy(&allocated, src, 8);
  std::memcpy(&aligned, src + 8, 8);
  std::memcpy(&offset, src + 16, 8);
  unsigned rank = type.getRank();
  SmallVector<int64_t> sizes = readSizes(src, type), strides(rank);
  std::memcpy(strides.data(), src + 24 + 8 * rank, 8 * rank);
  Type element = type.getElementType();
  tensor = Tensor(element, sizes);
  size_t scalarSize = getScalarSize(element);
  const char *base = static_cast<const char *>(aligned) + offset * scalarSize;
  SmallVector<int64_t> index(rank, 0);
  for (int64_t e = 0, n = tensor.getNumElements(); e < n; ++e) {
    int64_t position = 0;
    for (unsigned d = 0; d < rank; ++d)
      position += index[d] * strides[d];
    tensor.set(e, readScalar(base + position * scalarSize, element));
    for (int d = rank - 1; d >= 0; --d) {
      if (++index[d] < sizes[d])
        break;
      index[d] = 0;
    }
  }
  return allocated;
}

/// Reports the message of a failed run-time check at its source location,
/// or, for a message without one (the CUDA runtime's), at `entry`'s.
LogicalResult emitRunTimeError(Location entry, StringRef message) {
  MLIRContext *context = entry.getContext();
  auto [where, what] = message.split(": error: ");
  auto [rest, column] = where.rsplit(':');
  auto [file, line] = rest.rsplit(':');
  unsigned lineNumber, columnNumber;
  if (what.empty() || line.getAsInteger(10, lineNumber) ||
      column.getAsInteger(10, columnNumber))
    return emitError(entry) << "run-time error: " << message;
  return emitError(FileLineColLoc::get(context, file, lineNumber, columnNumber))
         << "run-time error: " << what;
}

RuntimeValue rebuild(Type type, ArrayRef<RuntimeValue> &leaves) {
  if (auto tuple = dyn_cast<TupleType>(type)) {
    std::vector<RuntimeValue> elements;
    for (Type element : tuple.getTypes())
      elements.push_back(rebuild(element, leaves));
    return RuntimeValue::getTuple(std::move(elements));
  }
  RuntimeValue value = leaves.front();
  leaves = leaves.drop_front();
  return value;
}

} // namespace

/// runJIT for the CPU, or for the GPU where `cuda` is given.
static FailureOr<SmallVector<RuntimeValue>>
run(ModuleOp module, StringRef entry, ArrayRef<RuntimeValue> args,
    const driver::CPUPipelineOptions &pipelineOptions,
    const driver::CUDAPipelineOptions *cuda, driver::JITTiming *timing) {
  auto func = module.lookupSymbol<func::FuncOp>(entry);
  if (!func)
    return module.emitError() << "no function named '" << entry << "'";
  FunctionType signature = func.getFunctionType();
  func->setAttr("llvm.emit_c_interface", UnitAttr::get(module.getContext()));
  // The pipeline replaces the function; run-time errors without a location
  // of their own are reported at its.
  Location entryLoc = func.getLoc();

  // The GPU is checked first: loading the program loads its kernels.
  if (cuda && !cuda->emulate) {
    std::string error = runtime::cuda::initialize();
    if (!error.empty())
      return func.emitError()
             << "cannot run '" << entry << "' on the GPU: " << error;
  }
  if (cuda) {
    if (failed(runCUDAPipeline(module, *cuda)))
      return failure();
  } else {
    PassManager pm(module.getContext());
    if (failed(buildCPUPipeline(pm, pipelineOptions)) || failed(pm.run(module)))
      return failure();
  }

  // LLVM's optimizations for the host CPU; at -O3 with libmvec's vector
  // math functions when the process can load them.
  unsigned optLevel = pipelineOptions.optLevel;
  auto targetMachine = driver::createHostTargetMachine(optLevel, /*pic=*/false);
  if (!targetMachine)
    return module.emitError() << "cannot target the host: "
                              << llvm::toString(targetMachine.takeError());
  bool vectorMath = driver::usesVectorMathLibrary(optLevel);
  ExecutionEngineOptions options;
  auto transformer =
      driver::makeTransformer(optLevel, targetMachine->get(), vectorMath);
  options.transformer = transformer;
  options.jitCodeGenOptLevel = static_cast<llvm::CodeGenOptLevel>(optLevel);
  // OpenBLAS is loaded only by programs that call it: loading it starts
  // its threads, which wait spinning.
  void *blasFunctions[2] = {nullptr, nullptr};
  const char *blasNames[2] = {"cblas_dgemm", "cblas_sgemm"};
  if (module.lookupSymbol(blasNames[0]) || module.lookupSymbol(blasNames[1])) {
#ifndef LEIBNIZ_BLAS_LIBRARY
    return module.emitError()
           << "the program calls OpenBLAS, and Leibniz was built without it";
#else
    // The runtime library's name first: the development package's link,
    // which CMake found, may be gone where the tools are installed.
    std::string error;
    auto library = llvm::sys::DynamicLibrary::getPermanentLibrary(
        "libopenblas.so.0", &error);
    if (!library.isValid())
      library = llvm::sys::DynamicLibrary::getPermanentLibrary(
          LEIBNIZ_BLAS_LIBRARY, &error);
    if (!library.isValid())
      return module.emitError()
             << "cannot load OpenBLAS (libopenblas.so.0 or "
             << LEIBNIZ_BLAS_LIBRARY
             << "), which the matrix products of -O3 call: " << error;
    for (auto [name, function] : llvm::zip(blasNames, blasFunctions)) {
      function = library.getAddressOfSymbol(name);
      if (!function)
        return module.emitError() << "OpenBLAS (" << LEIBNIZ_BLAS_LIBRARY
                                  << ") has no '" << name << "'";
    }
#endif
  }
  auto engine = ExecutionEngine::create(module, options);
  if (!engine)
    return module.emitError()
           << "cannot compile: " << llvm::toString(engine.takeError());
  // The runtime functions that compiled code calls.
  (*engine)->registerSymbols([&](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    auto add = [&](StringRef name, auto *function) {
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(function),
                                 llvm::JITSymbolFlags::Exported};
    };
    add("memrefCopy", &memrefCopy);
    add("mgpuModuleLoad", &mgpuModuleLoad);
    add("mgpuModuleUnload", &mgpuModuleUnload);
    add("mgpuModuleGetFunction", &mgpuModuleGetFunction);
    add("mgpuStreamCreate", &mgpuStreamCreate);
    add("mgpuStreamDestroy", &mgpuStreamDestroy);
    add("mgpuStreamSynchronize", &mgpuStreamSynchronize);
    add("mgpuLaunchKernel", &mgpuLaunchKernel);
    add("_mlir_memref_to_llvm_alloc", &_mlir_memref_to_llvm_alloc);
    add("_mlir_memref_to_llvm_aligned_alloc",
        &_mlir_memref_to_llvm_aligned_alloc);
    add("_mlir_memref_to_llvm_free", &_mlir_memref_to_llvm_free);
    add("leibniz_aligned_alloc", &leibniz_aligned_alloc);
    add("leibniz_free", &leibniz_free);
    add("leibniz_cuda_blas_available", &leibniz_cuda_blas_available);
    add("leibniz_cuda_dgemm", &leibniz_cuda_dgemm);
    add("leibniz_cuda_sgemm", &leibniz_cuda_sgemm);
    for (auto [name, function] : llvm::zip(blasNames, blasFunctions))
      if (function)
        add(name, function);
    add("leibniz_check_failed", &leibniz_check_failed);
    add("leibniz_bounds_failed", &leibniz_bounds_failed);
    add("leibniz_size_failed", &leibniz_size_failed);
    add("leibniz_conversion_failed", &leibniz_conversion_failed);
    add("leibniz_allocation_check", &leibniz_allocation_check);
    add("leibniz_tolerance_failed", &leibniz_tolerance_failed);
    add("leibniz_trace_loss", &leibniz_trace_loss);
    add("leibniz_parallel_for", &leibniz_parallel_for);
    add("leibniz_print_f64", &leibniz_print_f64);
    add("leibniz_print_f32", &leibniz_print_f32);
    add("leibniz_print_i64", &leibniz_print_i64);
    add("leibniz_print_i32", &leibniz_print_i32);
    add("leibniz_print_i1", &leibniz_print_i1);
    add("_mlir_ciface_leibniz_print_tensor_f64",
        &_mlir_ciface_leibniz_print_tensor_f64);
    add("_mlir_ciface_leibniz_print_tensor_f32",
        &_mlir_ciface_leibniz_print_tensor_f32);
    add("_mlir_ciface_leibniz_print_tensor_i64",
        &_mlir_ciface_leibniz_print_tensor_i64);
    add("_mlir_ciface_leibniz_print_tensor_i32",
        &_mlir_ciface_leibniz_print_tensor_i32);
    add("_mlir_ciface_leibniz_print_tensor_i1",
        &_mlir_ciface_leibniz_print_tensor_i1);
    return symbols;
  });
  // Global constructors: the CUDA target's load its kernel modules.
  (*engine)->initialize();

  // Arguments: scalars by value, tensors as pointers to descriptors.
  SmallVector<Type> argTypes, resultTypes;
  for (Type type : signature.getInputs())
    conversion::flattenTupleType(type, argTypes);
  for (Type type : signature.getResults())
    conversion::flattenTupleType(type, resultTypes);
  SmallVector<const Tensor *> argValues;
  for (const RuntimeValue &arg : args)
    flattenValues(arg, argValues);
  if (argValues.size() != argTypes.size())
    return module.emitError() << "'" << entry << "' takes " << argTypes.size()
                              << " values, got " << argValues.size();

  std::vector<std::vector<char>> buffers;
  std::vector<Descriptor> descriptors;
  std::vector<void *> descriptorPointers;
  std::vector<std::array<char, 8>> scalars;
  descriptors.reserve(argTypes.size());
  descriptorPointers.reserve(argTypes.size());
  scalars.reserve(argTypes.size());
  SmallVector<void *> packed;
  std::set<void *> argumentBuffers;

  // The results: a struct whose address is the first argument, unless the
  // only result is a scalar, which is returned.
  bool returnsScalar =
      resultTypes.size() == 1 && !isa<RankedTensorType>(resultTypes[0]);
  SmallVector<size_t> resultOffsets;
  size_t resultSize = 0;
  for (Type type : resultTypes) {
    auto [size, alignment] = getLeafLayout(type);
    resultSize = alignTo(resultSize, alignment);
    resultOffsets.push_back(resultSize);
    resultSize += size;
  }
  std::vector<char> results(std::max<size_t>(resultSize, 8), 0);
  void *resultPointer = results.data();
  if (!resultTypes.empty() && !returnsScalar)
    packed.push_back(&resultPointer);

  for (auto [type, value] : llvm::zip(argTypes, argValues)) {
    auto tensorType = dyn_cast<RankedTensorType>(type);
    if (!tensorType) {
      scalars.emplace_back();
      writeScalar(scalars.back().data(), type, value->get(0));
      packed.push_back(scalars.back().data());
      continue;
    }
    Type element = tensorType.getElementType();
    size_t scalarSize = getScalarSize(element);
    buffers.emplace_back(std::max<int64_t>(value->getNumElements(), 1) *
                         scalarSize);
    char *data = buffers.back().data();
    for (int64_t e = 0; e < value->getNumElements(); ++e)
      writeScalar(data + e * scalarSize, element, value->get(e));
    argumentBuffers.insert(data);
    unsigned rank = tensorType.getRank();
    Descriptor &descriptor = descriptors.emplace_back(rank);
    void *pointer = data;
    std::memcpy(&descriptor.words[0], &pointer, 8);
    std::memcpy(&descriptor.words[1], &pointer, 8);
    descriptor.words[2] = 0;
    SmallVector<int64_t> strides = value->getStrides();
    for (unsigned d = 0; d < rank; ++d) {
      descriptor.words[3 + d] = value->getShape()[d];
      descriptor.words[3 + rank + d] = strides[d];
    }
    descriptorPointers.push_back(descriptor.words.data());
    packed.push_back(&descriptorPointers.back());
  }
  if (returnsScalar)
    packed.push_back(results.data());
  // The buffers that the program allocated: unified memory on the GPU.
  auto freeBuffer = [&](void *pointer) {
    if (cuda && !cuda->emulate)
      _mlir_memref_to_llvm_free(pointer);
    else
      std::free(pointer);
  };

  auto function = (*engine)->lookupPacked(("_mlir_ciface_" + entry).str());
  if (!function)
    return module.emitError() << "cannot run '" << entry
                              << "': " << llvm::toString(function.takeError());
  if (timing) {
    // The tensors that a call returns in buffers of its own, freed before
    // the next call.
    auto freeResults = [&] {
      std::set<void *> allocated;
      for (auto [type, offset] : llvm::zip(resultTypes, resultOffsets)) {
        if (!isa<RankedTensorType>(type))
          continue;
        void *pointer;
        std::memcpy(&pointer, results.data() + offset, sizeof(pointer));
        if (!argumentBuffers.count(pointer))
          allocated.insert(pointer);
      }
      for (void *pointer : allocated)
        freeBuffer(pointer);
    };
    auto call = [&] {
      int status = leibniz_call_guarded(*function, packed.data());
      if (status == 0)
        freeResults();
      return status;
    };
    std::vector<double> samples;
    if (call() != 0)
      return emitRunTimeError(entryLoc, leibniz_last_error());
    for (unsigned sample = 0; sample < std::max(timing->samples, 1u);
         ++sample) {
      unsigned calls = 0;
      auto start = std::chrono::steady_clock::now();
      double elapsed = 0;
      do {
        if (call() != 0)
          return emitRunTimeError(entryLoc, leibniz_last_error());
        ++calls;
        elapsed = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - start)
                      .count();
      } while (elapsed < timing->minSeconds);
      samples.push_back(elapsed / calls);
    }
    std::sort(samples.begin(), samples.end());
    timing->seconds = samples[samples.size() / 2];
  }

  // What the program prints goes out before the caller prints its results.
  int status = leibniz_call_guarded(*function, packed.data());
  std::fflush(stdout);
  if (status != 0) {
    // A failed run-time check, "file:line:col: error: message", reported
    // as the interpreter reports it. The buffers that the program allocated
    // so far are not freed.
    return emitRunTimeError(entryLoc, leibniz_last_error());
  }

  // Read the results back and free the buffers the program allocated.
  SmallVector<RuntimeValue> leaves;
  std::set<void *> toFree;
  // A result too large for the interpreter's values is an error, after the
  // results' buffers are freed.
  std::optional<std::string> tooLarge;
  for (auto [type, offset] : llvm::zip(resultTypes, resultOffsets)) {
    const char *src = results.data() + offset;
    if (auto tensorType = dyn_cast<RankedTensorType>(type)) {
      SmallVector<int64_t> sizes = readSizes(src, tensorType);
      if (!Tensor::getElementCount(sizes)) {
        void *allocated;
        std::memcpy(&allocated, src, 8);
        if (!argumentBuffers.count(allocated))
          toFree.insert(allocated);
        std::string shape;
        llvm::raw_string_ostream os(shape);
        llvm::interleave(sizes, os, "x");
        tooLarge = shape;
        continue;
      }
      Tensor tensor;
      void *allocated = readTensor(src, tensorType, tensor);
      if (!argumentBuffers.count(allocated))
        toFree.insert(allocated);
      leaves.push_back(RuntimeValue(std::move(tensor)));
      continue;
    }
    Tensor scalar(type, {});
    scalar.set(0, readScalar(src, type));
    leaves.push_back(RuntimeValue(std::move(scalar)));
  }
  for (void *allocated : toFree)
    freeBuffer(allocated);
  if (tooLarge)
    return emitError(entryLoc)
           << "a result of shape " << *tooLarge << " has more than the "
           << Tensor::kMaxElements
           << " elements that 'leibniz run' can print or write; call the "
              "compiled library ('leibniz compile') for larger results";
  SmallVector<RuntimeValue> values;
  ArrayRef<RuntimeValue> remaining = leaves;
  for (Type type : signature.getResults())
    values.push_back(rebuild(type, remaining));
  return values;
}

FailureOr<SmallVector<RuntimeValue>>
leibniz::driver::runJIT(ModuleOp module, StringRef entry,
                        ArrayRef<RuntimeValue> args,
                        const CPUPipelineOptions &options, JITTiming *timing) {
  return run(module, entry, args, options, /*cuda=*/nullptr, timing);
}

FailureOr<SmallVector<RuntimeValue>>
leibniz::driver::runJIT(ModuleOp module, StringRef entry,
                        ArrayRef<RuntimeValue> args,
                        const CUDAPipelineOptions &options) {
  return run(module, entry, args, options, &options, /*timing=*/nullptr);
}
