// The registration array of the dataset types' text parsers (type_parser.h).
#include "zone/type_parser.h"

#include "zone/types/parsers.h"

namespace meshbl::zone {

// combined (§4.8): its entry lines belong to the current `$DATASET`
// sub-dataset, whose own parser reads them (loader.cc).
const DatasetParser kCombinedParser = {.type = table::DatasetType::kCombined};

namespace {

// One line per type, in DatasetType order. Adding a type with a text
// format: its file in src/zone/types/, its declaration in types/parsers.h,
// its line here.
const DatasetParser* const kRegistry[] = {
    &kIp4SetParser, &kIp4TSetParser, &kIp4TrieParser,  &kIp6TrieParser, &kIp6TSetParser,
    &kDnSetParser,  &kGenericParser, &kCombinedParser, &kAclParser,
};

}  // namespace

std::span<const DatasetParser* const> AllDatasetParsers() { return kRegistry; }

const DatasetParser* ParserFor(table::DatasetType type) {
  for (const DatasetParser* p : kRegistry) {
    if (p->type == type) return p;
  }
  return nullptr;
}

}  // namespace meshbl::zone
