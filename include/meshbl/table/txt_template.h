// TXT template expansion at query time (reference/rbldnsd.md §3).
// Allocation-free and noexcept: callable from query workers.
#ifndef MESHBL_TABLE_TXT_TEMPLATE_H_
#define MESHBL_TABLE_TXT_TEMPLATE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace meshbl::table {

// Longest expansion rbldnsd produces; longer output is cut silently.
inline constexpr std::size_t kMaxTxtExpansion = 254;

// The per-dataset substitution context.
struct TxtContext {
  std::string_view vars[10];  // `$0`..`$9` values
  bool has_var[10] = {};
  std::string_view base;  // `$=` base template
  bool has_base = false;
};

// Expands the TXT of one listing. `entry` is the entry's raw text and
// `has_entry` false when the entry has no TXT; `subject` is what a lone `$`
// becomes (the queried IP, the matched name, or the client IP). Writes at
// most kMaxTxtExpansion bytes to `out` and returns the length; 0 means "no
// TXT record".
std::size_t ExpandTxt(const TxtContext& ctx, std::string_view entry, bool has_entry,
                      std::string_view subject, char* out) noexcept;

// Room for the text of any name (255 wire bytes, each up to 4 characters).
inline constexpr std::size_t kMaxSubjectNameText = 4 * 255;

// The presentation form rbldnsd gives a dnset entry's name when it is a TXT
// `$` (issue 9, [obs] with every byte 1..255): `"`, `$`, `.`, `;`, `@` and
// `\` get a backslash, bytes below 0x21 and from 0x7f up become `\DDD`,
// labels are joined by `.`. Writes at most `cap` bytes to `out` and returns
// the length the whole text needs.
std::size_t SubjectNameText(std::span<const std::uint8_t> labels, char* out,
                            std::size_t cap) noexcept;

}  // namespace meshbl::table

#endif  // MESHBL_TABLE_TXT_TEMPLATE_H_
