//===- SizeExprTest.cpp - Symbolic sizes of the frontend ------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "Types.h"

#include "gtest/gtest.h"

using namespace leibniz::frontend;

namespace {

std::string show(const SizeExpr &size) {
  std::string text;
  llvm::raw_string_ostream os(text);
  size.print(os, [](unsigned atom) { return std::string(1, 'a' + atom); });
  return text;
}

TEST(SizeExprTest, Normalizes) {
  SizeExpr a = SizeExpr::getAtom(0), b = SizeExpr::getAtom(1);
  SizeExpr two = SizeExpr::getConstant(2);
  // (a + 2) * (a + 2) - 4 * a - 4 = a * a
  SizeExpr square = (a + two) * (a + two) - two * two * a - two * two;
  EXPECT_EQ(square, a * a);
  EXPECT_EQ(show(square), "a * a");
  // Commutativity and cancellation.
  EXPECT_EQ(a * b + b, b + b * a);
  EXPECT_EQ(a - a, SizeExpr::getConstant(0));
  EXPECT_EQ((a - a).getConstantValue(), 0);
  EXPECT_EQ(show(two * a - b + SizeExpr::getConstant(1)), "2 * a - b + 1");
  EXPECT_EQ(show(SizeExpr::getConstant(0) - a), "-a");
}

TEST(SizeExprTest, LinearForms) {
  SizeExpr a = SizeExpr::getAtom(0), b = SizeExpr::getAtom(1);
  auto linear =
      (SizeExpr::getConstant(3) * a + SizeExpr::getConstant(2)).getLinearForm();
  ASSERT_TRUE(linear.has_value());
  EXPECT_EQ(std::get<0>(*linear), 0u);
  EXPECT_EQ(std::get<1>(*linear), 3);
  EXPECT_EQ(std::get<2>(*linear), 2);
  EXPECT_FALSE((a * a).getLinearForm().has_value());
  EXPECT_FALSE((a + b).getLinearForm().has_value());
  EXPECT_EQ(a.getSingleAtom(), 0u);
  EXPECT_FALSE((a + SizeExpr::getConstant(1)).getSingleAtom().has_value());
}

TEST(SizeExprTest, SubstitutesAndDivides) {
  SizeExpr a = SizeExpr::getAtom(0), b = SizeExpr::getAtom(1);
  // a + 2 with a := 2 * b is 2 * b + 2, which divides by 2 into b + 1.
  SizeExpr e = a + SizeExpr::getConstant(2);
  SizeExpr substituted = e.substitute([&](unsigned atom) {
    return atom == 0 ? std::optional<SizeExpr>(SizeExpr::getConstant(2) * b)
                     : std::nullopt;
  });
  EXPECT_EQ(show(substituted), "2 * b + 2");
  EXPECT_EQ(substituted.divideExactly(2), b + SizeExpr::getConstant(1));
  EXPECT_FALSE(substituted.divideExactly(3).has_value());
  EXPECT_FALSE(substituted.divideExactly(0).has_value());
}

TEST(SizeExprTest, TypesPrintAsTheLanguageWritesThem) {
  SizeExpr n = SizeExpr::getAtom(13);
  Ty tensor = Ty::getTensor(ScalarKind::F64, {n, SizeExpr::getConstant(3)});
  Ty tuple = Ty::getTuple({Ty::getScalar(ScalarKind::I64), tensor});
  std::string text;
  llvm::raw_string_ostream os(text);
  tuple.print(os, [](unsigned) { return std::string("n"); });
  EXPECT_EQ(text, "(i64, f64[n, 3])");
  mlir::MLIRContext context;
  EXPECT_EQ(tensor.getMLIRType(&context),
            mlir::RankedTensorType::get({mlir::ShapedType::kDynamic, 3},
                                        mlir::Float64Type::get(&context)));
}

} // namespace
