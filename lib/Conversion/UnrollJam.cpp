//===- UnrollJam.cpp - Independent sums side by side ----------------------===//
//
// Part of Leibniz.
//
// A sum (an scf.for that carries a float) adds one term after another.
// Below -O3, where float sums keep their order, each addition waits for the
// previous one, and the loop runs at the adder's latency, not at its
// throughput. Where such a loop is in the body of a loop whose iterations
// are independent (an scf.parallel, or an scf.for whose carried values it
// does not read), `lz-unroll-jam` unrolls that loop by `lanes` and jams the
// copies of the sum into one loop that carries `lanes` sums side by side:
// each still adds its terms in the same order, so the results are bit for
// bit those of the loops before, but the additions of different lanes
// overlap, and LLVM's SLP vectorizer packs them.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/Support/MathExtras.h"

namespace leibniz::conversion {
#define GEN_PASS_DEF_UNROLLJAM
#include "leibniz/Conversion/Passes.h.inc"
} // namespace leibniz::conversion

using namespace mlir;
using namespace leibniz;

namespace {

/// What the operations of a region to unroll may do to memory.
enum class Effects {
  /// Read only: reads may move past each other.
  ReadOnly,
  /// Read, write, allocate and free, as the iterations of an scf.parallel
  /// may: they do not conflict, so the lanes' operations may interleave.
  Independent,
};

/// What `op` and the operations in its regions do to memory.
struct EffectSummary {
  /// Whether every effect is known; where not, the others are true.
  bool known = true;
  bool reads = false;
  /// Writes, allocations and frees.
  bool writes = false;
};

static EffectSummary summarizeEffects(Operation *op) {
  std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
      getEffectsRecursively(op);
  if (!effects)
    return {false, true, true};
  EffectSummary summary;
  for (const MemoryEffects::EffectInstance &effect : *effects)
    (isa<MemoryEffects::Read>(effect.getEffect()) ? summary.reads
                                                  : summary.writes) = true;
  return summary;
}

/// Whether every effect of `op` and of the operations in its regions is
/// known and allowed by `allowed`.
static bool hasAllowedEffects(Operation *op, Effects allowed) {
  EffectSummary summary = summarizeEffects(op);
  return summary.known && (allowed == Effects::Independent || !summary.writes);
}

/// Whether `op` is a loop carrying a float: a sum worth jamming.
static bool isFloatSum(Operation *op) {
  auto loop = dyn_cast<scf::ForOp>(op);
  return loop && llvm::any_of(loop.getResultTypes(),
                              [](Type type) { return isa<FloatType>(type); });
}

/// Whether `op` or an operation in its regions uses one of `values`.
static bool usesAny(Operation *op, const DenseSet<Value> &values) {
  WalkResult result = op->walk([&](Operation *nested) {
    return llvm::any_of(nested->getOperands(),
                        [&](Value value) { return values.contains(value); })
               ? WalkResult::interrupt()
               : WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// Clones operations once per lane, each lane with its own mapping of the
/// unrolled loop's induction variable, except that an operation that does
/// not depend on the lane is cloned once for all, and that an scf.for
/// whose bounds do not is jammed: one loop whose iterations run the lanes'
/// iterations one after another, carrying the values of every lane.
class Jammer {
public:
  Jammer(OpBuilder &builder, unsigned lanes) : b(builder), maps(lanes) {}

  /// The mapping of lane `lane`.
  IRMapping &getMapping(unsigned lane) { return maps[lane]; }
  /// Marks `value` as taking a value of its own in each lane.
  void setVaries(Value value) { varying.insert(value); }

  /// Whether `op` or an operation in its regions uses a value that varies
  /// by lane.
  bool dependsOnLane(Operation *op) { return usesAny(op, varying); }

  /// Clones `op` for every lane, jamming it where it is a loop with bounds
  /// that do not vary by lane.
  void jam(Operation *op) {
    EffectSummary effects = summarizeEffects(op);
    if (!dependsOnLane(op) && !(effects.reads && written) && !effects.writes) {
      Operation *clone = b.clone(*op, maps[0]);
      for (IRMapping &map : llvm::drop_begin(maps))
        map.map(op->getResults(), clone->getResults());
      return;
    }
    written |= effects.writes;
    // A loop that compares unsigned runs per lane (jamLoop builds signed
    // loops).
    auto loop = dyn_cast<scf::ForOp>(op);
    if (loop && !loop.getUnsignedCmp() &&
        !llvm::any_of(loop->getOperands().take_front(3),
                      [&](Value v) { return varying.contains(v); })) {
      jamLoop(loop);
      return;
    }
    for (IRMapping &map : maps)
      b.clone(*op, map);
    varying.insert(op->getResults().begin(), op->getResults().end());
  }

private:
  /// One loop over `loop`'s range whose body runs each lane's body in
  /// turn, its body's loops jammed too.
  void jamLoop(scf::ForOp loop) {
    unsigned lanes = maps.size();
    SmallVector<Value> inits;
    for (IRMapping &map : maps)
      for (Value init : loop.getInitArgs())
        inits.push_back(map.lookupOrDefault(init));
    IRMapping &first = maps[0];
    auto jammed = scf::ForOp::create(
        b, loop.getLoc(), first.lookupOrDefault(loop.getLowerBound()),
        first.lookupOrDefault(loop.getUpperBound()),
        first.lookupOrDefault(loop.getStep()), inits);
    unsigned carried = loop.getNumRegionIterArgs();
    Block *body = jammed.getBody();
    // A loop without carried values comes with its terminator.
    if (!body->empty())
      body->back().erase();
    for (auto [lane, map] : llvm::enumerate(maps)) {
      map.map(loop.getInductionVar(), jammed.getInductionVar());
      map.map(loop.getRegionIterArgs(), body->getArguments()
                                            .drop_front(1 + lane * carried)
                                            .take_front(carried));
    }
    for (Value arg : loop.getRegionIterArgs())
      varying.insert(arg);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToEnd(body);
      for (Operation &nested : loop.getBody()->without_terminator())
        jam(&nested);
      SmallVector<Value> yielded;
      for (IRMapping &map : maps)
        for (Value value : loop.getBody()->getTerminator()->getOperands())
          yielded.push_back(map.lookupOrDefault(value));
      scf::YieldOp::create(b, loop.getLoc(), yielded);
    }
    for (unsigned lane = 0; lane < lanes; ++lane)
      maps[lane].map(loop.getResults(),
                     jammed.getResults().slice(lane * carried, carried));
    varying.insert(loop.getResults().begin(), loop.getResults().end());
  }

  OpBuilder &b;
  SmallVector<IRMapping> maps;
  DenseSet<Value> varying;
  /// Whether a jammed operation wrote memory: a read after it may read
  /// what a lane wrote, so it does not hold for every lane.
  bool written = false;
};

/// The constant `value` of the index type or integer type `type`.
static Value getConstant(OpBuilder &b, Location loc, Type type, int64_t value) {
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, value));
}

/// The constant trip count of a loop from `lower` to `upper` by `step`,
/// where they are constants.
static std::optional<int64_t> getConstantTripCount(Value lower, Value upper,
                                                   Value step) {
  APInt lo, hi, by;
  if (!matchPattern(lower, m_ConstantInt(&lo)) ||
      !matchPattern(upper, m_ConstantInt(&hi)) ||
      !matchPattern(step, m_ConstantInt(&by)) || lo.getSignificantBits() > 64 ||
      hi.getSignificantBits() > 64 || by.getSignificantBits() > 64 ||
      by.getSExtValue() <= 0)
    return std::nullopt;
  int64_t n;
  if (llvm::SubOverflow(hi.getSExtValue(), lo.getSExtValue(), n))
    return std::nullopt;
  return n <= 0 ? 0 : n / by.getSExtValue() + (n % by.getSExtValue() != 0);
}

/// Whether `step` times `lanes` is known not to overflow: `step` is a
/// constant or an index (which a program's sizes do not come near).
static bool isSafeStride(Value step, unsigned lanes) {
  APInt by;
  int64_t product;
  if (matchPattern(step, m_ConstantInt(&by)))
    return by.getSignificantBits() <= 64 &&
           !llvm::MulOverflow(by.getSExtValue(), int64_t(lanes), product);
  return step.getType().isIndex();
}

/// Whether `body` has a float sum whose bounds do not depend on `iv`,
/// and does not read any of `carried`.
static bool hasIndependentSum(Block *body, Value iv, ValueRange carried) {
  DenseSet<Value> dependent(carried.begin(), carried.end());
  bool found = false;
  for (Operation &op : body->without_terminator()) {
    if (usesAny(&op, dependent)) {
      dependent.insert(op.getResults().begin(), op.getResults().end());
      continue;
    }
    auto loop = dyn_cast<scf::ForOp>(op);
    if (!loop || !isFloatSum(loop))
      continue;
    // The bounds must be the same in every lane.
    auto definedByIV = [&](Value value) {
      Operation *def = value.getDefiningOp();
      return value == iv || (def && body->findAncestorOpInBlock(*def));
    };
    found |= !llvm::any_of(loop->getOperands().take_front(3), definedByIV);
  }
  return found;
}

struct UnrollJamPass : public conversion::impl::UnrollJamBase<UnrollJamPass> {
  using Base::Base;

  void runOnOperation() override {
    if (lanes < 2)
      return;
    // The outermost candidates: a jammed loop's inner loops are jammed
    // with it.
    SmallVector<Operation *> candidates;
    getOperation()->walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (auto parallel = dyn_cast<scf::ParallelOp>(op)) {
        if (getParallelDimension(parallel)) {
          candidates.push_back(op);
          return WalkResult::skip();
        }
      } else if (auto loop = dyn_cast<scf::ForOp>(op)) {
        if (isCandidate(loop)) {
          candidates.push_back(op);
          return WalkResult::skip();
        }
      }
      return WalkResult::advance();
    });
    for (Operation *op : candidates) {
      if (auto parallel = dyn_cast<scf::ParallelOp>(op))
        unrollParallel(parallel, *getParallelDimension(parallel));
      else
        unrollFor(cast<scf::ForOp>(op));
    }
  }

  /// Whether `extent` iterations fill the lanes at least once.
  bool isLongEnough(std::optional<int64_t> extent) {
    return !extent || *extent >= static_cast<int64_t>(lanes);
  }

  /// The dimension of `loop` to unroll: the innermost one that is long
  /// enough and that a sum in the body does not take its bounds from.
  std::optional<unsigned> getParallelDimension(scf::ParallelOp loop) {
    if (!loop.getInitVals().empty() ||
        !hasAllowedEffects(loop, Effects::Independent))
      return std::nullopt;
    for (int d = loop.getNumLoops() - 1; d >= 0; --d) {
      if (!isSafeStride(loop.getStep()[d], lanes) ||
          !isLongEnough(getConstantTripCount(loop.getLowerBound()[d],
                                             loop.getUpperBound()[d],
                                             loop.getStep()[d])))
        continue;
      if (hasIndependentSum(loop.getBody(), loop.getInductionVars()[d], {}))
        return d;
    }
    return std::nullopt;
  }

  /// A sequential loop is a candidate where a sum in its body does not
  /// read the values it carries, and its body only reads memory.
  bool isCandidate(scf::ForOp loop) {
    // Index loops that compare signed: the bounds of the last full block
    // are computed so.
    return loop.getNumResults() && loop.getInductionVar().getType().isIndex() &&
           !loop.getUnsignedCmp() && isSafeStride(loop.getStep(), lanes) &&
           isLongEnough(getConstantTripCount(
               loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) &&
           llvm::all_of(loop.getBody()->without_terminator(),
                        [](Operation &op) {
                          return hasAllowedEffects(&op, Effects::ReadOnly);
                        }) &&
           hasIndependentSum(loop.getBody(), loop.getInductionVar(),
                             loop.getRegionIterArgs());
  }

  /// `base + lane * step` for each lane, mapped to `iv` in its lane.
  void mapLanes(OpBuilder &b, Location loc, Jammer &jammer, Value iv,
                Value base, Value step) {
    for (unsigned lane = 0; lane < lanes; ++lane) {
      Value value = base;
      if (lane) {
        Value offset = arith::MulIOp::create(
            b, loc, step, getConstant(b, loc, step.getType(), lane));
        value = arith::AddIOp::create(b, loc, base, offset);
      }
      jammer.getMapping(lane).map(iv, value);
    }
    jammer.setVaries(iv);
  }

  /// Dimension `d` of `loop` steps by `lanes` iterations; a full block of
  /// them runs jammed, the last partial one as a sequential loop.
  void unrollParallel(scf::ParallelOp loop, unsigned d) {
    Location loc = loop.getLoc();
    Block *body = loop.getBody();
    Value iv = loop.getInductionVars()[d];
    Value step = loop.getStep()[d], upper = loop.getUpperBound()[d];
    SmallVector<Operation *> original;
    for (Operation &op : body->without_terminator())
      original.push_back(&op);

    OpBuilder b(body, body->begin());
    Value span = arith::MulIOp::create(
        b, loc, step, getConstant(b, loc, step.getType(), lanes - 1));
    Value last = arith::AddIOp::create(b, loc, iv, span);
    Value full =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, last, upper);
    auto branch = scf::IfOp::create(b, loc, full, /*withElseRegion=*/true);
    b.setInsertionPoint(branch.thenBlock()->getTerminator());
    Jammer jammer(b, lanes);
    mapLanes(b, loc, jammer, iv, iv, step);
    for (Operation *op : original)
      jammer.jam(op);

    b.setInsertionPoint(branch.elseBlock()->getTerminator());
    auto rest = scf::ForOp::create(b, loc, iv, upper, step);
    b.setInsertionPoint(rest.getBody()->getTerminator());
    IRMapping map;
    map.map(iv, rest.getInductionVar());
    for (Operation *op : original)
      b.clone(*op, map);

    for (Operation *op : llvm::reverse(original)) {
      op->dropAllUses();
      op->erase();
    }
    OpBuilder outside(loop);
    Value unrolled = arith::MulIOp::create(
        outside, loc, step, getConstant(outside, loc, step.getType(), lanes));
    loop.getStepMutable()[d].set(unrolled);
  }

  /// `loop` runs `lanes` iterations per step up to the last full block:
  /// the operations that do not read the carried values first, jammed,
  /// then the others lane after lane; the remaining iterations run in a
  /// copy of the loop.
  void unrollFor(scf::ForOp loop) {
    Location loc = loop.getLoc();
    OpBuilder b(loop);
    Value lower = loop.getLowerBound(), step = loop.getStep();
    // The end of the last full block: lower + (trips / lanes) * lanes * step.
    Value zero = getConstant(b, loc, step.getType(), 0);
    Value count = arith::CeilDivSIOp::create(
        b, loc, arith::SubIOp::create(b, loc, loop.getUpperBound(), lower),
        step);
    count = arith::MaxSIOp::create(b, loc, count, zero);
    Value width = getConstant(b, loc, step.getType(), lanes);
    Value blocks = arith::DivSIOp::create(b, loc, count, width);
    Value stride = arith::MulIOp::create(b, loc, step, width);
    Value end = arith::AddIOp::create(
        b, loc, lower, arith::MulIOp::create(b, loc, blocks, stride));

    auto jammed =
        scf::ForOp::create(b, loc, lower, end, stride, loop.getInitArgs());
    Block *body = loop.getBody();
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToEnd(jammed.getBody());
      Jammer jammer(b, lanes);
      mapLanes(b, loc, jammer, loop.getInductionVar(), jammed.getInductionVar(),
               step);
      // The operations that read the carried values, directly or not, run
      // after the others, lane after lane.
      DenseSet<Value> carried(loop.getRegionIterArgs().begin(),
                              loop.getRegionIterArgs().end());
      SmallVector<Operation *> sequential;
      for (Operation &op : body->without_terminator()) {
        if (usesAny(&op, carried)) {
          carried.insert(op.getResults().begin(), op.getResults().end());
          sequential.push_back(&op);
        } else {
          jammer.jam(&op);
        }
      }
      ValueRange yielded = body->getTerminator()->getOperands();
      for (unsigned lane = 0; lane < lanes; ++lane) {
        IRMapping &map = jammer.getMapping(lane);
        if (lane == 0) {
          map.map(loop.getRegionIterArgs(), jammed.getRegionIterArgs());
        } else {
          IRMapping &previous = jammer.getMapping(lane - 1);
          for (auto [arg, value] : llvm::zip(loop.getRegionIterArgs(), yielded))
            map.map(arg, previous.lookupOrDefault(value));
        }
        for (Operation *op : sequential)
          b.clone(*op, map);
      }
      SmallVector<Value> results;
      for (Value value : yielded)
        results.push_back(jammer.getMapping(lanes - 1).lookupOrDefault(value));
      scf::YieldOp::create(b, loc, results);
    }
    // The rest, from the end of the last full block.
    loop.getLowerBoundMutable().assign(end);
    loop.getInitArgsMutable().assign(jammed.getResults());
  }
};

} // namespace
