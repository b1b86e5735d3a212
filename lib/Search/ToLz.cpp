//===- ToLz.cpp - Derived programs as Leibniz source ----------------------===//
//
// Part of Leibniz.
//
// A derived program is written back as a Leibniz definition, so that it
// compiles through the whole pipeline (BLAS for the products at -O3) and
// the reference interpreter checks it against the original.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Search/Derivation.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace leibniz;
using namespace leibniz::search;

namespace {

class DefinitionPrinter {
public:
  DefinitionPrinter(llvm::raw_ostream &os, const Program &program)
      : os(os), program(program) {}

  void print(llvm::StringRef name);

private:
  /// A fresh identifier based on `base`.
  std::string fresh(llvm::StringRef base);
  void printType(const Tensor &tensor);
  /// An index, with the iterators named by `names` (ranging from 0, so an
  /// iterator's value is its name plus its range's start).
  std::string printIndex(const Affine &index);
  std::string printNode(const Node *node);
  void printScopes(llvm::ArrayRef<unsigned> list, llvm::StringRef keyword);
  void printStage(const Stage &stage);
  void printProduct(const Stage &stage);

  llvm::raw_ostream &os;
  const Program &program;
  llvm::StringSet<> used;
  llvm::DenseMap<unsigned, std::string> iteratorNames;
  llvm::DenseMap<unsigned, std::string> tensorNames;
};

} // namespace

std::string DefinitionPrinter::fresh(llvm::StringRef base) {
  std::string name;
  for (char c : base)
    name += (isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (name.empty() || isdigit(static_cast<unsigned char>(name[0])))
    name = "v" + name;
  static const char *const kKeywords[] = {
      "as",  "def",  "else", "false", "fn",   "for", "if",   "import", "in",
      "let", "loop", "max",  "min",   "prod", "sum", "then", "true",   "while"};
  if (llvm::is_contained(kKeywords, name))
    name += "_";
  std::string candidate = name;
  for (unsigned i = 2; used.contains(candidate); ++i)
    candidate = name + std::to_string(i);
  used.insert(candidate);
  return candidate;
}

void DefinitionPrinter::printType(const Tensor &tensor) {
  os << "f64[";
  llvm::interleaveComma(tensor.shape, os);
  os << "]";
}

std::string DefinitionPrinter::printIndex(const Affine &index) {
  // The iterators range from 0 in the definition.
  Affine shifted = index;
  for (auto [it, c] : index.terms)
    shifted.constant += c * program.iterators[it].lo;
  std::string text;
  llvm::raw_string_ostream out(text);
  printAffine(
      out, shifted, [&](unsigned it) { out << iteratorNames.lookup(it); },
      /*spaced=*/true);
  return text;
}

std::string DefinitionPrinter::printNode(const Node *node) {
  switch (node->op) {
  case Op::Constant: {
    std::string text;
    llvm::raw_string_ostream out(text);
    out << llvm::format("%.17g", node->value);
    if (text.find_first_of(".eEn") == std::string::npos)
      text += ".0";
    return node->value < 0 ? "(" + text + ")" : text;
  }
  case Op::Read: {
    const Tensor &tensor = program.tensors[node->tensor];
    std::string read = tensorNames.lookup(node->tensor) + "[";
    std::string guard;
    for (auto [d, index] : llvm::enumerate(node->indices)) {
      std::string text = printIndex(index);
      read += (d ? ", " : "") + text;
      if (program.isWithin(index, tensor.shape[d]))
        continue;
      guard += (guard.empty() ? "" : " && ") + text + " >= 0 && " + text +
               " < " + std::to_string(tensor.shape[d]);
    }
    read += "]";
    if (guard.empty())
      return read;
    return "(if " + guard + " then " + read + " else 0.0)";
  }
  default:
    break;
  }
  auto operand = [&](unsigned i) { return printNode(node->operands[i]); };
  if (isInfix(node->op))
    return "(" + operand(0) + " " + getSpelling(node->op).str() + " " +
           operand(1) + ")";
  if (node->op == Op::Neg)
    return "(-" + operand(0) + ")";
  std::string call = getSpelling(node->op).str() + "(";
  for (unsigned i = 0; i < node->operands.size(); ++i)
    call += (i ? ", " : "") + operand(i);
  return call + ")";
}

void DefinitionPrinter::printScopes(llvm::ArrayRef<unsigned> list,
                                    llvm::StringRef keyword) {
  if (list.empty())
    return;
  os << keyword << " ";
  llvm::interleaveComma(list, os, [&](unsigned it) {
    std::string name = fresh(program.iterators[it].name);
    iteratorNames[it] = name;
    os << name << " < " << program.iterators[it].size();
  });
  os << ". ";
}

/// A matched product: the operands laid out as [rows, reduction] and
/// [reduction, columns] matrices (per batch), their product, and the
/// stage's tensor read from it.
void DefinitionPrinter::printProduct(const Stage &stage) {
  const Node *a = stage.summand->operands[0];
  const Node *b = stage.summand->operands[1];
  auto iteratorOf = [](const Affine &index) { return index.terms[0].first; };
  auto contains = [&](const Node *read, unsigned it) {
    return llvm::any_of(read->indices, [&](const Affine &index) {
      return iteratorOf(index) == it;
    });
  };
  llvm::SmallVector<unsigned> batch, rows, columns;
  for (unsigned it : stage.traversal) {
    bool ia = contains(a, it), ib = contains(b, it);
    (ia && ib ? batch : ia ? rows : columns).push_back(it);
  }
  llvm::ArrayRef<unsigned> reduction = stage.summation;
  auto size = [&](llvm::ArrayRef<unsigned> group) {
    int64_t n = 1;
    for (unsigned it : group)
      n *= program.iterators[it].size();
    return n;
  };
  // Each iterator of a group is read from the group's flat index.
  auto unflatten = [&](llvm::ArrayRef<unsigned> group, llvm::StringRef flat) {
    int64_t stride = size(group);
    for (unsigned it : group) {
      int64_t extent = program.iterators[it].size();
      stride /= extent;
      std::string value =
          stride == 1 ? flat.str()
                      : "(" + flat.str() + " / " + std::to_string(stride) + ")";
      if (it != group.front())
        value = "(" + value + " % " + std::to_string(extent) + ")";
      iteratorNames[it] = value;
    }
  };
  auto flatten = [&](llvm::ArrayRef<unsigned> group) {
    std::string text;
    for (unsigned it : group)
      text = text.empty() ? iteratorNames.lookup(it)
                          : "(" + text + ") * " +
                                std::to_string(program.iterators[it].size()) +
                                " + " + iteratorNames.lookup(it);
    return text.empty() ? std::string("0") : text;
  };
  // Whether `read` reads its whole tensor in the order of `groups`: then
  // the matrix is a view of it, with the groups' sizes.
  auto isInOrder = [&](const Node *read,
                       llvm::ArrayRef<llvm::ArrayRef<unsigned>> groups) {
    llvm::SmallVector<unsigned> order;
    for (llvm::ArrayRef<unsigned> group : groups)
      llvm::append_range(order, group);
    const Tensor &tensor = program.tensors[read->tensor];
    if (order.size() != read->indices.size())
      return false;
    for (auto [d, index] : llvm::enumerate(read->indices)) {
      const Iterator &iterator = program.iterators[order[d]];
      if (!(index == Affine::getIterator(order[d])) || iterator.lo != 0 ||
          iterator.size() != tensor.shape[d])
        return false;
    }
    return true;
  };
  std::string bi = fresh("b"), m = fresh("m"), n = fresh("n"), k = fresh("k");
  auto operand = [&](const Node *read, llvm::ArrayRef<unsigned> first,
                     llvm::StringRef firstName, llvm::ArrayRef<unsigned> second,
                     llvm::StringRef secondName) {
    if (isInOrder(read, {batch, first, second})) {
      std::string tensor = tensorNames.lookup(read->tensor);
      llvm::SmallVector<int64_t, 3> shape;
      if (!batch.empty())
        shape.push_back(size(batch));
      shape.push_back(size(first));
      shape.push_back(size(second));
      if (llvm::equal(shape, program.tensors[read->tensor].shape))
        return tensor;
      std::string name = fresh(tensor + "_mat");
      os << "  let " << name << " = reshape(" << tensor;
      for (int64_t extent : shape)
        os << ", " << extent;
      os << ")\n";
      return name;
    }
    std::string name = fresh(tensorNames.lookup(read->tensor) + "_mat");
    os << "  let " << name << " = for ";
    if (!batch.empty())
      os << bi << " < " << size(batch) << ", ";
    os << firstName << " < " << size(first) << ", " << secondName << " < "
       << size(second) << ". ";
    unflatten(batch, bi);
    unflatten(first, firstName);
    unflatten(second, secondName);
    os << printNode(read) << "\n";
    return name;
  };
  std::string left = operand(a, rows, m, reduction, k);
  std::string right = operand(b, reduction, k, columns, n);
  std::string product = fresh("product");
  os << "  let " << product << " = ";
  if (batch.empty())
    os << left << " @ " << right << "\n";
  else
    os << "for " << bi << " < " << size(batch) << ". " << left << "[" << bi
       << "] @ " << right << "[" << bi << "]\n";
  std::string name = fresh(program.tensors[stage.output].name);
  tensorNames[stage.output] = name;
  os << "  let " << name << " = ";
  // The traversal in the product's order: the same elements.
  llvm::SmallVector<unsigned> order(batch);
  llvm::append_range(order, rows);
  llvm::append_range(order, columns);
  if (llvm::equal(order, stage.traversal)) {
    if (batch.size() <= 1 && rows.size() == 1 && columns.size() == 1) {
      os << product << "\n";
      return;
    }
    os << "reshape(" << product;
    for (unsigned it : stage.traversal)
      os << ", " << program.iterators[it].size();
    os << ")\n";
    return;
  }
  printScopes(stage.traversal, "for");
  os << product << "[";
  if (!batch.empty())
    os << flatten(batch) << ", ";
  os << flatten(rows) << ", " << flatten(columns) << "]\n";
}

void DefinitionPrinter::printStage(const Stage &stage) {
  if (matchOperator(program, stage))
    return printProduct(stage);
  std::string name = fresh(program.tensors[stage.output].name);
  os << "  let " << name << " = ";
  printScopes(stage.traversal, "for");
  printScopes(stage.summation, "sum");
  os << printNode(stage.summand) << "\n";
  tensorNames[stage.output] = name;
}

void DefinitionPrinter::print(llvm::StringRef name) {
  os << "def " << name << "(";
  bool first = true;
  for (auto [i, tensor] : llvm::enumerate(program.tensors)) {
    if (!tensor.isInput())
      continue;
    std::string param = fresh(tensor.name);
    tensorNames[i] = param;
    os << (first ? "" : ", ") << param << ": ";
    printType(tensor);
    first = false;
  }
  Tensor result = program.tensors[program.getResult()];
  result.shape.assign(program.getResultShape().begin(),
                      program.getResultShape().end());
  os << ") -> ";
  if (result.shape.empty())
    os << "f64";
  else
    printType(result);
  os << " {\n";
  for (auto [i, tensor] : llvm::enumerate(program.tensors)) {
    if (!tensor.isView())
      continue;
    std::string view = fresh(tensor.name);
    tensorNames[i] = view;
    os << "  let " << view << " = reshape("
       << tensorNames.lookup(static_cast<unsigned>(tensor.source));
    for (int64_t extent : tensor.shape)
      os << ", " << extent;
    os << ")\n";
  }
  for (const Stage &stage : program.stages)
    printStage(stage);
  std::string value = tensorNames.lookup(program.getResult());
  if (program.tensors[program.getResult()].shape == result.shape) {
    os << "  " << value << "\n}\n";
    return;
  }
  // A derivation split the result's dimensions: the same elements, viewed
  // in the result's shape.
  os << "  reshape(" << value;
  for (int64_t extent : result.shape)
    os << ", " << extent;
  os << ")\n}\n";
}

void search::printDefinition(llvm::raw_ostream &os, const Program &program,
                             llvm::StringRef name) {
  DefinitionPrinter(os, program).print(name);
}
