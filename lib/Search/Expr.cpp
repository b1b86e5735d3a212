//===- Expr.cpp - The tensor expression IR of the search ------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Search/Expr.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cassert>
#include <cmath>
#include <cstring>
#include <map>
#include <random>

using namespace leibniz;
using namespace leibniz::search;

//===----------------------------------------------------------------------===//
// Affine
//===----------------------------------------------------------------------===//

Affine Affine::getIterator(unsigned iterator) {
  Affine result;
  result.terms.push_back({iterator, 1});
  return result;
}

int64_t Affine::getCoefficient(unsigned iterator) const {
  for (auto [it, coefficient] : terms)
    if (it == iterator)
      return coefficient;
  return 0;
}

Affine Affine::operator+(const Affine &other) const {
  Affine result(constant + other.constant);
  std::map<unsigned, int64_t> sum;
  for (auto [it, c] : terms)
    sum[it] += c;
  for (auto [it, c] : other.terms)
    sum[it] += c;
  for (auto [it, c] : sum)
    if (c != 0)
      result.terms.push_back({it, c});
  return result;
}

Affine Affine::operator*(int64_t factor) const {
  if (factor == 0)
    return Affine(0);
  Affine result(constant * factor);
  for (auto [it, c] : terms)
    result.terms.push_back({it, c * factor});
  return result;
}

Affine Affine::operator-(const Affine &other) const {
  return *this + other * -1;
}

Affine Affine::substitute(unsigned iterator, const Affine &by) const {
  int64_t coefficient = getCoefficient(iterator);
  if (coefficient == 0)
    return *this;
  Affine rest = *this - getIterator(iterator) * coefficient;
  return rest + by * coefficient;
}

//===----------------------------------------------------------------------===//
// Context
//===----------------------------------------------------------------------===//

namespace {
/// The structure of a node, as a key for uniquing.
struct NodeKey {
  Op op;
  uint64_t valueBits;
  unsigned tensor;
  std::vector<int64_t> indices;
  std::vector<const Node *> operands;

  bool operator<(const NodeKey &other) const {
    return std::tie(op, valueBits, tensor, indices, operands) <
           std::tie(other.op, other.valueBits, other.tensor, other.indices,
                    other.operands);
  }
};

NodeKey getKey(const Node &node) {
  NodeKey key{node.op, 0, node.tensor, {}, {}};
  static_assert(sizeof(double) == sizeof(uint64_t));
  std::memcpy(&key.valueBits, &node.value, sizeof(double));
  for (const Affine &index : node.indices) {
    key.indices.push_back(index.constant);
    key.indices.push_back(static_cast<int64_t>(index.terms.size()));
    for (auto [it, c] : index.terms) {
      key.indices.push_back(it);
      key.indices.push_back(c);
    }
  }
  key.operands.assign(node.operands.begin(), node.operands.end());
  return key;
}
} // namespace

struct Context::Impl {
  std::map<NodeKey, std::unique_ptr<Node>> nodes;
};

Context::Context() : impl(std::make_unique<Impl>()) {}
Context::~Context() = default;

size_t Context::size() const { return impl->nodes.size(); }

const Node *Context::unique(Node node) {
  NodeKey key = getKey(node);
  auto [it, inserted] = impl->nodes.try_emplace(std::move(key));
  if (inserted)
    it->second = std::make_unique<Node>(std::move(node));
  return it->second.get();
}

const Node *Context::getConstant(double value) {
  Node node{Op::Constant};
  node.value = value;
  return unique(std::move(node));
}

const Node *Context::getRead(unsigned tensor, llvm::ArrayRef<Affine> indices) {
  Node node{Op::Read};
  node.tensor = tensor;
  node.indices.assign(indices.begin(), indices.end());
  return unique(std::move(node));
}

const Node *Context::get(Op op, llvm::ArrayRef<const Node *> operands) {
  Node node{op};
  node.operands.assign(operands.begin(), operands.end());
  return unique(std::move(node));
}

//===----------------------------------------------------------------------===//
// Program
//===----------------------------------------------------------------------===//

unsigned Program::addIterator(llvm::StringRef name, int64_t lo, int64_t hi) {
  iterators.push_back({name.str(), lo, hi});
  return iterators.size() - 1;
}

unsigned Program::addTensor(llvm::StringRef name, llvm::ArrayRef<int64_t> shape,
                            int stage) {
  Tensor tensor;
  tensor.name = name.str();
  tensor.shape.assign(shape.begin(), shape.end());
  tensor.stage = stage;
  tensors.push_back(std::move(tensor));
  return tensors.size() - 1;
}

unsigned Program::getView(unsigned input, llvm::ArrayRef<int64_t> shape) {
  if (tensors[input].isView())
    input = tensors[input].source;
  assert(llvm::product_of(shape) == tensors[input].getNumElements() &&
         "a view has its input's elements");
  if (llvm::equal(tensors[input].shape, shape))
    return input;
  for (auto [i, tensor] : llvm::enumerate(tensors))
    if (tensor.source == static_cast<int>(input) &&
        llvm::equal(tensor.shape, shape))
      return i;
  std::string name = tensors[input].name;
  for (int64_t extent : shape)
    name += "_" + std::to_string(extent);
  while (llvm::any_of(tensors, [&](const Tensor &t) { return t.name == name; }))
    name += "'";
  unsigned view = addTensor(name, shape);
  tensors[view].source = input;
  return view;
}

std::optional<std::pair<int64_t, int64_t>>
Program::getRange(const Affine &index) const {
  int64_t lo = index.constant, hi = index.constant;
  for (auto [it, c] : index.terms) {
    const Iterator &range = iterators[it];
    if (range.size() == 0)
      return std::nullopt;
    lo += c > 0 ? c * range.lo : c * (range.hi - 1);
    hi += c > 0 ? c * (range.hi - 1) : c * range.lo;
  }
  return std::make_pair(lo, hi);
}

bool Program::isWithin(const Affine &index, int64_t size) const {
  std::optional<std::pair<int64_t, int64_t>> range = getRange(index);
  return !range || (range->first >= 0 && range->second < size);
}

Inputs search::makeRandomInputs(const Program &program, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  Inputs inputs;
  for (const Tensor &tensor : program.tensors) {
    if (!tensor.isInput())
      continue;
    size_t size = 1;
    for (int64_t d : tensor.shape)
      size *= d;
    std::vector<double> values(size);
    for (double &value : values)
      value = uniform(rng);
    inputs[tensor.name] = std::move(values);
  }
  return inputs;
}

/// Calls `fn` on every read of `node`, once per occurrence.
static void forEachRead(const Node *node,
                        llvm::function_ref<void(const Node *)> fn) {
  if (node->op == Op::Read)
    fn(node);
  for (const Node *operand : node->operands)
    forEachRead(operand, fn);
}

static unsigned countOperations(const Node *node) {
  unsigned count = node->op == Op::Constant || node->op == Op::Read ? 0 : 1;
  for (const Node *operand : node->operands)
    count += countOperations(operand);
  return count;
}

double Program::countFlops(const Stage &stage) const {
  double points = 1;
  for (unsigned it : stage.traversal)
    points *= iterators[it].size();
  for (unsigned it : stage.summation)
    points *= iterators[it].size();
  return points *
         (countOperations(stage.summand) + (stage.summation.empty() ? 0 : 1));
}

double Program::countFlops() const {
  double flops = 0;
  for (const Stage &stage : stages)
    flops += countFlops(stage);
  return flops;
}

std::string Program::verify() const {
  std::string message;
  llvm::raw_string_ostream os(message);
  if (stages.empty())
    return "a program needs a stage";
  for (const Tensor &tensor : tensors) {
    if (!tensor.isView())
      continue;
    if (tensor.stage >= 0 ||
        tensor.source >= static_cast<int>(tensors.size()) ||
        !tensors[tensor.source].isInput() ||
        tensors[tensor.source].getNumElements() != tensor.getNumElements())
      return (os << "'" << tensor.name
                 << "' is not a view of an input of its size",
              message);
  }
  for (unsigned s = 0, e = stages.size(); s < e; ++s) {
    const Stage &stage = stages[s];
    if (stage.output >= tensors.size() ||
        tensors[stage.output].stage != static_cast<int>(s))
      return (os << "stage " << s << " does not compute its tensor", message);
    const Tensor &output = tensors[stage.output];
    if (output.shape.size() != stage.traversal.size())
      return (os << "stage " << s << " has a traversal iterator per dimension "
                 << "of '" << output.name << "' expected",
              message);
    llvm::SmallVector<unsigned> bound(stage.traversal.begin(),
                                      stage.traversal.end());
    llvm::append_range(bound, stage.summation);
    for (auto [d, it] : llvm::enumerate(stage.traversal))
      if (it >= iterators.size() || iterators[it].size() != output.shape[d])
        return (os << "stage " << s << ": traversal iterator " << d
                   << " does not range over dimension " << d << " of '"
                   << output.name << "'",
                message);
    for (unsigned it : bound)
      if (it >= iterators.size() || llvm::count(bound, it) != 1)
        return (os << "stage " << s << " binds an iterator twice", message);
    bool ok = true;
    forEachRead(stage.summand, [&](const Node *read) {
      if (read->tensor >= tensors.size()) {
        ok = false;
        return;
      }
      const Tensor &tensor = tensors[read->tensor];
      if (tensor.stage >= static_cast<int>(s) ||
          read->indices.size() != tensor.shape.size())
        ok = false;
      for (const Affine &index : read->indices)
        for (auto [it, c] : index.terms)
          if (!llvm::is_contained(bound, it))
            ok = false;
    });
    if (!ok)
      return (os << "stage " << s << " reads a tensor it cannot", message);
  }
  return message;
}

//===----------------------------------------------------------------------===//
// Printing
//===----------------------------------------------------------------------===//

void search::printAffine(llvm::raw_ostream &os, const Affine &index,
                         llvm::function_ref<void(unsigned)> printIterator,
                         bool spaced) {
  auto sign = [&](bool negative) {
    if (spaced)
      os << (negative ? " - " : " + ");
    else
      os << (negative ? "-" : "+");
  };
  bool first = true;
  for (auto [it, c] : index.terms) {
    if (!first)
      sign(c < 0);
    else if (c < 0)
      os << "-";
    if (std::abs(c) != 1)
      os << std::abs(c) << (spaced ? " * " : "*");
    printIterator(it);
    first = false;
  }
  if (first)
    os << index.constant;
  else if (index.constant != 0) {
    sign(index.constant < 0);
    os << std::abs(index.constant);
  }
}

llvm::StringRef search::getSpelling(Op op) {
  switch (op) {
  case Op::Add:
    return "+";
  case Op::Sub:
  case Op::Neg:
    return "-";
  case Op::Mul:
    return "*";
  case Op::Div:
    return "/";
  case Op::Exp:
    return "exp";
  case Op::Log:
    return "log";
  case Op::Tanh:
    return "tanh";
  case Op::Max:
    return "max";
  case Op::Constant:
  case Op::Read:
    break;
  }
  return "";
}

void Program::printNode(llvm::raw_ostream &os, const Node *node) const {
  if (node->op == Op::Constant) {
    os << node->value;
    return;
  }
  if (node->op == Op::Read) {
    os << tensors[node->tensor].name << "[";
    llvm::interleaveComma(node->indices, os, [&](const Affine &index) {
      printAffine(os, index, [&](unsigned it) { os << iterators[it].name; });
    });
    os << "]";
    return;
  }
  if (isInfix(node->op)) {
    os << "(";
    printNode(os, node->operands[0]);
    os << " " << getSpelling(node->op) << " ";
    printNode(os, node->operands[1]);
    os << ")";
    return;
  }
  if (node->op == Op::Neg) {
    os << "-";
    printNode(os, node->operands[0]);
    return;
  }
  os << getSpelling(node->op) << "(";
  llvm::interleaveComma(node->operands, os,
                        [&](const Node *operand) { printNode(os, operand); });
  os << ")";
}

void Program::printStage(llvm::raw_ostream &os, const Stage &stage) const {
  auto printIterators = [&](llvm::ArrayRef<unsigned> list) {
    llvm::interleaveComma(list, os, [&](unsigned it) {
      os << iterators[it].name << ":" << iterators[it].lo << ":"
         << iterators[it].hi;
    });
  };
  os << tensors[stage.output].name << " = L<";
  printIterators(stage.traversal);
  os << ">";
  if (!stage.summation.empty()) {
    os << " Σ<";
    printIterators(stage.summation);
    os << ">";
  }
  os << " ";
  printNode(os, stage.summand);
}

void Program::printView(llvm::raw_ostream &os, const Tensor &view) const {
  os << view.name << " = reshape(" << tensors[view.source].name;
  for (int64_t extent : view.shape)
    os << ", " << extent;
  os << ")";
}

void Program::print(llvm::raw_ostream &os) const {
  for (const Tensor &tensor : tensors) {
    if (!tensor.isView())
      continue;
    printView(os, tensor);
    os << "\n";
  }
  for (const Stage &stage : stages) {
    printStage(os, stage);
    os << "\n";
  }
}

//===----------------------------------------------------------------------===//
// Fingerprint
//===----------------------------------------------------------------------===//

namespace {
/// Hashes a program's stages with iterators identified by their role, not
/// their names: a traversal iterator by its position and range, a
/// summation iterator by its range and, refined twice, by the reads it
/// indexes (which tensor dimension, with which coefficient, next to which
/// other iterators). Commutative operands hash in sorted order.
class Fingerprinter {
public:
  explicit Fingerprinter(const Program &program) : program(program) {}

  uint64_t getTensor(unsigned tensor) {
    const Tensor &t = program.tensors[tensor];
    // Tags: 0 a constant, 1 a read, 2 an operation, 3 a view.
    if (t.isView())
      return llvm::hash_combine(
          3, getTensor(t.source),
          llvm::hash_combine_range(t.shape.begin(), t.shape.end()));
    if (t.stage < 0)
      return llvm::hash_combine(
          llvm::hash_value(t.name),
          llvm::hash_combine_range(t.shape.begin(), t.shape.end()));
    auto it = stageHashes.find(t.stage);
    if (it != stageHashes.end())
      return it->second;
    uint64_t hash = getStage(program.stages[t.stage]);
    stageHashes[t.stage] = hash;
    return hash;
  }

  uint64_t getStage(const Stage &stage) {
    llvm::DenseMap<unsigned, uint64_t> roles;
    for (auto [d, it] : llvm::enumerate(stage.traversal))
      roles[it] = llvm::hash_combine(1, d, program.iterators[it].lo,
                                     program.iterators[it].hi);
    for (unsigned it : stage.summation)
      roles[it] = llvm::hash_combine(2, program.iterators[it].lo,
                                     program.iterators[it].hi);
    for (int round = 0; round < 2; ++round) {
      llvm::DenseMap<unsigned, llvm::SmallVector<uint64_t>> contexts;
      forEachRead(stage.summand, [&](const Node *read) {
        uint64_t tensor = getTensor(read->tensor);
        for (auto [d, index] : llvm::enumerate(read->indices))
          for (auto [it, c] : index.terms) {
            if (!llvm::is_contained(stage.summation, it))
              continue;
            llvm::SmallVector<uint64_t> others;
            for (auto [other, oc] : index.terms)
              if (other != it)
                others.push_back(llvm::hash_combine(roles[other], oc));
            llvm::sort(others);
            contexts[it].push_back(llvm::hash_combine(
                tensor, d, c, index.constant,
                llvm::hash_combine_range(others.begin(), others.end())));
          }
      });
      llvm::DenseMap<unsigned, uint64_t> refined = roles;
      for (unsigned it : stage.summation) {
        llvm::SmallVector<uint64_t> &list = contexts[it];
        llvm::sort(list);
        refined[it] = llvm::hash_combine(
            roles[it], llvm::hash_combine_range(list.begin(), list.end()));
      }
      roles = std::move(refined);
    }
    llvm::SmallVector<uint64_t> traversal, summation;
    for (unsigned it : stage.traversal)
      traversal.push_back(roles[it]);
    for (unsigned it : stage.summation)
      summation.push_back(roles[it]);
    llvm::sort(summation);
    return llvm::hash_combine(
        llvm::hash_combine_range(traversal.begin(), traversal.end()),
        llvm::hash_combine_range(summation.begin(), summation.end()),
        getNode(stage.summand, roles));
  }

  uint64_t getNode(const Node *node,
                   const llvm::DenseMap<unsigned, uint64_t> &roles) {
    if (node->op == Op::Constant) {
      uint64_t bits;
      std::memcpy(&bits, &node->value, sizeof(bits));
      return llvm::hash_combine(0, bits);
    }
    if (node->op == Op::Read) {
      llvm::SmallVector<uint64_t> indices;
      for (const Affine &index : node->indices) {
        llvm::SmallVector<uint64_t> terms;
        for (auto [it, c] : index.terms)
          terms.push_back(llvm::hash_combine(roles.lookup(it), c));
        llvm::sort(terms);
        indices.push_back(llvm::hash_combine(
            index.constant,
            llvm::hash_combine_range(terms.begin(), terms.end())));
      }
      return llvm::hash_combine(
          1, getTensor(node->tensor),
          llvm::hash_combine_range(indices.begin(), indices.end()));
    }
    llvm::SmallVector<uint64_t> operands;
    for (const Node *operand : node->operands)
      operands.push_back(getNode(operand, roles));
    if (node->isCommutative())
      llvm::sort(operands);
    return llvm::hash_combine(
        2, static_cast<int>(node->op),
        llvm::hash_combine_range(operands.begin(), operands.end()));
  }

private:
  const Program &program;
  llvm::DenseMap<int, uint64_t> stageHashes;
};
} // namespace

uint64_t Program::fingerprint() const {
  Fingerprinter fingerprinter(*this);
  return fingerprinter.getTensor(getResult());
}

//===----------------------------------------------------------------------===//
// Evaluation
//===----------------------------------------------------------------------===//

namespace {
struct Evaluator {
  const Program &program;
  std::vector<std::vector<double>> values;
  std::vector<int64_t> at;
  /// Lazily: the elements of the stages' tensors computed so far.
  bool lazy = false;
  std::vector<llvm::DenseMap<int64_t, double>> computed;

  /// One element of the tensor of a stage, computed once.
  double element(unsigned tensor, int64_t offset) {
    auto [it, inserted] = computed[tensor].try_emplace(offset, 0.0);
    if (!inserted)
      return it->second;
    const Stage &stage = program.stages[program.tensors[tensor].stage];
    std::vector<int64_t> saved = at;
    int64_t rest = offset;
    for (unsigned d = stage.traversal.size(); d-- > 0;) {
      const Iterator &range = program.iterators[stage.traversal[d]];
      at[stage.traversal[d]] = range.lo + rest % range.size();
      rest /= range.size();
    }
    double sum = 0.0;
    forEachPoint(stage.summation, [&] { sum += eval(stage.summand); });
    at = std::move(saved);
    computed[tensor][offset] = sum;
    return sum;
  }

  double read(const Node *node) {
    const Tensor &tensor = program.tensors[node->tensor];
    int64_t offset = 0;
    for (auto [d, index] : llvm::enumerate(node->indices)) {
      int64_t position = index.constant;
      for (auto [it, c] : index.terms)
        position += c * at[it];
      if (position < 0 || position >= tensor.shape[d])
        return 0.0;
      offset = offset * tensor.shape[d] + position;
    }
    if (lazy && tensor.stage >= 0)
      return element(node->tensor, offset);
    // A view has its input's elements.
    return values[tensor.isView() ? tensor.source : node->tensor][offset];
  }

  double eval(const Node *node) {
    auto arg = [&](unsigned i) { return eval(node->operands[i]); };
    switch (node->op) {
    case Op::Constant:
      return node->value;
    case Op::Read:
      return read(node);
    case Op::Add:
      return arg(0) + arg(1);
    case Op::Sub:
      return arg(0) - arg(1);
    case Op::Mul:
      return arg(0) * arg(1);
    case Op::Div:
      return arg(0) / arg(1);
    case Op::Neg:
      return -arg(0);
    case Op::Exp:
      return std::exp(arg(0));
    case Op::Log:
      return std::log(arg(0));
    case Op::Tanh:
      return std::tanh(arg(0));
    case Op::Max:
      return std::max(arg(0), arg(1));
    }
    return 0.0;
  }

  /// Visits every point of `list` (iterators), setting `at`.
  void forEachPoint(llvm::ArrayRef<unsigned> list,
                    llvm::function_ref<void()> fn) {
    if (list.empty())
      return fn();
    const Iterator &it = program.iterators[list.front()];
    for (int64_t v = it.lo; v < it.hi; ++v) {
      at[list.front()] = v;
      forEachPoint(list.drop_front(), fn);
    }
  }

  void run(const Stage &stage) {
    std::vector<double> &out = values[stage.output];
    size_t size = 1;
    for (int64_t d : program.tensors[stage.output].shape)
      size *= d;
    out.assign(size, 0.0);
    size_t position = 0;
    forEachPoint(stage.traversal, [&] {
      double sum = 0.0;
      forEachPoint(stage.summation, [&] { sum += eval(stage.summand); });
      out[position++] = sum;
    });
  }
};
} // namespace

static void setInputs(Evaluator &evaluator, const Inputs &inputs) {
  const Program &program = evaluator.program;
  evaluator.values.resize(program.tensors.size());
  evaluator.at.assign(program.iterators.size(), 0);
  for (auto [i, tensor] : llvm::enumerate(program.tensors))
    if (tensor.isInput()) {
      auto it = inputs.find(tensor.name);
      if (it != inputs.end())
        evaluator.values[i] = it->second;
      evaluator.values[i].resize(tensor.getNumElements(), 0.0);
    }
}

std::vector<double> search::evaluate(const Program &program,
                                     const Inputs &inputs) {
  Evaluator evaluator{program, {}, {}};
  setInputs(evaluator, inputs);
  for (const Stage &stage : program.stages)
    evaluator.run(stage);
  return evaluator.values[program.getResult()];
}

std::vector<double> search::evaluateAt(const Program &program,
                                       const Inputs &inputs,
                                       llvm::ArrayRef<int64_t> offsets) {
  Evaluator evaluator{program, {}, {}};
  setInputs(evaluator, inputs);
  evaluator.lazy = true;
  evaluator.computed.resize(program.tensors.size());
  std::vector<double> result;
  for (int64_t offset : offsets)
    result.push_back(evaluator.element(program.getResult(), offset));
  return result;
}
