// A read-only view of one hash-table section of a snapshot: its slots and
// capacity. Trivially copyable; hot-path safe.
#ifndef MESHBL_TABLE_TABLE_REF_H_
#define MESHBL_TABLE_TABLE_REF_H_

#include <cstdint>

namespace meshbl::table {

template <class Slot>
struct TableRef {
  const Slot* slots = nullptr;
  std::uint64_t capacity = 0;
  bool empty() const noexcept { return capacity == 0; }
};

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_TABLE_REF_H_
