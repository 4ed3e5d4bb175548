// Test helper: a fresh temporary directory removed at the end of the test.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace tpcml::test {

class TempDir {
public:
   TempDir()
   {
      std::string tmpl = (std::filesystem::temp_directory_path() / "tpcml-test-XXXXXX").string();
      m_path = ::mkdtemp(tmpl.data());
   }
   ~TempDir()
   {
      std::error_code ec;
      std::filesystem::remove_all(m_path, ec);
   }
   std::string path(const std::string &name) const { return (std::filesystem::path(m_path) / name).string(); }
   std::string write(const std::string &name, const std::string &text) const
   {
      const std::string p = path(name);
      std::ofstream(p) << text;
      return p;
   }
   const std::string &dir() const { return m_path; }

private:
   std::string m_path;
};

} // namespace tpcml::test
