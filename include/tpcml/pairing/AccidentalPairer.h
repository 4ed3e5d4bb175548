// tpcml -- accidental S1/S2 pairing (PandaX-II, P2-DNN §2-3; docs/event-model.md §3).
//
// An accidental event is an isolated S1 and an isolated S2 that fall in one drift window.
// Pair i takes S1 number a_i and S2 number b_i (uniformly, with replacement, or from two
// seeded permutations without replacement) and a drift time t_i (uniform in the fiducial
// window [t_min, t_max], or from a given histogram), then recomputes everything the
// detector ties to position exactly as for a physical event: z = -v_d t, qS1c (S1 light
// map at the S2's x, y and the pair's z), qS2c (electron lifetime at t and the S2 xy map),
// below_nr_median. Every other feature is the signal's own, copied bit for bit.
//
// Random draws of pair i depend only on (seed, i): one seed gives the same events whatever
// the thread count or the door used:
//   * RDataFrame:  auto df = pairer.dataFrame(n);  df.Snapshot("events", "acc.root");
//   * pybind11:    tpcml._core.AccidentalPairer(...).pair(n) -> dict of numpy arrays
//   * executable:  tpcml-pair --input isolated.root --n N --seed S --output acc.root
// all three call operator()(i), the kernel.
#ifndef TPCML_ACCIDENTAL_PAIRER_H
#define TPCML_ACCIDENTAL_PAIRER_H

#include "tpcml/lxe/NRMedian.h"
#include "tpcml/pairing/EventSchema.h"
#include "tpcml/lxe/PositionCorrections.h"
#include "tpcml/core/RootIO.h"

#include <ROOT/RDataFrame.hxx>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tpcml {

// Members named after the events schema (tpcml/pairing/EventSchema.h), generated from it.
#define TPCML_SCHEMA_S1_VECTOR(col, T, leaf, fromS1, fromS2, perPair, feature, value)                                  \
   TPCML_SCHEMA_IF(fromS1)(std::vector<T> col;)
#define TPCML_SCHEMA_S2_VECTOR(col, T, leaf, fromS1, fromS2, perPair, feature, value)                                  \
   TPCML_SCHEMA_IF(fromS2)(std::vector<T> col;)
#define TPCML_SCHEMA_EVENT_MEMBER(col, T, leaf, fromS1, fromS2, perPair, feature, value)                               \
   TPCML_SCHEMA_IF(perPair)(T col = static_cast<T>(value);)
#define TPCML_SCHEMA_COLUMN_VECTOR(col, T, leaf, fromS1, fromS2, perPair, feature, value)                              \
   std::vector<EventStorage<T>> col;

#define TPCML_SCHEMA_S1_VISIT(col, T, leaf, fromS1, fromS2, perPair, feature, value)                                   \
   TPCML_SCHEMA_IF(fromS1)(f(#col, col);)
#define TPCML_SCHEMA_S2_VISIT(col, T, leaf, fromS1, fromS2, perPair, feature, value)                                   \
   TPCML_SCHEMA_IF(fromS2)(f(#col, col);)

/// One table of isolated signals of a population (S1: tree `s1`, S2: tree `s2`), one entry per
/// signal, as columns: the schema's columns of that population (`columnsOf()`: isolatedS1Columns()
/// or isolatedS2Columns()), the signal's id and run. Both tables are this one definition:
///   forEachColumn(f)  calls f(name, column) for each schema column of the table, in the schema's order
///   fromTree(file, tree)  reads `tree` of `file` (numeric branches of any type, cast to the schema's
///                     types); the id (`kIdBranch`) / run default to the entry number / 0 when absent.
///                     Throws InputError naming the file, tree and missing branch with the nearest ones.
///   requiredBranches()  the branch names the pairer needs
#define TPCML_ISOLATED_TABLE(Name, VECTOR, VISIT, firstColumn, idBranch, population, defaultTree, columnsOf)           \
   struct Name {                                                                                                       \
      TPCML_EVENT_COLUMNS(VECTOR)                                                                                      \
      std::vector<Long64_t> id;                                                                                        \
      std::vector<UInt_t> run;                                                                                         \
      std::size_t size() const { return firstColumn.size(); }                                                          \
      static constexpr const char *kIdBranch = idBranch, *kPopulation = population;                                    \
      template <class F> void forEachColumn(F &&f) { TPCML_EVENT_COLUMNS(VISIT) }                                      \
      static Name fromTree(const std::string &file, const std::string &tree = defaultTree);                            \
      static std::vector<std::string> requiredBranches() { return columnsOf(); }                                       \
   };

TPCML_ISOLATED_TABLE(IsolatedS1Table, TPCML_SCHEMA_S1_VECTOR, TPCML_SCHEMA_S1_VISIT, qS1, "s1_id", "S1", "s1",
                     isolatedS1Columns)
TPCML_ISOLATED_TABLE(IsolatedS2Table, TPCML_SCHEMA_S2_VECTOR, TPCML_SCHEMA_S2_VISIT, qS2, "s2_id", "S2", "s2",
                     isolatedS2Columns)

/// One accidental event: the per-pair columns of the `events` schema.
struct PairedEvent {
   TPCML_EVENT_COLUMNS(TPCML_SCHEMA_EVENT_MEMBER)
};

/// Many accidental events as columns (the batch door's output): every column of the schema
/// (sample, recoil_type = 2: accidental; energy_true = -1: no true energy; weight: expected
/// events per pair, n_acc / N).
struct PairedColumns {
   TPCML_EVENT_COLUMNS(TPCML_SCHEMA_COLUMN_VECTOR)
   /// Sizes every column; the constant columns get their values (weight: `w`).
   void resize(std::size_t n, float w = 1.f);
   std::size_t size() const { return qS1.size(); }
   void set(std::size_t k, const PairedEvent &e); ///< inline, below
   /// Every column, in the events-tree order, as borrowed views (for writeTreeFile and bindings).
   std::vector<ColumnView> views() const;
};

#undef TPCML_SCHEMA_S1_VECTOR
#undef TPCML_SCHEMA_S2_VECTOR
#undef TPCML_SCHEMA_EVENT_MEMBER
#undef TPCML_SCHEMA_COLUMN_VECTOR

inline void PairedColumns::set(std::size_t k, const PairedEvent &e)
{
#define TPCML_SCHEMA_SET(col, T, leaf, fromS1, fromS2, perPair, feature, value)                                        \
   TPCML_SCHEMA_IF(perPair)(col[k] = e.col;)
   TPCML_EVENT_COLUMNS(TPCML_SCHEMA_SET)
#undef TPCML_SCHEMA_SET
}

/// Expected accidental events, P2-DNN Eq. 2.1: n_acc = r1 * r2 * dt_w * T * eps, with r1, r2 the
/// isolated S1/S2 rates (Hz), dt_w the drift window (us), T the live time (s), eps the
/// data-quality efficiency. Throws UsageError for negative or non-finite inputs.
double accidentalCount(double rateS1Hz, double rateS2Hz, double windowUs, double liveTimeS, double efficiency = 1.);

/// Rates behind Eq. 2.1 for isolated populations of nS1 and nS2 signals.
struct IsolatedRates {
   double s1Hz = -1., s2Hz = -1., liveTimeS = -1., efficiency = 1.;
   bool known() const { return liveTimeS > 0. && s1Hz >= 0. && s2Hz >= 0.; }
   /// n_acc of Eq. 2.1 for a drift window of `windowUs`.
   double expected(double windowUs) const { return accidentalCount(s1Hz, s2Hz, windowUs, liveTimeS, efficiency); }
};

/// The rates one pairing run uses -- the same rule for tpcml-pair, the Python door and macros:
/// with `liveTimeS` > 0 (the user's), r = N / T; otherwise the rates stored with the populations
/// in `file` (TParameter<double> tpcml_isolated_s1_rate / _s2_rate), else N / tpcml_livetime;
/// `efficiency` >= 0 overrides the stored tpcml_data_quality_efficiency (default 1).
/// Unknown live time: known() is false.
IsolatedRates isolatedRates(const std::string &file, std::size_t nS1, std::size_t nS2, double liveTimeS = -1.,
                            double efficiency = -1.);

class AccidentalPairer {
public:
   struct Options {
      double driftTimeMin = 0.;    ///< us
      double driftTimeMax = 0.;    ///< us
      bool withReplacement = true; ///< false: each signal used at most once
      std::uint64_t seed = 0;
      float weight = 1.f; ///< expected events per pair (n_acc / N), written as `weight`
   };

   /// Copies the signals; validates them (non-empty, finite) and the drift window.
   AccidentalPairer(const IsolatedS1Table &s1, const IsolatedS2Table &s2, const PositionCorrections &corrections,
                    const Options &options);

   /// Flag pairs below this NR median (otherwise below_nr_median is false).
   void setNRMedian(const NRMedianCurve &curve);
   /// Drift times from a histogram (bin edges in us, non-negative contents) instead of uniform.
   void setDriftTimeHistogram(const std::vector<double> &edges, const std::vector<double> &contents);
   void setWeight(float weight) { m_opt.weight = weight; }

   /// Pairs that can be made: unlimited with replacement, min(N_S1, N_S2) without.
   ULong64_t maxPairs() const;
   std::size_t nS1() const { return m_s1.size(); }
   std::size_t nS2() const { return m_s2.size(); }
   const Options &options() const { return m_opt; }

   /// The kernel: accidental event number i (event = i).
   PairedEvent operator()(ULong64_t i) const
   {
      PairedEvent e;
      fill(i, e);
      return e;
   }
   void fill(ULong64_t i, PairedEvent &e) const { fillFrom(i, s1Index(i), s2Index(i), e); }
   /// Batch door: events first .. first + n - 1, on `threads` threads (0: all cores).
   PairedColumns pair(ULong64_t first, std::size_t n, unsigned threads = 1) const;
   /// Same, into `out` (resized to n; its memory is reused when large enough: a batch job
   /// producing chunk after chunk allocates once).
   void pairInto(PairedColumns &out, ULong64_t first, std::size_t n, unsigned threads = 1) const;
   /// File door: events 0 .. n - 1 appended to `tree` of `writer` in entry order, made and written
   /// in chunks of 2^19 (memory ~60 MB whatever n; the same events as in one piece: pair i depends
   /// on the seed and i only). `written(k)`, when given, is called after each chunk with its k events.
   void writeEvents(TreeFileWriter &writer, ULong64_t n, unsigned threads = 1, const std::string &tree = "events",
                    const std::function<void(ULong64_t)> &written = {}) const;
   /// RDataFrame door: an n-entry dataframe of events first .. first + n - 1 with every column
   /// of the `events` schema (sample = 2, recoil_type = 2, energy_true = -1, weight).
   /// The pairer must outlive the dataframe.
   ROOT::RDF::RNode dataFrame(ULong64_t n, ULong64_t first = 0) const;
   /// Column names of dataFrame() in schema order.
   static std::vector<std::string> columnNames();

private:
   /// Signal row of pair i: counter-based draw on `stream` (with replacement) or permutation[i].
   /// fillFrom's body, inline for the batch loop (defined and used in AccidentalPairer.cxx only).
   __attribute__((always_inline)) inline void fillInline(ULong64_t i, std::size_t a, std::size_t b,
                                                         PairedEvent &e) const;
   std::size_t drawIndex(ULong64_t i, std::uint32_t stream, std::size_t n,
                         const std::vector<std::uint32_t> &permutation) const;
   std::size_t s1Index(ULong64_t i) const { return drawIndex(i, 0, m_s1.size(), m_perm1); }
   std::size_t s2Index(ULong64_t i) const { return drawIndex(i, 1, m_s2.size(), m_perm2); }
   /// The gather and the position-dependent quantities for pair i of signals a (S1), b (S2).
   void fillFrom(ULong64_t i, std::size_t a, std::size_t b, PairedEvent &e) const;

   // One signal of each population as a row (the schema's S1 / S2 columns, then what the pair
   // needs of it): the kernel gathers a row per pair.
#define TPCML_SCHEMA_S1_FIELD(col, T, leaf, fromS1, fromS2, perPair, feature, value) TPCML_SCHEMA_IF(fromS1)(T col;)
#define TPCML_SCHEMA_S2_FIELD(col, T, leaf, fromS1, fromS2, perPair, feature, value) TPCML_SCHEMA_IF(fromS2)(T col;)
   struct S1Row {
      TPCML_EVENT_COLUMNS(TPCML_SCHEMA_S1_FIELD)
      UInt_t run;
      Long64_t id;
   };
   struct S2Row {
      TPCML_EVENT_COLUMNS(TPCML_SCHEMA_S2_FIELD)
      double u;                     ///< relative S2 gain at (x, y)
      RegularGrid::Column s1Column; ///< (x, y) part of the S1-map lookup
      UInt_t run;
      Long64_t id;
   };
#undef TPCML_SCHEMA_S1_FIELD
#undef TPCML_SCHEMA_S2_FIELD
   void checkIndex(ULong64_t first, ULong64_t n) const;

   std::vector<S1Row> m_s1;
   std::vector<S2Row> m_s2;
   std::vector<std::uint32_t> m_perm1, m_perm2;
   PositionCorrections m_corr;
   NRMedianCurve m_median;
   bool m_hasMedian = false;
   Options m_opt;
   std::uint64_t m_key = 0;
   std::vector<double> m_histEdges, m_histCdf; ///< empty: uniform drift time
};

} // namespace tpcml

#endif // TPCML_ACCIDENTAL_PAIRER_H
