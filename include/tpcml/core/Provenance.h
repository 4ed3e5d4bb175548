// tpcml -- the file contract (docs/event-model.md §1 "File-level objects", §4): what every file
// tpcml writes carries beside its trees, written by one function for C++ and Python alike.
//
//   tpcml::OutputMetadata meta;
//   meta.detector = tpcml::readDetector(input);                     // carried forward
//   meta.provenance = tpcml::provenanceJson(argv, {input});         // one schema everywhere
//   meta.model = tpcml::modelJson("mlp.onnx", model.metadata());    // where a model scored it
//   meta.carryFrom = {input};                                       // tpcml_nr_median, if there
//   tpcml::writeOutputMetadata(out.tempPath(), meta);
//
// Include guard, not #pragma once: cling may reach this header through both the
// installed and the build-time include path, and must see one definition.
#ifndef TPCML_PROVENANCE_H
#define TPCML_PROVENANCE_H

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tpcml {

/// The keys every tpcml_provenance object has, in this order: tpcml_version, command_line,
/// created_utc, host, inputs (docs/event-model.md §1).
const std::vector<std::string> &provenanceKeys();

/// The tpcml_provenance JSON object: {"tpcml_version": "...", "command_line": [argv...],
/// "created_utc": "YYYY-MM-DDTHH:MM:SSZ", "host": "...", "inputs": [paths...]} followed by `extra`
/// (key, JSON-encoded value) pairs; an extra key that is one of the five replaces its value.
std::string provenanceJson(const std::vector<std::string> &commandLine, const std::vector<std::string> &inputs,
                           const std::vector<std::pair<std::string, std::string>> &extra = {});

/// SHA-256 of a file's bytes as 64 lower-case hex digits. Throws InputError when it cannot be read.
std::string sha256File(const std::string &path);
/// SHA-256 of `bytes` as 64 lower-case hex digits.
std::string sha256Hex(const std::string &bytes);

/// The tpcml_model JSON object: {"path": ..., "sha256": ..., "metadata": {key: value, ...}}; `sha256`
/// empty: the file at `path` is hashed.
std::string modelJson(const std::string &path, const std::map<std::string, std::string> &metadata = {},
                      const std::string &sha256 = "");

/// Title of the TNamed `tpcml_detector` of a ROOT file; "" when absent. Throws InputError when the
/// file cannot be opened.
std::string readDetector(const std::string &file);

/// The detector the files are tagged with ("" when none is), after checking that a job made for
/// `modelDetector` ("" : any) may read them: a file tagged with another detector is an InputError
/// "'f.root' is tagged with detector 'xenon1t' (tpcml_detector) but <modelName> 'pandax2'" (modelName
/// e.g. "model 'm.onnx' is for detector") naming the override (`override`, e.g.
/// "--allow-detector-mismatch"), unless `allowMismatch`. Files tagged with two detectors are refused alike.
std::string
checkDetector(const std::vector<std::string> &files, const std::string &modelDetector, const std::string &modelName,
              bool allowMismatch,
              const std::string &override =
                  "--allow-detector-mismatch (Python: allow_detector_mismatch=True; job field allowDetectorMismatch)");

/// What writeOutputMetadata adds to a written file.
struct OutputMetadata {
   std::string detector;               ///< tpcml_detector title; "" : not written
   std::string provenance;             ///< tpcml_provenance title (provenanceJson); "" : not written
   std::string model;                  ///< tpcml_model title (modelJson); "" : not written
   std::vector<std::string> carryFrom; ///< the TGraph tpcml_nr_median is copied from the first that has it
};

/// Adds the metadata of `meta` to the ROOT file `path` (opened for update; the trees or RNTuples
/// already there are kept). Throws Error when the file cannot be updated.
void writeOutputMetadata(const std::string &path, const OutputMetadata &meta);

} // namespace tpcml

#endif // TPCML_PROVENANCE_H
