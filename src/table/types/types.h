// Private to the table layer: the descriptor of every dataset type, one per
// file in this directory, registered in src/table/dataset_type.cc.
#ifndef MESHBL_SRC_TABLE_TYPES_TYPES_H_
#define MESHBL_SRC_TABLE_TYPES_TYPES_H_

#include "meshbl/table/dataset_type.h"

namespace meshbl::table {

extern const DatasetTypeOps kIp4SetOps;    // types/ip4set.cc
extern const DatasetTypeOps kIp4TSetOps;   // types/ip4tset.cc
extern const DatasetTypeOps kIp4TrieOps;   // types/ip4trie.cc
extern const DatasetTypeOps kIp6TrieOps;   // types/ip6trie.cc
extern const DatasetTypeOps kIp6TSetOps;   // types/ip6tset.cc
extern const DatasetTypeOps kDnSetOps;     // types/dnset.cc
extern const DatasetTypeOps kGenericOps;   // types/generic.cc
extern const DatasetTypeOps kCombinedOps;  // types/combined.cc
extern const DatasetTypeOps kAclOps;       // types/acl.cc

}  // namespace meshbl::table

#endif  // MESHBL_SRC_TABLE_TYPES_TYPES_H_
