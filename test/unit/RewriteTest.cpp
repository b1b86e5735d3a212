//===- RewriteTest.cpp - Strategies and rules -----------------------------===//
//
// Part of Leibniz.
//
// The combinators' semantics on small programs, including the point a
// strategy leaves and the propagation of failure; and every rule's
// soundness: each program is interpreted before and after normalize(rule)
// on seeded random inputs and on inputs made of signed zeros, infinities
// and NaN, and the results must be identical, with the rule having fired.
//
//===----------------------------------------------------------------------===//

#include "TestUtils.h"

#include "leibniz/Interpreter/ValueIO.h"
#include "leibniz/Rewrite/Strategy.h"

#include "Lz/LzOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace leibniz;
using namespace leibniz::interp;
using namespace leibniz::rewrite;

namespace {

StrategyRef parseStrategy(StringRef text) {
  StrategyError error;
  FailureOr<StrategyRef> strategy = StrategyLibrary::getLz().parse(text, error);
  EXPECT_TRUE(succeeded(strategy))
      << text.str() << ": column " << error.column << ": " << error.message;
  return succeeded(strategy) ? *strategy : StrategyRef();
}

/// The first operation named `name` in `module`.
Operation *findOp(ModuleOp module, StringRef name) {
  Operation *found = nullptr;
  module.walk([&](Operation *op) {
    if (!found && op->getName().getStringRef() == name)
      found = op;
  });
  return found;
}

const char *kProgram = R"mlir(
func.func @f(%x: tensor<?xf64>, %n: index, %j: index, %a: f64) -> (f64, f64) {
  %sq = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    %s = arith.mulf %e, %e : f64
    lz.yield %s : f64
  }
  %r = lz.get %sq[%j] : tensor<?xf64>
  %m = arith.mulf %a, %a : f64
  %t = lz.tuple(%m, %r : f64, f64)
  %p = lz.proj %t[0] : tuple<f64, f64>
  return %p, %r : f64, f64
}
)mlir";

class StrategyTest : public ::testing::Test {
protected:
  void SetUp() override {
    context = test::makeContext();
    module = test::parse(*context, kProgram);
    ASSERT_TRUE(module);
    func = cast<func::FuncOp>(findOp(*module, "func.func"));
  }

  FailureOr<Operation *> apply(StringRef text, Operation *point) {
    StrategyRef strategy = parseStrategy(text);
    if (!strategy)
      return failure();
    StrategyEngine engine(context.get());
    return engine.apply(*strategy, point);
  }

  std::unique_ptr<MLIRContext> context;
  OwningOpRef<ModuleOp> module;
  func::FuncOp func;
};

TEST_F(StrategyTest, IdAndFail) {
  EXPECT_EQ(*apply("id", func), func.getOperation());
  EXPECT_TRUE(failed(apply("fail", func)));
  EXPECT_TRUE(failed(apply("id ; fail", func)));
  EXPECT_EQ(*apply("fail <+ id", func), func.getOperation());
}

TEST_F(StrategyTest, ARuleMovesThePointToTheReplacement) {
  // proj(tuple(m, r))[0] is m: the point becomes m's operation.
  Operation *proj = findOp(*module, "lz.proj");
  Operation *mul =
      proj->getOperand(0).getDefiningOp()->getOperand(0).getDefiningOp();
  FailureOr<Operation *> point = apply("tuple-proj", proj);
  ASSERT_TRUE(succeeded(point));
  EXPECT_EQ(*point, mul);
  EXPECT_EQ(findOp(*module, "lz.proj"), nullptr);
}

TEST_F(StrategyTest, AFailingRuleChangesNothing) {
  Operation *get = findOp(*module, "lz.get");
  // The first get is inside the traversal and reads an argument.
  EXPECT_TRUE(failed(apply("fuse-for-get", get)));
  EXPECT_TRUE(failed(apply("tuple-proj <+ for-size", get)));
  EXPECT_EQ(findOp(*module, "lz.get"), get);
}

TEST_F(StrategyTest, SequenceRunsAtTheNewPoint) {
  Operation *proj = findOp(*module, "lz.proj");
  // After tuple-proj the point is the multiplication, not a projection.
  EXPECT_TRUE(failed(apply("tuple-proj ; tuple-proj", proj)));
  module = test::parse(*context, kProgram);
  proj = findOp(*module, "lz.proj");
  EXPECT_TRUE(succeeded(apply("tuple-proj ; not(is-get)", proj)));
}

TEST_F(StrategyTest, TraversalsVisitDirectChildren) {
  // The function's children are the operations of its body: a traversal,
  // a read, a product, a tuple, a projection and the return.
  EXPECT_TRUE(succeeded(apply("one(is-for)", func)));
  EXPECT_TRUE(failed(apply("all(is-for)", func)));
  EXPECT_TRUE(succeeded(apply("some(is-get)", func)));
  EXPECT_TRUE(failed(apply("some(is-sum)", func)));
  // The read inside the traversal is not a child of the function.
  EXPECT_TRUE(succeeded(apply("one(is-for ; one(is-get))", func)));
  EXPECT_TRUE(failed(apply("all(not(is-get))", func)));
  // one applies its strategy to the first child where it succeeds only.
  ASSERT_TRUE(succeeded(apply("one(tuple-proj <+ fuse-for-get)", func)));
  EXPECT_NE(findOp(*module, "lz.proj"), nullptr);
}

TEST_F(StrategyTest, PredicatesAndConditionals) {
  Operation *forOp = findOp(*module, "lz.for");
  EXPECT_TRUE(succeeded(apply("is-for", forOp)));
  EXPECT_TRUE(failed(apply("not(is-for)", forOp)));
  EXPECT_TRUE(succeeded(apply("if(is-for, id, fail)", forOp)));
  EXPECT_TRUE(failed(apply("if(is-sum, id, fail)", forOp)));
  EXPECT_TRUE(succeeded(apply("contains(is-get)", forOp)));
  EXPECT_TRUE(failed(apply("contains(is-sum)", func)));
}

TEST_F(StrategyTest, WholeTreeTraversals) {
  // topDown finds the first match in pre-order: the read of the traversal.
  ASSERT_TRUE(succeeded(apply("topDown(fuse-for-get <+ tuple-proj)", func)));
  EXPECT_NE(findOp(*module, "lz.proj"), nullptr);
  // normalize rewrites to a fixed point; cleanup also removes dead code.
  ASSERT_TRUE(succeeded(apply("cleanup", *module)));
  EXPECT_EQ(findOp(*module, "lz.proj"), nullptr);
  EXPECT_EQ(findOp(*module, "lz.for"), nullptr);
  // allTopDown fails where its strategy fails at any point.
  EXPECT_TRUE(failed(apply("allTopDown(is-func)", *module)));
  EXPECT_TRUE(succeeded(apply("tryAll(dce)", *module)));
}

TEST_F(StrategyTest, StrategiesThatCannotBeUndoneAreRejected) {
  std::string error;
  EXPECT_TRUE(failed(StrategyEngine::verify(
      *parseStrategy("(tuple-proj ; fail) <+ id"), error)));
  EXPECT_TRUE(
      failed(StrategyEngine::verify(*parseStrategy("not(tuple-proj)"), error)));
  EXPECT_TRUE(succeeded(
      StrategyEngine::verify(*parseStrategy("repeat(topDown(dce))"), error)));
  EXPECT_TRUE(succeeded(StrategyEngine::verify(
      *parseStrategy("not(is-for) <+ (is-get ; fail)"), error)));
}

TEST(StrategyLanguageTest, PrintsWhatItParses) {
  for (const char *text :
       {"topDown(try(dce))", "a <+ b", "fuse-for-get ; dce <+ id",
        "(dce <+ id) ; dce", "if(is-for, all(dce), one(dce))"}) {
    StrategyError error;
    FailureOr<StrategyRef> strategy =
        StrategyLibrary::getLz().parse(text, error);
    if (StringRef(text) == "a <+ b") {
      EXPECT_TRUE(failed(strategy));
      EXPECT_EQ(error.column, 1u);
      continue;
    }
    ASSERT_TRUE(succeeded(strategy)) << text << ": " << error.message;
    EXPECT_EQ(printStrategy(**strategy), text);
  }
}

TEST(StrategyLanguageTest, LimitsNesting) {
  // The parser and the engine recurse over the strategy: deep nesting is
  // an error at the level past the limit, not a stack overflow.
  auto nested = [](unsigned levels, const std::string &open,
                   const std::string &close) {
    std::string text;
    for (unsigned i = 0; i < levels; ++i)
      text += open;
    text += "id";
    for (unsigned i = 0; i < levels; ++i)
      text += close;
    return text;
  };
  for (auto [open, close] :
       {std::pair<std::string, std::string>{"try(", ")"}, {"(", ")"}}) {
    StrategyError error;
    EXPECT_TRUE(succeeded(
        StrategyLibrary::getLz().parse(nested(400, open, close), error)))
        << error.message;
    std::string deep = nested(20000, open, close);
    EXPECT_TRUE(failed(StrategyLibrary::getLz().parse(deep, error)));
    EXPECT_EQ(error.message, "the strategy nests deeper than 1000 levels of "
                             "choices, sequences, calls and parentheses");
    EXPECT_EQ(error.column, 500 * open.size() + 1);
  }
  // Long chains nest too.
  std::string chain;
  for (unsigned i = 0; i < 20000; ++i)
    chain += "id ; ";
  chain += "id";
  StrategyError error;
  EXPECT_TRUE(failed(StrategyLibrary::getLz().parse(chain, error)));
}

//===----------------------------------------------------------------------===//
// The rules preserve meaning
//===----------------------------------------------------------------------===//

struct RuleCase {
  const char *rule;
  /// A function @f whose results the rule must not change.
  const char *source;
  /// The rule holds in real arithmetic only: the inputs are finite and
  /// results may differ in the sign of zeros and by rounding.
  bool realArithmetic = false;
  /// The least number of times the rule must fire on @f.
  unsigned firings = 1;
};

const RuleCase kRuleCases[] = {
    {"fuse-for-get", R"mlir(
func.func @f(%x: tensor<?x?xf64>, %i: index, %j: index) -> (f64, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %x, %c0 : tensor<?x?xf64>
  %n = tensor.dim %x, %c1 : tensor<?x?xf64>
  %t = lz.for %a < %n, %b < %m : tensor<?x?xf64> {
    %e = lz.get %x[%b, %a] : tensor<?x?xf64>
    %s = arith.addf %e, %e : f64
    lz.yield %s : f64
  }
  %ii = arith.remui %i, %n : index
  %jj = arith.remui %j, %m : index
  %r = lz.get %t[%ii, %jj] : tensor<?x?xf64>
  %row = lz.get %t[%ii] : tensor<?x?xf64>
  return %r, %row : f64, tensor<?xf64>
})mlir"},
    {"for-size", R"mlir(
func.func @f(%x: tensor<?x?xf64>, %a: f64) -> (index, index, index, index, index, index, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x, %c0 : tensor<?x?xf64>
  %m = tensor.dim %x, %c1 : tensor<?x?xf64>
  %row = lz.get %x[%c0] : tensor<?x?xf64>
  %d0 = tensor.dim %row, %c0 : tensor<?xf64>
  %z = lz.fill %a, %m, %n : tensor<?x3x?xf64>
  %d1 = tensor.dim %z, %c1 : tensor<?x3x?xf64>
  %d2 = tensor.dim %z, %c0 : tensor<?x3x?xf64>
  %acc = lz.accumulate %k < %n into (%m) : tensor<?xf64> {
    %e = lz.get %x[%k, %c0] : tensor<?x?xf64>
    lz.yield %c0, %e : index, f64
  }
  %d3 = tensor.dim %acc, %c0 : tensor<?xf64>
  %r:2 = lz.loop %t < %c1 iter_args(%s = %row, %c = %c0) : tensor<?xf64>, index {
    %ds = tensor.dim %s, %c0 : tensor<?xf64>
    lz.yield %s, %ds : tensor<?xf64>, index
  }
  %d4 = tensor.dim %r#0, %c0 : tensor<?xf64>
  %d5 = arith.addi %d4, %r#1 : index
  %t = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %x[%i, %c0] : tensor<?x?xf64>
    lz.yield %e : f64
  }
  %d6 = tensor.dim %t, %c0 : tensor<?xf64>
  %xt = lz.for %j < %m, %i < %n : tensor<?x?xf64> {
    %e = lz.get %x[%i, %j] : tensor<?x?xf64>
    lz.yield %e : f64
  }
  %p = lz.matmul %xt, %x : tensor<?x?xf64>, tensor<?x?xf64> -> tensor<?x?xf64>
  %d7 = tensor.dim %p, %c0 : tensor<?x?xf64>
  %d8 = tensor.dim %p, %c1 : tensor<?x?xf64>
  %d9 = arith.muli %d7, %d8 : index
  %d10 = arith.addi %d6, %d9 : index
  return %d0, %d1, %d2, %d3, %d5, %d10, %t : index, index, index, index, index, index, tensor<?xf64>
})mlir"},
    {"reuse-for-element", R"mlir(
func.func @f(%x: tensor<?x?xf64>, %a: f64) -> (tensor<?x?xf64>, f64, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x, %c0 : tensor<?x?xf64>
  %m = tensor.dim %x, %c1 : tensor<?x?xf64>
  %t = lz.for %i < %n, %j < %m : tensor<?x?xf64> {
    %e = lz.get %x[%i, %j] : tensor<?x?xf64>
    %f = arith.mulf %e, %a : f64
    %g = arith.addf %f, %e : f64
    lz.yield %g : f64
  }
  %s = lz.sum %k < %m, %l < %n : f64 {
    %e = lz.get %x[%l, %k] : tensor<?x?xf64>
    %f = arith.mulf %e, %a : f64
    %g = arith.addf %f, %e : f64
    lz.yield %g : f64
  }
  %u = lz.for %i < %n : tensor<?xf64> {
    %r = lz.sum %j < %m : f64 {
      %e = lz.get %x[%i, %j] : tensor<?x?xf64>
      %f = arith.mulf %e, %a : f64
      %g = arith.addf %f, %e : f64
      %h = arith.mulf %g, %e : f64
      lz.yield %h : f64
    }
    lz.yield %r : f64
  }
  return %t, %s, %u : tensor<?x?xf64>, f64, tensor<?xf64>
})mlir"},
    {"tuple-proj", R"mlir(
func.func @f(%a: f64, %b: tensor<?xf64>) -> (f64, tensor<?xf64>) {
  %t = lz.tuple(%a, %b : f64, tensor<?xf64>)
  %p = lz.proj %t[0] : tuple<f64, tensor<?xf64>>
  %q = lz.proj %t[1] : tuple<f64, tensor<?xf64>>
  return %p, %q : f64, tensor<?xf64>
})mlir"},
    {"dce", R"mlir(
func.func @f(%a: f64, %n: index) -> f64 {
  %u = arith.mulf %a, %a : f64
  %t = lz.for %i < %n : tensor<?xf64> {
    lz.yield %a : f64
  }
  %s = arith.addf %a, %a : f64
  return %s : f64
})mlir"},
    {"add-zero", R"mlir(
func.func @f(%a: f64, %k: i64) -> (f64, f64, f64, f64, i64, i64) {
  %nz = arith.constant -0.0 : f64
  %pz = arith.constant 0.0 : f64
  %z = arith.constant 0 : i64
  %r1 = arith.addf %a, %nz : f64
  %r2 = arith.addf %nz, %a : f64
  %r3 = arith.subf %a, %pz : f64
  %r4 = arith.addf %a, %pz : f64
  %r5 = arith.addi %k, %z : i64
  %r6 = arith.subi %k, %z : i64
  return %r1, %r2, %r3, %r4, %r5, %r6 : f64, f64, f64, f64, i64, i64
})mlir"},
    {"mul-one", R"mlir(
func.func @f(%a: f64, %k: i64) -> (f64, f64, f64, i64, f64, f64, f64) {
  %one = arith.constant 1.0 : f64
  %i1 = arith.constant 1 : i64
  %m1 = arith.constant -1.0 : f64
  %r1 = arith.mulf %a, %one : f64
  %r2 = arith.mulf %one, %a : f64
  %r3 = arith.divf %a, %one : f64
  %r4 = arith.muli %i1, %k : i64
  %r5 = arith.mulf %a, %m1 : f64
  %r6 = arith.mulf %m1, %a : f64
  %r7 = arith.divf %a, %m1 : f64
  return %r1, %r2, %r3, %r4, %r5, %r6, %r7 : f64, f64, f64, i64, f64, f64, f64
})mlir"},
    {"mul-zero-int", R"mlir(
func.func @f(%k: i64, %a: f64) -> (i64, i64, f64) {
  %z = arith.constant 0 : i64
  %fz = arith.constant 0.0 : f64
  %r1 = arith.muli %k, %z : i64
  %r2 = arith.muli %z, %k : i64
  %r3 = arith.mulf %a, %fz : f64
  return %r1, %r2, %r3 : i64, i64, f64
})mlir"},
    {"hoist-invariant", R"mlir(
func.func @f(%x: tensor<?xf64>, %a: f64) -> (tensor<?xf64>, f64) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %t = lz.for %i < %n : tensor<?xf64> {
    %two = arith.constant 2.0 : f64
    %s = arith.mulf %a, %two : f64
    %e = lz.get %x[%i] : tensor<?xf64>
    %r = arith.addf %e, %s : f64
    lz.yield %r : f64
  }
  %u = lz.sum %i < %n : f64 {
    %q = arith.mulf %a, %a : f64
    lz.yield %q : f64
  }
  return %t, %u : tensor<?xf64>, f64
})mlir"},
    {"cse", R"mlir(
func.func @f(%a: f64, %b: f64, %n: index, %x: tensor<?xf64>, %k: i64) -> (f64, tensor<?xf64>, f64, i64) {
  %p = arith.mulf %a, %b : f64
  %q = arith.mulf %a, %b : f64
  %r = arith.addf %p, %q : f64
  %t = lz.for %i < %n : tensor<?xf64> {
    %s = arith.mulf %a, %b : f64
    lz.yield %s : f64
  }
  %c3 = arith.constant 3 : index
  %i = arith.remui %n, %c3 : index
  %e1 = lz.get %x[%i] : tensor<?xf64>
  %e2 = lz.get %x[%i] : tensor<?xf64>
  %e = arith.subf %e1, %e2 : f64
  %c1 = arith.constant 1 : i64
  %m = arith.ori %k, %c1 : i64
  %d1 = arith.divsi %k, %m : i64
  %d2 = arith.divsi %k, %m : i64
  %d = arith.subi %d1, %d2 : i64
  return %r, %t, %e, %d : f64, tensor<?xf64>, f64, i64
})mlir"},
    {"for-fission", R"mlir(
func.func @f(%x: tensor<?xf64>) -> (tensor<?xf64>, tensor<?xi64>, tensor<?x?xf64>) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %a, %b, %c = lz.for %i < %n : tensor<?xf64>, tensor<?xi64>, tensor<?x?xf64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    %s = arith.mulf %e, %e : f64
    %k = arith.index_cast %i : index to i64
    lz.yield %s, %k, %x : f64, i64, tensor<?xf64>
  }
  return %a, %b, %c : tensor<?xf64>, tensor<?xi64>, tensor<?x?xf64>
})mlir"},
    {"loop-dead-state", R"mlir(
func.func @f(%x: f64, %nn: index) -> (f64, f64) {
  %c4 = arith.constant 4 : index
  %n = arith.remui %nn, %c4 : index
  %r:3 = lz.loop %t < %n iter_args(%a = %x, %b = %x, %c = %x) : f64, f64, f64 {
    %a2 = arith.mulf %a, %a : f64
    %b2 = arith.addf %b, %a : f64
    %c2 = arith.addf %c, %b : f64
    lz.yield %a2, %b2, %c2 : f64, f64, f64
  }
  %zero = arith.constant 0.0 : f64
  %w:3 = lz.loop while (%zero, %x, %x) : f64, f64, f64 cond {
  ^bb0(%a: f64, %b: f64, %c: f64):
    %lim = arith.constant 100.0 : f64
    %go = arith.cmpf olt, %a, %lim : f64
    lz.condition %go
  } do {
  ^bb0(%a: f64, %b: f64, %c: f64):
    %two = arith.constant 2.0 : f64
    %a2 = arith.addf %a, %two : f64
    %b2 = arith.mulf %b, %c : f64
    %c2 = arith.addf %c, %b : f64
    lz.yield %a2, %b2, %c2 : f64, f64, f64
  }
  return %r#1, %w#0 : f64, f64
})mlir"},
    {"if-constant", R"mlir(
func.func @f(%a: f64) -> (f64, f64) {
  %true = arith.constant true
  %false = arith.constant false
  %r = scf.if %true -> (f64) {
    %s = arith.mulf %a, %a : f64
    scf.yield %s : f64
  } else {
    scf.yield %a : f64
  }
  %q = scf.if %false -> (f64) {
    scf.yield %a : f64
  } else {
    %s = arith.addf %a, %a : f64
    scf.yield %s : f64
  }
  return %r, %q : f64, f64
})mlir"},
    // Sums over 0, 1 or 2 points (n = nn mod 3), one-hot at j mod 5 - 1,
    // which is in range, out of range or negative; zeros of either sign,
    // and integers.
    {"sum-onehot", R"mlir(
func.func @f(%x: tensor<?xf64>, %nn: index, %jj: i64, %y: tensor<?xi64>) -> (f64, f64, i64) {
  %c3 = arith.constant 3 : index
  %n = arith.remui %nn, %c3 : index
  %c5 = arith.constant 5 : i64
  %c1 = arith.constant 1 : i64
  %m = arith.remui %jj, %c5 : i64
  %j = arith.subi %m, %c1 : i64
  %jx = arith.index_cast %j : i64 to index
  %plus = lz.sum %k < %n : f64 {
    %kk = arith.index_cast %k : index to i64
    %hit = arith.cmpi eq, %kk, %j : i64
    %v = scf.if %hit -> (f64) {
      %e = lz.get %x[%k] : tensor<?xf64>
      scf.yield %e : f64
    } else {
      %z = arith.constant 0.0 : f64
      scf.yield %z : f64
    }
    lz.yield %v : f64
  }
  %minus = lz.sum %k < %n : f64 {
    %hit = arith.cmpi eq, %jx, %k : index
    %v = scf.if %hit -> (f64) {
      %e = lz.get %x[%k] : tensor<?xf64>
      %d = arith.mulf %e, %e : f64
      scf.yield %d : f64
    } else {
      %z = arith.constant -0.0 : f64
      scf.yield %z : f64
    }
    lz.yield %v : f64
  }
  %ints = lz.sum %k < %n : i64 {
    %kk = arith.index_cast %k : index to i64
    %hit = arith.cmpi eq, %kk, %j : i64
    %v = scf.if %hit -> (i64) {
      %e = lz.get %y[%k] : tensor<?xi64>
      scf.yield %e : i64
    } else {
      %z = arith.constant 0 : i64
      scf.yield %z : i64
    }
    lz.yield %v : i64
  }
  return %plus, %minus, %ints : f64, f64, i64
})mlir"},
    {"fuse-cheap-for-get", R"mlir(
func.func @f(%x: tensor<?xf64>, %jj: index) -> f64 {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %t = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    %s = math.exp %e : f64
    lz.yield %s : f64
  }
  %j = arith.remui %jj, %n : index
  %r = lz.get %t[%j] : tensor<?xf64>
  return %r : f64
})mlir"},
    {"fuse-local-for-get", R"mlir(
func.func @f(%x: tensor<?x?xf64>, %y: tensor<?xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x, %c0 : tensor<?x?xf64>
  %m = tensor.dim %x, %c1 : tensor<?x?xf64>
  %two = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %y[%i] : tensor<?xf64>
    %f = arith.negf %e : f64
    %g = arith.mulf %f, %e : f64
    lz.yield %g : f64
  }
  %three = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %y[%i] : tensor<?xf64>
    %f = arith.negf %e : f64
    %g = arith.mulf %f, %e : f64
    %h = arith.addf %g, %e : f64
    lz.yield %h : f64
  }
  %s = lz.sum %i < %n, %j < %m : f64 {
    %r = lz.get %two[%i] : tensor<?xf64>
    %e = lz.get %x[%i, %j] : tensor<?x?xf64>
    %p = arith.mulf %r, %e : f64
    lz.yield %p : f64
  }
  %t = lz.sum %i < %n : f64 {
    %r = lz.get %three[%i] : tensor<?xf64>
    %e = lz.get %x[%i, %c0] : tensor<?x?xf64>
    %p = arith.mulf %r, %e : f64
    lz.yield %p : f64
  }
  return %s, %t : f64, f64
})mlir"},
    {"dim-equal", R"mlir(
func.func @f(%x: tensor<?x?xf64>, %y: tensor<?xf64>) -> f64
    attributes {lz.equal_sizes = [array<i64: 0, 0, 1, 0>]} {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %y, %c0 : tensor<?xf64>
  %s = lz.sum %i < %n : f64 {
    %e = lz.get %x[%i, %c0] : tensor<?x?xf64>
    %f = lz.get %y[%i] : tensor<?xf64>
    %p = arith.mulf %e, %f : f64
    lz.yield %p : f64
  }
  return %s : f64
})mlir"},
    {"for-flatten", R"mlir(
func.func @f(%x: tensor<?x?xf64>, %a: f64) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x, %c0 : tensor<?x?xf64>
  %m = tensor.dim %x, %c1 : tensor<?x?xf64>
  %r = lz.for %i < %n : tensor<?x?xf64> {
    %b = lz.get %x[%i, %c0] : tensor<?x?xf64>
    %t = lz.for %j < %m : tensor<?xf64> {
      %e = lz.get %x[%j, %i] : tensor<?x?xf64>
      %s = arith.mulf %e, %b : f64
      %u = arith.addf %s, %a : f64
      lz.yield %u : f64
    }
    lz.yield %t : tensor<?xf64>
  }
  return %r : tensor<?x?xf64>
})mlir"},
    {"mul-zero-real", R"mlir(
func.func @f(%a: f64) -> (f64, f64) {
  %z = arith.constant 0.0 : f64
  %m = arith.constant -0.0 : f64
  %p = arith.mulf %a, %z : f64
  %q = arith.mulf %m, %a : f64
  return %p, %q : f64, f64
})mlir",
     true},
    {"add-zero-real", R"mlir(
func.func @f(%a: f64) -> (f64, f64, f64, f64, f64) {
  %z = arith.constant 0.0 : f64
  %p = arith.addf %a, %z : f64
  %q = arith.subf %z, %a : f64
  %r = arith.negf %z : f64
  %s = arith.divf %z, %a : f64
  %t = arith.addf %z, %a : f64
  return %p, %q, %r, %s, %t : f64, f64, f64, f64, f64
})mlir",
     true},
    {"add-neg", R"mlir(
func.func @f(%a: f64, %b: f64) -> (f64, f64, f64, f64, f64, f64) {
  %n = arith.negf %b : f64
  %p = arith.addf %a, %n : f64
  %q = arith.addf %n, %a : f64
  %r = arith.subf %a, %n : f64
  %s = arith.negf %n : f64
  %c = arith.constant 2.5 : f64
  %z = arith.constant 0.0 : f64
  %nc = arith.negf %c : f64
  %nz = arith.negf %z : f64
  return %p, %q, %r, %s, %nc, %nz : f64, f64, f64, f64, f64, f64
})mlir"},
    {"mul-neg", R"mlir(
func.func @f(%a: f64, %b: f64, %c: f64) -> (f64, f64, f64, f64, f64) {
  %n = arith.negf %b : f64
  %m = arith.negf %a : f64
  %p = arith.mulf %a, %n : f64
  %q = arith.divf %p, %c : f64
  %r = arith.addf %c, %q : f64
  %s = arith.divf %m, %c : f64
  %t = arith.subf %a, %s : f64
  %u = arith.mulf %m, %n : f64
  %v = arith.divf %c, %m : f64
  %w = arith.negf %v : f64
  %x = arith.mulf %n, %c : f64
  return %r, %t, %u, %w, %x : f64, f64, f64, f64, f64
})mlir"},
    {"push-into-if", R"mlir(
func.func @f(%a: f64, %b: f64) -> f64 {
  %c = arith.cmpf olt, %a, %b : f64
  %v = scf.if %c -> (f64) {
    %s = arith.mulf %a, %a : f64
    scf.yield %s : f64
  } else {
    scf.yield %b : f64
  }
  %w = arith.subf %a, %v : f64
  %e = math.exp %w : f64
  return %e : f64
})mlir"},
    {"if-same-condition", R"mlir(
func.func @f(%a: f64, %b: f64) -> f64 {
  %c = arith.cmpf olt, %a, %b : f64
  %v = scf.if %c -> (f64) {
    %w = scf.if %c -> (f64) {
      scf.yield %a : f64
    } else {
      scf.yield %b : f64
    }
    scf.yield %w : f64
  } else {
    %w = scf.if %c -> (f64) {
      scf.yield %a : f64
    } else {
      %s = arith.mulf %b, %b : f64
      scf.yield %s : f64
    }
    scf.yield %w : f64
  }
  return %v : f64
})mlir"},
    {"if-equal-branches", R"mlir(
func.func @f(%a: f64, %b: f64) -> (f64, f64) {
  %c = arith.cmpf olt, %a, %b : f64
  %v = scf.if %c -> (f64) {
    %z = arith.constant 2.0 : f64
    scf.yield %z : f64
  } else {
    %z = arith.constant 2.0 : f64
    scf.yield %z : f64
  }
  %s = arith.select %c, %a, %a : f64
  return %v, %s : f64, f64
})mlir"},
    {"sink-into-if", R"mlir(
func.func @f(%x: tensor<?xf64>, %jj: index, %a: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %c = arith.cmpi ult, %jj, %n : index
  %e = arith.mulf %a, %a : f64
  %v = scf.if %c -> (f64) {
    %r = lz.get %x[%jj] : tensor<?xf64>
    %s = arith.addf %r, %e : f64
    scf.yield %s : f64
  } else {
    scf.yield %a : f64
  }
  return %v : f64
})mlir"},
    {"inline-call", R"mlir(
func.func private @g(%a: f64, %t: tensor<?xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %t, %c0 : tensor<?xf64>
  %s = lz.sum %k < %n : f64 {
    %e = lz.get %t[%k] : tensor<?xf64>
    %p = arith.mulf %e, %a : f64
    lz.yield %p : f64
  }
  return %s, %a : f64, f64
}
func.func @f(%a: f64, %t: tensor<?xf64>) -> (f64, f64) {
  %r:2 = func.call @g(%a, %t) : (f64, tensor<?xf64>) -> (f64, f64)
  return %r#0, %r#1 : f64, f64
})mlir"},
    {"matmul-to-scopes", R"mlir(
func.func @f(%A: tensor<?x?xf64>, %x: tensor<?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %A, %c1 : tensor<?x?xf64>
  %m = tensor.dim %x, %c0 : tensor<?xf64>
  %B = lz.for %i < %n, %j < %m : tensor<?x?xf64> {
    %e = lz.get %x[%j] : tensor<?xf64>
    %s = math.sin %e : f64
    lz.yield %s : f64
  }
  %R = lz.matmul %A, %B : tensor<?x?xf64>, tensor<?x?xf64> -> tensor<?x?xf64>
  return %R : tensor<?x?xf64>
})mlir"},

    {"sum-zero", R"mlir(
func.func @f(%nn: index) -> (f64, i64) {
  %c3 = arith.constant 3 : index
  %n = arith.remui %nn, %c3 : index
  %s = lz.sum %k < %n : f64 {
    %z = arith.constant 0.0 : f64
    lz.yield %z : f64
  }
  %t = lz.sum %k < %n : i64 {
    %z = arith.constant 0 : i64
    lz.yield %z : i64
  }
  return %s, %t : f64, i64
})mlir"},
    // One-hot at j mod 5 - 1: in range, out of range or negative.
    {"sum-onehot-split", R"mlir(
func.func @f(%x: tensor<?xf64>, %jj: i64, %a: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %c5 = arith.constant 5 : i64
  %c1 = arith.constant 1 : i64
  %m = arith.remui %jj, %c5 : i64
  %j = arith.subi %m, %c1 : i64
  %s = lz.sum %k < %n : f64 {
    %e = lz.get %x[%k] : tensor<?xf64>
    %kk = arith.index_cast %k : index to i64
    %hit = arith.cmpi eq, %kk, %j : i64
    %v = scf.if %hit -> (f64) {
      %d = arith.mulf %e, %e : f64
      scf.yield %d : f64
    } else {
      %d = arith.mulf %e, %a : f64
      scf.yield %d : f64
    }
    lz.yield %v : f64
  }
  return %s : f64
})mlir",
     true},
    {"sum-factor", R"mlir(
func.func @f(%x: tensor<?xf64>, %a: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %s = lz.sum %k < %n : f64 {
    %e = lz.get %x[%k] : tensor<?xf64>
    %d = arith.mulf %e, %a : f64
    lz.yield %d : f64
  }
  %t = lz.sum %k < %n : f64 {
    %e = lz.get %x[%k] : tensor<?xf64>
    %d = arith.negf %e : f64
    lz.yield %d : f64
  }
  return %s, %t : f64, f64
})mlir",
     true},
    {"for-identity", R"mlir(
func.func @f(%x: tensor<?x?xf64>) -> tensor<?x?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %x, %c0 : tensor<?x?xf64>
  %n = tensor.dim %x, %c1 : tensor<?x?xf64>
  %t = lz.for %i < %m, %j < %n : tensor<?x?xf64> {
    %e = lz.get %x[%i, %j] : tensor<?x?xf64>
    lz.yield %e : f64
  }
  return %t : tensor<?x?xf64>
})mlir"},
    // Rows: the target is the first variable, the second is summed; a
    // transpose; column sums, whose loops change order.
    {"accumulate-to-for", R"mlir(
func.func @f(%x: tensor<?x?xf64>, %a: f64) -> (tensor<?xf64>, tensor<?x?xf64>, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %x, %c0 : tensor<?x?xf64>
  %n = tensor.dim %x, %c1 : tensor<?x?xf64>
  %r = lz.accumulate %k < %m, %l < %n into (%m) : tensor<?xf64> {
    %e = lz.get %x[%k, %l] : tensor<?x?xf64>
    %p = arith.mulf %e, %a : f64
    lz.yield %k, %p : index, f64
  }
  %t = lz.accumulate %k < %n, %l < %m into (%m, %n) : tensor<?x?xf64> {
    %e = lz.get %x[%l, %k] : tensor<?x?xf64>
    lz.yield %l, %k, %e : index, index, f64
  }
  %u = lz.accumulate %k < %n, %l < %m into (%m) : tensor<?xf64> {
    %e = lz.get %x[%l, %k] : tensor<?x?xf64>
    lz.yield %l, %e : index, f64
  }
  return %r, %t, %u : tensor<?xf64>, tensor<?x?xf64>, tensor<?xf64>
})mlir",
     true},
    // Softmax's gradient: a sum of exponentials outside every scope and
    // the same exponentials later, per element; and per row, in a
    // traversal's body.
    {"tabulate-shared-sum", R"mlir(
func.func @f(%z: tensor<?xf64>, %x: tensor<?x?xf64>, %m: f64) -> (f64, tensor<?xf64>, tensor<?x?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %z, %c0 : tensor<?xf64>
  %s = lz.sum %k < %n : f64 {
    %e = lz.get %z[%k] : tensor<?xf64>
    %d = arith.subf %e, %m : f64
    %x1 = math.exp %d : f64
    lz.yield %x1 : f64
  }
  %p = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %z[%i] : tensor<?xf64>
    %d = arith.subf %e, %m : f64
    %x1 = math.exp %d : f64
    %q = arith.divf %x1, %s : f64
    lz.yield %q : f64
  }
  %r = tensor.dim %x, %c0 : tensor<?x?xf64>
  %c = tensor.dim %x, %c1 : tensor<?x?xf64>
  %rows = lz.for %i < %r : tensor<?xf64> {
    %row = lz.get %x[%i] : tensor<?x?xf64>
    %t = lz.sum %k < %c : f64 {
      %e = lz.get %row[%k] : tensor<?xf64>
      %x1 = math.exp %e : f64
      lz.yield %x1 : f64
    }
    lz.yield %t : f64
  }
  %w = lz.for %i < %r, %j < %c : tensor<?x?xf64> {
    %row = lz.get %x[%i] : tensor<?x?xf64>
    %e = lz.get %row[%j] : tensor<?xf64>
    %x1 = math.exp %e : f64
    %t = lz.get %rows[%i] : tensor<?xf64>
    %q = arith.divf %x1, %t : f64
    lz.yield %q : f64
  }
  return %s, %p, %w : f64, tensor<?xf64>, tensor<?x?xf64>
})mlir",
     false, 2},
    // The GMM's means' cotangent: a masked, triangular accumulation whose
    // value is a read over the point times what does not depend on it,
    // under the mask's conditional; a quotient and a read at an index from
    // outside; sums into a scalar (the read keeps no variable).
    {"accumulate-sum-read", R"mlir(
func.func @f(%g: tensor<?x?x?xf64>, %l: tensor<?x?xf64>, %y: tensor<?x?xf64>, %i: index) -> (tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %n = tensor.dim %g, %c0 : tensor<?x?x?xf64>
  %k = tensor.dim %g, %c1 : tensor<?x?x?xf64>
  %d = tensor.dim %g, %c2 : tensor<?x?x?xf64>
  %a = lz.accumulate %p < %n, %c < %k, %r < %d, %q < %d into (%k, %d) : tensor<?x?xf64> {
    %e = lz.get %g[%p, %c, %r] : tensor<?x?x?xf64>
    %below = arith.cmpi ult, %q, %r : index
    %v:4 = scf.if %below -> (i1, index, index, f64) {
      %f = lz.get %l[%c, %q] : tensor<?x?xf64>
      %m = arith.mulf %f, %e : f64
      %neg = arith.negf %m : f64
      %true = arith.constant true
      scf.yield %true, %c, %q, %neg : i1, index, index, f64
    } else {
      %false = arith.constant false
      %zero = arith.constant 0.000000e+00 : f64
      scf.yield %false, %c0, %c0, %zero : i1, index, index, f64
    }
    lz.yield %v#0, %v#1, %v#2, %v#3 : i1, index, index, f64
  } attributes {masked}
  %ii = arith.remui %i, %d : index
  %b = lz.accumulate %p < %n, %c < %k, %j < %d into (%d) : tensor<?xf64> {
    %e = lz.get %g[%p, %c, %ii] : tensor<?x?x?xf64>
    %f = lz.get %l[%c, %j] : tensor<?x?xf64>
    %v = arith.divf %e, %f : f64
    lz.yield %j, %v : index, f64
  }
  %m = tensor.dim %y, %c0 : tensor<?x?xf64>
  %s = lz.accumulate %p < %m, %j < %d into (%d) : tensor<?xf64> {
    %e = lz.get %y[%p, %c0] : tensor<?x?xf64>
    %f = lz.get %l[%c0, %j] : tensor<?x?xf64>
    %v = arith.mulf %f, %e : f64
    lz.yield %j, %v : index, f64
  }
  return %a, %b, %s : tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>
})mlir",
     true, 3},
    // A convolution's gradient with respect to its input: the output
    // channels summed at each point of the stencil; the same with a
    // factor outside the sum's reads and two summed variables.
    {"accumulate-inner-sum", R"mlir(
func.func @f(%k: tensor<?x?x3x3xf64>, %g: tensor<?x?x?xf64>, %a: f64) -> (tensor<?x?x?xf64>, tensor<?x?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %f = tensor.dim %g, %c0 : tensor<?x?x?xf64>
  %h = tensor.dim %g, %c1 : tensor<?x?x?xf64>
  %w = tensor.dim %g, %c2 : tensor<?x?x?xf64>
  %c = tensor.dim %k, %c1 : tensor<?x?x3x3xf64>
  %h2 = arith.addi %h, %c2 : index
  %w2 = arith.addi %w, %c2 : index
  %x1 = lz.accumulate %o < %f, %y < %h, %x < %w, %ci < %c, %r < %c3, %s < %c3 into (%c, %h2, %w2) : tensor<?x?x?xf64> {
    %yr = arith.addi %y, %r : index
    %xs = arith.addi %x, %s : index
    %kv = lz.get %k[%o, %ci, %r, %s] : tensor<?x?x3x3xf64>
    %gv = lz.get %g[%o, %y, %x] : tensor<?x?x?xf64>
    %p = arith.mulf %kv, %gv : f64
    lz.yield %ci, %yr, %xs, %p : index, index, index, f64
  }
  %x2 = lz.accumulate %o < %f, %y < %h, %x < %w, %r < %c3 into (%h, %w2) : tensor<?x?xf64> {
    %xr = arith.addi %x, %r : index
    %gv = lz.get %g[%o, %y, %x] : tensor<?x?x?xf64>
    %kv = lz.get %k[%o, %y, %r, %c0] : tensor<?x?x3x3xf64>
    %p = arith.mulf %kv, %gv : f64
    %q = arith.mulf %p, %a : f64
    lz.yield %y, %xr, %q : index, index, f64
  }
  return %x1, %x2 : tensor<?x?x?xf64>, tensor<?x?xf64>
})mlir",
     true, 2},
    // The dense GMM's means' cotangent: the rows of each component's
    // product summed, negated; a product outside a traversal whose rows
    // are summed in part (the first half) under a conditional, scaled by
    // what does not depend on the row; a masked one.
    {"accumulate-matmul-rows", R"mlir(
func.func @f(%g: tensor<?x?x?xf64>, %q: tensor<?x?x?xf64>, %a: tensor<?x?xf64>, %b: tensor<?x?xf64>, %w: tensor<?xf64>) -> (tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %k = tensor.dim %g, %c0 : tensor<?x?x?xf64>
  %n = tensor.dim %g, %c1 : tensor<?x?x?xf64>
  %d = tensor.dim %g, %c2 : tensor<?x?x?xf64>
  %t = lz.for %c < %k : tensor<?x?x?xf64> {
    %gc = lz.get %g[%c] : tensor<?x?x?xf64>
    %qc = lz.get %q[%c] : tensor<?x?x?xf64>
    %qt = lz.for %i < %d, %j < %d : tensor<?x?xf64> {
      %e = lz.get %qc[%j, %i] : tensor<?x?xf64>
      lz.yield %e : f64
    }
    %p = lz.matmul %gc, %qt : tensor<?x?xf64>, tensor<?x?xf64> -> tensor<?x?xf64>
    lz.yield %p : tensor<?x?xf64>
  }
  %means = lz.accumulate %c < %k, %l < %n, %j < %d into (%k, %d) : tensor<?x?xf64> {
    %e = lz.get %t[%c, %l, %j] : tensor<?x?x?xf64>
    %v = arith.negf %e : f64
    lz.yield %c, %j, %v : index, index, f64
  }
  %m = tensor.dim %a, %c0 : tensor<?x?xf64>
  %o = tensor.dim %b, %c1 : tensor<?x?xf64>
  %half = arith.divui %m, %c2 : index
  %ab = lz.matmul %a, %b : tensor<?x?xf64>, tensor<?x?xf64> -> tensor<?x?xf64>
  %cols = lz.accumulate %j < %o, %l < %half into (%o) : tensor<?xf64> {
    %odd = arith.remui %j, %c2 : index
    %is = arith.cmpi eq, %odd, %c1 : index
    %v = scf.if %is -> (f64) {
      %e = lz.get %ab[%l, %j] : tensor<?x?xf64>
      %f = lz.get %w[%j] : tensor<?xf64>
      %r = arith.divf %e, %f : f64
      scf.yield %r : f64
    } else {
      %zero = arith.constant 0.000000e+00 : f64
      scf.yield %zero : f64
    }
    lz.yield %j, %v : index, f64
  }
  %ab2 = lz.matmul %a, %b : tensor<?x?xf64>, tensor<?x?xf64> -> tensor<?x?xf64>
  %masked = lz.accumulate %l < %m, %j < %o into (%o) : tensor<?xf64> {
    %e = lz.get %ab2[%l, %j] : tensor<?x?xf64>
    %f = lz.get %w[%j] : tensor<?xf64>
    %r = arith.mulf %f, %e : f64
    %even = arith.remui %j, %c2 : index
    %keep = arith.cmpi eq, %even, %c0 : index
    lz.yield %keep, %j, %r : i1, index, f64
  } attributes {masked}
  return %means, %cols, %masked : tensor<?x?xf64>, tensor<?xf64>, tensor<?xf64>
})mlir",
     true, 3},
    // The packed GMM's factor cotangent: the outer products of the centered
    // points and the cotangents per component, summed over the points,
    // under a triangle's mask; without a batch, scaled; and one too small
    // for products (4 points), which the run-time check keeps. Sizes of at
    // least 8, so that the products run (kMinProductSize).
    {"accumulate-outer-products", R"mlir(
func.func @f(%x: tensor<9x8xf64>, %m: tensor<3x8xf64>, %g: tensor<9x3x10xf64>, %a: tensor<9x8xf64>, %y: tensor<4x8xf64>) -> (tensor<?x?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %n = tensor.dim %g, %c0 : tensor<9x3x10xf64>
  %k = tensor.dim %g, %c1 : tensor<9x3x10xf64>
  %e = tensor.dim %g, %c2 : tensor<9x3x10xf64>
  %d = tensor.dim %x, %c1 : tensor<9x8xf64>
  %t = lz.accumulate %p < %n, %c < %k, %r < %e, %q < %d into (%k, %d, %e) : tensor<?x?x?xf64> {
    %gv = lz.get %g[%p, %c, %r] : tensor<9x3x10xf64>
    %below = arith.cmpi ult, %q, %r : index
    %v:5 = scf.if %below -> (i1, index, index, index, f64) {
      %xv = lz.get %x[%p, %q] : tensor<9x8xf64>
      %mv = lz.get %m[%c, %q] : tensor<3x8xf64>
      %xc = arith.subf %xv, %mv : f64
      %pr = arith.mulf %xc, %gv : f64
      %true = arith.constant true
      scf.yield %true, %c, %q, %r, %pr : i1, index, index, index, f64
    } else {
      %false = arith.constant false
      %zero = arith.constant 0.000000e+00 : f64
      scf.yield %false, %c0, %c0, %c0, %zero : i1, index, index, index, f64
    }
    lz.yield %v#0, %v#1, %v#2, %v#3, %v#4 : i1, index, index, index, f64
  } attributes {masked}
  %two = arith.constant 2.5 : f64
  %s = lz.accumulate %p < %n, %q < %d, %r < %d into (%d, %d) : tensor<?x?xf64> {
    %u = lz.get %a[%p, %q] : tensor<9x8xf64>
    %w = lz.get %x[%p, %r] : tensor<9x8xf64>
    %pr = arith.mulf %u, %w : f64
    %sc = arith.mulf %two, %pr : f64
    %ng = arith.negf %sc : f64
    lz.yield %q, %r, %ng : index, index, f64
  }
  %few = tensor.dim %y, %c0 : tensor<4x8xf64>
  %o = lz.accumulate %p < %few, %q < %d, %r < %d into (%d, %d) : tensor<?x?xf64> {
    %u = lz.get %y[%p, %q] : tensor<4x8xf64>
    %w = lz.get %y[%p, %r] : tensor<4x8xf64>
    %pr = arith.mulf %u, %w : f64
    lz.yield %q, %r, %pr : index, index, f64
  }
  return %t, %s, %o : tensor<?x?x?xf64>, tensor<?x?xf64>, tensor<?x?xf64>
})mlir",
     true, 3},
    // The packed GMM's factor times each centered point (a triangular sum
    // whose table is zero past the triangle, per component); a product
    // written as scopes whose traversal runs over the right operand's
    // columns first; a sum whose range is from outside, of a product whose
    // left factor is read at a computed index. Sizes of at least 8 terms
    // (the triangle's 10 columns have 9), so that the products run.
    {"for-sum-products", R"mlir(
func.func @f(%l: tensor<3x10x10xf64>, %x: tensor<9x10xf64>, %m: tensor<3x10xf64>, %a: tensor<9x8xf64>, %b: tensor<8x10xf64>) -> (tensor<9x3x10xf64>, tensor<10x9xf64>, tensor<9x10xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c7 = arith.constant 7 : index
  %n = tensor.dim %x, %c0 : tensor<9x10xf64>
  %e = tensor.dim %x, %c1 : tensor<9x10xf64>
  %d = tensor.dim %a, %c1 : tensor<9x8xf64>
  %k = tensor.dim %l, %c0 : tensor<3x10x10xf64>
  %o = tensor.dim %b, %c1 : tensor<8x10xf64>
  %t = lz.for %i < %n, %c < %k, %r < %e : tensor<9x3x10xf64> {
    %s = lz.sum %q < %r : f64 {
      %lv = lz.get %l[%c, %q, %r] : tensor<3x10x10xf64>
      %xv = lz.get %x[%i, %q] : tensor<9x10xf64>
      %mv = lz.get %m[%c, %q] : tensor<3x10xf64>
      %xc = arith.subf %xv, %mv : f64
      %pr = arith.mulf %lv, %xc : f64
      lz.yield %pr : f64
    }
    lz.yield %s : f64
  }
  %u = lz.for %j < %o, %i < %n : tensor<10x9xf64> {
    %s = lz.sum %q < %d : f64 {
      %av = lz.get %a[%i, %q] : tensor<9x8xf64>
      %bv = lz.get %b[%q, %j] : tensor<8x10xf64>
      %pr = arith.mulf %av, %bv : f64
      lz.yield %pr : f64
    }
    lz.yield %s : f64
  }
  %w = lz.for %i < %n, %j < %o : tensor<9x10xf64> {
    %s = lz.sum %q < %d : f64 {
      %rev = arith.subi %c7, %q : index
      %av = lz.get %a[%i, %rev] : tensor<9x8xf64>
      %bv = lz.get %b[%q, %j] : tensor<8x10xf64>
      %pr = arith.mulf %av, %bv : f64
      lz.yield %pr : f64
    }
    lz.yield %s : f64
  }
  return %t, %u, %w : tensor<9x3x10xf64>, tensor<10x9xf64>, tensor<9x10xf64>
})mlir",
     true, 3},
    // A gather's transpose inside a sum, with a costly value per point; and
    // a triangular one (j < k), merged with a mask.
    {"sum-accumulate", R"mlir(
func.func @f(%x: tensor<?x?xf64>, %w: tensor<?xf64>) -> (tensor<?xf64>, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %x, %c0 : tensor<?x?xf64>
  %n = tensor.dim %x, %c1 : tensor<?x?xf64>
  %s = lz.sum %k < %m : tensor<?xf64> {
    %row = lz.sum %l < %n : f64 {
      %e = lz.get %x[%k, %l] : tensor<?x?xf64>
      lz.yield %e : f64
    }
    %a = lz.accumulate %l < %n into (%n) : tensor<?xf64> {
      %e = lz.get %x[%k, %l] : tensor<?x?xf64>
      %v = arith.mulf %e, %row : f64
      %wi = arith.remui %l, %n : index
      %j = arith.subi %n, %c1 : index
      %t = arith.subi %j, %wi : index
      lz.yield %t, %v : index, f64
    }
    lz.yield %a : tensor<?xf64>
  }
  %t = lz.sum %k < %n : tensor<?xf64> {
    %a = lz.accumulate %j < %k into (%n) : tensor<?xf64> {
      %e = lz.get %x[%c0, %j] : tensor<?x?xf64>
      %f = lz.get %w[%k] : tensor<?xf64>
      %v = arith.mulf %e, %f : f64
      lz.yield %j, %v : index, f64
    }
    lz.yield %a : tensor<?xf64>
  }
  return %s, %t : tensor<?xf64>, tensor<?xf64>
})mlir",
     true},
    // A sum over the step's traversal (t), in both operand orders (u),
    // next to one the rule leaves (w: no traversal over m); at most 3 steps.
    // A sum over a traversal in an inner loop (z, a checkpointed sweep's
    // form).
    {"loop-sum-state", R"mlir(
func.func @f(%x: tensor<?xf64>, %y: tensor<?x?xf64>, %a: f64, %tt: index) -> (tensor<?xf64>, f64, f64, f64, tensor<?xf64>, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %steps = arith.remui %tt, %c4 : index
  %n = tensor.dim %y, %c0 : tensor<?x?xf64>
  %m = tensor.dim %y, %c1 : tensor<?x?xf64>
  %r:4 = lz.loop %s < %steps iter_args(%v = %x, %t = %a, %u = %a, %w = %a) : tensor<?xf64>, f64, f64, f64 {
    %p = lz.sum %k < %n : f64 {
      %e = lz.get %v[%k] : tensor<?xf64>
      %f = arith.mulf %e, %e : f64
      lz.yield %f : f64
    }
    %p2 = lz.sum %k < %n : f64 {
      %e = lz.get %v[%k] : tensor<?xf64>
      %f = math.cos %e : f64
      lz.yield %f : f64
    }
    %q = lz.sum %k < %n, %l < %m : f64 {
      %e = lz.get %y[%k, %l] : tensor<?x?xf64>
      lz.yield %e : f64
    }
    %v2 = lz.for %k < %n : tensor<?xf64> {
      %e = lz.get %v[%k] : tensor<?xf64>
      %f = math.sin %e : f64
      lz.yield %f : f64
    }
    %t2 = arith.addf %t, %p : f64
    %u2 = arith.addf %p2, %u : f64
    %w2 = arith.addf %w, %q : f64
    lz.yield %v2, %t2, %u2, %w2 : tensor<?xf64>, f64, f64, f64
  }
  %o:2 = lz.loop %s < %steps iter_args(%v = %x, %z = %a) : tensor<?xf64>, f64 {
    %inner = lz.loop %j < %c2 iter_args(%w = %v) : tensor<?xf64> {
      %w2 = lz.for %k < %n : tensor<?xf64> {
        %e = lz.get %w[%k] : tensor<?xf64>
        %f = math.sin %e : f64
        lz.yield %f : f64
      }
      lz.yield %w2 : tensor<?xf64>
    }
    %p = lz.sum %k < %n : f64 {
      %e = lz.get %inner[%k] : tensor<?xf64>
      %f = arith.mulf %e, %e : f64
      lz.yield %f : f64
    }
    %z2 = arith.addf %z, %p : f64
    lz.yield %inner, %z2 : tensor<?xf64>, f64
  }
  return %r#0, %r#1, %r#2, %r#3, %o#0, %o#1 : tensor<?xf64>, f64, f64, f64, tensor<?xf64>, f64
})mlir",
     true, /*firings=*/3},
    {"for-fusion", R"mlir(
func.func @f(%x: tensor<?xf64>, %a: f64) -> (tensor<?xf64>, f64, tensor<?xf64>) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?xf64>
  %b = arith.addf %a, %a : f64
  %t = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    %s = arith.mulf %e, %a : f64
    lz.yield %s : f64
  }
  %c = arith.mulf %a, %a : f64
  %u = lz.for %i < %n : tensor<?xf64> {
    %e = lz.get %x[%i] : tensor<?xf64>
    %s = arith.mulf %e, %b : f64
    lz.yield %s : f64
  }
  return %t, %c, %u : tensor<?xf64>, f64, tensor<?xf64>
})mlir"},
    {"nested-for-fusion", R"mlir(
func.func @f(%x: tensor<?x?xf64>, %a: f64) -> tensor<?xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x, %c0 : tensor<?x?xf64>
  %m = tensor.dim %x, %c1 : tensor<?x?xf64>
  %r = lz.for %i < %n : tensor<?xf64> {
    %t = lz.for %j < %m : tensor<?xf64> {
      %e = lz.get %x[%i, %j] : tensor<?x?xf64>
      %s = arith.mulf %e, %a : f64
      lz.yield %s : f64
    }
    %b = lz.sum %j < %m : f64 {
      %e = lz.get %t[%j] : tensor<?xf64>
      lz.yield %e : f64
    }
    %u = lz.for %j < %m : tensor<?xf64> {
      %e = lz.get %x[%i, %j] : tensor<?x?xf64>
      %s = arith.subf %e, %a : f64
      lz.yield %s : f64
    }
    %c = lz.sum %j < %m : f64 {
      %e = lz.get %u[%j] : tensor<?xf64>
      %f = arith.mulf %e, %e : f64
      lz.yield %f : f64
    }
    %v = arith.addf %b, %c : f64
    lz.yield %v : f64
  }
  return %r : tensor<?xf64>
})mlir"},
};

void PrintTo(const RuleCase &c, std::ostream *os) { *os << c.rule; }

class RuleTest : public ::testing::TestWithParam<RuleCase> {};

TEST_P(RuleTest, PreservesResults) {
  const RuleCase &c = GetParam();
  auto context = test::makeContext();
  auto module = test::parse(*context, c.source);
  ASSERT_TRUE(module);
  ASSERT_TRUE(module->lookupSymbol<func::FuncOp>("f"));

  OwningOpRef<ModuleOp> rewritten = cast<ModuleOp>((*module)->clone());
  StrategyEngine engine(context.get());
  StrategyRef strategy =
      parseStrategy(std::string("normalize(") + c.rule + ")");
  ASSERT_TRUE(strategy);
  ASSERT_TRUE(succeeded(engine.apply(*strategy, *rewritten)));
  EXPECT_GE(engine.getStatistics().lookup(c.rule), c.firings)
      << c.rule << " did not fire enough";
  ASSERT_TRUE(succeeded(mlir::verify(*rewritten)));

  test::expectSameResults(*module, *rewritten, "f", 24, c.rule,
                          c.realArithmetic);
}

INSTANTIATE_TEST_SUITE_P(Lz, RuleTest, ::testing::ValuesIn(kRuleCases),
                         [](const ::testing::TestParamInfo<RuleCase> &info) {
                           std::string name = info.param.rule;
                           for (char &ch : name)
                             if (ch == '-')
                               ch = '_';
                           return name;
                         });

/// Every rule of the library has a semantic test above (predicates aside).
TEST(RuleTest, EveryRuleIsTested) {
  for (const auto &rule : getLzRules().getRules()) {
    if (rule->isPredicate())
      continue;
    bool tested = llvm::any_of(kRuleCases, [&](const RuleCase &c) {
      return rule->getName() == c.rule;
    });
    EXPECT_TRUE(tested) << "no semantic test of rule " << rule->getName().str();
  }
}

} // namespace
