//===- Derivation.cpp - Derivation rules and the search -------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Search/Derivation.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>

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

static void collectReads(const Node *node,
                         llvm::SmallVectorImpl<const Node *> &reads) {
  if (node->op == Op::Read && !llvm::is_contained(reads, node))
    reads.push_back(node);
  for (const Node *operand : node->operands)
    collectReads(operand, reads);
}

/// Inserts `stage` at position `index`, renumbering later stages.
static void insertStage(Program &program, unsigned index, Stage stage) {
  for (Tensor &tensor : program.tensors)
    if (tensor.stage >= static_cast<int>(index))
      ++tensor.stage;
  program.tensors[stage.output].stage = index;
  program.stages.insert(program.stages.begin() + index, std::move(stage));
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
  split.summand = mapIndices(context, stage.summand, [&](const Affine &index) {
    Affine mapped = index;
    for (auto [it, fresh] : copies)
      mapped = mapped.substitute(it, Affine::getIterator(fresh));
    return mapped;
  });
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
  Context &context = program.getContext();
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
    bool withinTensor = true;
    for (unsigned s = stageIndex + 1; s < program.stages.size(); ++s) {
      llvm::SmallVector<const Node *> readerReads;
      collectReads(program.stages[s].summand, readerReads);
      for (const Node *r : readerReads)
        if (r->tensor == stage.output &&
            !program.isWithin(r->indices[p], output.shape[p]))
          withinTensor = false;
    }
    if (!withinTensor)
      continue;
    for (unsigned s = stageIndex + 1; s < program.stages.size(); ++s) {
      Stage &reader = program.stages[s];
      reader.summand = mapReads(context, reader.summand, [&](const Node *r) {
        if (r->tensor != stage.output)
          return r;
        llvm::SmallVector<Affine, 4> indices(r->indices.begin(),
                                             r->indices.end());
        indices.erase(indices.begin() + p);
        return context.getRead(r->tensor, indices);
      });
    }
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
  if (expr.terms.size() < 2)
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
  if (isFactor(stage.summand, read)) {
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
  for (unsigned s = stageIndex + 1; s < program.stages.size(); ++s) {
    llvm::SmallVector<const Node *> reads;
    collectReads(program.stages[s].summand, reads);
    for (const Node *r : reads) {
      if (r->tensor != stage.output)
        continue;
      for (auto [it, c] : expr.terms) {
        unsigned d = position[it];
        if (!program.isWithin(r->indices[d], output.shape[d]))
          return std::nullopt;
      }
    }
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
  for (unsigned s = stageIndex + 1; s < result.stages.size(); ++s) {
    Stage &reader = result.stages[s];
    reader.summand = mapReads(context, reader.summand, [&](const Node *r) {
      if (r->tensor != stage.output)
        return r;
      llvm::SmallVector<Affine, 4> indices(r->indices.begin(),
                                           r->indices.end());
      Affine value(expr.constant - lo);
      for (auto [it, c] : expr.terms)
        value =
            value +
            (r->indices[position[it]] + Affine(program.iterators[it].lo)) * c;
      indices[p] = value;
      return context.getRead(r->tensor, indices);
    });
  }
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
  Context &context = program.getContext();
  unsigned tensor = program.stages[index].output;
  program.stages.erase(program.stages.begin() + index);
  program.tensors.erase(program.tensors.begin() + tensor);
  for (Tensor &t : program.tensors)
    if (t.stage > static_cast<int>(index))
      --t.stage;
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

std::optional<Derived> search::mergeStage(const Program &program,
                                          unsigned stageIndex,
                                          unsigned tensor) {
  if (stageIndex >= program.stages.size() || tensor >= program.tensors.size() ||
      program.tensors[tensor].stage < 0)
    return std::nullopt;
  unsigned producerIndex = program.tensors[tensor].stage;
  const Stage &producer = program.stages[producerIndex];
  const Stage &stage = program.stages[stageIndex];
  if (countReads(stage.summand, tensor) != 1)
    return std::nullopt;
  for (auto [s, other] : llvm::enumerate(program.stages))
    if (s != stageIndex && countReads(other.summand, tensor) != 0)
      return std::nullopt;
  llvm::SmallVector<const Node *> reads;
  collectReads(stage.summand, reads);
  const Node *read =
      *llvm::find_if(reads, [&](const Node *r) { return r->tensor == tensor; });
  if (!producer.summation.empty() && !isFactor(stage.summand, read))
    return std::nullopt;
  for (auto [d, index] : llvm::enumerate(read->indices))
    if (!program.isWithin(index, program.tensors[tensor].shape[d]))
      return std::nullopt;

  Derived derived{program, ""};
  Program &result = derived.program;
  Context &context = program.getContext();
  // The producer's summand at the element read: its traversal iterators
  // are the read's indices (plus their starts), its summation iterators
  // fresh copies that the stage sums over.
  llvm::SmallVector<std::pair<unsigned, Affine>> substitution;
  for (auto [d, it] : llvm::enumerate(producer.traversal))
    substitution.push_back(
        {it, read->indices[d] + Affine(program.iterators[it].lo)});
  Stage &merged = result.stages[stageIndex];
  for (unsigned it : producer.summation) {
    const Iterator &old = program.iterators[it];
    unsigned fresh = result.addIterator(old.name, old.lo, old.hi);
    substitution.push_back({it, Affine::getIterator(fresh)});
    merged.summation.push_back(fresh);
  }
  llvm::DenseMap<unsigned, Affine> replacements(substitution.begin(),
                                                substitution.end());
  const Node *inlined =
      mapIndices(context, producer.summand, [&](const Affine &index) {
        // All at once: a replacement may mention a replaced iterator.
        Affine mapped(index.constant);
        for (auto [it, c] : index.terms) {
          auto found = replacements.find(it);
          mapped =
              mapped + (found != replacements.end() ? found->second
                                                    : Affine::getIterator(it)) *
                           c;
        }
        return mapped;
      });
  merged.summand = mapReads(context, stage.summand, [&](const Node *r) {
    return r == read ? inlined : r;
  });
  removeStage(result, producerIndex);

  llvm::raw_string_ostream os(derived.step);
  os << "stage merging: " << program.tensors[tensor].name << " into "
     << program.tensors[stage.output].name;
  return derived;
}

//===----------------------------------------------------------------------===//
// All derivations of a program
//===----------------------------------------------------------------------===//

std::vector<Derived> search::deriveAll(const Program &program) {
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

SearchResult search::explore(const Program &program,
                             const SearchOptions &options) {
  struct State {
    Program program;
    int parent;
    std::string step;
    unsigned position;
  };
  std::vector<State> states;
  states.push_back({program, -1, "", 0});
  llvm::DenseSet<uint64_t> seen;
  seen.insert(program.fingerprint());
  SearchResult result{program, {}, 0, 0, {1}, 0, false};
  std::vector<size_t> frontier = {0};
  for (unsigned depth = 1; depth <= options.maxDepth && !frontier.empty();
       ++depth) {
    std::vector<size_t> next;
    for (size_t index : frontier) {
      std::vector<Derived> all = deriveAll(states[index].program);
      for (auto [position, derived] : llvm::enumerate(all)) {
        if (!seen.insert(derived.program.fingerprint()).second) {
          ++result.duplicates;
          continue;
        }
        states.push_back({std::move(derived.program), static_cast<int>(index),
                          std::move(derived.step),
                          static_cast<unsigned>(position)});
        next.push_back(states.size() - 1);
        if (options.maxStates && states.size() >= options.maxStates) {
          result.truncated = true;
          break;
        }
      }
      if (result.truncated)
        break;
    }
    result.statesPerDepth.push_back(next.size());
    frontier = std::move(next);
    if (options.progress)
      options.progress(depth, states.size());
    if (result.truncated)
      break;
  }
  size_t best = 0;
  double bestCost = estimateCost(states[0].program);
  result.originalCost = bestCost;
  for (size_t i = 1; i < states.size(); ++i) {
    double cost = estimateCost(states[i].program);
    if (cost < bestCost) {
      best = i;
      bestCost = cost;
    }
  }
  result.bestCost = bestCost;
  result.best = states[best].program;
  for (int i = best; states[i].parent >= 0; i = states[i].parent) {
    result.steps.push_back(states[i].step);
    result.path.push_back(states[i].position);
  }
  std::reverse(result.steps.begin(), result.steps.end());
  std::reverse(result.path.begin(), result.path.end());
  return result;
}

std::optional<Program> search::replay(const Program &program,
                                      llvm::ArrayRef<unsigned> path) {
  Program current = program;
  for (unsigned position : path) {
    std::vector<Derived> all = deriveAll(current);
    if (position >= all.size())
      return std::nullopt;
    current = std::move(all[position].program);
  }
  return current;
}

double search::checkDerivation(const Program &original, const Program &derived,
                               unsigned samples, unsigned seed) {
  if (derived.tensors[derived.getResult()].shape !=
      original.tensors[original.getResult()].shape)
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
    scale = std::max(scale, std::abs(value));
  for (auto [x, y] : llvm::zip(actual, expected))
    difference = std::max(difference, std::abs(x - y));
  return difference / scale;
}
