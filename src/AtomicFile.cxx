#include "tpcml/AtomicFile.h"

#include "tpcml/Error.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace fs = std::filesystem;

namespace tpcml {

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
}

AtomicOutput::~AtomicOutput()
{
   if (!m_committed)
      discard();
}

void AtomicOutput::commit()
{
   std::error_code ec;
   if (!fs::exists(m_temp, ec))
      throw Error("cannot finalise output '" + m_final + "': temporary file '" + m_temp + "' was not written");
   if (std::rename(m_temp.c_str(), m_final.c_str()) != 0)
      throw Error("cannot rename '" + m_temp + "' to '" + m_final + "': " + std::strerror(errno));
   m_committed = true;
}

void AtomicOutput::discard()
{
   std::error_code ec;
   fs::remove(m_temp, ec);
}

} // namespace tpcml
