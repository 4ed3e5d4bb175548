#include "tpcml/pairing/AccidentalPairer.h"

#include "core/Parallel.h"

#include "core/Random.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/RootIO.h"

#include <algorithm>
#include <cmath>
#include <exception>
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

} // namespace

std::vector<std::string> IsolatedS1Table::requiredBranches()
{
   return {"qS1", "wS1", "S1TBA", "S1NPeaks", "S1LargestBCQ"};
}

std::vector<std::string> IsolatedS2Table::requiredBranches()
{
   return {"qS2", "wS2", "wtenS2", "S2TBA", "S2SY1", "S2SY2", "x", "y"};
}

IsolatedS1Table IsolatedS1Table::fromTree(const std::string &file, const std::string &tree)
{
   ColumnReader r(file, tree, requiredBranches());
   auto q = r.take<float>("qS1"), w = r.take<float>("wS1"), tba = r.take<float>("S1TBA"),
        bcq = r.take<float>("S1LargestBCQ");
   auto np = r.take<int>("S1NPeaks");
   const bool hasId = r.has("s1_id"), hasRun = r.has("run");
   ROOT::RDF::RResultPtr<std::vector<Long64_t>> id;
   ROOT::RDF::RResultPtr<std::vector<Long64_t>> run;
   if (hasId)
      id = r.take<Long64_t>("s1_id");
   if (hasRun)
      run = r.take<Long64_t>("run");
   IsolatedS1Table t;
   t.qS1 = *q;
   t.wS1 = *w;
   t.S1TBA = *tba;
   t.S1LargestBCQ = *bcq;
   t.S1NPeaks = *np;
   const std::size_t n = t.qS1.size();
   if (hasId)
      t.id = *id;
   else
      for (std::size_t i = 0; i < n; ++i)
         t.id.push_back(static_cast<Long64_t>(i));
   t.run = hasRun ? toRun(*run) : std::vector<UInt_t>(n, 0u);
   return t;
}

IsolatedS2Table IsolatedS2Table::fromTree(const std::string &file, const std::string &tree)
{
   ColumnReader r(file, tree, requiredBranches());
   auto q = r.take<float>("qS2"), w = r.take<float>("wS2"), wt = r.take<float>("wtenS2"), tba = r.take<float>("S2TBA"),
        sy1 = r.take<float>("S2SY1"), sy2 = r.take<float>("S2SY2"), x = r.take<float>("x"), y = r.take<float>("y");
   const bool hasId = r.has("s2_id"), hasRun = r.has("run");
   ROOT::RDF::RResultPtr<std::vector<Long64_t>> id;
   ROOT::RDF::RResultPtr<std::vector<Long64_t>> run;
   if (hasId)
      id = r.take<Long64_t>("s2_id");
   if (hasRun)
      run = r.take<Long64_t>("run");
   IsolatedS2Table t;
   t.qS2 = *q;
   t.wS2 = *w;
   t.wtenS2 = *wt;
   t.S2TBA = *tba;
   t.S2SY1 = *sy1;
   t.S2SY2 = *sy2;
   t.x = *x;
   t.y = *y;
   const std::size_t n = t.qS2.size();
   if (hasId)
      t.id = *id;
   else
      for (std::size_t i = 0; i < n; ++i)
         t.id.push_back(static_cast<Long64_t>(i));
   t.run = hasRun ? toRun(*run) : std::vector<UInt_t>(n, 0u);
   return t;
}

void PairedColumns::resize(std::size_t n, float w)
{
   sample.assign(n, 2);
   recoil_type.assign(n, 2);
   energy_true.assign(n, -1.f);
   weight.assign(n, w);
   run.resize(n);
   event.resize(n);
   s1_id.resize(n);
   s2_id.resize(n);
   for (auto *v : {&qS1, &qS2, &qS1c, &qS2c, &wS1, &wS2, &wtenS2, &S1TBA, &S2TBA, &S2SY1, &S2SY2, &S1LargestBCQ,
                   &drift_time, &x, &y, &z})
      v->resize(n);
   S1NPeaks.resize(n);
   below_nr_median.resize(n);
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
   requireLength(s1.wS1, n1, "S1", "wS1");
   requireLength(s1.S1TBA, n1, "S1", "S1TBA");
   requireLength(s1.S1LargestBCQ, n1, "S1", "S1LargestBCQ");
   requireLength(s1.S1NPeaks, n1, "S1", "S1NPeaks");
   requireLength(s1.id, n1, "S1", "s1_id");
   requireLength(s1.run, n1, "S1", "run");
   requireFiniteColumn(s1.qS1, "S1", "qS1");
   requireFiniteColumn(s1.wS1, "S1", "wS1");
   requireFiniteColumn(s1.S1TBA, "S1", "S1TBA");
   requireFiniteColumn(s1.S1LargestBCQ, "S1", "S1LargestBCQ");
   const std::pair<const std::vector<float> *, const char *> s2Features[] = {
       {&s2.wS2, "wS2"},     {&s2.wtenS2, "wtenS2"}, {&s2.S2TBA, "S2TBA"}, {&s2.S2SY1, "S2SY1"},
       {&s2.S2SY2, "S2SY2"}, {&s2.x, "x"},           {&s2.y, "y"}};
   for (const auto &[column, name] : s2Features)
      requireLength(*column, n2, "S2", name);
   requireLength(s2.id, n2, "S2", "s2_id");
   requireLength(s2.run, n2, "S2", "run");
   requireFiniteColumn(s2.qS2, "S2", "qS2");
   requireFiniteColumn(s2.wS2, "S2", "wS2");
   requireFiniteColumn(s2.wtenS2, "S2", "wtenS2");
   requireFiniteColumn(s2.S2TBA, "S2", "S2TBA");
   requireFiniteColumn(s2.S2SY1, "S2", "S2SY1");
   requireFiniteColumn(s2.S2SY2, "S2", "S2SY2");
   requireFiniteColumn(s2.x, "S2", "x");
   requireFiniteColumn(s2.y, "S2", "y");

   m_s1.resize(n1);
   for (std::size_t i = 0; i < n1; ++i)
      m_s1[i] = {s1.qS1[i], s1.wS1[i], s1.S1TBA[i], s1.S1LargestBCQ[i], s1.S1NPeaks[i], s1.run[i], s1.id[i]};
   m_s2.resize(n2);
   for (std::size_t i = 0; i < n2; ++i)
      m_s2[i] = {s2.qS2[i],
                 s2.wS2[i],
                 s2.wtenS2[i],
                 s2.S2TBA[i],
                 s2.S2SY1[i],
                 s2.S2SY2[i],
                 s2.x[i],
                 s2.y[i],
                 m_corr.s2Relative(s2.x[i], s2.y[i]),
                 m_corr.s1Column(s2.x[i], s2.y[i]),
                 s2.run[i],
                 s2.id[i]};
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
   e.qS1 = s1.q;
   e.wS1 = s1.w;
   e.S1TBA = s1.tba;
   e.S1LargestBCQ = s1.bcq;
   e.S1NPeaks = s1.npeaks;
   e.qS2 = s2.q;
   e.wS2 = s2.w;
   e.wtenS2 = s2.wten;
   e.S2TBA = s2.tba;
   e.S2SY1 = s2.sy1;
   e.S2SY2 = s2.sy2;
   e.x = s2.x;
   e.y = s2.y;
   e.drift_time = tf;
   e.z = z;
   e.qS1c = m_corr.qS1c(s1.q, s2.s1Column, z);
   e.qS2c = m_corr.qS2c(s2.q, tf, s2.u); // the S2 map at the S2's (x, y), evaluated once per row
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

void AccidentalPairer::writeEvents(TreeFileWriter &writer, ULong64_t n, unsigned threads, const std::string &tree) const
{
   constexpr ULong64_t kChunk = 1ULL << 19;
   PairedColumns cols;
   for (ULong64_t first = 0; first < n; first += kChunk) {
      pairInto(cols, first, static_cast<std::size_t>(std::min(kChunk, n - first)), threads);
      writer.append(tree, cols.views());
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
   return {view("run", 'i', run),
           view("event", 'l', event),
           view("sample", 'I', sample),
           view("recoil_type", 'I', recoil_type),
           view("s1_id", 'L', s1_id),
           view("s2_id", 'L', s2_id),
           view("qS1", 'F', qS1),
           view("qS2", 'F', qS2),
           view("qS1c", 'F', qS1c),
           view("qS2c", 'F', qS2c),
           view("wS1", 'F', wS1),
           view("wS2", 'F', wS2),
           view("wtenS2", 'F', wtenS2),
           view("S1TBA", 'F', S1TBA),
           view("S2TBA", 'F', S2TBA),
           view("S2SY1", 'F', S2SY1),
           view("S2SY2", 'F', S2SY2),
           view("S1NPeaks", 'I', S1NPeaks),
           view("S1LargestBCQ", 'F', S1LargestBCQ),
           view("drift_time", 'F', drift_time),
           view("x", 'F', x),
           view("y", 'F', y),
           view("z", 'F', z),
           view("energy_true", 'F', energy_true),
           view("below_nr_median", 'O', below_nr_median),
           view("weight", 'F', weight)};
}

std::vector<std::string> AccidentalPairer::columnNames()
{
   std::vector<std::string> names;
   for (const auto &v : PairedColumns().views())
      names.push_back(v.name);
   return names;
}

ROOT::RDF::RNode AccidentalPairer::dataFrame(ULong64_t n, ULong64_t first) const
{
   checkIndex(first, n);
   const float w = m_opt.weight;
   ROOT::RDF::RNode df = ROOT::RDataFrame(n).Define(
       "tpcml_pair", [this, first](ULong64_t entry) { return (*this)(first + entry); }, {"rdfentry_"});
   using P = const PairedEvent &;
   df = df.Define("run", [](P p) { return p.run; }, {"tpcml_pair"})
            .Define("event", [](P p) { return p.event; }, {"tpcml_pair"})
            .Define("sample", [] { return 2; })
            .Define("recoil_type", [] { return 2; })
            .Define("s1_id", [](P p) { return p.s1_id; }, {"tpcml_pair"})
            .Define("s2_id", [](P p) { return p.s2_id; }, {"tpcml_pair"})
            .Define("qS1", [](P p) { return p.qS1; }, {"tpcml_pair"})
            .Define("qS2", [](P p) { return p.qS2; }, {"tpcml_pair"})
            .Define("qS1c", [](P p) { return p.qS1c; }, {"tpcml_pair"})
            .Define("qS2c", [](P p) { return p.qS2c; }, {"tpcml_pair"})
            .Define("wS1", [](P p) { return p.wS1; }, {"tpcml_pair"})
            .Define("wS2", [](P p) { return p.wS2; }, {"tpcml_pair"})
            .Define("wtenS2", [](P p) { return p.wtenS2; }, {"tpcml_pair"})
            .Define("S1TBA", [](P p) { return p.S1TBA; }, {"tpcml_pair"})
            .Define("S2TBA", [](P p) { return p.S2TBA; }, {"tpcml_pair"})
            .Define("S2SY1", [](P p) { return p.S2SY1; }, {"tpcml_pair"})
            .Define("S2SY2", [](P p) { return p.S2SY2; }, {"tpcml_pair"})
            .Define("S1NPeaks", [](P p) { return p.S1NPeaks; }, {"tpcml_pair"})
            .Define("S1LargestBCQ", [](P p) { return p.S1LargestBCQ; }, {"tpcml_pair"})
            .Define("drift_time", [](P p) { return p.drift_time; }, {"tpcml_pair"})
            .Define("x", [](P p) { return p.x; }, {"tpcml_pair"})
            .Define("y", [](P p) { return p.y; }, {"tpcml_pair"})
            .Define("z", [](P p) { return p.z; }, {"tpcml_pair"})
            .Define("energy_true", [] { return -1.f; })
            .Define("below_nr_median", [](P p) { return p.below_nr_median; }, {"tpcml_pair"})
            .Define("weight", [w] { return w; });
   return df;
}

} // namespace tpcml
