#include "tpcml/core/Provenance.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/Strings.h"
#include "tpcml/core/Version.h"

#include <TError.h>
#include <TFile.h>
#include <TGraph.h>
#include <TNamed.h>

#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <memory>

namespace tpcml {

namespace {

std::string jsonList(const std::vector<std::string> &items)
{
   std::string out = "[";
   for (std::size_t k = 0; k < items.size(); ++k)
      out += (k ? ", " : "") + jsonString(items[k]);
   return out + "]";
}

std::string utcNow()
{
   const std::time_t now = std::time(nullptr);
   std::tm tm{};
   gmtime_r(&now, &tm);
   char buf[32];
   std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
   return buf;
}

std::string hostName()
{
   char buf[256] = {};
   if (::gethostname(buf, sizeof buf - 1) != 0)
      return "";
   return buf;
}

// SHA-256 (FIPS 180-4). The round constants are the first 32 bits of the fractional parts of the
// cube roots of the first 64 primes, the initial hash those of the square roots of the first 8.
struct Sha256 {
   std::array<std::uint32_t, 64> k{};
   std::array<std::uint32_t, 8> h{};
   std::uint64_t bytes = 0;
   unsigned char block[64] = {};
   std::size_t used = 0;

   static std::uint32_t fraction(long double x)
   {
      return static_cast<std::uint32_t>(std::floor((x - std::floor(x)) * 4294967296.0L));
   }
   static std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

   Sha256()
   {
      int found = 0;
      for (int p = 2; found < 64; ++p) {
         bool prime = true;
         for (int d = 2; d * d <= p && prime; ++d)
            prime = p % d != 0;
         if (!prime)
            continue;
         if (found < 8)
            h[std::size_t(found)] = fraction(std::sqrt(static_cast<long double>(p)));
         k[std::size_t(found)] = fraction(std::cbrt(static_cast<long double>(p)));
         ++found;
      }
   }

   void compress()
   {
      std::uint32_t w[64];
      for (int t = 0; t < 16; ++t)
         w[t] = std::uint32_t(block[4 * t]) << 24 | std::uint32_t(block[4 * t + 1]) << 16 |
                std::uint32_t(block[4 * t + 2]) << 8 | std::uint32_t(block[4 * t + 3]);
      for (int t = 16; t < 64; ++t) {
         const std::uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
         const std::uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
         w[t] = w[t - 16] + s0 + w[t - 7] + s1;
      }
      std::array<std::uint32_t, 8> v = h; // a b c d e f g h
      for (int t = 0; t < 64; ++t) {
         const std::uint32_t S1 = rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25);
         const std::uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
         const std::uint32_t t1 = v[7] + S1 + ch + k[std::size_t(t)] + w[t];
         const std::uint32_t S0 = rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22);
         const std::uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
         const std::uint32_t t2 = S0 + maj;
         for (int j = 7; j > 0; --j)
            v[std::size_t(j)] = v[std::size_t(j - 1)];
         v[4] += t1;
         v[0] = t1 + t2;
      }
      for (std::size_t j = 0; j < 8; ++j)
         h[j] += v[j];
   }

   void update(const unsigned char *data, std::size_t n)
   {
      bytes += n;
      for (std::size_t i = 0; i < n; ++i) {
         block[used++] = data[i];
         if (used == 64) {
            compress();
            used = 0;
         }
      }
   }

   std::string hex()
   {
      const std::uint64_t bits = bytes * 8;
      const unsigned char one = 0x80, zero = 0;
      update(&one, 1);
      while (used != 56)
         update(&zero, 1);
      unsigned char length[8];
      for (int j = 0; j < 8; ++j)
         length[j] = static_cast<unsigned char>(bits >> (56 - 8 * j));
      update(length, 8);
      static const char *digits = "0123456789abcdef";
      std::string out;
      for (std::uint32_t word : h)
         for (int shift = 28; shift >= 0; shift -= 4)
            out += digits[(word >> shift) & 0xf];
      return out;
   }
};

/// `file` opened by ROOT, quietly; nullptr when it cannot be.
std::unique_ptr<TFile> openQuietly(const std::string &file, const char *mode)
{
   const Int_t oldLevel = gErrorIgnoreLevel;
   gErrorIgnoreLevel = kFatal;
   std::unique_ptr<TFile> f(TFile::Open(file.c_str(), mode));
   gErrorIgnoreLevel = oldLevel;
   if (!f || f->IsZombie())
      return nullptr;
   return f;
}

} // namespace

const std::vector<std::string> &provenanceKeys()
{
   static const std::vector<std::string> keys = {"tpcml_version", "command_line", "created_utc", "host", "inputs"};
   return keys;
}

std::string provenanceJson(const std::vector<std::string> &commandLine, const std::vector<std::string> &inputs,
                           const std::vector<std::pair<std::string, std::string>> &extra)
{
   std::vector<std::pair<std::string, std::string>> entries = {{"tpcml_version", jsonString(version())},
                                                               {"command_line", jsonList(commandLine)},
                                                               {"created_utc", jsonString(utcNow())},
                                                               {"host", jsonString(hostName())},
                                                               {"inputs", jsonList(inputs)}};
   for (const auto &[key, value] : extra) {
      bool replaced = false;
      for (auto &[k, v] : entries)
         if (k == key) {
            v = value;
            replaced = true;
         }
      if (!replaced)
         entries.emplace_back(key, value);
   }
   std::string out = "{";
   for (std::size_t k = 0; k < entries.size(); ++k)
      out += (k ? ", " : "") + jsonString(entries[k].first) + ": " + entries[k].second;
   return out + "}";
}

std::string sha256File(const std::string &path)
{
   std::ifstream in(path, std::ios::binary);
   if (!in)
      throw InputError("cannot read '" + path + "' to hash it");
   Sha256 sha;
   std::array<char, 1 << 16> buf;
   while (in) {
      in.read(buf.data(), std::streamsize(buf.size()));
      sha.update(reinterpret_cast<const unsigned char *>(buf.data()), std::size_t(in.gcount()));
   }
   return sha.hex();
}

std::string sha256Hex(const std::string &bytes)
{
   Sha256 sha;
   sha.update(reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size());
   return sha.hex();
}

std::string modelJson(const std::string &path, const std::map<std::string, std::string> &metadata,
                      const std::string &sha256)
{
   std::string meta = "{";
   bool first = true;
   for (const auto &[key, value] : metadata) {
      meta += (first ? "" : ", ") + jsonString(key) + ": " + jsonString(value);
      first = false;
   }
   meta += "}";
   return "{\"path\": " + jsonString(path) + ", \"sha256\": " + jsonString(sha256.empty() ? sha256File(path) : sha256) +
          ", \"metadata\": " + meta + "}";
}

std::string readDetector(const std::string &file)
{
   auto f = openQuietly(file, "READ");
   if (!f)
      throw InputError("cannot open '" + file + "': not a readable ROOT file");
   auto *named = f->Get<TNamed>("tpcml_detector");
   return named ? std::string(named->GetTitle()) : std::string();
}

std::string checkDetector(const std::vector<std::string> &files, const std::string &modelDetector,
                          const std::string &modelName, bool allowMismatch, const std::string &override)
{
   std::string common, commonFile;
   for (const std::string &file : files) {
      const std::string tag = readDetector(file);
      if (tag.empty())
         continue;
      if (!allowMismatch && !modelDetector.empty() && tag != modelDetector)
         throw InputError("'" + file + "' is tagged with detector '" + tag + "' (tpcml_detector) but " + modelName +
                          " '" + modelDetector + "': refusing to mix detectors; pass " + override +
                          " to run it anyway");
      if (!allowMismatch && !common.empty() && tag != common)
         throw InputError("'" + commonFile + "' is tagged with detector '" + common + "' but '" + file +
                          "' with detector '" + tag + "': refusing to mix detectors; pass " + override +
                          " to run them together anyway");
      if (common.empty()) {
         common = tag;
         commonFile = file;
      }
   }
   return common;
}

void writeOutputMetadata(const std::string &path, const OutputMetadata &meta)
{
   std::unique_ptr<TGraph> median;
   for (const std::string &from : meta.carryFrom) {
      if (from.empty())
         continue;
      auto f = openQuietly(from, "READ");
      if (!f)
         continue;
      if (auto *g = f->Get<TGraph>("tpcml_nr_median")) {
         median.reset(static_cast<TGraph *>(g->Clone("tpcml_nr_median")));
         break;
      }
   }
   auto out = openQuietly(path, "UPDATE");
   if (!out)
      throw Error("cannot add tpcml's metadata to '" + path + "': ROOT cannot open it for update");
   out->cd();
   const std::pair<const char *, const std::string *> named[] = {
       {"tpcml_detector", &meta.detector}, {"tpcml_provenance", &meta.provenance}, {"tpcml_model", &meta.model}};
   for (const auto &[key, title] : named)
      if (!title->empty())
         TNamed(key, title->c_str()).Write(key, TObject::kOverwrite);
   if (median)
      median->Write("tpcml_nr_median", TObject::kOverwrite);
   out->Close();
}

} // namespace tpcml
