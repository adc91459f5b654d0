// Fuzzes the live store's record and key decoders (feed/codec.h): the input
// is given to DecodeListing, DecodeWhitelistEntry, DecodeTrapHit and
// DecodeSubjectKey. What decodes must encode to bytes that decode to the
// same value; a subject key is canonical (it encodes back to the very same
// bytes: one subject, one key, or the store would hold it twice). The
// corpus holds valid encodings of each kind, as the Encode functions write
// them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "meshbl/feed/codec.h"
#include "meshbl/feed/entry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace meshbl::feed;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto l = DecodeListing(in); l.ok()) {
    auto again = DecodeListing(EncodeListing(*l));
    if (!again.ok() || !(*again == *l)) std::abort();
    if (!Subject::Parse(l->subject.ToString()).ok()) std::abort();
  }
  if (auto w = DecodeWhitelistEntry(in); w.ok()) {
    auto again = DecodeWhitelistEntry(EncodeWhitelistEntry(*w));
    if (!again.ok() || !(*again == *w)) std::abort();
  }
  if (auto h = DecodeTrapHit(in); h.ok()) {
    const std::string bytes = EncodeTrapHit(*h);
    auto again = DecodeTrapHit(bytes);
    if (!again.ok() || EncodeTrapHit(*again) != bytes) std::abort();
  }
  if (auto s = DecodeSubjectKey(in); s.ok()) {
    if (EncodeSubjectKey(*s) != in) std::abort();
    auto parsed = Subject::Parse(s->ToString());
    if (!parsed.ok() || !(*parsed == *s)) std::abort();
    // Every name's key starts with the prefix of every name above it.
    if (s->kind == Subject::Kind::kName) {
      std::string_view n = s->name;
      for (;;) {
        if (!in.starts_with(SubjectKeyPrefixBelow(n))) std::abort();
        const std::size_t dot = n.find('.');
        if (dot == std::string_view::npos) break;
        n.remove_prefix(dot + 1);
      }
    }
  }
  return 0;
}
