// Names the calling thread (what `top -H`, `ps -L` and perf show): meshbl's
// threads are "meshbl-udpN", "meshbl-tcp", "meshbl-feed", "meshbl-commit",
// "meshbl-compact", "meshbl-reload", "meshbl-qlog" and "meshbl-ent". Linux
// keeps 15 characters.
#ifndef MESHBL_UTIL_THREAD_NAME_H_
#define MESHBL_UTIL_THREAD_NAME_H_

#include <pthread.h>

namespace meshbl::util {

inline void NameThisThread(const char* name) noexcept { pthread_setname_np(pthread_self(), name); }

}  // namespace meshbl::util

#endif  // MESHBL_UTIL_THREAD_NAME_H_
