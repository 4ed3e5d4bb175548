#include "tpcml/core/AtomicFile.h"

#include "tpcml/core/Error.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace tpcml {

namespace {

// Temporaries to remove on SIGTERM / SIGINT. The handler may only make async-signal-safe
// calls: it reads fixed, pre-formatted paths and unlinks them. A slot is claimed (state 1),
// filled, then published (state 2); the handler unlinks published slots only.
constexpr int kMaxTemps = 64;
constexpr std::size_t kMaxPath = 4096;
struct TempSlot {
   std::atomic<int> state{0};
   char path[kMaxPath];
};
TempSlot g_temps[kMaxTemps];

struct sigaction g_previous[2]; // SIGTERM, SIGINT: what was installed before us

extern "C" void tpcmlRemoveTemps(int sig, siginfo_t *info, void *context)
{
   for (TempSlot &s : g_temps)
      if (s.state.load() == 2)
         ::unlink(s.path);
   const struct sigaction &prev = g_previous[sig == SIGTERM ? 0 : 1];
   if (prev.sa_flags & SA_SIGINFO) { // chain: Python's or ROOT's handler still runs (KeyboardInterrupt ...)
      if (prev.sa_sigaction)
         prev.sa_sigaction(sig, info, context);
      return;
   }
   if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
      prev.sa_handler(sig);
      return;
   }
   ::signal(sig, SIG_DFL); // no handler before us: die of the signal, as without tpcml
   ::raise(sig);
}

void installSignalHandlers()
{
   static std::atomic<bool> installed{false};
   if (installed.exchange(true))
      return;
   const int sigs[2] = {SIGTERM, SIGINT};
   for (int k = 0; k < 2; ++k) {
      if (::sigaction(sigs[k], nullptr, &g_previous[k]) != 0 || g_previous[k].sa_handler == SIG_IGN)
         continue; // e.g. SIGINT of a background job: leave it ignored
      struct sigaction sa{};
      sa.sa_sigaction = tpcmlRemoveTemps;
      sa.sa_flags = SA_SIGINFO;
      sigemptyset(&sa.sa_mask);
      ::sigaction(sigs[k], &sa, nullptr);
   }
}

int registerTemp(const std::string &path)
{
   if (path.size() + 1 > kMaxPath)
      return -1;
   installSignalHandlers();
   for (int k = 0; k < kMaxTemps; ++k) {
      int expected = 0;
      if (g_temps[k].state.compare_exchange_strong(expected, 1)) {
         std::memcpy(g_temps[k].path, path.c_str(), path.size() + 1);
         g_temps[k].state.store(2);
         return k;
      }
   }
   return -1; // more than kMaxTemps live outputs: that one is only removed by the destructor
}

void unregisterTemp(int slot)
{
   if (slot >= 0)
      g_temps[slot].state.store(0);
}

std::string gib(double bytes)
{
   std::ostringstream os;
   os.precision(3);
   os << bytes / double(1ULL << 30) << " GiB";
   return os.str();
}

} // namespace

AtomicOutput::AtomicOutput(const std::string &finalPath) : m_final(finalPath)
{
   if (finalPath.empty())
      throw UsageError("output path is empty");
   const fs::path target(finalPath);
   fs::path dir = target.parent_path();
   if (dir.empty())
      dir = ".";
   std::error_code ec;
   if (!fs::is_directory(dir, ec))
      throw UsageError("cannot write output '" + finalPath + "': directory '" + dir.string() + "' does not exist");
   if (::access(dir.c_str(), W_OK) != 0)
      throw UsageError("cannot write output '" + finalPath + "': directory '" + dir.string() + "' is not writable");
   if (fs::is_directory(target, ec))
      throw UsageError("cannot write output '" + finalPath + "': it is a directory");
   static std::atomic<unsigned> counter{0};
   // Same directory as the target (rename is atomic within a file system), hidden,
   // extension kept so that tools which look at it (ROOT, numpy) behave the same.
   m_temp = (dir / ("." + target.stem().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                    std::to_string(counter++) + target.extension().string()))
                .string();
   m_slot = registerTemp(m_temp);
}

AtomicOutput::~AtomicOutput()
{
   if (!m_committed)
      discard();
   unregisterTemp(m_slot);
}

void AtomicOutput::commit()
{
   std::error_code ec;
   if (!fs::exists(m_temp, ec))
      throw Error("cannot finalise output '" + m_final + "': temporary file '" + m_temp + "' was not written");
   if (std::rename(m_temp.c_str(), m_final.c_str()) != 0)
      throw Error("cannot rename '" + m_temp + "' to '" + m_final + "': " + std::strerror(errno));
   m_committed = true;
   unregisterTemp(m_slot);
   m_slot = -1;
}

void AtomicOutput::discard()
{
   std::error_code ec;
   fs::remove(m_temp, ec);
}

void requireDistinctOutput(const std::string &output, const std::vector<std::string> &inputs, const std::string &option)
{
   if (output.empty())
      return;
   std::error_code ec;
   const bool outExists = fs::exists(output, ec);
   const fs::path outCanon = fs::weakly_canonical(fs::absolute(output, ec), ec);
   for (const std::string &in : inputs) {
      if (in.empty() || in.find("://") != std::string::npos)
         continue;
      bool same = false;
      std::error_code e2;
      if (outExists && fs::exists(in, e2))
         same = fs::equivalent(output, in, e2) && !e2;
      else
         same = fs::weakly_canonical(fs::absolute(in, e2), e2) == outCanon;
      if (same)
         throw UsageError(option + " '" + output + "' is the input '" + in +
                          "' (the same file): refusing to overwrite an input; choose another output path");
   }
}

std::size_t availableMemory()
{
   std::ifstream meminfo("/proc/meminfo");
   std::string key;
   unsigned long long kb = 0;
   std::string unit;
   while (meminfo >> key >> kb >> unit)
      if (key == "MemAvailable:")
         return std::size_t(kb) * 1024;
   return 0;
}

void requireMemory(double bytes, const std::string &what)
{
   const double avail = double(availableMemory());
   if (!std::isfinite(bytes) || (avail > 0. && bytes > 0.8 * avail))
      throw UsageError(what + " needs " + gib(bytes) + " of memory; " + gib(avail) +
                       " are available (limit: 80 % of it)");
}

} // namespace tpcml
