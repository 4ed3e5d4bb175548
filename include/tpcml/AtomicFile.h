// tpcml -- never leave a half-written output file.
//
//   tpcml::AtomicOutput out("result.root");
//   df.Snapshot("events", out.tempPath());   // write under a temporary name
//   out.commit();                            // rename onto result.root
//
// If commit() is never reached (error, exception, early return) the destructor
// removes the temporary file; result.root is either absent, untouched, or complete.
// Include guard, not #pragma once: cling may reach this header through both the
// installed and the build-time include path, and must see one definition.
#ifndef TPCML_ATOMIC_FILE_H
#define TPCML_ATOMIC_FILE_H

#include <string>

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
   bool m_committed = false;
};

} // namespace tpcml

#endif // TPCML_ATOMIC_FILE_H
