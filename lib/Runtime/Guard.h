//===- Guard.h - Where failed run-time checks jump --------------*- C++ -*-===//
//
// Part of Leibniz.
//
//===----------------------------------------------------------------------===//

#ifndef LEIBNIZ_LIB_RUNTIME_GUARD_H
#define LEIBNIZ_LIB_RUNTIME_GUARD_H

#include <csetjmp>

namespace leibniz::runtime {

/// Makes a failed check on this thread jump to `guard` (with value 1), or,
/// if null, print its message and exit. Returns the previous guard.
std::jmp_buf *setCheckGuard(std::jmp_buf *guard);

} // namespace leibniz::runtime

#endif // LEIBNIZ_LIB_RUNTIME_GUARD_H
