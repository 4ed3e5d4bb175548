#include "tpcml/lxe/LXeOptics.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"

#include "core/Parallel.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <sstream>
#include <thread>
#include <tuple>

namespace tpcml {

namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr double kFourPi = 4. * kPi;
} // namespace

PmtArray hexPmtArray(std::size_t n, double pitch)
{
   if (n == 0)
      throw ConfigError("hexPmtArray: a PMT array needs at least one PMT");
   if (!(pitch > 0.))
      throw ConfigError("hexPmtArray: pmt_pitch must be > 0, got " + std::to_string(pitch));
   // rings 0..K hold 1 + 3K(K+1) positions
   int k = 0;
   while (1 + 3 * static_cast<std::size_t>(k) * static_cast<std::size_t>(k + 1) < n)
      ++k;
   std::vector<std::tuple<double, double, double, double>> pos; // (r rounded, phi, x, y)
   const double s3 = std::sqrt(3.);
   for (int q = -k; q <= k; ++q)
      for (int r = -k; r <= k; ++r) {
         if (std::abs(q + r) > k)
            continue;
         const double x = pitch * (q + 0.5 * r), y = pitch * (0.5 * s3 * r);
         const double rad = std::round(std::hypot(x, y) * 1e6) / 1e6;
         double phi = std::atan2(y, x);
         if (phi < 0)
            phi += 2 * kPi;
         pos.emplace_back(rad, std::round(phi * 1e9) / 1e9, x, y);
      }
   std::sort(pos.begin(), pos.end());
   PmtArray a;
   for (std::size_t i = 0; i < n; ++i) {
      a.x.push_back(std::get<2>(pos[i]));
      a.y.push_back(std::get<3>(pos[i]));
   }
   return a;
}

namespace {
/// A small CSV file: the header's column names and each data row's fields (blank lines skipped), with the
/// file's line number of every row for error messages.
struct CsvTable {
   std::string path, header;
   std::vector<std::string> columns;
   std::vector<std::vector<std::string>> rows;
   std::vector<std::size_t> lines;

   /// Index of the first of `names` that is a column, or -1.
   long column(std::initializer_list<const char *> names) const
   {
      for (const char *n : names) {
         const auto it = std::find(columns.begin(), columns.end(), std::string(n));
         if (it != columns.end())
            return it - columns.begin();
      }
      return -1;
   }
   /// Field c of row k as a finite number; ConfigError naming the file, line and column otherwise.
   double number(std::size_t k, long c) const
   {
      const std::string &f = rows[k][static_cast<std::size_t>(c)];
      try {
         std::size_t end = 0;
         const double v = std::stod(f, &end);
         if (end == f.size() && std::isfinite(v))
            return v;
      } catch (const std::exception &) {
      }
      throw ConfigError(path + ":" + std::to_string(lines[k]) + ": " + columns[static_cast<std::size_t>(c)] + " '" + f +
                        "' is not a finite number");
   }
};

std::vector<std::string> splitCsvLine(const std::string &line)
{
   std::vector<std::string> f;
   std::istringstream ls(line);
   for (std::string c; std::getline(ls, c, ',');) {
      const auto b = c.find_first_not_of(" \r\t"), e = c.find_last_not_of(" \r\t");
      f.push_back(b == std::string::npos ? std::string() : c.substr(b, e - b + 1));
   }
   return f;
}

CsvTable readCsv(const std::string &path, const char *what)
{
   std::ifstream in(path);
   if (!in)
      throw ConfigError(std::string("cannot read ") + what + " '" + path + "': no such file");
   CsvTable t;
   t.path = path;
   std::getline(in, t.header);
   t.columns = splitCsvLine(t.header);
   std::string line;
   for (std::size_t row = 2; std::getline(in, line); ++row) {
      if (line.find_first_not_of(" \r\t") == std::string::npos)
         continue;
      auto f = splitCsvLine(line);
      if (f.size() < t.columns.size())
         throw ConfigError(path + ":" + std::to_string(row) + ": expected " + std::to_string(t.columns.size()) +
                           " comma-separated fields, got " + std::to_string(f.size()));
      t.rows.push_back(std::move(f));
      t.lines.push_back(row);
   }
   return t;
}
} // namespace

std::pair<PmtArray, PmtArray> readPmtTable(const std::string &path)
{
   const CsvTable t = readCsv(path, "PMT position table");
   double sx = 1., sy = 1.;
   long ix = t.column({"x_mm"}), iy = t.column({"y_mm"});
   if (ix < 0) {
      ix = t.column({"x_cm", "x"});
      sx = 10.;
   }
   if (iy < 0) {
      iy = t.column({"y_cm", "y"});
      sy = 10.;
   }
   const long ia = t.column({"array"});
   if (ix < 0 || iy < 0 || ia < 0)
      throw ConfigError(path + ": header '" + t.header +
                        "': expected columns 'array' (top/bottom) and x_mm, y_mm (mm) or x_cm, y_cm / x, y (cm)");
   PmtArray top, bottom;
   for (std::size_t k = 0; k < t.rows.size(); ++k) {
      const double x = t.number(k, ix) * sx, y = t.number(k, iy) * sy;
      const std::string &a = t.rows[k][static_cast<std::size_t>(ia)];
      PmtArray *arr = a == "top" ? &top : a == "bottom" ? &bottom : nullptr;
      if (!arr)
         throw ConfigError(path + ":" + std::to_string(t.lines[k]) + ": array '" + a + "'; expected top or bottom");
      arr->x.push_back(x);
      arr->y.push_back(y);
   }
   if (top.size() == 0 || bottom.size() == 0)
      throw ConfigError(path + ": expected PMTs of both arrays (top and bottom), got " + std::to_string(top.size()) +
                        " top and " + std::to_string(bottom.size()) + " bottom");
   return {top, bottom};
}

/// splitmix64 (a fixed, portable generator: the map must not depend on the library's engines).
struct MapRng {
   std::uint64_t s;
   double uniform()
   {
      std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      z ^= z >> 31;
      return (static_cast<double>(z >> 11) + 0.5) * 0x1.0p-53;
   }
};

namespace {
struct Vec {
   double x, y, z;
};

Vec isotropic(MapRng &rng)
{
   const double c = 2. * rng.uniform() - 1., phi = 2. * kPi * rng.uniform(), s = std::sqrt(1. - c * c);
   return {s * std::cos(phi), s * std::sin(phi), c};
}

/// Lambertian (cosine-weighted) direction about the unit normal n.
Vec lambertian(const Vec &n, MapRng &rng)
{
   const double u = rng.uniform(), phi = 2. * kPi * rng.uniform();
   const double ct = std::sqrt(1. - u), st = std::sqrt(u);
   // orthonormal basis (t1, t2, n)
   Vec t1 = std::abs(n.z) < 0.9 ? Vec{-n.y, n.x, 0.} : Vec{0., -n.z, n.y};
   const double l = std::sqrt(t1.x * t1.x + t1.y * t1.y + t1.z * t1.z);
   t1 = {t1.x / l, t1.y / l, t1.z / l};
   const Vec t2{n.y * t1.z - n.z * t1.y, n.z * t1.x - n.x * t1.z, n.x * t1.y - n.y * t1.x};
   const double a = st * std::cos(phi), b = st * std::sin(phi);
   return {a * t1.x + b * t2.x + ct * n.x, a * t1.y + b * t2.y + ct * n.y, a * t1.z + b * t2.z + ct * n.z};
}

/// Transparency of a mesh of normal-incidence transparency t0 for a photon of direction cosine cz to its
/// normal: the opaque fraction grows as 1 / cos (a planar grid of wires seen perpendicular to the wires).
double meshTransparency(double t0, double cz)
{
   const double c = std::abs(cz);
   return c > 0. ? std::max(0., 1. - (1. - t0) / c) : 0.;
}

std::map<std::string, std::shared_ptr<const S1LightMap>> &mapCache()
{
   static std::map<std::string, std::shared_ptr<const S1LightMap>> cache;
   return cache;
}
std::mutex &mapCacheMutex()
{
   static std::mutex m;
   return m;
}
} // namespace

S1LightMap::Photon S1LightMap::trace(double r0, double z0, const Geometry &g, MapRng &rng)
{
   Vec p{r0, 0., z0}, d = isotropic(rng);
   bool liquid = z0 < g.zSurface;
   const double invR2 = 1. / (g.radius * g.radius);
   for (int step = 0; step < 2000; ++step) {
      const double zLo = liquid ? g.zBottom : g.zSurface, zHi = liquid ? g.zSurface : g.zTop;
      // distance to the wall: |p_xy + t d_xy| = R
      double tWall = std::numeric_limits<double>::infinity();
      const double a = d.x * d.x + d.y * d.y;
      if (a > 1e-15) {
         const double b = p.x * d.x + p.y * d.y, c = p.x * p.x + p.y * p.y - g.radius * g.radius;
         tWall = (-b + std::sqrt(std::max(0., b * b - a * c))) / a;
      }
      const double tPlane = d.z > 0.   ? (zHi - p.z) / d.z
                            : d.z < 0. ? (zLo - p.z) / d.z
                                       : std::numeric_limits<double>::infinity();
      const double t = std::max(0., std::min(tWall, tPlane));
      double tScatter = std::numeric_limits<double>::infinity();
      if (liquid && g.rayleigh > 0.)
         tScatter = -g.rayleigh * std::log(rng.uniform());
      // absorption (optional; no extra random draw without it, so maps without absorption are unchanged)
      if (liquid && g.absorption > 0. && -g.absorption * std::log(rng.uniform()) < std::min(t, tScatter))
         return Photon::kLost;
      if (tScatter < t) {
         p = {p.x + tScatter * d.x, p.y + tScatter * d.y, p.z + tScatter * d.z};
         d = isotropic(rng);
         continue;
      }
      const double zOld = p.z;
      p = {p.x + t * d.x, p.y + t * d.y, p.z + t * d.z};
      if (liquid && g.mesh < 1.) { // gate (z = 0) and cathode meshes crossed on this segment
         const int crossings = ((zOld < 0.) != (p.z < 0.)) + ((zOld < g.zCathode) != (p.z < g.zCathode));
         for (int k = 0; k < crossings; ++k)
            if (rng.uniform() >= meshTransparency(g.mesh, d.z))
               return Photon::kLost;
      }
      if (tWall < tPlane) { // PTFE wall: diffuse reflection or absorption
         if (rng.uniform() >= g.ptfe)
            return Photon::kLost;
         const double rr = std::sqrt((p.x * p.x + p.y * p.y) * invR2);
         d = lambertian(Vec{-p.x / (rr * g.radius), -p.y / (rr * g.radius), 0.}, rng);
         continue;
      }
      const bool bottomPlane = liquid && d.z < 0., topPlane = !liquid && d.z > 0.;
      if (bottomPlane || topPlane) { // an array plane, behind the screening (bottom) or anode (top) mesh
         if (rng.uniform() >= meshTransparency(g.mesh, d.z))
            return Photon::kLost;
         if (rng.uniform() < (topPlane ? g.coverTop : g.coverBottom))
            return topPlane ? Photon::kTop : Photon::kBottom;
         if (rng.uniform() >= g.ptfe) // PTFE between the photocathodes
            return Photon::kLost;
         d = lambertian(Vec{0., 0., topPlane ? -1. : 1.}, rng);
         if (rng.uniform() >= meshTransparency(g.mesh, d.z)) // back through the mesh
            return Photon::kLost;
         continue;
      }
      // liquid surface: Fresnel transmission with refraction, else specular reflection
      const double n1 = liquid ? g.n : 1., n2 = liquid ? 1. : g.n;
      const double cosI = std::abs(d.z);
      if (rng.uniform() < LXeOptics::fresnelTransmission(n1, n2, cosI)) {
         const double k = n1 / n2, sinT2 = k * k * (1. - cosI * cosI);
         const double cz = std::sqrt(std::max(0., 1. - sinT2));
         d = {k * d.x, k * d.y, d.z > 0. ? cz : -cz};
         liquid = !liquid;
      } else
         d.z = -d.z;
   }
   return Photon::kLost;
}

std::shared_ptr<const S1LightMap> S1LightMap::build(const Geometry &g, int nr, int nz, int photons)
{
   auto m = std::make_shared<S1LightMap>();
   m->m_geom = g;
   m->m_nr = nr;
   m->m_nz = nz;
   m->m_top.resize(static_cast<std::size_t>(nr) * nz);
   m->m_bottom.resize(m->m_top.size());
   // one random stream per node: the map does not depend on the number of threads
   const unsigned threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
   detail::parallelChunks(
       static_cast<std::size_t>(nr) * nz, threads,
       [&](std::size_t b, std::size_t e) {
          for (std::size_t node = b; node < e; ++node) {
             const int i = static_cast<int>(node) / nz, j = static_cast<int>(node) % nz;
             // nodes: r_i = R i / (nr - 1) (the wall node just inside), z_j from the cathode to the surface
             const double r = std::min(g.radius * i / (nr - 1), g.radius * (1. - 1e-6));
             const double z = g.zCathode + (g.zSurface - g.zCathode) * j / (nz - 1) - (j == nz - 1 ? 1e-6 : 0.);
             MapRng rng{0x5DEECE66DULL + 1000003ULL * static_cast<std::uint64_t>(i * nz + j)};
             int top = 0, bottom = 0;
             for (int k = 0; k < photons; ++k) {
                const Photon ph = trace(r, z, g, rng);
                top += ph == Photon::kTop;
                bottom += ph == Photon::kBottom;
             }
             m->m_top[static_cast<std::size_t>(i) * nz + j] = static_cast<double>(top) / photons;
             m->m_bottom[static_cast<std::size_t>(i) * nz + j] = static_cast<double>(bottom) / photons;
          }
       },
       1);
   return m;
}

double S1LightMap::interpolate(const std::vector<double> &v, double r, double z) const
{
   const double u = std::clamp(r / m_geom.radius, 0., 1.) * (m_nr - 1);
   const double w = std::clamp((z - m_geom.zCathode) / (m_geom.zSurface - m_geom.zCathode), 0., 1.) * (m_nz - 1);
   const int i = std::min(static_cast<int>(u), m_nr - 2), j = std::min(static_cast<int>(w), m_nz - 2);
   const double fu = u - i, fw = w - j;
   const auto at = [&](int a, int b) { return v[static_cast<std::size_t>(a) * m_nz + b]; };
   return (1 - fu) * ((1 - fw) * at(i, j) + fw * at(i, j + 1)) + fu * ((1 - fw) * at(i + 1, j) + fw * at(i + 1, j + 1));
}

std::shared_ptr<const S1LightMap> s1LightMap(const DetectorConfig &det, const LXeOptics &optics)
{
   S1LightMap::Geometry g;
   g.radius = optics.tpcRadius();
   g.zCathode = -optics.driftLength();
   g.zSurface = optics.liquidSurface();
   g.zTop = optics.top().z;
   g.zBottom = optics.bottom().z;
   g.n = det.get("lxe_refractive_index");
   g.ptfe = det.get("ptfe_reflectivity");
   g.rayleigh = det.get("rayleigh_scattering_length", "mm");
   g.mesh = det.get("electrode_transparency");
   g.absorption = det.has("lxe_absorption_length") ? det.get("lxe_absorption_length", "mm") : 0.;
   const double aPmt = kPi * optics.top().cathodeRadius * optics.top().cathodeRadius, aDisc = kPi * g.radius * g.radius;
   g.coverTop = std::min(1., static_cast<double>(optics.nTop()) * aPmt / aDisc);
   g.coverBottom = std::min(1., static_cast<double>(optics.nBottom()) * aPmt / aDisc);
   std::ostringstream key;
   key.precision(17);
   key << g.radius << ' ' << g.zCathode << ' ' << g.zSurface << ' ' << g.zTop << ' ' << g.zBottom << ' ' << g.n << ' '
       << g.ptfe << ' ' << g.rayleigh << ' ' << g.mesh << ' ' << g.coverTop << ' ' << g.coverBottom << ' '
       << g.absorption;
   std::lock_guard<std::mutex> lock(mapCacheMutex());
   auto &slot = mapCache()[key.str()];
   if (!slot)
      slot = S1LightMap::build(g, S1LightMap::kNr, S1LightMap::kNz, S1LightMap::kPhotons);
   return slot;
}

double LXeOptics::fresnelTransmission(double n1, double n2, double cosI)
{
   cosI = std::clamp(cosI, 0., 1.);
   const double sinI = std::sqrt(1. - cosI * cosI);
   const double sinT = n1 / n2 * sinI;
   if (sinT >= 1.)
      return 0.; // total internal reflection
   const double cosT = std::sqrt(1. - sinT * sinT);
   const double rs = (n1 * cosI - n2 * cosT) / (n1 * cosI + n2 * cosT);
   const double rp = (n1 * cosT - n2 * cosI) / (n1 * cosT + n2 * cosI);
   return 1. - 0.5 * (rs * rs + rp * rp);
}

double LXeOptics::discSolidAngle(double a, double d, double cosT)
{
   if (cosT <= 0.)
      return 0.;
   return 2. * kPi * (1. - 1. / std::sqrt(1. + a * a * cosT / (d * d)));
}

LXeOptics::LXeOptics(const DetectorConfig &det)
{
   m_radius = det.get("tpc_radius", "mm");
   m_driftLength = det.get("drift_length", "mm");
   m_zSurface = det.get("liquid_level_above_gate", "mm");
   m_zS2 = m_zSurface + 0.5 * det.get("gas_gap", "mm");
   m_n = det.get("lxe_refractive_index");
   m_ptfe = det.get("ptfe_reflectivity");
   m_rayleigh = det.get("rayleigh_scattering_length", "mm");
   m_absorption = det.has("lxe_absorption_length") ? det.get("lxe_absorption_length", "mm") : 0.;

   const std::string layout = det.getString("pmt_layout");
   const double cathode = 0.5 * det.get("pmt_photocathode_diameter", "mm");
   const auto nTopCfg = static_cast<std::size_t>(det.getInt("n_pmt_top"));
   const auto nBotCfg = static_cast<std::size_t>(det.getInt("n_pmt_bottom"));
   if (layout == "hex") {
      const double pitch = det.get("pmt_pitch", "mm");
      m_top = hexPmtArray(nTopCfg, pitch);
      m_bottom = hexPmtArray(nBotCfg, pitch);
   } else if (layout.rfind("file:", 0) == 0) {
      const std::string table = (std::filesystem::path(det.directory()) / layout.substr(5)).string();
      std::tie(m_top, m_bottom) = readPmtTable(table);
      if (m_top.size() != nTopCfg || m_bottom.size() != nBotCfg)
         throw ConfigError(det.file() + ": pmt_layout table '" + table + "' has " + std::to_string(m_top.size()) +
                           " top and " + std::to_string(m_bottom.size()) + " bottom PMTs; n_pmt_top = " +
                           std::to_string(nTopCfg) + " and n_pmt_bottom = " + std::to_string(nBotCfg) + " expected");
   } else
      throw ConfigError(det.file() + ": pmt_layout '" + layout +
                        "' is not supported; expected 'hex' or 'file:<table relative to the detector file>'");
   for (const PmtArray *arr : {&m_top, &m_bottom})
      for (std::size_t i = 0; i < arr->size(); ++i)
         if (std::hypot(arr->x[i], arr->y[i]) > det.get("tpc_radius", "mm"))
            throw ConfigError(
                det.file() + ": PMT " + std::to_string(i) + " of the " + (arr == &m_top ? "top" : "bottom") +
                " array lies at r = " + std::to_string(std::hypot(arr->x[i], arr->y[i])) + " mm, outside tpc_radius");
   m_top.z = m_zSurface + det.get("top_array_distance", "mm");
   m_bottom.z = -m_driftLength - det.get("bottom_array_distance", "mm");
   m_top.cathodeRadius = m_bottom.cathodeRadius = cathode;
   if (m_top.z <= m_zS2)
      throw ConfigError(det.file() + ": top_array_distance must exceed half the gas gap (top PMTs above the S2 light)");

   // Integrating-sphere efficiencies of the diffuse pool.
   const double aPmt = kPi * cathode * cathode;
   const double aTot = 2. * kPi * m_radius * m_radius + 2. * kPi * m_radius * m_driftLength;
   const double nTopD = static_cast<double>(nTop()), nBotD = static_cast<double>(nBottom());
   const double c = (nTopD + nBotD) * aPmt / aTot;
   m_epsDiffuseS2 = c / (c + (1. - m_ptfe) * (1. - c));
   m_weightS2 = 1. / (nTopD + nBotD);

   // Calibrate the S2 top/bottom split on the fiducial area: mean top fraction = target.
   const double target = det.get("s2_area_fraction_top");
   const double rFid = det.get("fiducial_radius", "mm");
   std::vector<std::pair<double, double>> tb; // (top, bottom) unscaled per grid point
   std::vector<double> buf(nPmt());
   const int ng = 25;
   for (int i = 0; i < ng; ++i)
      for (int j = 0; j < ng; ++j) {
         const double x = -rFid + (2. * rFid) * (i + 0.5) / ng, y = -rFid + (2. * rFid) * (j + 0.5) / ng;
         if (x * x + y * y > rFid * rFid)
            continue;
         s2CollectionUnscaled(x, y, buf.data());
         const double t = std::accumulate(buf.begin(), buf.begin() + static_cast<long>(nTop()), 0.);
         const double b = std::accumulate(buf.begin() + static_cast<long>(nTop()), buf.end(), 0.);
         tb.emplace_back(t, b);
      }
   auto meanTop = [&](double k) {
      double s = 0.;
      for (const auto &p : tb)
         s += k * p.first / (k * p.first + p.second);
      return s / static_cast<double>(tb.size());
   };
   double lo = 1e-4, hi = 1e4;
   if (meanTop(lo) > target || meanTop(hi) < target)
      throw ConfigError(det.file() + ": s2_area_fraction_top = " + std::to_string(target) +
                        " cannot be reached by the light-collection model");
   for (int it = 0; it < 100; ++it) {
      const double mid = std::sqrt(lo * hi);
      (meanTop(mid) < target ? lo : hi) = mid;
   }
   m_s2TopScale = std::sqrt(lo * hi);

   m_s1Map = s1LightMap(det, *this);
   if (det.has("s1_light_yield_map"))
      loadS1LightYieldMap(det, (std::filesystem::path(det.directory()) / det.getString("s1_light_yield_map")).string());
}

void LXeOptics::loadS1LightYieldMap(const DetectorConfig &det, const std::string &path)
{
   const CsvTable t = readCsv(path, "S1 light-yield map");
   const long ir = t.column({"r_cm"}), iz = t.column({"z_cm"}), iv = t.column({"relative_ly"});
   if (ir < 0 || iz < 0 || iv < 0)
      throw ConfigError(det.file() + ": s1_light_yield_map '" + path + "': header '" + t.header +
                        "': expected columns r_cm, z_cm, relative_ly");
   std::vector<double> rs, zs;
   for (std::size_t k = 0; k < t.rows.size(); ++k) {
      rs.push_back(t.number(k, ir) * 10.);
      zs.push_back(t.number(k, iz) * 10.);
   }
   auto unique = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
      return v;
   };
   m_lyR = unique(rs);
   m_lyZ = unique(zs);
   const std::size_t nr = m_lyR.size(), nz = m_lyZ.size();
   if (nr < 2 || nz < 2 || t.rows.size() != nr * nz)
      throw ConfigError(path + ": " + std::to_string(t.rows.size()) + " rows on " + std::to_string(nr) + " radii x " +
                        std::to_string(nz) + " depths; expected one row per (r, z) node of a full grid, >= 2 x 2");
   std::vector<double> ly(nr * nz, std::numeric_limits<double>::quiet_NaN());
   for (std::size_t k = 0; k < t.rows.size(); ++k) {
      const double v = t.number(k, iv);
      if (!(v > 0.))
         throw ConfigError(path + ":" + std::to_string(t.lines[k]) + ": relative_ly " + std::to_string(v) +
                           "; expected a value > 0");
      const auto a = static_cast<std::size_t>(std::lower_bound(m_lyR.begin(), m_lyR.end(), rs[k]) - m_lyR.begin());
      const auto b = static_cast<std::size_t>(std::lower_bound(m_lyZ.begin(), m_lyZ.end(), zs[k]) - m_lyZ.begin());
      ly[a * nz + b] = v;
   }
   // model LCE at each node: the mean over 6 azimuths (the per-PMT direct terms vary with azimuth)
   std::vector<double> model(nr * nz), buf(nPmt());
   double wLy = 0., wModel = 0., wSum = 0.;
   for (std::size_t a = 0; a < nr; ++a)
      for (std::size_t b = 0; b < nz; ++b) {
         if (std::isnan(ly[a * nz + b]))
            throw ConfigError(path + ": duplicate (r, z) nodes; expected one row per node of a full grid");
         double m = 0.;
         for (int q = 0; q < 6; ++q) {
            const double phi = kPi * q / 3.;
            m += s1Collection(m_lyR[a] * std::cos(phi), m_lyR[a] * std::sin(phi), m_lyZ[b], buf.data()) / 6.;
         }
         model[a * nz + b] = m;
         const double w = std::max(m_lyR[a], 1e-9);
         wLy += w * ly[a * nz + b];
         wModel += w * m;
         wSum += w;
      }
   std::vector<double> corr(nr * nz);
   for (std::size_t k = 0; k < corr.size(); ++k)
      corr[k] = (ly[k] / wLy) / (model[k] / wModel);
   m_lyCorr = std::move(corr); // s1Collection applies it from here on
}

double LXeOptics::s1LightYieldCorrection(double r, double z) const
{
   if (m_lyCorr.empty())
      return 1.;
   const std::size_t nz = m_lyZ.size();
   // bilinear inside the grid, the edge value outside (clamped)
   auto locate = [](const std::vector<double> &v, double x, std::size_t &i, double &f) {
      x = std::clamp(x, v.front(), v.back());
      i = std::min(static_cast<std::size_t>(std::upper_bound(v.begin(), v.end(), x) - v.begin()), v.size() - 1) - 1;
      f = (x - v[i]) / (v[i + 1] - v[i]);
   };
   std::size_t i = 0, j = 0;
   double fr = 0., fz = 0.;
   locate(m_lyR, r, i, fr);
   locate(m_lyZ, z, j, fz);
   const auto at = [&](std::size_t a, std::size_t b) { return m_lyCorr[a * nz + b]; };
   return (1 - fr) * ((1 - fz) * at(i, j) + fz * at(i, j + 1)) + fr * ((1 - fz) * at(i + 1, j) + fz * at(i + 1, j + 1));
}

double LXeOptics::s1Collection(double x, double y, double z, double *out) const
{
   const double a = m_top.cathodeRadius;
   const double invL = (m_rayleigh > 0. ? 1. / m_rayleigh : 0.) + (m_absorption > 0. ? 1. / m_absorption : 0.);
   double direct = 0.;
   const std::size_t nt = nTop();
   // top array: through the liquid surface
   const double hTop = m_top.z - z, hLiq = std::max(m_zSurface - z, 0.);
   for (std::size_t i = 0; i < nt; ++i) {
      const double dx = m_top.x[i] - x, dy = m_top.y[i] - y;
      const double d = std::sqrt(dx * dx + dy * dy + hTop * hTop);
      const double cosT = hTop / d;
      const double v = discSolidAngle(a, d, cosT) / kFourPi * fresnelTransmission(m_n, 1., cosT) *
                       std::exp(-d * (hLiq / hTop) * invL);
      out[i] = v;
      direct += v;
   }
   // bottom array: direct, and specularly reflected at the liquid surface (image point)
   const double hBot = z - m_bottom.z, hImg = 2. * m_zSurface - z - m_bottom.z;
   for (std::size_t i = 0; i < nBottom(); ++i) {
      const double dx = m_bottom.x[i] - x, dy = m_bottom.y[i] - y, r2 = dx * dx + dy * dy;
      double v = 0.;
      if (hBot > 0.) {
         const double d = std::sqrt(r2 + hBot * hBot);
         v += discSolidAngle(a, d, hBot / d) / kFourPi * std::exp(-d * invL);
      }
      const double dI = std::sqrt(r2 + hImg * hImg), cosI = hImg / dI;
      v += discSolidAngle(a, dI, cosI) / kFourPi * (1. - fresnelTransmission(m_n, 1., cosI)) * std::exp(-dI * invL);
      out[nt + i] = v;
      direct += v;
   }
   // Totals per array from the (r, z) map (direct + reflected light, S1LightMap); the light beyond
   // the direct per-PMT terms is shared evenly by the array's PMTs.
   double directTop = 0.;
   for (std::size_t i = 0; i < nt; ++i)
      directTop += out[i];
   const double directBottom = direct - directTop;
   const double r = std::hypot(x, y);
   const double addTop = std::max(0., m_s1Map->top(r, z) - directTop) / static_cast<double>(nt);
   const double addBottom = std::max(0., m_s1Map->bottom(r, z) - directBottom) / static_cast<double>(nBottom());
   const double corr = s1LightYieldCorrection(r, z);
   double sum = 0.;
   for (std::size_t i = 0; i < nPmt(); ++i) {
      out[i] = (out[i] + (i < nt ? addTop : addBottom)) * corr;
      sum += out[i];
   }
   return sum;
}

double LXeOptics::s1TopFraction(double x, double y, double z) const
{
   std::vector<double> p(nPmt());
   const double lce = s1Collection(x, y, z, p.data());
   return lce > 0. ? std::accumulate(p.begin(), p.begin() + static_cast<long>(nTop()), 0.) / lce : 0.;
}

double LXeOptics::s2CollectionUnscaled(double x, double y, double *out) const
{
   const double a = m_top.cathodeRadius;
   const double invL = m_rayleigh > 0. ? 1. / m_rayleigh : 0.;
   double direct = 0.;
   const std::size_t nt = nTop();
   const double hTop = m_top.z - m_zS2, hImg = m_top.z - (2. * m_zSurface - m_zS2);
   for (std::size_t i = 0; i < nt; ++i) {
      const double dx = m_top.x[i] - x, dy = m_top.y[i] - y, r2 = dx * dx + dy * dy;
      const double d = std::sqrt(r2 + hTop * hTop);
      const double dI = std::sqrt(r2 + hImg * hImg), cosI = hImg / dI;
      const double v = discSolidAngle(a, d, hTop / d) / kFourPi +
                       discSolidAngle(a, dI, cosI) / kFourPi * (1. - fresnelTransmission(1., m_n, cosI));
      out[i] = v;
      direct += v;
   }
   const double hBot = m_zS2 - m_bottom.z, liqFrac = (m_zSurface - m_bottom.z) / hBot;
   for (std::size_t i = 0; i < nBottom(); ++i) {
      const double dx = m_bottom.x[i] - x, dy = m_bottom.y[i] - y;
      const double d = std::sqrt(dx * dx + dy * dy + hBot * hBot), cosT = hBot / d;
      const double v =
          discSolidAngle(a, d, cosT) / kFourPi * fresnelTransmission(1., m_n, cosT) * std::exp(-d * liqFrac * invL);
      out[nt + i] = v;
      direct += v;
   }
   const double pool = std::max(0., 1. - direct) * m_epsDiffuseS2 * m_weightS2;
   double sum = 0.;
   for (std::size_t i = 0; i < nPmt(); ++i) {
      out[i] += pool;
      sum += out[i];
   }
   return sum;
}

double LXeOptics::s2Collection(double x, double y, double *out) const
{
   s2CollectionUnscaled(x, y, out);
   double sum = 0.;
   for (std::size_t i = 0; i < nPmt(); ++i) {
      if (i < nTop())
         out[i] *= m_s2TopScale;
      sum += out[i];
   }
   return sum;
}

std::vector<double> LXeOptics::s1Collection(double x, double y, double z) const
{
   std::vector<double> out(nPmt());
   s1Collection(x, y, z, out.data());
   return out;
}

std::vector<double> LXeOptics::s2Collection(double x, double y) const
{
   std::vector<double> out(nPmt());
   s2Collection(x, y, out.data());
   return out;
}

} // namespace tpcml
