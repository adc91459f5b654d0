// The spamtrap addresses (issue 11, "The trap handler"): a text file of
// addresses, one per line, held in memory only as hashes
// (feed::HashTrapAddress), so neither the store nor a core dump of meshbld
// reveals which addresses are traps.
//
// File format:
//   # a comment (a whole line, or after whitespace at the end of a line)
//   trap1@example.com
//   Trap2@Example.NET        addresses are lowercased before hashing
//   @traps.example.org       every address at this domain is a trap
// Blank lines are ignored. An address is LOCAL@DOMAIN: a local part of 1-64
// bytes and a domain of 1-253 bytes, printable ASCII with no space, '<',
// '>', '(' , ')', ',', ';', '"' or '\'; the domain a host name (labels of
// letters, digits, '-' and '_', 1-63 bytes) or an address literal in [].
// Anything else is an error naming file:line.
//
// Loading is all or nothing: a file with one bad line, a missing or
// unreadable file leaves the previous set in place and returns the error.
// Reloading follows the zones: the file's mtime (ns), ctime, size and inode
// are stamped at each attempt and ReloadIfChanged() reads it again only when
// one of them moved (a replaced, rewritten, touched or chmod-ed file).
//
// Thread-safety: every method may be called from any thread; lookups
// (IsTrap/Contains) take a mutex briefly and read an immutable set, so a
// reload on the daemon's reload thread never blocks the policy listener
// for more than a pointer copy. Not for the DNS query path.
#ifndef MESHBL_FEED_TRAPS_H_
#define MESHBL_FEED_TRAPS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshbl/feed/entry.h"
#include "meshbl/util/mutex.h"

namespace meshbl::feed {

// The lowercased address `text` names, or an error saying what is wrong
// with it ("'a b@x': byte 0x20 is not allowed"). A leading '@' (no local
// part) names a whole trap domain.
absl::StatusOr<std::string> NormalizeTrapAddress(std::string_view text, bool allow_domain);

// The hashes of a trap file's addresses: `text` is the file's content,
// `name` the file name errors start with ("traps.txt:7: ...").
struct TrapHashes {
  absl::flat_hash_set<TrapHash> addresses;  // HashTrapAddress("a@b")
  absl::flat_hash_set<TrapHash> domains;    // HashTrapAddress("@b")
};
absl::StatusOr<TrapHashes> ParseTrapFile(std::string_view text, std::string_view name);

class TrapSet {
 public:
  TrapSet() = default;  // empty: nothing is a trap
  TrapSet(const TrapSet&) = delete;
  TrapSet& operator=(const TrapSet&) = delete;

  // Reads `path` and replaces the set; on any error the previous set stays
  // and the error names the file (and line). The path and its stamp are
  // recorded either way: ReloadIfChanged() watches `path` from now on and
  // does not retry an unchanged bad file.
  absl::Status Load(const std::string& path);
  // Replaces the set with the addresses of `text` (tests, tools); the same
  // all-or-nothing rule; forgets the file.
  absl::Status LoadText(std::string_view text, std::string_view name);
  // True when the file last given to Load() is not as it was at that
  // attempt (mtime, ctime, size, inode, existence). False without a file.
  bool Changed() const;
  // Load()s the file again when Changed(): true when a new set is in
  // place, false when nothing changed, an error (old set kept) otherwise.
  absl::StatusOr<bool> ReloadIfChanged();

  // Whether `hash` is a trap address (the hash of a lowercased address).
  bool Contains(const TrapHash& hash) const;
  // Whether `address` (any case) is a trap: listed itself, or its domain
  // listed as "@domain".
  bool IsTrap(std::string_view address) const;
  std::size_t size() const;  // addresses + domains
  std::string path() const;

 private:
  struct Stamp {
    bool ok = false;
    std::int64_t mtime = 0, ctime = 0, size = 0;
    std::uint64_t inode = 0;
    bool operator==(const Stamp&) const = default;
  };
  static Stamp StatPath(const std::string& path);

  mutable util::Mutex mu_;
  std::shared_ptr<const TrapHashes> set_ ABSL_GUARDED_BY(mu_) = std::make_shared<TrapHashes>();
  std::string path_ ABSL_GUARDED_BY(mu_);  // the file of the last attempt
  Stamp attempted_ ABSL_GUARDED_BY(mu_);   // its stamp at that attempt
};

}  // namespace meshbl::feed

#endif  // MESHBL_FEED_TRAPS_H_
