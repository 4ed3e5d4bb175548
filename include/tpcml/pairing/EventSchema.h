// tpcml -- the PandaX-II `events` schema, written once (docs/event-model.md §3).
//
// Every column of an `events` tree, in its order, with where an accidental pair takes it from.
// The pairer's structs (PairedEvent, PairedColumns, the isolated S1/S2 tables), its column
// lists, the RDataFrame door's Defines, the numpy conversions of the bindings and the Python
// lists (tpcml._core.EVENT_COLUMNS, FEATURES, S1_COLUMNS, S2_COLUMNS) are all generated from
// TPCML_EVENT_COLUMNS below.
//
// X(name, type, leaf, s1, s2, perPair, feature, value):
//   name     branch name; the 13 features carry the names of P2-DNN Table 1 ("Convolutional
//            neural network for accidental background suppression in PandaX-II", Sec. 3)
//   type     C++ type of the value (bool columns are stored as std::uint8_t)
//   leaf     ROOT leaf type code (ColumnView, tpcml/core/RootIO.h)
//   s1, s2   1: a column of the isolated-S1 (tree `s1`) or isolated-S2 (tree `s2`) signals,
//            copied bit for bit into the pair (docs/event-model.md §2)
//   perPair  1: a member of PairedEvent (set for each pair); 0: constant for a pairing run
//   feature  1: one of the 13 model inputs of P2-DNN Table 1, in the table's order
//   value    initial value of a PairedEvent member; the value of a constant column
//            (`weight` takes the run's n_acc / N instead)
#ifndef TPCML_EVENT_SCHEMA_H
#define TPCML_EVENT_SCHEMA_H

#include <RtypesCore.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// clang-format off
#define TPCML_EVENT_COLUMNS(X)                                                             \
   /* name            type       leaf s1 s2 pair feat value */                             \
   X(run,             UInt_t,    'i', 0, 0, 1, 0, 0)   /* the S2's run */                  \
   X(event,           ULong64_t, 'l', 0, 0, 1, 0, 0)   /* pair number i */                 \
   X(sample,          int,       'I', 0, 0, 0, 0, 2)   /* 2: accidental */                 \
   X(recoil_type,     int,       'I', 0, 0, 0, 0, 2)   /* 2: accidental */                 \
   X(s1_id,           Long64_t,  'L', 0, 0, 1, 0, -1)                                      \
   X(s2_id,           Long64_t,  'L', 0, 0, 1, 0, -1)                                      \
   X(qS1,             float,     'F', 1, 0, 1, 1, 0)                                       \
   X(qS2,             float,     'F', 0, 1, 1, 1, 0)                                       \
   X(qS1c,            float,     'F', 0, 0, 1, 1, 0)                                       \
   X(qS2c,            float,     'F', 0, 0, 1, 1, 0)                                       \
   X(wS1,             float,     'F', 1, 0, 1, 1, 0)                                       \
   X(wS2,             float,     'F', 0, 1, 1, 1, 0)                                       \
   X(wtenS2,          float,     'F', 0, 1, 1, 1, 0)                                       \
   X(S1TBA,           float,     'F', 1, 0, 1, 1, 0)                                       \
   X(S2TBA,           float,     'F', 0, 1, 1, 1, 0)                                       \
   X(S2SY1,           float,     'F', 0, 1, 1, 1, 0)                                       \
   X(S2SY2,           float,     'F', 0, 1, 1, 1, 0)                                       \
   X(S1NPeaks,        int,       'I', 1, 0, 1, 1, 0)                                       \
   X(S1LargestBCQ,    float,     'F', 1, 0, 1, 1, 0)                                       \
   X(drift_time,      float,     'F', 0, 0, 1, 0, 0)   /* us, drawn for the pair */        \
   X(x,               float,     'F', 0, 1, 1, 0, 0)   /* mm */                            \
   X(y,               float,     'F', 0, 1, 1, 0, 0)   /* mm */                            \
   X(z,               float,     'F', 0, 0, 1, 0, 0)   /* mm, -v_d t */                    \
   X(energy_true,     float,     'F', 0, 0, 0, 0, -1)  /* no true energy */                \
   X(below_nr_median, bool,      'O', 0, 0, 1, 0, 0)                                       \
   X(weight,          float,     'F', 0, 0, 0, 0, 1)   /* n_acc / N (P2-DNN Eq. 2.1) */
// clang-format on

/// Expands `...` when the flag (a literal 0 or 1 of the table) is 1: TPCML_SCHEMA_IF(s1)(code).
#define TPCML_SCHEMA_IF(flag) TPCML_SCHEMA_IF_##flag
#define TPCML_SCHEMA_IF_0(...)
#define TPCML_SCHEMA_IF_1(...) __VA_ARGS__
/// Expands `...` when the flag is 0.
#define TPCML_SCHEMA_UNLESS(flag) TPCML_SCHEMA_UNLESS_##flag
#define TPCML_SCHEMA_UNLESS_0(...) __VA_ARGS__
#define TPCML_SCHEMA_UNLESS_1(...)

namespace tpcml {

/// Storage type of a column (vector<bool> has no data()).
template <class T> struct EventColumnStorage {
   using type = T;
};
template <> struct EventColumnStorage<bool> {
   using type = std::uint8_t;
};
template <class T> using EventStorage = typename EventColumnStorage<T>::type;

/// One column of the events schema (the table above as data).
struct EventColumn {
   const char *name;
   char leaf;
   bool s1, s2, perPair, feature;
};

inline constexpr EventColumn kEventColumns[] = {
#define TPCML_SCHEMA_ROW(col, T, leaf, fromS1, fromS2, perPair, feature, value)                                        \
   {#col, leaf, fromS1 != 0, fromS2 != 0, perPair != 0, feature != 0},
    TPCML_EVENT_COLUMNS(TPCML_SCHEMA_ROW)
#undef TPCML_SCHEMA_ROW
};

namespace detail {
/// Names of the columns whose `flag` is set (every column for nullptr), in the table's order.
inline std::vector<std::string> schemaNames(bool EventColumn::*flag)
{
   std::vector<std::string> out;
   for (const auto &c : kEventColumns)
      if (flag == nullptr || c.*flag)
         out.emplace_back(c.name);
   return out;
}
} // namespace detail

/// Every column of the `events` tree, in its order.
inline std::vector<std::string> eventColumnNames()
{
   return detail::schemaNames(nullptr);
}
/// The 13 features of P2-DNN Table 1, in its order (the default inputs of a PandaX-II model).
inline std::vector<std::string> featureNames()
{
   return detail::schemaNames(&EventColumn::feature);
}
/// The branches the pairer needs in the isolated-S1 (`s1`) and isolated-S2 (`s2`) trees.
inline std::vector<std::string> isolatedS1Columns()
{
   return detail::schemaNames(&EventColumn::s1);
}
inline std::vector<std::string> isolatedS2Columns()
{
   return detail::schemaNames(&EventColumn::s2);
}

} // namespace tpcml

#endif // TPCML_EVENT_SCHEMA_H
