// Per-packet code (MESHBL_HOT_SOURCES): no allocation, no exceptions.
#include "meshbl/table/txt_template.h"

namespace meshbl::table {
namespace {

class Out {
 public:
  explicit Out(char* out) : out_(out) {}
  void Put(std::string_view s) noexcept {
    for (char c : s) {
      if (n_ == kMaxTxtExpansion) return;
      out_[n_++] = c;
    }
  }
  std::size_t size() const noexcept { return n_; }

 private:
  char* out_;
  std::size_t n_ = 0;
};

// Expands `t`: `$$` -> `$`, `$N` -> variable N (or the literal `$N` when
// unset), `$=` -> `eq`, any other `$` -> the subject.
void Expand(const TxtContext& ctx, std::string_view t, std::string_view eq,
            std::string_view subject, Out& out) noexcept {
  std::size_t start = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '$') continue;
    out.Put(t.substr(start, i - start));
    char next = i + 1 < t.size() ? t[i + 1] : '\0';
    if (next == '$') {
      out.Put("$");
      ++i;
    } else if (next >= '0' && next <= '9') {
      int d = next - '0';
      if (ctx.has_var[d]) {
        out.Put(ctx.vars[d]);
      } else {
        out.Put(t.substr(i, 2));
      }
      ++i;
    } else if (next == '=') {
      out.Put(eq);
      ++i;
    } else {
      out.Put(subject);
    }
    start = i + 1;
  }
  if (start < t.size()) out.Put(t.substr(start));
}

}  // namespace

std::size_t ExpandTxt(const TxtContext& ctx, std::string_view entry, bool has_entry,
                      std::string_view subject, char* out) noexcept {
  Out o(out);
  if (has_entry && !entry.empty() && entry[0] == '=') {
    // `=text`: the base template is bypassed; `$=` inside is the text itself.
    std::string_view text = entry.substr(1);
    Expand(ctx, text, text, subject, o);
    return o.size();
  }
  if (ctx.has_base && !ctx.base.empty()) {
    // The entry text is inserted raw for `$=`; no text -> the subject.
    std::string_view eq = has_entry && !entry.empty() ? entry : subject;
    Expand(ctx, ctx.base, eq, subject, o);
    return o.size();
  }
  if (!has_entry || entry.empty()) return 0;
  Expand(ctx, entry, entry, subject, o);
  return o.size();
}

std::size_t SubjectNameText(std::span<const std::uint8_t> labels, char* out,
                            std::size_t cap) noexcept {
  std::size_t n = 0;
  auto emit = [&](char c) {
    if (n < cap) out[n] = c;
    ++n;
  };
  std::size_t i = 0;
  while (i < labels.size()) {
    std::size_t l = labels[i++];
    if (l > labels.size() - i) l = labels.size() - i;
    if (i > 1) emit('.');
    for (std::size_t k = 0; k < l; ++k) {
      const std::uint8_t c = labels[i + k];
      switch (c) {
        case '"':
        case '$':
        case '.':
        case ';':
        case '@':
        case '\\':
          emit('\\');
          emit(static_cast<char>(c));
          break;
        default:
          if (c < 0x21 || c > 0x7e) {
            emit('\\');
            emit(static_cast<char>('0' + c / 100));
            emit(static_cast<char>('0' + (c / 10) % 10));
            emit(static_cast<char>('0' + c % 10));
          } else {
            emit(static_cast<char>(c));
          }
      }
    }
    i += l;
  }
  return n;
}

}  // namespace meshbl::table
