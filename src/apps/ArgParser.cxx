#include "ArgParser.h"

#include "tpcml/core/Guarded.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/Strings.h"
#include "tpcml/core/Version.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <sstream>

namespace tpcml::apps {

namespace {
/// The whole of `v` as a finite number, or NaN when it is not one (empty, trailing text, inf, nan).
double parseFinite(const std::string &v)
{
   double d = 0.;
   std::size_t pos = 0;
   try {
      d = std::stod(v, &pos);
   } catch (const std::exception &) {
      pos = 0;
   }
   return v.empty() || pos != v.size() || !std::isfinite(d) ? std::nan("") : d;
}
} // namespace

ArgParser::ArgParser(std::string prog, std::string description)
    : m_prog(std::move(prog)), m_description(std::move(description))
{
   addFlag("help", "show this help and exit");
   addFlag("version", "show the tpcml version and exit");
}

void ArgParser::addOption(const std::string &name, const std::string &metavar, const std::string &help,
                          const std::string &defaultValue, bool required, bool multi)
{
   m_specs.push_back({name, metavar, help, defaultValue, /*isFlag=*/false, required, multi});
}

void ArgParser::addFlag(const std::string &name, const std::string &help)
{
   m_specs.push_back({name, /*metavar=*/"", help, /*defaultValue=*/"", /*isFlag=*/true});
}

const ArgParser::Spec *ArgParser::find(const std::string &name) const
{
   for (const auto &s : m_specs)
      if (s.name == name)
         return &s;
   return nullptr;
}

bool ArgParser::parse(int argc, const char *const *argv)
{
   m_argv.assign(argv, argv + argc);
   std::vector<std::string> names;
   for (const auto &s : m_specs)
      names.push_back("--" + s.name);
   for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg.rfind("--", 0) != 0 || arg.size() < 3)
         throw UsageError("unexpected argument '" + arg + "' (options start with --; see --help)");
      std::string name = arg.substr(2), value;
      bool inlineValue = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
         value = name.substr(eq + 1);
         name = name.substr(0, eq);
         inlineValue = true;
      }
      const Spec *spec = find(name);
      if (!spec)
         throw UsageError("unknown option '--" + name + "'" + didYouMean("--" + name, names));
      if (spec->isFlag) {
         if (inlineValue)
            throw UsageError("option '--" + name + "' takes no value");
         if (name == "help") {
            std::cout << help();
            return false;
         }
         if (name == "version") {
            std::cout << m_prog << " (tpcml) " << tpcml::version() << "\n";
            return false;
         }
         m_values[name].push_back("1");
         continue;
      }
      if (!inlineValue) {
         if (i + 1 >= argc || std::string(argv[i + 1]).rfind("--", 0) == 0)
            throw UsageError("option '--" + name + "' expects a value " + spec->metavar);
         value = argv[++i];
      }
      m_values[name].push_back(value);
      if (spec->multi && !inlineValue)
         while (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0)
            m_values[name].push_back(argv[++i]);
   }
   for (const auto &s : m_specs)
      if (s.required && !m_values.count(s.name))
         throw UsageError("missing required option --" + s.name + " " + s.metavar);
   return true;
}

bool ArgParser::has(const std::string &name) const
{
   return m_values.count(name) > 0;
}

std::string ArgParser::get(const std::string &name) const
{
   auto it = m_values.find(name);
   if (it != m_values.end())
      return it->second.back();
   const Spec *s = find(name);
   return s ? s->defaultValue : std::string{};
}

std::vector<std::string> ArgParser::getAll(const std::string &name) const
{
   auto it = m_values.find(name);
   return it == m_values.end() ? std::vector<std::string>{} : it->second;
}

int ArgParser::getInt(const std::string &name, int min, int max) const
{
   const std::string v = get(name);
   std::size_t pos = 0;
   long long x = 0;
   try {
      x = std::stoll(v, &pos);
   } catch (const std::exception &) {
      pos = 0;
   }
   if (v.empty() || pos != v.size())
      throw UsageError("option '--" + name + "' expects an integer, got '" + v + "'");
   if (x < min || x > max)
      throw UsageError("option '--" + name + "' must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                       "], got " + v);
   return static_cast<int>(x);
}

unsigned long long ArgParser::getCount(const std::string &name, unsigned long long min, unsigned long long max) const
{
   const std::string v = get(name);
   const std::string range = "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
   const bool digits = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
   unsigned long long x = 0;
   if (digits) {
      errno = 0;
      x = std::strtoull(v.c_str(), nullptr, 10);
      if (errno == ERANGE)
         throw UsageError("option '--" + name + "' must be " + range + ", got " + v);
   } else {
      const double d = parseFinite(v);
      if (std::isnan(d) || d != std::floor(d) || d < 0. || d > 9007199254740992.)
         throw UsageError("option '--" + name + "' must be " + range + ", got '" + v + "'");
      x = static_cast<unsigned long long>(d);
   }
   if (x < min || x > max)
      throw UsageError("option '--" + name + "' must be " + range + ", got " + v);
   return x;
}

unsigned long long ArgParser::getSeed(const std::string &name) const
{
   const std::string v = get(name);
   errno = 0;
   const bool digits = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
   const unsigned long long x = digits ? std::strtoull(v.c_str(), nullptr, 10) : 0;
   if (!digits || errno == ERANGE)
      throw UsageError("option '--" + name + "' expects an integer in [0, 18446744073709551615], got '" + v + "'");
   return x;
}

double ArgParser::getNumber(const std::string &name, double min, double max) const
{
   const std::string v = get(name);
   const double d = parseFinite(v);
   if (std::isnan(d))
      throw UsageError("option '--" + name + "' expects a finite number, got '" + v + "'");
   if (d < min || d > max) {
      std::ostringstream os;
      os << "option '--" << name << "' must be in [" << min << ", " << max << "], got " << v;
      throw UsageError(os.str());
   }
   return d;
}

bool ArgParser::flag(const std::string &name) const
{
   return m_values.count(name) > 0;
}

std::string ArgParser::help() const
{
   std::ostringstream os;
   os << "usage: " << m_prog;
   for (const auto &s : m_specs)
      if (s.required)
         os << " --" << s.name << " " << s.metavar;
   os << " [options]\n\n" << m_description << "\n\noptions:\n";
   for (const auto &s : m_specs) {
      std::string left = "  --" + s.name + (s.isFlag ? "" : " " + s.metavar + (s.multi ? " [...]" : ""));
      os << left;
      os << std::string(left.size() < 30 ? 30 - left.size() : 1, ' ') << s.help;
      if (!s.defaultValue.empty())
         os << " (default: " << s.defaultValue << ")";
      if (s.required)
         os << " (required)";
      os << "\n";
   }
   if (!m_epilog.empty())
      os << "\n" << m_epilog << "\n";
   return os.str();
}

int runMain(ArgParser &parser, int argc, const char *const *argv, int (*body)(const ArgParser &))
{
   try {
      if (!parser.parse(argc, argv))
         return 0;
   } catch (const std::exception &e) {
      std::cerr << parser.prog() << ": error: " << e.what() << "\n";
      return 2;
   }
   return runGuarded(parser.prog(), [&] { return body(parser); });
}

} // namespace tpcml::apps
