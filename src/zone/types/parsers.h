// Private to the zone layer: the text parser of every dataset type, one per
// file in this directory, registered in src/zone/type_parser.cc.
#ifndef MESHBL_SRC_ZONE_TYPES_PARSERS_H_
#define MESHBL_SRC_ZONE_TYPES_PARSERS_H_

#include "zone/type_parser.h"

namespace meshbl::zone {

extern const DatasetParser kIp4SetParser;    // types/ip4set.cc
extern const DatasetParser kIp4TSetParser;   // types/ip4tset.cc
extern const DatasetParser kIp4TrieParser;   // types/ip4trie.cc
extern const DatasetParser kIp6TrieParser;   // types/ip6trie.cc
extern const DatasetParser kIp6TSetParser;   // types/ip6tset.cc
extern const DatasetParser kDnSetParser;     // types/dnset.cc
extern const DatasetParser kGenericParser;   // types/generic.cc
extern const DatasetParser kCombinedParser;  // type_parser.cc: lines go to `$DATASET`s
extern const DatasetParser kAclParser;       // types/acl.cc

}  // namespace meshbl::zone

#endif  // MESHBL_SRC_ZONE_TYPES_PARSERS_H_
