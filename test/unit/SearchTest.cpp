//===- SearchTest.cpp - The tensor search's IR, rules and search ---------===//
//
// Part of Leibniz.
//
// The expression IR's uniquing and fingerprint, each derivation rule
// against the reference evaluation on random inputs, operator matching,
// and the search finding the Conv3x3 derivation from the plain expression.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "leibniz/Search/Derivation.h"
#include "leibniz/Search/Expr.h"
#include "leibniz/Search/FromLz.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace leibniz;
using namespace leibniz::search;

namespace {

Affine it(unsigned iterator) { return Affine::getIterator(iterator); }

/// Appends the stage `L<traversal> Σ<summation> summand` to `program`,
/// computing a new tensor `name` of `shape`; returns that tensor.
unsigned addStage(Program &program, llvm::ArrayRef<unsigned> traversal,
                  llvm::ArrayRef<unsigned> summation, const Node *summand,
                  llvm::StringRef name, llvm::ArrayRef<int64_t> shape) {
  Stage stage;
  stage.traversal.assign(traversal.begin(), traversal.end());
  stage.summation.assign(summation.begin(), summation.end());
  stage.summand = summand;
  stage.output = program.addTensor(name, shape, program.stages.size());
  program.stages.push_back(stage);
  return stage.output;
}

/// The names of a convolution's iterators, in the order n, y, x, f, c, r, s.
struct ConvNames {
  const char *names[7] = {"n", "y", "x", "f", "c", "r", "s"};
};

/// `L<n, y, x, f> Σ<c, r, s> A[n, y + r + offset, x + s + offset, c] *
/// K[r, s, f, c]` over an input of h + pad rows and columns.
Program makeConv(Context &context, int64_t channels, int64_t h, int64_t pad,
                 int64_t offset, ConvNames names = {}, bool kernelFirst = false,
                 bool reverseSummation = false) {
  Program program(context);
  unsigned A = program.addTensor("A", {1, h + pad, h + pad, channels});
  unsigned K = program.addTensor("K", {3, 3, channels, channels});
  int64_t ranges[7] = {1, h, h, channels, channels, 3, 3};
  unsigned its[7];
  for (int i = 0; i < 7; ++i)
    its[i] = program.addIterator(names.names[i], 0, ranges[i]);
  auto [n, y, x, f, c, r, s] = its;
  const Node *a = context.getRead(A, {it(n), it(y) + it(r) + Affine(offset),
                                      it(x) + it(s) + Affine(offset), it(c)});
  const Node *k = context.getRead(K, {it(r), it(s), it(f), it(c)});
  Stage stage;
  stage.traversal = {n, y, x, f};
  stage.summation = {c, r, s};
  if (reverseSummation)
    stage.summation = {s, r, c};
  stage.summand =
      kernelFirst ? context.get(Op::Mul, {k, a}) : context.get(Op::Mul, {a, k});
  stage.output = program.addTensor("out", {1, h, h, channels}, 0);
  program.stages.push_back(stage);
  return program;
}

/// The convolution with its channels' sum split into a stage of its own.
Program splitChannels(const Program &conv) {
  std::optional<Derived> split =
      splitSummation(conv, 0, {conv.stages[0].summation[0]});
  EXPECT_TRUE(split);
  return split ? split->program : conv;
}

/// `C[i, j] = Σk A[i, k] B[k, j]` for A of m x k and B of k x n.
Program makeProduct(Context &context, int64_t m, int64_t n, int64_t k) {
  Program program(context);
  unsigned A = program.addTensor("A", {m, k});
  unsigned B = program.addTensor("B", {k, n});
  unsigned i = program.addIterator("i", 0, m),
           j = program.addIterator("j", 0, n),
           r = program.addIterator("k", 0, k);
  addStage(program, {i, j}, {r},
           context.get(Op::Mul, {context.getRead(A, {it(i), it(r)}),
                                 context.getRead(B, {it(r), it(j)})}),
           "C", {m, n});
  return program;
}

/// OLLIE's ConvTranspose (4x4 kernel, stride 2, padding 1) of an NHWF
/// input `X[1, h, h, f]` by `K[4, 4, f, c]`, written as a gather: the output
/// row `2 * h1 + h2` (h2 < 2) is `Y'[n, h1, h2, w1, w2, c]`, a row-major view
/// of `Y[n, 2h, 2h, c]`, and sums `X[n, h1 - r1 + h2, ...] * K[2 * r1 + 1 -
/// h2, ...]` over r1 < 2 (the kernel rows of the output row's parity).
Program makeConvTranspose(Context &context, int64_t f, int64_t c, int64_t h) {
  Program program(context);
  unsigned X = program.addTensor("X", {1, h, h, f});
  unsigned K = program.addTensor("K", {4, 4, f, c});
  unsigned n = program.addIterator("n", 0, 1),
           h1 = program.addIterator("h1", 0, h),
           h2 = program.addIterator("h2", 0, 2),
           w1 = program.addIterator("w1", 0, h),
           w2 = program.addIterator("w2", 0, 2),
           o = program.addIterator("c", 0, c),
           i = program.addIterator("f", 0, f),
           r1 = program.addIterator("r1", 0, 2),
           s1 = program.addIterator("s1", 0, 2);
  Stage stage;
  stage.traversal = {n, h1, h2, w1, w2, o};
  stage.summation = {i, r1, s1};
  stage.summand = context.get(
      Op::Mul,
      {context.getRead(X, {it(n), it(h1) - it(r1) + it(h2),
                           it(w1) - it(s1) + it(w2), it(i)}),
       context.getRead(K, {it(r1) * 2 + Affine(1) - it(h2),
                           it(s1) * 2 + Affine(1) - it(w2), it(i), it(o)})});
  stage.output = program.addTensor("Y", {1, h, 2, h, 2, c}, 0);
  program.stages.push_back(stage);
  return program;
}

/// A "same" convolution with a window of `window` x `window`: `L<n, y, x,
/// f> Σ<c, r, s> A[n, y + r - w/2, x + s - w/2, c] * K[r, s, c, f]` (the
/// summand 0 outside A: zero padding) with `outputs` output channels.
Program makeWindowConv(Context &context, int64_t channels, int64_t outputs,
                       int64_t h, int64_t window) {
  Program program(context);
  unsigned A = program.addTensor("A", {1, h, h, channels});
  unsigned K = program.addTensor("K", {window, window, channels, outputs});
  unsigned n = program.addIterator("n", 0, 1),
           y = program.addIterator("y", 0, h),
           x = program.addIterator("x", 0, h),
           f = program.addIterator("f", 0, outputs),
           c = program.addIterator("c", 0, channels),
           r = program.addIterator("r", 0, window),
           s = program.addIterator("s", 0, window);
  Stage stage;
  stage.traversal = {n, y, x, f};
  stage.summation = {c, r, s};
  Affine offset(-(window / 2));
  stage.summand =
      context.get(Op::Mul, {context.getRead(A, {it(n), it(y) + it(r) + offset,
                                                it(x) + it(s) + offset, it(c)}),
                            context.getRead(K, {it(r), it(s), it(c), it(f)})});
  stage.output = program.addTensor("out", {1, h, h, outputs}, 0);
  program.stages.push_back(stage);
  return program;
}

/// Longformer's dilated G2BMM: `L<b, i, w> Σ<k> A[b, i, k] * B[b, i +
/// dilation * (w - width), k]` over a band of 2 * width + 1.
Program makeG2BMM(Context &context, int64_t batch, int64_t rows, int64_t k,
                  int64_t width, int64_t dilation) {
  Program program(context);
  unsigned A = program.addTensor("A", {batch, rows, k});
  unsigned B = program.addTensor("B", {batch, rows, k});
  unsigned b = program.addIterator("b", 0, batch),
           i = program.addIterator("i", 0, rows),
           w = program.addIterator("w", 0, 2 * width + 1),
           r = program.addIterator("k", 0, k);
  Stage stage;
  stage.traversal = {b, i, w};
  stage.summation = {r};
  stage.summand = context.get(
      Op::Mul,
      {context.getRead(A, {it(b), it(i), it(r)}),
       context.getRead(B, {it(b),
                           it(i) + it(w) * dilation - Affine(dilation * width),
                           it(r)})});
  stage.output = program.addTensor("Y", {batch, rows, 2 * width + 1}, 0);
  program.stages.push_back(stage);
  return program;
}

/// `L<i, j> Σ<k> exp(A[i, k] + 1) * (B[k, j] - A[i, k])`: a product of
/// compound factors.
Program makeExpProduct(Context &context) {
  Program program = makeProduct(context, 3, 4, 2);
  Stage &stage = program.stages[0];
  const Node *a = stage.summand->operands[0], *b = stage.summand->operands[1];
  stage.summand = context.get(
      Op::Mul,
      {context.get(Op::Exp,
                   {context.get(Op::Add, {a, context.getConstant(1.0)})}),
       context.get(Op::Sub, {b, a})});
  return program;
}

/// Whether some stage of `program` has the pattern `name`.
bool hasPattern(const Program &program, llvm::StringRef name) {
  return llvm::any_of(program.stages, [&](const Stage &stage) {
    std::optional<PatternMatch> match = matchPattern(program, stage);
    return match && match->getName() == name;
  });
}

/// `derived` verifies and computes what `original` does on random inputs.
void expectEquivalent(const Program &original, const Program &derived,
                      const std::string &what) {
  EXPECT_EQ(derived.verify(), "") << what;
  for (unsigned seed = 0; seed < 3; ++seed) {
    Inputs inputs = makeRandomInputs(original, seed);
    std::vector<double> expected = evaluate(original, inputs);
    std::vector<double> actual = evaluate(derived, inputs);
    ASSERT_EQ(expected.size(), actual.size()) << what;
    for (size_t i = 0; i < expected.size(); ++i)
      ASSERT_NEAR(actual[i], expected[i], 1e-12 * (1 + std::abs(expected[i])))
          << what << " at " << i;
  }
}

std::string print(const Program &program) {
  std::string text;
  llvm::raw_string_ostream os(text);
  program.print(os);
  return text;
}

TEST(SearchExpr, AffineIsNormalized) {
  Affine a = it(2) + it(0) * 3 + Affine(4);
  EXPECT_EQ(a.constant, 4);
  ASSERT_EQ(a.terms.size(), 2u);
  EXPECT_EQ(a.terms[0].first, 0u);
  EXPECT_EQ(a.getCoefficient(0), 3);
  EXPECT_TRUE((a - it(2) - it(0) * 3).isConstant());
  EXPECT_EQ(a.substitute(0, it(1) + Affine(1)), it(2) + it(1) * 3 + Affine(7));
}

TEST(SearchExpr, NodesAreUnique) {
  Context context;
  const Node *a = context.getRead(0, {it(0) + it(1)});
  EXPECT_EQ(a, context.getRead(0, {it(1) + it(0)}));
  EXPECT_NE(a, context.getRead(1, {it(0) + it(1)}));
  const Node *two = context.getConstant(2.0);
  EXPECT_EQ(context.get(Op::Mul, {a, two}), context.get(Op::Mul, {a, two}));
  EXPECT_NE(context.get(Op::Mul, {a, two}), context.get(Op::Add, {a, two}));
}

TEST(SearchExpr, PaddingReadsZero) {
  Context context;
  Program program = makeConv(context, 2, 3, 0, -1);
  EXPECT_EQ(program.verify(), "");
  // The reference result at one corner, by hand.
  Inputs inputs = makeRandomInputs(program, 1);
  std::vector<double> out = evaluate(program, inputs);
  const std::vector<double> &A = inputs["A"], &K = inputs["K"];
  double expected = 0;
  for (int c = 0; c < 2; ++c)
    for (int r = 1; r < 3; ++r)
      for (int s = 1; s < 3; ++s)
        expected += A[((r - 1) * 3 + (s - 1)) * 2 + c] *
                    K[((r * 3 + s) * 2 + 0) * 2 + c];
  EXPECT_NEAR(out[0], expected, 1e-14);
}

TEST(SearchFingerprint, InvariantToNamesOrderAndCommutation) {
  Context context;
  uint64_t base = makeConv(context, 4, 5, 2, 0).fingerprint();
  ConvNames renamed;
  const char *other[7] = {"b", "i", "j", "o", "ci", "u", "v"};
  std::copy(std::begin(other), std::end(other), renamed.names);
  EXPECT_EQ(makeConv(context, 4, 5, 2, 0, renamed).fingerprint(), base);
  EXPECT_EQ(
      makeConv(context, 4, 5, 2, 0, {}, /*kernelFirst=*/true).fingerprint(),
      base);
  EXPECT_EQ(makeConv(context, 4, 5, 2, 0, {}, false,
                     /*reverseSummation=*/true)
                .fingerprint(),
            base);
}

TEST(SearchFingerprint, DistinguishesExpressions) {
  Context context;
  Program conv = makeConv(context, 4, 5, 2, 0);
  uint64_t base = conv.fingerprint();
  EXPECT_NE(makeConv(context, 4, 5, 2, 1).fingerprint(), base);
  // Swapping the kernel's r and s.
  Program swapped = conv;
  Stage &stage = swapped.stages[0];
  const Node *a = stage.summand->operands[0];
  auto r = stage.summation[1], s = stage.summation[2], f = stage.traversal[3],
       c = stage.summation[0];
  stage.summand = context.get(
      Op::Mul, {a, context.getRead(1, {it(s), it(r), it(f), it(c)})});
  EXPECT_NE(swapped.fingerprint(), base);
  // Another traversal order.
  Program transposed = conv;
  std::swap(transposed.stages[0].traversal[1],
            transposed.stages[0].traversal[2]);
  EXPECT_NE(transposed.fingerprint(), base);
}

TEST(SearchRules, SummationSplittingPreservesResults) {
  Context context;
  Program conv = makeConv(context, 3, 4, 2, 0);
  const Stage &stage = conv.stages[0];
  unsigned tried = 0;
  for (unsigned mask = 1; mask < 7; ++mask) {
    llvm::SmallVector<unsigned> inner;
    for (unsigned b = 0; b < 3; ++b)
      if (mask & (1u << b))
        inner.push_back(stage.summation[b]);
    std::optional<Derived> derived = splitSummation(conv, 0, inner);
    ASSERT_TRUE(derived);
    EXPECT_EQ(derived->program.stages.size(), 2u);
    EXPECT_NE(derived->program.fingerprint(), conv.fingerprint());
    expectEquivalent(conv, derived->program, derived->step);
    ++tried;
  }
  EXPECT_EQ(tried, 6u);
  EXPECT_FALSE(splitSummation(conv, 0, {}));
  EXPECT_FALSE(splitSummation(conv, 0, stage.summation));
}

TEST(SearchRules, SubstitutionPreservesResultsAndTightens) {
  Context context;
  // Unpadded, with offsets: the substituted index is tightened to A.
  Program conv = makeConv(context, 2, 4, 0, -1);
  Program program = splitChannels(conv);
  const Node *read = program.stages[0].summand->operands[0];
  ASSERT_EQ(read->op, Op::Read);
  unsigned y = program.stages[0].traversal[1];
  std::optional<Derived> derived = substituteIndex(program, 0, read, 1, y);
  ASSERT_TRUE(derived);
  EXPECT_NE(derived->step.find("tightened"), std::string::npos)
      << derived->step;
  const Stage &stage = derived->program.stages[0];
  const Iterator &fresh = derived->program.iterators[stage.traversal[1]];
  EXPECT_EQ(fresh.lo, 0);
  EXPECT_EQ(fresh.hi, 4);
  expectEquivalent(conv, derived->program, derived->step);
  // Not on the result's stage, nor on an index of one iterator.
  EXPECT_FALSE(substituteIndex(program, 1, read, 1, y));
  EXPECT_FALSE(
      substituteIndex(program, 0, read, 0, program.stages[0].traversal[0]));
}

TEST(SearchRules, SubstitutionKeepsReadersPadding) {
  // t[i, j] = A[i + j] * B[j]; out[x, y] = t[x - 1, y]: out reads t's
  // padding at x = 0, which substituting i + j would move inside.
  Context context;
  Program program(context);
  unsigned A = program.addTensor("A", {8}), B = program.addTensor("B", {4});
  unsigned i = program.addIterator("i", 0, 4),
           j = program.addIterator("j", 0, 4);
  Stage inner;
  inner.traversal = {i, j};
  const Node *read = context.getRead(A, {it(i) + it(j)});
  inner.summand = context.get(Op::Mul, {read, context.getRead(B, {it(j)})});
  inner.output = program.addTensor("t", {4, 4}, 0);
  program.stages.push_back(inner);
  unsigned x = program.addIterator("x", 0, 4),
           y = program.addIterator("y", 0, 4);
  Stage outer;
  outer.traversal = {x, y};
  outer.summand = context.getRead(inner.output, {it(x) - Affine(1), it(y)});
  outer.output = program.addTensor("out", {4, 4}, 1);
  program.stages.push_back(outer);
  ASSERT_EQ(program.verify(), "");
  EXPECT_FALSE(substituteIndex(program, 0, read, 0, i));
  // Reading within t, it applies and keeps the results.
  Program within = program;
  within.stages[1].summand = context.getRead(inner.output, {it(x), it(y)});
  std::optional<Derived> derived = substituteIndex(within, 0, read, 0, i);
  ASSERT_TRUE(derived);
  expectEquivalent(within, derived->program, derived->step);
}

TEST(SearchRules, StageMergingUndoesSplitting) {
  Context context;
  Program conv = makeConv(context, 3, 4, 2, 0);
  for (unsigned b = 0; b < 3; ++b) {
    std::optional<Derived> split =
        splitSummation(conv, 0, {conv.stages[0].summation[b]});
    ASSERT_TRUE(split);
    const Program &two = split->program;
    std::optional<Derived> merged = mergeStage(two, 1, two.stages[0].output);
    ASSERT_TRUE(merged) << split->step;
    EXPECT_EQ(merged->program.stages.size(), 1u);
    EXPECT_EQ(merged->program.tensors.size(), conv.tensors.size());
    EXPECT_EQ(merged->program.fingerprint(), conv.fingerprint());
    expectEquivalent(conv, merged->program, merged->step);
  }
}

TEST(SearchRules, StageMergingConditions) {
  Context context;
  // t[i, j] = Σk A[i, k] B[k, j]; out[i, j] = t[j, i] + 1: the read is not
  // a factor, so the sum cannot move; out2[i, j] = t[j, i] * 2 can, with
  // the transposed read substituted at once.
  Program program = makeProduct(context, 3, 3, 3);
  const Stage product = program.stages[0];
  unsigned i = product.traversal[0], j = product.traversal[1];
  Stage sum;
  sum.traversal = {i, j};
  const Node *transposed = context.getRead(product.output, {it(j), it(i)});
  sum.summand = context.get(Op::Add, {transposed, context.getConstant(1.0)});
  sum.output = program.addTensor("out", {3, 3}, 1);
  program.stages.push_back(sum);
  EXPECT_EQ(program.verify(), "");
  EXPECT_FALSE(mergeStage(program, 1, product.output));

  Program scaled = program;
  scaled.stages[1].summand =
      context.get(Op::Mul, {transposed, context.getConstant(2.0)});
  std::optional<Derived> merged = mergeStage(scaled, 1, product.output);
  ASSERT_TRUE(merged);
  expectEquivalent(scaled, merged->program, merged->step);
  // A read that may leave the tensor is not merged.
  Program shifted = scaled;
  shifted.stages[1].summand = context.get(
      Op::Mul, {context.getRead(product.output, {it(j) + Affine(1), it(i)}),
                context.getConstant(2.0)});
  EXPECT_FALSE(mergeStage(shifted, 1, product.output));
}

TEST(SearchRules, EveryDerivationPreservesResults) {
  Context context;
  Program conv = makeConv(context, 2, 3, 0, -1);
  std::vector<Program> frontier = {conv};
  size_t checked = 0;
  for (int depth = 0; depth < 3; ++depth) {
    std::vector<Program> next;
    for (const Program &program : frontier)
      for (Derived &derived : deriveAll(program)) {
        expectEquivalent(conv, derived.program, derived.step);
        ++checked;
        next.push_back(std::move(derived.program));
      }
    frontier = std::move(next);
  }
  EXPECT_GT(checked, 20u);
}

/// A random program of one or two stages: affine indices with
/// coefficients of ±1, 2 and 3, ranges that start below or above 0, reads
/// that fall outside their tensors, products, sums, negations and
/// reciprocals, and a second stage that reads the first anywhere.
Program makeRandomProgram(Context &context, unsigned seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  Program program(context);
  auto addIterators = [&](const char *prefix, int count, int maxSize) {
    llvm::SmallVector<unsigned> its;
    for (int i = 0; i < count; ++i) {
      int lo = pick(0, 3) == 0 ? pick(-1, 1) : 0;
      its.push_back(program.addIterator(prefix + std::to_string(i), lo,
                                        lo + pick(2, maxSize)));
    }
    return its;
  };
  auto randomIndex = [&](llvm::ArrayRef<unsigned> its) {
    if (pick(0, 2) == 0)
      return it(its[pick(0, its.size() - 1)]);
    static const int coefficients[] = {1, 1, 1, -1, 2, -2, 3};
    Affine index(pick(-2, 2));
    for (int k = pick(1, 3); k > 0; --k)
      index =
          index + it(its[pick(0, its.size() - 1)]) * coefficients[pick(0, 6)];
    return index;
  };
  auto randomRead = [&](const char *name, llvm::ArrayRef<unsigned> its) {
    llvm::SmallVector<Affine, 4> indices;
    llvm::SmallVector<int64_t> shape;
    for (int d = pick(1, 3); d > 0; --d) {
      indices.push_back(randomIndex(its));
      shape.push_back(pick(2, 8));
    }
    return context.getRead(program.addTensor(name, shape), indices);
  };
  auto addStage = [&](llvm::ArrayRef<unsigned> traversal,
                      llvm::ArrayRef<unsigned> summation, const Node *summand,
                      const char *name) {
    Stage stage;
    stage.traversal.assign(traversal.begin(), traversal.end());
    stage.summation.assign(summation.begin(), summation.end());
    stage.summand = summand;
    llvm::SmallVector<int64_t> shape;
    for (unsigned i : traversal)
      shape.push_back(program.iterators[i].size());
    stage.output = program.addTensor(name, shape, program.stages.size());
    program.stages.push_back(stage);
    return stage.output;
  };
  llvm::SmallVector<unsigned> traversal = addIterators("t", pick(2, 3), 5);
  llvm::SmallVector<unsigned> summation = addIterators("s", pick(1, 3), 5);
  llvm::SmallVector<unsigned> all(traversal);
  all.append(summation.begin(), summation.end());
  const Node *summand =
      context.get(Op::Mul, {randomRead("A", all), randomRead("B", all)});
  switch (pick(0, 4)) {
  case 0:
    summand = context.get(Op::Add, {summand, randomRead("C", all)});
    break;
  case 1:
    summand = context.get(Op::Neg, {summand});
    break;
  case 2:
    summand = context.get(
        Op::Mul, {summand, context.get(Op::Div, {context.getConstant(1.0),
                                                 randomRead("C", all)})});
    break;
  default:
    break;
  }
  unsigned first = addStage(traversal, summation, summand, "out");
  if (pick(0, 1)) {
    llvm::SmallVector<unsigned> outer = addIterators("u", pick(1, 3), 5);
    llvm::SmallVector<unsigned> summed = addIterators("v", pick(0, 2), 4);
    llvm::SmallVector<unsigned> its(outer);
    its.append(summed.begin(), summed.end());
    llvm::SmallVector<Affine, 4> indices;
    for (size_t d = 0; d < traversal.size(); ++d)
      indices.push_back(randomIndex(its));
    const Node *read = context.getRead(first, indices);
    const Node *other = randomRead("D", its);
    addStage(outer, summed,
             context.get(pick(0, 2) ? Op::Mul : Op::Add, {read, other}), "res");
  }
  return program;
}

TEST(SearchRules, RandomProgramsKeepTheirResults) {
  // Every rule, on random programs, to depth 3 (200 states a depth at
  // most): each derived program
  // verifies and computes what its original does, NaN and infinities
  // (1 / 0) where it does.
  size_t checked = 0;
  for (unsigned seed = 0; seed < 300; ++seed) {
    Context context;
    Program original = makeRandomProgram(context, seed);
    ASSERT_EQ(original.verify(), "") << seed;
    Inputs inputs = makeRandomInputs(original, seed);
    std::vector<double> expected = evaluate(original, inputs);
    std::vector<Program> frontier = {original};
    for (int depth = 0; depth < 3; ++depth) {
      std::vector<Program> next;
      for (const Program &program : frontier)
        for (Derived &derived : deriveAll(program)) {
          if (next.size() >= 200)
            break;
          std::string what = "seed " + std::to_string(seed) + ": " +
                             derived.step + "\n" + print(derived.program);
          ASSERT_EQ(derived.program.verify(), "") << what;
          ASSERT_EQ(derived.program.getResultShape(), original.getResultShape())
              << what;
          std::vector<double> actual = evaluate(derived.program, inputs);
          ASSERT_EQ(actual.size(), expected.size()) << what;
          for (size_t i = 0; i < expected.size(); ++i) {
            if (std::isnan(expected[i])) {
              ASSERT_TRUE(std::isnan(actual[i])) << what << " at " << i;
              continue;
            }
            if (std::isinf(expected[i])) {
              ASSERT_EQ(actual[i], expected[i]) << what << " at " << i;
              continue;
            }
            ASSERT_NEAR(actual[i], expected[i],
                        1e-9 * (1 + std::abs(expected[i])))
                << what << " at " << i;
          }
          ++checked;
          next.push_back(std::move(derived.program));
        }
      frontier = std::move(next);
    }
  }
  EXPECT_GT(checked, 20000u);
}

TEST(SearchMatch, Matmul) {
  Context context;
  Program program = makeProduct(context, 4, 5, 3);
  const Stage stage = program.stages[0];
  unsigned A = 0, B = 1, i = stage.traversal[0], j = stage.traversal[1],
           k = stage.summation[0];
  std::optional<OperatorMatch> match = matchOperator(program, stage);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->describe(), "Matmul(4 x 5 x 3)");
  // A shifted read is not a product of whole dimensions.
  Stage shifted = stage;
  shifted.summand =
      context.get(Op::Mul, {context.getRead(A, {it(i), it(k)}),
                            context.getRead(B, {it(k) + Affine(1), it(j)})});
  EXPECT_FALSE(matchOperator(program, shifted));
  // The plain convolution is not one either.
  Program conv = makeConv(context, 2, 3, 2, 0);
  EXPECT_FALSE(matchOperator(conv, conv.stages[0]));
}

TEST(SearchExplore, FindsConv3x3AsMatmul) {
  Context context;
  Program conv = makeConv(context, 8, 5, 2, 0);
  SearchOptions options;
  options.maxDepth = 4;
  SearchResult result = explore(conv, options);
  EXPECT_LT(result.bestCost, result.originalCost);
  EXPECT_LE(result.steps.size(), 4u);
  std::optional<OperatorMatch> match;
  for (const Stage &stage : result.best.stages)
    if (auto m = matchOperator(result.best, stage))
      match = m;
  ASSERT_TRUE(match) << print(result.best);
  // Rows: the padded image; columns: the kernel's r, s, f; reduction: c.
  EXPECT_EQ(match->m, 7 * 7);
  EXPECT_EQ(match->n, 3 * 3 * 8);
  EXPECT_EQ(match->k, 8);
  expectEquivalent(conv, result.best, print(result.best));
  EXPECT_GT(result.duplicates, 0u);
}

TEST(SearchExpr, ConvTransposeIsTheStridedScatter) {
  // The gather form computes the transposed convolution: every input pixel
  // (i, j) scatters X[i, j] * K[r, s] to output pixel (2i + r - 1, 2j + s - 1).
  Context context;
  int64_t f = 2, c = 3, h = 3;
  Program program = makeConvTranspose(context, f, c, h);
  Inputs inputs = makeRandomInputs(program, 1);
  const std::vector<double> &x = inputs["X"], &k = inputs["K"];
  std::vector<double> expected(4 * h * h * c, 0.0);
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < h; ++j)
      for (int64_t r = 0; r < 4; ++r)
        for (int64_t s = 0; s < 4; ++s) {
          int64_t y = 2 * i + r - 1, z = 2 * j + s - 1;
          if (y < 0 || y >= 2 * h || z < 0 || z >= 2 * h)
            continue;
          for (int64_t a = 0; a < f; ++a)
            for (int64_t b = 0; b < c; ++b)
              expected[(y * 2 * h + z) * c + b] +=
                  x[(i * h + j) * f + a] * k[((r * 4 + s) * f + a) * c + b];
        }
  std::vector<double> actual = evaluate(program, inputs);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], 1e-12) << i;
}

TEST(SearchRules, SubstitutionWithNegatedIteratorDropsUnusedDimensions) {
  // In the channel sum of the transposed convolution, `h1 - r1 + h2` and
  // then `2 * r1 + 1 - h2` (h2 with coefficient -1) become coordinates of
  // their own: the stage then no longer depends on r1, whose dimension goes.
  Context context;
  Program convT = makeConvTranspose(context, 2, 3, 3);
  Program split = splitChannels(convT);
  const Stage &inner = split.stages[0];
  const Node *x = inner.summand->operands[0]->tensor == 0
                      ? inner.summand->operands[0]
                      : inner.summand->operands[1];
  const Node *k = x == inner.summand->operands[0] ? inner.summand->operands[1]
                                                  : inner.summand->operands[0];
  unsigned h1 = inner.traversal[1], h2 = inner.traversal[2];
  std::optional<Derived> first = substituteIndex(split, 0, x, 1, h1);
  ASSERT_TRUE(first);
  expectEquivalent(convT, first->program, first->step);
  EXPECT_NE(first->step.find("over [0, 3) (tightened to X)"), std::string::npos)
      << first->step;
  const Stage &after = first->program.stages[0];
  const Node *k2 = nullptr;
  llvm::SmallVector<const Node *> operands(after.summand->operands.begin(),
                                           after.summand->operands.end());
  for (const Node *operand : operands)
    if (operand->tensor == k->tensor)
      k2 = operand;
  ASSERT_TRUE(k2);
  EXPECT_EQ(k2->indices[0].getCoefficient(h2), -1);
  std::optional<Derived> second = substituteIndex(first->program, 0, k2, 0, h2);
  ASSERT_TRUE(second);
  expectEquivalent(convT, second->program, second->step);
  EXPECT_NE(second->step.find("no longer depends on r1"), std::string::npos)
      << second->step;
  EXPECT_EQ(second->program.stages[0].traversal.size(), 7u)
      << print(second->program);
}

TEST(SearchExplore, FindsConvTransposeAsMatmul) {
  // The second headline derivation: the product of the pixels by the
  // kernel's 16 taps and output channels, summing the input channels, and
  // a reduction over the taps of each output pixel's parity.
  Context context;
  Program convT = makeConvTranspose(context, 4, 3, 5);
  SearchOptions options;
  options.maxDepth = 5;
  SearchResult result = explore(convT, options);
  EXPECT_LT(result.bestCost, result.originalCost);
  std::optional<OperatorMatch> match;
  for (const Stage &stage : result.best.stages)
    if (auto m = matchOperator(result.best, stage))
      match = m;
  ASSERT_TRUE(match) << print(result.best);
  EXPECT_EQ(match->m, 5 * 5);
  EXPECT_EQ(match->n, 4 * 4 * 3);
  EXPECT_EQ(match->k, 4);
  expectEquivalent(convT, result.best, print(result.best));
}

TEST(SearchRules, VariableSplittingRelaxesWindows) {
  // A 5-wide window splits into 2 x 3 over [0, 6): K is 0 at r = 5.
  Context context;
  Program conv = makeWindowConv(context, 2, 3, 4, 5);
  unsigned r = conv.stages[0].summation[1];
  std::optional<Derived> split = splitVariable(conv, 0, r, 3);
  ASSERT_TRUE(split);
  EXPECT_NE(split->step.find("over [0, 6) (relaxed from [0, 5)"),
            std::string::npos)
      << split->step;
  expectEquivalent(conv, split->program, split->step);
  // 3 divides 6: no relaxation; 4 would add 3 points to 5 (more than a
  // quarter); the size itself is no factor.
  Program six = makeWindowConv(context, 2, 3, 4, 6);
  std::optional<Derived> exact =
      splitVariable(six, 0, six.stages[0].summation[1], 3);
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->step.find("relaxed"), std::string::npos);
  expectEquivalent(six, exact->program, exact->step);
  EXPECT_FALSE(splitVariable(conv, 0, r, 4));
  EXPECT_FALSE(splitVariable(conv, 0, r, 5));
  // Relaxation needs the summand to be 0 on the new points: not where the
  // kernel's read is not a factor of it.
  Program sum = conv;
  const Node *product = conv.stages[0].summand;
  sum.stages[0].summand =
      context.get(Op::Add, {product->operands[0], product->operands[1]});
  EXPECT_FALSE(splitVariable(sum, 0, r, 3));
}

TEST(SearchRules, NoRelaxationThroughPoles) {
  // `L<i> Σ<r:0:5> K[r] * (1 / X[i + r])`: relaxing r to 6 would multiply
  // K's padding 0 by 1 / 0 at X's padding, NaN.
  Context context;
  Program program(context);
  unsigned X = program.addTensor("X", {8});
  unsigned K = program.addTensor("K", {5});
  unsigned i = program.addIterator("i", 0, 4),
           r = program.addIterator("r", 0, 5);
  addStage(program, {i}, {r},
           context.get(
               Op::Mul,
               {context.getRead(K, {it(r)}),
                context.get(Op::Div, {context.getConstant(1.0),
                                      context.getRead(X, {it(i) + it(r)})})}),
           "y", {4});
  EXPECT_FALSE(splitVariable(program, 0, r, 2));
  EXPECT_FALSE(splitVariable(program, 0, r, 3));
  // The check tells a NaN from a number.
  Program nan = program;
  nan.stages[0].summand =
      context.get(Op::Mul, {context.getConstant(0.0),
                            context.get(Op::Div, {context.getConstant(1.0),
                                                  context.getConstant(0.0)})});
  EXPECT_EQ(checkDerivation(program, nan), INFINITY);
  EXPECT_EQ(checkDerivation(nan, nan), 0.0);
}

TEST(SearchRules, TraversalSplittingAndDataLayout) {
  Context context;
  Program g2bmm = makeG2BMM(context, 2, 8, 3, 2, 2);
  unsigned i = g2bmm.stages[0].traversal[1];
  std::optional<Derived> split = splitTraversal(g2bmm, 0, i, 2);
  ASSERT_TRUE(split);
  const Program &program = split->program;
  EXPECT_EQ(program.tensors[program.getResult()].shape,
            (llvm::SmallVector<int64_t, 4>{2, 4, 2, 5}));
  EXPECT_EQ(program.getResultShape(), g2bmm.getResultShape());
  expectEquivalent(g2bmm, program, split->step);
  EXPECT_FALSE(splitTraversal(g2bmm, 0, i, 3)) << "3 does not divide 8";
  // Both reads are now `2 * q + r` in dimension 1: each can be laid out
  // with the dimension split.
  const Node *a = program.stages[0].summand->operands[0];
  const Node *b = program.stages[0].summand->operands[1];
  std::optional<Derived> first = splitDimension(program, 0, a, 1, 2);
  ASSERT_TRUE(first);
  expectEquivalent(g2bmm, first->program, first->step);
  EXPECT_EQ(first->program.stages.size(), 2u);
  std::optional<Derived> second =
      splitDimension(first->program, 1, b->tensor == a->tensor ? a : b, 1, 2);
  ASSERT_TRUE(second);
  expectEquivalent(g2bmm, second->program, second->step);
  // The original reads are no `2 * q + r`: B's index has the band.
  EXPECT_FALSE(
      splitDimension(g2bmm, 0, g2bmm.stages[0].summand->operands[1], 1, 2));
}

TEST(SearchMatch, Patterns) {
  Context context;
  Program conv = makeWindowConv(context, 2, 3, 4, 5);
  std::optional<PatternMatch> match = matchPattern(conv, conv.stages[0]);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->describe(), "Conv5x5(16 points, 2 -> 3 channels)");
  Program g2bmm = makeG2BMM(context, 2, 8, 3, 2, 2);
  match = matchPattern(g2bmm, g2bmm.stages[0]);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->describe(), "DilatedG2BMM(2 x 8 x 5 x 3, dilation 2)");
  Program product = makeProduct(context, 4, 5, 3);
  EXPECT_FALSE(matchPattern(product, product.stages[0]));
}

TEST(SearchExplore, FindsConv5x5AsWiderConv3x3) {
  // The third headline derivation: the 5x5 window relaxed to 6x6 and split
  // into 2x2 offsets of a 3x3 convolution with 4 times the output channels.
  Context context;
  Program conv = makeWindowConv(context, 2, 3, 4, 5);
  SearchOptions options;
  options.maxDepth = 7;
  options.goal = [](const Program &program) {
    return hasPattern(program, "Conv3x3");
  };
  SearchResult result = explore(conv, options);
  ASSERT_TRUE(result.reachedGoal);
  EXPECT_EQ(result.steps.size(), 5u);
  for (const Stage &stage : result.best.stages) {
    std::optional<PatternMatch> match = matchPattern(result.best, stage);
    if (match && match->getName() == "Conv3x3") {
      EXPECT_EQ(match->outChannels, 4 * 3) << match->describe();
    }
  }
  expectEquivalent(conv, result.best, print(result.best));
}

TEST(SearchExplore, FindsG2BMMWithoutDilation) {
  // The fourth: the dilated band becomes a band without dilation over
  // twice the batch, once the rows split by the dilation.
  Context context;
  Program g2bmm = makeG2BMM(context, 2, 8, 3, 2, 2);
  SearchOptions options;
  options.maxDepth = 7;
  options.goal = [](const Program &program) {
    return hasPattern(program, "G2BMM");
  };
  SearchResult result = explore(g2bmm, options);
  ASSERT_TRUE(result.reachedGoal);
  EXPECT_LE(result.steps.size(), 4u);
  const Stage &stage = result.best.getResultStage();
  std::optional<PatternMatch> match = matchPattern(result.best, stage);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->describe(), "G2BMM(4 x 4 x 5 x 3)");
  expectEquivalent(g2bmm, result.best, print(result.best));
  // Without a goal, the search stops at its depth and takes the cheapest.
  EXPECT_FALSE(explore(g2bmm, SearchOptions()).reachedGoal);
}

TEST(SearchExplore, GuidedDerivationReachesProductsWithFewStates) {
  Context context;
  Program conv = makeConv(context, 8, 5, 2, 0);
  // Two windows in the result's stage, each counted twice.
  EXPECT_EQ(getTargetDistance(conv, Target()), 4u);
  Program product = makeProduct(context, 4, 5, 3);
  EXPECT_EQ(getTargetDistance(product, Target()), 0u);
  for (const Program &program : {conv, makeConvTranspose(context, 4, 3, 5),
                                 makeWindowConv(context, 2, 3, 4, 5)}) {
    SearchOptions options;
    options.maxDepth = 7;
    SearchResult guided = guide(program, options);
    ASSERT_TRUE(guided.reachedGoal) << print(program);
    EXPECT_TRUE(llvm::any_of(guided.best.stages, [&](const Stage &stage) {
      return matchOperator(guided.best, stage).has_value();
    }));
    expectEquivalent(program, guided.best, print(guided.best));
    size_t states = 0;
    for (size_t count : guided.statesPerDepth)
      states += count;
    EXPECT_LT(states, 50u) << print(program);
    std::optional<Program> replayed = replay(program, guided.path);
    ASSERT_TRUE(replayed);
    EXPECT_EQ(replayed->fingerprint(), guided.best.fingerprint());
  }
  // No product within reach: the cheapest state seen.
  Program g2bmm = makeG2BMM(context, 2, 8, 3, 2, 2);
  SearchResult none = guide(g2bmm, SearchOptions());
  EXPECT_FALSE(none.reachedGoal);
  EXPECT_LE(none.bestCost, none.originalCost);
}

/// The distinct states a search explored.
size_t countStates(const SearchResult &result) {
  size_t states = 0;
  for (size_t count : result.statesPerDepth)
    states += count;
  return states;
}

TEST(SearchExplore, TargetsByName) {
  for (llvm::StringRef name :
       {"Matmul", "Conv3x3", "Conv5x5x2", "Conv1", "G2BMM", "DilatedG2BMM"}) {
    std::optional<Target> target = Target::parse(name);
    ASSERT_TRUE(target) << name.str();
    EXPECT_EQ(target->getName(), name.str());
  }
  for (llvm::StringRef name : {"", "Conv", "Conv3x", "Conv0x3", "Conv-3",
                               "Convx3", "conv3x3", "G2BMMx", "Gemm"})
    EXPECT_FALSE(Target::parse(name)) << name.str();
}

TEST(SearchExplore, GuidedDerivationReachesPatterns) {
  // Towards the third and the fourth headline derivations' patterns,
  // guided derivation explores far fewer states than breadth first to
  // the same depth, and the state it stops at has the pattern.
  Context context;
  struct Case {
    Program program;
    const char *target;
    unsigned startDistance;
    size_t maxStates;
  };
  for (auto [program, name, startDistance, maxStates] :
       {Case{makeWindowConv(context, 2, 3, 4, 5), "Conv3x3", 6, 100},
        Case{makeG2BMM(context, 2, 8, 3, 2, 2), "G2BMM", 6, 10}}) {
    Target target = *Target::parse(name);
    // Each window of 5 needs a variable splitting, a summation splitting
    // and a substitution; the dilation a traversal splitting and two
    // layout splits, which count twice in the result's stage.
    EXPECT_EQ(getTargetDistance(program, target), startDistance) << name;
    SearchOptions options;
    options.maxDepth = 7;
    SearchResult guided = guide(program, options, target);
    ASSERT_TRUE(guided.reachedGoal) << name;
    EXPECT_TRUE(target.isReachedBy(guided.best)) << print(guided.best);
    EXPECT_EQ(getTargetDistance(guided.best, target), 0u);
    expectEquivalent(program, guided.best, print(guided.best));
    std::optional<Program> replayed = replay(program, guided.path);
    ASSERT_TRUE(replayed);
    EXPECT_EQ(replayed->fingerprint(), guided.best.fingerprint());
    // Breadth first to the depth guided derivation stopped at.
    options.maxDepth = guided.steps.size();
    options.goal = [&](const Program &state) {
      return target.isReachedBy(state);
    };
    SearchResult breadth = explore(program, options);
    ASSERT_TRUE(breadth.reachedGoal) << name;
    EXPECT_LE(breadth.steps.size(), guided.steps.size()) << name;
    EXPECT_LE(countStates(guided), maxStates) << name;
    EXPECT_LE(countStates(guided), countStates(breadth)) << name;
  }
  // A pattern out of reach: the cheapest state seen, and no goal.
  Program product = makeProduct(context, 4, 5, 3);
  SearchResult none = guide(product, SearchOptions(), *Target::parse("G2BMM"));
  EXPECT_FALSE(none.reachedGoal);
}

TEST(SearchRules, ExpressionSplittingAndFusion) {
  // `L<i, j> Σ<k> exp(A[i, k]) * B[k, j]`: the exponential becomes a stage
  // of its own, and the rest a product.
  Context context;
  Program program = makeProduct(context, 4, 5, 3);
  Stage &stage = program.stages[0];
  const Node *a = stage.summand->operands[0];
  const Node *e = context.get(Op::Exp, {a});
  stage.summand = context.get(Op::Mul, {e, stage.summand->operands[1]});
  EXPECT_FALSE(hasLibraryStage(program));
  std::optional<Derived> split = splitExpression(program, 0, e);
  ASSERT_TRUE(split);
  EXPECT_EQ(split->step,
            "expression splitting: exp(A[i, k]) of C into a stage t1[i, k]");
  expectEquivalent(program, split->program, split->step);
  EXPECT_TRUE(hasLibraryStage(split->program)) << print(split->program);
  // Merging the stage back is the inverse.
  std::optional<Derived> merged =
      mergeStage(split->program, 1, split->program.stages[0].output);
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->program.fingerprint(), program.fingerprint());
  // Reads and constants are no expressions to split.
  EXPECT_FALSE(splitExpression(program, 0, a));
  EXPECT_FALSE(splitExpression(program, 0, context.getConstant(2.0)));

  // A stage that does not sum fuses into every read of it: t[i] = 2 A[i]
  // read twice in `L<i> t[i] * t[i + 1]`.
  Program twice(context);
  unsigned A = twice.addTensor("A", {6});
  unsigned i = twice.addIterator("i", 0, 6), j = twice.addIterator("j", 0, 5);
  unsigned t = addStage(twice, {i}, {},
                        context.get(Op::Mul, {context.getConstant(2.0),
                                              context.getRead(A, {it(i)})}),
                        "t", {6});
  addStage(twice, {j}, {},
           context.get(Op::Mul, {context.getRead(t, {it(j)}),
                                 context.getRead(t, {it(j) + Affine(1)})}),
           "y", {5});
  ASSERT_EQ(twice.verify(), "");
  std::optional<Derived> fused = mergeStage(twice, 1, t);
  ASSERT_TRUE(fused);
  EXPECT_EQ(fused->step, "expression fusion: t into y (2 reads)");
  EXPECT_EQ(fused->program.stages.size(), 1u);
  expectEquivalent(twice, fused->program, fused->step);
  // A stage that sums does not: its sum would be computed twice.
  Program summed = twice;
  summed.stages[0].summation = {summed.addIterator("k", 0, 2)};
  EXPECT_FALSE(mergeStage(summed, 1, t));
}

TEST(SearchRules, TermSplittingMatchesEachProduct) {
  // `L<i, j> Σ<k> A[i, k] * B[k, j] - D[i, k] * E[k, j]`: no operator; its
  // terms, each a stage, are two products.
  Context context;
  Program program = makeProduct(context, 4, 5, 3);
  Stage &stage = program.stages[0];
  unsigned D = program.addTensor("D", {4, 3});
  unsigned E = program.addTensor("E", {3, 5});
  unsigned i = stage.traversal[0], j = stage.traversal[1],
           k = stage.summation[0];
  const Node *second =
      context.get(Op::Mul, {context.getRead(D, {it(i), it(k)}),
                            context.getRead(E, {it(k), it(j)})});
  stage.summand = context.get(Op::Sub, {stage.summand, second});
  EXPECT_FALSE(hasLibraryStage(program));
  std::optional<Derived> split = splitTerms(program, 0);
  ASSERT_TRUE(split);
  EXPECT_EQ(split->step, "expression splitting: the terms of C into stages "
                         "t1[i, j] and t2[i, j]");
  expectEquivalent(program, split->program, split->step);
  ASSERT_EQ(split->program.stages.size(), 3u);
  for (unsigned s = 0; s < 2; ++s) {
    std::optional<OperatorMatch> match =
        matchOperator(split->program, split->program.stages[s]);
    ASSERT_TRUE(match) << print(split->program);
    EXPECT_EQ(match->describe(), "Matmul(4 x 5 x 3)");
  }
  EXPECT_TRUE(split->program.stages[2].summation.empty());
  // The search finds it, and it is cheaper.
  SearchOptions options;
  options.maxDepth = 2;
  SearchResult result = explore(program, options);
  EXPECT_LT(result.bestCost, result.originalCost);
  EXPECT_EQ(result.best.fingerprint(), split->program.fingerprint())
      << print(result.best);
  // Its path replays (as the cache of the pipeline does, with layouts).
  std::optional<Program> replayed = replay(program, result.path);
  ASSERT_TRUE(replayed);
  EXPECT_EQ(replayed->fingerprint(), result.best.fingerprint());
  // Not a stage that does not sum (elementwise, nothing to gain), nor a
  // summand that is no sum of terms.
  Program plain = makeProduct(context, 4, 5, 3);
  EXPECT_FALSE(splitTerms(plain, 0));
  EXPECT_FALSE(splitTerms(split->program, 2));

  // Ranges that do not start at 0, and a scalar stage, which has no
  // tensor to read: `L<i:2:6> Σ<k:1:3> A[i, k] + A[i - 2, k - 1]`, and
  // `Σ<i, k> A[i, k] - 2`.
  Program offset(context);
  unsigned A = offset.addTensor("A", {6, 3});
  unsigned oi = offset.addIterator("i", 2, 6),
           ok = offset.addIterator("k", 1, 3);
  addStage(offset, {oi}, {ok},
           context.get(Op::Add, {context.getRead(A, {it(oi), it(ok)}),
                                 context.getRead(A, {it(oi) - Affine(2),
                                                     it(ok) - Affine(1)})}),
           "C", {4});
  std::optional<Derived> offsetSplit = splitTerms(offset, 0);
  ASSERT_TRUE(offsetSplit);
  expectEquivalent(offset, offsetSplit->program, offsetSplit->step);
  Program scalar(context);
  unsigned S = scalar.addTensor("A", {6, 3});
  unsigned si = scalar.addIterator("i", 0, 6),
           sk = scalar.addIterator("k", 0, 3);
  addStage(scalar, {}, {si, sk},
           context.get(Op::Sub, {context.getRead(S, {it(si), it(sk)}),
                                 context.getConstant(2.0)}),
           "C", {});
  EXPECT_FALSE(splitTerms(scalar, 0));
}

TEST(SearchRules, TraversalMergingUndoesSplitting) {
  Context context;
  Program g2bmm = makeG2BMM(context, 2, 8, 3, 2, 2);
  std::optional<Derived> split =
      splitTraversal(g2bmm, 0, g2bmm.stages[0].traversal[1], 2);
  ASSERT_TRUE(split);
  std::optional<Derived> merged = mergeTraversal(split->program, 0, 1);
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->program.fingerprint(), g2bmm.fingerprint());
  EXPECT_TRUE(merged->program.resultShape.empty());
  expectEquivalent(g2bmm, merged->program, merged->step);
  // The pair must only appear together, as 2 * outer + inner.
  EXPECT_FALSE(mergeTraversal(g2bmm, 0, 0));
  EXPECT_FALSE(mergeTraversal(g2bmm, 0, 1));
  // A layout split of an operand, merged back, is the program again.
  const Node *a = split->program.stages[0].summand->operands[0];
  std::optional<Derived> layout = splitDimension(split->program, 0, a, 1, 2);
  ASSERT_TRUE(layout);
  std::optional<Derived> back =
      mergeStage(layout->program, 1, layout->program.stages[0].output);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->program.fingerprint(), split->program.fingerprint());
}

TEST(SearchRules, ReorderingLaysOutOperands) {
  Context context;
  Program product = makeProduct(context, 4, 5, 3);
  const Stage &stage = product.stages[0];
  const Node *a = stage.summand->operands[0];
  const Node *b = stage.summand->operands[1];
  // A[i, k] is walked in its order; B[k, j] is not: j is the outer loop.
  EXPECT_EQ(getTraversalOrder(stage, a),
            (llvm::SmallVector<unsigned, 4>{0, 1}));
  EXPECT_EQ(getTraversalOrder(stage, b),
            (llvm::SmallVector<unsigned, 4>{1, 0}));
  EXPECT_FALSE(reorderDimensions(product, 0, a, {0, 1})) << "the identity";
  EXPECT_FALSE(reorderDimensions(product, 0, a, {1, 1})) << "no permutation";
  EXPECT_FALSE(reorderDimensions(product, 0, a, {1, 0, 2})) << "wrong rank";
  std::optional<Derived> reordered = reorderDimensions(product, 0, b, {1, 0});
  ASSERT_TRUE(reordered);
  expectEquivalent(product, reordered->program, reordered->step);
  const Program &program = reordered->program;
  ASSERT_EQ(program.stages.size(), 2u);
  EXPECT_EQ(program.tensors[program.stages[0].output].shape,
            (llvm::SmallVector<int64_t, 4>{5, 3}));
  EXPECT_NE(program.fingerprint(), product.fingerprint());
  EXPECT_EQ(reordered->step, "data layout: B reordered as B'[d1, d0]");
  // The product in the new layout is still one, of the same sizes.
  std::optional<OperatorMatch> match =
      matchOperator(program, program.getResultStage());
  ASSERT_TRUE(match);
  EXPECT_EQ(match->describe(), "Matmul(4 x 5 x 3)");
  // The copy merges back into its reader.
  std::optional<Derived> back =
      mergeStage(program, 1, program.stages[0].output);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->program.fingerprint(), product.fingerprint());

  // The search derives it only with `layouts`, after the other rules, so
  // that their positions, and the paths of cached derivations, stay.
  std::vector<Derived> plain = deriveAll(product);
  std::vector<Derived> layouts = deriveAll(product, /*layouts=*/true);
  ASSERT_EQ(layouts.size(), plain.size() + 1);
  for (auto [a, b] : llvm::zip(plain, layouts))
    EXPECT_EQ(a.program.fingerprint(), b.program.fingerprint());
  EXPECT_EQ(layouts.back().program.fingerprint(), program.fingerprint());
  std::optional<Program> replayed =
      replay(product, {static_cast<unsigned>(plain.size())});
  ASSERT_TRUE(replayed);
  EXPECT_EQ(replayed->fingerprint(), program.fingerprint());
  SearchOptions options;
  options.maxDepth = 2;
  EXPECT_EQ(explore(product, options).statesPerDepth,
            (std::vector<size_t>{1, 0}));
  options.layouts = true;
  EXPECT_EQ(explore(product, options).statesPerDepth,
            (std::vector<size_t>{1, 1, 0}));

  // Reads with windows and padding (outside A, the copy reads 0 too), in
  // every order of A's four dimensions.
  Program conv = makeConv(context, 2, 3, 2, -1);
  const Node *input = conv.stages[0].summand->operands[0];
  llvm::SmallVector<unsigned, 4> order = {0, 1, 2, 3};
  unsigned count = 0;
  while (std::next_permutation(order.begin(), order.end())) {
    std::optional<Derived> derived = reorderDimensions(conv, 0, input, order);
    ASSERT_TRUE(derived);
    expectEquivalent(conv, derived->program, derived->step);
    ++count;
  }
  EXPECT_EQ(count, 23u);
  // The search reorders K[r, s, f, c] to the loops' order f, c, r, s.
  EXPECT_EQ(
      getTraversalOrder(conv.stages[0], conv.stages[0].summand->operands[1]),
      (llvm::SmallVector<unsigned, 4>{2, 3, 0, 1}));
}

/// `C[b1, b2, i, j] = Σk A[b1, b2, i, k] B[b1, b2, k, j]`: a product with
/// two batch dimensions.
Program makeBatchedProduct(Context &context) {
  Program program(context);
  unsigned A = program.addTensor("A", {2, 3, 4, 5});
  unsigned B = program.addTensor("B", {2, 3, 5, 6});
  unsigned b1 = program.addIterator("b1", 0, 2),
           b2 = program.addIterator("b2", 0, 3),
           i = program.addIterator("i", 0, 4),
           j = program.addIterator("j", 0, 6),
           k = program.addIterator("k", 0, 5);
  addStage(program, {b1, b2, i, j}, {k},
           context.get(Op::Mul,
                       {context.getRead(A, {it(b1), it(b2), it(i), it(k)}),
                        context.getRead(B, {it(b1), it(b2), it(k), it(j)})}),
           "C", {2, 3, 4, 6});
  return program;
}

TEST(SearchRules, MergingViewsInputs) {
  Context context;
  Program product = makeBatchedProduct(context);
  const Node *a = product.stages[0].summand->operands[0];
  const Node *b = product.stages[0].summand->operands[1];
  EXPECT_FALSE(mergeDimensions(product, 0, a, 3)) << "no dimension after it";
  // Any adjacent pair: a batch with the reduction.
  std::optional<Derived> inner = mergeDimensions(product, 0, b, 1);
  ASSERT_TRUE(inner);
  expectEquivalent(product, inner->program, inner->step);
  std::optional<Derived> first = mergeDimensions(product, 0, a, 0);
  ASSERT_TRUE(first);
  expectEquivalent(product, first->program, first->step);
  EXPECT_EQ(first->step,
            "data layout: dimensions 0 and 1 of A merge (A_6_4_5)");
  // A view: no stage, the input's elements in another shape.
  const Program &viewed = first->program;
  ASSERT_EQ(viewed.stages.size(), 1u);
  unsigned view = viewed.stages[0].summand->operands[0]->tensor;
  EXPECT_TRUE(viewed.tensors[view].isView());
  EXPECT_EQ(viewed.tensors[view].source, 0);
  EXPECT_EQ(viewed.tensors[view].shape,
            (llvm::SmallVector<int64_t, 4>{6, 4, 5}));
  EXPECT_EQ(print(viewed),
            "A_6_4_5 = reshape(A, 6, 4, 5)\n"
            "C = L<b1:0:2, b2:0:3, i:0:4, j:0:6> Σ<k:0:5> (A_6_4_5[3*b1+b2, "
            "i, k] * B[b1, b2, k, j])\n");
  EXPECT_NE(viewed.fingerprint(), product.fingerprint());
  // Views are inputs to the random data: only A and B get values.
  EXPECT_EQ(makeRandomInputs(viewed, 0).size(), 2u);
  // The same view again is the same tensor; merging its dimensions further
  // views the input once more.
  EXPECT_EQ(first->program.getView(0, {6, 4, 5}), view);
  std::optional<Derived> flat =
      mergeDimensions(viewed, 0, viewed.stages[0].summand->operands[0], 0);
  ASSERT_TRUE(flat);
  expectEquivalent(product, flat->program, flat->step);
  unsigned flatView = flat->program.stages[0].summand->operands[0]->tensor;
  EXPECT_EQ(flat->program.tensors[flatView].source, 0);
  EXPECT_EQ(flat->program.tensors[flatView].shape,
            (llvm::SmallVector<int64_t, 4>{24, 5}));
  // The view it replaced, read no more, is gone.
  EXPECT_EQ(print(flat->program),
            "A_24_5 = reshape(A, 24, 5)\n"
            "C = L<b1:0:2, b2:0:3, i:0:4, j:0:6> Σ<k:0:5> "
            "(A_24_5[12*b1+4*b2+i, k] * B[b1, b2, k, j])\n");
  // The same view by another path is the same program.
  std::optional<Derived> other = mergeDimensions(product, 0, a, 1);
  ASSERT_TRUE(other);
  std::optional<Derived> otherFlat = mergeDimensions(
      other->program, 0, other->program.stages[0].summand->operands[0], 0);
  ASSERT_TRUE(otherFlat);
  EXPECT_EQ(otherFlat->program.fingerprint(), flat->program.fingerprint());
  EXPECT_EQ(print(otherFlat->program), print(flat->program));
  // A view's dimensions do not split again: its input has that layout.
  EXPECT_FALSE(
      splitDimension(viewed, 0, viewed.stages[0].summand->operands[0], 0, 3));

  // The search's merge: both reads index b1, b2 as a pair; then traversal
  // merging makes them one batch. It comes last, after the reordering of
  // B[.., k, j] into the loops' order.
  std::vector<Derived> plain = deriveAll(product);
  std::vector<Derived> layouts = deriveAll(product, /*layouts=*/true);
  ASSERT_EQ(layouts.size(), plain.size() + 2);
  EXPECT_EQ(layouts[plain.size()].step,
            "data layout: B reordered as B'[d0, d1, d3, d2]");
  for (auto [x, y] : llvm::zip(plain, layouts))
    EXPECT_EQ(x.program.fingerprint(), y.program.fingerprint());
  const Derived &both = layouts.back();
  EXPECT_EQ(both.step, "data layout: dimensions 0 and 1 of A merge (A_6_4_5); "
                       "data layout: dimensions 0 and 1 of B merge (B_6_5_6)");
  expectEquivalent(product, both.program, both.step);
  std::optional<Derived> batch = mergeTraversal(both.program, 0, 0);
  ASSERT_TRUE(batch);
  expectEquivalent(product, batch->program, batch->step);
  std::optional<OperatorMatch> match =
      matchOperator(batch->program, batch->program.getResultStage());
  ASSERT_TRUE(match);
  EXPECT_EQ(match->batch, 6);
  EXPECT_EQ(batch->program.getResultShape(),
            (llvm::ArrayRef<int64_t>{2, 3, 4, 6}));
  std::string definition;
  llvm::raw_string_ostream os(definition);
  printDefinition(os, batch->program, "f");
  EXPECT_NE(definition.find("def f(A: f64[2, 3, 4, 5], B: f64[2, 3, 5, 6]) "
                            "-> f64[2, 3, 4, 6] {\n  let A_6_4_5 = reshape(A, "
                            "6, 4, 5)\n  let B_6_5_6 = reshape(B, 6, 5, 6)\n"
                            "  let product = for b < 6. A_6_4_5[b] @ "
                            "B_6_5_6[b]\n"),
            std::string::npos)
      << definition;

  // Padding: a read outside the tensor is outside the view, where the
  // inner index stays within its dimension; where it does not, the view
  // would read the next row, and the rule does not apply.
  Program shifted(context);
  unsigned X = shifted.addTensor("X", {3, 4});
  unsigned i = shifted.addIterator("i", 0, 3),
           j = shifted.addIterator("j", 0, 4);
  Stage stage;
  stage.traversal = {i, j};
  stage.summand =
      context.get(Op::Mul, {context.getRead(X, {it(i) + Affine(-1), it(j)}),
                            context.getRead(X, {it(i), it(j) + Affine(1)})});
  stage.output = shifted.addTensor("Y", {3, 4}, 0);
  shifted.stages.push_back(stage);
  const Node *up = stage.summand->operands[0];
  const Node *right = stage.summand->operands[1];
  std::optional<Derived> padded = mergeDimensions(shifted, 0, up, 0);
  ASSERT_TRUE(padded);
  expectEquivalent(shifted, padded->program, padded->step);
  EXPECT_FALSE(mergeDimensions(shifted, 0, right, 0));
  // Nor is a computed tensor viewed (traversal merging merges those).
  Program twice = shifted;
  unsigned i2 = twice.addIterator("i", 0, 3), j2 = twice.addIterator("j", 0, 4);
  Stage reader;
  reader.traversal = {i2, j2};
  const Node *computed = context.getRead(stage.output, {it(i2), it(j2)});
  reader.summand = context.get(Op::Exp, {computed});
  reader.output = twice.addTensor("Z", {3, 4}, 1);
  twice.stages.push_back(reader);
  ASSERT_EQ(twice.verify(), "");
  EXPECT_FALSE(mergeDimensions(twice, 1, computed, 0));
  // A view of the wrong size does not verify.
  Program wrong = padded->program;
  wrong.tensors.back().shape = {11};
  EXPECT_NE(wrong.verify(), "");
}

/// The lz IR of makeBatchedProduct's product.
constexpr const char *kBatchedProductIR = R"mlir(
  func.func @f(%a: tensor<2x3x4x5xf64>, %b: tensor<2x3x5x6xf64>)
      -> tensor<2x3x4x6xf64> {
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c4 = arith.constant 4 : index
    %c5 = arith.constant 5 : index
    %c6 = arith.constant 6 : index
    %0 = lz.for %b1 < %c2, %b2 < %c3, %i < %c4, %j < %c6
        : tensor<2x3x4x6xf64> {
      %1 = lz.sum %k < %c5 : f64 {
        %2 = lz.get %a[%b1, %b2, %i, %k] : tensor<2x3x4x5xf64>
        %3 = lz.get %b[%b1, %b2, %k, %j] : tensor<2x3x5x6xf64>
        %4 = arith.mulf %2, %3 : f64
        lz.yield %4 : f64
      }
      lz.yield %1 : f64
    }
    return %0 : tensor<2x3x4x6xf64>
  }
)mlir";

/// The function `f` of some lz IR, parsed, and a copy of its module whose
/// `f` a test rewrites.
struct ParsedFunction {
  std::unique_ptr<mlir::MLIRContext> mlirContext = test::makeContext();
  mlir::OwningOpRef<mlir::ModuleOp> before, after;
  mlir::func::FuncOp func;

  explicit ParsedFunction(const char *ir) {
    before = test::parse(*mlirContext, ir);
    if (!before)
      return;
    after = before->clone();
    func = after->lookupSymbol<mlir::func::FuncOp>("f");
  }

  /// Writes `program` back as the copy's body, which must verify and
  /// compute what the original does.
  void expectSameAfter(const Program &program, const char *what) {
    replaceBody(func, program);
    EXPECT_TRUE(mlir::succeeded(mlir::verify(*after)));
    test::expectSameResults(*before, *after, "f", 4, what,
                            /*realArithmetic=*/true);
  }
};

/// `program` as the search prints it.
static std::string printProgram(const Program &program) {
  std::string text;
  llvm::raw_string_ostream os(text);
  program.print(os);
  return text;
}

TEST(SearchRules, ViewsBecomeReshapesInIR) {
  // The merged program, written back as lz IR (the views as reshapes of
  // the arguments, the product as a batched product), computes what the
  // original function does.
  ParsedFunction parsed(kBatchedProductIR);
  mlir::func::FuncOp func = parsed.func;
  ASSERT_TRUE(func);
  Context context;
  mlir::FailureOr<Program> expression = fromFunction(func, context);
  ASSERT_TRUE(mlir::succeeded(expression));
  std::vector<Derived> all = deriveAll(*expression, /*layouts=*/true);
  ASSERT_FALSE(all.empty());
  ASSERT_NE(all.back().step.find("merge"), std::string::npos);
  std::optional<Derived> batch = mergeTraversal(all.back().program, 0, 0);
  ASSERT_TRUE(batch);
  ASSERT_TRUE(matchOperator(batch->program, batch->program.getResultStage()));
  parsed.expectSameAfter(batch->program, "views as reshapes");
  std::string text;
  llvm::raw_string_ostream os(text);
  parsed.after->print(os);
  EXPECT_NE(text.find("tensor.collapse_shape %arg0"), std::string::npos)
      << text;
}

/// Indices with `/` and `%` by constants: t reads x at `(i + 3 - 2 * (i %
/// 2)) / 2 - 1` (the quotient `i1`, after the offset the remainder part
/// adds) and at the remainder `1 - i2`; y reads t, whose rows split.
constexpr const char *kDivModIR = R"mlir(
  func.func @f(%x: tensor<4x6xf64>, %w: tensor<6x5xf64>) -> tensor<8x5xf64> {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c5 = arith.constant 5 : index
    %c6 = arith.constant 6 : index
    %c8 = arith.constant 8 : index
    %t = lz.for %i < %c8, %k < %c6 : tensor<8x6xf64> {
      %r = arith.remsi %i, %c2 : index
      %twice = arith.muli %r, %c2 : index
      %a = arith.subi %i, %twice : index
      %b = arith.addi %a, %c3 : index
      %q = arith.divsi %b, %c2 : index
      %row = arith.subi %q, %c1 : index
      %m = arith.remsi %b, %c2 : index
      %0 = lz.get %x[%row, %k] : tensor<4x6xf64>
      %1 = lz.get %x[%m, %k] : tensor<4x6xf64>
      %2 = arith.mulf %0, %1 : f64
      lz.yield %2 : f64
    }
    %y = lz.for %p < %c8, %j < %c5 : tensor<8x5xf64> {
      %s = lz.sum %k < %c6 : f64 {
        %0 = lz.get %t[%p, %k] : tensor<8x6xf64>
        %1 = lz.get %w[%k, %j] : tensor<6x5xf64>
        %2 = arith.mulf %0, %1 : f64
        lz.yield %2 : f64
      }
      lz.yield %s : f64
    }
    return %y : tensor<8x5xf64>
  }
)mlir";

TEST(SearchConversion, DivisionsSplitVariables) {
  // The conversion splits i and p by 2, so that every index is affine; the
  // converted program, written back, computes what the function does.
  ParsedFunction parsed(kDivModIR);
  mlir::func::FuncOp func = parsed.func;
  ASSERT_TRUE(func);
  Context context;
  mlir::FailureOr<Program> expression = fromFunction(func, context);
  ASSERT_TRUE(mlir::succeeded(expression));
  ASSERT_EQ(expression->stages.size(), 2u);
  EXPECT_EQ(expression->tensors[expression->stages[0].output].shape,
            (llvm::SmallVector<int64_t, 4>{4, 2, 6}));
  EXPECT_EQ(expression->getResultShape(), (llvm::ArrayRef<int64_t>{8, 5}));
  std::string text = printProgram(*expression);
  EXPECT_NE(text.find("in0[i, k] * in0[-j+1, k]"), std::string::npos) << text;
  EXPECT_NE(text.find("t1[l, m, p]"), std::string::npos) << text;
  parsed.expectSameAfter(*expression, "division by splitting");
}

// y[h] = sum_r (y = h + 1 - r even and y / 2 a row) x[y / 2] * w[r]: the
// congruence fixes r % 2 at 1 - h % 2, computed before the conditional.
constexpr const char *kCongruenceIR = R"mlir(
  func.func @f(%x: tensor<3xf64>, %w: tensor<4xf64>) -> tensor<6xf64> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c4 = arith.constant 4 : index
    %c6 = arith.constant 6 : index
    %zero = arith.constant 0.0 : f64
    %y = lz.for %h < %c6 : tensor<6xf64> {
      %s = lz.sum %r < %c4 : f64 {
        %a = arith.addi %h, %c1 : index
        %d = arith.subi %a, %r : index
        %m = arith.remsi %d, %c2 : index
        %even = arith.cmpi eq, %c0, %m : index
        %nonneg = arith.cmpi sge, %d, %c0 : index
        %q = arith.divsi %d, %c2 : index
        %below = arith.cmpi slt, %q, %c3 : index
        %g0 = arith.andi %even, %nonneg : i1
        %g = arith.andi %g0, %below : i1
        %v = scf.if %g -> (f64) {
          %0 = lz.get %x[%q] : tensor<3xf64>
          %1 = lz.get %w[%r] : tensor<4xf64>
          %2 = arith.mulf %0, %1 : f64
          scf.yield %2 : f64
        } else {
          scf.yield %zero : f64
        }
        lz.yield %v : f64
      }
      lz.yield %s : f64
    }
    return %y : tensor<6xf64>
  }
)mlir";

TEST(SearchConversion, CongruencesFixSummedVariables) {
  // h and r split by 2; the guard's congruence fixes r's remainder, which
  // leaves the sum, and the rest of the guard is the bounds of x's read.
  ParsedFunction parsed(kCongruenceIR);
  mlir::func::FuncOp func = parsed.func;
  ASSERT_TRUE(func);
  Context context;
  mlir::FailureOr<Program> expression = fromFunction(func, context);
  ASSERT_TRUE(mlir::succeeded(expression));
  ASSERT_EQ(expression->stages.size(), 1u);
  EXPECT_EQ(expression->stages[0].summation.size(), 1u);
  std::string text = printProgram(*expression);
  EXPECT_NE(text.find("(in0[i+j-p] * in1[-j+2*p+1])"), std::string::npos)
      << text;
  parsed.expectSameAfter(*expression, "congruence");
}

TEST(SearchRules, NewRulesPreserveResults) {
  // Every derivation to depth 2 of the other headline expressions, and of
  // the batched product, layout transformations included.
  Context context;
  for (const Program &original :
       {makeWindowConv(context, 2, 2, 3, 5), makeG2BMM(context, 2, 8, 2, 1, 2),
        makeConvTranspose(context, 2, 2, 3), makeExpProduct(context),
        makeBatchedProduct(context)}) {
    std::vector<Program> frontier = {original};
    for (int depth = 0; depth < 2; ++depth) {
      std::vector<Program> next;
      for (const Program &program : frontier)
        for (Derived &derived : deriveAll(program, /*layouts=*/true)) {
          expectEquivalent(original, derived.program, derived.step);
          next.push_back(std::move(derived.program));
        }
      frontier = std::move(next);
    }
  }
}

TEST(SearchExpr, EvaluateAtMatchesEvaluate) {
  Context context;
  Program conv = makeConv(context, 3, 4, 0, -1);
  Program split = splitChannels(conv);
  Inputs inputs = makeRandomInputs(conv, 2);
  std::vector<double> all = evaluate(split, inputs);
  std::vector<int64_t> offsets = {0, 5, 17,
                                  static_cast<int64_t>(all.size()) - 1};
  std::vector<double> some = evaluateAt(split, inputs, offsets);
  for (auto [offset, value] : llvm::zip(offsets, some))
    EXPECT_EQ(value, all[offset]);
}

TEST(SearchExplore, ReplayAndCheck) {
  Context context;
  Program conv = makeConv(context, 4, 5, 2, 0);
  SearchResult result = explore(conv, SearchOptions());
  ASSERT_FALSE(result.path.empty());
  EXPECT_EQ(result.path.size(), result.steps.size());
  std::optional<Program> replayed = replay(conv, result.path);
  ASSERT_TRUE(replayed);
  EXPECT_EQ(replayed->fingerprint(), result.best.fingerprint());
  EXPECT_LE(checkDerivation(conv, *replayed), 1e-12);
  EXPECT_FALSE(replay(conv, {1000}));
  // A wrong program fails the check: the kernel read transposed.
  Program wrong = result.best;
  for (Stage &stage : wrong.stages) {
    if (!matchOperator(wrong, stage))
      continue;
    const Node *k = stage.summand->operands[1];
    llvm::SmallVector<Affine, 4> indices(k->indices.begin(), k->indices.end());
    std::swap(indices[2], indices[3]);
    stage.summand = context.get(Op::Mul, {stage.summand->operands[0],
                                          context.getRead(k->tensor, indices)});
  }
  EXPECT_GT(checkDerivation(conv, wrong), 1e-3);
}

} // namespace
