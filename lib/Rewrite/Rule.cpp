//===- Rule.cpp - Named rewrite rules -------------------------------------===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#include "leibniz/Rewrite/Rule.h"

#include <cassert>

using namespace leibniz::rewrite;

Rule::~Rule() = default;

void RuleSet::add(std::unique_ptr<Rule> rule) {
  bool inserted = byName.try_emplace(rule->getName(), rule.get()).second;
  assert(inserted && "two rules of the same name");
  (void)inserted;
  rules.push_back(std::move(rule));
}

const Rule *RuleSet::lookup(llvm::StringRef name) const {
  return byName.lookup(name);
}

const RuleSet &leibniz::rewrite::getLzRules() {
  static const RuleSet rules = [] {
    RuleSet set;
    addLzRules(set);
    return set;
  }();
  return rules;
}
