// Recomputes every checksum of a (possibly deliberately inconsistent)
// snapshot image, so tests and the fuzz target reach the structural
// validation behind the checksum layer. Offsets that point outside the image
// are left alone. Test-only code.
#ifndef MESHBL_TESTS_TABLE_RESEAL_H_
#define MESHBL_TESTS_TABLE_RESEAL_H_

#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "meshbl/table/format.h"

namespace meshbl::table::testing {

inline void Reseal(std::vector<std::uint8_t>& img) {
  namespace f = format;
  if (img.size() < sizeof(f::FileHeader)) return;
  f::FileHeader h;
  std::memcpy(&h, img.data(), sizeof h);
  const std::uint64_t toff = h.section_table_offset;
  if (toff <= img.size() && toff % 8 == 0 &&
      h.section_count <= (img.size() - toff) / sizeof(f::SectionEntry)) {
    for (std::uint32_t i = 0; i < h.section_count; ++i) {
      f::SectionEntry s;
      std::uint8_t* at = img.data() + toff + i * sizeof(f::SectionEntry);
      std::memcpy(&s, at, sizeof s);
      if (s.offset <= img.size() && s.size <= img.size() - s.offset) {
        s.checksum = XXH3_64bits(img.data() + s.offset, s.size);
        std::memcpy(at, &s, sizeof s);
      }
    }
    h.section_table_checksum =
        XXH3_64bits(img.data() + toff, h.section_count * sizeof(f::SectionEntry));
  }
  h.header_checksum = 0;
  h.header_checksum = XXH3_64bits(&h, sizeof h);
  std::memcpy(img.data(), &h, sizeof h);
}

}  // namespace meshbl::table::testing

#endif  // MESHBL_TESTS_TABLE_RESEAL_H_
