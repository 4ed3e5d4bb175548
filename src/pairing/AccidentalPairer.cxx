#include "tpcml/pairing/AccidentalPairer.h"

#include "core/Parallel.h"

#include "core/Random.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/RootIO.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>

namespace tpcml {

namespace {

enum Purpose : std::uint64_t { kPairDraws = 101, kPermS1 = 102, kPermS2 = 103 };

template <class T> void requireFiniteColumn(const std::vector<T> &v, const char *population, const char *branch)
{
   for (std::size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(static_cast<double>(v[i])))
         throw UsageError(std::string("isolated ") + population + " branch '" + branch + "' entry " +
                          std::to_string(i) + " is " + std::to_string(static_cast<double>(v[i])) +
                          "; expected a finite value");
}

template <class T>
void requireLength(const std::vector<T> &v, std::size_t n, const char *population, const char *branch)
{
   if (v.size() != n)
      throw UsageError(std::string("isolated ") + population + " column '" + branch + "' has " +
                       std::to_string(v.size()) + " entries, expected " + std::to_string(n));
}

/// Reads the branches of a tree (TTree or RNTuple) as float / int / Long64_t columns through
/// tpcml::defineAs (compiled conversions; any other type is an InputError naming the column).
class ColumnReader {
public:
   ColumnReader(const std::string &file, const std::string &tree, const std::vector<std::string> &required)
       : m_where("tree '" + tree + "' in '" + file + "'")
   {
      requireColumns(file, tree, required);
      m_df = std::make_unique<ROOT::RDataFrame>(tree, file);
      m_node = std::make_unique<ROOT::RDF::RNode>(*m_df);
      for (const auto &c : m_df->GetColumnNames())
         m_have.push_back(c);
   }
   bool has(const std::string &c) const { return std::find(m_have.begin(), m_have.end(), c) != m_have.end(); }
   template <class T> ROOT::RDF::RResultPtr<std::vector<T>> take(const std::string &branch)
   {
      static_assert(std::is_same_v<T, float> || std::is_same_v<T, int> || std::is_same_v<T, Long64_t>);
      const ColumnKind kind = std::is_same_v<T, float> ? ColumnKind::kReal
                              : std::is_same_v<T, int> ? ColumnKind::kInt32
                                                       : ColumnKind::kInt64;
      return m_node->Take<T>(defineAs(*m_node, branch, kind, m_where));
   }

private:
   std::string m_where;
   std::unique_ptr<ROOT::RDataFrame> m_df;
   std::unique_ptr<ROOT::RDF::RNode> m_node;
   std::vector<std::string> m_have;
};

std::vector<UInt_t> toRun(const std::vector<Long64_t> &v)
{
   return std::vector<UInt_t>(v.begin(), v.end());
}

/// The table's schema columns, and its id and run columns (`kIdBranch` / run when present, else the
/// entry number / 0), booked together: one event loop reads them all.
template <class Table> Table readTable(const std::string &file, const std::string &tree)
{
   ColumnReader r(file, tree, Table::requiredBranches());
   Table t;
   ROOT::RDF::RResultPtr<std::vector<Long64_t>> id, run;
   if (r.has(Table::kIdBranch))
      id = r.take<Long64_t>(Table::kIdBranch);
   if (r.has("run"))
      run = r.take<Long64_t>("run");
   std::vector<std::function<void()>> fill;
   t.forEachColumn([&](const char *name, auto &column) {
      using T = typename std::decay_t<decltype(column)>::value_type;
      auto values = r.take<T>(name);
      fill.push_back([values, &column]() mutable { column = *values; });
   });
   for (auto &f : fill)
      f();
   const std::size_t n = t.size();
   if (id)
      t.id = *id;
   else
      for (std::size_t i = 0; i < n; ++i)
         t.id.push_back(static_cast<Long64_t>(i));
   t.run = run ? toRun(*run) : std::vector<UInt_t>(n, 0u);
   return t;
}

} // namespace

IsolatedS1Table IsolatedS1Table::fromTree(const std::string &file, const std::string &tree)
{
   return readTable<IsolatedS1Table>(file, tree);
}

IsolatedS2Table IsolatedS2Table::fromTree(const std::string &file, const std::string &tree)
{
   return readTable<IsolatedS2Table>(file, tree);
}

void PairedColumns::resize(std::size_t n, float w)
{
#define TPCML_SCHEMA_RESIZE(col, T, leaf, fromS1, fromS2, perPair, feature, value)                                     \
   TPCML_SCHEMA_IF(perPair)(col.resize(n);)                                                                            \
       TPCML_SCHEMA_UNLESS(perPair)(col.assign(n, static_cast<EventStorage<T>>(value));)
   TPCML_EVENT_COLUMNS(TPCML_SCHEMA_RESIZE)
#undef TPCML_SCHEMA_RESIZE
   weight.assign(n, w);
}

double accidentalCount(double r1, double r2, double windowUs, double liveTimeS, double eff)
{
   const std::pair<const char *, double> in[] = {{"isolated S1 rate (Hz)", r1},
                                                 {"isolated S2 rate (Hz)", r2},
                                                 {"drift window (us)", windowUs},
                                                 {"live time (s)", liveTimeS},
                                                 {"efficiency", eff}};
   for (const auto &[name, v] : in)
      if (!std::isfinite(v) || v < 0.)
         throw UsageError(std::string("accidental count: ") + name + " must be finite and >= 0, got " +
                          std::to_string(v));
   if (eff > 1.)
      throw UsageError("accidental count: efficiency must be <= 1, got " + std::to_string(eff));
   return r1 * r2 * (windowUs * 1e-6) * liveTimeS * eff;
}

AccidentalPairer::AccidentalPairer(const IsolatedS1Table &s1, const IsolatedS2Table &s2,
                                   const PositionCorrections &corrections, const Options &opt)
    : m_corr(corrections), m_opt(opt)
{
   const std::size_t n1 = s1.size(), n2 = s2.size();
   if (n1 == 0)
      throw UsageError("the isolated S1 population is empty: no S1 to pair (check the s1 tree and its selection)");
   if (n2 == 0)
      throw UsageError("the isolated S2 population is empty: no S2 to pair (check the s2 tree and its selection)");
   if (!std::isfinite(opt.driftTimeMin) || !std::isfinite(opt.driftTimeMax) || opt.driftTimeMin < 0. ||
       !(opt.driftTimeMax > opt.driftTimeMin))
      throw UsageError("drift window [" + std::to_string(opt.driftTimeMin) + ", " + std::to_string(opt.driftTimeMax) +
                       "] us is empty or negative: expected 0 <= t_min < t_max (width " +
                       std::to_string(opt.driftTimeMax - opt.driftTimeMin) + " us)");
   if (!std::isfinite(opt.weight) || opt.weight < 0.f)
      throw UsageError("pair weight must be finite and >= 0, got " + std::to_string(opt.weight));
   // every schema column of each population: one length, finite values
#define TPCML_SCHEMA_LENGTH(col, T, leaf, fromS1, fromS2, perPair, feature, value)                                     \
   TPCML_SCHEMA_IF(fromS1)(requireLength(s1.col, n1, "S1", #col);)                                                     \
       TPCML_SCHEMA_IF(fromS2)(requireLength(s2.col, n2, "S2", #col);)
#define TPCML_SCHEMA_FINITE(col, T, leaf, fromS1, fromS2, perPair, feature, value)                                     \
   TPCML_SCHEMA_IF(fromS1)(requireFiniteColumn(s1.col, "S1", #col);)                                                   \
       TPCML_SCHEMA_IF(fromS2)(requireFiniteColumn(s2.col, "S2", #col);)
   TPCML_EVENT_COLUMNS(TPCML_SCHEMA_LENGTH)
   requireLength(s1.id, n1, "S1", "s1_id");
   requireLength(s1.run, n1, "S1", "run");
   requireLength(s2.id, n2, "S2", "s2_id");
   requireLength(s2.run, n2, "S2", "run");
   TPCML_EVENT_COLUMNS(TPCML_SCHEMA_FINITE)
#undef TPCML_SCHEMA_LENGTH
#undef TPCML_SCHEMA_FINITE

   m_s1.resize(n1);
   m_s2.resize(n2);
#define TPCML_SCHEMA_ROW(col, T, leaf, fromS1, fromS2, perPair, feature, value)                                        \
   TPCML_SCHEMA_IF(fromS1)(for (std::size_t i = 0; i < n1; ++i) m_s1[i].col = s1.col[i];)                              \
       TPCML_SCHEMA_IF(fromS2)(for (std::size_t i = 0; i < n2; ++i) m_s2[i].col = s2.col[i];)
   TPCML_EVENT_COLUMNS(TPCML_SCHEMA_ROW)
#undef TPCML_SCHEMA_ROW
   for (std::size_t i = 0; i < n1; ++i) {
      m_s1[i].run = s1.run[i];
      m_s1[i].id = s1.id[i];
   }
   for (std::size_t i = 0; i < n2; ++i) {
      m_s2[i].u = m_corr.s2Relative(s2.x[i], s2.y[i]);
      m_s2[i].s1Column = m_corr.s1Column(s2.x[i], s2.y[i]);
      m_s2[i].run = s2.run[i];
      m_s2[i].id = s2.id[i];
   }
   m_key = detail::streamKey(opt.seed, kPairDraws);
   if (!opt.withReplacement) {
      auto permutation = [&](std::size_t n, std::uint64_t purpose) {
         std::vector<std::uint32_t> p(n);
         for (std::size_t i = 0; i < n; ++i)
            p[i] = static_cast<std::uint32_t>(i);
         detail::Rng rng(opt.seed, purpose);
         for (std::size_t i = n; i > 1; --i)
            std::swap(p[i - 1], p[rng.index(i)]);
         return p;
      };
      m_perm1 = permutation(n1, kPermS1);
      m_perm2 = permutation(n2, kPermS2);
   }
}

void AccidentalPairer::setNRMedian(const NRMedianCurve &curve)
{
   if (curve.empty())
      throw UsageError("setNRMedian: the NR median curve is empty");
   m_median = curve;
   m_hasMedian = true;
}

void AccidentalPairer::setDriftTimeHistogram(const std::vector<double> &edges, const std::vector<double> &contents)
{
   if (edges.size() != contents.size() + 1 || contents.empty())
      throw UsageError("drift-time histogram: expected " + std::to_string(contents.size() + 1) + " bin edges for " +
                       std::to_string(contents.size()) + " bins, got " + std::to_string(edges.size()));
   double total = 0.;
   for (std::size_t i = 0; i < contents.size(); ++i) {
      if (!std::isfinite(contents[i]) || contents[i] < 0.)
         throw UsageError("drift-time histogram: bin " + std::to_string(i) + " content " + std::to_string(contents[i]) +
                          " must be finite and >= 0");
      if (!(edges[i + 1] > edges[i]) || edges[i] < 0.)
         throw UsageError("drift-time histogram: edges must be >= 0 and increasing (edge " + std::to_string(i) + ")");
      total += contents[i];
   }
   if (!(total > 0.))
      throw UsageError("drift-time histogram: all bins are empty");
   m_histEdges = edges;
   m_histCdf.assign(1, 0.);
   double s = 0.;
   for (double c : contents)
      m_histCdf.push_back((s += c) / total);
}

ULong64_t AccidentalPairer::maxPairs() const
{
   return m_opt.withReplacement ? std::numeric_limits<ULong64_t>::max()
                                : static_cast<ULong64_t>(std::min(m_s1.size(), m_s2.size()));
}

void AccidentalPairer::checkIndex(ULong64_t first, ULong64_t n) const
{
   if (n > std::numeric_limits<ULong64_t>::max() - first)
      throw UsageError("pair indices " + std::to_string(first) + " + " + std::to_string(n) +
                       " overflow the 64-bit event number");
   const ULong64_t last = first + n;
   if (!m_opt.withReplacement && last > maxPairs())
      throw UsageError("pairing without replacement can make at most min(N_S1, N_S2) = " + std::to_string(maxPairs()) +
                       " pairs (" + std::to_string(m_s1.size()) + " S1, " + std::to_string(m_s2.size()) +
                       " S2); asked for " + std::to_string(last));
}

std::size_t AccidentalPairer::drawIndex(ULong64_t i, std::uint32_t stream, std::size_t n,
                                        const std::vector<std::uint32_t> &permutation) const
{
   if (m_opt.withReplacement)
      return static_cast<std::size_t>(detail::toIndex(detail::counterBits(m_key, i, stream), n));
   if (i >= permutation.size())
      checkIndex(i, 1);
   return permutation[i];
}

inline void AccidentalPairer::fillInline(ULong64_t i, std::size_t a, std::size_t b, PairedEvent &e) const
{
   const double u = detail::counterUniform(m_key, i, 2);
   double t;
   if (m_histEdges.empty()) {
      t = m_opt.driftTimeMin + u * (m_opt.driftTimeMax - m_opt.driftTimeMin);
   } else {
      const std::size_t k = std::min<std::size_t>(
          static_cast<std::size_t>(std::upper_bound(m_histCdf.begin(), m_histCdf.end(), u) - m_histCdf.begin()) - 1,
          m_histEdges.size() - 2);
      const double width = m_histCdf[k + 1] - m_histCdf[k];
      const double f = width > 0. ? (u - m_histCdf[k]) / width : 0.;
      t = m_histEdges[k] + f * (m_histEdges[k + 1] - m_histEdges[k]);
   }
   const S1Row &s1 = m_s1[a];
   const S2Row &s2 = m_s2[b];
   const float tf = static_cast<float>(t);
   const float z = m_corr.depth(tf); // the corrections exactly as PositionCorrections::apply

   e.run = s2.run;
   e.event = i;
   e.s1_id = s1.id;
   e.s2_id = s2.id;
   // every other feature is the signal's own (the schema's S1 and S2 columns)
#define TPCML_SCHEMA_GATHER(col, T, leaf, fromS1, fromS2, perPair, feature, value)                                     \
   TPCML_SCHEMA_IF(fromS1)(e.col = s1.col;) TPCML_SCHEMA_IF(fromS2)(e.col = s2.col;)
   TPCML_EVENT_COLUMNS(TPCML_SCHEMA_GATHER)
#undef TPCML_SCHEMA_GATHER
   e.drift_time = tf;
   e.z = z;
   e.qS1c = m_corr.qS1c(s1.qS1, s2.s1Column, z);
   e.qS2c = m_corr.qS2c(s2.qS2, tf, s2.u); // the S2 map at the S2's (x, y), evaluated once per row
   e.below_nr_median = m_hasMedian && m_median.below(e.qS1c, e.qS2c);
}

void AccidentalPairer::fillFrom(ULong64_t i, std::size_t a, std::size_t b, PairedEvent &e) const
{
   fillInline(i, a, b, e);
}

PairedColumns AccidentalPairer::pair(ULong64_t first, std::size_t n, unsigned threads) const
{
   PairedColumns out;
   pairInto(out, first, n, threads);
   return out;
}

void AccidentalPairer::writeEvents(TreeFileWriter &writer, ULong64_t n, unsigned threads, const std::string &tree,
                                   const std::function<void(ULong64_t)> &written) const
{
   constexpr ULong64_t kChunk = 1ULL << 19;
   PairedColumns cols;
   for (ULong64_t first = 0; first < n; first += kChunk) {
      pairInto(cols, first, static_cast<std::size_t>(std::min(kChunk, n - first)), threads);
      writer.append(tree, cols.views());
      if (written)
         written(cols.size());
   }
}

void AccidentalPairer::pairInto(PairedColumns &out, ULong64_t first, std::size_t n, unsigned threads) const
{
   checkIndex(first, n);
   out.resize(n, m_opt.weight);
   detail::parallelChunks(n, threads, [&](std::size_t b, std::size_t e) {
      // The signal tables exceed the L2 cache for real populations (50k x 32 B each), and the
      // pairs hit them at random: compute the indices kAhead pairs early and prefetch the rows.
      constexpr std::size_t kAhead = 16;
      std::size_t ring1[kAhead], ring2[kAhead];
      // the index draws of drawIndex, inline (with replacement: one hash each)
      const bool repl = m_opt.withReplacement;
      const std::uint64_t n1 = m_s1.size(), n2 = m_s2.size();
      auto index1 = [&](ULong64_t i) {
         return repl ? static_cast<std::size_t>(detail::toIndex(detail::counterBits(m_key, i, 0), n1)) : s1Index(i);
      };
      auto index2 = [&](ULong64_t i) {
         return repl ? static_cast<std::size_t>(detail::toIndex(detail::counterBits(m_key, i, 1), n2)) : s2Index(i);
      };
      const std::size_t warm = std::min(kAhead, e - b);
      for (std::size_t k = 0; k < warm; ++k) {
         ring1[k] = index1(first + b + k);
         ring2[k] = index2(first + b + k);
      }
      PairedEvent ev;
      std::size_t slot = 0;
      for (std::size_t k = b; k < e; ++k) {
         const std::size_t a1 = ring1[slot], a2 = ring2[slot];
         if (k + kAhead < e) {
            ring1[slot] = index1(first + k + kAhead);
            ring2[slot] = index2(first + k + kAhead);
            __builtin_prefetch(&m_s1[ring1[slot]]);
            __builtin_prefetch(&m_s2[ring2[slot]]);
            __builtin_prefetch(reinterpret_cast<const char *>(&m_s2[ring2[slot]]) + sizeof(S2Row) - 1);
         }
         slot = slot + 1 == kAhead ? 0 : slot + 1;
         fillInline(first + k, a1, a2, ev);
         out.set(k, ev);
      }
   });
}

namespace {
template <class T> ColumnView view(const char *name, char type, const std::vector<T> &v)
{
   return {name, type, v.data(), v.size()};
}
} // namespace

IsolatedRates isolatedRates(const std::string &file, std::size_t nS1, std::size_t nS2, double liveTimeS,
                            double efficiency)
{
   IsolatedRates r;
   const bool user = liveTimeS > 0.;
   r.liveTimeS = user ? liveTimeS : readParameter(file, "tpcml_livetime", -1.);
   r.efficiency = efficiency >= 0. ? efficiency : readParameter(file, "tpcml_data_quality_efficiency", 1.);
   if (r.liveTimeS <= 0.)
      return r;
   const double stored1 = user ? -1. : readParameter(file, "tpcml_isolated_s1_rate", -1.);
   const double stored2 = user ? -1. : readParameter(file, "tpcml_isolated_s2_rate", -1.);
   r.s1Hz = stored1 >= 0. ? stored1 : static_cast<double>(nS1) / r.liveTimeS;
   r.s2Hz = stored2 >= 0. ? stored2 : static_cast<double>(nS2) / r.liveTimeS;
   return r;
}

std::vector<ColumnView> PairedColumns::views() const
{
   static_assert(sizeof(int) == 4 && sizeof(UInt_t) == 4 && sizeof(Long64_t) == 8);
   return {
#define TPCML_SCHEMA_VIEW(col, T, leaf, fromS1, fromS2, perPair, feature, value) view(#col, leaf, col),
       TPCML_EVENT_COLUMNS(TPCML_SCHEMA_VIEW)
#undef TPCML_SCHEMA_VIEW
   };
}

std::vector<std::string> AccidentalPairer::columnNames()
{
   return eventColumnNames();
}

ROOT::RDF::RNode AccidentalPairer::dataFrame(ULong64_t n, ULong64_t first) const
{
   checkIndex(first, n);
   const float w = m_opt.weight;
   ROOT::RDF::RNode df = ROOT::RDataFrame(n).Define(
       "tpcml_pair", [this, first](ULong64_t entry) { return (*this)(first + entry); }, {"rdfentry_"});
   using P = const PairedEvent &;
   // per-pair columns from the kernel's event, constant columns as constants
#define TPCML_SCHEMA_DEFINE(col, T, leaf, fromS1, fromS2, perPair, feature, value)                                     \
   TPCML_SCHEMA_IF(perPair)(df = df.Define(#col, [](P p) { return p.col; }, {"tpcml_pair"});)                          \
       TPCML_SCHEMA_UNLESS(perPair)(df = df.Define(#col, [] { return static_cast<T>(value); });)
   TPCML_EVENT_COLUMNS(TPCML_SCHEMA_DEFINE)
#undef TPCML_SCHEMA_DEFINE
   df = df.Redefine("weight", [w] { return w; });
   return df;
}

} // namespace tpcml
