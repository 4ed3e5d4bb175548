// tpcml batch executables -- the command-line convention shared by every tpcml-* executable (CLI11).
//
// One convention for the executables and the `tpcml` subcommands (docs/cli.md):
//   FILE ...            inputs are positional; --input FILE is kept as an alias (scripts written before)
//   -n, --events N      the number of events to make or read
//   --tree NAME         the tree read (default: events)
//   --threads N         threads; 0 = all cores (the CPUs this process may use)
//   --drift-window A,B  a drift-time window in us
//   -q, --quiet         no progress bars or lines
//   -h, --help / --version
// A bad argument prints one line "prog: error: ..." (with the nearest valid option) and exits 2; an
// unusable input exits 1; success exits 0. Values are kept as text by CLI11 and converted here, so every
// message names the option, the value and what was expected.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace tpcml::apps {

/// The help texts of the shared options: the same words in every executable and `tpcml` subcommand
/// (tests/python/test_cli_convention.py compares them).
inline constexpr const char *kThreadsHelp = "threads; 0 = all cores";
inline constexpr const char *kQuietHelp = "no progress bars or lines";
inline constexpr const char *kInputAliasHelp = "same as the positional FILE (kept for older scripts)";
inline constexpr const char *kFormatHelp = "output tree format: ttree (a TTree, the default) or rntuple (an RNTuple)";
inline constexpr const char *kMismatchHelp = "read inputs tagged (tpcml_detector) with another detector than the job's";

/// The file contract's options of an executable that writes a ROOT file (docs/event-model.md §1, §4).
struct OutputContract {
   std::string format = "ttree";       ///< --format ttree|rntuple
   bool allowDetectorMismatch = false; ///< --allow-detector-mismatch
   bool quiet = false;                 ///< -q/--quiet: no progress on stderr
};

/// The options of the file jobs of the image executables (tpcml::ImageJobBase): inputs, tree, output, threads and the
/// output contract.
struct FileJobOptions {
   std::vector<std::string> inputs;
   std::string tree, output, threads;
   OutputContract contract;
};

/// An executable's command line: CLI11 with tpcml's conventions (-h/--help, --version, one-line errors).
unsigned toThreads(const std::string &text);

class Cli {
public:
   /// `inputError`: what exit status 1 means for this executable; `notes`: the rest of the help's epilog.
   Cli(std::string prog, std::string description, const std::string &inputError, const std::string &notes);

   CLI::App &app() { return m_app; }
   const std::string &prog() const { return m_prog; }

   /// Input files: positional FILE ... (several when `multiple`), and the alias --input (merged after parsing).
   void addInputs(std::vector<std::string> &into, const std::string &help, bool multiple, bool required = true);
   /// A value kept as text, converted by the caller (so errors name the option and value).
   CLI::Option *addText(const std::string &names, std::string &into, const std::string &typeName,
                        const std::string &help, bool required = false);
   /// --output OUT.root (required): the ROOT file written, under a temporary name renamed when complete.
   void addOutput(std::string &into);
   /// --threads N (0 = all cores).
   void addThreads(std::string &into, const std::string &defaultValue = "1");
   /// --detector NAME|FILE (a registry entry or a detector TOML file).
   void addDetector(std::string &into, const std::string &help) { addText("--detector", into, "NAME|FILE", help); }
   /// --layout nhwc|nchw of the image executables (read with channelsFirst).
   void addLayout(std::string &into) { addText("--layout", into, "nhwc|nchw", "image layout"); }
   /// --tree NAME.
   void addTree(std::string &into, const std::string &help, const std::string &defaultValue = "events");
   /// -q, --quiet.
   void addQuiet(bool &into);
   /// --format, --allow-detector-mismatch and -q/--quiet.
   void addOutputContract(OutputContract &into);
   /// Copies the contract's options and the command line (for tpcml_provenance) into a writing job.
   template <class Job> void applyOutputContract(Job &job, const OutputContract &c) const
   {
      job.format = c.format;
      job.allowDetectorMismatch = c.allowDetectorMismatch;
      job.progress = !c.quiet;
      job.commandLine = m_argv;
   }

   /// The inputs (positional, several), --output and --tree of a file job; --threads and the output contract are
   /// added by the caller where its help should list them.
   void addFileJob(FileJobOptions &into, const std::string &inputsHelp, const std::string &treeHelp)
   {
      addInputs(into.inputs, inputsHelp, /*multiple=*/true);
      addOutput(into.output);
      addTree(into.tree, treeHelp);
   }
   /// What the file jobs of the image executables (tpcml::ImageJobBase) fill alike: inputs, tree, output, threads
   /// (--threads), the output contract and a log whose lines start with the program name.
   template <class Job> void applyFileJob(Job &job, const FileJobOptions &o) const
   {
      job.inputs = o.inputs;
      job.tree = o.tree;
      job.output = o.output;
      job.threads = toThreads(o.threads);
      applyOutputContract(job, o.contract);
      job.log = [prog = m_prog](const std::string &m) { std::cerr << prog << ": " << m << "\n"; };
   }

   /// Runs work() and prints "<prog>: <what it returns> in S s" on stderr; returns 0 (an executable's body).
   int timed(const std::function<std::string()> &work) const;

   /// Whether the option (long name without dashes) was given.
   bool given(const std::string &name) const;
   /// The command line as given (for provenance).
   const std::vector<std::string> &argv() const { return m_argv; }

   /// Parses, runs body() and maps exceptions to the exit codes above.
   int run(int argc, const char *const *argv, const std::function<int()> &body);

private:
   void mergeInputs();

   std::string m_prog;
   CLI::App m_app;
   std::vector<std::string> m_argv;
   std::vector<std::string> *m_inputs = nullptr; ///< where addInputs stores the files
   std::vector<std::string> m_inputAlias;        ///< the values of --input
   bool m_multipleInputs = true, m_inputsRequired = true;
};

/// What an executable's help says of it: its name, description, what exit status 1 means, and the epilog.
struct About {
   std::string prog, description, inputError, notes;
};

/// An executable's main: the command line described by `describe` (options into an Options), parsed, then `body`.
template <class Options>
int runApp(int argc, const char *const *argv, const About &about, void (*describe)(Cli &, Options &),
           int (*body)(const Cli &, const Options &))
{
   Cli cli(about.prog, about.description, about.inputError, about.notes);
   Options o;
   describe(cli, o);
   return cli.run(argc, argv, [&] { return body(cli, o); });
}

/// Whether a --layout value asks for channels first (nchw) rather than last (nhwc); anything else is refused.
bool channelsFirst(const std::string &layout);
/// The value text of `option` as an integer in [min, max] (decimal digits only).
int toInt(const std::string &option, const std::string &text, int min, int max);
/// An integer in [min, max]: decimal digits, or a number in exponent notation that is an exact integer
/// (1e6); refuses signs below min, fractions, NaN, overflow, with the range in the message.
unsigned long long toCount(const std::string &option, const std::string &text, unsigned long long min,
                           unsigned long long max);
/// A seed: decimal digits only, the full unsigned 64-bit range (never through a double).
unsigned long long toSeed(const std::string &option, const std::string &text);
/// A finite number in [min, max] (NaN and infinities refused).
double toNumber(const std::string &option, const std::string &text, double min, double max);
/// --threads: an integer in [0, 1024]; 0 becomes the number of cores this process may use.
unsigned toThreads(const std::string &text);
/// --drift-window A,B: two finite numbers in us.
std::pair<double, double> toWindow(const std::string &text);
/// A comma-separated list (several occurrences joined), empty items dropped.
std::vector<std::string> splitCommas(const std::vector<std::string> &values);
/// The cores this process may use (sched affinity; at least 1).
unsigned allCores();

} // namespace tpcml::apps
