//===- Derivation.cpp - Derivation rules and the search -------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Search/Derivation.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <queue>
#include <random>
#include <tuple>

using namespace leibniz;
using namespace leibniz::search;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// `node` with every read replaced by what `fn` returns for it.
static const Node *mapReads(Context &context, const Node *node,
                            llvm::function_ref<const Node *(const Node *)> fn) {
  if (node->op == Op::Read)
    return fn(node);
  if (node->operands.empty())
    return node;
  llvm::SmallVector<const Node *, 2> operands;
  for (const Node *operand : node->operands)
    operands.push_back(mapReads(context, operand, fn));
  return context.get(node->op, operands);
}

/// `node` with the indices of every read mapped by `fn`.
static const Node *mapIndices(Context &context, const Node *node,
                              llvm::function_ref<Affine(const Affine &)> fn) {
  return mapReads(context, node, [&](const Node *read) {
    llvm::SmallVector<Affine, 4> indices;
    for (const Affine &index : read->indices)
      indices.push_back(fn(index));
    return context.getRead(read->tensor, indices);
  });
}

/// `node` with every iterator that `copies` maps replaced by its copy.
static const Node *
renameIterators(Context &context, const Node *node,
                const llvm::DenseMap<unsigned, unsigned> &copies) {
  return mapIndices(context, node, [&](const Affine &index) {
    Affine mapped = index;
    for (auto [it, fresh] : copies)
      mapped = mapped.substitute(it, Affine::getIterator(fresh));
    return mapped;
  });
}

/// Whether `read` is a factor of `node`: reached from it through products
/// and negations only, so that the node is 0 where the read is.
static bool isFactor(const Node *node, const Node *read) {
  if (node == read)
    return true;
  if (node->op == Op::Mul)
    return isFactor(node->operands[0], read) ||
           isFactor(node->operands[1], read);
  if (node->op == Op::Neg)
    return isFactor(node->operands[0], read);
  return false;
}

bool search::hasPole(const Program &program, const Node *node) {
  if (node->op == Op::Div || node->op == Op::Log)
    return true;
  if (node->op == Op::Read) {
    int stage = program.tensors[node->tensor].stage;
    return stage >= 0 && hasPole(program, program.stages[stage].summand);
  }
  return llvm::any_of(node->operands, [&](const Node *operand) {
    return hasPole(program, operand);
  });
}

static void collectReads(const Node *node,
                         llvm::SmallVectorImpl<const Node *> &reads) {
  if (node->op == Op::Read && !llvm::is_contained(reads, node))
    reads.push_back(node);
  for (const Node *operand : node->operands)
    collectReads(operand, reads);
}

/// The reads of `tensor` in the stages after `from`.
static llvm::SmallVector<const Node *>
getReadsOf(const Program &program, unsigned tensor, unsigned from) {
  llvm::SmallVector<const Node *> all;
  for (unsigned s = from; s < program.stages.size(); ++s) {
    llvm::SmallVector<const Node *> reads;
    collectReads(program.stages[s].summand, reads);
    for (const Node *read : reads)
      if (read->tensor == tensor)
        all.push_back(read);
  }
  return all;
}

/// Rewrites the indices of every read of `tensor` in the stages after
/// `from` by `fn`.
static void
mapReaders(Program &program, unsigned tensor, unsigned from,
           llvm::function_ref<void(llvm::SmallVectorImpl<Affine> &)> fn) {
  Context &context = program.getContext();
  for (unsigned s = from; s < program.stages.size(); ++s) {
    Stage &reader = program.stages[s];
    reader.summand = mapReads(context, reader.summand, [&](const Node *r) {
      if (r->tensor != tensor)
        return r;
      llvm::SmallVector<Affine, 4> indices(r->indices.begin(),
                                           r->indices.end());
      fn(indices);
      return context.getRead(r->tensor, indices);
    });
  }
}

/// Inserts `stage` at position `index`, renumbering later stages.
static void insertStage(Program &program, unsigned index, Stage stage) {
  for (Tensor &tensor : program.tensors)
    if (tensor.stage >= static_cast<int>(index))
      ++tensor.stage;
  program.tensors[stage.output].stage = index;
  program.stages.insert(program.stages.begin() + index, std::move(stage));
}

/// Removes tensor `tensor`, which no one reads and no stage computes,
/// renumbering the later ones.
static void removeTensor(Program &program, unsigned tensor) {
  Context &context = program.getContext();
  program.tensors.erase(program.tensors.begin() + tensor);
  for (Tensor &t : program.tensors)
    if (t.source > static_cast<int>(tensor))
      --t.source;
  for (Stage &stage : program.stages) {
    if (stage.output > tensor)
      --stage.output;
    stage.summand = mapReads(context, stage.summand, [&](const Node *read) {
      if (read->tensor < tensor)
        return read;
      return context.getRead(read->tensor - 1, read->indices);
    });
  }
}

/// A name for a new intermediate tensor.
static std::string getFreshTensorName(const Program &program) {
  for (unsigned i = 1;; ++i) {
    std::string name = "t" + std::to_string(i);
    if (llvm::none_of(program.tensors,
                      [&](const Tensor &t) { return t.name == name; }))
      return name;
  }
}

static void printIterators(llvm::raw_ostream &os, const Program &program,
                           llvm::ArrayRef<unsigned> list) {
  llvm::interleaveComma(list, os,
                        [&](unsigned it) { os << program.iterators[it].name; });
}

//===----------------------------------------------------------------------===//
// Summation splitting
//===----------------------------------------------------------------------===//

std::optional<Derived> search::splitSummation(const Program &program,
                                              unsigned stageIndex,
                                              llvm::ArrayRef<unsigned> inner) {
  if (stageIndex >= program.stages.size())
    return std::nullopt;
  const Stage &stage = program.stages[stageIndex];
  if (inner.empty() || inner.size() >= stage.summation.size() ||
      llvm::any_of(inner, [&](unsigned it) {
        return !llvm::is_contained(stage.summation, it);
      }))
    return std::nullopt;
  Derived derived{program, ""};
  Program &result = derived.program;
  Context &context = program.getContext();

  llvm::SmallVector<unsigned> outer;
  for (unsigned it : stage.summation)
    if (!llvm::is_contained(inner, it))
      outer.push_back(it);
  // The new stage binds copies of the iterators it uses.
  llvm::DenseMap<unsigned, unsigned> copies;
  auto copy = [&](unsigned it) {
    const Iterator &old = program.iterators[it];
    unsigned fresh = result.addIterator(old.name, old.lo, old.hi);
    copies[it] = fresh;
    return fresh;
  };
  Stage split;
  llvm::SmallVector<int64_t> shape;
  for (unsigned it : stage.traversal) {
    split.traversal.push_back(copy(it));
    shape.push_back(program.iterators[it].size());
  }
  for (unsigned it : outer) {
    split.traversal.push_back(copy(it));
    shape.push_back(program.iterators[it].size());
  }
  for (unsigned it : inner)
    split.summation.push_back(copy(it));
  split.summand = renameIterators(context, stage.summand, copies);
  std::string name = getFreshTensorName(result);
  split.output = result.addTensor(name, shape);

  // The stage sums the new tensor over the remaining iterators.
  Stage &rest = result.stages[stageIndex];
  llvm::SmallVector<Affine, 4> indices;
  for (unsigned it : stage.traversal)
    indices.push_back(Affine::getIterator(it) -
                      Affine(program.iterators[it].lo));
  for (unsigned it : outer)
    indices.push_back(Affine::getIterator(it) -
                      Affine(program.iterators[it].lo));
  rest.summation.assign(outer.begin(), outer.end());
  rest.summand = context.getRead(split.output, indices);

  llvm::raw_string_ostream os(derived.step);
  os << "summation splitting: Σ<";
  printIterators(os, program, inner);
  os << "> of " << program.tensors[stage.output].name << " into a stage "
     << name << "[";
  printIterators(os, program, stage.traversal);
  if (!stage.traversal.empty() && !outer.empty())
    os << ", ";
  printIterators(os, program, outer);
  os << "]";
  insertStage(result, stageIndex, std::move(split));
  return derived;
}

//===----------------------------------------------------------------------===//
// Variable substitution
//===----------------------------------------------------------------------===//

/// Drops the dimensions of stage `stageIndex`'s tensor whose traversal
/// iterator its summand does not use (a substitution can leave one): the
/// stage is constant along them. A reader must read such a dimension within
/// the tensor, else it relies on the padding there. Returns the names of the
/// iterators dropped.
static std::string dropUnusedDimensions(Program &program, unsigned stageIndex) {
  Stage &stage = program.stages[stageIndex];
  llvm::SmallVector<const Node *> reads;
  collectReads(stage.summand, reads);
  auto isUsed = [&](unsigned it) {
    return llvm::any_of(reads, [&](const Node *read) {
      return llvm::any_of(read->indices, [&](const Affine &index) {
        return index.getCoefficient(it) != 0;
      });
    });
  };
  std::string dropped;
  for (unsigned p = stage.traversal.size(); p-- > 0;) {
    unsigned it = stage.traversal[p];
    if (stage.traversal.size() == 1 || isUsed(it))
      continue;
    Tensor &output = program.tensors[stage.output];
    if (llvm::any_of(getReadsOf(program, stage.output, stageIndex + 1),
                     [&](const Node *r) {
                       return !program.isWithin(r->indices[p], output.shape[p]);
                     }))
      continue;
    mapReaders(program, stage.output, stageIndex + 1,
               [&](llvm::SmallVectorImpl<Affine> &indices) {
                 indices.erase(indices.begin() + p);
               });
    stage.traversal.erase(stage.traversal.begin() + p);
    output.shape.erase(output.shape.begin() + p);
    dropped =
        program.iterators[it].name + (dropped.empty() ? "" : ", ") + dropped;
  }
  return dropped;
}

std::optional<Derived> search::substituteIndex(const Program &program,
                                               unsigned stageIndex,
                                               const Node *read,
                                               unsigned indexPosition,
                                               unsigned iterator) {
  if (stageIndex + 1 >= program.stages.size() || read->op != Op::Read ||
      indexPosition >= read->indices.size())
    return std::nullopt;
  const Stage &stage = program.stages[stageIndex];
  const Affine &index = read->indices[indexPosition];
  int64_t coefficient = index.getCoefficient(iterator);
  if (coefficient != 1 && coefficient != -1)
    return std::nullopt;
  llvm::DenseMap<unsigned, unsigned> position;
  for (auto [p, it] : llvm::enumerate(stage.traversal))
    position[it] = p;
  // The new coordinate is the index's traversal part; the rest sums.
  Affine expr(index.constant), rest;
  for (auto [it, c] : index.terms) {
    if (position.count(it))
      expr = expr + Affine::getIterator(it) * c;
    else if (llvm::is_contained(stage.summation, it))
      rest = rest + Affine::getIterator(it) * c;
    else
      return std::nullopt;
  }
  if (expr.terms.size() < 2 || !position.count(iterator))
    return std::nullopt;

  // The range of the coordinate over the stage, tightened to the tensor
  // where the read is a factor of the summand: the read is inside it only
  // where `expr + rest` lies in [0, size) for some value of `rest`.
  std::optional<std::pair<int64_t, int64_t>> range = program.getRange(expr);
  std::optional<std::pair<int64_t, int64_t>> restRange = program.getRange(rest);
  if (!range || !restRange)
    return std::nullopt;
  int64_t lo = range->first, hi = range->second + 1;
  bool tightened = false;
  if (isFactor(stage.summand, read) && !hasPole(program, stage.summand)) {
    int64_t size = program.tensors[read->tensor].shape[indexPosition];
    int64_t insideLo = -restRange->second, insideHi = size - restRange->first;
    tightened = lo < insideLo || hi > insideHi;
    lo = std::max(lo, insideLo);
    hi = std::min(hi, insideHi);
  }
  if (lo >= hi)
    return std::nullopt;

  // A reader may rely on the tensor's padding (0 outside) only in the
  // dimensions the new coordinate does not combine: in those it combines,
  // a read outside the tensor could land inside the new range.
  const Tensor &output = program.tensors[stage.output];
  for (const Node *r : getReadsOf(program, stage.output, stageIndex + 1))
    for (auto [it, c] : expr.terms) {
      unsigned d = position[it];
      if (!program.isWithin(r->indices[d], output.shape[d]))
        return std::nullopt;
    }

  Derived derived{program, ""};
  Program &result = derived.program;
  Context &context = program.getContext();
  std::string name = program.iterators[iterator].name + "'";
  unsigned fresh = result.addIterator(name, lo, hi);
  // coefficient * iterator = fresh - (expr - coefficient * iterator), and
  // the coefficient is its own inverse.
  Affine by = (Affine::getIterator(fresh) -
               (expr - Affine::getIterator(iterator) * coefficient)) *
              coefficient;
  Stage &changed = result.stages[stageIndex];
  unsigned p = position[iterator];
  changed.traversal[p] = fresh;
  changed.summand =
      mapIndices(context, stage.summand, [&](const Affine &index) {
        return index.substitute(iterator, by);
      });
  result.tensors[stage.output].shape[p] = hi - lo;

  // Readers read the new layout: the new coordinate is the index's value
  // at the element they read, less the new range's start.
  mapReaders(result, stage.output, stageIndex + 1,
             [&](llvm::SmallVectorImpl<Affine> &indices) {
               Affine value(expr.constant - lo);
               for (auto [it, c] : expr.terms)
                 value = value + (indices[position[it]] +
                                  Affine(program.iterators[it].lo)) *
                                     c;
               indices[p] = value;
             });
  std::string dropped = dropUnusedDimensions(result, stageIndex);

  llvm::raw_string_ostream os(derived.step);
  os << "variable substitution: " << name << " = (";
  printAffine(
      os, expr, [&](unsigned it) { os << program.iterators[it].name; },
      /*spaced=*/true);
  os << ") in " << program.tensors[stage.output].name << ", over [" << lo
     << ", " << hi << ")";
  if (tightened)
    os << " (tightened to " << program.tensors[read->tensor].name << ")";
  if (!dropped.empty())
    os << "; " << program.tensors[stage.output].name << " no longer depends on "
       << dropped;
  return derived;
}

//===----------------------------------------------------------------------===//
// Variable splitting and boundary relaxation
//===----------------------------------------------------------------------===//

/// Whether the summand of `stage` is 0 wherever `iterator` lies in
/// [from, to): a factor of it reads outside its tensor there.
static bool isZeroOver(const Program &program, const Stage &stage,
                       unsigned iterator, int64_t from, int64_t to) {
  // 0 times an infinite factor is NaN, not 0.
  if (hasPole(program, stage.summand))
    return false;
  Program widened = program;
  widened.iterators[iterator].lo = from;
  widened.iterators[iterator].hi = to;
  llvm::SmallVector<const Node *> reads;
  collectReads(stage.summand, reads);
  for (const Node *read : reads) {
    if (!isFactor(stage.summand, read))
      continue;
    for (auto [d, index] : llvm::enumerate(read->indices)) {
      if (index.getCoefficient(iterator) == 0)
        continue;
      std::optional<std::pair<int64_t, int64_t>> range =
          widened.getRange(index);
      int64_t size = program.tensors[read->tensor].shape[d];
      if (range && (range->second < 0 || range->first >= size))
        return true;
    }
  }
  return false;
}

std::optional<Derived> search::splitVariable(const Program &program,
                                             unsigned stageIndex,
                                             unsigned iterator,
                                             int64_t factor) {
  if (stageIndex >= program.stages.size())
    return std::nullopt;
  const Stage &stage = program.stages[stageIndex];
  if (!llvm::is_contained(stage.summation, iterator))
    return std::nullopt;
  const Iterator &old = program.iterators[iterator];
  int64_t size = old.size();
  if (factor < 2 || factor >= size)
    return std::nullopt;
  // Boundary relaxation: the range grows to a multiple of the factor where
  // the summand is 0 on the points it gains, and by a quarter at most (the
  // work spent on those points).
  int64_t relaxed = (size + factor - 1) / factor * factor;
  if (relaxed != size &&
      (4 * relaxed > 5 * size ||
       !isZeroOver(program, stage, iterator, old.hi, old.lo + relaxed)))
    return std::nullopt;

  Derived derived{program, ""};
  Program &result = derived.program;
  Context &context = program.getContext();
  unsigned outer = result.addIterator(old.name + "1", 0, relaxed / factor);
  unsigned inner = result.addIterator(old.name + "2", 0, factor);
  // iterator = lo + factor * outer + inner.
  Affine by = Affine(old.lo) + Affine::getIterator(outer) * factor +
              Affine::getIterator(inner);
  Stage &changed = result.stages[stageIndex];
  changed.summation.erase(llvm::find(changed.summation, iterator));
  changed.summation.push_back(outer);
  changed.summation.push_back(inner);
  changed.summand =
      mapIndices(context, stage.summand, [&](const Affine &index) {
        return index.substitute(iterator, by);
      });

  llvm::raw_string_ostream os(derived.step);
  os << "variable splitting: " << old.name << " = ";
  if (old.lo != 0)
    os << old.lo << " + ";
  os << factor << " * " << old.name << "1 + " << old.name << "2 in "
     << program.tensors[stage.output].name << ", over [" << old.lo << ", "
     << old.lo + relaxed << ")";
  if (relaxed != size)
    os << " (relaxed from [" << old.lo << ", " << old.hi
       << "): the summand is 0 there)";
  return derived;
}

//===----------------------------------------------------------------------===//
// Variable splitting of traversals and data layout transformation
//===----------------------------------------------------------------------===//

/// Before stage `stageIndex`'s tensor changes its dimensions: where it is
/// the result's, the program keeps the result's shape as a view.
static void keepResultShape(Program &program, unsigned stageIndex) {
  if (stageIndex + 1 == program.stages.size() && program.resultShape.empty())
    program.resultShape = program.tensors[program.getResult()].shape;
}

/// `index` as `factor * quotient + remainder`: the remainder one iterator
/// with coefficient 1 over a range within [0, factor), every other
/// coefficient and the constant multiples of `factor`. Then the index lies
/// in a dimension of a multiple of `factor` exactly where the quotient lies
/// in the dimension divided by `factor`.
static std::optional<std::pair<Affine, Affine>>
divideIndex(const Program &program, const Affine &index, int64_t factor) {
  if (factor < 2 || index.constant % factor != 0)
    return std::nullopt;
  Affine quotient(index.constant / factor), remainder;
  bool found = false;
  for (auto [it, c] : index.terms) {
    if (c % factor == 0) {
      quotient = quotient + Affine::getIterator(it) * (c / factor);
      continue;
    }
    const Iterator &range = program.iterators[it];
    if (found || c != 1 || range.lo < 0 || range.hi > factor)
      return std::nullopt;
    remainder = Affine::getIterator(it);
    found = true;
  }
  if (!found)
    return std::nullopt;
  return std::make_pair(quotient, remainder);
}

/// Replaces index `dim` of `indices` by the quotient and the remainder of
/// dividing it by `factor` (which divideIndex must allow).
static void splitIndex(const Program &program,
                       llvm::SmallVectorImpl<Affine> &indices, unsigned dim,
                       int64_t factor) {
  auto [quotient, remainder] = *divideIndex(program, indices[dim], factor);
  indices[dim] = remainder;
  indices.insert(indices.begin() + dim, quotient);
}

std::optional<Derived> search::splitTraversal(const Program &program,
                                              unsigned stageIndex,
                                              unsigned iterator,
                                              int64_t factor) {
  if (stageIndex >= program.stages.size())
    return std::nullopt;
  const Stage &stage = program.stages[stageIndex];
  auto found = llvm::find(stage.traversal, iterator);
  if (found == stage.traversal.end())
    return std::nullopt;
  unsigned p = found - stage.traversal.begin();
  const Iterator &old = program.iterators[iterator];
  int64_t size = old.size();
  if (factor < 2 || factor >= size || size % factor != 0)
    return std::nullopt;
  // Readers read the split dimension as a quotient and a remainder.
  for (const Node *read : getReadsOf(program, stage.output, stageIndex + 1))
    if (!divideIndex(program, read->indices[p], factor))
      return std::nullopt;

  Derived derived{program, ""};
  Program &result = derived.program;
  Context &context = program.getContext();
  keepResultShape(result, stageIndex);
  unsigned outer = result.addIterator(old.name + "1", 0, size / factor);
  unsigned inner = result.addIterator(old.name + "2", 0, factor);
  Affine by = Affine(old.lo) + Affine::getIterator(outer) * factor +
              Affine::getIterator(inner);
  Stage &changed = result.stages[stageIndex];
  changed.traversal[p] = inner;
  changed.traversal.insert(changed.traversal.begin() + p, outer);
  changed.summand =
      mapIndices(context, stage.summand, [&](const Affine &index) {
        return index.substitute(iterator, by);
      });
  llvm::SmallVector<int64_t, 4> &shape = result.tensors[stage.output].shape;
  shape[p] = factor;
  shape.insert(shape.begin() + p, size / factor);
  mapReaders(result, stage.output, stageIndex + 1,
             [&](llvm::SmallVectorImpl<Affine> &indices) {
               splitIndex(program, indices, p, factor);
             });

  llvm::raw_string_ostream os(derived.step);
  os << "variable splitting: " << old.name << " = ";
  if (old.lo != 0)
    os << old.lo << " + ";
  os << factor << " * " << old.name << "1 + " << old.name << "2 in "
     << program.tensors[stage.output].name << ", whose dimension " << p
     << " splits into " << size / factor << " x " << factor;
  return derived;
}

/// Adds `copy` (its traversal and summand set), a stage that writes a new
/// layout of the tensor that `read` reads, of shape `shape`, and makes
/// `read` (in stage `stageIndex`) a read of it at `indices`. The copy runs
/// first for an input, else right after the tensor's stage. Returns the
/// copy's name: the tensor's, primed.
static std::string replaceByLayoutCopy(Program &result, unsigned stageIndex,
                                       const Node *read, Stage copy,
                                       llvm::ArrayRef<int64_t> shape,
                                       llvm::ArrayRef<Affine> indices) {
  Context &context = result.getContext();
  int source = result.tensors[read->tensor].stage;
  unsigned at = source < 0 ? 0 : source + 1;
  std::string name = result.tensors[read->tensor].name + "'";
  while (llvm::any_of(result.tensors,
                      [&](const Tensor &t) { return t.name == name; }))
    name += "'";
  copy.output = result.addTensor(name, shape);
  const Node *moved = context.getRead(copy.output, indices);
  Stage &reader = result.stages[stageIndex];
  reader.summand = mapReads(context, reader.summand, [&](const Node *r) {
    return r == read ? moved : r;
  });
  insertStage(result, at, std::move(copy));
  return name;
}

std::optional<Derived> search::splitDimension(const Program &program,
                                              unsigned stageIndex,
                                              const Node *read, unsigned dim,
                                              int64_t factor) {
  if (stageIndex >= program.stages.size() || read->op != Op::Read ||
      dim >= read->indices.size())
    return std::nullopt;
  // A view's dimensions split by reading its input (or a view of it):
  // a copy would lay out the input's elements again.
  const Tensor &tensor = program.tensors[read->tensor];
  if (tensor.isView() || factor < 2 || tensor.shape[dim] % factor != 0 ||
      !divideIndex(program, read->indices[dim], factor))
    return std::nullopt;

  Derived derived{program, ""};
  Program &result = derived.program;
  Context &context = program.getContext();
  // The new layout: a stage that copies the tensor, the dimension split.
  Stage copy;
  llvm::SmallVector<Affine, 4> indices;
  llvm::SmallVector<int64_t, 4> shape;
  for (auto [d, extent] : llvm::enumerate(tensor.shape)) {
    std::string name = tensor.name + "_" + std::to_string(d);
    if (d != dim) {
      unsigned it = result.addIterator(name, 0, extent);
      copy.traversal.push_back(it);
      indices.push_back(Affine::getIterator(it));
      shape.push_back(extent);
      continue;
    }
    unsigned outer = result.addIterator(name + "1", 0, extent / factor);
    unsigned inner = result.addIterator(name + "2", 0, factor);
    copy.traversal.append({outer, inner});
    indices.push_back(Affine::getIterator(outer) * factor +
                      Affine::getIterator(inner));
    shape.append({extent / factor, factor});
  }
  copy.summand = context.getRead(read->tensor, indices);
  llvm::SmallVector<Affine, 4> splitIndices(read->indices.begin(),
                                            read->indices.end());
  splitIndex(program, splitIndices, dim, factor);
  std::string name = replaceByLayoutCopy(result, stageIndex, read,
                                         std::move(copy), shape, splitIndices);

  llvm::raw_string_ostream os(derived.step);
  os << "data layout: dimension " << dim << " of " << tensor.name
     << " splits into " << tensor.shape[dim] / factor << " x " << factor << " ("
     << name << ")";
  return derived;
}

std::optional<Derived>
search::reorderDimensions(const Program &program, unsigned stageIndex,
                          const Node *read, llvm::ArrayRef<unsigned> order) {
  if (stageIndex >= program.stages.size() || read->op != Op::Read ||
      order.size() != read->indices.size() || order.size() < 2)
    return std::nullopt;
  llvm::SmallVector<unsigned, 4> sorted(order.begin(), order.end());
  llvm::sort(sorted);
  for (auto [d, value] : llvm::enumerate(sorted))
    if (value != d)
      return std::nullopt;
  if (llvm::equal(order, sorted))
    return std::nullopt; // The identity.

  Derived derived{program, ""};
  Program &result = derived.program;
  Context &context = program.getContext();
  const Tensor &tensor = program.tensors[read->tensor];
  // The copy's dimension d is the tensor's dimension order[d].
  Stage copy;
  llvm::SmallVector<Affine, 4> sourceIndices(order.size());
  llvm::SmallVector<Affine, 4> copyIndices;
  llvm::SmallVector<int64_t, 4> shape;
  for (unsigned from : order) {
    int64_t extent = tensor.shape[from];
    unsigned it =
        result.addIterator(tensor.name + "_" + std::to_string(from), 0, extent);
    copy.traversal.push_back(it);
    sourceIndices[from] = Affine::getIterator(it);
    copyIndices.push_back(read->indices[from]);
    shape.push_back(extent);
  }
  copy.summand = context.getRead(read->tensor, sourceIndices);
  std::string name = replaceByLayoutCopy(result, stageIndex, read,
                                         std::move(copy), shape, copyIndices);

  llvm::raw_string_ostream os(derived.step);
  os << "data layout: " << tensor.name << " reordered as " << name << "[";
  llvm::interleaveComma(order, os, [&](unsigned from) { os << "d" << from; });
  os << "]";
  return derived;
}

std::optional<Derived> search::mergeDimensions(const Program &program,
                                               unsigned stageIndex,
                                               const Node *read, unsigned dim) {
  if (stageIndex >= program.stages.size() || read->op != Op::Read ||
      dim + 1 >= read->indices.size())
    return std::nullopt;
  const Tensor &tensor = program.tensors[read->tensor];
  int64_t width = tensor.shape[dim + 1];
  // Within the inner dimension, the merged index is outside the view
  // exactly where the pair was outside the tensor.
  if (tensor.stage >= 0 || !program.isWithin(read->indices[dim + 1], width))
    return std::nullopt;

  Derived derived{program, ""};
  Program &result = derived.program;
  Context &context = program.getContext();
  llvm::SmallVector<int64_t, 4> shape(tensor.shape.begin(), tensor.shape.end());
  shape[dim] *= width;
  shape.erase(shape.begin() + dim + 1);
  unsigned view = result.getView(read->tensor, shape);
  llvm::SmallVector<Affine, 4> indices(read->indices.begin(),
                                       read->indices.end());
  indices[dim] = indices[dim] * width + indices[dim + 1];
  indices.erase(indices.begin() + dim + 1);
  const Node *moved = context.getRead(view, indices);
  Stage &reader = result.stages[stageIndex];
  reader.summand = mapReads(context, reader.summand, [&](const Node *r) {
    return r == read ? moved : r;
  });
  std::string viewName = result.tensors[view].name;
  // A view merged further may be read no more.
  if (tensor.isView() && getReadsOf(result, read->tensor, 0).empty())
    removeTensor(result, read->tensor);

  llvm::raw_string_ostream os(derived.step);
  os << "data layout: dimensions " << dim << " and " << dim + 1 << " of "
     << tensor.name << " merge (" << viewName << ")";
  return derived;
}

llvm::SmallVector<unsigned, 4> search::getTraversalOrder(const Stage &stage,
                                                         const Node *read) {
  // An index's key: the position of its first iterator in the stage's
  // loop order (traversal, then summation); a constant index comes first.
  llvm::SmallVector<unsigned, 8> loops(stage.traversal.begin(),
                                       stage.traversal.end());
  llvm::append_range(loops, stage.summation);
  auto key = [&](const Affine &index) {
    int position = -1;
    for (auto [it, c] : index.terms) {
      int at = static_cast<int>(llvm::find(loops, it) - loops.begin());
      if (position < 0 || at < position)
        position = at;
    }
    return position;
  };
  llvm::SmallVector<unsigned, 4> order;
  for (unsigned d = 0; d < read->indices.size(); ++d)
    order.push_back(d);
  llvm::stable_sort(order, [&](unsigned a, unsigned b) {
    return key(read->indices[a]) < key(read->indices[b]);
  });
  return order;
}

//===----------------------------------------------------------------------===//
// Stage merging
//===----------------------------------------------------------------------===//

static unsigned countReads(const Node *node, unsigned tensor) {
  unsigned count = node->op == Op::Read && node->tensor == tensor ? 1 : 0;
  for (const Node *operand : node->operands)
    count += countReads(operand, tensor);
  return count;
}

/// Removes stage `index` and its tensor, which no one reads.
static void removeStage(Program &program, unsigned index) {
  unsigned tensor = program.stages[index].output;
  program.stages.erase(program.stages.begin() + index);
  for (Tensor &t : program.tensors)
    if (t.stage > static_cast<int>(index))
      --t.stage;
  removeTensor(program, tensor);
}

std::optional<Derived> search::mergeStage(const Program &program,
                                          unsigned stageIndex,
                                          unsigned tensor) {
  if (stageIndex >= program.stages.size() || tensor >= program.tensors.size() ||
      program.tensors[tensor].stage < 0)
    return std::nullopt;
  unsigned producerIndex = program.tensors[tensor].stage;
  const Stage &producer = program.stages[producerIndex];
  const Stage &stage = program.stages[stageIndex];
  // A stage that sums merges into its one reader; one that does not (a
  // memory-bound stage) fuses into every read of its one reading stage.
  unsigned count = countReads(stage.summand, tensor);
  if (count == 0 || (count > 1 && !producer.summation.empty()))
    return std::nullopt;
  for (auto [s, other] : llvm::enumerate(program.stages))
    if (s != stageIndex && countReads(other.summand, tensor) != 0)
      return std::nullopt;
  llvm::SmallVector<const Node *> reads;
  collectReads(stage.summand, reads);
  llvm::erase_if(reads, [&](const Node *r) { return r->tensor != tensor; });
  for (const Node *read : reads) {
    if (!producer.summation.empty() && !isFactor(stage.summand, read))
      return std::nullopt;
    for (auto [d, index] : llvm::enumerate(read->indices))
      if (!program.isWithin(index, program.tensors[tensor].shape[d]))
        return std::nullopt;
  }

  Derived derived{program, ""};
  Program &result = derived.program;
  Context &context = program.getContext();
  // The producer's summand at the element read: its traversal iterators
  // are the read's indices (plus their starts), its summation iterators
  // fresh copies that the stage sums over.
  Stage &merged = result.stages[stageIndex];
  llvm::DenseMap<const Node *, const Node *> inlined;
  for (const Node *read : reads) {
    llvm::DenseMap<unsigned, Affine> replacements;
    for (auto [d, it] : llvm::enumerate(producer.traversal))
      replacements[it] = read->indices[d] + Affine(program.iterators[it].lo);
    for (unsigned it : producer.summation) {
      const Iterator &old = program.iterators[it];
      unsigned fresh = result.addIterator(old.name, old.lo, old.hi);
      replacements[it] = Affine::getIterator(fresh);
      merged.summation.push_back(fresh);
    }
    inlined[read] =
        mapIndices(context, producer.summand, [&](const Affine &index) {
          // All at once: a replacement may mention a replaced iterator.
          Affine mapped(index.constant);
          for (auto [it, c] : index.terms) {
            auto found = replacements.find(it);
            mapped = mapped + (found != replacements.end()
                                   ? found->second
                                   : Affine::getIterator(it)) *
                                  c;
          }
          return mapped;
        });
  }
  merged.summand = mapReads(context, stage.summand, [&](const Node *r) {
    auto found = inlined.find(r);
    return found != inlined.end() ? found->second : r;
  });
  removeStage(result, producerIndex);

  llvm::raw_string_ostream os(derived.step);
  os << (count > 1 ? "expression fusion: " : "stage merging: ")
     << program.tensors[tensor].name << " into "
     << program.tensors[stage.output].name;
  if (count > 1)
    os << " (" << count << " reads)";
  return derived;
}

//===----------------------------------------------------------------------===//
// Expression splitting
//===----------------------------------------------------------------------===//

/// Whether `node` occurs in `root`.
static bool contains(const Node *root, const Node *node) {
  return root == node || llvm::any_of(root->operands, [&](const Node *operand) {
           return contains(operand, node);
         });
}

std::optional<Derived> search::splitExpression(const Program &program,
                                               unsigned stageIndex,
                                               const Node *node) {
  if (stageIndex >= program.stages.size() || node->op == Op::Read ||
      node->op == Op::Constant)
    return std::nullopt;
  const Stage &stage = program.stages[stageIndex];
  if (!contains(stage.summand, node))
    return std::nullopt;
  llvm::SmallVector<const Node *> reads;
  collectReads(node, reads);
  // The new stage traverses the iterators the expression uses, the
  // stage's traversal first.
  llvm::SmallVector<unsigned> used;
  for (unsigned it :
       llvm::concat<const unsigned>(stage.traversal, stage.summation))
    if (llvm::any_of(reads, [&](const Node *read) {
          return llvm::any_of(read->indices, [&](const Affine &index) {
            return index.getCoefficient(it) != 0;
          });
        }))
      used.push_back(it);
  if (reads.empty() || used.empty())
    return std::nullopt;

  Derived derived{program, ""};
  Program &result = derived.program;
  Context &context = program.getContext();
  Stage split;
  llvm::DenseMap<unsigned, unsigned> copies;
  llvm::SmallVector<int64_t> shape;
  llvm::SmallVector<Affine, 4> indices;
  for (unsigned it : used) {
    const Iterator &old = program.iterators[it];
    unsigned fresh = result.addIterator(old.name, old.lo, old.hi);
    copies[it] = fresh;
    split.traversal.push_back(fresh);
    shape.push_back(old.size());
    indices.push_back(Affine::getIterator(it) - Affine(old.lo));
  }
  split.summand = renameIterators(context, node, copies);
  std::string name = getFreshTensorName(result);
  split.output = result.addTensor(name, shape);
  const Node *read = context.getRead(split.output, indices);
  std::function<const Node *(const Node *)> replace =
      [&](const Node *n) -> const Node * {
    if (n == node)
      return read;
    if (n->operands.empty())
      return n;
    llvm::SmallVector<const Node *, 2> operands;
    for (const Node *operand : n->operands)
      operands.push_back(replace(operand));
    return context.get(n->op, operands);
  };
  result.stages[stageIndex].summand = replace(stage.summand);

  llvm::raw_string_ostream os(derived.step);
  os << "expression splitting: ";
  program.printNode(os, node);
  os << " of " << program.tensors[stage.output].name << " into a stage " << name
     << "[";
  printIterators(os, program, used);
  os << "]";
  insertStage(result, stageIndex, std::move(split));
  return derived;
}

std::optional<Derived> search::splitTerms(const Program &program,
                                          unsigned stageIndex) {
  if (stageIndex >= program.stages.size())
    return std::nullopt;
  const Stage &stage = program.stages[stageIndex];
  const Node *summand = stage.summand;
  // Not a scalar stage: a scalar intermediate has no tensor to read in
  // Leibniz (the result's stage may be one).
  if (stage.summation.empty() || stage.traversal.empty() ||
      (summand->op != Op::Add && summand->op != Op::Sub))
    return std::nullopt;

  Derived derived{program, ""};
  Program &result = derived.program;
  Context &context = program.getContext();
  llvm::SmallVector<int64_t> shape;
  llvm::SmallVector<Affine, 4> indices;
  for (unsigned it : stage.traversal) {
    const Iterator &iterator = program.iterators[it];
    shape.push_back(iterator.size());
    indices.push_back(Affine::getIterator(it) - Affine(iterator.lo));
  }
  // One stage per term, over copies of the stage's iterators.
  llvm::SmallVector<Stage, 2> parts;
  llvm::SmallVector<const Node *, 2> reads;
  llvm::SmallVector<std::string, 2> names;
  for (const Node *term : summand->operands) {
    Stage part;
    llvm::DenseMap<unsigned, unsigned> copies;
    for (unsigned it :
         llvm::concat<const unsigned>(stage.traversal, stage.summation)) {
      const Iterator &old = program.iterators[it];
      copies[it] = result.addIterator(old.name, old.lo, old.hi);
    }
    for (unsigned it : stage.traversal)
      part.traversal.push_back(copies[it]);
    for (unsigned it : stage.summation)
      part.summation.push_back(copies[it]);
    part.summand = renameIterators(context, term, copies);
    names.push_back(getFreshTensorName(result));
    part.output = result.addTensor(names.back(), shape);
    reads.push_back(context.getRead(part.output, indices));
    parts.push_back(std::move(part));
  }
  Stage &combined = result.stages[stageIndex];
  combined.summation.clear();
  combined.summand = context.get(summand->op, reads);

  llvm::raw_string_ostream os(derived.step);
  os << "expression splitting: the terms of "
     << program.tensors[stage.output].name << " into stages ";
  for (auto [i, name] : llvm::enumerate(names)) {
    os << (i ? " and " : "") << name << "[";
    printIterators(os, program, stage.traversal);
    os << "]";
  }
  insertStage(result, stageIndex, std::move(parts[1]));
  insertStage(result, stageIndex, std::move(parts[0]));
  return derived;
}

/// The factors of `node` (through products and negations) that are
/// expressions of reads, not reads themselves.
static void collectCompoundFactors(const Node *node,
                                   llvm::SmallVectorImpl<const Node *> &out) {
  if (node->op == Op::Mul || node->op == Op::Neg) {
    for (const Node *operand : node->operands)
      collectCompoundFactors(operand, out);
    return;
  }
  if (node->op != Op::Read && node->op != Op::Constant &&
      !llvm::is_contained(out, node))
    out.push_back(node);
}

//===----------------------------------------------------------------------===//
// Traversal merging
//===----------------------------------------------------------------------===//

std::optional<Derived> search::mergeTraversal(const Program &program,
                                              unsigned stageIndex,
                                              unsigned position) {
  if (stageIndex >= program.stages.size())
    return std::nullopt;
  const Stage &stage = program.stages[stageIndex];
  if (position + 1 >= stage.traversal.size())
    return std::nullopt;
  unsigned outer = stage.traversal[position];
  unsigned inner = stage.traversal[position + 1];
  const Iterator &a = program.iterators[outer];
  const Iterator &b = program.iterators[inner];
  int64_t width = b.size();
  // The summand must use them only as `c * (width * outer + inner)`.
  llvm::SmallVector<const Node *> reads;
  collectReads(stage.summand, reads);
  bool together = true, used = false;
  for (const Node *read : reads)
    for (const Affine &index : read->indices) {
      int64_t co = index.getCoefficient(outer),
              ci = index.getCoefficient(inner);
      together &= co == width * ci;
      used |= ci != 0;
    }
  if (!together || !used || a.size() == 0 || width == 0)
    return std::nullopt;
  // Readers read the inner dimension within it, so that the merged index
  // is outside the tensor exactly where the pair was.
  for (const Node *read : getReadsOf(program, stage.output, stageIndex + 1))
    if (!program.isWithin(read->indices[position + 1], width))
      return std::nullopt;

  Derived derived{program, ""};
  Program &result = derived.program;
  Context &context = program.getContext();
  keepResultShape(result, stageIndex);
  std::string name = a.name + b.name;
  unsigned merged = result.addIterator(name, 0, a.size() * width);
  // width * outer + inner = merged + width * lo(outer) + lo(inner).
  Affine value = Affine::getIterator(merged) + Affine(width * a.lo + b.lo);
  Stage &changed = result.stages[stageIndex];
  changed.summand =
      mapIndices(context, stage.summand, [&](const Affine &index) {
        int64_t c = index.getCoefficient(inner);
        if (c == 0)
          return index;
        return index.substitute(outer, Affine()).substitute(inner, Affine()) +
               value * c;
      });
  changed.traversal[position] = merged;
  changed.traversal.erase(changed.traversal.begin() + position + 1);
  llvm::SmallVector<int64_t, 4> &shape = result.tensors[stage.output].shape;
  shape[position] = a.size() * width;
  shape.erase(shape.begin() + position + 1);
  mapReaders(result, stage.output, stageIndex + 1,
             [&](llvm::SmallVectorImpl<Affine> &indices) {
               indices[position] =
                   indices[position] * width + indices[position + 1];
               indices.erase(indices.begin() + position + 1);
             });
  if (result.resultShape == result.tensors[result.getResult()].shape)
    result.resultShape.clear();

  llvm::raw_string_ostream os(derived.step);
  os << "traversal merging: " << name << " = " << width << " * " << a.name
     << " + " << b.name << " in " << program.tensors[stage.output].name;
  return derived;
}

//===----------------------------------------------------------------------===//
// All derivations of a program
//===----------------------------------------------------------------------===//

/// The reorderings of deriveAll's `layouts`: each read of an input in a
/// stage that sums, into the order the stage runs over it, where it is not
/// and no stage copies the input yet (a stage that only reads it, as a
/// layout's copy does). Copying an input once bounds the states: each
/// misordered read would otherwise double them again in every state.
static void deriveReorderings(const Program &program,
                              std::vector<Derived> &all) {
  for (unsigned s = 0; s < program.stages.size(); ++s) {
    const Stage &stage = program.stages[s];
    if (stage.summation.empty())
      continue;
    llvm::SmallVector<const Node *> reads;
    collectReads(stage.summand, reads);
    for (const Node *read : reads) {
      bool copied = llvm::any_of(program.stages, [&](const Stage &other) {
        return other.summation.empty() && other.summand->op == Op::Read &&
               other.summand->tensor == read->tensor;
      });
      if (!program.tensors[read->tensor].isInput() || copied)
        continue;
      if (auto derived = reorderDimensions(program, s, read,
                                           getTraversalOrder(stage, read)))
        all.push_back(std::move(*derived));
    }
  }
}

/// The merges of deriveAll's `layouts`: for each pair of adjacent
/// traversal iterators `a, b` of a stage that every read using them reads
/// as adjacent dimensions `[..., a, b, ...]` of an input, those dimensions
/// merge in every such read (mergeDimensions), so that traversal merging
/// can make `a, b` one iterator. Each input is viewed once, as each is
/// reordered once: that bounds the states.
static void deriveMerges(const Program &program, std::vector<Derived> &all) {
  for (unsigned s = 0; s < program.stages.size(); ++s) {
    const Stage &stage = program.stages[s];
    // A copy (a layout's) is not a loop worth merging: merges in copies
    // would multiply the states (Conv3x3's by a hundred at depth 6).
    if (stage.summand->op == Op::Read)
      continue;
    llvm::SmallVector<const Node *> reads;
    collectReads(stage.summand, reads);
    for (unsigned p = 0; p + 1 < stage.traversal.size(); ++p) {
      unsigned a = stage.traversal[p], b = stage.traversal[p + 1];
      // Each read that uses `a` or `b`, and the dimension of `a` in it.
      llvm::SmallVector<std::pair<const Node *, unsigned>> merged;
      bool ok = true;
      for (const Node *read : reads) {
        std::optional<unsigned> at;
        unsigned uses = 0;
        for (auto [d, index] : llvm::enumerate(read->indices)) {
          uses += index.getCoefficient(a) != 0;
          uses += index.getCoefficient(b) != 0;
          // `b` spans the inner dimension, so that the stage uses `a, b`
          // as one index that traversal merging can take.
          if (index == Affine::getIterator(a) && d + 1 < read->indices.size() &&
              read->indices[d + 1] == Affine::getIterator(b) &&
              program.iterators[b].lo == 0 &&
              program.iterators[b].size() ==
                  program.tensors[read->tensor].shape[d + 1])
            at = d;
        }
        if (uses == 0)
          continue;
        const Tensor &tensor = program.tensors[read->tensor];
        bool viewed = tensor.isView() ||
                      llvm::any_of(program.tensors, [&](const Tensor &t) {
                        return t.source == static_cast<int>(read->tensor);
                      });
        if (!at || uses != 2 || tensor.stage >= 0 || viewed) {
          ok = false;
          break;
        }
        merged.push_back({read, *at});
      }
      if (!ok || merged.empty())
        continue;
      Derived derived{program, ""};
      for (auto [read, d] : merged) {
        // Reads are unique nodes: each is still in the derived stage.
        std::optional<Derived> next =
            mergeDimensions(derived.program, s, read, d);
        if (!next) {
          ok = false;
          break;
        }
        derived.step += (derived.step.empty() ? "" : "; ") + next->step;
        derived.program = std::move(next->program);
      }
      if (ok)
        all.push_back(std::move(derived));
    }
  }
}

std::vector<Derived> search::deriveAll(const Program &program, bool layouts) {
  std::vector<Derived> all;
  for (unsigned s = 0; s < program.stages.size(); ++s) {
    const Stage &stage = program.stages[s];
    size_t k = stage.summation.size();
    if (k >= 2 && k <= 5) {
      for (unsigned mask = 1; mask + 1 < (1u << k); ++mask) {
        llvm::SmallVector<unsigned> inner;
        for (unsigned b = 0; b < k; ++b)
          if (mask & (1u << b))
            inner.push_back(stage.summation[b]);
        if (auto derived = splitSummation(program, s, inner))
          all.push_back(std::move(*derived));
      }
    }
    llvm::SmallVector<const Node *> stageReads;
    collectReads(stage.summand, stageReads);
    llvm::SmallVector<unsigned> merged;
    for (const Node *read : stageReads)
      if (program.tensors[read->tensor].stage >= 0 &&
          !llvm::is_contained(merged, read->tensor)) {
        merged.push_back(read->tensor);
        if (auto derived = mergeStage(program, s, read->tensor))
          all.push_back(std::move(*derived));
      }
    // Windows (a summed iterator that an index combines with another) split
    // into factors of their size or of a size a little larger.
    for (unsigned it : stage.summation) {
      bool isWindow = llvm::any_of(stageReads, [&](const Node *read) {
        return llvm::any_of(read->indices, [&](const Affine &index) {
          return index.getCoefficient(it) != 0 && index.terms.size() > 1;
        });
      });
      if (!isWindow)
        continue;
      for (int64_t factor = 2; factor < program.iterators[it].size(); ++factor)
        if (auto derived = splitVariable(program, s, it, factor))
          all.push_back(std::move(*derived));
    }
    // Traversals split by the dilation of a window over them (`i + D·w`),
    // and the dimensions of reads whose index such a split leaves as
    // `D·q + r`.
    for (unsigned it : stage.traversal) {
      llvm::SmallVector<int64_t> factors;
      for (const Node *read : stageReads)
        for (const Affine &index : read->indices)
          if (index.getCoefficient(it) == 1)
            for (auto [other, c] : index.terms)
              if (other != it && std::abs(c) >= 2 &&
                  !llvm::is_contained(factors, std::abs(c)))
                factors.push_back(std::abs(c));
      for (int64_t factor : factors)
        if (auto derived = splitTraversal(program, s, it, factor))
          all.push_back(std::move(*derived));
    }
    for (const Node *read : stageReads)
      for (auto [d, index] : llvm::enumerate(read->indices)) {
        int64_t factor = std::abs(index.constant);
        for (auto [it, c] : index.terms)
          if (c != 1)
            factor = std::gcd(factor, std::abs(c));
        if (factor >= 2)
          if (auto derived = splitDimension(program, s, read, d, factor))
            all.push_back(std::move(*derived));
      }
    for (unsigned p = 0; p + 1 < stage.traversal.size(); ++p)
      if (auto derived = mergeTraversal(program, s, p))
        all.push_back(std::move(*derived));
    llvm::SmallVector<const Node *> compound;
    collectCompoundFactors(stage.summand, compound);
    for (const Node *node : compound)
      if (auto derived = splitExpression(program, s, node))
        all.push_back(std::move(*derived));
    if (s + 1 == program.stages.size())
      continue;
    llvm::SmallVector<const Node *> reads;
    collectReads(stage.summand, reads);
    for (const Node *read : reads)
      for (auto [d, index] : llvm::enumerate(read->indices))
        for (auto [it, c] : index.terms)
          if (c == 1 || c == -1)
            if (auto derived = substituteIndex(program, s, read, d, it))
              all.push_back(std::move(*derived));
  }
  for (unsigned s = 0; s < program.stages.size(); ++s)
    if (auto derived = splitTerms(program, s))
      all.push_back(std::move(*derived));
  // Last, so that the other derivations keep their positions (replay of a
  // path found without them).
  if (layouts) {
    deriveReorderings(program, all);
    deriveMerges(program, all);
  }
  return all;
}

//===----------------------------------------------------------------------===//
// Operator matching
//===----------------------------------------------------------------------===//

std::string OperatorMatch::describe() const {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "Matmul(";
  if (batch != 1)
    os << batch << " x ";
  os << m << " x " << n << " x " << k << ")";
  return text;
}

std::optional<OperatorMatch> search::matchOperator(const Program &program,
                                                   const Stage &stage) {
  const Node *summand = stage.summand;
  if (summand->op != Op::Mul)
    return std::nullopt;
  const Node *a = summand->operands[0];
  const Node *b = summand->operands[1];
  if (a->op != Op::Read || b->op != Op::Read)
    return std::nullopt;
  // Each index is one iterator over a whole dimension.
  auto dimensions =
      [&](const Node *read) -> std::optional<llvm::SmallVector<unsigned, 4>> {
    llvm::SmallVector<unsigned, 4> its;
    for (auto [d, index] : llvm::enumerate(read->indices)) {
      if (index.constant != 0 || index.terms.size() != 1 ||
          index.terms[0].second != 1)
        return std::nullopt;
      unsigned it = index.terms[0].first;
      const Iterator &range = program.iterators[it];
      if (range.lo != 0 || range.hi != program.tensors[read->tensor].shape[d] ||
          llvm::is_contained(its, it))
        return std::nullopt;
      its.push_back(it);
    }
    return its;
  };
  auto inA = dimensions(a), inB = dimensions(b);
  if (!inA || !inB)
    return std::nullopt;
  OperatorMatch match{OperatorMatch::Matmul};
  for (unsigned it : stage.summation) {
    if (!llvm::is_contained(*inA, it) || !llvm::is_contained(*inB, it))
      return std::nullopt;
    match.k *= program.iterators[it].size();
  }
  for (unsigned it : stage.traversal) {
    bool ia = llvm::is_contained(*inA, it), ib = llvm::is_contained(*inB, it);
    int64_t size = program.iterators[it].size();
    if (ia && ib)
      match.batch *= size;
    else if (ia)
      match.m *= size;
    else if (ib)
      match.n *= size;
    else
      return std::nullopt;
  }
  // A product of matrices: rows, columns and a reduction (an elementwise
  // product or a dot product is no matrix product).
  if (match.m == 1 || match.n == 1 || stage.summation.empty() ||
      llvm::none_of(stage.traversal,
                    [&](unsigned it) {
                      return llvm::is_contained(*inA, it) &&
                             !llvm::is_contained(*inB, it);
                    }) ||
      llvm::none_of(stage.traversal, [&](unsigned it) {
        return llvm::is_contained(*inB, it) && !llvm::is_contained(*inA, it);
      }))
    return std::nullopt;
  // Every iterator of the reads is bound by the stage.
  for (unsigned it : *inA)
    if (!llvm::is_contained(stage.traversal, it) &&
        !llvm::is_contained(stage.summation, it))
      return std::nullopt;
  for (unsigned it : *inB)
    if (!llvm::is_contained(stage.traversal, it) &&
        !llvm::is_contained(stage.summation, it))
      return std::nullopt;
  return match;
}

std::string PatternMatch::getName() const {
  if (kind == BandedProduct)
    return dilation == 1 ? "G2BMM" : "DilatedG2BMM";
  std::string name = "Conv";
  llvm::raw_string_ostream os(name);
  llvm::interleave(window, os, "x");
  return name;
}

std::string PatternMatch::describe() const {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << getName() << "(";
  if (kind == Convolution) {
    os << points << " points, " << inChannels << " -> " << outChannels
       << " channels)";
  } else {
    if (batch != 1)
      os << batch << " x ";
    os << rows << " x " << band << " x " << k;
    if (dilation != 1)
      os << ", dilation " << dilation;
    os << ")";
  }
  return text;
}

/// Whether `index` is one iterator with coefficient 1 and no offset.
static std::optional<unsigned> getSingleIterator(const Affine &index) {
  if (index.constant != 0 || index.terms.size() != 1 ||
      index.terms[0].second != 1)
    return std::nullopt;
  return index.terms[0].first;
}

static std::optional<PatternMatch> matchConvolution(const Program &program,
                                                    const Stage &stage,
                                                    const Node *input,
                                                    const Node *weights) {
  PatternMatch match{PatternMatch::Convolution};
  auto isTraversed = [&](unsigned it) {
    return llvm::is_contained(stage.traversal, it);
  };
  auto isSummed = [&](unsigned it) {
    return llvm::is_contained(stage.summation, it);
  };
  llvm::SmallVector<unsigned> inInput;
  for (const Affine &index : input->indices) {
    // A single iterator (with an offset: padding), or a window `t + s`.
    if (index.terms.size() == 1 && index.terms[0].second == 1) {
      inInput.push_back(index.terms[0].first);
      continue;
    }
    if (index.terms.size() != 2 || index.terms[0].second != 1 ||
        index.terms[1].second != 1)
      return std::nullopt;
    unsigned a = index.terms[0].first, b = index.terms[1].first;
    if (isSummed(a))
      std::swap(a, b);
    if (!isTraversed(a) || !isSummed(b))
      return std::nullopt;
    match.window.push_back(program.iterators[b].size());
    inInput.push_back(a);
    inInput.push_back(b);
  }
  if (match.window.empty())
    return std::nullopt;
  auto inWeights = [&](unsigned it) {
    return llvm::any_of(weights->indices, [&](const Affine &index) {
      return index.getCoefficient(it) != 0;
    });
  };
  for (unsigned it : stage.summation) {
    if (!inWeights(it) || llvm::count(inInput, it) != 1)
      return std::nullopt;
    bool isWindow = llvm::none_of(input->indices, [&](const Affine &index) {
      return index.terms.size() == 1 && index.terms[0].first == it;
    });
    if (!isWindow)
      match.inChannels *= program.iterators[it].size();
  }
  for (unsigned it : stage.traversal) {
    bool a = llvm::is_contained(inInput, it), b = inWeights(it);
    if (a == b)
      return std::nullopt;
    (a ? match.points : match.outChannels) *= program.iterators[it].size();
  }
  return match;
}

static std::optional<PatternMatch> matchBanded(const Program &program,
                                               const Stage &stage,
                                               const Node *a, const Node *b) {
  auto isWhole = [&](const Node *read, unsigned d, unsigned it) {
    const Iterator &range = program.iterators[it];
    return range.lo == 0 && range.hi == program.tensors[read->tensor].shape[d];
  };
  llvm::SmallVector<unsigned> inA;
  for (auto [d, index] : llvm::enumerate(a->indices)) {
    std::optional<unsigned> it = getSingleIterator(index);
    if (!it || !isWhole(a, d, *it))
      return std::nullopt;
    inA.push_back(*it);
  }
  PatternMatch match{PatternMatch::BandedProduct};
  llvm::SmallVector<unsigned> inB;
  std::optional<unsigned> row, band;
  for (auto [d, index] : llvm::enumerate(b->indices)) {
    if (std::optional<unsigned> it = getSingleIterator(index)) {
      if (!isWhole(b, d, *it))
        return std::nullopt;
      inB.push_back(*it);
      continue;
    }
    if (row || index.terms.size() != 2)
      return std::nullopt;
    for (auto [it, c] : index.terms) {
      if (c == 1 && llvm::is_contained(inA, it) && !row) {
        row = it;
      } else {
        band = it;
        match.dilation = c;
      }
    }
    if (!row || !band || llvm::is_contained(inA, *band) ||
        !llvm::is_contained(stage.traversal, *band) ||
        !llvm::is_contained(stage.traversal, *row))
      return std::nullopt;
  }
  if (!row)
    return std::nullopt;
  for (unsigned it : stage.summation) {
    if (!llvm::is_contained(inA, it) || !llvm::is_contained(inB, it))
      return std::nullopt;
    match.k *= program.iterators[it].size();
  }
  for (unsigned it : stage.traversal) {
    int64_t size = program.iterators[it].size();
    if (it == *row)
      match.rows = size;
    else if (it == *band)
      match.band = size;
    else if (llvm::is_contained(inA, it) && llvm::is_contained(inB, it))
      match.batch *= size;
    else
      return std::nullopt;
  }
  if (stage.summation.empty() || llvm::count(inA, *row) != 1)
    return std::nullopt;
  return match;
}

std::optional<PatternMatch> search::matchPattern(const Program &program,
                                                 const Stage &stage) {
  const Node *summand = stage.summand;
  if (summand->op != Op::Mul || summand->operands[0]->op != Op::Read ||
      summand->operands[1]->op != Op::Read)
    return std::nullopt;
  for (auto [first, second] :
       {std::pair(summand->operands[0], summand->operands[1]),
        std::pair(summand->operands[1], summand->operands[0])}) {
    if (auto match = matchConvolution(program, stage, first, second))
      return match;
    if (auto match = matchBanded(program, stage, first, second))
      return match;
  }
  return std::nullopt;
}

double search::estimateCost(const Program &program, double libraryRate) {
  double cost = 0;
  for (const Stage &stage : program.stages) {
    double flops = program.countFlops(stage);
    if (matchOperator(program, stage))
      flops /= libraryRate;
    double elements = 1;
    for (unsigned it : stage.traversal)
      elements *= program.iterators[it].size();
    cost += flops + elements;
  }
  return cost;
}

//===----------------------------------------------------------------------===//
// Explorative search
//===----------------------------------------------------------------------===//

namespace {
/// A point in time a search must stop at, if any.
class Deadline {
public:
  /// No limit for 0, and for a time beyond any search (which would
  /// overflow the clock's representation).
  explicit Deadline(double seconds)
      : limited(seconds > 0 && seconds < 1e9),
        end(std::chrono::steady_clock::now() +
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::duration<double>(limited ? seconds : 0))) {}
  bool isPast() const {
    return limited && std::chrono::steady_clock::now() >= end;
  }

private:
  bool limited;
  std::chrono::steady_clock::time_point end;
};

/// A state of a search: a program, the state it was derived from, and the
/// step (and its position among deriveAll's) that derived it.
struct SearchState {
  Program program;
  int parent;
  std::string step;
  unsigned position;
  unsigned depth;
};
} // namespace

/// State `index` as a candidate: its program, cost, and the steps that
/// derive it.
static Candidate getCandidate(const std::vector<SearchState> &states,
                              size_t index, double cost) {
  Candidate candidate{states[index].program, {}, {}, cost};
  for (int i = index; states[i].parent >= 0; i = states[i].parent) {
    candidate.steps.push_back(states[i].step);
    candidate.path.push_back(states[i].position);
  }
  std::reverse(candidate.steps.begin(), candidate.steps.end());
  std::reverse(candidate.path.begin(), candidate.path.end());
  return candidate;
}

/// Fills `result` with state `best`: the program, its cost, and the steps
/// that derive it.
static void setBest(SearchResult &result,
                    const std::vector<SearchState> &states, size_t best,
                    double cost) {
  Candidate candidate = getCandidate(states, best, cost);
  result.bestCost = cost;
  result.best = std::move(candidate.program);
  result.steps = std::move(candidate.steps);
  result.path = std::move(candidate.path);
}

bool search::hasLibraryStage(const Program &program) {
  return llvm::any_of(program.stages, [&](const Stage &stage) {
    return matchOperator(program, stage).has_value();
  });
}

SearchResult search::explore(const Program &program,
                             const SearchOptions &options) {
  std::vector<SearchState> states;
  states.push_back({program, -1, "", 0, 0});
  llvm::DenseSet<uint64_t> seen;
  seen.insert(program.fingerprint());
  SearchResult result{program, {}, 0, 0, {1}, 0, false};
  std::vector<size_t> frontier = {0};
  Deadline deadline(options.maxSeconds);
  result.reachedGoal = options.goal && options.goal(program);
  for (unsigned depth = 1;
       depth <= options.maxDepth && !frontier.empty() && !result.reachedGoal;
       ++depth) {
    std::vector<size_t> next;
    for (size_t index : frontier) {
      if (deadline.isPast()) {
        result.truncated = result.timedOut = true;
        break;
      }
      std::vector<Derived> all =
          deriveAll(states[index].program, options.layouts);
      for (auto [position, derived] : llvm::enumerate(all)) {
        if (!seen.insert(derived.program.fingerprint()).second) {
          ++result.duplicates;
          continue;
        }
        states.push_back({std::move(derived.program), static_cast<int>(index),
                          std::move(derived.step),
                          static_cast<unsigned>(position), depth});
        next.push_back(states.size() - 1);
        if (options.goal && options.goal(states.back().program)) {
          result.reachedGoal = true;
          break;
        }
        if (options.maxStates && states.size() >= options.maxStates) {
          result.truncated = true;
          break;
        }
      }
      if (result.truncated || result.reachedGoal)
        break;
    }
    result.statesPerDepth.push_back(next.size());
    frontier = std::move(next);
    if (options.progress)
      options.progress(depth, states.size());
    if (result.truncated || result.reachedGoal)
      break;
  }
  std::vector<double> costs;
  for (const SearchState &state : states)
    costs.push_back(estimateCost(state.program));
  result.originalCost = costs[0];
  // The goal's state is the last one added (or the expression itself).
  size_t best = result.reachedGoal ? states.size() - 1 : 0;
  for (size_t i = 1; i < states.size() && !result.reachedGoal; ++i)
    if (costs[i] < costs[best])
      best = i;
  setBest(result, states, best, costs[best]);

  if (options.candidates) {
    std::vector<size_t> order;
    double cheapest = INFINITY;
    for (size_t i = 0; i < states.size(); ++i)
      if (hasLibraryStage(states[i].program)) {
        order.push_back(i);
        cheapest = std::min(cheapest, costs[i]);
      }
    llvm::stable_sort(order,
                      [&](size_t a, size_t b) { return costs[a] < costs[b]; });
    for (size_t i : order) {
      if (result.candidates.size() >= options.candidates ||
          costs[i] > options.candidateSpread * cheapest)
        break;
      result.candidates.push_back(getCandidate(states, i, costs[i]));
    }
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Guided derivation
//===----------------------------------------------------------------------===//

std::optional<Target> Target::parse(llvm::StringRef name) {
  if (name == "Matmul")
    return Target{Matmul, {}};
  if (name == "G2BMM")
    return Target{G2BMM, {}};
  if (name == "DilatedG2BMM")
    return Target{DilatedG2BMM, {}};
  Target target{Convolution, {}};
  if (!name.consume_front("Conv") || name.empty())
    return std::nullopt;
  for (llvm::StringRef size : llvm::split(name, 'x')) {
    int64_t value;
    if (size.getAsInteger(10, value) || value <= 0)
      return std::nullopt;
    target.window.push_back(value);
  }
  return target;
}

std::string Target::getName() const {
  switch (kind) {
  case Matmul:
    return "Matmul";
  case G2BMM:
    return "G2BMM";
  case DilatedG2BMM:
    return "DilatedG2BMM";
  case Convolution:
    break;
  }
  std::string name = "Conv";
  llvm::raw_string_ostream os(name);
  llvm::interleave(window, os, "x");
  return name;
}

bool Target::matches(const Program &program, const Stage &stage) const {
  if (kind == Matmul)
    return matchOperator(program, stage).has_value();
  std::optional<PatternMatch> match = matchPattern(program, stage);
  return match && match->getName() == getName();
}

bool Target::isReachedBy(const Program &program) const {
  return llvm::any_of(program.stages, [&](const Stage &stage) {
    return matches(program, stage);
  });
}

/// The steps that `stage`, the product of `input` and another read, still
/// needs to be a convolution with windows of sizes `window`, `input` its
/// input (see getTargetDistance).
static unsigned getConvolutionSteps(const Program &program, const Stage &stage,
                                    const Node *input, const Node *weights,
                                    llvm::ArrayRef<int64_t> window) {
  llvm::SmallVector<int64_t, 2> pending(window);
  unsigned steps = 0, windows = 0;
  // Traversal iterators of input indices that a substitution replaces.
  llvm::SmallVector<unsigned> substituted;
  for (const Affine &index : input->indices) {
    llvm::SmallVector<std::pair<unsigned, int64_t>, 2> summed, traversed;
    for (auto term : index.terms)
      (llvm::is_contained(stage.summation, term.first) ? summed : traversed)
          .push_back(term);
    bool isSingle = traversed.size() == 1 && traversed[0].second == 1;
    // An input channel: summed, not a window.
    if (traversed.empty() && summed.size() == 1 && summed[0].second == 1)
      continue;
    if (summed.empty()) {
      steps += isSingle ? 0 : 1;
      continue;
    }
    ++windows;
    auto *fits = llvm::find_if(summed, [&](std::pair<unsigned, int64_t> term) {
      return term.second == 1 &&
             llvm::is_contained(pending, program.iterators[term.first].size());
    });
    if (fits == summed.end()) {
      steps += 3;
      continue;
    }
    pending.erase(llvm::find(pending, program.iterators[fits->first].size()));
    if (summed.size() > 1 || !isSingle)
      for (auto [it, coefficient] : traversed)
        substituted.push_back(it);
    if (summed.size() > 1)
      steps += 2;
    else if (!isSingle)
      steps += 1;
  }
  // A traversal iterator must index the input or the weights, not both;
  // where no substitution removes it from the input, the summations must
  // be split again.
  auto indexes = [](const Node *read, unsigned it) {
    return llvm::any_of(read->indices, [&](const Affine &index) {
      return index.getCoefficient(it) != 0;
    });
  };
  for (unsigned it : stage.traversal)
    if (indexes(input, it) && indexes(weights, it) &&
        !llvm::is_contained(substituted, it))
      steps += 2;
  if (windows < window.size())
    steps += 3 * (window.size() - windows);
  else
    steps += windows - window.size();
  return steps;
}

/// The steps that `stage`, the product of reads `a` and `b`, still needs to
/// be a banded product of `a`'s rows, with or without a dilation.
static unsigned getBandSteps(const Stage &stage, const Node *a, const Node *b,
                             bool dilated) {
  llvm::SmallVector<unsigned> inA;
  unsigned steps = 0;
  for (const Affine &index : a->indices) {
    if (std::optional<unsigned> it = getSingleIterator(index))
      inA.push_back(*it);
    else
      steps += index.terms.size() > 1 ? 1 : 2;
  }
  bool hasBand = false;
  for (const Affine &index : b->indices) {
    if (getSingleIterator(index))
      continue;
    if (!hasBand && index.terms.size() == 2) {
      auto [first, second] = std::pair(index.terms[0], index.terms[1]);
      if (!(first.second == 1 && llvm::is_contained(inA, first.first)))
        std::swap(first, second);
      if (first.second == 1 && llvm::is_contained(inA, first.first) &&
          !llvm::is_contained(inA, second.first) &&
          llvm::is_contained(stage.traversal, second.first)) {
        hasBand = true;
        // Removing a dilation: a traversal splitting and a layout split of
        // each operand.
        steps += (second.second != 1) == dilated ? 0 : 3;
        continue;
      }
    }
    steps += 1;
  }
  return steps + (hasBand ? 0 : 3);
}

unsigned search::getTargetDistance(const Program &program,
                                   const Target &target) {
  unsigned best = std::numeric_limits<unsigned>::max();
  for (const Stage &stage : program.stages) {
    if (target.matches(program, stage))
      return 0;
    const Node *summand = stage.summand;
    if (summand->op != Op::Mul || summand->operands[0]->op != Op::Read ||
        summand->operands[1]->op != Op::Read)
      continue;
    const Node *a = summand->operands[0], *b = summand->operands[1];
    unsigned steps = 0;
    switch (target.kind) {
    case Target::Matmul:
      for (const Node *read : {a, b})
        for (const Affine &index : read->indices)
          steps += getSingleIterator(index) ? 0 : 1;
      break;
    case Target::Convolution:
      steps =
          std::min(getConvolutionSteps(program, stage, a, b, target.window),
                   getConvolutionSteps(program, stage, b, a, target.window));
      break;
    case Target::G2BMM:
    case Target::DilatedG2BMM: {
      bool dilated = target.kind == Target::DilatedG2BMM;
      steps = std::min(getBandSteps(stage, a, b, dilated),
                       getBandSteps(stage, b, a, dilated));
      break;
    }
    }
    // A product's or a band's indices in the result's stage need a
    // summation splitting before a substitution; the convolution's steps
    // count that splitting already.
    unsigned weight = &stage == &program.getResultStage() &&
                              target.kind != Target::Convolution
                          ? 2
                          : 1;
    // Indices that all have the target's form but still do not match (a
    // partial range, say) leave it one step away at least.
    best = std::min(best, std::max(weight * steps, 1u));
  }
  return best;
}

SearchResult search::guide(const Program &program, const SearchOptions &options,
                           const Target &target) {
  std::vector<SearchState> states;
  states.push_back({program, -1, "", 0, 0});
  // The shallowest depth at which each state was seen: one seen again
  // shallower is explored again from there.
  llvm::DenseMap<uint64_t, unsigned> seen;
  seen[program.fingerprint()] = 0;
  SearchResult result{program, {}, 0, 0, {1}, 0, false};
  // Best first: the least distance, then the shallowest, then the first.
  using Entry = std::tuple<unsigned, unsigned, size_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  queue.push({getTargetDistance(program, target), 0, 0});
  std::optional<size_t> found;
  Deadline deadline(options.maxSeconds);
  while (!queue.empty() && !found) {
    if (deadline.isPast()) {
      result.truncated = result.timedOut = true;
      break;
    }
    auto [distance, depth, index] = queue.top();
    queue.pop();
    if (distance == 0) {
      found = index;
      break;
    }
    if (depth >= options.maxDepth)
      continue;
    std::vector<Derived> all =
        deriveAll(states[index].program, options.layouts);
    for (auto [position, derived] : llvm::enumerate(all)) {
      auto [found, inserted] =
          seen.try_emplace(derived.program.fingerprint(), depth + 1);
      if (!inserted) {
        ++result.duplicates;
        if (found->second <= depth + 1)
          continue;
        found->second = depth + 1;
      }
      unsigned childDistance = getTargetDistance(derived.program, target);
      states.push_back({std::move(derived.program), static_cast<int>(index),
                        std::move(derived.step),
                        static_cast<unsigned>(position), depth + 1});
      if (result.statesPerDepth.size() <= depth + 1)
        result.statesPerDepth.resize(depth + 2);
      ++result.statesPerDepth[depth + 1];
      queue.push({childDistance, depth + 1, states.size() - 1});
      if (options.maxStates && states.size() >= options.maxStates) {
        result.truncated = true;
        break;
      }
    }
    if (result.truncated)
      break;
  }
  // Stopped at the state bound: a product may be waiting in the queue.
  for (; !found && !queue.empty(); queue.pop())
    if (std::get<0>(queue.top()) == 0)
      found = std::get<2>(queue.top());
  result.originalCost = estimateCost(program);
  size_t best = 0;
  double bestCost = result.originalCost;
  if (found) {
    best = *found;
    bestCost = estimateCost(states[best].program);
    result.reachedGoal = true;
  } else {
    for (size_t i = 1; i < states.size(); ++i) {
      double cost = estimateCost(states[i].program);
      if (cost < bestCost) {
        best = i;
        bestCost = cost;
      }
    }
  }
  setBest(result, states, best, bestCost);
  return result;
}

std::optional<Program> search::replay(const Program &program,
                                      llvm::ArrayRef<unsigned> path) {
  Program current = program;
  for (unsigned position : path) {
    std::vector<Derived> all = deriveAll(current, /*layouts=*/true);
    if (position >= all.size())
      return std::nullopt;
    current = std::move(all[position].program);
  }
  return current;
}

double search::checkDerivation(const Program &original, const Program &derived,
                               unsigned samples, unsigned seed) {
  if (derived.getResultShape() != original.getResultShape())
    return INFINITY;
  Inputs inputs = makeRandomInputs(original, seed);
  std::mt19937_64 rng(seed);
  int64_t size = 1;
  for (int64_t d : original.tensors[original.getResult()].shape)
    size *= d;
  std::vector<int64_t> offsets;
  if (size <= static_cast<int64_t>(samples)) {
    for (int64_t i = 0; i < size; ++i)
      offsets.push_back(i);
  } else {
    std::uniform_int_distribution<int64_t> pick(0, size - 1);
    offsets = {0, size - 1};
    while (offsets.size() < samples)
      offsets.push_back(pick(rng));
  }
  std::vector<double> expected = evaluateAt(original, inputs, offsets);
  std::vector<double> actual = evaluateAt(derived, inputs, offsets);
  double scale = 1.0, difference = 0.0;
  for (double value : expected)
    if (std::isfinite(value))
      scale = std::max(scale, std::abs(value));
  for (auto [x, y] : llvm::zip(actual, expected)) {
    // A NaN or an infinity on one side only is a difference.
    if (std::isnan(x) || std::isnan(y) || std::isinf(x) || std::isinf(y)) {
      bool same = (std::isnan(x) && std::isnan(y)) || x == y;
      if (!same)
        return INFINITY;
      continue;
    }
    difference = std::max(difference, std::abs(x - y));
  }
  return difference / scale;
}
