#include "Cli.h"

#include "tpcml/core/Guarded.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/Strings.h"
#include "tpcml/core/Version.h"

#include <sched.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <sstream>
#include <thread>

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

/// Help in the argparse layout the `tpcml` subcommands print: "usage: prog ...", lower-case headings.
std::shared_ptr<CLI::Formatter> formatter()
{
   auto f = std::make_shared<CLI::Formatter>();
   f->label("Usage", "usage");
   f->label("OPTIONS", "options");
   f->label("Positionals", "positional arguments");
   f->label("Options", "options");
   f->label("REQUIRED", "(required)");
   f->column_width(32);
   return f;
}
} // namespace

Cli::Cli(std::string prog, std::string description, const std::string &inputError, const std::string &notes)
    : m_prog(std::move(prog)), m_app(std::move(description), m_prog)
{
   m_app.option_defaults()->group("options");
   m_app.formatter(formatter());
   m_app.set_help_flag("-h,--help", "show this help and exit");
   m_app.set_version_flag("--version", m_prog + " (tpcml) " + tpcml::version(), "show the tpcml version and exit");
   m_app.footer("exit status: 0 ok, 1 " + inputError + ", 2 bad arguments\n" + notes);
   m_app.allow_extras(); // unknown arguments are reported below, with the nearest valid option
}

bool channelsFirst(const std::string &layout)
{
   if (layout != "nhwc" && layout != "nchw")
      throw tpcml::UsageError("--layout expects nhwc or nchw, got '" + layout + "'");
   return layout == "nchw";
}

int Cli::timed(const std::function<std::string()> &work) const
{
   const auto t0 = std::chrono::steady_clock::now();
   const std::string what = work();
   const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
   std::cerr << m_prog << ": " << what << " in " << s << " s\n";
   return 0;
}

void Cli::addInputs(std::vector<std::string> &into, const std::string &help, bool multiple, bool required)
{
   m_inputs = &into;
   m_multipleInputs = multiple;
   m_inputsRequired = required;
   auto *files =
       m_app.add_option("FILE", into, help + (required ? " (required)" : "") + (multiple ? "" : "; one file"));
   files->type_name("FILE");
   m_app.add_option("--input", m_inputAlias, kInputAliasHelp)->type_name("FILE");
}

/// The positional inputs and those of --input together, counted against what the executable takes.
void Cli::mergeInputs()
{
   if (!m_inputs)
      return;
   m_inputs->insert(m_inputs->end(), m_inputAlias.begin(), m_inputAlias.end());
   if (m_inputsRequired && m_inputs->empty())
      throw UsageError("missing the input FILE (positional, or --input FILE)");
   if (!m_multipleInputs && m_inputs->size() > 1)
      throw UsageError("expected one input FILE, got " + std::to_string(m_inputs->size()) + ": " +
                       tpcml::join(*m_inputs));
}

CLI::Option *Cli::addText(const std::string &names, std::string &into, const std::string &typeName,
                          const std::string &help, bool required)
{
   // the default in the help text as the `tpcml` subcommands (argparse) print it
   auto *opt = m_app.add_option(names, into, into.empty() ? help : help + " (default: " + into + ")");
   opt->type_name(typeName);
   if (required)
      opt->required();
   return opt;
}

void Cli::addOutput(std::string &into)
{
   addText("--output", into, "OUT.root", "output ROOT file (written atomically)", true);
}

void Cli::addThreads(std::string &into, const std::string &defaultValue)
{
   into = defaultValue;
   addText("--threads", into, "N", kThreadsHelp);
}

void Cli::addTree(std::string &into, const std::string &help, const std::string &defaultValue)
{
   into = defaultValue;
   addText("--tree", into, "NAME", help);
}

void Cli::addQuiet(bool &into)
{
   m_app.add_flag("-q,--quiet", into, kQuietHelp);
}

void Cli::addOutputContract(OutputContract &into)
{
   m_app.add_option("--format", into.format, std::string(kFormatHelp) + " (default: ttree)")
       ->type_name("ttree|rntuple")
       ->check(CLI::IsMember({"ttree", "rntuple"}));
   m_app.add_flag("--allow-detector-mismatch", into.allowDetectorMismatch, kMismatchHelp);
   addQuiet(into.quiet);
}

bool Cli::given(const std::string &name) const
{
   const auto *opt = m_app.get_option_no_throw("--" + name);
   return opt && opt->count() > 0;
}

int Cli::run(int argc, const char *const *argv, const std::function<int()> &body)
{
   m_argv.assign(argv, argv + argc);
   // CLI11 reads "--name=" as a missing value; it is an empty one ("--name" ""), refused or used by the
   // executable with its own message. CLI11 takes the arguments in reverse order.
   std::vector<std::string> args;
   for (int i = argc - 1; i >= 1; --i) {
      const std::string arg = argv[i];
      if (arg.size() > 3 && arg.rfind("--", 0) == 0 && arg.back() == '=' && arg.find('=') == arg.size() - 1) {
         args.emplace_back();
         args.push_back(arg.substr(0, arg.size() - 1));
      } else {
         args.push_back(arg);
      }
   }
   try {
      m_app.parse(args);
   } catch (const CLI::Success &e) { // --help, --version: printed on stdout, exit 0
      return m_app.exit(e);
   } catch (const CLI::ParseError &e) {
      std::cerr << m_prog << ": error: " << e.what() << "\n";
      return 2;
   }
   const auto extras = m_app.remaining();
   if (!extras.empty()) {
      const std::string &arg = extras.front();
      std::vector<std::string> names;
      for (const auto *opt : m_app.get_options())
         for (const auto &n : opt->get_lnames())
            names.push_back("--" + n);
      const std::string name = arg.substr(0, arg.find('='));
      if (arg.size() > 1 && arg[0] == '-')
         std::cerr << m_prog << ": error: unknown option '" << name << "'" << tpcml::didYouMean(name, names) << "\n";
      else
         std::cerr << m_prog << ": error: unexpected argument '" << arg << "' (see --help)\n";
      return 2;
   }
   return runGuarded(m_prog, [&] {
      mergeInputs();
      return body();
   });
}

int toInt(const std::string &option, const std::string &v, int min, int max)
{
   std::size_t pos = 0;
   long long x = 0;
   try {
      x = std::stoll(v, &pos);
   } catch (const std::exception &) {
      pos = 0;
   }
   if (v.empty() || pos != v.size())
      throw UsageError("option '--" + option + "' expects an integer, got '" + v + "'");
   if (x < min || x > max)
      throw UsageError("option '--" + option + "' must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                       "], got " + v);
   return static_cast<int>(x);
}

unsigned long long toCount(const std::string &option, const std::string &v, unsigned long long min,
                           unsigned long long max)
{
   const std::string range = "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
   const bool digits = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
   unsigned long long x = 0;
   if (digits) {
      errno = 0;
      x = std::strtoull(v.c_str(), nullptr, 10);
      if (errno == ERANGE)
         throw UsageError("option '--" + option + "' must be " + range + ", got " + v);
   } else {
      const double d = parseFinite(v);
      if (std::isnan(d) || d != std::floor(d) || d < 0. || d > 9007199254740992.)
         throw UsageError("option '--" + option + "' must be " + range + ", got '" + v + "'");
      x = static_cast<unsigned long long>(d);
   }
   if (x < min || x > max)
      throw UsageError("option '--" + option + "' must be " + range + ", got " + v);
   return x;
}

unsigned long long toSeed(const std::string &option, const std::string &v)
{
   errno = 0;
   const bool digits = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
   const unsigned long long x = digits ? std::strtoull(v.c_str(), nullptr, 10) : 0;
   if (!digits || errno == ERANGE)
      throw UsageError("option '--" + option + "' expects an integer in [0, 18446744073709551615], got '" + v + "'");
   return x;
}

double toNumber(const std::string &option, const std::string &v, double min, double max)
{
   const double d = parseFinite(v);
   if (std::isnan(d))
      throw UsageError("option '--" + option + "' expects a finite number, got '" + v + "'");
   if (d < min || d > max) {
      std::ostringstream os;
      os << "option '--" << option << "' must be in [" << min << ", " << max << "], got " << v;
      throw UsageError(os.str());
   }
   return d;
}

unsigned allCores()
{
   cpu_set_t set;
   CPU_ZERO(&set);
   if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
      return static_cast<unsigned>(CPU_COUNT(&set));
   return std::max(1u, std::thread::hardware_concurrency());
}

unsigned toThreads(const std::string &text)
{
   const int n = toInt("threads", text, 0, 1024);
   return n == 0 ? allCores() : static_cast<unsigned>(n);
}

std::pair<double, double> toWindow(const std::string &text)
{
   const auto comma = text.find(',');
   if (comma == std::string::npos)
      throw UsageError("--drift-window expects TMIN,TMAX in us (e.g. 18,310), got '" + text + "'");
   const auto number = [&text](const std::string &part) {
      const double v = parseFinite(part);
      if (std::isnan(v))
         throw UsageError("--drift-window expects two finite numbers TMIN,TMAX in us, got '" + text + "'");
      return v;
   };
   return {number(text.substr(0, comma)), number(text.substr(comma + 1))};
}

std::vector<std::string> splitCommas(const std::vector<std::string> &values)
{
   std::vector<std::string> out;
   for (const std::string &v : values) {
      std::stringstream ss(v);
      std::string item;
      while (std::getline(ss, item, ','))
         if (!item.empty())
            out.push_back(item);
   }
   return out;
}

} // namespace tpcml::apps
