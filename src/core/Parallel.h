// tpcml (private) -- the threading helper of the batch doors: a range of work items in
// contiguous chunks on a few threads, the first exception rethrown on the caller's thread.
#ifndef TPCML_SRC_PARALLEL_H
#define TPCML_SRC_PARALLEL_H

#include <algorithm>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace tpcml::detail {

/// body(begin, end) over [0, n) on `threads` threads (0: all cores), at most one thread per
/// `minPerThread` items; each thread gets one contiguous chunk, so results written by index do
/// not depend on the thread count.
template <class Body> void parallelChunks(std::size_t n, unsigned threads, Body body, std::size_t minPerThread = 4096)
{
   std::size_t nt = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
   nt = std::max<std::size_t>(1, std::min<std::size_t>(nt, n / minPerThread + 1));
   if (nt == 1) {
      body(std::size_t{0}, n);
      return;
   }
   std::vector<std::thread> pool;
   std::exception_ptr error;
   std::mutex mutex;
   const std::size_t chunk = (n + nt - 1) / nt;
   for (std::size_t t = 0; t < nt; ++t) {
      const std::size_t b = t * chunk, e = std::min(n, b + chunk);
      if (b >= e)
         break;
      pool.emplace_back([&, b, e] {
         try {
            body(b, e);
         } catch (...) {
            std::lock_guard<std::mutex> lock(mutex);
            if (!error)
               error = std::current_exception();
         }
      });
   }
   for (auto &th : pool)
      th.join();
   if (error)
      std::rethrow_exception(error);
}

} // namespace tpcml::detail

#endif // TPCML_SRC_PARALLEL_H
