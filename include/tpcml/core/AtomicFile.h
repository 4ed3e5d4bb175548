// tpcml -- never leave a half-written output file, never overwrite an input.
//
//   tpcml::requireDistinctOutput("result.root", {"events.root", "model.onnx"});
//   tpcml::AtomicOutput out("result.root");
//   df.Snapshot("events", out.tempPath());   // write under a temporary name
//   out.commit();                            // rename onto result.root
//
// If commit() is never reached (error, exception, early return) the destructor
// removes the temporary file; result.root is either absent, untouched, or complete.
// SIGTERM and SIGINT also remove the temporaries of every live AtomicOutput (then the
// process dies of the signal as it would have); after SIGKILL they stay beside the
// output as ".<stem>.tmp-<pid>-<n><extension>" (docs/doors.md).
// Include guard, not #pragma once: cling may reach this header through both the
// installed and the build-time include path, and must see one definition.
#ifndef TPCML_ATOMIC_FILE_H
#define TPCML_ATOMIC_FILE_H

#include <cstddef>
#include <string>
#include <vector>

namespace tpcml {

class AtomicOutput {
public:
   /// Checks that the target directory exists and is writable (UsageError otherwise).
   explicit AtomicOutput(const std::string &finalPath);
   ~AtomicOutput();
   AtomicOutput(const AtomicOutput &) = delete;
   AtomicOutput &operator=(const AtomicOutput &) = delete;

   const std::string &finalPath() const { return m_final; }
   /// Hidden temporary in the same directory (same file system: rename is atomic).
   const std::string &tempPath() const { return m_temp; }
   /// Rename the temporary onto the final path. Throws Error if it does not exist.
   void commit();
   /// Remove the temporary (also done by the destructor unless committed).
   void discard();
   bool committed() const { return m_committed; }

private:
   std::string m_final;
   std::string m_temp;
   int m_slot = -1; ///< entry in the table of temporaries removed on SIGTERM / SIGINT
   bool m_committed = false;
};

/// The one rule every door applies before any work: throws UsageError when `output` is the
/// same file as one of `inputs` -- the same path, or the same file through a symbolic link,
/// a hard link or another spelling ("./a.root", "dir/../a.root"). Compared with
/// std::filesystem::equivalent when both exist, else by canonical path. `option` names the
/// output in the message (e.g. "--output"). Empty and remote ("://") inputs are skipped.
void requireDistinctOutput(const std::string &output, const std::vector<std::string> &inputs,
                           const std::string &option = "--output");

/// Bytes of memory the system can still give (MemAvailable of /proc/meminfo; 0 when unknown).
std::size_t availableMemory();

/// Throws UsageError "<what> needs N GiB of memory; M GiB available" when `bytes` exceeds
/// the available memory (less a margin), before anything is allocated.
void requireMemory(double bytes, const std::string &what);

} // namespace tpcml

#endif // TPCML_ATOMIC_FILE_H
