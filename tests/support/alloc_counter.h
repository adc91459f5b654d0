// Replaces the global operator new/delete with malloc/free versions that
// count allocations, so a test or benchmark can assert that a code path
// allocates nothing (STYLE.md rule 6). Include it from exactly one source file
// of a binary. `meshbl::testing::AllocationCount()` reads the counter.
#ifndef MESHBL_TESTS_SUPPORT_ALLOC_COUNTER_H_
#define MESHBL_TESTS_SUPPORT_ALLOC_COUNTER_H_

#include <cstddef>
#include <cstdlib>
#include <new>

namespace meshbl::testing {
inline std::size_t g_allocation_count = 0;
inline std::size_t AllocationCount() { return g_allocation_count; }
}  // namespace meshbl::testing

// gcc cannot see that these operator new replacements are malloc.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  ++meshbl::testing::g_allocation_count;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  ++meshbl::testing::g_allocation_count;
  return std::malloc(n ? n : 1);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop

#endif  // MESHBL_TESTS_SUPPORT_ALLOC_COUNTER_H_
