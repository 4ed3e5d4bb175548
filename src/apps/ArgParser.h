// tpcml batch executables -- a small, strict command-line parser.
//
// Conventions shared by every tpcml-* executable: --help and --version; a bad
// argument prints one line "prog: error: ..." (with the nearest valid option)
// and exits 2; an unusable input exits 1; success exits 0.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tpcml::apps {

class ArgParser {
public:
   ArgParser(std::string prog, std::string description);

   /// Option taking a value: --name VALUE or --name=VALUE. Repeatable options collect all values;
   /// with `multi`, one occurrence may also take several space-separated values (--input a b c).
   void addOption(const std::string &name, const std::string &metavar, const std::string &help,
                  const std::string &defaultValue = "", bool required = false, bool multi = false);
   /// Boolean flag: --name.
   void addFlag(const std::string &name, const std::string &help);
   void setEpilog(const std::string &epilog) { m_epilog = epilog; }

   /// Parses argv. Handles --help / --version itself (prints, returns false: caller exits 0).
   /// Throws UsageError on a bad argument.
   bool parse(int argc, const char *const *argv);

   bool has(const std::string &name) const;
   std::string get(const std::string &name) const;
   std::vector<std::string> getAll(const std::string &name) const;
   int getInt(const std::string &name, int min, int max) const;
   /// An integer in [min, max]: decimal digits, or a number in exponent notation that is an exact
   /// integer (1e6); refuses signs below min, fractions, NaN, overflow, with the range in the message.
   unsigned long long getCount(const std::string &name, unsigned long long min, unsigned long long max) const;
   /// A seed: decimal digits only, the full unsigned 64-bit range (never through a double: seeds
   /// above 2^53 stay distinct).
   unsigned long long getSeed(const std::string &name) const;
   /// A finite number in [min, max] (NaN and infinities refused).
   double getNumber(const std::string &name, double min, double max) const;
   bool flag(const std::string &name) const;
   std::string help() const;
   const std::string &prog() const { return m_prog; }
   /// The command line as given to parse() (for provenance).
   const std::vector<std::string> &argv() const { return m_argv; }

private:
   struct Spec {
      std::string name, metavar, help, defaultValue;
      bool isFlag = false, required = false, multi = false;
   };
   const Spec *find(const std::string &name) const;

   std::string m_prog, m_description, m_epilog;
   std::vector<Spec> m_specs;
   std::map<std::string, std::vector<std::string>> m_values;
   std::vector<std::string> m_argv;
};

/// The main of a batch executable: parses the command line (exit 0 after --help or --version; a bad
/// argument: "<prog>: error: ..." on stderr and exit 2), then runs body() and maps exceptions to the
/// exit-code convention above.
int runMain(ArgParser &parser, int argc, const char *const *argv, int (*body)(const ArgParser &));

} // namespace tpcml::apps
