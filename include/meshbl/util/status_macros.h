// Status propagation macros. Debian 12's abseil (20220623) ships no
// status_macros.h, so meshbl defines the two it needs. Control-plane only:
// never use these on the per-packet path (STYLE.md rule 4).
#ifndef MESHBL_UTIL_STATUS_MACROS_H_
#define MESHBL_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MESHBL_CONCAT_INNER_(a, b) a##b
#define MESHBL_CONCAT_(a, b) MESHBL_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function when it is not OK.
#define MESHBL_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status meshbl_status_ = (expr);          \
    if (!meshbl_status_.ok()) return meshbl_status_; \
  } while (0)

// `MESHBL_ASSIGN_OR_RETURN(auto x, StatusOrExpr());` assigns the value or
// returns the error status from the enclosing function.
#define MESHBL_ASSIGN_OR_RETURN(lhs, expr) \
  MESHBL_ASSIGN_OR_RETURN_IMPL_(MESHBL_CONCAT_(meshbl_statusor_, __LINE__), lhs, expr)
#define MESHBL_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()

#endif  // MESHBL_UTIL_STATUS_MACROS_H_
