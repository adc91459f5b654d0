// The open-addressing tables of src/table/flat_table.h: lookups find what was
// inserted, miss what was not, and terminate on a hostile table with no free
// slot.
#include <random>
#include <unordered_set>
#include <vector>

#include "gtest/gtest.h"
#include "table/flat_table.h"

namespace meshbl::table {
namespace {

namespace f = format;

std::vector<f::Slot32> Fill(const std::vector<std::uint32_t>& keys, std::uint64_t cap) {
  std::vector<f::Slot32> slots(cap);
  for (auto& s : slots) s.val = f::kEmptySlot;
  for (std::uint32_t k : keys) {
    std::uint64_t i = Bucket(Hash32(k), cap);
    while (slots[i].val != f::kEmptySlot) i = (i + 1) % cap;
    slots[i] = {k, k ^ 0x5a5a};
  }
  return slots;
}

TEST(FlatTable, FindsEveryKeyAndMissesOthers) {
  std::mt19937 rng(7);
  std::unordered_set<std::uint32_t> set;
  while (set.size() < 50000) set.insert(static_cast<std::uint32_t>(rng()));
  set.insert(0);  // address 0.0.0.0 is a valid key
  std::vector<std::uint32_t> keys(set.begin(), set.end());
  std::uint64_t cap = CapacityFor(keys.size());
  EXPECT_GT(cap, keys.size());
  EXPECT_LE(static_cast<double>(keys.size()) / static_cast<double>(cap), kMaxLoad + 0.001);
  auto slots = Fill(keys, cap);
  TableView<f::Slot32> t{slots.data(), cap};
  for (auto k : keys) {
    const f::Slot32* s = Find32(t, k);
    ASSERT_NE(s, nullptr) << k;
    EXPECT_EQ(s->val, k ^ 0x5a5a);
  }
  int misses = 0;
  for (int i = 0; i < 50000; ++i) {
    auto k = static_cast<std::uint32_t>(rng());
    if (set.count(k) == 0)
      misses += Find32(t, k) == nullptr;
    else
      ++misses;
  }
  EXPECT_EQ(misses, 50000);
}

TEST(FlatTable, FullHostileTableTerminates) {
  std::vector<f::Slot32> slots(64);
  for (std::uint32_t i = 0; i < slots.size(); ++i) slots[i] = {i * 3 + 1, 1};
  TableView<f::Slot32> t{slots.data(), slots.size()};
  EXPECT_EQ(Find32(t, 2), nullptr);
  EXPECT_NE(Find32(t, 4), nullptr);
}

TEST(FlatTable, EmptyTableMisses) {
  TableView<f::Slot32> t{};
  EXPECT_EQ(Find32(t, 1), nullptr);
  TableView<f::Slot64> t64{};
  EXPECT_EQ(Find64(t64, 1), nullptr);
}

TEST(MaskIp, PrefixMasks) {
  EXPECT_EQ(MaskIp4(0x0a0b0c0d, 0), 0u);
  EXPECT_EQ(MaskIp4(0x0a0b0c0d, 8), 0x0a000000u);
  EXPECT_EQ(MaskIp4(0x0a0b0c0d, 32), 0x0a0b0c0du);
  std::uint64_t hi = ~0ULL, lo = ~0ULL;
  MaskIp6(hi, lo, 72);
  EXPECT_EQ(hi, ~0ULL);
  EXPECT_EQ(lo, 0xff00000000000000ULL);
  hi = lo = ~0ULL;
  MaskIp6(hi, lo, 1);
  EXPECT_EQ(hi, 0x8000000000000000ULL);
  EXPECT_EQ(lo, 0u);
}

}  // namespace
}  // namespace meshbl::table
