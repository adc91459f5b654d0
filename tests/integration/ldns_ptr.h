// Owning pointers for what ldns allocates (packets, strings), shared by the
// integration tests that decode replies with ldns.
#ifndef MESHBL_TESTS_INTEGRATION_LDNS_PTR_H_
#define MESHBL_TESTS_INTEGRATION_LDNS_PTR_H_

#include <cstdlib>
#include <memory>

// ldns last: its C headers define macros that upset C++ standard headers.
#include <ldns/ldns.h>  // NOLINT(build/include_order)

namespace meshbl::integration {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
struct PktDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktDeleter>;
using CharPtr = std::unique_ptr<char, FreeDeleter>;

}  // namespace meshbl::integration

#endif  // MESHBL_TESTS_INTEGRATION_LDNS_PTR_H_
